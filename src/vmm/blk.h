/* virtio-blk requests (virtio 1.2, section 5.2) against a raw image file.
 * blk_parse() checks a chain taken from the queue against the disk (it is
 * guest data: sizes, sectors and layout are all checked); blk_execute()
 * does the I/O. Both are pure enough to test and fuzz without KVM. */
#ifndef KEEL_VMM_BLK_H
#define KEEL_VMM_BLK_H

#include <stdbool.h>
#include <stdint.h>

#include "vmm/virtq.h"

#define BLK_SECTOR	     512
#define BLK_ID_BYTES	     20
#define BLK_MAX_DISCARD_SEGS 16
#define BLK_MAX_REQ	     (1u << 30) /* larger requests are refused */

enum { BLK_T_IN = 0, BLK_T_OUT = 1, BLK_T_FLUSH = 4, BLK_T_GET_ID = 8, BLK_T_DISCARD = 11 };
enum { BLK_S_OK = 0, BLK_S_IOERR = 1, BLK_S_UNSUPP = 2 };

struct blk_disk {
	int fd;
	uint64_t sectors;
	bool readonly;
	char id[BLK_ID_BYTES]; /* serial number, NUL-padded */
};

struct blk_req {
	uint32_t type;
	uint64_t sector;
	uint8_t *status;    /* the last device-writable byte */
	struct iovec *data; /* the data buffers (in or out) */
	unsigned ndata;
	uint64_t len;  /* their total size */
	uint8_t early; /* BLK_S_OK, or the status to answer at once */
};

/* Parses a chain; returns -1 if it is not a virtio-blk request at all
 * (no header or no status byte: the chain is returned with nothing
 * written), else 0 with r->early saying whether the request can run. */
int blk_parse(const struct blk_disk *d, struct virtq_elem *e, struct blk_req *r);
/* Runs a parsed request; returns the status and the bytes written into
 * guest buffers (data plus the status byte) in *written. */
uint8_t blk_execute(const struct blk_disk *d, const struct blk_req *r, uint32_t *written);

#endif
