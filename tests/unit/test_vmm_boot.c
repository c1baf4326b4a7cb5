#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <elf.h>
#include <stdlib.h>
#include <string.h>

#include "vmm/bytes.h"
#include "vmm/boot.h"

#define MIB	    (1u << 20)
#define MEM	    (64u * MIB)
#define KLEN	    0x3000
#define SETUP_SECTS 4 /* setup is (4 + 1) * 512 = 0xa00 bytes */
#define SETUP_LEN   ((SETUP_SECTS + 1) * 512)
#define PREF	    0x1000000u /* pref_address: 16 MiB */
#define INIT_SIZE   (32u * MIB)
#define CMDLINE_MAX 2047 /* the header's cmdline_size */

/* zero page offsets */
#define ZP_RSDP		  0x070
#define ZP_EXT_RAMDISK	  0x0c0
#define ZP_EXT_RAMDISK_SZ 0x0c4
#define ZP_EXT_CMDLINE	  0x0c8
#define ZP_E820_ENTRIES	  0x1e8
#define ZP_E820_TABLE	  0x2d0

static uint8_t *mem;
static _Alignas(8) uint8_t kernel[KLEN];
static char err[256];

/* A bzImage header as a 6.1 kernel has it, with a recognisable payload. */
static void make_bzimage(void)
{
	memset(kernel, 0, sizeof(kernel));
	kernel[0x1f1] = SETUP_SECTS;
	put16(kernel + 0x1fe, 0xaa55);
	kernel[0x200] = 0xeb;
	kernel[0x201] = 0x66; /* the header ends at 0x202 + 0x66 = 0x268 */
	memcpy(kernel + 0x202, "HdrS", 4);
	put16(kernel + 0x206, 0x020f);
	put32(kernel + 0x22c, 0x7fffffff); /* initrd_addr_max */
	put16(kernel + 0x236, 0x0001);	   /* xloadflags: XLF_KERNEL_64 */
	put32(kernel + 0x238, CMDLINE_MAX);
	put64(kernel + 0x258, PREF);
	put32(kernel + 0x260, INIT_SIZE);
	for (size_t i = SETUP_LEN; i < KLEN; i++)
		kernel[i] = (uint8_t)(i * 7 + 3);
}

static int setup(void **state)
{
	(void)state;
	mem = calloc(1, MEM);
	return mem ? 0 : -1;
}

static int teardown(void **state)
{
	(void)state;
	free(mem);
	return 0;
}

static int each(void **state)
{
	(void)state;
	memset(mem, 0, MEM);
	make_bzimage();
	return 0;
}

static int probe(const uint8_t *k, size_t len)
{
	memset(err, 0, sizeof(err));
	return kernel_probe(k, len, err, sizeof(err));
}

static int load(uint64_t low, const uint8_t *initrd, size_t ilen, const char *cmdline,
		struct boot_result *r)
{
	memset(err, 0, sizeof(err));
	return boot_load(mem, low, low, kernel, KLEN, initrd, ilen, cmdline, 0xe0000, r, err,
			 sizeof(err));
}

/* --- kernel_probe: bzImage */

static void test_probe_bzimage(void **state)
{
	(void)state;
	assert_int_equal(probe(kernel, KLEN), KERNEL_BZIMAGE);
	assert_int_equal(probe(kernel, 0x1000), KERNEL_BZIMAGE); /* the smallest accepted */
	kernel[0x1f1] = 0;					 /* 0 means 4 */
	assert_int_equal(probe(kernel, KLEN), KERNEL_BZIMAGE);
	make_bzimage();
	put16(kernel + 0x206, 0x020c); /* 2.12: the first with a 64-bit entry */
	assert_int_equal(probe(kernel, KLEN), KERNEL_BZIMAGE);
	make_bzimage();
	kernel[0x201] = 0x8e; /* header ends exactly at 0x290 */
	assert_int_equal(probe(kernel, KLEN), KERNEL_BZIMAGE);
}

static void test_probe_not_a_kernel(void **state)
{
	(void)state;
	static uint8_t junk[0x2000];
	for (size_t i = 0; i < sizeof(junk); i++)
		junk[i] = (uint8_t)(i * 31 + 7);
	assert_int_equal(probe(junk, sizeof(junk)), -1);
	assert_non_null(strstr(err, "not a Linux kernel"));
	memset(junk, 0, sizeof(junk));
	assert_int_equal(probe(junk, sizeof(junk)), -1);
	assert_non_null(strstr(err, "not a Linux kernel"));
	assert_int_equal(probe(junk, 0), -1);

	assert_int_equal(probe(kernel, 0xfff), -1); /* truncated */
	assert_non_null(strstr(err, "not a Linux kernel"));
	assert_int_equal(probe(kernel, 0x800), -1);

	put16(kernel + 0x1fe, 0x55aa);
	assert_int_equal(probe(kernel, KLEN), -1);
	make_bzimage();
	memcpy(kernel + 0x202, "HdrT", 4);
	assert_int_equal(probe(kernel, KLEN), -1);
}

