#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <elf.h>
#include <stdlib.h>
#include <string.h>

#include "vmm/boot.h"

#define MEM	    (128u << 20)
#define KLEN	    0x3000
#define SETUP_SECTS 4 /* setup is (4 + 1) * 512 = 0xa00 bytes */

static uint8_t *mem;
static uint8_t kernel[KLEN];
static char err[256];

static uint32_t get32(const uint8_t *p)
{
	uint32_t v;
	memcpy(&v, p, 4);
	return v;
}

static void put16(uint8_t *p, uint16_t v)
{
	memcpy(p, &v, 2);
}

static void put32(uint8_t *p, uint32_t v)
{
	memcpy(p, &v, 4);
}

/* A bzImage header as a 6.1 kernel has it, with a recognisable payload. */
static void make_bzimage(void)
{
	memset(kernel, 0, sizeof(kernel));
	kernel[0x1f1] = SETUP_SECTS;
	put16(kernel + 0x1fe, 0xaa55);
	kernel[0x200] = 0xeb;
	kernel[0x201] = 0x66; /* the header ends at 0x268 */
	memcpy(kernel + 0x202, "HdrS", 4);
	put16(kernel + 0x206, 0x020f);
	put32(kernel + 0x22c, 0x7fffffff); /* initrd_addr_max */
	put16(kernel + 0x236, 0x0001);	   /* XLF_KERNEL_64 */
	put32(kernel + 0x238, 2047);	   /* cmdline_size */
	put32(kernel + 0x258, 0x1000000);  /* pref_address */
	put32(kernel + 0x260, 32u << 20);  /* init_size */
	for (size_t i = (SETUP_SECTS + 1) * 512; i < KLEN; i++)
		kernel[i] = (uint8_t)(i * 7);
}

static int setup(void **state)
{
	(void)state;
	mem = calloc(1, MEM);
	make_bzimage();
	return mem ? 0 : -1;
}

static int teardown(void **state)
{
	(void)state;
	free(mem);
	return 0;
}

static void test_probe_bzimage(void **state)
{
	(void)state;
	assert_int_equal(kernel_probe(kernel, KLEN, err, sizeof(err)), KERNEL_BZIMAGE);
	uint8_t junk[0x2000];
	for (size_t i = 0; i < sizeof(junk); i++)
		junk[i] = (uint8_t)(i * 31 + 7);
	assert_int_equal(kernel_probe(junk, sizeof(junk), err, sizeof(err)), -1);
	assert_non_null(strstr(err, "not a Linux kernel"));
	assert_int_equal(kernel_probe(kernel, 0x800, err, sizeof(err)), -1);

	put16(kernel + 0x206, 0x020b);
	assert_int_equal(kernel_probe(kernel, KLEN, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "2.11"));
	make_bzimage();
	put16(kernel + 0x236, 0);
	assert_int_equal(kernel_probe(kernel, KLEN, err, sizeof(err)), -1);
	make_bzimage();
	kernel[0x1f1] = 200; /* setup larger than the file */
	assert_int_equal(kernel_probe(kernel, KLEN, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "truncated"));
	make_bzimage();
	kernel[0x201] = 0xff; /* header would run far past its end */
	assert_int_equal(kernel_probe(kernel, KLEN, err, sizeof(err)), -1);
	make_bzimage();
}

static void test_load_bzimage(void **state)
{
	(void)state;
	uint8_t initrd[5000];
	memset(initrd, 0xab, sizeof(initrd));
	struct boot_result r;
	assert_int_equal(boot_load(mem, MEM, MEM, kernel, KLEN, initrd, sizeof(initrd),
				   "console=ttyS0 quiet", 0xe0000, &r, err, sizeof(err)),
			 0);
	size_t setup = (SETUP_SECTS + 1) * 512;
	assert_memory_equal(mem + BOOT_HIGH, kernel + setup, KLEN - setup);
	assert_int_equal(r.entry, BOOT_HIGH + 0x200);
	assert_int_equal(r.kernel_end, 0x1000000 + (32u << 20));

	const uint8_t *zp = mem + BOOT_ZERO_PAGE;
	assert_memory_equal(zp + 0x202, "HdrS", 4);
	assert_int_equal(zp[0x210], 0xff);	  /* type_of_loader */
	assert_int_equal(zp[0x211] & 0x81, 0x81); /* LOADED_HIGH, CAN_USE_HEAP */
	assert_int_equal(get32(zp + 0x228), BOOT_CMDLINE);
	assert_string_equal((char *)mem + BOOT_CMDLINE, "console=ttyS0 quiet");
	uint64_t rsdp;
	memcpy(&rsdp, zp + 0x70, 8);
	assert_int_equal(rsdp, 0xe0000);

	uint32_t addr = get32(zp + 0x218), size = get32(zp + 0x21c);
	assert_int_equal(size, sizeof(initrd));
	assert_int_equal(addr % 4096, 0);
	assert_true(addr >= r.kernel_end);
	assert_true(addr + size <= MEM);
	assert_int_equal(addr, r.initrd_addr);
	assert_memory_equal(mem + addr, initrd, sizeof(initrd));
}

