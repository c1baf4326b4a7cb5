#include "vmm/boot.h"

#include <elf.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "common/util.h"
#include "vmm/bytes.h"

/* Offsets in the zero page (struct boot_params) and its setup header. */
#define BP_ACPI_RSDP	     0x070
#define BP_EXT_RAMDISK_IMAGE 0x0c0
#define BP_EXT_RAMDISK_SIZE  0x0c4
#define BP_EXT_CMD_LINE_PTR  0x0c8
#define BP_E820_ENTRIES	     0x1e8
#define BP_E820_TABLE	     0x2d0
#define BP_E820_MAX	     128
#define HDR_SETUP_SECTS	     0x1f1
#define HDR_BOOT_FLAG	     0x1fe
#define HDR_JUMP	     0x200
#define HDR_MAGIC	     0x202
#define HDR_VERSION	     0x206
#define HDR_TYPE_OF_LOADER   0x210
#define HDR_LOADFLAGS	     0x211
#define HDR_RAMDISK_IMAGE    0x218
#define HDR_RAMDISK_SIZE     0x21c
#define HDR_HEAP_END_PTR     0x224
#define HDR_CMD_LINE_PTR     0x228
#define HDR_INITRD_ADDR_MAX  0x22c
#define HDR_KERNEL_ALIGNMENT 0x230
#define HDR_XLOADFLAGS	     0x236
#define HDR_CMDLINE_SIZE     0x238
#define HDR_PREF_ADDRESS     0x258
#define HDR_INIT_SIZE	     0x260
#define HDR_END_MAX	     0x290 /* the setup header ends before this (protocol 2.15) */

#define LOADED_HIGH   0x01
#define CAN_USE_HEAP  0x80
#define XLF_KERNEL_64 0x01

uint64_t boot_low_size(uint64_t mem_size)
{
	return mem_size < BOOT_MMIO_HOLE ? mem_size : BOOT_MMIO_HOLE;
}

size_t e820_build(struct e820_entry *e, size_t max, uint64_t mem_size)
{
	const struct e820_entry all[] = {
	    {0, BOOT_EBDA, E820_RAM},
	    {BOOT_EBDA, 0xa0000 - BOOT_EBDA, E820_RESERVED},
	    {BOOT_ACPI, BOOT_HIGH - BOOT_ACPI, E820_RESERVED},
	    {BOOT_HIGH, boot_low_size(mem_size) - BOOT_HIGH, E820_RAM},
	    {BOOT_4G, mem_size - boot_low_size(mem_size), E820_RAM},
	};
	size_t n = 0;
	for (size_t i = 0; i < sizeof(all) / sizeof(all[0]) && n < max; i++)
		if (all[i].size)
			e[n++] = all[i];
	return n;
}

static bool is_elf(const uint8_t *k, size_t len)
{
	return len >= sizeof(Elf64_Ehdr) && memcmp(k, ELFMAG, SELFMAG) == 0;
}

int kernel_probe(const uint8_t *k, size_t len, char *err, size_t errlen)
{
	if (is_elf(k, len)) {
		Elf64_Ehdr h; /* copied: the image need not be aligned */
		const Elf64_Ehdr *eh = &h;
		memcpy(&h, k, sizeof(h));
		if (k[EI_CLASS] != ELFCLASS64 || k[EI_DATA] != ELFDATA2LSB ||
		    eh->e_machine != EM_X86_64 || eh->e_type != ET_EXEC)
			return errorf(err, errlen, "an ELF file, but not an x86_64 executable");
		if (eh->e_phentsize != sizeof(Elf64_Phdr) || eh->e_phnum == 0 ||
		    eh->e_phoff > len || (len - eh->e_phoff) / sizeof(Elf64_Phdr) < eh->e_phnum)
			return errorf(err, errlen, "ELF program headers are damaged");
		return KERNEL_ELF;
	}
	if (len < 0x1000 || get16(k + HDR_BOOT_FLAG) != 0xaa55 ||
	    memcmp(k + HDR_MAGIC, "HdrS", 4) != 0)
		return errorf(err, errlen, "not a Linux kernel (no bzImage header, not ELF)");
	uint16_t version = get16(k + HDR_VERSION);
	if (version < 0x020c || !(get16(k + HDR_XLOADFLAGS) & XLF_KERNEL_64))
		return errorf(err, errlen,
			      "boot protocol %u.%02u without a 64-bit entry point (need 2.12+)",
			      version >> 8, version & 0xff);
	size_t setup = ((size_t)(k[HDR_SETUP_SECTS] ? k[HDR_SETUP_SECTS] : 4) + 1) * 512;
	if (setup >= len)
		return errorf(err, errlen, "bzImage is truncated");
	if (HDR_JUMP + 2 + (size_t)k[HDR_JUMP + 1] > HDR_END_MAX)
		return errorf(err, errlen, "bzImage setup header is damaged");
	return KERNEL_BZIMAGE;
}

