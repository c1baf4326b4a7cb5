/* The UEFI variable store as the flash chip OVMF expects below its code:
 * a CFI flash with Intel's command set (the subset OVMF's QemuFlash driver
 * and QEMU's pflash_cfi01 agree on), 4 KiB blocks, byte-wide.
 *
 * In read-array mode (the normal one) the chip is the VM's nvram file,
 * mapped read-only into the guest (a KVM memory slot over a shared mapping
 * of the file), so reads cost nothing. A write is a command: read status
 * (0x70), clear status (0x50), program a byte (0x10 or 0x40, then the
 * byte), erase a block (0x20, then 0xD0), read array (0xFF). While the chip
 * is in any other mode its slot is taken away, so that reads come here and
 * see the status register. Programs and erases go to the file with pwrite
 * (the mapping shows them at once) and are made durable (fdatasync) when
 * the chip goes back to read-array mode. Every address is checked against
 * the chip with a check that cannot wrap; other commands (identification,
 * CFI query, lock bits) put the chip back in read-array mode.
 *
 * Called with the VM lock held (vCPU threads). */
#ifndef KEEL_VMM_PFLASH_H
#define KEEL_VMM_PFLASH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define PFLASH_BLOCK 4096u

enum pflash_mode { PFLASH_ARRAY, PFLASH_STATUS, PFLASH_PROGRAM, PFLASH_ERASE };

struct pflash {
	const uint8_t *mem; /* the file, mapped (what the guest reads) */
	size_t size;
	uint64_t gpa;
	int fd;
	enum pflash_mode mode;
	uint8_t status;
	bool dirty; /* written since the last fdatasync */
	/* maps (on true) or unmaps the chip from the guest; 0 or -1 */
	int (*map)(void *opaque, bool on);
	void *opaque;
};

/* Sets up the chip over fd's first `size` bytes (a whole number of blocks)
 * at guest address gpa, in read-array mode; the caller maps it. -1 (and a
 * message) if the file cannot be mapped. */
int pflash_init(struct pflash *f, int fd, size_t size, uint64_t gpa);
void pflash_free(struct pflash *f);
/* An MMIO access (the guest's writes, and its reads while the chip is not
 * in read-array mode); false if [addr, addr + len) is not all the chip's. */
bool pflash_mmio(struct pflash *f, uint64_t addr, unsigned len, bool write, uint8_t *data);

#endif
