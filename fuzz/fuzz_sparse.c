/* libFuzzer target: the sparse stream parser (src/common/sparse.c) on
 * hostile bodies, fed in pieces whose sizes the input picks: every piece
 * of data it hands on lies within the header's size, in increasing order
 * without overlap, and a stream it accepts ended with its end record. */
#include <stdint.h>
#include <stdlib.h>

#include "common/sparse.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

struct seen {
	const struct sparse_parser *p;
	uint64_t next;
};

static int check(void *ctx, uint64_t offset, const uint8_t *buf, size_t len, char *err,
		 size_t errlen)
{
	struct seen *s = ctx;
	(void)buf, (void)err, (void)errlen;
	if (len == 0 || offset < s->next || offset > s->p->size || len > s->p->size - offset)
		abort();
	s->next = offset + len;
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1)
		return 0;
	size_t step = data[0] % 32 + 1; /* the first byte: the piece size */
	data++, size--;
	struct sparse_parser p;
	struct seen s = {&p, 0};
	char err[128];
	sparse_init(&p);
	int r = 0;
	for (size_t at = 0; at < size && r == 0; at += step)
		r = sparse_feed(&p, data + at, size - at < step ? size - at : step, check, &s, err,
				sizeof(err));
	if (r == 0 && sparse_finish(&p, err, sizeof(err)) == 0 && p.state != SPARSE_END)
		abort();
	return 0;
}
