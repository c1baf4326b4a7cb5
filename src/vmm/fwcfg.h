/* The firmware configuration device (QEMU's fw_cfg, as OVMF and SeaBIOS
 * read it; QEMU's docs/specs/fw_cfg.rst), on the x86 I/O ports:
 *
 *   FWCFG_PORT_SEL   (16-bit write, little-endian): selects an item by its
 *                    key; its offset is set back to 0
 *   FWCFG_PORT_DATA  (8-bit read): the selected item's next byte (0 past
 *                    its end, or with no item); writes are ignored
 *   FWCFG_PORT_DMA   (two 32-bit writes, the guest physical address of a
 *                    DMA access, big-endian: the high half at
 *                    FWCFG_PORT_DMA, the low half at FWCFG_PORT_DMA + 4,
 *                    which starts the access); reads give "QEMU CFG"
 *
 * A DMA access is 16 bytes in guest memory, big-endian: control (32 bits:
 * FWCFG_DMA_* flags, the key to select in the high 16 bits), length (32
 * bits), address (64 bits). It selects (FWCFG_DMA_SELECT), then reads
 * `length` bytes of the item to `address` (zeros past its end), skips them,
 * or writes them (no item here is writable: an error). On completion its
 * control becomes 0, or FWCFG_DMA_ERROR when anything of it (the access
 * itself, or the data range) is not guest RAM, or it was a write.
 *
 * Items: FWCFG_SIGNATURE ("QEMU"), FWCFG_ID (the interfaces: traditional
 * and DMA), FWCFG_FILE_DIR (the directory of named files: a big-endian
 * count, then per file its big-endian size and key, and its name in 56
 * bytes), the numbered ones added with fwcfg_add, and the named files
 * added with fwcfg_add_file (keys from FWCFG_FILE_FIRST).
 *
 * Everything the guest sends is hostile: the device only ever copies
 * between its own items and checked guest RAM. Called with the VM lock
 * held (portio.h). */
#ifndef KEEL_VMM_FWCFG_H
#define KEEL_VMM_FWCFG_H

#include <stdbool.h>
#include <stdint.h>

#include "vmm/virtq.h"

#define FWCFG_PORT_SEL	0x510
#define FWCFG_PORT_DATA 0x511
#define FWCFG_PORT_DMA	0x514
#define FWCFG_PORTS	12 /* FWCFG_PORT_SEL .. FWCFG_PORT_DMA + 7 */

#define FWCFG_SIGNATURE	  0x0000
#define FWCFG_ID	  0x0001
#define FWCFG_RAM_SIZE	  0x0003 /* 64-bit little-endian */
#define FWCFG_NB_CPUS	  0x0005 /* 16-bit little-endian */
#define FWCFG_MAX_CPUS	  0x000f /* 16-bit little-endian */
#define FWCFG_FILE_DIR	  0x0019
#define FWCFG_FILE_FIRST  0x0020
#define FWCFG_NAME_SIZE	  56 /* a file's name, its NUL included */
#define FWCFG_MAX_ITEMS	  48
#define FWCFG_MAX_ITEM_SZ (64u << 20)

#define FWCFG_DMA_ERROR	 0x01
#define FWCFG_DMA_READ	 0x02
#define FWCFG_DMA_SKIP	 0x04
#define FWCFG_DMA_SELECT 0x08
#define FWCFG_DMA_WRITE	 0x10

struct fwcfg_item {
	uint16_t key;
	char name[FWCFG_NAME_SIZE]; /* "" for a numbered item */
	uint8_t *data;
	uint32_t len;
};

struct fwcfg {
	const struct gmem *mem;
	struct fwcfg_item items[FWCFG_MAX_ITEMS];
	unsigned nitems;
	uint16_t nfiles;
	int cur; /* the selected item's index, or -1 */
	uint32_t off;
	uint8_t dma[8]; /* the DMA address register, as written */
};

/* Starts with the signature, the interfaces and an empty directory; DMA
 * accesses go to `mem`. -1 if out of memory. */
int fwcfg_init(struct fwcfg *f, const struct gmem *mem);
void fwcfg_free(struct fwcfg *f);

/* Adds (a copy of) a numbered item, key below FWCFG_FILE_FIRST and not one
 * of the three above, or a named file (1..55 characters). -1 if the key or
 * name is taken or invalid, data is over FWCFG_MAX_ITEM_SZ, or the table is
 * full. */
int fwcfg_add(struct fwcfg *f, uint16_t key, const void *data, uint32_t len);
int fwcfg_add_file(struct fwcfg *f, const char *name, const void *data, uint32_t len);

/* The port handler for FWCFG_PORT_SEL .. + FWCFG_PORTS - 1 (portio.h). */
void fwcfg_io(void *opaque, uint16_t port, unsigned size, bool write, uint8_t *data);

#endif
