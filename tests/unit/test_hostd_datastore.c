#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "rm_rf.h"

#include <errno.h>
#include <dirent.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/stat.h>
#include <sys/types.h>

#include "common/util.h"
#include "hostd/datastore.h"

#define MIB (1024 * 1024)

/* Each test gets a fresh datastore "local" in a temporary folder, and a
 * second folder outside it that symlinks point to. */
struct fixture {
	char root[64];
	char outside[64];
	struct datastore ds;
	char err[512];
};

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof *f);
	if (!f)
		return -1;
	umask(022);
	strcpy(f->root, "/tmp/keel-ds-XXXXXX");
	strcpy(f->outside, "/tmp/keel-out-XXXXXX");
	if (!mkdtemp(f->root) || !mkdtemp(f->outside))
		return -1;
	if (ds_open(&f->ds, "local", f->root, f->err, sizeof f->err) != 0)
		return -1;
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;
	ds_close(&f->ds);
	rm_rf(f->root);
	rm_rf(f->outside);
	free(f);
	return 0;
}

/* --- helpers on the host side -------------------------------------------- */

static void host(const struct fixture *f, const char *rel, char *out, size_t n)
{
	int r = snprintf(out, n, "%s/%s", f->root, rel);
	assert_true(r > 0 && (size_t)r < n);
}

static void put(const struct fixture *f, const char *rel, const void *data, size_t len)
{
	char p[512];
	host(f, rel, p, sizeof p);
	assert_int_equal(write_file(p, data, len, 0644), 0);
}

static void put_dir(const struct fixture *f, const char *rel)
{
	char p[512];
	host(f, rel, p, sizeof p);
	assert_int_equal(mkdir(p, 0755), 0);
}

static void put_link(const struct fixture *f, const char *rel, const char *target)
{
	char p[512];
	host(f, rel, p, sizeof p);
	assert_int_equal(symlink(target, p), 0);
}

/* The whole content of a file (malloc'ed), or NULL. */
static char *slurp(const struct fixture *f, const char *rel, size_t *len)
{
	char p[512];
	host(f, rel, p, sizeof p);
	return read_file(p, 64 * MIB, len);
}

static void assert_content(const struct fixture *f, const char *rel, const char *want)
{
	size_t len = 0;
	char *got = slurp(f, rel, &len);
	assert_non_null(got);
	assert_int_equal(len, strlen(want));
	assert_memory_equal(got, want, len);
	free(got);
}

static int host_lstat(const struct fixture *f, const char *rel, struct stat *st)
{
	char p[512];
	host(f, rel, p, sizeof p);
	return lstat(p, st);
}

static int name_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Every name in a host folder, hidden ones included, sorted, joined by ','. */
static const char *names_in(const char *dir)
{
	static char out[8192];
	char *v[512];
	size_t n = 0;
	DIR *d = opendir(dir);
	assert_non_null(d);
	struct dirent *de;
	while ((de = readdir(d)) != NULL) {
		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		assert_true(n < 512);
		v[n++] = strdup(de->d_name);
	}
	closedir(d);
	qsort(v, n, sizeof v[0], name_cmp);
	out[0] = '\0';
	for (size_t i = 0; i < n; i++) {
		if (i)
			strcat(out, ",");
		assert_true(strlen(out) + strlen(v[i]) + 2 < sizeof out);
		strcat(out, v[i]);
		free(v[i]);
	}
	return out;
}

static const char *names(const struct fixture *f, const char *rel)
{
	char p[512];
	host(f, rel, p, sizeof p);
	return names_in(p);
}

/* Fails if a ".keel-tmp-" file is left anywhere under the root. */
static int tmp_found;
static int find_tmp(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	if (!strncmp(path + ftw->base, ".keel-tmp-", 10))
		tmp_found++;
	return 0;
}

static void assert_no_tmp(const struct fixture *f)
{
	tmp_found = 0;
	nftw(f->root, find_tmp, 16, FTW_PHYS);
	assert_int_equal(tmp_found, 0);
}

/* the temporaries the sweep must remove are gone (the kept look-alikes are
 * checked by name) */
static void assert_no_tmp_files(const struct fixture *f)
{
	const char *gone[] = {".keel-tmp-0123456789abcdef", "a/b/.keel-tmp-0123456789abcdef",
			      "a/.keel-tmp-fedcba9876543210.replace"};
	char p[512];
	struct stat st;
	for (size_t i = 0; i < sizeof gone / sizeof gone[0]; i++) {
		host(f, gone[i], p, sizeof p);
		assert_int_equal(lstat(p, &st), -1);
	}
	/* the interrupted uploads' temporaries: vm1 and the root hold no
	 * regular file with a temporary name but the look-alikes */
	const char *dirs[] = {"", "vm1"};
	for (size_t i = 0; i < 2; i++) {
		host(f, dirs[i], p, sizeof p);
		DIR *d = opendir(p);
		assert_non_null(d);
		struct dirent *de;
		char left[300] = "";
		while ((de = readdir(d))) {
			const char *n = de->d_name;
			size_t hex =
			    strncmp(n, ".keel-tmp-", 10) ? 0 : strspn(n + 10, "0123456789abcdef");
			if (hex == 16 && (!n[26] || !strcmp(n + 26, ".replace")) &&
			    strcmp(n, ".keel-tmp-1111111111111111") != 0 &&
			    strcmp(n, ".keel-tmp-2222222222222222") != 0)
				snprintf(left, sizeof left, "%s/%s", dirs[i], n);
		}
		closedir(d);
		if (left[0])
			fail_msg("%s left", left);
	}
}

static void fill_pattern(char *buf, size_t len, unsigned seed)
{
	uint32_t x = seed * 2654435761u + 1;
	for (size_t i = 0; i < len; i++) {
		x ^= x << 13;
		x ^= x >> 17;
		x ^= x << 5;
		buf[i] = (char)(x >> 24);
	}
}

/* --- ds_path_check ------------------------------------------------------- */

static void test_path_check_accepts(void **state)
{
	(void)state;
	char err[256];
	const char *ok[] = {
	    "a",	   "disk.img",	"vm1/disk0.img", "a/b/c/d/e.img",
	    "a b/c d.img", "été/ü.img", "a..b",		 "a.",
	    "x/y.",	   "-x",	"a~b/c=d",	 "UPPER/lower_1-2",
	    "日本/語",
	};
	for (size_t i = 0; i < ARRAY_SIZE(ok); i++) {
		err[0] = '\0';
		if (ds_path_check(ok[i], 0, err, sizeof err) != 0)
			fail_msg("refused \"%s\": %s", ok[i], err);
	}
	assert_int_equal(ds_path_check("", 1, err, sizeof err), 0);

	/* a name of exactly 255 bytes, a path of exactly 1024 bytes */
	char name[DS_NAME_MAX + 1];
	memset(name, 'n', DS_NAME_MAX);
	name[DS_NAME_MAX] = '\0';
	assert_int_equal(ds_path_check(name, 0, err, sizeof err), 0);
	char path[DS_PATH_MAX + 1];
	for (size_t i = 0; i < DS_PATH_MAX; i += 2) {
		path[i] = 'p';
		path[i + 1] = '/';
	}
	path[DS_PATH_MAX - 1] = 'q';
	path[DS_PATH_MAX] = '\0';
	assert_int_equal(strlen(path), DS_PATH_MAX);
	assert_int_equal(ds_path_check(path, 0, err, sizeof err), 0);
}

