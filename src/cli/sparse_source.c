#include "cli/sparse_source.h"

#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli/mem.h"
#include "cli/output.h"
#include "common/sparse.h"

struct extent {
	off_t offset, length;
};

struct source {
	int fd;
	uint64_t size;
	struct extent *extents;
	size_t count, next;		   /* extents; the next one to send */
	uint8_t staged[SPARSE_HEADER_LEN]; /* a header or record waiting to be read */
	size_t staged_len, staged_pos;
	off_t data_pos, data_left; /* the extent being read */
	bool ended;		   /* the end record is staged or sent */
};

#define ZERO_BLOCK 4096	     /* the unit in which zeros are left out */
#define SCAN_BUF   (1 << 20) /* read at a time while looking for them */

/* [offset, offset + length) to send: merged with the last extent when
 * they touch */
static void add_extent(struct source *s, size_t *cap, off_t offset, off_t length)
{
	struct extent *last = s->count ? &s->extents[s->count - 1] : NULL;
	if (last && last->offset + last->length == offset) {
		last->length += length;
		return;
	}
	if (s->count == *cap) {
		*cap = *cap ? *cap * 2 : 64;
		s->extents = xrealloc(s->extents, *cap * sizeof(*s->extents));
	}
	s->extents[s->count++] = (struct extent){offset, length};
}

static bool all_zero(const char *p, size_t len)
{
	return p[0] == 0 && memcmp(p, p + 1, len - 1) == 0;
}

/* The blocks of the allocated range [data, hole) that are not all zeros:
 * a raw image written in full has its empty space allocated. 0 or -1
 * (errno). */
static int scan_range(struct source *s, size_t *cap, off_t data, off_t hole, char *buf)
{
	for (off_t pos = data; pos < hole;) {
		size_t n = hole - pos < SCAN_BUF ? (size_t)(hole - pos) : SCAN_BUF;
		for (size_t got = 0; got < n;) {
			ssize_t k = pread(s->fd, buf + got, n - got, pos + (off_t)got);
			if (k < 0 && errno == EINTR)
				continue;
			if (k <= 0) {
				errno = k == 0 ? EIO : errno; /* (it shrank) */
				return -1;
			}
			got += (size_t)k;
		}
		for (size_t at = 0; at < n; at += ZERO_BLOCK) {
			size_t k = n - at < ZERO_BLOCK ? n - at : ZERO_BLOCK;
			if (!all_zero(buf + at, k))
				add_extent(s, cap, pos + (off_t)at, (off_t)k);
		}
		pos += (off_t)n;
	}
	return 0;
}

/* The extents of fd (size bytes) to send, into s: its allocated ranges
 * (SEEK_DATA, SEEK_HOLE) without their blocks of zeros. 0 or -1 (errno). */
static int find_extents(struct source *s, off_t size)
{
	size_t cap = 0;
	char *buf = xmalloc(SCAN_BUF);
	int rc = 0;
	for (off_t pos = 0; pos < size && rc == 0;) {
		off_t data = lseek(s->fd, pos, SEEK_DATA);
		if (data < 0 && errno == ENXIO)
			break; /* only a hole is left */
		off_t hole = data < 0 ? -1 : lseek(s->fd, data, SEEK_HOLE);
		if (hole < 0) {
			rc = -1;
			break;
		}
		if (hole > size)
			hole = size;
		if (data >= hole)
			break;
		rc = scan_range(s, &cap, data, hole, buf);
		pos = hole;
	}
	free(buf);
	return rc;
}

static void stage(struct source *s, const uint8_t *bytes, size_t len)
{
	memcpy(s->staged, bytes, len);
	s->staged_len = len;
	s->staged_pos = 0;
}

static ssize_t source_read(void *cookie, char *buf, size_t n)
{
	struct source *s = cookie;
	size_t done = 0;
	while (done < n) {
		if (s->staged_pos < s->staged_len) {
			size_t k = s->staged_len - s->staged_pos;
			k = k < n - done ? k : n - done;
			memcpy(buf + done, s->staged + s->staged_pos, k);
			s->staged_pos += k;
			done += k;
		} else if (s->data_left > 0) {
			size_t want =
			    (size_t)s->data_left < n - done ? (size_t)s->data_left : n - done;
			ssize_t got = pread(s->fd, buf + done, want, s->data_pos);
			if (got < 0 && errno == EINTR)
				continue;
			if (got <= 0) {
				if (got == 0)
					errno = EIO; /* the file shrank */
				return -1;
			}
			s->data_pos += got;
			s->data_left -= got;
			done += (size_t)got;
		} else if (s->next < s->count) {
			uint8_t rec[SPARSE_RECORD_LEN];
			const struct extent *e = &s->extents[s->next++];
			sparse_put_record(rec, (uint64_t)e->offset, (uint64_t)e->length);
			stage(s, rec, sizeof(rec));
			s->data_pos = e->offset;
			s->data_left = e->length;
		} else if (!s->ended) {
			uint8_t rec[SPARSE_RECORD_LEN];
			sparse_put_record(rec, s->size, 0);
			stage(s, rec, sizeof(rec));
			s->ended = true;
		} else {
			break;
		}
	}
	return (ssize_t)done;
}

static int source_close(void *cookie)
{
	struct source *s = cookie;
	free(s->extents);
	free(s);
	return 0;
}

FILE *sparse_source_open(int fd, const char *label, struct sparse_source_info *info)
{
	struct stat st;
	errno = 0;
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		error_msg("%s: %s", label, errno ? strerror(errno) : "not a regular file");
		return NULL;
	}
	if ((uint64_t)st.st_size > SPARSE_SIZE_MAX) {
		error_msg("%s: larger than 64 TiB", label);
		return NULL;
	}
	struct source *s = xmalloc(sizeof(*s));
	memset(s, 0, sizeof(*s));
	s->fd = fd;
	s->size = (uint64_t)st.st_size;
	if (find_extents(s, st.st_size) < 0) {
		error_msg("%s: cannot find its data: %s", label, strerror(errno));
		source_close(s);
		return NULL;
	}
	memset(info, 0, sizeof(*info));
	info->size = s->size;
	info->extents = s->count;
	info->stream_len = SPARSE_HEADER_LEN + SPARSE_RECORD_LEN * (s->count + 1);
	for (size_t i = 0; i < s->count; i++)
		info->data += (uint64_t)s->extents[i].length;
	info->stream_len += info->data;
	uint8_t header[SPARSE_HEADER_LEN];
	sparse_put_header(header, s->size);
	stage(s, header, sizeof(header));
	FILE *f = fopencookie(s, "r",
			      (cookie_io_functions_t){.read = source_read, .close = source_close});
	if (!f) {
		error_msg("%s: %s", label, strerror(errno));
		source_close(s);
	}
	return f;
}