static void test_probe_old_or_32bit(void **state)
{
	(void)state;
	put16(kernel + 0x206, 0x020b);
	assert_int_equal(probe(kernel, KLEN), -1);
	assert_non_null(strstr(err, "2.11"));
	assert_non_null(strstr(err, "2.12"));
	make_bzimage();
	put16(kernel + 0x236, 0x0002); /* XLF_CAN_BE_LOADED_ABOVE_4G only */
	assert_int_equal(probe(kernel, KLEN), -1);
	assert_non_null(strstr(err, "64-bit"));
}

static void test_probe_damaged(void **state)
{
	(void)state;
	kernel[0x1f1] = 200; /* setup larger than the file */
	assert_int_equal(probe(kernel, KLEN), -1);
	assert_non_null(strstr(err, "truncated"));
	make_bzimage();
	kernel[0x1f1] = (KLEN / 512) - 1; /* setup exactly the whole file: no payload */
	assert_int_equal(probe(kernel, KLEN), -1);
	assert_non_null(strstr(err, "truncated"));
	make_bzimage();
	kernel[0x201] = 0x8f; /* header would end at 0x291 */
	assert_int_equal(probe(kernel, KLEN), -1);
	assert_non_null(strstr(err, "damaged"));
	kernel[0x201] = 0xff;
	assert_int_equal(probe(kernel, KLEN), -1);
}

/* --- kernel_probe: ELF */

struct seg {
	uint32_t type;
	uint64_t offset, paddr, filesz, memsz;
};

/* An ELF64 x86_64 executable: program headers right after the ELF header,
 * segment data where the segments say (byte b of segment i is b + 1 + 16 i).
 * Returns the file's length. */
static _Alignas(8) uint8_t elf[0x2000];

static size_t make_elf(const struct seg *s, unsigned n, uint64_t entry)
{
	memset(elf, 0, sizeof(elf));
	Elf64_Ehdr eh = {0};
	memcpy(eh.e_ident, ELFMAG, SELFMAG);
	eh.e_ident[EI_CLASS] = ELFCLASS64;
	eh.e_ident[EI_DATA] = ELFDATA2LSB;
	eh.e_ident[EI_VERSION] = EV_CURRENT;
	eh.e_type = ET_EXEC;
	eh.e_machine = EM_X86_64;
	eh.e_version = EV_CURRENT;
	eh.e_entry = entry;
	eh.e_phoff = sizeof(eh);
	eh.e_ehsize = sizeof(eh);
	eh.e_phentsize = sizeof(Elf64_Phdr);
	eh.e_phnum = (Elf64_Half)n;
	memcpy(elf, &eh, sizeof(eh));
	size_t len = sizeof(eh) + n * sizeof(Elf64_Phdr);
	for (unsigned i = 0; i < n; i++) {
		Elf64_Phdr ph = {.p_type = s[i].type,
				 .p_offset = s[i].offset,
				 .p_vaddr = 0xffffffff80000000ull + s[i].paddr,
				 .p_paddr = s[i].paddr,
				 .p_filesz = s[i].filesz,
				 .p_memsz = s[i].memsz};
		memcpy(elf + sizeof(eh) + i * sizeof(ph), &ph, sizeof(ph));
		for (uint64_t b = 0; b < s[i].filesz && s[i].offset + b < sizeof(elf); b++)
			elf[s[i].offset + b] = (uint8_t)(b + 1 + 16 * i);
		if (s[i].offset + s[i].filesz > len && s[i].offset + s[i].filesz <= sizeof(elf))
			len = s[i].offset + s[i].filesz;
	}
	return len;
}

static size_t simple_elf(uint64_t paddr, uint64_t filesz, uint64_t memsz, uint64_t entry)
{
	const struct seg s = {PT_LOAD, 0x200, paddr, filesz, memsz};
	return make_elf(&s, 1, entry);
}

static Elf64_Ehdr *ehdr(void)
{
	return (Elf64_Ehdr *)(void *)elf;
}