static void test_path_check_refuses(void **state)
{
	(void)state;
	static const struct {
		const char *path;
		int allow_root;
		const char *why; /* part of the message */
	} bad[] = {
	    {"", 0, "empty path"},
	    {"/", 0, "absolute"},
	    {"/", 1, "absolute"},
	    {"/a", 0, "absolute"},
	    {"/etc/passwd", 1, "absolute"},
	    {"//a", 0, "absolute"},
	    {"..", 0, "\"..\""},
	    {"..", 1, "\"..\""},
	    {"../x", 0, "\"..\""},
	    {"a/..", 0, "\"..\""},
	    {"a/../b", 0, "\"..\""},
	    {"a/../../etc/passwd", 0, "\"..\""},
	    {".", 0, "\".\""},
	    {".", 1, "\".\""},
	    {"./a", 0, "\".\""},
	    {"a/.", 0, "\".\""},
	    {"a/./b", 0, "\".\""},
	    {"a//b", 0, "empty"},
	    {"a///b", 0, "empty"},
	    {"a/", 0, "trailing"},
	    {"a/b/", 0, "trailing"},
	    {".hidden", 0, "starting with '.'"},
	    {"a/.hidden", 0, "starting with '.'"},
	    {"a/.keel-tmp-0123456789abcdef", 0, "starting with '.'"},
	    {"...", 0, "starting with '.'"},
	    {"a\x01"
	     "b",
	     0, "control"},
	    {"a\nb", 0, "control"},
	    {"a\rb", 0, "control"},
	    {"a\tb", 0, "control"},
	    {"\x1b[31mred", 0, "control"},
	    {"a\x7f", 0, "control"},
	    {"dir\x1f/x", 0, "control"},
	    {"a\\b", 0, "backslash"},
	    {"..\\..\\x", 0, "starting with '.'"},
	    {"x\\..\\y", 0, "backslash"},
	    {"\\", 0, "backslash"},
	    {"C:\\x", 0, "backslash"},
	    {"a\xff", 0, "UTF-8"},
	    {"\xc0\xaf", 0, "UTF-8"},		      /* overlong '/' */
	    {"\xe0\x80\xae\xe0\x80\xae", 0, "UTF-8"}, /* overlong ".." */
	    {"\xed\xa0\x80", 0, "UTF-8"},	      /* a surrogate */
	    {"\xf4\x90\x80\x80", 0, "UTF-8"},	      /* above U+10FFFF */
	    {"a\xc3", 0, "UTF-8"},		      /* cut short */
	    {"\xc3/x", 0, "UTF-8"},
	};
	char err[256];
	for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
		err[0] = '\0';
		int r = ds_path_check(bad[i].path, bad[i].allow_root, err, sizeof err);
		if (r != -EINVAL)
			fail_msg("path #%zu: %d instead of -EINVAL", i, r);
		if (!strstr(err, bad[i].why))
			fail_msg("path #%zu: \"%s\" does not say \"%s\"", i, err, bad[i].why);
		/* the message never carries a control character or stray byte */
		for (const unsigned char *p = (const unsigned char *)err; *p; p++)
			if (*p < 0x20 || *p == 0x7f)
				fail_msg("path #%zu: control character in \"%s\"", i, err);
	}

	/* the message names the path, made printable */
	assert_int_equal(ds_path_check("a//b", 0, err, sizeof err), -EINVAL);
	assert_string_equal(err, "a//b: empty folder name (\"//\")");
	assert_int_equal(ds_path_check("a\nb/c", 0, err, sizeof err), -EINVAL);
	assert_string_equal(err, "a?b/c: control characters are not allowed");
	assert_int_equal(ds_path_check("x\xff", 0, err, sizeof err), -EINVAL);
	assert_string_equal(err, "x?: not valid UTF-8");
	assert_int_equal(ds_path_check("", 0, err, sizeof err), -EINVAL);
	assert_string_equal(err, "\"\": empty path");
	assert_int_equal(ds_path_check(NULL, 1, err, sizeof err), -EINVAL);

	/* no room for a message is fine */
	assert_int_equal(ds_path_check("..", 0, NULL, 0), -EINVAL);
	char tiny[6];
	assert_int_equal(ds_path_check("abc/../d", 0, tiny, sizeof tiny), -EINVAL);
	assert_string_equal(tiny, "abc/.");
}

static void test_path_check_lengths(void **state)
{
	(void)state;
	char err[512];
	/* a name of 256 bytes, alone or inside a path */
	char name[DS_NAME_MAX + 2];
	memset(name, 'n', DS_NAME_MAX + 1);
	name[DS_NAME_MAX + 1] = '\0';
	assert_int_equal(ds_path_check(name, 0, err, sizeof err), -ENAMETOOLONG);
	assert_non_null(strstr(err, "longer than 255"));
	char path[600];
	snprintf(path, sizeof path, "vm1/%s/disk.img", name);
	assert_int_equal(ds_path_check(path, 0, err, sizeof err), -ENAMETOOLONG);

	/* a path of 1025 bytes, made of short names */
	char longp[DS_PATH_MAX + 2];
	for (size_t i = 0; i < DS_PATH_MAX + 1; i++)
		longp[i] = i % 2 ? '/' : 'p';
	longp[DS_PATH_MAX] = 'q';
	longp[DS_PATH_MAX + 1] = '\0';
	assert_int_equal(ds_path_check(longp, 0, err, sizeof err), -ENAMETOOLONG);
	assert_non_null(strstr(err, "longer than 1024"));
	/* the message is cut, not overflowing, and still says why */
	assert_true(strlen(err) < sizeof err);
	assert_non_null(strstr(err, "...: path longer"));

	/* a very long path full of trouble: checked without reading past it */
	char huge[8192];
	memset(huge, '.', sizeof huge - 1);
	huge[sizeof huge - 1] = '\0';
	assert_int_equal(ds_path_check(huge, 0, err, sizeof err), -ENAMETOOLONG);
}

/* --- ds_open, ds_space --------------------------------------------------- */

static void test_open(void **state)
{
	struct fixture *f = *state;
	struct datastore ds;
	char err[256];
	assert_int_equal(ds_open(&ds, "x", "relative/dir", err, sizeof err), -EINVAL);
	assert_int_equal(ds.fd, -1);
	assert_int_equal(ds_open(&ds, "x", "/nonexistent/keel", err, sizeof err), -ENOENT);
	assert_int_equal(ds.fd, -1);
	assert_string_equal(err, "x: cannot open /nonexistent/keel: no such file or folder");
	assert_int_equal(ds_open(&ds, "", f->root, err, sizeof err), -EINVAL);
	char longname[100];
	memset(longname, 'x', sizeof longname - 1);
	longname[sizeof longname - 1] = '\0';
	assert_int_equal(ds_open(&ds, longname, f->root, err, sizeof err), -EINVAL);

	put(f, "file", "x", 1);
	char p[512];
	host(f, "file", p, sizeof p);
	assert_int_equal(ds_open(&ds, "x", p, err, sizeof err), -ENOTDIR);

	assert_int_equal(ds_open(&ds, "second", f->root, err, sizeof err), 0);
	assert_true(ds.fd >= 0);
	assert_string_equal(ds.name, "second");
	assert_string_equal(ds.root, f->root);
	assert_true(fcntl(ds.fd, F_GETFD) & FD_CLOEXEC);
	ds_close(&ds);
	assert_int_equal(ds.fd, -1);
	ds_close(&ds); /* twice is harmless */

	/* a closed datastore refuses everything without crashing */
	struct ds_entry e;
	assert_true(ds_stat(&ds, "file", &e, err, sizeof err) < 0);
	assert_true(ds_mkdisk(&ds, "d.img", 512, err, sizeof err) < 0);
}

static void test_space(void **state)
{
	struct fixture *f = *state;
	uint64_t cap = 0, fr = UINT64_MAX;
	assert_int_equal(ds_space(&f->ds, &cap, &fr), 0);
	assert_true(cap > 0);
	assert_true(fr <= cap);
	assert_int_equal(ds_space(&f->ds, NULL, NULL), 0);
	struct datastore closed = {.fd = -1};
	assert_int_equal(ds_space(&closed, &cap, &fr), -EBADF);
}

/* --- folders ------------------------------------------------------------- */

