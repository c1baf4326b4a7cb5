/* keel-init's loader of the extensions (init/extload.c) on a bank in a
 * temporary folder, with a load function that records the file it was given
 * (by its /proc/self/fd link) in place of finit_module and fails as told:
 * the order (extensions by name, modules in `modules` order), an extension
 * stopped at its first failure, a folder without `modules` passed over,
 * lines that are not a module's name refused before anything is opened,
 * the count, and the status text. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/extension.h"
#include "common/util.h"
#include "init/extload.h"
#include "rm_rf.h"

static char dir[] = "/tmp/keel-extload-XXXXXX";
static char bank[256];

/* what the load function saw: "EXT/MODULE ..." */
static char loads[8192];
/* the file (EXT/MODULE) that fails to load, and how */
static const char *fail_on;
static int fail_errno;

static int record(int fd)
{
	char link[64], path[PATH_MAX], prefix[PATH_MAX];
	snprintf(link, sizeof(link), "/proc/self/fd/%d", fd);
	ssize_t n = readlink(link, path, sizeof(path) - 1);
	assert_true(n > 0);
	path[n] = '\0';
	int len = snprintf(prefix, sizeof(prefix), "%s/%s/", bank, EXT_DIR);
	if (strncmp(path, prefix, (size_t)len) != 0)
		fail_msg("loaded %s, outside %s", path, prefix);
	const char *name = path + len;
	snprintf(loads + strlen(loads), sizeof(loads) - strlen(loads), "%s%s", *loads ? " " : "",
		 name);
	return fail_on && strcmp(name, fail_on) == 0 ? -fail_errno : 0;
}

static const char *at(const char *name)
{
	static char bufs[8][512];
	static int next;
	char *p = bufs[next++ % 8];
	snprintf(p, 512, "%s/%s/%s", bank, EXT_DIR, name);
	return p;
}

static void put(const char *name, const char *text)
{
	assert_int_equal(write_file(at(name), text, strlen(text), 0644), 0);
}

/* the extension `name` with `modules` as its EXT_ORDER (NULL: none) and the
 * files `files` (NULL-terminated) */
static void extension(const char *name, const char *modules, const char *const *files)
{
	char path[256];
	assert_int_equal(mkdir(at(name), 0755), 0);
	for (size_t i = 0; files[i]; i++) {
		snprintf(path, sizeof(path), "%s/%s", name, files[i]);
		put(path, "\x7f"
			  "ELF not really");
	}
	if (modules) {
		snprintf(path, sizeof(path), "%s/%s", name, EXT_ORDER);
		put(path, modules);
	}
}

#define FILES(...) ((const char *const[]){__VA_ARGS__, NULL})

/* an empty bank/ext, nothing loaded yet */
static int fresh(void **state)
{
	(void)state;
	rm_rf(bank);
	if (mkdir(bank, 0755) < 0 || mkdir(at(""), 0755) < 0)
		return -1;
	loads[0] = '\0';
	fail_on = NULL;
	fail_errno = 0;
	return 0;
}

static int setup(void **state)
{
	(void)state;
	if (!mkdtemp(dir))
		return -1;
	snprintf(bank, sizeof(bank), "%s/bank", dir);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	rm_rf(dir);
	return 0;
}

static char status[EXT_MAX * 256];

static int load_all(void)
{
	memset(status, 'x', sizeof(status));
	return extload_all(bank, record, status, sizeof(status));
}

static void test_order(void **state)
{
	(void)state;
	/* made in another order than their names' */
	extension("c", NULL, FILES("c1.ko")); /* an install cut short */
	extension("b", "m1.ko\nm2.ko\nm3.ko\n", FILES("m1.ko", "m2.ko", "m3.ko"));
	extension("a", "# zeta first: alpha needs it\nzeta.ko\n\n  alpha.ko  \n",
		  FILES("alpha.ko", "zeta.ko"));
	fail_on = "b/m2.ko";
	fail_errno = EKEYREJECTED;
	assert_int_equal(load_all(), 1);
	assert_string_equal(loads, "a/zeta.ko a/alpha.ko b/m1.ko b/m2.ko");
	assert_string_equal(status, "a loaded\nb failed m2.ko: Key was rejected by service\n");
	/* once more, all loaded: EEXIST (loaded already) is no failure */
	loads[0] = '\0';
	fail_on = "a/zeta.ko";
	fail_errno = EEXIST;
	assert_int_equal(load_all(), 2);
	assert_string_equal(loads, "a/zeta.ko a/alpha.ko b/m1.ko b/m2.ko b/m3.ko");
	assert_string_equal(status, "a loaded\nb loaded\n");
}

/* a line that is not a module's file name: refused, nothing of it opened,
 * the extension stopped there */