static void test_probe_elf(void **state)
{
	(void)state;
	size_t len = simple_elf(0x1000000, 0x100, 0x300, 0x1000010);
	assert_int_equal(probe(elf, len), KERNEL_ELF);

	elf[EI_CLASS] = ELFCLASS32;
	assert_int_equal(probe(elf, len), -1);
	assert_non_null(strstr(err, "not an x86_64 executable"));
	simple_elf(0x1000000, 0x100, 0x300, 0x1000010);
	elf[EI_DATA] = ELFDATA2MSB;
	assert_int_equal(probe(elf, len), -1);
	simple_elf(0x1000000, 0x100, 0x300, 0x1000010);
	ehdr()->e_machine = EM_AARCH64;
	assert_int_equal(probe(elf, len), -1);
	assert_non_null(strstr(err, "not an x86_64 executable"));
	simple_elf(0x1000000, 0x100, 0x300, 0x1000010);
	ehdr()->e_type = ET_DYN;
	assert_int_equal(probe(elf, len), -1);
	/* too short for an ELF header: then it is not a bzImage either */
	simple_elf(0x1000000, 0x100, 0x300, 0x1000010);
	assert_int_equal(probe(elf, sizeof(Elf64_Ehdr) - 1), -1);
}

static void test_probe_elf_phdrs(void **state)
{
	(void)state;
	size_t len = simple_elf(0x1000000, 0x100, 0x100, 0x1000000);
	ehdr()->e_phnum = 1000; /* headers past the file */
	assert_int_equal(probe(elf, len), -1);
	assert_non_null(strstr(err, "program headers"));
	simple_elf(0x1000000, 0x100, 0x100, 0x1000000);
	ehdr()->e_phnum = 0;
	assert_int_equal(probe(elf, len), -1);
	simple_elf(0x1000000, 0x100, 0x100, 0x1000000);
	ehdr()->e_phoff = len + 1;
	assert_int_equal(probe(elf, len), -1);
	simple_elf(0x1000000, 0x100, 0x100, 0x1000000);
	ehdr()->e_phoff = ~0ull - 8; /* must not wrap around */
	assert_int_equal(probe(elf, len), -1);
	simple_elf(0x1000000, 0x100, 0x100, 0x1000000);
	ehdr()->e_phoff = len - sizeof(Elf64_Phdr) + 1; /* the header overhangs the end */
	assert_int_equal(probe(elf, len), -1);
	simple_elf(0x1000000, 0x100, 0x100, 0x1000000);
	ehdr()->e_phentsize = sizeof(Elf64_Phdr) - 8;
	assert_int_equal(probe(elf, len), -1);
	/* exactly the headers the file has */
	simple_elf(0x1000000, 0x100, 0x100, 0x1000000);
	assert_int_equal(probe(elf, sizeof(Elf64_Ehdr) + sizeof(Elf64_Phdr)), KERNEL_ELF);
}

/* --- boot_load: bzImage */

static void test_load_bzimage(void **state)
{
	(void)state;
	static uint8_t initrd[5000];
	for (size_t i = 0; i < sizeof(initrd); i++)
		initrd[i] = (uint8_t)(i ^ 0x5a);
	memset(mem + BOOT_CMDLINE, 0xcc, 4096);
	memset(mem + BOOT_ZERO_PAGE, 0xcc, 4096); /* stale contents are cleared */
	struct boot_result r;
	assert_int_equal(load(MEM, initrd, sizeof(initrd), "console=ttyS0 quiet", &r), 0);

	/* the protected-mode part at 1 MiB, the 64-bit entry 0x200 into it */
	assert_memory_equal(mem + BOOT_HIGH, kernel + SETUP_LEN, KLEN - SETUP_LEN);
	assert_int_equal(mem[BOOT_HIGH + KLEN - SETUP_LEN], 0);
	assert_int_equal(r.entry, 0x100200);
	assert_int_equal(r.kernel_end, PREF + INIT_SIZE);

	const uint8_t *zp = mem + BOOT_ZERO_PAGE;
	/* the setup header, 0x1f1 up to its end, is copied in */
	assert_memory_equal(zp + 0x202, "HdrS", 4);
	assert_int_equal(get16(zp + 0x206), 0x020f);
	assert_int_equal(get16(zp + 0x1fe), 0xaa55);
	assert_int_equal(zp[0x1f1], SETUP_SECTS);
	assert_int_equal(get32(zp + 0x260), INIT_SIZE);
	assert_int_equal(get64(zp + 0x258), PREF);
	for (size_t i = 0; i < 0x1f1; i++) /* and nothing else before it */
		if (zp[i] != 0 && !(i >= ZP_RSDP && i < ZP_RSDP + 8) && i != ZP_E820_ENTRIES)
			fail_msg("zero page byte %#zx is %#x", i, zp[i]);
	for (size_t i = 0x268; i < ZP_E820_TABLE; i++) /* nor after it */
		assert_int_equal(zp[i], 0);

	assert_int_equal(zp[0x210], 0xff);		   /* type_of_loader */
	assert_int_equal(zp[0x211] & 0x81, 0x81);	   /* LOADED_HIGH, CAN_USE_HEAP */
	assert_int_equal(get16(zp + 0x224), 0xfe00);	   /* heap_end_ptr */
	assert_int_equal(get32(zp + 0x228), BOOT_CMDLINE); /* cmd_line_ptr */
	assert_int_equal(get32(zp + ZP_EXT_CMDLINE), 0);   /* ext_cmd_line_ptr */
	assert_memory_equal(mem + BOOT_CMDLINE, "console=ttyS0 quiet", 20); /* with its NUL */
	assert_int_equal(mem[BOOT_CMDLINE + 20], 0xcc);			    /* and no more */
	assert_int_equal(get64(zp + ZP_RSDP), 0xe0000);

	uint32_t addr = get32(zp + 0x218), size = get32(zp + 0x21c);
	assert_int_equal(size, sizeof(initrd));
	assert_int_equal(get32(zp + ZP_EXT_RAMDISK), 0);
	assert_int_equal(get32(zp + ZP_EXT_RAMDISK_SZ), 0);
	assert_int_equal(addr, r.initrd_addr);
	assert_int_equal(addr % 4096, 0);
	assert_true(addr >= r.kernel_end);
	assert_true(addr + size <= MEM);	 /* initrd_addr_max is higher than memory here */
	assert_true(MEM - (addr + size) < 4096); /* as high as it goes */
	assert_memory_equal(mem + addr, initrd, sizeof(initrd));
}