static void test_mkdir(void **state)
{
	struct fixture *f = *state;
	struct datastore *ds = &f->ds;
	char *err = f->err;
	size_t el = sizeof f->err;
	struct ds_entry e;

	assert_int_equal(ds_mkdir(ds, "vm1", err, el), 0);
	assert_int_equal(ds_stat(ds, "vm1", &e, err, el), 0);
	assert_true(e.is_dir);
	struct stat st;
	assert_int_equal(host_lstat(f, "vm1", &st), 0);
	assert_int_equal(st.st_mode & 07777, 0755);

	assert_int_equal(ds_mkdir(ds, "vm1", err, el), -EEXIST);
	assert_string_equal(err, "local/vm1: already exists");
	assert_int_equal(ds_mkdir(ds, "vm1/sub", err, el), 0);
	assert_int_equal(ds_mkdir(ds, "nope/x", err, el), -ENOENT);
	assert_string_equal(err, "local/nope: no such file or folder");
	put(f, "file", "x", 1);
	assert_int_equal(ds_mkdir(ds, "file", err, el), -EEXIST);
	assert_int_equal(ds_mkdir(ds, "file/x", err, el), -ENOTDIR);
	assert_string_equal(err, "local/file: not a folder");
	assert_int_equal(ds_mkdir(ds, "", err, el), -EINVAL);
	assert_int_equal(ds_mkdir(ds, "vm1/../x", err, el), -EINVAL);
	assert_int_equal(ds_mkdir(ds, ".x", err, el), -EINVAL);
	assert_string_equal(names(f, ""), "file,vm1");
	assert_string_equal(names(f, "vm1"), "sub");
}

static void test_mkparents(void **state)
{
	struct fixture *f = *state;
	struct datastore *ds = &f->ds;
	char *err = f->err;
	size_t el = sizeof f->err;

	assert_int_equal(ds_mkparents(ds, "a/b/c.img", err, el), 0);
	assert_string_equal(names(f, ""), "a");
	assert_string_equal(names(f, "a"), "b");
	assert_string_equal(names(f, "a/b"), ""); /* c.img itself is not made */
	assert_int_equal(ds_mkparents(ds, "a/b/c.img", err, el), 0);
	assert_int_equal(ds_mkparents(ds, "a/x/y/z.img", err, el), 0);
	assert_string_equal(names(f, "a"), "b,x");
	assert_string_equal(names(f, "a/x"), "y");
	assert_int_equal(ds_mkparents(ds, "single.img", err, el), 0);
	assert_string_equal(names(f, ""), "a");

	/* a file in the way: refused, named, and nothing made below it */
	put(f, "a/file", "x", 1);
	assert_int_equal(ds_mkparents(ds, "a/file/x/y.img", err, el), -ENOTDIR);
	assert_string_equal(err, "local/a/file: not a folder");
	assert_content(f, "a/file", "x");
	assert_int_equal(ds_mkparents(ds, "a/../b/c", err, el), -EINVAL);
	assert_int_equal(ds_mkparents(ds, "", err, el), -EINVAL);
	assert_int_equal(ds_mkparents(ds, "a/b/", err, el), -EINVAL);
}

/* --- stat, list ---------------------------------------------------------- */

static void test_stat(void **state)
{
	struct fixture *f = *state;
	struct datastore *ds = &f->ds;
	char *err = f->err;
	size_t el = sizeof f->err;
	struct ds_entry e;
	char data[5000];
	fill_pattern(data, sizeof data, 1);
	put_dir(f, "vm1");
	put(f, "vm1/disk.img", data, sizeof data);

	assert_int_equal(ds_stat(ds, "vm1/disk.img", &e, err, el), 0);
	assert_string_equal(e.name, "disk.img");
	assert_false(e.is_dir);
	assert_int_equal(e.size, 5000);
	assert_true(e.alloc >= 5000);
	assert_true(e.alloc % 512 == 0);
	time_t now = time(NULL);
	assert_true(e.mtime <= (int64_t)now + 5 && e.mtime >= (int64_t)now - 600);

	assert_int_equal(ds_stat(ds, "vm1", &e, err, el), 0);
	assert_string_equal(e.name, "vm1");
	assert_true(e.is_dir);
	assert_int_equal(ds_stat(ds, "", &e, err, el), 0);
	assert_string_equal(e.name, "");
	assert_true(e.is_dir);

	assert_int_equal(ds_stat(ds, "vm1/missing.img", &e, err, el), -ENOENT);
	assert_string_equal(err, "local/vm1/missing.img: no such file or folder");
	assert_int_equal(ds_stat(ds, "nope/disk.img", &e, err, el), -ENOENT);
	assert_string_equal(err, "local/nope: no such file or folder");
	assert_int_equal(ds_stat(ds, "vm1/disk.img/x", &e, err, el), -ENOTDIR);
	assert_int_equal(ds_stat(ds, "../etc", &e, err, el), -EINVAL);
	assert_string_equal(err, "local/../etc: \"..\" is not allowed");
	assert_int_equal(ds_stat(ds,
				 "a\x1b"
				 "b",
				 &e, err, el),
			 -EINVAL);
	assert_string_equal(err, "local/a?b: control characters are not allowed");

	char p[512];
	host(f, "fifo", p, sizeof p);
	assert_int_equal(mkfifo(p, 0600), 0);
	assert_int_equal(ds_stat(ds, "fifo", &e, err, el), -EINVAL);
	assert_string_equal(err, "local/fifo: not a regular file or folder");
}

static void test_list(void **state)
{
	struct fixture *f = *state;
	struct datastore *ds = &f->ds;
	char *err = f->err;
	size_t el = sizeof f->err;
	struct ds_entry *v = NULL;
	size_t n = 99;

	put(f, "b.img", "abc", 3);
	put_dir(f, "a");
	put(f, "c.txt", "", 0);
	put(f, "B-upper", "1", 1);
	put(f, ".hidden", "h", 1);
	put(f, ".keel-tmp-0000", "t", 1);
	put_dir(f, ".hiddendir");
	put_link(f, "lnk", "b.img");
	put_link(f, "lnkdir", "a");
	put(f, "back\\slash", "x", 1);
	put(f, "new\nline", "x", 1);
	put(f, "bad\xff", "x", 1);
	char p[512];
	host(f, "fifo", p, sizeof p);
	assert_int_equal(mkfifo(p, 0600), 0);

	assert_int_equal(ds_list(ds, "", &v, &n, err, el), 0);
	assert_int_equal(n, 4);
	assert_string_equal(v[0].name, "B-upper");
	assert_string_equal(v[1].name, "a");
	assert_true(v[1].is_dir);
	assert_string_equal(v[2].name, "b.img");
	assert_false(v[2].is_dir);
	assert_int_equal(v[2].size, 3);
	assert_string_equal(v[3].name, "c.txt");
	assert_int_equal(v[3].size, 0);
	free(v);

	/* an empty folder: no entries, but something to free */
	v = NULL;
	assert_int_equal(ds_list(ds, "a", &v, &n, err, el), 0);
	assert_int_equal(n, 0);
	assert_non_null(v);
	free(v);

	assert_int_equal(ds_list(ds, "b.img", &v, &n, err, el), -ENOTDIR);
	assert_null(v);
	assert_int_equal(n, 0);
	assert_string_equal(err, "local/b.img: not a folder");
	assert_int_equal(ds_list(ds, "nope", &v, &n, err, el), -ENOENT);
	assert_string_equal(err, "local/nope: no such file or folder");
	assert_int_equal(ds_list(ds, "lnkdir", &v, &n, err, el), -ELOOP);
	assert_int_equal(ds_list(ds, "a/", &v, &n, err, el), -EINVAL);
	assert_int_equal(ds_list(ds, ".hiddendir", &v, &n, err, el), -EINVAL);

	/* many entries, made in reverse order, come back sorted with sizes */
	put_dir(f, "many");
	for (int i = 99; i >= 0; i--) {
		char rel[64], data[128] = {0};
		snprintf(rel, sizeof rel, "many/f%03d", i);
		put(f, rel, data, (size_t)i);
	}
	assert_int_equal(ds_list(ds, "many", &v, &n, err, el), 0);
	assert_int_equal(n, 100);
	for (size_t i = 0; i < n; i++) {
		char want[32];
		snprintf(want, sizeof want, "f%03zu", i);
		assert_string_equal(v[i].name, want);
		assert_int_equal(v[i].size, i);
	}
	free(v);
}

