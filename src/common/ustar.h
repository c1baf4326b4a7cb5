/* POSIX ustar headers, written piece by piece so that an archive of any
 * size is made in bounded memory: keel-hostd's support bundle
 * (hostd/bundle.h) and the update bundles (bundlefmt.h).
 *
 * tar_header fills one 512-byte ustar header of a regular file: a name of
 * up to 100 bytes goes in the name field; a longer one (up to 255) is cut
 * at a '/' into prefix (up to 155) and name (up to 100), as ustar says; a
 * name that cannot be cut so is refused (-ENAMETOOLONG). The size is 11
 * octal digits when below 8 GiB, else base-256 (the GNU extension every
 * reader of today understands). The data follows, padded with zeros to a
 * multiple of 512 (tar_padding); the archive ends with two zero blocks
 * (TAR_TRAILER bytes). */
#ifndef KEEL_USTAR_H
#define KEEL_USTAR_H

#include <stddef.h>
#include <stdint.h>

#define TAR_BLOCK   512
#define TAR_TRAILER (2 * TAR_BLOCK)

int tar_header(unsigned char h[TAR_BLOCK], const char *name, uint64_t size, int64_t mtime,
	       unsigned mode);
/* the zeros after `size` bytes of data */
size_t tar_padding(uint64_t size);

#endif