static void test_load_without_initrd(void **state)
{
	(void)state;
	struct boot_result r;
	static uint8_t one = 1;
	assert_int_equal(load(MEM, NULL, 0, "", &r), 0);
	assert_int_equal(r.initrd_addr, 0);
	assert_int_equal(get32(mem + BOOT_ZERO_PAGE + 0x218), 0);
	assert_int_equal(get32(mem + BOOT_ZERO_PAGE + 0x21c), 0);
	assert_int_equal(mem[BOOT_CMDLINE], 0);
	/* an initrd of 0 bytes is no initrd */
	assert_int_equal(load(MEM, &one, 0, "", &r), 0);
	assert_int_equal(r.initrd_addr, 0);
	/* the RSDP address is passed through as given, 0 for none */
	assert_int_equal(
	    boot_load(mem, MEM, MEM, kernel, KLEN, NULL, 0, "", 0, &r, err, sizeof(err)), 0);
	assert_int_equal(get64(mem + BOOT_ZERO_PAGE + ZP_RSDP), 0);
	assert_int_equal(boot_load(mem, MEM, MEM, kernel, KLEN, NULL, 0, "", 0x12345678abc, &r, err,
				   sizeof(err)),
			 0);
	assert_int_equal(get64(mem + BOOT_ZERO_PAGE + ZP_RSDP), 0x12345678abcull);
}

/* setup_sects 0 means 4: the payload starts at 0xa00 */
static void test_setup_sects_zero(void **state)
{
	(void)state;
	kernel[0x1f1] = 0;
	struct boot_result r;
	assert_int_equal(load(MEM, NULL, 0, "", &r), 0);
	assert_memory_equal(mem + BOOT_HIGH, kernel + 0xa00, KLEN - 0xa00);
	assert_int_equal(mem[BOOT_ZERO_PAGE + 0x1f1], 0);
	/* and 5 means 6 sectors */
	kernel[0x1f1] = 5;
	assert_int_equal(load(MEM, NULL, 0, "", &r), 0);
	assert_memory_equal(mem + BOOT_HIGH, kernel + 0xc00, KLEN - 0xc00);
}

static void test_kernel_end(void **state)
{
	(void)state;
	struct boot_result r;
	/* a kernel preferring a low address: 1 MiB + init_size counts */
	put64(kernel + 0x258, 0);
	assert_int_equal(load(MEM, NULL, 0, "", &r), 0);
	assert_int_equal(r.kernel_end, BOOT_HIGH + INIT_SIZE);
	/* a pref_address at or above 4 GiB is not where the kernel will run */
	put64(kernel + 0x258, BOOT_4G);
	assert_int_equal(load(MEM, NULL, 0, "", &r), 0);
	assert_int_equal(r.kernel_end, BOOT_HIGH + INIT_SIZE);
	/* an init_size smaller than the image: the image's end counts */
	put64(kernel + 0x258, 0);
	put32(kernel + 0x260, 0x100);
	assert_int_equal(load(MEM, NULL, 0, "", &r), 0);
	assert_int_equal(r.kernel_end, BOOT_HIGH + KLEN - SETUP_LEN);
}