/* --- remove -------------------------------------------------------------- */

static void test_remove(void **state)
{
	struct fixture *f = *state;
	struct datastore *ds = &f->ds;
	char *err = f->err;
	size_t el = sizeof f->err;

	put(f, "f.img", "x", 1);
	put_dir(f, "empty");
	put_dir(f, "full");
	put(f, "full/keep", "keep", 4);
	put_dir(f, "full/sub");

	assert_int_equal(ds_remove(ds, "f.img", err, el), 0);
	assert_int_equal(ds_remove(ds, "empty", err, el), 0);
	assert_string_equal(names(f, ""), "full");
	assert_int_equal(ds_remove(ds, "full", err, el), -ENOTEMPTY);
	assert_string_equal(err, "local/full: the folder is not empty");
	assert_content(f, "full/keep", "keep");
	assert_int_equal(ds_remove(ds, "f.img", err, el), -ENOENT);
	assert_string_equal(err, "local/f.img: no such file or folder");
	assert_int_equal(ds_remove(ds, "full/keep/x", err, el), -ENOTDIR);
	assert_int_equal(ds_remove(ds, "", err, el), -EINVAL);
	assert_int_equal(ds_remove(ds, "full/..", err, el), -EINVAL);
	assert_int_equal(ds_remove(ds, "full/sub/", err, el), -EINVAL);
	assert_int_equal(ds_remove(ds, "full/sub", err, el), 0);
	assert_int_equal(ds_remove(ds, "full/keep", err, el), 0);
	assert_int_equal(ds_remove(ds, "full", err, el), 0);
	assert_string_equal(names(f, ""), "");

	char p[512];
	host(f, "fifo", p, sizeof p);
	assert_int_equal(mkfifo(p, 0600), 0);
	assert_int_equal(ds_remove(ds, "fifo", err, el), -EINVAL);
	assert_string_equal(names(f, ""), "fifo");
}

/* --- disks --------------------------------------------------------------- */

static void test_mkdisk(void **state)
{
	struct fixture *f = *state;
	struct datastore *ds = &f->ds;
	char *err = f->err;
	size_t el = sizeof f->err;
	struct stat st;

	put_dir(f, "vm1");
	assert_int_equal(ds_mkdisk(ds, "vm1/disk.img", 1024ULL * MIB, err, el), 0);
	assert_int_equal(host_lstat(f, "vm1/disk.img", &st), 0);
	assert_true(S_ISREG(st.st_mode));
	assert_int_equal(st.st_mode & 07777, 0600);
	assert_int_equal(st.st_size, 1024LL * MIB);
	assert_true(st.st_blocks * 512 < MIB); /* sparse */

	/* reads back as zeros at both ends */
	char p[512], buf[4096], zero[4096] = {0};
	host(f, "vm1/disk.img", p, sizeof p);
	int fd = open(p, O_RDONLY);
	assert_true(fd >= 0);
	assert_int_equal(pread(fd, buf, sizeof buf, 0), sizeof buf);
	assert_memory_equal(buf, zero, sizeof buf);
	assert_int_equal(pread(fd, buf, sizeof buf, 1024LL * MIB - 4096), sizeof buf);
	assert_memory_equal(buf, zero, sizeof buf);
	close(fd);

	assert_int_equal(ds_mkdisk(ds, "small.img", 512, err, el), 0);
	assert_int_equal(host_lstat(f, "small.img", &st), 0);
	assert_int_equal(st.st_size, 512);

	/* never overwrites */
	put(f, "vm1/old.img", "keep", 4);
	assert_int_equal(ds_mkdisk(ds, "vm1/old.img", 512, err, el), -EEXIST);
	assert_string_equal(err, "local/vm1/old.img: already exists");
	assert_content(f, "vm1/old.img", "keep");
	assert_int_equal(ds_mkdisk(ds, "vm1/disk.img", 2048, err, el), -EEXIST);
	assert_int_equal(host_lstat(f, "vm1/disk.img", &st), 0);
	assert_int_equal(st.st_size, 1024LL * MIB);
	assert_int_equal(ds_mkdisk(ds, "vm1", 512, err, el), -EEXIST);

	/* bad sizes */
	const uint64_t bad[] = {
	    0, 1, 511, 513, 1000, 4095, DS_DISK_MAX + 512, UINT64_MAX, UINT64_MAX - 511};
	for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
		assert_int_equal(ds_mkdisk(ds, "vm1/bad.img", bad[i], err, el), -EINVAL);
		assert_non_null(strstr(err, "local/vm1/bad.img: "));
	}

	/* paths */
	assert_int_equal(ds_mkdisk(ds, "nope/d.img", 512, err, el), -ENOENT);
	assert_string_equal(err, "local/nope: no such file or folder");
	assert_int_equal(ds_mkdisk(ds, "vm1/old.img/d.img", 512, err, el), -ENOTDIR);
	assert_int_equal(ds_mkdisk(ds, "../d.img", 512, err, el), -EINVAL);
	assert_int_equal(ds_mkdisk(ds, "/tmp/d.img", 512, err, el), -EINVAL);
	assert_int_equal(ds_mkdisk(ds, "", 512, err, el), -EINVAL);

	/* the largest size: made, or refused by the filesystem (ext4 stops at
	 * 16 TiB) with nothing left behind */
	int r = ds_mkdisk(ds, "vm1/huge.img", DS_DISK_MAX, err, el);
	if (r == 0) {
		assert_int_equal(host_lstat(f, "vm1/huge.img", &st), 0);
		assert_int_equal((uint64_t)st.st_size, DS_DISK_MAX);
		assert_int_equal(ds_remove(ds, "vm1/huge.img", err, el), 0);
	} else {
		assert_int_equal(r, -EFBIG);
		assert_string_equal(err, "local/vm1/huge.img: too large for the filesystem");
	}

	assert_string_equal(names(f, "vm1"), "disk.img,old.img");
	assert_string_equal(names(f, ""), "small.img,vm1");
	assert_no_tmp(f);
}

