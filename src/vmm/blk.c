#include "vmm/blk.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

struct blk_header {
	uint32_t type;
	uint32_t reserved;
	uint64_t sector;
};

struct blk_discard {
	uint64_t sector;
	uint32_t num_sectors;
	uint32_t flags;
};

/* Drops the last byte from an iovec list (the status byte) and returns
 * its address. */
static uint8_t *take_last_byte(struct iovec *iov, unsigned *n)
{
	while (*n && iov[*n - 1].iov_len == 0)
		(*n)--;
	if (!*n)
		return NULL;
	struct iovec *last = &iov[*n - 1];
	last->iov_len--;
	uint8_t *p = (uint8_t *)last->iov_base + last->iov_len;
	if (last->iov_len == 0)
		(*n)--;
	return p;
}

/* Skips `len` bytes at the front of an iovec list in place. */
static void skip_front(struct iovec *iov, unsigned *n, size_t len)
{
	unsigned i = 0;
	while (i < *n && len >= iov[i].iov_len)
		len -= iov[i++].iov_len;
	if (i < *n) {
		iov[i].iov_base = (uint8_t *)iov[i].iov_base + len;
		iov[i].iov_len -= len;
	}
	memmove(iov, iov + i, (*n - i) * sizeof(*iov));
	*n -= i;
}

static bool in_disk(const struct blk_disk *d, uint64_t sector, uint64_t len)
{
	uint64_t n = len / BLK_SECTOR;
	return sector <= d->sectors && n <= d->sectors - sector;
}

int blk_parse(const struct blk_disk *d, struct virtq_elem *e, struct blk_req *r)
{
	memset(r, 0, sizeof(*r));
	struct blk_header h;
	if (iov_to_buf(e->out, e->nout, 0, &h, sizeof(h)) != sizeof(h))
		return -1;
	r->status = take_last_byte(e->in, &e->nin);
	if (!r->status)
		return -1;
	skip_front(e->out, &e->nout, sizeof(h));
	r->type = h.type;
	r->sector = h.sector;
	switch (h.type) {
	case BLK_T_IN:
	case BLK_T_GET_ID:
		r->data = e->in;
		r->ndata = e->nin;
		break;
	case BLK_T_OUT:
	case BLK_T_DISCARD:
		r->data = e->out;
		r->ndata = e->nout;
		break;
	case BLK_T_FLUSH:
		break;
	default:
		r->early = BLK_S_UNSUPP;
		return 0;
	}
	r->len = iov_size(r->data, r->ndata);
	if (r->len > BLK_MAX_REQ)
		r->early = BLK_S_IOERR;
	else if ((h.type == BLK_T_OUT || h.type == BLK_T_DISCARD) && d->readonly)
		r->early = BLK_S_IOERR;
	else if ((h.type == BLK_T_IN || h.type == BLK_T_OUT) &&
		 (r->len % BLK_SECTOR || !in_disk(d, h.sector, r->len)))
		r->early = BLK_S_IOERR;
	else if (h.type == BLK_T_DISCARD &&
		 (r->len == 0 || r->len % sizeof(struct blk_discard) ||
		  r->len / sizeof(struct blk_discard) > BLK_MAX_DISCARD_SEGS))
		r->early = BLK_S_IOERR;
	return 0;
}

/* preadv/pwritev until done: a regular file may return short counts. */
static int rw_all(const struct blk_disk *d, const struct blk_req *r, bool write)
{
	struct iovec iov[VIRTQ_MAX_SEGS];
	unsigned n = r->ndata;
	memcpy(iov, r->data, n * sizeof(*iov));
	off_t off = (off_t)(r->sector * BLK_SECTOR);
	while (n) {
		ssize_t k =
		    write ? pwritev(d->fd, iov, (int)n, off) : preadv(d->fd, iov, (int)n, off);
		if (k < 0 && errno == EINTR)
			continue;
		if (k <= 0)
			return -1;
		off += k;
		skip_front(iov, &n, (size_t)k);
	}
	return 0;
}

static uint8_t discard(const struct blk_disk *d, const struct blk_req *r)
{
	struct blk_discard seg[BLK_MAX_DISCARD_SEGS];
	size_t n = iov_to_buf(r->data, r->ndata, 0, seg, sizeof(seg)) / sizeof(seg[0]);
	for (size_t i = 0; i < n; i++) {
		uint64_t bytes = (uint64_t)seg[i].num_sectors * BLK_SECTOR;
		if (seg[i].flags || !in_disk(d, seg[i].sector, bytes))
			return BLK_S_IOERR;
		if (bytes &&
		    fallocate(d->fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE,
			      (off_t)(seg[i].sector * BLK_SECTOR), (off_t)bytes) < 0 &&
		    errno != EOPNOTSUPP)
			return BLK_S_IOERR;
	}
	return BLK_S_OK;
}

uint8_t blk_execute(const struct blk_disk *d, const struct blk_req *r, uint32_t *written)
{
	uint8_t s = r->early;
	uint64_t data_out = 0;
	if (s == BLK_S_OK) {
		switch (r->type) {
		case BLK_T_IN:
			s = rw_all(d, r, false) == 0 ? BLK_S_OK : BLK_S_IOERR;
			data_out = s == BLK_S_OK ? r->len : 0;
			break;
		case BLK_T_OUT:
			s = rw_all(d, r, true) == 0 ? BLK_S_OK : BLK_S_IOERR;
			break;
		case BLK_T_FLUSH:
			/* the data is on stable storage before the guest hears so */
			s = fdatasync(d->fd) == 0 ? BLK_S_OK : BLK_S_IOERR;
			break;
		case BLK_T_GET_ID:
			data_out = iov_from_buf(r->data, r->ndata, 0, d->id, sizeof(d->id));
			break;
		case BLK_T_DISCARD:
			s = discard(d, r);
			break;
		}
	}
	*r->status = s;
	*written = (uint32_t)(data_out + 1);
	return s;
}