static void test_cmdline_limits(void **state)
{
	(void)state;
	struct boot_result r;
	static char cmd[BOOT_CMDLINE_MAX + 2];
	memset(cmd, 'a', CMDLINE_MAX);
	cmd[CMDLINE_MAX] = '\0'; /* exactly cmdline_size characters */
	assert_int_equal(load(MEM, NULL, 0, cmd, &r), 0);
	assert_int_equal(strlen((char *)mem + BOOT_CMDLINE), CMDLINE_MAX);
	cmd[CMDLINE_MAX] = 'a'; /* one more */
	cmd[CMDLINE_MAX + 1] = '\0';
	assert_int_equal(load(MEM, NULL, 0, cmd, &r), -1);
	assert_non_null(strstr(err, "cmdline"));
	assert_non_null(strstr(err, "2047"));

	/* no cmdline_size in the header: BOOT_CMDLINE_MAX applies */
	put32(kernel + 0x238, 0);
	memset(cmd, 'b', BOOT_CMDLINE_MAX);
	cmd[BOOT_CMDLINE_MAX] = '\0';
	assert_int_equal(load(MEM, NULL, 0, cmd, &r), 0);
	assert_int_equal(strlen((char *)mem + BOOT_CMDLINE), BOOT_CMDLINE_MAX);
	cmd[BOOT_CMDLINE_MAX] = 'b';
	cmd[BOOT_CMDLINE_MAX + 1] = '\0';
	assert_int_equal(load(MEM, NULL, 0, cmd, &r), -1);
	/* nor does a larger cmdline_size lift it */
	put32(kernel + 0x238, 0x100000);
	assert_int_equal(load(MEM, NULL, 0, cmd, &r), -1);
	assert_non_null(strstr(err, "cmdline"));
}

static void test_initrd_placement(void **state)
{
	(void)state;
	struct boot_result r;
	static uint8_t small[100];
	memset(small, 0x77, sizeof(small));

	/* initrd_addr_max below the top of memory is honoured */
	const uint32_t max = 56 * MIB - 1;
	put32(kernel + 0x22c, max);
	assert_int_equal(load(MEM, small, sizeof(small), "", &r), 0);
	assert_int_equal(r.initrd_addr % 4096, 0);
	assert_true(r.initrd_addr >= r.kernel_end);
	assert_true(r.initrd_addr + sizeof(small) <= (uint64_t)max + 1);
	assert_true((uint64_t)max + 1 - (r.initrd_addr + sizeof(small)) < 4096);
	assert_memory_equal(mem + r.initrd_addr, small, sizeof(small));
	assert_int_equal(get32(mem + BOOT_ZERO_PAGE + 0x218), r.initrd_addr);

	/* an initrd that fills the space between the kernel and the top exactly */
	make_bzimage();
	size_t fit = MEM - (PREF + INIT_SIZE);
	uint8_t *big = malloc(fit + 4096);
	assert_non_null(big);
	memset(big, 0x42, fit + 4096);
	assert_int_equal(load(MEM, big, fit, "", &r), 0);
	assert_int_equal(r.initrd_addr, PREF + INIT_SIZE);
	assert_int_equal(mem[MEM - 1], 0x42);
	/* a byte more does not fit */
	assert_int_equal(load(MEM, big, fit + 1, "", &r), -1);
	assert_non_null(strstr(err, "initrd"));
	assert_int_equal(r.initrd_addr, 0);
	/* nor does a page more */
	assert_int_equal(load(MEM, big, fit + 4096, "", &r), -1);
	assert_non_null(strstr(err, "initrd"));
	free(big);

	/* larger than all memory: no wrap-around (and nothing is read) */
	assert_int_equal(load(MEM, small, (size_t)MEM + 1, "", &r), -1);
	assert_non_null(strstr(err, "initrd"));
	/* initrd_addr_max below the kernel's end: nowhere to go */
	put32(kernel + 0x22c, PREF + INIT_SIZE - 1);
	assert_int_equal(load(MEM, small, sizeof(small), "", &r), -1);
	assert_non_null(strstr(err, "initrd"));
}

static void test_memory_too_small(void **state)
{
	(void)state;
	struct boot_result r;
	/* the kernel needs pref + init_size = 48 MiB */
	assert_int_equal(load(48 * MIB, NULL, 0, "", &r), 0);
	assert_int_equal(load(48 * MIB - 4096, NULL, 0, "", &r), -1);
	assert_non_null(strstr(err, "memory_mib is too small"));
	assert_int_equal(r.entry, 0); /* nothing usable */
	put32(kernel + 0x260, 60u * MIB);
	assert_int_equal(load(MEM, NULL, 0, "", &r), -1);
	assert_non_null(strstr(err, "memory_mib is too small"));
	/* a probe failure comes through boot_load too */
	put16(kernel + 0x206, 0x0200);
	assert_int_equal(load(MEM, NULL, 0, "", &r), -1);
	assert_non_null(strstr(err, "2.00"));
}