static void test_grow(void **state)
{
	struct fixture *f = *state;
	struct datastore *ds = &f->ds;
	char *err = f->err;
	size_t el = sizeof f->err;
	struct stat st;
	char data[4096];
	fill_pattern(data, sizeof data, 7);
	put(f, "g.img", data, sizeof data);

	assert_int_equal(ds_grow(ds, "g.img", MIB, err, el), 0);
	assert_int_equal(host_lstat(f, "g.img", &st), 0);
	assert_int_equal(st.st_size, MIB);
	size_t len;
	char *got = slurp(f, "g.img", &len);
	assert_non_null(got);
	assert_int_equal(len, MIB);
	assert_memory_equal(got, data, sizeof data);
	for (size_t i = sizeof data; i < len; i++)
		if (got[i])
			fail_msg("byte %zu is not zero", i);
	free(got);
	assert_true(st.st_blocks * 512 < 256 * 1024); /* the new part is a hole */

	/* the same size is fine; shrinking and odd sizes are not */
	assert_int_equal(ds_grow(ds, "g.img", MIB, err, el), 0);
	assert_int_equal(ds_grow(ds, "g.img", 512, err, el), -EINVAL);
	assert_string_equal(err, "local/g.img: cannot shrink from 1048576 to 512 bytes");
	assert_int_equal(ds_grow(ds, "g.img", 0, err, el), -EINVAL);
	assert_int_equal(ds_grow(ds, "g.img", MIB + 100, err, el), -EINVAL);
	assert_int_equal(ds_grow(ds, "g.img", 2 * MIB + 1, err, el), -EINVAL);
	assert_int_equal(ds_grow(ds, "g.img", DS_DISK_MAX + 512, err, el), -EINVAL);
	assert_int_equal(host_lstat(f, "g.img", &st), 0);
	assert_int_equal(st.st_size, MIB);
	got = slurp(f, "g.img", &len);
	assert_memory_equal(got, data, sizeof data);
	free(got);

	/* a file whose size is not a whole number of sectors grows to one */
	put(f, "odd.iso", "12345", 5);
	assert_int_equal(ds_grow(ds, "odd.iso", 512, err, el), 0);
	got = slurp(f, "odd.iso", &len);
	assert_int_equal(len, 512);
	assert_memory_equal(got, "12345\0\0", 7);
	free(got);

	put_dir(f, "d");
	assert_int_equal(ds_grow(ds, "d", 4096, err, el), -EISDIR);
	assert_string_equal(err, "local/d: is a folder");
	assert_int_equal(ds_grow(ds, "missing.img", 4096, err, el), -ENOENT);
	assert_string_equal(err, "local/missing.img: no such file or folder");
	assert_int_equal(ds_grow(ds, "../g.img", 4096, err, el), -EINVAL);
	char p[512];
	host(f, "fifo", p, sizeof p);
	assert_int_equal(mkfifo(p, 0600), 0);
	assert_true(ds_grow(ds, "fifo", 4096, err, el) < 0); /* and does not block */
	assert_no_tmp(f);
}

/* --- copy ---------------------------------------------------------------- */

static void assert_same_file(const struct fixture *f, const char *a, const char *b)
{
	size_t la, lb;
	char *da = slurp(f, a, &la);
	char *db = slurp(f, b, &lb);
	assert_non_null(da);
	assert_non_null(db);
	assert_int_equal(la, lb);
	assert_memory_equal(da, db, la);
	free(da);
	free(db);
}

static void test_copy(void **state)
{
	struct fixture *f = *state;
	struct datastore *ds = &f->ds;
	char *err = f->err;
	size_t el = sizeof f->err;
	struct stat st;
	char p[512];

	/* 20 MiB: 3 MiB + 123 bytes of data (more than one chunk), a hole,
	 * 4 KiB of data at 10 MiB, a hole to the end */
	put_dir(f, "vm1");
	put_dir(f, "vm2");
	host(f, "vm1/src.img", p, sizeof p);
	int fd = open(p, O_WRONLY | O_CREAT | O_EXCL, 0644);
	assert_true(fd >= 0);
	size_t head = 3 * MIB + 123;
	char *buf = malloc(head);
	assert_non_null(buf);
	fill_pattern(buf, head, 3);
	assert_int_equal(pwrite(fd, buf, head, 0), head);
	fill_pattern(buf, 4096, 4);
	assert_int_equal(pwrite(fd, buf, 4096, 10 * MIB), 4096);
	assert_int_equal(ftruncate(fd, 20 * MIB), 0);
	close(fd);
	free(buf);

	int reflinked = -1;
	assert_int_equal(ds_copy(ds, "vm1/src.img", "vm2/dst.img", &reflinked, err, el), 0);
	assert_true(reflinked == 0 || reflinked == 1);
	assert_same_file(f, "vm1/src.img", "vm2/dst.img");
	assert_int_equal(host_lstat(f, "vm2/dst.img", &st), 0);
	assert_int_equal(st.st_size, 20 * MIB);
	assert_int_equal(st.st_mode & 07777, 0600);
	assert_true(st.st_blocks * 512 < 5 * MIB); /* the holes stayed holes */
	host(f, "vm2/dst.img", p, sizeof p);
	fd = open(p, O_RDONLY);
	assert_true(fd >= 0);
	assert_int_equal(lseek(fd, 4 * MIB, SEEK_DATA), 10 * MIB);
	assert_int_equal(lseek(fd, 10 * MIB, SEEK_HOLE), 10 * MIB + 4096);
	assert_int_equal(lseek(fd, 10 * MIB + 4096, SEEK_DATA), -1);
	assert_int_equal(errno, ENXIO);
	close(fd);

	/* in the same folder; an empty file; a file that is one big hole */
	assert_int_equal(ds_copy(ds, "vm1/src.img", "vm1/src2.img", NULL, err, el), 0);
	assert_same_file(f, "vm1/src.img", "vm1/src2.img");
	put(f, "empty", "", 0);
	assert_int_equal(ds_copy(ds, "empty", "empty2", &reflinked, err, el), 0);
	assert_content(f, "empty2", "");
	assert_int_equal(ds_mkdisk(ds, "blank.img", 8 * MIB, err, el), 0);
	assert_int_equal(ds_copy(ds, "blank.img", "blank2.img", &reflinked, err, el), 0);
	assert_int_equal(host_lstat(f, "blank2.img", &st), 0);
	assert_int_equal(st.st_size, 8 * MIB);
	assert_true(st.st_blocks * 512 < MIB);
	assert_same_file(f, "blank.img", "blank2.img");
	/* data up to the very end */
	char small[10000];
	fill_pattern(small, sizeof small, 9);
	put(f, "small", small, sizeof small);
	assert_int_equal(ds_copy(ds, "small", "vm2/small", &reflinked, err, el), 0);
	assert_same_file(f, "small", "vm2/small");

	/* never overwrites */
	put(f, "vm2/taken.img", "keep", 4);
	reflinked = -1;
	assert_int_equal(ds_copy(ds, "vm1/src.img", "vm2/taken.img", &reflinked, err, el), -EEXIST);
	assert_int_equal(reflinked, 0);
	assert_string_equal(err, "local/vm2/taken.img: already exists");
	assert_content(f, "vm2/taken.img", "keep");
	assert_int_equal(ds_copy(ds, "small", "small", &reflinked, err, el), -EEXIST);
	assert_int_equal(ds_copy(ds, "small", "vm2", &reflinked, err, el), -EEXIST);

	/* refusals name the offending path */
	assert_int_equal(ds_copy(ds, "vm1/none.img", "vm2/x.img", &reflinked, err, el), -ENOENT);
	assert_string_equal(err, "local/vm1/none.img: no such file or folder");
	assert_int_equal(ds_copy(ds, "vm1", "vm2/x.img", &reflinked, err, el), -EISDIR);
	assert_string_equal(err, "local/vm1: is a folder");
	assert_int_equal(ds_copy(ds, "small", "nope/x.img", &reflinked, err, el), -ENOENT);
	assert_string_equal(err, "local/nope: no such file or folder");
	assert_int_equal(ds_copy(ds, "../x", "vm2/x.img", &reflinked, err, el), -EINVAL);
	assert_int_equal(ds_copy(ds, "small", "vm2/../x", &reflinked, err, el), -EINVAL);
	assert_int_equal(ds_copy(ds, "small", "", &reflinked, err, el), -EINVAL);
	assert_int_equal(ds_copy(ds, "", "x", &reflinked, err, el), -EINVAL);
	host(f, "fifo", p, sizeof p);
	assert_int_equal(mkfifo(p, 0600), 0);
	assert_int_equal(ds_copy(ds, "fifo", "x", &reflinked, err, el), -EINVAL);

	assert_string_equal(names(f, "vm2"), "dst.img,small,taken.img");
	assert_string_equal(names(f, "vm1"), "src.img,src2.img");
	assert_no_tmp(f);
}

/* --- uploads ------------------------------------------------------------- */

