/* The sparse stream (common/sparse.h): what the writer's helpers make, and
 * what the CLI makes of a sparse file (cli/sparse_source.h), the parser
 * reads back into the same file, fed whole or a byte at a time; a hostile
 * stream (bad header, records out of order, overlapping, past the size,
 * wrapping around, truncated, bytes after the end) is refused. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <fcntl.h>
#include <unistd.h>

#include "cli/sparse_source.h"
#include "common/sparse.h"

#define FILE_MAX 4096

struct file {
	uint8_t bytes[FILE_MAX];
	uint64_t written;
	int fail_at_call; /* > 0: that call of put returns -ENOSPC */
	int calls;
};

static int put(void *ctx, uint64_t offset, const uint8_t *data, size_t len, char *err,
	       size_t errlen)
{
	struct file *f = ctx;
	if (++f->calls == f->fail_at_call) {
		snprintf(err, errlen, "disk full");
		return -ENOSPC;
	}
	assert_true(len > 0);
	assert_true(offset + len <= FILE_MAX);
	memcpy(f->bytes + offset, data, len);
	f->written += len;
	return 0;
}

/* a stream being built */
struct stream {
	uint8_t bytes[8192];
	size_t len;
};

static void add(struct stream *s, const void *p, size_t n)
{
	assert_true(s->len + n <= sizeof(s->bytes));
	memcpy(s->bytes + s->len, p, n);
	s->len += n;
}

static void header(struct stream *s, uint64_t size)
{
	uint8_t h[SPARSE_HEADER_LEN];
	sparse_put_header(h, size);
	add(s, h, sizeof(h));
}

static void record(struct stream *s, uint64_t offset, uint64_t length, uint8_t fill)
{
	uint8_t r[SPARSE_RECORD_LEN], data[256];
	sparse_put_record(r, offset, length);
	add(s, r, sizeof(r));
	memset(data, fill, sizeof(data));
	for (uint64_t done = 0; done < length && length < FILE_MAX;) {
		size_t n = length - done < sizeof(data) ? (size_t)(length - done) : sizeof(data);
		add(s, data, n);
		done += n;
	}
}

static void end(struct stream *s, uint64_t size)
{
	record(s, size, 0, 0);
}

/* parses s in pieces of `step` bytes; returns the first error or finish's */
static int parse(const struct stream *s, size_t step, struct file *f, struct sparse_parser *p,
		 char *err)
{
	sparse_init(p);
	for (size_t at = 0; at < s->len; at += step) {
		size_t n = s->len - at < step ? s->len - at : step;
		int r = sparse_feed(p, s->bytes + at, n, put, f, err, 256);
		if (r < 0)
			return r;
	}
	return sparse_finish(p, err, 256);
}

static void good_stream(struct stream *s)
{
	memset(s, 0, sizeof(*s));
	header(s, 3000);
	record(s, 0, 10, 0xa1);
	record(s, 10, 5, 0xa2); /* adjacent to the one before */
	record(s, 1000, 500, 0xa3);
	record(s, 2999, 1, 0xa4); /* the last byte */
	end(s, 3000);
}

static void test_round_trip(void **state)
{
	(void)state;
	struct stream s;
	good_stream(&s);
	size_t steps[] = {1, 3, 16, 17, 24, 4096, sizeof(s.bytes)};
	for (size_t i = 0; i < sizeof(steps) / sizeof(steps[0]); i++) {
		static struct file f;
		struct sparse_parser p;
		char err[256] = "";
		memset(&f, 0, sizeof(f));
		assert_int_equal(parse(&s, steps[i], &f, &p, err), 0);
		assert_int_equal(p.size, 3000);
		assert_int_equal(p.records, 4);
		assert_int_equal(p.data_bytes, 516);
		assert_int_equal(f.written, 516);
		assert_int_equal(f.bytes[0], 0xa1);
		assert_int_equal(f.bytes[9], 0xa1);
		assert_int_equal(f.bytes[10], 0xa2);
		assert_int_equal(f.bytes[15], 0);
		assert_int_equal(f.bytes[1000], 0xa3);
		assert_int_equal(f.bytes[1499], 0xa3);
		assert_int_equal(f.bytes[1500], 0);
		assert_int_equal(f.bytes[2999], 0xa4);
	}
}

