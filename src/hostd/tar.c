#include "hostd/tar.h"

#include <string.h>

int gz_init(struct gz *g)
{
	memset(g, 0, sizeof(*g));
	/* 15 + 16: a gzip header and trailer around the deflate stream */
	return deflateInit2(&g->z, 6, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) == Z_OK ? 0 : -1;
}

long gz_step(struct gz *g, const void *in, size_t inlen, size_t *used, void *out, size_t cap,
	     int finish)
{
	*used = 0;
	if (g->finished)
		return 0;
	g->z.next_in = (Bytef *)(uintptr_t)in;
	g->z.avail_in = (uInt)inlen;
	g->z.next_out = out;
	g->z.avail_out = (uInt)cap;
	int rc = deflate(&g->z, finish ? Z_FINISH : Z_NO_FLUSH);
	if (rc == Z_STREAM_ERROR)
		return -1;
	if (rc == Z_STREAM_END)
		g->finished = 1;
	*used = inlen - g->z.avail_in;
	return (long)(cap - g->z.avail_out);
}

void gz_end(struct gz *g)
{
	deflateEnd(&g->z);
}