static void test_upload(void **state)
{
	struct fixture *f = *state;
	struct datastore *ds = &f->ds;
	char *err = f->err;
	size_t el = sizeof f->err;
	struct ds_upload u;
	struct ds_entry e;

	char body[100000];
	fill_pattern(body, sizeof body, 11);
	assert_int_equal(ds_upload_begin(ds, "up/a/k.bin", 0, &u, err, el), 0);
	assert_true(u.fd >= 0);
	assert_string_equal(u.name, "k.bin");
	assert_int_equal(strncmp(u.tmpname, ".keel-tmp-", 10), 0);
	assert_int_equal(ds_upload_write(&u, body, 1, err, el), 0);
	assert_int_equal(ds_upload_write(&u, body + 1, 60000, err, el), 0);
	assert_int_equal(ds_upload_write(&u, body + 60001, 0, err, el), 0);
	assert_int_equal(ds_upload_write(&u, body + 60001, sizeof body - 60001, err, el), 0);
	assert_int_equal(u.written, sizeof body);
	/* not there until committed: only the temporary file is */
	assert_int_equal(ds_stat(ds, "up/a/k.bin", &e, err, el), -ENOENT);
	assert_string_equal(names(f, "up/a"), u.tmpname);
	assert_int_equal(ds_upload_commit(&u, err, el), 0);
	assert_int_equal(u.fd, -1);
	assert_int_equal(u.dirfd, -1);
	assert_string_equal(names(f, "up/a"), "k.bin");
	size_t len;
	char *got = slurp(f, "up/a/k.bin", &len);
	assert_non_null(got);
	assert_int_equal(len, sizeof body);
	assert_memory_equal(got, body, len);
	free(got);
	ds_upload_abort(&u); /* after a commit: nothing to do */
	assert_string_equal(names(f, "up/a"), "k.bin");

	/* an existing file is refused unless overwrite */
	assert_int_equal(ds_upload_begin(ds, "up/a/k.bin", 0, &u, err, el), -EEXIST);
	assert_string_equal(err, "local/up/a/k.bin: already exists");
	assert_int_equal(u.fd, -1);
	ds_upload_abort(&u);
	assert_string_equal(names(f, "up/a"), "k.bin");

	assert_int_equal(ds_upload_begin(ds, "up/a/k.bin", 1, &u, err, el), 0);
	assert_int_equal(ds_upload_write(&u, "new", 3, err, el), 0);
	/* the old content stays until the commit */
	assert_int_equal(ds_stat(ds, "up/a/k.bin", &e, err, el), 0);
	assert_int_equal(e.size, sizeof body);
	assert_int_equal(ds_upload_commit(&u, err, el), 0);
	assert_content(f, "up/a/k.bin", "new");
	assert_string_equal(names(f, "up/a"), "k.bin");

	/* overwrite of a file that does not exist yet; an empty body */
	assert_int_equal(ds_upload_begin(ds, "up/empty", 1, &u, err, el), 0);
	assert_int_equal(ds_upload_commit(&u, err, el), 0);
	assert_content(f, "up/empty", "");
	struct stat st;
	assert_int_equal(host_lstat(f, "up/empty", &st), 0);
	assert_int_equal(st.st_mode & 07777, 0600);

	/* at the root */
	assert_int_equal(ds_upload_begin(ds, "top.iso", 0, &u, err, el), 0);
	assert_int_equal(ds_upload_write(&u, "iso", 3, err, el), 0);
	assert_int_equal(ds_upload_commit(&u, err, el), 0);
	assert_content(f, "top.iso", "iso");
	assert_no_tmp(f);
}

static void test_upload_abort(void **state)
{
	struct fixture *f = *state;
	struct datastore *ds = &f->ds;
	char *err = f->err;
	size_t el = sizeof f->err;
	struct ds_upload u;

	put_dir(f, "vm1");
	assert_int_equal(ds_upload_begin(ds, "vm1/big.img", 0, &u, err, el), 0);
	char chunk[65536];
	fill_pattern(chunk, sizeof chunk, 5);
	for (int i = 0; i < 16; i++)
		assert_int_equal(ds_upload_write(&u, chunk, sizeof chunk, err, el), 0);
	assert_string_equal(names(f, "vm1"), u.tmpname);
	ds_upload_abort(&u);
	assert_string_equal(names(f, "vm1"), "");
	assert_int_equal(u.fd, -1);
	assert_int_equal(u.dirfd, -1);
	ds_upload_abort(&u); /* twice */
	assert_int_equal(ds_upload_write(&u, "x", 1, err, el), -EBADF);
	assert_int_equal(ds_upload_commit(&u, err, el), -EBADF);
	assert_string_equal(names(f, "vm1"), "");

	/* an overwriting upload, aborted: the old file is untouched */
	put(f, "vm1/old", "old", 3);
	assert_int_equal(ds_upload_begin(ds, "vm1/old", 1, &u, err, el), 0);
	assert_int_equal(ds_upload_write(&u, "new!", 4, err, el), 0);
	ds_upload_abort(&u);
	assert_content(f, "vm1/old", "old");
	assert_string_equal(names(f, "vm1"), "old");

	/* the parents made by begin stay, but no file */
	assert_int_equal(ds_upload_begin(ds, "p/q/r.bin", 0, &u, err, el), 0);
	ds_upload_abort(&u);
	assert_string_equal(names(f, "p/q"), "");
	assert_no_tmp(f);
}

/* A power cut during uploads, a disk and a copy leaves their temporary
 * files: they are removed at the next start, and nothing else is. */
static void test_remove_temporaries(void **state)
{
	struct fixture *f = *state;
	struct datastore *ds = &f->ds;
	char *err = f->err;
	size_t el = sizeof f->err;
	const char *t1 = ".keel-tmp-0123456789abcdef";
	const char *t2 = ".keel-tmp-fedcba9876543210.replace";
	char p[512], q[512];

	/* an upload interrupted: its descriptors die with the process */
	struct ds_upload u, v;
	assert_int_equal(ds_upload_begin(ds, "vm1/up.img", 0, &u, err, el), 0);
	assert_int_equal(ds_upload_write(&u, "half", 4, err, el), 0);
	assert_int_equal(ds_upload_begin(ds, "top.iso", 1, &v, err, el), 0);
	close(u.fd);
	close(u.dirfd);
	close(v.fd);
	close(v.dirfd);
	/* left by a disk or copy, anywhere beneath the root */
	put(f, t1, "x", 1);
	put_dir(f, "a");
	put_dir(f, "a/b");
	snprintf(p, sizeof p, "a/b/%s", t1);
	put(f, p, "x", 1);
	snprintf(p, sizeof p, "a/%s", t2);
	put(f, p, "x", 1);

	/* what must stay: other names, a folder or symlink of a temporary
	 * name, anything in a hidden folder or behind a symlink */
	const char *kept[] = {
	    "disk.img",
	    "vm1/.keel-tmp-",
	    "vm1/.keel-tmp-0123456789abcde",
	    "vm1/.keel-tmp-0123456789abcdef0",
	    "vm1/.keel-tmp-0123456789ABCDEF",
	    "vm1/.keel-tmp-0123456789abcdeg",
	    "vm1/.keel-tmp-0123456789abcdef.replaced",
	    "vm1/.keel-tmp-0123456789abcdef.other",
	    "vm1/keel-tmp-0123456789abcdef",
	    "vm1/x.keel-tmp-0123456789abcdef",
	    ".hidden/.keel-tmp-0123456789abcdef",
	};
	put_dir(f, "vm1/.keel-tmp-1111111111111111");
	put_dir(f, ".hidden");
	for (size_t i = 0; i < sizeof kept / sizeof kept[0]; i++)
		put(f, kept[i], "keep", 4);
	/* a symlink named like a temporary file, pointing at one outside */
	snprintf(q, sizeof q, "%s/%s", f->outside, t1);
	assert_int_equal(write_file(q, "out", 3, 0644), 0);
	put_link(f, "vm1/.keel-tmp-2222222222222222", q);
	put_link(f, "vm1/outlink", f->outside);

	assert_int_equal(ds_remove_temporaries(ds, err, el), 5);
	assert_no_tmp_files(f);
	for (size_t i = 0; i < sizeof kept / sizeof kept[0]; i++)
		assert_content(f, kept[i], "keep");
	struct stat st;
	host(f, "vm1/.keel-tmp-1111111111111111", p, sizeof p);
	assert_int_equal(lstat(p, &st), 0);
	assert_true(S_ISDIR(st.st_mode));
	host(f, "vm1/.keel-tmp-2222222222222222", p, sizeof p);
	assert_int_equal(lstat(p, &st), 0);
	assert_true(S_ISLNK(st.st_mode));
	assert_int_equal(lstat(q, &st), 0);
	assert_true(S_ISREG(st.st_mode));

	/* nothing left to do */
	assert_int_equal(ds_remove_temporaries(ds, err, el), 0);
}

