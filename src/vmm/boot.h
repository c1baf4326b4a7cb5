/* The x86_64 Linux boot protocol (Documentation/arch/x86/boot.rst), done
 * the way a 64-bit boot loader does it: the kernel (a bzImage, or an ELF
 * vmlinux) is placed in guest memory with a zero page (struct boot_params),
 * a command line, an e820 map and an initrd; identity-mapped page tables
 * and a flat GDT are built, and the boot vCPU starts in long mode at the
 * kernel's 64-bit entry point with %rsi pointing at the zero page.
 *
 * Everything here works on a plain buffer that stands for guest memory,
 * so it is tested without KVM. All sizes and offsets read from a kernel
 * image are checked before use. */
#ifndef KEEL_VMM_BOOT_H
#define KEEL_VMM_BOOT_H

#include <stddef.h>
#include <stdint.h>

/* Guest physical layout of what the loader writes below 1 MiB. */
#define BOOT_GDT	 0x500
#define BOOT_STACK	 0x8ff0
#define BOOT_PML4	 0x9000
#define BOOT_PDPT	 0xa000
#define BOOT_PD		 0xb000 /* four pages: 4 GiB identity map with 2 MiB pages */
#define BOOT_ZERO_PAGE	 0x10000
#define BOOT_CMDLINE	 0x20000
#define BOOT_CMDLINE_MAX 4095
#define BOOT_EBDA	 0x9fc00
#define BOOT_ACPI	 0xe0000 /* ACPI tables, 128 KiB up to 1 MiB */
#define BOOT_HIGH	 0x100000
#define BOOT_MMIO_HOLE	 0xc0000000ull /* RAM stops here and resumes at 4 GiB */
#define BOOT_4G		 0x100000000ull

#define E820_RAM      1
#define E820_RESERVED 2

struct e820_entry {
	uint64_t addr;
	uint64_t size;
	uint32_t type;
} __attribute__((packed));

/* Fills at most max entries describing mem_size bytes of guest RAM;
 * returns the count. */
size_t e820_build(struct e820_entry *e, size_t max, uint64_t mem_size);

/* Guest RAM below the MMIO hole, the part a loader may use. */
uint64_t boot_low_size(uint64_t mem_size);

enum kernel_kind { KERNEL_BZIMAGE = 1, KERNEL_ELF = 2 };

/* Checks that image is a kernel this loader can start: a bzImage with the
 * 64-bit entry (protocol 2.12 or later) or an x86_64 ELF executable.
 * Returns the kind, or -1 with a reason in err. */
int kernel_probe(const uint8_t *image, size_t len, char *err, size_t errlen);

struct boot_result {
	uint64_t entry;	      /* 64-bit entry point (guest physical) */
	uint64_t kernel_end;  /* end of the memory the kernel needs */
	uint64_t initrd_addr; /* 0 if none */
};

/* Loads the kernel, initrd and command line into mem (guest memory below
 * the MMIO hole, low bytes long; total_mem is all RAM, for the e820 map),
 * and writes the zero page. rsdp is the ACPI RSDP's address (0: none).
 * Returns 0, or -1 with a reason in err (nothing is usable then). */
int boot_load(uint8_t *mem, uint64_t low, uint64_t total_mem, const uint8_t *kernel, size_t klen,
	      const uint8_t *initrd, size_t ilen, const char *cmdline, uint64_t rsdp,
	      struct boot_result *out, char *err, size_t errlen);

/* Writes the GDT and the identity-mapped page tables (first 4 GiB). */
void boot_write_tables(uint8_t *mem);

#endif