/* --- boot_load: ELF */

static int load_elf(size_t len, struct boot_result *r)
{
	memset(err, 0, sizeof(err));
	return boot_load(mem, MEM, MEM, elf, len, NULL, 0, "x", 0, r, err, sizeof(err));
}

static void test_load_elf(void **state)
{
	(void)state;
	size_t len = simple_elf(0x1000000, 0x100, 0x300, 0x1000010);
	memset(mem + 0x1000000, 0xee, 0x400);
	struct boot_result r;
	assert_int_equal(load_elf(len, &r), 0);
	assert_int_equal(r.entry, 0x1000010);
	assert_int_equal(r.kernel_end, 0x1000300);
	assert_memory_equal(mem + 0x1000000, elf + 0x200, 0x100);
	for (int i = 0x100; i < 0x300; i++)
		assert_int_equal(mem[0x1000000 + i], 0); /* memsz beyond filesz zeroed */
	assert_int_equal(mem[0x1000300], 0xee);		 /* and no further */

	/* the setup header fields a vmlinux lacks are written */
	const uint8_t *zp = mem + BOOT_ZERO_PAGE;
	assert_memory_equal(zp + 0x202, "HdrS", 4);
	assert_int_equal(get16(zp + 0x1fe), 0xaa55);
	assert_true(get16(zp + 0x206) >= 0x020c);
	assert_int_equal(zp[0x210], 0xff);
	assert_int_equal(zp[0x211] & 0x81, 0x81);
	assert_int_equal(get32(zp + 0x228), BOOT_CMDLINE);
	assert_string_equal((char *)mem + BOOT_CMDLINE, "x");
	assert_int_equal(get32(zp + 0x238), BOOT_CMDLINE_MAX);
}

static void test_load_elf_segments(void **state)
{
	(void)state;
	/* two PT_LOADs and a PT_NOTE that is not loaded */
	const struct seg s[] = {
	    {PT_LOAD, 0x200, 0x1000000, 0x80, 0x100},
	    {PT_NOTE, 0x300, 0x2000000, 0x10, 0x10},
	    {PT_LOAD, 0x400, 0x1200000, 0x40, 0x40},
	};
	size_t len = make_elf(s, 3, 0x1200020);
	memset(mem + 0x2000000, 0xdd, 0x10);
	struct boot_result r;
	assert_int_equal(load_elf(len, &r), 0);
	assert_int_equal(r.entry, 0x1200020);
	assert_int_equal(r.kernel_end, 0x1200040);
	assert_memory_equal(mem + 0x1000000, elf + 0x200, 0x80);
	assert_memory_equal(mem + 0x1200000, elf + 0x400, 0x40);
	assert_int_equal(mem[0x2000000], 0xdd);

	/* the entry in the PT_NOTE, not in a loaded segment */
	len = make_elf(s, 3, 0x2000000);
	assert_int_equal(load_elf(len, &r), -1);
	assert_non_null(strstr(err, "entry point"));
}

static void test_load_elf_refused(void **state)
{
	(void)state;
	struct boot_result r;
	size_t len = simple_elf(0x1000000, 0x100, 0x100, 0x5000000); /* entry outside */
	assert_int_equal(load_elf(len, &r), -1);
	assert_non_null(strstr(err, "entry point"));
	len = simple_elf(0x1000000, 0x100, 0x100, 0x1000100); /* just past the end */
	assert_int_equal(load_elf(len, &r), -1);
	len = simple_elf(0x1000000, 0x100, 0x100, 0xffffff); /* just before */
	assert_int_equal(load_elf(len, &r), -1);
	len = simple_elf(0x1000000, 0x100, 0x100, 0x10000ff); /* the last byte: fine */
	assert_int_equal(load_elf(len, &r), 0);

	len = simple_elf(MEM - 0x80, 0x100, 0x100, MEM - 0x80); /* past memory */
	assert_int_equal(load_elf(len, &r), -1);
	assert_non_null(strstr(err, "does not fit in guest memory"));
	len = simple_elf(MEM - 0x100, 0x100, 0x100, MEM - 0x100); /* up to the last byte */
	assert_int_equal(load_elf(len, &r), 0);
	len = simple_elf(MEM - 0x100, 0x10, ~0ull - 0x10, MEM - 0x100); /* memsz wraps */
	assert_int_equal(load_elf(len, &r), -1);
	len = simple_elf(~0ull - 0x80, 0x100, 0x100, 0x1000000); /* paddr wraps */
	assert_int_equal(load_elf(len, &r), -1);
	len = simple_elf(0x80000, 0x100, 0x100, 0x80000); /* below 1 MiB */
	assert_int_equal(load_elf(len, &r), -1);
	assert_non_null(strstr(err, "does not fit in guest memory"));

	len = simple_elf(0x1000000, 0x100, 0x100, 0x1000000);
	assert_int_equal(load_elf(len - 1, &r), -1); /* segment past the end of the file */
	assert_non_null(strstr(err, "outside the file"));
	len = simple_elf(0x1000000, 0x200, 0x100, 0x1000000); /* filesz > memsz */
	assert_int_equal(load_elf(len, &r), -1);
	assert_non_null(strstr(err, "outside the file"));
	const struct seg far = {PT_LOAD, 0x100000, 0x1000000, 0x10, 0x10}; /* offset past */
	len = make_elf(&far, 1, 0x1000000);
	assert_int_equal(load_elf(len, &r), -1);
	assert_non_null(strstr(err, "outside the file"));
	const struct seg wrap = {PT_LOAD, 0x200, 0x1000000, ~0ull - 0x100, ~0ull - 0x100};
	make_elf(&wrap, 1, 0x1000000);
	assert_int_equal(load_elf(0x400, &r), -1); /* offset + filesz wraps */
	assert_non_null(strstr(err, "outside the file"));
}