static void test_upload_refused(void **state)
{
	struct fixture *f = *state;
	struct datastore *ds = &f->ds;
	char *err = f->err;
	size_t el = sizeof f->err;
	struct ds_upload u;

	put_dir(f, "vm1");
	put_dir(f, "vm1/folder");
	put(f, "vm1/file", "file", 4);
	assert_int_equal(ds_upload_begin(ds, "vm1/folder", 0, &u, err, el), -EISDIR);
	assert_string_equal(err, "local/vm1/folder: is a folder");
	assert_int_equal(u.fd, -1);
	assert_int_equal(u.dirfd, -1);
	ds_upload_abort(&u);
	assert_int_equal(ds_upload_begin(ds, "vm1/folder", 1, &u, err, el), -EISDIR);
	assert_int_equal(ds_upload_begin(ds, "vm1/file/x", 0, &u, err, el), -ENOTDIR);
	assert_string_equal(err, "local/vm1/file: not a folder");
	assert_int_equal(ds_upload_begin(ds, "vm1/../x", 1, &u, err, el), -EINVAL);
	assert_int_equal(ds_upload_begin(ds, "vm1/.x", 1, &u, err, el), -EINVAL);
	assert_int_equal(ds_upload_begin(ds, "", 1, &u, err, el), -EINVAL);
	assert_int_equal(ds_upload_begin(ds, "vm1/", 1, &u, err, el), -EINVAL);
	char p[512];
	host(f, "vm1/fifo", p, sizeof p);
	assert_int_equal(mkfifo(p, 0600), 0);
	assert_int_equal(ds_upload_begin(ds, "vm1/fifo", 1, &u, err, el), -EINVAL);
	ds_upload_abort(&u);
	assert_string_equal(names(f, "vm1"), "fifo,file,folder");
	assert_string_equal(names(f, "vm1/folder"), "");
	assert_content(f, "vm1/file", "file");
}

/* Someone creates the target while an upload runs: the commit refuses to
 * replace it (unless overwrite) and leaves nothing behind. */
static void test_upload_race(void **state)
{
	struct fixture *f = *state;
	struct datastore *ds = &f->ds;
	char *err = f->err;
	size_t el = sizeof f->err;
	struct ds_upload u;

	assert_int_equal(ds_upload_begin(ds, "r.img", 0, &u, err, el), 0);
	assert_int_equal(ds_upload_write(&u, "mine", 4, err, el), 0);
	put(f, "r.img", "theirs", 6);
	assert_int_equal(ds_upload_commit(&u, err, el), -EEXIST);
	assert_string_equal(err, "r.img: already exists");
	assert_content(f, "r.img", "theirs");
	assert_string_equal(names(f, ""), "r.img");
	ds_upload_abort(&u);

	assert_int_equal(ds_upload_begin(ds, "s.img", 1, &u, err, el), 0);
	assert_int_equal(ds_upload_write(&u, "mine", 4, err, el), 0);
	put(f, "s.img", "theirs", 6);
	assert_int_equal(ds_upload_commit(&u, err, el), 0);
	assert_content(f, "s.img", "mine");
	assert_string_equal(names(f, ""), "r.img,s.img");

	/* the target became a folder meanwhile */
	assert_int_equal(ds_upload_begin(ds, "t", 1, &u, err, el), 0);
	put_dir(f, "t");
	assert_true(ds_upload_commit(&u, err, el) < 0);
	assert_string_equal(names(f, ""), "r.img,s.img,t");
	assert_no_tmp(f);
}

/* --- symlinks ------------------------------------------------------------ */

/* Symlinks in the datastore, pointing outside (absolute and relative) and
 * inside: every operation refuses them, and nothing outside changes. */
