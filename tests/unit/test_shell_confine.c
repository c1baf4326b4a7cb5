/* keel-shell's path confinement (shell/confine.h) in a fake root: "..",
 * symlinks that lead out (or into a secret), and /config's secrets. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "shell/confine.h"

static char root[PATH_MAX];

static void make(const char *rel, const char *text)
{
	char p[PATH_MAX * 2];
	snprintf(p, sizeof(p), "%s%s", root, rel);
	if (!text) {
		assert_int_equal(mkdir(p, 0700), 0);
		return;
	}
	FILE *f = fopen(p, "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
}

static void link_to(const char *rel, const char *target)
{
	char p[PATH_MAX * 2];
	snprintf(p, sizeof(p), "%s%s", root, rel);
	assert_int_equal(symlink(target, p), 0);
}

static int setup(void **state)
{
	(void)state;
	char tmpl[] = "/tmp/keel-confine-XXXXXX";
	assert_non_null(mkdtemp(tmpl));
	assert_non_null(realpath(tmpl, root));
	make("/config", NULL);
	make("/config/tls", NULL);
	make("/config/ssh", NULL);
	make("/scratch", NULL);
	make("/scratch/log", NULL);
	make("/datastores", NULL);
	make("/datastores/local", NULL);
	make("/etc", NULL);
	make("/configuration", NULL);
	make("/config/host.conf", "hostname = a\n");
	make("/config/keel.db", "db");
	make("/config/keel.db-wal", "wal");
	make("/config/tls/cert.pem", "cert");
	make("/config/tls/key.pem", "key");
	make("/config/tls/server.KEY", "key");
	make("/config/ssh/dropbear_rsa_host_key", "key");
	make("/config/ssh/authorized", "x");
	make("/scratch/log/hostd.log", "log");
	make("/datastores/local/disk.img", "img");
	make("/etc/passwd", "root:x:0:0");
	make("/configuration/x", "x");
	link_to("/scratch/to-key", "../config/tls/key.pem");
	link_to("/scratch/to-passwd", "/etc/passwd"); /* absolute: the real /etc */
	link_to("/scratch/to-etc", "../etc");
	link_to("/scratch/to-log", "log/hostd.log");
	link_to("/scratch/to-ssh", "../config/ssh");
	link_to("/datastores/local/up", "../.."); /* the root */
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	char cmd[PATH_MAX + 16];
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", root);
	return system(cmd) == 0 ? 0 : -1;
}

static enum confine_verdict judge(const char *path)
{
	char resolved[PATH_MAX];
	return confine_resolve(root, path, resolved);
}

static void test_allowed(void **state)
{
	(void)state;
	char resolved[PATH_MAX], want[PATH_MAX * 2];
	assert_int_equal(confine_resolve(root, "/scratch/to-log", resolved), CONFINE_OK);
	snprintf(want, sizeof(want), "%s/scratch/log/hostd.log", root);
	assert_string_equal(resolved, want);
	assert_int_equal(judge("/config"), CONFINE_OK);
	assert_int_equal(judge("/config/"), CONFINE_OK);
	assert_int_equal(judge("/config/host.conf"), CONFINE_OK);
	assert_int_equal(judge("/config/tls"), CONFINE_OK);
	assert_int_equal(judge("/config/ssh"), CONFINE_OK); /* listed, not its files */
	assert_int_equal(judge("/config/tls/cert.pem"), CONFINE_OK);
	assert_int_equal(judge("/datastores/local/disk.img"), CONFINE_OK);
	assert_int_equal(judge("/etc/../scratch/./log//hostd.log"), CONFINE_OK);
}

static void test_outside(void **state)
{
	(void)state;
	assert_int_equal(judge("/etc/passwd"), CONFINE_OUTSIDE);
	assert_int_equal(judge("/"), CONFINE_OUTSIDE);
	assert_int_equal(judge("/scratch/.."), CONFINE_OUTSIDE);
	assert_int_equal(judge("/config/../etc/passwd"), CONFINE_OUTSIDE);
	assert_int_equal(judge("/scratch/to-etc/passwd"), CONFINE_OUTSIDE);
	assert_int_equal(judge("/datastores/local/up/etc/passwd"), CONFINE_OUTSIDE);
	/* a name that only starts like an allowed folder */
	assert_int_equal(judge("/configuration/x"), CONFINE_OUTSIDE);
	/* an absolute link leads out of the root altogether */
	assert_int_equal(judge("/scratch/to-passwd"), CONFINE_OUTSIDE);
	/* ".." above the (fake) root leads out of it: outside */
	assert_int_equal(judge("/../../../../etc/passwd"), CONFINE_OUTSIDE);
}

static void test_secrets(void **state)
{
	(void)state;
	assert_int_equal(judge("/config/keel.db"), CONFINE_SECRET);
	assert_int_equal(judge("/config/keel.db-wal"), CONFINE_SECRET);
	assert_int_equal(judge("/config/tls/key.pem"), CONFINE_SECRET);
	assert_int_equal(judge("/config/tls/server.KEY"), CONFINE_SECRET);
	assert_int_equal(judge("/config/ssh/dropbear_rsa_host_key"), CONFINE_SECRET);
	assert_int_equal(judge("/config/ssh/authorized"), CONFINE_SECRET);
	assert_int_equal(judge("/config/tls/../keel.db"), CONFINE_SECRET);
	/* through links */
	assert_int_equal(judge("/scratch/to-key"), CONFINE_SECRET);
	assert_int_equal(judge("/scratch/to-ssh/dropbear_rsa_host_key"), CONFINE_SECRET);
}

static void test_errors(void **state)
{
	(void)state;
	char resolved[PATH_MAX];
	errno = 0;
	assert_int_equal(confine_resolve(root, "scratch/log", resolved), CONFINE_ERROR);
	assert_int_equal(errno, EINVAL);
	assert_int_equal(confine_resolve(root, "/scratch/nothing", resolved), CONFINE_ERROR);
	assert_int_equal(errno, ENOENT);
	char *longpath = malloc(PATH_MAX + 10);
	memset(longpath, 'a', PATH_MAX + 9);
	longpath[0] = '/';
	longpath[PATH_MAX + 9] = '\0';
	assert_int_equal(confine_resolve(root, longpath, resolved), CONFINE_ERROR);
	free(longpath);
	assert_string_equal(confine_reason(CONFINE_SECRET, 0), "hidden: holds secrets");
	assert_non_null(strstr(confine_reason(CONFINE_OUTSIDE, 0), "/config, /scratch"));
}

static void test_open_refuses_links(void **state)
{
	(void)state;
	char p[PATH_MAX * 2];
	snprintf(p, sizeof(p), "%s/scratch/log/hostd.log", root);
	int fd = confine_open(p, O_RDONLY);
	assert_true(fd >= 0);
	close(fd);
	/* a path with a link in it (as if swapped in after the check) */
	snprintf(p, sizeof(p), "%s/scratch/to-log", root);
	assert_int_equal(confine_open(p, O_RDONLY), -1);
	assert_true(errno == ELOOP || errno == EXDEV);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_allowed),
	    cmocka_unit_test(test_outside),
	    cmocka_unit_test(test_secrets),
	    cmocka_unit_test(test_errors),
	    cmocka_unit_test(test_open_refuses_links),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
