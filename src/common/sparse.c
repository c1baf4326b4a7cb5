#include "common/sparse.h"

#include <errno.h>
#include <string.h>

#include "common/util.h"

static uint32_t get32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static uint64_t get64(const uint8_t *p)
{
	return (uint64_t)get32(p) | (uint64_t)get32(p + 4) << 32;
}

static void put32(uint8_t *p, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

static void put64(uint8_t *p, uint64_t v)
{
	put32(p, (uint32_t)v);
	put32(p + 4, (uint32_t)(v >> 32));
}

void sparse_put_header(uint8_t out[SPARSE_HEADER_LEN], uint64_t size)
{
	memcpy(out, SPARSE_MAGIC, SPARSE_MAGIC_LEN);
	put32(out + 8, SPARSE_VERSION);
	put32(out + 12, 0);
	put64(out + 16, size);
}

void sparse_put_record(uint8_t out[SPARSE_RECORD_LEN], uint64_t offset, uint64_t length)
{
	put64(out, offset);
	put64(out + 8, length);
}

void sparse_init(struct sparse_parser *p)
{
	memset(p, 0, sizeof(*p));
	p->state = SPARSE_HEADER;
}

/* fails the stream for good; returns e */
static int fail(struct sparse_parser *p, int e)
{
	p->state = SPARSE_FAILED;
	p->error = e;
	return e;
}

static int bad(struct sparse_parser *p, char *err, size_t errlen, const char *why)
{
	errorf(err, errlen, "sparse stream: %s", why);
	return fail(p, -EINVAL);
}

static int take_header(struct sparse_parser *p, char *err, size_t errlen)
{
	const uint8_t *h = p->field;
	if (memcmp(h, SPARSE_MAGIC, SPARSE_MAGIC_LEN) != 0)
		return bad(p, err, errlen, "no " SPARSE_MAGIC " header");
	if (get32(h + 8) != SPARSE_VERSION)
		return bad(p, err, errlen, "unknown version (this host reads version 1)");
	if (get32(h + 12) != 0)
		return bad(p, err, errlen, "unknown flags");
	p->size = get64(h + 16);
	if (p->size > SPARSE_SIZE_MAX)
		return bad(p, err, errlen, "size over 64 TiB");
	p->state = SPARSE_RECORD;
	return 0;
}

static int take_record(struct sparse_parser *p, char *err, size_t errlen)
{
	uint64_t offset = get64(p->field), length = get64(p->field + 8);
	if (offset < p->next)
		return bad(p, err, errlen, "a record out of order or overlapping the one before");
	if (offset > p->size)
		return bad(p, err, errlen, "a record starts past the end of the file");
	if (length == 0) {
		if (offset != p->size)
			return bad(p, err, errlen, "the end record's offset is not the size");
		p->state = SPARSE_END;
		return 0;
	}
	if (length > p->size - offset)
		return bad(p, err, errlen, "a record reaches past the end of the file");
	p->offset = offset;
	p->left = length;
	p->next = offset + length;
	p->records++;
	p->state = SPARSE_DATA;
	return 0;
}

/* Gathers a fixed-size field; returns the bytes of buf used. */
static size_t gather(struct sparse_parser *p, size_t want, const uint8_t *buf, size_t len)
{
	size_t n = want - p->have < len ? want - p->have : len;
	memcpy(p->field + p->have, buf, n);
	p->have += n;
	return n;
}

int sparse_feed(struct sparse_parser *p, const uint8_t *buf, size_t len, sparse_data_fn data,
		void *ctx, char *err, size_t errlen)
{
	while (len > 0) {
		size_t used = 0;
		int r = 0;
		switch (p->state) {
		case SPARSE_HEADER:
		case SPARSE_RECORD: {
			size_t want =
			    p->state == SPARSE_HEADER ? SPARSE_HEADER_LEN : SPARSE_RECORD_LEN;
			used = gather(p, want, buf, len);
			if (p->have == want) {
				p->have = 0;
				r = p->state == SPARSE_HEADER ? take_header(p, err, errlen)
							      : take_record(p, err, errlen);
			}
			break;
		}
		case SPARSE_DATA:
			used = p->left < len ? (size_t)p->left : len;
			r = data(ctx, p->offset, buf, used, err, errlen);
			if (r < 0)
				return fail(p, r);
			p->offset += used;
			p->left -= used;
			p->data_bytes += used;
			if (p->left == 0)
				p->state = SPARSE_RECORD;
			break;
		case SPARSE_END:
			return bad(p, err, errlen, "bytes after the end record");
		case SPARSE_FAILED:
			errorf(err, errlen, "sparse stream: already refused");
			return p->error;
		}
		if (r < 0)
			return r;
		buf += used;
		len -= used;
	}
	return 0;
}

int sparse_finish(const struct sparse_parser *p, char *err, size_t errlen)
{
	switch (p->state) {
	case SPARSE_END:
		return 0;
	case SPARSE_FAILED:
		errorf(err, errlen, "sparse stream: already refused");
		return p->error;
	case SPARSE_HEADER:
		errorf(err, errlen, "sparse stream: truncated in its header");
		return -EINVAL;
	case SPARSE_DATA:
		errorf(err, errlen, "sparse stream: truncated in a record's data");
		return -EINVAL;
	default:
		errorf(err, errlen, "sparse stream: truncated (no end record)");
		return -EINVAL;
	}
}