static void test_symlinks_refused(void **state)
{
	struct fixture *f = *state;
	struct datastore *ds = &f->ds;
	char *err = f->err;
	size_t el = sizeof f->err;
	struct ds_entry e;
	struct ds_upload u;
	char p[512];

	snprintf(p, sizeof p, "%s/secret", f->outside);
	assert_int_equal(write_file(p, "secret", 6, 0644), 0);
	put_dir(f, "vm1");
	put(f, "vm1/real.img", "real", 4);
	put_link(f, "out", f->outside); /* absolute, to a folder */
	put_link(f, "up", "..");	/* relative, out of the root */
	put_link(f, "lnk.img", p);	/* to a file outside */
	snprintf(p, sizeof p, "%s/new.img", f->outside);
	put_link(f, "dangling.img", p);		   /* to nothing yet */
	put_link(f, "alias", "vm1");		   /* inside, to a folder */
	put_link(f, "vm1/inner.img", "real.img");  /* inside, to a file */
	put_link(f, "vm1/escape", "../../../../"); /* climbing out */
	put_link(f, "proc", "/proc/self/root");	   /* towards a magic link */

	const char *links[] = {
	    "out",	  "up",	  "lnk.img",	"dangling.img", "alias",	  "vm1/inner.img",
	    "vm1/escape", "proc", "out/secret", "up/x",		"alias/real.img", "vm1/escape/etc",
	    "proc/etc"};
	char out[512];
	for (size_t i = 0; i < ARRAY_SIZE(links); i++) {
		const char *l = links[i];
		char sub[600];
		snprintf(sub, sizeof sub, "%s/new.img", l);
		int r;
#define REFUSED(call)                                                                              \
	do {                                                                                       \
		r = (call);                                                                        \
		if (r != -ELOOP)                                                                   \
			fail_msg("%s on \"%s\": %d (%s)", #call, l, r, err);                       \
	} while (0)
		REFUSED(ds_stat(ds, l, &e, err, el));
		REFUSED(ds_host_path(ds, l, out, sizeof out, err, el));
		REFUSED(ds_openat(ds, l, O_RDONLY, 0, err, el));
		REFUSED(ds_openat(ds, l, O_PATH, 0, err, el));
		REFUSED(ds_openat(ds, l, O_WRONLY | O_CREAT, 0644, err, el));
		REFUSED(ds_openat(ds, sub, O_WRONLY | O_CREAT | O_EXCL, 0644, err, el));
		REFUSED(ds_openat(ds, l, O_RDONLY | O_DIRECTORY, 0, err, el));
		REFUSED(ds_remove(ds, l, err, el));
		REFUSED(ds_mkdisk(ds, l, 512, err, el));
		REFUSED(ds_mkdisk(ds, sub, 512, err, el));
		REFUSED(ds_grow(ds, l, 1 << 20, err, el));
		REFUSED(ds_copy(ds, l, "copied.img", NULL, err, el));
		REFUSED(ds_copy(ds, "vm1/real.img", l, NULL, err, el));
		REFUSED(ds_copy(ds, "vm1/real.img", sub, NULL, err, el));
		REFUSED(ds_upload_begin(ds, l, 0, &u, err, el));
		assert_int_equal(u.fd, -1);
		REFUSED(ds_upload_begin(ds, l, 1, &u, err, el));
		REFUSED(ds_upload_begin(ds, sub, 1, &u, err, el));
		REFUSED(ds_mkparents(ds, sub, err, el));
		struct ds_entry *v = NULL;
		size_t n = 0;
		REFUSED(ds_list(ds, l, &v, &n, err, el));
		/* mkdir over an existing name says it exists, below it ELOOP */
		assert_true(ds_mkdir(ds, l, err, el) < 0);
		REFUSED(ds_mkdir(ds, sub, err, el));
#undef REFUSED
	}
	assert_int_equal(ds_stat(ds, "lnk.img", &e, err, el), -ELOOP);
	assert_string_equal(
	    err, "local/lnk.img: is or goes through a symlink, which a datastore never follows");

	/* the listing does not show them */
	struct ds_entry *v;
	size_t n;
	assert_int_equal(ds_list(ds, "", &v, &n, err, el), 0);
	assert_int_equal(n, 1);
	assert_string_equal(v[0].name, "vm1");
	free(v);
	assert_int_equal(ds_list(ds, "vm1", &v, &n, err, el), 0);
	assert_int_equal(n, 1);
	assert_string_equal(v[0].name, "real.img");
	free(v);

	/* nothing changed, outside or inside */
	assert_string_equal(names_in(f->outside), "secret");
	snprintf(p, sizeof p, "%s/secret", f->outside);
	size_t len;
	char *s = read_file(p, 100, &len);
	assert_non_null(s);
	assert_string_equal(s, "secret");
	free(s);
	assert_string_equal(names(f, ""), "alias,dangling.img,lnk.img,out,proc,up,vm1");
	assert_string_equal(names(f, "vm1"), "escape,inner.img,real.img");
	assert_content(f, "vm1/real.img", "real");
	struct stat st;
	assert_int_equal(host_lstat(f, "lnk.img", &st), 0);
	assert_true(S_ISLNK(st.st_mode));
}

/* --- ds_openat, ds_host_path --------------------------------------------- */

static void test_openat(void **state)
{
	struct fixture *f = *state;
	struct datastore *ds = &f->ds;
	char *err = f->err;
	size_t el = sizeof f->err;

	int fd = ds_openat(ds, "new.txt", O_WRONLY | O_CREAT | O_EXCL, 0640, err, el);
	assert_true(fd >= 0);
	assert_true(fcntl(fd, F_GETFD) & FD_CLOEXEC);
	assert_int_equal(write(fd, "hello", 5), 5);
	close(fd);
	assert_content(f, "new.txt", "hello");
	struct stat st;
	assert_int_equal(host_lstat(f, "new.txt", &st), 0);
	assert_int_equal(st.st_mode & 07777, 0640);
	assert_int_equal(ds_openat(ds, "new.txt", O_WRONLY | O_CREAT | O_EXCL, 0640, err, el),
			 -EEXIST);
	assert_string_equal(err, "local/new.txt: already exists");

	fd = ds_openat(ds, "new.txt", O_RDONLY, 0, err, el);
	assert_true(fd >= 0);
	char buf[8];
	assert_int_equal(read(fd, buf, sizeof buf), 5);
	close(fd);

	fd = ds_openat(ds, "", O_RDONLY | O_DIRECTORY, 0, err, el);
	assert_true(fd >= 0);
	close(fd);
	fd = ds_openat(ds, "new.txt", O_PATH, 0, err, el);
	assert_true(fd >= 0);
	close(fd);

	assert_int_equal(ds_openat(ds, "missing", O_RDONLY, 0, err, el), -ENOENT);
	assert_string_equal(err, "local/missing: no such file or folder");
	assert_int_equal(ds_openat(ds, "../etc/passwd", O_RDONLY, 0, err, el), -EINVAL);
	assert_int_equal(ds_openat(ds, "/etc/passwd", O_RDONLY, 0, err, el), -EINVAL);
	assert_int_equal(ds_openat(ds, "new.txt/x", O_RDONLY, 0, err, el), -ENOTDIR);
}

static void test_host_path(void **state)
{
	struct fixture *f = *state;
	struct datastore *ds = &f->ds;
	char *err = f->err;
	size_t el = sizeof f->err;
	char out[512], want[512];

	put_dir(f, "vm1");
	put(f, "vm1/disk.img", "d", 1);
	assert_int_equal(ds_host_path(ds, "vm1/disk.img", out, sizeof out, err, el), 0);
	snprintf(want, sizeof want, "%s/vm1/disk.img", f->root);
	assert_string_equal(out, want);
	assert_int_equal(ds_host_path(ds, "vm1", out, sizeof out, err, el), 0);
	snprintf(want, sizeof want, "%s/vm1", f->root);
	assert_string_equal(out, want);
	assert_int_equal(ds_host_path(ds, "", out, sizeof out, err, el), 0);
	assert_string_equal(out, f->root);

	assert_int_equal(ds_host_path(ds, "vm1/none.img", out, sizeof out, err, el), -ENOENT);
	assert_string_equal(err, "local/vm1/none.img: no such file or folder");
	assert_int_equal(ds_host_path(ds, "vm1/../vm1/disk.img", out, sizeof out, err, el),
			 -EINVAL);
	assert_int_equal(ds_host_path(ds, "vm1/disk.img", out, 10, err, el), -ENAMETOOLONG);
	assert_string_equal(out, "");

	/* a root given with a trailing slash gives no "//" */
	struct datastore ds2;
	snprintf(want, sizeof want, "%s/", f->root);
	assert_int_equal(ds_open(&ds2, "two", want, err, el), 0);
	assert_int_equal(ds_host_path(&ds2, "vm1/disk.img", out, sizeof out, err, el), 0);
	snprintf(want, sizeof want, "%s/vm1/disk.img", f->root);
	assert_string_equal(out, want);
	ds_close(&ds2);
}

/* --- messages ------------------------------------------------------------ */

static void test_messages(void **state)
{
	struct fixture *f = *state;
	struct datastore *ds = &f->ds;
	struct ds_entry e;
	char err[128];

	put_dir(f, "vm1");
	assert_int_equal(ds_stat(ds, "vm1/disk.img", &e, err, sizeof err), -ENOENT);
	assert_string_equal(err, "local/vm1/disk.img: no such file or folder");
	/* a long path is cut in the message, which still fits and says why */
	char longp[900];
	memset(longp, 'x', sizeof longp - 1);
	longp[sizeof longp - 1] = '\0';
	for (size_t i = 100; i < sizeof longp - 1; i += 100)
		longp[i] = '/';
	assert_int_equal(ds_stat(ds, longp, &e, err, sizeof err), -ENOENT);
	assert_true(strlen(err) < sizeof err);
	assert_int_equal(strncmp(err, "local/xxxx", 10), 0);
	char big[1024];
	assert_int_equal(ds_stat(ds, longp, &e, big, sizeof big), -ENOENT);
	assert_non_null(strstr(big, "...: no such file or folder"));
	/* UTF-8 is kept whole, the rest shows as '?' */
	assert_int_equal(ds_stat(ds, "été\x01", &e, big, sizeof big), -EINVAL);
	assert_string_equal(big, "local/été?: control characters are not allowed");
	/* no room at all */
	assert_int_equal(ds_stat(ds, "vm1/disk.img", &e, NULL, 0), -ENOENT);
	char one[1] = {'z'};
	assert_int_equal(ds_stat(ds, "vm1/disk.img", &e, one, 1), -ENOENT);
	assert_int_equal(one[0], '\0');
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_path_check_accepts),
	    cmocka_unit_test(test_path_check_refuses),
	    cmocka_unit_test(test_path_check_lengths),
	    cmocka_unit_test_setup_teardown(test_open, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_space, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_mkdir, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_mkparents, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_stat, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_list, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_remove, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_mkdisk, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_grow, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_copy, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_upload, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_upload_abort, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_remove_temporaries, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_upload_refused, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_upload_race, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_symlinks_refused, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_openat, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_host_path, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_messages, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