static void test_empty_files(void **state)
{
	(void)state;
	struct stream s = {.len = 0};
	struct file f = {.calls = 0};
	struct sparse_parser p;
	char err[256];
	header(&s, 0);
	end(&s, 0);
	assert_int_equal(parse(&s, 5, &f, &p, err), 0);
	assert_int_equal(p.size, 0);
	s.len = 0;
	header(&s, 1ULL << 40); /* all hole: nothing is written */
	end(&s, 1ULL << 40);
	assert_int_equal(parse(&s, 5, &f, &p, err), 0);
	assert_int_equal(p.size, 1ULL << 40);
	assert_int_equal(f.calls, 0);
}

/* one hostile stream: its bytes, and a word of the message it must get */
static void refused(const struct stream *s, const char *why)
{
	size_t steps[] = {1, 7, sizeof(s->bytes)};
	for (size_t i = 0; i < 3; i++) {
		static struct file f;
		struct sparse_parser p;
		char err[256] = "";
		memset(&f, 0, sizeof(f));
		assert_int_equal(parse(s, steps[i], &f, &p, err), -EINVAL);
		if (!strstr(err, why))
			fail_msg("'%s' lacks '%s'", err, why);
		assert_int_not_equal(sparse_finish(&p, err, 256), 0);
		if (p.state != SPARSE_FAILED)
			continue; /* (truncated: more bytes could still come) */
		/* once refused, always refused */
		assert_int_not_equal(sparse_feed(&p, (const uint8_t *)"x", 1, put, &f, err, 256),
				     0);
	}
}

static void test_bad_headers(void **state)
{
	(void)state;
	struct stream s = {.len = 0};
	header(&s, 100);
	s.bytes[0] = 'X';
	end(&s, 100);
	refused(&s, "header");
	s.len = 0;
	header(&s, 100);
	s.bytes[8] = 2; /* version */
	end(&s, 100);
	refused(&s, "version");
	s.len = 0;
	header(&s, 100);
	s.bytes[12] = 1; /* flags */
	end(&s, 100);
	refused(&s, "flags");
	s.len = 0;
	header(&s, SPARSE_SIZE_MAX + 1);
	refused(&s, "64 TiB");
	s.len = 0;
	header(&s, UINT64_MAX);
	refused(&s, "64 TiB");
}

static void test_bad_records(void **state)
{
	(void)state;
	struct stream s = {.len = 0};
	header(&s, 1000);
	record(&s, 100, 10, 1);
	record(&s, 50, 10, 2); /* before the one before */
	refused(&s, "out of order");
	s.len = 0;
	header(&s, 1000);
	record(&s, 100, 10, 1);
	record(&s, 109, 10, 2); /* overlaps it by one byte */
	refused(&s, "overlapping");
	s.len = 0;
	header(&s, 1000);
	record(&s, 995, 6, 1); /* one byte past the size */
	refused(&s, "past the end");
	s.len = 0;
	header(&s, 1000);
	record(&s, 1001, 1, 1); /* starts past the size */
	refused(&s, "past the end");
	s.len = 0;
	header(&s, 1000);
	record(&s, 10, UINT64_MAX - 5, 1); /* offset + length wraps to 4 */
	refused(&s, "past the end");
	s.len = 0;
	header(&s, SPARSE_SIZE_MAX);
	record(&s, UINT64_MAX, 2, 1); /* offset itself out of range */
	refused(&s, "past the end");
	s.len = 0;
	header(&s, 1000);
	record(&s, 10, 10, 1);
	end(&s, 999); /* the end record's offset is not the size */
	refused(&s, "end record");
	s.len = 0;
	header(&s, 1000);
	end(&s, 1000);
	add(&s, "x", 1); /* trailing bytes */
	refused(&s, "after the end");
}