/* --- e820 */

static void check_sorted(const struct e820_entry *e, size_t n)
{
	for (size_t i = 0; i < n; i++)
		assert_true(e[i].size > 0);
	for (size_t i = 1; i < n; i++)
		assert_true(e[i - 1].addr + e[i - 1].size <= e[i].addr);
}

static uint64_t ram(const struct e820_entry *e, size_t n)
{
	uint64_t total = 0;
	for (size_t i = 0; i < n; i++)
		if (e[i].type == E820_RAM)
			total += e[i].size;
	return total;
}

static void test_e820_small(void **state)
{
	(void)state;
	struct e820_entry e[8];
	size_t n = e820_build(e, 8, 256u * MIB);
	assert_int_equal(n, 4);
	check_sorted(e, n);
	assert_int_equal(e[0].addr, 0);
	assert_int_equal(e[0].size, 0x9fc00);
	assert_int_equal(e[0].type, E820_RAM);
	assert_int_equal(e[1].addr, 0x9fc00); /* EBDA */
	assert_int_equal(e[1].addr + e[1].size, 0xa0000);
	assert_int_equal(e[1].type, E820_RESERVED);
	assert_int_equal(e[2].addr, 0xe0000); /* ACPI tables and BIOS area */
	assert_int_equal(e[2].addr + e[2].size, 0x100000);
	assert_int_equal(e[2].type, E820_RESERVED);
	assert_int_equal(e[3].addr, 0x100000);
	assert_int_equal(e[3].addr + e[3].size, 256u * MIB);
	assert_int_equal(e[3].type, E820_RAM);
	assert_int_equal(boot_low_size(256u * MIB), 256u * MIB);

	assert_int_equal(e820_build(e, 2, 256u * MIB), 2); /* never past max */
	assert_int_equal(e[1].addr, 0x9fc00);
	assert_int_equal(e820_build(e, 0, 256u * MIB), 0);
}

static void test_e820_large(void **state)
{
	(void)state;
	struct e820_entry e[8];
	size_t n = e820_build(e, 8, 4ull << 30);
	assert_int_equal(n, 5);
	check_sorted(e, n);
	assert_int_equal(e[3].addr, 0x100000);
	assert_int_equal(e[3].addr + e[3].size, 0xc0000000ull);
	assert_int_equal(e[3].type, E820_RAM);
	assert_int_equal(e[4].addr, 4ull << 30);
	assert_int_equal(e[4].size, 1ull << 30);
	assert_int_equal(e[4].type, E820_RAM);
	assert_int_equal(boot_low_size(4ull << 30), 0xc0000000ull);
	/* all of memory is RAM somewhere, less the 0x9fc00..1 MiB hole */
	assert_int_equal(ram(e, n), (4ull << 30) - (0x100000 - 0x9fc00));

	/* exactly up to the hole: nothing above 4 GiB */
	n = e820_build(e, 8, 3ull << 30);
	assert_int_equal(n, 4);
	assert_int_equal(e[3].addr + e[3].size, 3ull << 30);
	n = e820_build(e, 8, (3ull << 30) + 4096);
	assert_int_equal(n, 5);
	check_sorted(e, n);
	assert_int_equal(e[4].addr, 4ull << 30);
	assert_int_equal(e[4].size, 4096);
	/* the most memory a config allows */
	n = e820_build(e, 8, 1ull << 40);
	check_sorted(e, n);
	assert_int_equal(e[4].addr + e[4].size, (1ull << 40) + (1ull << 30));
}

