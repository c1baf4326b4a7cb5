/* A local file sent as the Keel sparse stream (common/sparse.h): only its
 * allocated extents (SEEK_DATA/SEEK_HOLE), and of those only the 4 KiB
 * blocks that are not all zeros, found before anything is sent (a pass
 * over the data), so that the stream's length is known (the upload's
 * Content-Length and progress). The stream is a FILE (fopencookie) that api_upload reads
 * like any other file. */
#ifndef KEEL_CLI_SPARSE_SOURCE_H
#define KEEL_CLI_SPARSE_SOURCE_H

#include <stdint.h>
#include <stdio.h>
#include <sys/types.h>

struct sparse_source_info {
	uint64_t size;	     /* the file's (logical) size */
	uint64_t data;	     /* bytes in its extents: what travels */
	uint64_t stream_len; /* the whole stream, headers included */
	size_t extents;
};

/* The stream of the regular file open on fd (which must stay open, and the
 * file unchanged, until the stream is closed; a file that shrinks meanwhile
 * fails the read with EIO). NULL with a message naming `label`. fclose
 * frees it. */
FILE *sparse_source_open(int fd, const char *label, struct sparse_source_info *info);

#endif