static void test_truncated(void **state)
{
	(void)state;
	struct stream whole;
	good_stream(&whole);
	/* every proper prefix is refused: in the header, a record or data */
	for (size_t cut = 0; cut < whole.len; cut++) {
		struct stream s = whole;
		s.len = cut;
		refused(&s, "truncated");
	}
}

static void test_write_error_passed_on(void **state)
{
	(void)state;
	struct stream s;
	good_stream(&s);
	static struct file f;
	memset(&f, 0, sizeof(f));
	f.fail_at_call = 2;
	struct sparse_parser p;
	char err[256] = "";
	assert_int_equal(parse(&s, sizeof(s.bytes), &f, &p, err), -ENOSPC);
	assert_string_equal(err, "disk full");
	assert_int_equal(sparse_finish(&p, err, sizeof(err)), -ENOSPC);
}

/* a file of FILE_MAX * 4 bytes written back from a stream */
struct big {
	uint8_t bytes[FILE_MAX * 4];
};

static int put_big(void *ctx, uint64_t offset, const uint8_t *data, size_t len, char *err,
		   size_t errlen)
{
	(void)err, (void)errlen;
	struct big *b = ctx;
	assert_true(offset + len <= sizeof(b->bytes));
	memcpy(b->bytes + offset, data, len);
	return 0;
}

static void test_cli_source_round_trip(void **state)
{
	(void)state;
	char path[] = "/tmp/keel-sparse-XXXXXX";
	int fd = mkstemp(path);
	assert_true(fd >= 0);
	unlink(path);
	static struct big want, got;
	memset(&want, 0, sizeof(want));
	memset(&got, 0, sizeof(got));
	/* data in the first block, zeros written in the second (allocated,
	 * left out), data at the end of the third; a hole; a last byte */
	memset(want.bytes + 10, 'a', 100);
	memset(want.bytes + 3 * 4096 - 5, 'b', 5);
	want.bytes[sizeof(want.bytes) - 1] = 'z';
	assert_int_equal(pwrite(fd, want.bytes, 3 * 4096, 0), 3 * 4096);
	assert_int_equal(pwrite(fd, want.bytes + sizeof(want.bytes) - 1, 1, sizeof(want.bytes) - 1),
			 1);
	struct sparse_source_info info;
	FILE *src = sparse_source_open(fd, "test", &info);
	assert_non_null(src);
	assert_int_equal(info.size, sizeof(want.bytes));
	/* blocks 0, 2 and 3 of 4: the block of zeros is not sent */
	assert_int_equal(info.data, 3 * 4096);
	static uint8_t stream[sizeof(want.bytes) + 1024];
	size_t len = fread(stream, 1, sizeof(stream), src);
	assert_int_equal(len, info.stream_len);
	assert_int_equal(fclose(src), 0);
	close(fd);
	struct sparse_parser p;
	char err[256] = "";
	sparse_init(&p);
	for (size_t at = 0; at < len; at += 7)
		assert_int_equal(sparse_feed(&p, stream + at, len - at < 7 ? len - at : 7, put_big,
					     &got, err, 256),
				 0);
	assert_int_equal(sparse_finish(&p, err, sizeof(err)), 0);
	assert_int_equal(p.size, sizeof(want.bytes));
	assert_int_equal(p.data_bytes, info.data);
	assert_memory_equal(got.bytes, want.bytes, sizeof(want.bytes));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_round_trip),
	    cmocka_unit_test(test_empty_files),
	    cmocka_unit_test(test_bad_headers),
	    cmocka_unit_test(test_bad_records),
	    cmocka_unit_test(test_truncated),
	    cmocka_unit_test(test_write_error_passed_on),
	    cmocka_unit_test(test_cli_source_round_trip),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