static void test_e820_in_zero_page(void **state)
{
	(void)state;
	assert_int_equal(sizeof(struct e820_entry), 20);
	struct boot_result r;
	struct e820_entry e[8];
	const uint64_t totals[] = {MEM, 6ull << 30};
	for (size_t t = 0; t < 2; t++) {
		/* guest memory below the hole is what the buffer holds; the
		 * map describes all of it */
		assert_int_equal(boot_load(mem, MEM, totals[t], kernel, KLEN, NULL, 0, "", 0, &r,
					   err, sizeof(err)),
				 0);
		size_t n = e820_build(e, 8, totals[t]);
		const uint8_t *zp = mem + BOOT_ZERO_PAGE;
		assert_int_equal(zp[ZP_E820_ENTRIES], n);
		for (size_t i = 0; i < n; i++) {
			const uint8_t *z = zp + ZP_E820_TABLE + 20 * i;
			assert_int_equal(get64(z), e[i].addr);
			assert_int_equal(get64(z + 8), e[i].size);
			assert_int_equal(get32(z + 16), e[i].type);
		}
		for (size_t i = ZP_E820_TABLE + 20 * n; i < 4096; i++)
			assert_int_equal(zp[i], 0);
	}
}

/* --- page tables and GDT */

static void test_tables(void **state)
{
	(void)state;
	memset(mem, 0xff, 0x10000); /* what was there is overwritten */
	boot_write_tables(mem);
	assert_int_equal(get64(mem + BOOT_PML4), BOOT_PDPT | 3);
	for (int i = 1; i < 512; i++)
		assert_int_equal(get64(mem + BOOT_PML4 + 8 * i), 0);
	for (int g = 0; g < 4; g++)
		assert_int_equal(get64(mem + BOOT_PDPT + 8 * g), (BOOT_PD + 4096u * g) | 3);
	for (int g = 4; g < 512; g++)
		assert_int_equal(get64(mem + BOOT_PDPT + 8 * g), 0);
	/* 3 GiB + 2 MiB: PD page 3, entry 1 */
	assert_int_equal(get64(mem + BOOT_PD + 3 * 4096 + 8), (3ull << 30) + (2u << 20) + 0x83);
	/* every 2 MiB page of the first 4 GiB, identity-mapped, present,
	 * writable, large */
	for (uint64_t a = 0; a < (4ull << 30); a += 2u << 20)
		assert_int_equal(get64(mem + BOOT_PD + 8 * (a >> 21)), a | 0x83);

	assert_int_equal(get64(mem + BOOT_GDT), 0);
	assert_int_equal(get64(mem + BOOT_GDT + 8), 0);
	uint64_t code = get64(mem + BOOT_GDT + 0x10);
	assert_int_equal(code, 0x00af9b000000ffffull);
	assert_true(code & (1ull << 53));      /* L: 64-bit */
	assert_false(code & (1ull << 54));     /* D clear, as L requires */
	assert_true(code & (1ull << 47));      /* present */
	assert_true(code & (1ull << 43));      /* code */
	assert_int_equal((code >> 45) & 3, 0); /* DPL 0 */
	uint64_t data = get64(mem + BOOT_GDT + 0x18);
	assert_true(data & (1ull << 47));
	assert_false(data & (1ull << 43)); /* data */
	assert_true(data & (1ull << 41));  /* writable */
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup(test_probe_bzimage, each),
	    cmocka_unit_test_setup(test_probe_not_a_kernel, each),
	    cmocka_unit_test_setup(test_probe_old_or_32bit, each),
	    cmocka_unit_test_setup(test_probe_damaged, each),
	    cmocka_unit_test_setup(test_probe_elf, each),
	    cmocka_unit_test_setup(test_probe_elf_phdrs, each),
	    cmocka_unit_test_setup(test_load_bzimage, each),
	    cmocka_unit_test_setup(test_load_without_initrd, each),
	    cmocka_unit_test_setup(test_setup_sects_zero, each),
	    cmocka_unit_test_setup(test_kernel_end, each),
	    cmocka_unit_test_setup(test_cmdline_limits, each),
	    cmocka_unit_test_setup(test_initrd_placement, each),
	    cmocka_unit_test_setup(test_memory_too_small, each),
	    cmocka_unit_test_setup(test_load_elf, each),
	    cmocka_unit_test_setup(test_load_elf_segments, each),
	    cmocka_unit_test_setup(test_load_elf_refused, each),
	    cmocka_unit_test_setup(test_e820_small, each),
	    cmocka_unit_test_setup(test_e820_large, each),
	    cmocka_unit_test_setup(test_e820_in_zero_page, each),
	    cmocka_unit_test_setup(test_tables, each),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