/* Loads a bzImage's protected-mode part at 1 MiB and copies its setup
 * header into the zero page. */
static int load_bzimage(uint8_t *mem, uint64_t low, const uint8_t *k, size_t len, uint8_t *zp,
			struct boot_result *out, char *err, size_t errlen)
{
	size_t setup = ((size_t)(k[HDR_SETUP_SECTS] ? k[HDR_SETUP_SECTS] : 4) + 1) * 512;
	size_t hdr_end = HDR_JUMP + 2 + k[HDR_JUMP + 1];
	memcpy(zp + HDR_SETUP_SECTS, k + HDR_SETUP_SECTS, hdr_end - HDR_SETUP_SECTS);
	uint64_t init_size = get32(k + HDR_INIT_SIZE);
	uint64_t pref = get64(k + HDR_PREF_ADDRESS);
	uint64_t end = BOOT_HIGH + (len - setup);
	/* the decompressor runs in place and extracts to its preferred address */
	if (BOOT_HIGH + init_size > end)
		end = BOOT_HIGH + init_size;
	if (pref < BOOT_4G && pref + init_size > end)
		end = pref + init_size;
	if (end > low)
		return errorf(
		    err, errlen,
		    "the kernel needs %llu MiB of memory to start; memory_mib is too small",
		    (unsigned long long)(end >> 20) + 1);
	memcpy(mem + BOOT_HIGH, k + setup, len - setup);
	out->entry = BOOT_HIGH + 0x200;
	out->kernel_end = end;
	return 0;
}

static int load_elf(uint8_t *mem, uint64_t low, const uint8_t *k, size_t len, uint8_t *zp,
		    struct boot_result *out, char *err, size_t errlen)
{
	Elf64_Ehdr h;
	const Elf64_Ehdr *eh = &h;
	memcpy(&h, k, sizeof(h));
	uint64_t end = 0;
	bool entry_loaded = false;
	for (unsigned i = 0; i < eh->e_phnum; i++) {
		Elf64_Phdr ph;
		memcpy(&ph, k + eh->e_phoff + i * sizeof(ph), sizeof(ph));
		if (ph.p_type != PT_LOAD)
			continue;
		if (ph.p_filesz > ph.p_memsz || ph.p_offset > len ||
		    ph.p_filesz > len - ph.p_offset)
			return errorf(err, errlen, "ELF segment %u lies outside the file", i);
		if (ph.p_paddr < BOOT_HIGH || ph.p_paddr > low || ph.p_memsz > low - ph.p_paddr)
			return errorf(
			    err, errlen,
			    "ELF segment %u (%#llx, %llu bytes) does not fit in guest memory", i,
			    (unsigned long long)ph.p_paddr, (unsigned long long)ph.p_memsz);
		memcpy(mem + ph.p_paddr, k + ph.p_offset, ph.p_filesz);
		memset(mem + ph.p_paddr + ph.p_filesz, 0, ph.p_memsz - ph.p_filesz);
		if (ph.p_paddr + ph.p_memsz > end)
			end = ph.p_paddr + ph.p_memsz;
		if (eh->e_entry >= ph.p_paddr && eh->e_entry < ph.p_paddr + ph.p_memsz)
			entry_loaded = true;
	}
	if (!entry_loaded)
		return errorf(err, errlen, "ELF entry point %#llx is not in a loaded segment",
			      (unsigned long long)eh->e_entry);
	/* a vmlinux has no setup header: write the fields the kernel reads */
	put16(zp + HDR_BOOT_FLAG, 0xaa55);
	memcpy(zp + HDR_MAGIC, "HdrS", 4);
	put16(zp + HDR_VERSION, 0x020f);
	put32(zp + HDR_INITRD_ADDR_MAX, 0x37ffffff);
	put32(zp + HDR_KERNEL_ALIGNMENT, 0x1000000);
	put32(zp + HDR_CMDLINE_SIZE, BOOT_CMDLINE_MAX);
	out->entry = eh->e_entry;
	out->kernel_end = end;
	return 0;
}

