/* The Keel sparse stream: a file of `size` bytes sent as only the extents
 * that hold data, the rest being holes (zeros). The body of
 * PUT /api/v1/datastores/{ds}/files/{path} with
 * `Content-Type: application/x-keel-sparse` (docs/api.md); keel-hostd
 * parses it, the CLI (`keel vm import`) writes it. Pure: no I/O.
 *
 * Layout, every integer little-endian:
 *
 *     header  8 bytes  magic "KEELSPRS"
 *             4 bytes  version (1)
 *             4 bytes  flags (0; anything else is refused)
 *             8 bytes  size: the file's logical size, at most SPARSE_SIZE_MAX
 *     record  8 bytes  offset
 *             8 bytes  length (1..size - offset), then `length` bytes of data
 *     ...
 *     end     8 bytes  offset = size
 *             8 bytes  length = 0
 *
 * Records come in increasing order of offset and do not overlap (each
 * offset is at least the end of the previous record); they never reach
 * past `size`. Nothing may follow the end record. Bytes not covered by a
 * record are zeros (holes).
 *
 * The parser's threat model: every byte comes from the network. Each field
 * is checked as soon as it is complete, with comparisons that cannot wrap
 * (`length <= size - offset`), and the first error ends the stream (every
 * later call fails too): the receiver must then throw away what it wrote. A
 * stream that ends before its end record is refused by sparse_finish. */
#ifndef KEEL_SPARSE_H
#define KEEL_SPARSE_H

#include <stddef.h>
#include <stdint.h>

#define SPARSE_CONTENT_TYPE "application/x-keel-sparse"
#define SPARSE_MAGIC	    "KEELSPRS"
#define SPARSE_MAGIC_LEN    8
#define SPARSE_VERSION	    1
#define SPARSE_HEADER_LEN   24
#define SPARSE_RECORD_LEN   16		  /* a record's offset and length */
#define SPARSE_SIZE_MAX	    (64ULL << 40) /* 64 TiB: the largest datastore disk */

/* Receives the data of a record, in pieces: `len` bytes for the file at
 * `offset`. Returns 0, or a negative errno (with a message in err) that
 * ends the stream. */
typedef int (*sparse_data_fn)(void *ctx, uint64_t offset, const uint8_t *data, size_t len,
			      char *err, size_t errlen);

enum sparse_state { SPARSE_HEADER, SPARSE_RECORD, SPARSE_DATA, SPARSE_END, SPARSE_FAILED };

struct sparse_parser {
	enum sparse_state state;
	uint8_t field[SPARSE_HEADER_LEN]; /* the header or record being read */
	size_t have;			  /* bytes of it so far */
	uint64_t size;			  /* from the header */
	uint64_t next;			  /* the least offset the next record may have */
	uint64_t offset, left;		  /* the current record: where, bytes to come */
	uint64_t records, data_bytes;	  /* seen so far */
	int error;			  /* the negative errno that failed it */
};

void sparse_init(struct sparse_parser *p);
/* Feeds the next `len` bytes of the stream; record data goes to `data`.
 * Returns 0, or a negative errno with a message in err: -EINVAL for a
 * stream that breaks the format, else what `data` returned. */
int sparse_feed(struct sparse_parser *p, const uint8_t *buf, size_t len, sparse_data_fn data,
		void *ctx, char *err, size_t errlen);
/* At the end of the body: 0 when the end record came (p->size is then the
 * file's size), else -EINVAL (truncated) or the error that failed it. */
int sparse_finish(const struct sparse_parser *p, char *err, size_t errlen);

/* The writer's side: the header, and a record's header (its data follows)
 * or, with length 0 and offset = size, the end record. */
void sparse_put_header(uint8_t out[SPARSE_HEADER_LEN], uint64_t size);
void sparse_put_record(uint8_t out[SPARSE_RECORD_LEN], uint64_t offset, uint64_t length);

#endif
