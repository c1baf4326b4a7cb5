/* Layer: domain (pure; includes nothing of hostd). zlib only.
 *
 * What the support bundle (bundle.h) is made of: POSIX ustar headers and a
 * gzip stream, written piece by piece so that an archive of any size is
 * made in bounded memory.
 *
 * tar_header fills one 512-byte ustar header of a regular file: a name of
 * up to 100 bytes goes in the name field; a longer one (up to 255) is cut
 * at a '/' into prefix (up to 155) and name (up to 100), as ustar says; a
 * name that cannot be cut so is refused (-ENAMETOOLONG). The size is 11
 * octal digits when below 8 GiB, else base-256 (the GNU extension every
 * reader of today understands). The data follows, padded with zeros to a
 * multiple of 512 (tar_padding); the archive ends with two zero blocks
 * (TAR_TRAILER bytes). */
#ifndef KEEL_HOSTD_TAR_H
#define KEEL_HOSTD_TAR_H

#include <stddef.h>
#include <stdint.h>
#include <zlib.h>

#define TAR_BLOCK   512
#define TAR_TRAILER (2 * TAR_BLOCK)

int tar_header(unsigned char h[TAR_BLOCK], const char *name, uint64_t size, int64_t mtime,
	       unsigned mode);
/* the zeros after `size` bytes of data */
size_t tar_padding(uint64_t size);

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