static void test_load_limits(void **state)
{
	(void)state;
	struct boot_result r;
	char cmd[3000];
	memset(cmd, 'a', sizeof(cmd) - 1);
	cmd[sizeof(cmd) - 1] = '\0';
	assert_int_equal(
	    boot_load(mem, MEM, MEM, kernel, KLEN, NULL, 0, cmd, 0, &r, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "cmdline"));

	/* the initrd must fit between the kernel's end and the top */
	static uint8_t big[(MEM - 0x1000000 - (32u << 20)) + 4096];
	assert_int_equal(
	    boot_load(mem, MEM, MEM, kernel, KLEN, big, sizeof(big), "", 0, &r, err, sizeof(err)),
	    -1);
	assert_non_null(strstr(err, "initrd"));

	/* initrd_addr_max is honoured */
	put32(kernel + 0x22c, (64u << 20) - 1);
	uint8_t small[100];
	assert_int_equal(boot_load(mem, MEM, MEM, kernel, KLEN, small, sizeof(small), "", 0, &r,
				   err, sizeof(err)),
			 0);
	assert_true(r.initrd_addr + sizeof(small) <= (64u << 20));
	make_bzimage();

	/* memory smaller than the kernel's decompression needs */
	assert_int_equal(boot_load(mem, 40u << 20, 40u << 20, kernel, KLEN, NULL, 0, "", 0, &r, err,
				   sizeof(err)),
			 -1);
	assert_non_null(strstr(err, "memory_mib is too small"));
}

/* An ELF64 x86_64 executable with one PT_LOAD. */
static size_t make_elf(uint8_t *buf, uint64_t paddr, uint64_t filesz, uint64_t memsz,
		       uint64_t entry)
{
	Elf64_Ehdr eh = {0};
	memcpy(eh.e_ident, ELFMAG, SELFMAG);
	eh.e_ident[EI_CLASS] = ELFCLASS64;
	eh.e_ident[EI_DATA] = ELFDATA2LSB;
	eh.e_ident[EI_VERSION] = EV_CURRENT;
	eh.e_type = ET_EXEC;
	eh.e_machine = EM_X86_64;
	eh.e_entry = entry;
	eh.e_phoff = sizeof(eh);
	eh.e_phentsize = sizeof(Elf64_Phdr);
	eh.e_phnum = 1;
	Elf64_Phdr ph = {.p_type = PT_LOAD,
			 .p_offset = 0x200,
			 .p_paddr = paddr,
			 .p_filesz = filesz,
			 .p_memsz = memsz};
	memcpy(buf, &eh, sizeof(eh));
	memcpy(buf + sizeof(eh), &ph, sizeof(ph));
	for (uint64_t i = 0; i < filesz; i++)
		buf[0x200 + i] = (uint8_t)(i + 1);
	return 0x200 + filesz;
}

