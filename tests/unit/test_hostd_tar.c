/* common/ustar.c: ustar headers (names, prefixes, sizes, checksums)
 * checked field by field, and tar.c's gzip stream read back with zlib. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "hostd/tar.h"

static unsigned long long field(const unsigned char *h, size_t off, size_t len)
{
	char buf[16] = "";
	memcpy(buf, h + off, len);
	return strtoull(buf, NULL, 8);
}

/* the checksum as a reader computes it */
static unsigned sum_of(const unsigned char *h)
{
	unsigned s = 0;
	for (int i = 0; i < TAR_BLOCK; i++)
		s += i >= 148 && i < 156 ? ' ' : h[i];
	return s;
}

static void test_short_name(void **state)
{
	(void)state;
	unsigned char h[TAR_BLOCK];
	assert_int_equal(tar_header(h, "top/logs/hostd.log", 12345, 1796300000, 0644), 0);
	assert_string_equal((char *)h, "top/logs/hostd.log");
	assert_int_equal(h[345], 0); /* no prefix */
	assert_int_equal(field(h, 124, 12), 12345);
	assert_int_equal(field(h, 136, 12), 1796300000);
	assert_int_equal(field(h, 100, 8), 0644);
	assert_int_equal(h[156], '0');
	assert_memory_equal(h + 257,
			    "ustar\0"
			    "00",
			    8);
	assert_int_equal(field(h, 148, 7), sum_of(h));
	assert_int_equal(h[155], ' ');
}

static void test_long_names(void **state)
{
	(void)state;
	unsigned char h[TAR_BLOCK];
	char name[300];
	/* 100 bytes exactly: the name field, without a NUL */
	memset(name, 'a', 100);
	name[100] = '\0';
	assert_int_equal(tar_header(h, name, 0, 0, 0644), 0);
	assert_memory_equal(h, name, 100);
	assert_int_equal(h[345], 0);
	/* longer: cut at a '/' into prefix and name */
	snprintf(name, sizeof(name), "keel-support-host-20261203T000000Z/vms/%s/console.log",
		 "v123456789012345678901234567890123456789012345678901234567890");
	assert_true(strlen(name) > 100);
	assert_int_equal(tar_header(h, name, 5, 0, 0644), 0);
	char joined[300];
	snprintf(joined, sizeof(joined), "%.155s/%.100s", (char *)h + 345, (char *)h);
	assert_string_equal(joined, name);
	assert_true(strlen((char *)h) <= 100);
	assert_int_equal(field(h, 148, 7), sum_of(h));
	/* a last part over 100 bytes, or no '/' to cut at: refused */
	memset(name, 'b', 150);
	name[150] = '\0';
	assert_int_equal(tar_header(h, name, 0, 0, 0644), -ENAMETOOLONG);
	snprintf(name, sizeof(name), "dir/%0150d", 0);
	assert_int_equal(tar_header(h, name, 0, 0, 0644), -ENAMETOOLONG);
	/* a prefix over 155 bytes */
	memset(name, 'c', 200);
	strcpy(name + 200, "/x");
	assert_int_equal(tar_header(h, name, 0, 0, 0644), -ENAMETOOLONG);
	memset(name, 'd', 256);
	name[256] = '\0';
	assert_int_equal(tar_header(h, name, 0, 0, 0644), -ENAMETOOLONG);
	assert_int_equal(tar_header(h, "", 0, 0, 0644), -EINVAL);
}

static void test_sizes(void **state)
{
	(void)state;
	unsigned char h[TAR_BLOCK];
	uint64_t octal_max = (1ULL << 33) - 1; /* 11 octal digits */
	assert_int_equal(tar_header(h, "f", octal_max, 0, 0644), 0);
	assert_int_equal(field(h, 124, 12), octal_max);
	uint64_t big = 1ULL << 33;
	assert_int_equal(tar_header(h, "f", big, 0, 0644), 0);
	assert_int_equal(h[124], 0x80); /* base-256 */
	uint64_t v = 0;
	for (int i = 128; i < 136; i++)
		v = v << 8 | h[i];
	assert_int_equal(v, big);
	assert_int_equal(field(h, 148, 7), sum_of(h));
	assert_int_equal(tar_padding(0), 0);
	assert_int_equal(tar_padding(1), 511);
	assert_int_equal(tar_padding(512), 0);
	assert_int_equal(tar_padding(513), 511);
}

static void test_gzip_round_trip(void **state)
{
	(void)state;
	struct gz g;
	assert_int_equal(gz_init(&g), 0);
	size_t in_len = 300000, out_cap = 400000, out_len = 0;
	unsigned char *in = malloc(in_len), *out = malloc(out_cap), *back = malloc(in_len);
	for (size_t i = 0; i < in_len; i++)
		in[i] = (unsigned char)((i * 7919) % 251);
	/* in small pieces, into a small window each time */
	size_t done = 0;
	while (!g.finished) {
		size_t n = in_len - done < 1000 ? in_len - done : 1000, used = 0;
		size_t room = out_cap - out_len < 700 ? out_cap - out_len : 700;
		long w = gz_step(&g, in + done, n, &used, out + out_len, room, done + n == in_len);
		assert_true(w >= 0);
		done += used;
		out_len += (size_t)w;
		assert_true(out_len < out_cap);
	}
	gz_end(&g);
	assert_int_equal(done, in_len);
	assert_int_equal(out[0], 0x1f); /* gzip's magic */
	assert_int_equal(out[1], 0x8b);
	z_stream z = {0};
	assert_int_equal(inflateInit2(&z, 15 + 16), Z_OK);
	z.next_in = out;
	z.avail_in = (uInt)out_len;
	z.next_out = back;
	z.avail_out = (uInt)in_len;
	assert_int_equal(inflate(&z, Z_FINISH), Z_STREAM_END);
	assert_int_equal(z.total_out, in_len);
	inflateEnd(&z);
	assert_memory_equal(in, back, in_len);
	free(in);
	free(out);
	free(back);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_short_name),
	    cmocka_unit_test(test_long_names),
	    cmocka_unit_test(test_sizes),
	    cmocka_unit_test(test_gzip_round_trip),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
