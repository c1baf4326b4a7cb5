/* Layer: domain (pure; includes nothing of hostd). zlib only.
 *
 * What the support bundle (bundle.h) is made of: POSIX ustar headers and a
 * gzip stream, written piece by piece so that an archive of any size is
 * made in bounded memory.
 *
 * The headers are common/ustar.h's. */
#ifndef KEEL_HOSTD_TAR_H
#define KEEL_HOSTD_TAR_H

#include <stddef.h>
#include <stdint.h>
#include <zlib.h>

#include "common/ustar.h"

/* A gzip stream (RFC 1952, zlib's deflate). */
struct gz {
	z_stream z;
	int finished;
};
int gz_init(struct gz *g);
/* Compresses in[0, inlen) into out (cap bytes); `finish`: no more input
 * will come (the stream is ended once all of it is out). *used gets the
 * input consumed; returns the bytes written to out, or -1. g->finished is
 * set once the end of the stream has been written. */
long gz_step(struct gz *g, const void *in, size_t inlen, size_t *used, void *out, size_t cap,
	     int finish);
void gz_end(struct gz *g);

#endif