static void test_refused_lines(void **state)
{
	(void)state;
	put("x.ko", "outside any extension's folder");
	put("x.txt", "not a module");
	extension("d", "../x.ko\nok.ko\n", FILES("ok.ko"));
	extension("e", "ok.ko\nx.txt\nlater.ko\n", FILES("ok.ko", "x.txt", "later.ko"));
	extension("f", "ok.ko\n/etc/x.ko\n", FILES("ok.ko"));
	extension("g", "OK.ko\n", FILES("OK.ko"));
	char line[300];
	memset(line, 'm', 200);
	strcpy(line + 200, ".ko\n");
	extension("h", line, FILES("ok.ko"));
	assert_int_equal(load_all(), 0);
	assert_string_equal(loads, "e/ok.ko f/ok.ko");
	assert_string_equal(status, "d failed ../x.ko: not a module of an extension\n"
				    "e failed x.txt: not a module of an extension\n"
				    "f failed /etc/x.ko: not a module of an extension\n"
				    "g failed OK.ko: not a module of an extension\n"
				    "h failed (a long line): not a module of an extension\n");
}

/* EXT_MODULES_MAX modules at most */
static void test_too_many_modules(void **state)
{
	(void)state;
	char modules[4096] = "";
	assert_int_equal(mkdir(at("big"), 0755), 0);
	for (int i = 0; i <= EXT_MODULES_MAX; i++) {
		char name[64];
		snprintf(modules + strlen(modules), sizeof(modules) - strlen(modules), "m%02d.ko\n",
			 i);
		snprintf(name, sizeof(name), "big/m%02d.ko", i);
		put(name, "m");
	}
	put("big/modules", modules);
	assert_int_equal(load_all(), 0);
	assert_int_equal(strlen(loads), EXT_MODULES_MAX * strlen("big/m00.ko ") - 1);
	assert_non_null(strstr(loads, "big/m31.ko"));
	assert_null(strstr(loads, "big/m32.ko"));
	assert_string_equal(status, "big failed m32.ko: not a module of an extension\n");
}

static void test_files(void **state)
{
	(void)state;
	/* a module that is not there; one that is a symlink (never followed) */
	extension("gone", "here.ko\nmissing.ko\nafter.ko\n", FILES("here.ko", "after.ko"));
	extension("link", "l.ko\n", FILES("real.ko"));
	assert_int_equal(symlink("real.ko", at("link/l.ko")), 0);
	/* not an extension's folder: a name outside the grammar (a temporary
	 * of hostd's, uppercase), a file */
	extension(".new.new", "n.ko\n", FILES("n.ko"));
	extension("Upper", "u.ko\n", FILES("u.ko"));
	put("plain", "a file");
	assert_int_equal(load_all(), 0);
	assert_string_equal(loads, "gone/here.ko");
	assert_string_equal(status, "gone failed missing.ko: No such file or directory\n"
				    "link failed l.ko: Too many levels of symbolic links\n");
}

/* an order that names no module is no extension loaded; folders without
 * an order do not count towards the most a host takes */
static void test_empty_and_most(void **state)
{
	(void)state;
	extension("a-empty", "# nothing\n\n", FILES("x.ko"));
	char name[16];
	for (int i = 0; i < EXT_MAX; i++) {
		snprintf(name, sizeof(name), "b%02d", i);
		extension(name, NULL, FILES("c.ko")); /* installs cut short */
	}
	extension("c", "c.ko\n", FILES("c.ko"));
	assert_int_equal(load_all(), 1);
	assert_string_equal(loads, "c/c.ko");
	assert_string_equal(status, "a-empty failed modules: it names no module\nc loaded\n");
	for (int i = 0; i < EXT_MAX; i++) {
		snprintf(name, sizeof(name), "d%02d", i);
		extension(name, "d.ko\n", FILES("d.ko"));
	}
	assert_int_equal(load_all(), EXT_MAX - 1); /* a-empty, c, d00..d61 */
	assert_null(strstr(status, "d62 "));
}

/* no EXT_DIR at all: nothing, an empty status */
static void test_none(void **state)
{
	(void)state;
	rm_rf(at(""));
	assert_int_equal(load_all(), 0);
	assert_string_equal(loads, "");
	assert_string_equal(status, "");
}

/* a status buffer too small for every line: whole lines only, NUL-terminated */
static void test_small_status(void **state)
{
	(void)state;
	extension("a", "a.ko\n", FILES("a.ko"));
	extension("b", "b.ko\n", FILES("b.ko"));
	fail_on = "b/b.ko";
	fail_errno = EKEYREJECTED;
	char small[24];
	memset(small, 'x', sizeof(small));
	assert_int_equal(extload_all(bank, record, small, sizeof(small)), 1);
	assert_string_equal(small, "a loaded\n");
	/* the first line too long already */
	char tiny[5];
	memset(tiny, 'x', sizeof(tiny));
	assert_int_equal(extload_all(bank, record, tiny, sizeof(tiny)), 1);
	assert_string_equal(tiny, "");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup(test_order, fresh),
	    cmocka_unit_test_setup(test_refused_lines, fresh),
	    cmocka_unit_test_setup(test_too_many_modules, fresh),
	    cmocka_unit_test_setup(test_files, fresh),
	    cmocka_unit_test_setup(test_empty_and_most, fresh),
	    cmocka_unit_test_setup(test_none, fresh),
	    cmocka_unit_test_setup(test_small_status, fresh),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
