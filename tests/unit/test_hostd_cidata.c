/* isoimage.c (the ISO 9660 writer) and cidata.c (the cloud-init seed made
 * with it): the bytes written are parsed back here (volume descriptors,
 * label, path tables, directory records, file contents), the limits are
 * checked, and when Debian's blkid and xorriso are on the build machine
 * (scripts/deps.sh) they read the image too. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/util.h"
#include "hostd/cidata.h"
#include "hostd/isoimage.h"
#include "rm_rf.h"

#define WHEN 1764806400 /* 2025-12-04 00:00:00 UTC */

static uint32_t le32_at(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static uint32_t be32_at(const uint8_t *p)
{
	return (uint32_t)p[3] | (uint32_t)p[2] << 8 | (uint32_t)p[1] << 16 | (uint32_t)p[0] << 24;
}

/* A both-byte-order field: the two halves must agree. */
static uint32_t both32_at(const uint8_t *p)
{
	assert_int_equal(le32_at(p), be32_at(p + 4));
	return le32_at(p);
}

static uint16_t both16_at(const uint8_t *p)
{
	assert_int_equal(p[0] | p[1] << 8, p[3] | p[2] << 8);
	return (uint16_t)(p[0] | p[1] << 8);
}

static const uint8_t *sector(const uint8_t *img, size_t len, uint32_t n)
{
	assert_true((size_t)(n + 1) * ISO_SECTOR <= len);
	return img + (size_t)n * ISO_SECTOR;
}

/* A volume descriptor's label (ASCII, or UCS-2BE for Joliet), spaces cut. */
static void label_of(const uint8_t *vd, int joliet, char out[33])
{
	size_t n = 0;
	for (size_t i = joliet; i < 32; i += joliet ? 2 : 1) {
		if (joliet)
			assert_int_equal(vd[40 + i - 1], 0);
		out[n++] = (char)vd[40 + i];
	}
	while (n && out[n - 1] == ' ')
		n--;
	out[n] = '\0';
}

struct record {
	uint32_t extent, size;
	int dir;
	char name[80]; /* the identifier as ASCII (Joliet's high bytes checked 0) */
};

/* The records of the directory at `extent` (one sector), parsed. */
static size_t read_dir(const uint8_t *img, size_t len, uint32_t extent, int joliet,
		       struct record *out, size_t max)
{
	const uint8_t *d = sector(img, len, extent);
	size_t n = 0, off = 0;
	while (off < ISO_SECTOR && d[off]) {
		const uint8_t *r = d + off;
		assert_true(n < max);
		assert_int_equal(r[0] % 2, 0);
		assert_true(r[0] >= 34 && r[0] >= 33 + r[32]);
		assert_true(off + r[0] <= ISO_SECTOR);
		struct record *x = &out[n++];
		x->extent = both32_at(r + 2);
		x->size = both32_at(r + 10);
		x->dir = (r[25] & 2) != 0;
		assert_int_equal(both16_at(r + 28), 1);
		size_t idlen = r[32], k = 0;
		if (n <= 2) { /* "." and ".." */
			assert_int_equal(idlen, 1);
			assert_int_equal(r[33], n - 1);
			x->name[k++] = n == 1 ? '.' : '^';
		} else {
			for (size_t i = joliet; i < idlen; i += joliet ? 2 : 1) {
				if (joliet)
					assert_int_equal(r[33 + i - 1], 0);
				x->name[k++] = (char)r[33 + i];
			}
		}
		x->name[k] = '\0';
		off += r[0];
	}
	return n;
}

struct parsed {
	char label[33], joliet_label[33];
	struct record primary[16], joliet[16];
	size_t nprimary, njoliet;
};

/* Checks the image's structure and fills p. */
static void parse(const uint8_t *img, size_t len, struct parsed *p)
{
	assert_int_equal(len % ISO_SECTOR, 0);
	for (size_t i = 0; i < 16 * ISO_SECTOR; i++)
		assert_int_equal(img[i], 0);
	const uint8_t *pvd = sector(img, len, 16), *svd = sector(img, len, 17),
		      *term = sector(img, len, 18);
	assert_int_equal(pvd[0], 1);
	assert_int_equal(svd[0], 2);
	assert_int_equal(term[0], 255);
	for (int j = 0; j < 2; j++) {
		const uint8_t *vd = j ? svd : pvd;
		assert_memory_equal(vd + 1, "CD001", 5);
		assert_int_equal(vd[6], 1);
		assert_int_equal(both32_at(vd + 80), len / ISO_SECTOR);
		assert_int_equal(both16_at(vd + 120), 1);
		assert_int_equal(both16_at(vd + 124), 1);
		assert_int_equal(both16_at(vd + 128), ISO_SECTOR);
		assert_int_equal(vd[881], 1);
		/* the root's record and the path tables agree on the root */
		const uint8_t *root = vd + 156;
		assert_int_equal(root[0], 34);
		assert_true(root[25] & 2);
		uint32_t at = both32_at(root + 2);
		assert_int_equal(both32_at(vd + 132), 10);
		const uint8_t *l = sector(img, len, le32_at(vd + 140)),
			      *m = sector(img, len, be32_at(vd + 148));
		assert_int_equal(l[0], 1);
		assert_int_equal(le32_at(l + 2), at);
		assert_int_equal(l[6] | l[7] << 8, 1);
		assert_int_equal(m[0], 1);
		assert_int_equal(be32_at(m + 2), at);
		assert_int_equal(m[7] | m[6] << 8, 1);
		/* creation date: 17 bytes of digits and an offset */
		assert_memory_equal(vd + 813, "2025120400000000", 16);
		struct record *r = j ? p->joliet : p->primary;
		size_t n = read_dir(img, len, at, j, r, 16);
		assert_true(n >= 2);
		assert_int_equal(r[0].extent, at);
		assert_int_equal(r[1].extent, at);
		assert_true(r[0].dir && r[1].dir);
		for (size_t i = 3; i < n; i++)
			assert_true(strcmp(r[i - 1].name, r[i].name) < 0); /* sorted */
		*(j ? &p->njoliet : &p->nprimary) = n;
	}
	assert_memory_equal(svd + 88, "%/E", 3);
	assert_memory_equal(term + 1, "CD001", 5);
	label_of(pvd, 0, p->label);
	label_of(svd, 1, p->joliet_label);
}

/* The contents of the file named `name` in a parsed tree. */
static void expect_file(const uint8_t *img, size_t len, const struct record *r, size_t n,
			const char *name, const char *want)
{
	for (size_t i = 2; i < n; i++) {
		if (strcmp(r[i].name, name) != 0)
			continue;
		assert_false(r[i].dir);
		assert_int_equal(r[i].size, strlen(want));
		if (r[i].size) {
			assert_true((size_t)r[i].extent * ISO_SECTOR + r[i].size <= len);
			assert_memory_equal(img + (size_t)r[i].extent * ISO_SECTOR, want,
					    r[i].size);
		}
		return;
	}
	fail_msg("%s: not in the directory", name);
}

static const char *USER = "#cloud-config\npassword: x\n\tchpasswd: { expire: False }\r\n";
static const char *NET = "version: 2\nethernets:\n  eth0:\n    dhcp4: true\n";

static void build_ok(const struct iso_file *f, size_t n, uint8_t **img, size_t *len)
{
	char err[256] = "";
	if (isoimage_build("cidata", f, n, WHEN, img, len, err, sizeof(err)) < 0)
		fail_msg("isoimage_build: %s", err);
}

static void test_image_parsed_back(void **state)
{
	(void)state;
	const char *meta = "instance-id: keel-1\nlocal-hostname: web1\n";
	const struct iso_file f[] = {{"user-data", USER, strlen(USER)},
				     {"network-config", NET, strlen(NET)},
				     {"meta-data", meta, strlen(meta)}};
	uint8_t *img;
	size_t len;
	build_ok(f, 3, &img, &len);
	assert_int_equal(len, (ISO_FIRST_DATA + 3 + ISO_PADDING) * ISO_SECTOR);
	struct parsed p;
	parse(img, len, &p);
	assert_string_equal(p.label, "cidata");
	assert_string_equal(p.joliet_label, "cidata");
	assert_int_equal(p.nprimary, 5);
	assert_int_equal(p.njoliet, 5);
	/* sorted by identifier; level 1 in the primary tree */
	assert_string_equal(p.primary[2].name, "META_DAT.;1");
	assert_string_equal(p.primary[3].name, "NETWORK_.;1");
	assert_string_equal(p.primary[4].name, "USER_DAT.;1");
	assert_string_equal(p.joliet[2].name, "meta-data;1");
	assert_string_equal(p.joliet[3].name, "network-config;1");
	assert_string_equal(p.joliet[4].name, "user-data;1");
	expect_file(img, len, p.joliet, p.njoliet, "user-data;1", USER);
	expect_file(img, len, p.joliet, p.njoliet, "meta-data;1", meta);
	expect_file(img, len, p.joliet, p.njoliet, "network-config;1", NET);
	expect_file(img, len, p.primary, p.nprimary, "USER_DAT.;1", USER);
	/* the same input, the same bytes */
	uint8_t *again;
	size_t len2;
	build_ok(f, 3, &again, &len2);
	assert_int_equal(len, len2);
	assert_memory_equal(img, again, len);
	free(again);
	free(img);
}

static void test_image_sizes(void **state)
{
	(void)state;
	/* no files; an empty file; files spanning sectors */
	uint8_t *img;
	size_t len;
	struct parsed p;
	build_ok(NULL, 0, &img, &len);
	assert_int_equal(len, (ISO_FIRST_DATA + ISO_PADDING) * ISO_SECTOR);
	parse(img, len, &p);
	assert_int_equal(p.nprimary, 2);
	free(img);

	char *big = malloc(ISO_FILE_MAX + 1);
	for (size_t i = 0; i < ISO_FILE_MAX; i++)
		big[i] = (char)('a' + i % 26);
	big[ISO_FILE_MAX] = '\0';
	char *small = strndup(big, 2049);
	const struct iso_file f[] = {
	    {"empty", "", 0}, {"a.b.txt", small, 2049}, {"big", big, ISO_FILE_MAX}};
	build_ok(f, 3, &img, &len);
	assert_int_equal(len, (ISO_FIRST_DATA + 2 + ISO_FILE_MAX / ISO_SECTOR + ISO_PADDING) *
				  ISO_SECTOR);
	parse(img, len, &p);
	assert_string_equal(p.primary[2].name, "A_B.TXT;1");
	assert_string_equal(p.primary[3].name, "BIG.;1");
	assert_string_equal(p.primary[4].name, "EMPTY.;1");
	expect_file(img, len, p.joliet, p.njoliet, "empty;1", "");
	expect_file(img, len, p.joliet, p.njoliet, "a.b.txt;1", small);
	expect_file(img, len, p.joliet, p.njoliet, "big;1", big);
	free(img);

	/* over the limit */
	char err[256] = "";
	const struct iso_file over[] = {{"big", big, ISO_FILE_MAX + 1}};
	assert_int_equal(isoimage_build("cidata", over, 1, WHEN, &img, &len, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "big: over"));
	free(small);
	free(big);
}

static void expect_refused(const char *label, const struct iso_file *f, size_t n, const char *want)
{
	char err[256] = "";
	uint8_t *img = NULL;
	size_t len = 0;
	assert_int_equal(isoimage_build(label, f, n, WHEN, &img, &len, err, sizeof(err)), -1);
	assert_null(img);
	if (!strstr(err, want))
		fail_msg("message \"%s\" lacks \"%s\"", err, want);
}

static void test_image_refused(void **state)
{
	(void)state;
	const struct iso_file one[] = {{"user-data", "x", 1}};
	expect_refused("", one, 1, "volume label");
	expect_refused("seventeen-chars-x", one, 1, "volume label");
	expect_refused("ci data", one, 1, "volume label");
	expect_refused("ci/data", one, 1, "volume label");
	const char *bad_names[] = {"",	  ".",	 "..",	"User-Data",
				   "a/b", "a b", "a;1", "abcdefghijklmnopqrstuvwxyz0123456"};
	for (size_t i = 0; i < ARRAY_SIZE(bad_names); i++) {
		const struct iso_file f[] = {{bad_names[i], "x", 1}};
		expect_refused("cidata", f, 1, "file name");
	}
	/* two names that are one in ISO level 1 */
	const struct iso_file same[] = {{"user-data", "x", 1}, {"user_data", "y", 1}};
	expect_refused("cidata", same, 2, "the same ISO 9660 name");
	struct iso_file many[ISO_MAX_FILES + 1];
	char names[ISO_MAX_FILES + 1][8];
	for (size_t i = 0; i < ARRAY_SIZE(many); i++) {
		snprintf(names[i], sizeof(names[i]), "f%zu", i);
		many[i] = (struct iso_file){names[i], "x", 1};
	}
	expect_refused("cidata", many, ARRAY_SIZE(many), "at most");
	/* the most files, with the longest names: one directory sector holds them */
	char longest[ISO_MAX_FILES][ISO_NAME_MAX + 1];
	for (size_t i = 0; i < ISO_MAX_FILES; i++) {
		memset(longest[i], 'a', ISO_NAME_MAX);
		longest[i][ISO_NAME_MAX] = '\0';
		snprintf(longest[i], 9, "%07zu", i);
		longest[i][7] = 'x';
		many[i] = (struct iso_file){longest[i], "x", 1};
	}
	uint8_t *img;
	size_t len;
	build_ok(many, ISO_MAX_FILES, &img, &len);
	struct parsed p;
	parse(img, len, &p);
	assert_int_equal(p.njoliet, ISO_MAX_FILES + 2);
	free(img);
}

/* --- the seed --------------------------------------------------------------- */

static void config(struct vm_config *c, const char *meta, const char *net)
{
	memset(c, 0, sizeof(*c));
	str_copy(c->name, sizeof(c->name), "web1");
	c->cloud_init.on = true;
	str_copy(c->cloud_init.user_data, sizeof(c->cloud_init.user_data), USER);
	str_copy(c->cloud_init.meta_data, sizeof(c->cloud_init.meta_data), meta);
	str_copy(c->cloud_init.network_config, sizeof(c->cloud_init.network_config), net);
}

static void expect_meta(const char *given, const char *want)
{
	static struct vm_config c;
	config(&c, given, "");
	char *m = cidata_meta_data(&c, 42);
	assert_non_null(m);
	assert_string_equal(m, want);
	free(m);
}

static void test_meta_data(void **state)
{
	(void)state;
	expect_meta("", "instance-id: keel-42\nlocal-hostname: web1\n");
	expect_meta("public-keys:\n  - ssh-ed25519 AAA",
		    "public-keys:\n  - ssh-ed25519 AAA\n"
		    "instance-id: keel-42\nlocal-hostname: web1\n");
	expect_meta("instance-id: mine\n", "instance-id: mine\nlocal-hostname: web1\n");
	expect_meta("local-hostname: db\ninstance-id: i-1",
		    "local-hostname: db\ninstance-id: i-1\n");
	/* only at the start of a line counts */
	expect_meta("x: instance-id: no\n",
		    "x: instance-id: no\ninstance-id: keel-42\nlocal-hostname: web1\n");
}

/* Runs a shell command; its first line of output, or "" */
static void run(const char *cmd, char *out, size_t n)
{
	*out = '\0';
	FILE *p = popen(cmd, "r");
	assert_non_null(p);
	if (!fgets(out, (int)n, p))
		*out = '\0';
	pclose(p);
	out[strcspn(out, "\n")] = '\0';
}

static void test_seed(void **state)
{
	(void)state;
	static struct vm_config c;
	config(&c, "", NET);
	uint8_t *img;
	size_t len;
	char err[256] = "";
	if (cidata_image(&c, 7, WHEN, &img, &len, err, sizeof(err)) < 0)
		fail_msg("cidata_image: %s", err);
	struct parsed p;
	parse(img, len, &p);
	assert_string_equal(p.label, CIDATA_LABEL);
	assert_int_equal(p.njoliet, 5);
	expect_file(img, len, p.joliet, p.njoliet, "user-data;1", USER);
	expect_file(img, len, p.joliet, p.njoliet, "meta-data;1",
		    "instance-id: keel-7\nlocal-hostname: web1\n");
	expect_file(img, len, p.joliet, p.njoliet, "network-config;1", NET);

	/* Debian's tools read it the same (when the build machine has them) */
	if (access("/usr/bin/xorriso", X_OK) == 0 && access("/usr/sbin/blkid", X_OK) == 0) {
		char dir[] = "/tmp/keel-cidata-XXXXXX", path[128], cmd[512], line[256];
		assert_non_null(mkdtemp(dir));
		snprintf(path, sizeof(path), "%s/seed.iso", dir);
		assert_int_equal(write_file(path, img, len, 0600), 0);
		snprintf(cmd, sizeof(cmd), "/usr/sbin/blkid -p -o value -s LABEL %s", path);
		run(cmd, line, sizeof(line));
		assert_string_equal(line, "cidata");
		snprintf(cmd, sizeof(cmd), "/usr/sbin/blkid -p -o value -s TYPE %s", path);
		run(cmd, line, sizeof(line));
		assert_string_equal(line, "iso9660");
		snprintf(cmd, sizeof(cmd),
			 "/usr/bin/xorriso -osirrox on -indev %s -extract / %s/x >/dev/null 2>&1 "
			 "&& echo ok",
			 path, dir);
		run(cmd, line, sizeof(line));
		assert_string_equal(line, "ok");
		const char *names[] = {"user-data", "meta-data", "network-config"};
		const char *want[] = {USER, "instance-id: keel-7\nlocal-hostname: web1\n", NET};
		for (size_t i = 0; i < 3; i++) {
			snprintf(path, sizeof(path), "%s/x/%s", dir, names[i]);
			size_t n;
			char *got = read_file(path, 65536, &n);
			if (!got)
				fail_msg("xorriso did not extract %s", names[i]);
			assert_string_equal(got, want[i]);
			free(got);
		}
		rm_rf(dir);
	} else {
		print_message("(xorriso or blkid missing: the image is not read by them)\n");
	}
	free(img);

	/* no network-config: two files */
	config(&c, "", "");
	assert_int_equal(cidata_image(&c, 7, WHEN, &img, &len, err, sizeof(err)), 0);
	parse(img, len, &p);
	assert_int_equal(p.njoliet, 4);
	free(img);

	/* the largest texts the VM specification allows fit */
	memset(c.cloud_init.user_data, 'u', VM_USER_DATA_MAX);
	memset(c.cloud_init.meta_data, 'm', VM_META_DATA_MAX);
	memset(c.cloud_init.network_config, 'n', VM_NETWORK_CONFIG_MAX);
	assert_int_equal(cidata_image(&c, INT64_MAX, WHEN, &img, &len, err, sizeof(err)), 0);
	parse(img, len, &p);
	print_message("largest seed: %zu bytes\n", len);
	free(img);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_image_parsed_back),
	    cmocka_unit_test(test_image_sizes),
	    cmocka_unit_test(test_image_refused),
	    cmocka_unit_test(test_meta_data),
	    cmocka_unit_test(test_seed),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