int boot_load(uint8_t *mem, uint64_t low, uint64_t total_mem, const uint8_t *kernel, size_t klen,
	      const uint8_t *initrd, size_t ilen, const char *cmdline, uint64_t rsdp,
	      struct boot_result *out, char *err, size_t errlen)
{
	memset(out, 0, sizeof(*out));
	int kind = kernel_probe(kernel, klen, err, errlen);
	if (kind < 0)
		return -1;
	uint8_t *zp = mem + BOOT_ZERO_PAGE;
	memset(zp, 0, 4096);
	int r = kind == KERNEL_ELF ? load_elf(mem, low, kernel, klen, zp, out, err, errlen)
				   : load_bzimage(mem, low, kernel, klen, zp, out, err, errlen);
	if (r < 0)
		return -1;
	zp[HDR_TYPE_OF_LOADER] = 0xff;
	zp[HDR_LOADFLAGS] |= LOADED_HIGH | CAN_USE_HEAP;
	put16(zp + HDR_HEAP_END_PTR, 0xfe00);

	size_t cmax = get32(zp + HDR_CMDLINE_SIZE);
	if (cmax == 0 || cmax > BOOT_CMDLINE_MAX)
		cmax = BOOT_CMDLINE_MAX;
	size_t clen = strlen(cmdline);
	if (clen > cmax)
		return errorf(err, errlen, "cmdline: %zu characters, the kernel takes at most %zu",
			      clen, cmax);
	memcpy(mem + BOOT_CMDLINE, cmdline, clen + 1);
	put32(zp + HDR_CMD_LINE_PTR, BOOT_CMDLINE);
	put32(zp + BP_EXT_CMD_LINE_PTR, 0);

	if (initrd && ilen) {
		uint64_t top = (uint64_t)get32(zp + HDR_INITRD_ADDR_MAX) + 1;
		if (top > low)
			top = low;
		uint64_t addr = top > ilen ? (top - ilen) & ~0xfffull : 0;
		if (addr < out->kernel_end)
			return errorf(
			    err, errlen,
			    "initrd: %zu bytes do not fit between the kernel and the top of "
			    "usable memory; raise memory_mib",
			    ilen);
		memcpy(mem + addr, initrd, ilen);
		put32(zp + HDR_RAMDISK_IMAGE, (uint32_t)addr);
		put32(zp + HDR_RAMDISK_SIZE, (uint32_t)ilen);
		put32(zp + BP_EXT_RAMDISK_IMAGE, (uint32_t)(addr >> 32));
		put32(zp + BP_EXT_RAMDISK_SIZE, (uint32_t)((uint64_t)ilen >> 32));
		out->initrd_addr = addr;
	}
	put64(zp + BP_ACPI_RSDP, rsdp);
	struct e820_entry e[BP_E820_MAX];
	size_t n = e820_build(e, BP_E820_MAX, total_mem);
	memcpy(zp + BP_E820_TABLE, e, n * sizeof(e[0]));
	zp[BP_E820_ENTRIES] = (uint8_t)n;
	return 0;
}

void boot_write_tables(uint8_t *mem)
{
	const uint64_t gdt[] = {
	    0, 0, 0x00af9b000000ffffull, /* 0x10: 64-bit code, DPL 0 */
	    0x00cf93000000ffffull,	 /* 0x18: flat data */
	};
	memcpy(mem + BOOT_GDT, gdt, sizeof(gdt));
	uint64_t pml4 = BOOT_PDPT | 3, pdpt[4];
	memcpy(mem + BOOT_PML4, &pml4, sizeof(pml4));
	memset(mem + BOOT_PML4 + 8, 0, 4096 - 8);
	memset(mem + BOOT_PDPT, 0, 4096);
	for (uint64_t g = 0; g < 4; g++) {
		pdpt[g] = (BOOT_PD + g * 4096) | 3;
		for (uint64_t i = 0; i < 512; i++)
			put64(mem + BOOT_PD + g * 4096 + i * 8, ((g << 30) | (i << 21)) | 0x83);
	}
	memcpy(mem + BOOT_PDPT, pdpt, sizeof(pdpt));
}