static void test_elf(void **state)
{
	(void)state;
	static uint8_t elf[0x1000];
	size_t len = make_elf(elf, 0x1000000, 0x100, 0x300, 0x1000010);
	assert_int_equal(kernel_probe(elf, len, err, sizeof(err)), KERNEL_ELF);
	memset(mem + 0x1000000, 0xee, 0x400);
	struct boot_result r;
	assert_int_equal(boot_load(mem, MEM, MEM, elf, len, NULL, 0, "x", 0, &r, err, sizeof(err)),
			 0);
	assert_int_equal(r.entry, 0x1000010);
	assert_memory_equal(mem + 0x1000000, elf + 0x200, 0x100);
	for (int i = 0x100; i < 0x300; i++)
		assert_int_equal(mem[0x1000000 + i], 0); /* bss zeroed */
	assert_int_equal(mem[0x1000300], 0xee);		 /* and no further */
	assert_memory_equal(mem + BOOT_ZERO_PAGE + 0x202, "HdrS", 4);

	len = make_elf(elf, 0x1000000, 0x100, 0x100, 0x5000000); /* entry outside */
	assert_int_equal(boot_load(mem, MEM, MEM, elf, len, NULL, 0, "", 0, &r, err, sizeof(err)),
			 -1);
	len = make_elf(elf, MEM - 0x80, 0x100, 0x100, MEM - 0x80); /* past memory */
	assert_int_equal(boot_load(mem, MEM, MEM, elf, len, NULL, 0, "", 0, &r, err, sizeof(err)),
			 -1);
	len = make_elf(elf, 0x1000000, 0x100, 0x100, 0x1000000);
	assert_int_equal(
	    boot_load(mem, MEM, MEM, elf, len - 1, NULL, 0, "", 0, &r, err, sizeof(err)),
	    -1); /* segment past the end of the file */
	elf[EI_CLASS] = ELFCLASS32;
	assert_int_equal(kernel_probe(elf, len, err, sizeof(err)), -1);
	make_elf(elf, 0x1000000, 0x100, 0x100, 0x1000000);
	((Elf64_Ehdr *)(void *)elf)->e_machine = EM_AARCH64;
	assert_int_equal(kernel_probe(elf, len, err, sizeof(err)), -1);
	make_elf(elf, 0x1000000, 0x100, 0x100, 0x1000000);
	((Elf64_Ehdr *)(void *)elf)->e_phnum = 1000; /* headers past the file */
	assert_int_equal(kernel_probe(elf, len, err, sizeof(err)), -1);
}

static void check_sorted(const struct e820_entry *e, size_t n)
{
	for (size_t i = 1; i < n; i++)
		assert_true(e[i - 1].addr + e[i - 1].size <= e[i].addr);
}

static void test_e820(void **state)
{
	(void)state;
	struct e820_entry e[8];
	size_t n = e820_build(e, 8, 256u << 20);
	assert_int_equal(n, 4);
	check_sorted(e, n);
	assert_int_equal(e[0].addr, 0);
	assert_int_equal(e[0].size, BOOT_EBDA);
	assert_int_equal(e[0].type, E820_RAM);
	assert_int_equal(e[2].addr, BOOT_ACPI);
	assert_int_equal(e[2].type, E820_RESERVED);
	assert_int_equal(e[3].addr, BOOT_HIGH);
	assert_int_equal(e[3].addr + e[3].size, 256u << 20);
	assert_int_equal(e[3].type, E820_RAM);

	n = e820_build(e, 8, 4ull << 30);
	assert_int_equal(n, 5);
	check_sorted(e, n);
	assert_int_equal(e[3].addr + e[3].size, BOOT_MMIO_HOLE);
	assert_int_equal(e[4].addr, BOOT_4G);
	assert_int_equal(e[4].size, (4ull << 30) - BOOT_MMIO_HOLE);
	assert_int_equal(boot_low_size(4ull << 30), BOOT_MMIO_HOLE);

	assert_int_equal(e820_build(e, 2, 256u << 20), 2); /* never past max */

	/* the zero page carries the same map */
	struct boot_result r;
	assert_int_equal(
	    boot_load(mem, MEM, MEM, kernel, KLEN, NULL, 0, "", 0, &r, err, sizeof(err)), 0);
	n = e820_build(e, 8, MEM);
	assert_int_equal(mem[BOOT_ZERO_PAGE + 0x1e8], n);
	assert_memory_equal(mem + BOOT_ZERO_PAGE + 0x2d0, e, n * sizeof(e[0]));
	assert_int_equal(sizeof(e[0]), 20);
}

static void test_tables(void **state)
{
	(void)state;
	boot_write_tables(mem);
	uint64_t v;
	memcpy(&v, mem + BOOT_PML4, 8);
	assert_int_equal(v, BOOT_PDPT | 3);
	for (int g = 0; g < 4; g++) {
		memcpy(&v, mem + BOOT_PDPT + 8 * g, 8);
		assert_int_equal(v, (BOOT_PD + 4096u * g) | 3);
	}
	/* 3 GiB + 2 MiB: PD page 3, entry 1 */
	memcpy(&v, mem + BOOT_PD + 3 * 4096 + 8, 8);
	assert_int_equal(v, (3ull << 30) + (2u << 20) + 0x83);
	memcpy(&v, mem + BOOT_GDT + 0x10, 8);
	assert_int_equal(v, 0x00af9b000000ffffull);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_probe_bzimage), cmocka_unit_test(test_load_bzimage),
	    cmocka_unit_test(test_load_limits),	  cmocka_unit_test(test_elf),
	    cmocka_unit_test(test_e820),	  cmocka_unit_test(test_tables),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
