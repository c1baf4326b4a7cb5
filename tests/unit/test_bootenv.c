/* The boot loader's environment block (common/bootenv.h), against GRUB's
 * own tool, grub-editenv (Debian's grub-common): what it writes, we read;
 * what we write, it reads; and a block we rewrite in place keeps its size. */
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

#include "common/bootenv.h"
#include "common/util.h"

static char dir[] = "/tmp/keel-bootenv-XXXXXX";
static char file[64];

static int setup(void **state)
{
	(void)state;
	if (!mkdtemp(dir))
		return -1;
	char keel[64];
	snprintf(keel, sizeof(keel), "%s/keel", dir);
	snprintf(file, sizeof(file), "%s/keel/grubenv", dir);
	return mkdir(keel, 0700);
}

static int teardown(void **state)
{
	(void)state;
	char cmd[64];
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	return system(cmd);
}

/* grub-editenv FILE ARGS; its standard output (malloc'ed) */
static char *editenv(const char *args)
{
	char cmd[256];
	snprintf(cmd, sizeof(cmd), "grub-editenv %s %s", file, args);
	FILE *p = popen(cmd, "r");
	assert_non_null(p);
	char *out = calloc(1, 4096);
	size_t n = fread(out, 1, 4095, p);
	out[n] = '\0';
	assert_int_equal(pclose(p), 0);
	return out;
}

static void test_grub_writes_we_read(void **state)
{
	(void)state;
	free(editenv("create"));
	struct bootenv env;
	/* an empty block: bank a, known good */
	assert_int_equal(bootenv_read(dir, &env), 0);
	assert_int_equal(env.bank, 'a');
	assert_int_equal(env.tries, -1);
	assert_string_equal(env.reason, "");
	free(editenv("set other=1 keel_bank=b keel_tries=2 keel_reason=updated"));
	assert_int_equal(bootenv_read(dir, &env), 0);
	assert_int_equal(env.bank, 'b');
	assert_int_equal(env.tries, 2);
	assert_string_equal(env.reason, "updated");
	/* what is not ours to read back: the defaults */
	free(editenv("set keel_bank=c keel_tries=9 keel_reason=because"));
	assert_int_equal(bootenv_read(dir, &env), 0);
	assert_int_equal(env.bank, 'a');
	assert_int_equal(env.tries, -1);
	assert_string_equal(env.reason, "");
	free(editenv("set keel_tries=10"));
	assert_int_equal(bootenv_read(dir, &env), 0);
	assert_int_equal(env.tries, -1);
}

static void test_we_write_grub_reads(void **state)
{
	(void)state;
	free(editenv("create"));
	struct stat before, after;
	assert_int_equal(stat(file, &before), 0);
	struct bootenv env = {.bank = 'b', .tries = 3, .reason = "updated"};
	assert_int_equal(bootenv_write(dir, &env), 0);
	char *list = editenv("list");
	assert_string_equal(list, "keel_bank=b\nkeel_tries=3\nkeel_reason=updated\n");
	free(list);
	/* known good: keel_tries empty, as GRUB's script tests it */
	env = (struct bootenv){.bank = 'a', .tries = -1, .reason = "rollback"};
	assert_int_equal(bootenv_write(dir, &env), 0);
	list = editenv("list");
	assert_string_equal(list, "keel_bank=a\nkeel_tries=\nkeel_reason=rollback\n");
	free(list);
	/* in place: the same file, the same size */
	assert_int_equal(stat(file, &after), 0);
	assert_int_equal(after.st_ino, before.st_ino);
	assert_int_equal(after.st_size, BOOTENV_SIZE);
	struct bootenv back;
	assert_int_equal(bootenv_read(dir, &back), 0);
	assert_int_equal(back.bank, 'a');
	assert_int_equal(back.tries, -1);
	assert_string_equal(back.reason, "rollback");
}

static void test_refused(void **state)
{
	(void)state;
	char buf[BOOTENV_SIZE];
	struct bootenv env = {.bank = 'c', .tries = -1};
	assert_int_equal(bootenv_format(&env, buf), -1);
	env = (struct bootenv){.bank = 'a', .tries = BOOT_TRIES + 1};
	assert_int_equal(bootenv_format(&env, buf), -1);
	env = (struct bootenv){.bank = 'a', .tries = 0, .reason = "whim"};
	assert_int_equal(bootenv_format(&env, buf), -1);
	/* no block there: nothing is written, and not a block: not read */
	assert_int_equal(bootenv_write("/nonexistent", &(struct bootenv){.bank = 'a'}), -1);
	assert_int_equal(write_file(file, "keel_bank=b\n", 12, 0644), 0);
	assert_int_equal(bootenv_read(dir, &env), -1);
	assert_int_equal(errno, EINVAL);
	/* a block cut short is not one */
	free(editenv("create"));
	assert_int_equal(truncate(file, BOOTENV_SIZE - 1), 0);
	assert_int_equal(bootenv_read(dir, &env), -1);
	assert_int_equal(bootenv_other('a'), 'b');
	assert_int_equal(bootenv_other('b'), 'a');
}

static void test_booted(void **state)
{
	(void)state;
	assert_int_equal(bootenv_booted("console=ttyS0 keel.bank=b\n"), 'b');
	assert_int_equal(bootenv_booted("keel.bank=a quiet"), 'a');
	assert_int_equal(bootenv_booted("console=ttyS0 panic=10\n"), 0);
	assert_int_equal(bootenv_booted("keel.bank=c keel.bank=ab xkeel.bank=a"), 0);
	assert_int_equal(bootenv_booted(""), 0);
	assert_int_equal(bootenv_booted(NULL), 0);
}

/* keel.boot_timeout=: the seconds, strictly 10..3600; else the default */
static void test_ready_timeout(void **state)
{
	(void)state;
	int s = 0;
	const char *value = NULL;
	assert_int_equal(bootenv_ready_timeout("console=ttyS0 keel.bank=b\n", &s, &value), 0);
	assert_int_equal(s, BOOT_READY_TIMEOUT_S);
	assert_null(value);
	assert_int_equal(bootenv_ready_timeout(NULL, &s, NULL), 0);
	assert_int_equal(s, BOOT_READY_TIMEOUT_S);
	assert_int_equal(bootenv_ready_timeout("", &s, NULL), 0);
	assert_int_equal(
	    bootenv_ready_timeout("xkeel.boot_timeout=20 keel.boot_timeouts=20", &s, NULL), 0);
	assert_int_equal(bootenv_ready_timeout("keel.boot_timeout=20 quiet\n", &s, &value), 1);
	assert_int_equal(s, 20);
	assert_int_equal(bootenv_ready_timeout("quiet keel.boot_timeout=3600\n", &s, NULL), 1);
	assert_int_equal(s, 3600);
	assert_int_equal(bootenv_ready_timeout("keel.boot_timeout=10", &s, NULL), 1);
	assert_int_equal(s, 10);
	/* the last one counts, as the kernel's own parameters */
	assert_int_equal(
	    bootenv_ready_timeout("keel.boot_timeout=20\tkeel.boot_timeout=45", &s, NULL), 1);
	assert_int_equal(s, 45);
	/* out of range, not plainly written, empty, too long: ignored */
	const char *bad[] = {"9",   "3601", "0", "-20", "+20",	"020",
			     "20s", "2 0",  "",	 "1e2", "0x20", "99999999999999999999",
			     " 20", "20.5"};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		char cmdline[96];
		snprintf(cmdline, sizeof(cmdline), "quiet keel.boot_timeout=%s panic=10\n", bad[i]);
		s = 0;
		value = NULL;
		assert_int_equal(bootenv_ready_timeout(cmdline, &s, &value), -1);
		assert_int_equal(s, BOOT_READY_TIMEOUT_S);
		assert_ptr_equal(value, cmdline + strlen("quiet keel.boot_timeout="));
	}
	/* a bad last one undoes a good one before it */
	assert_int_equal(
	    bootenv_ready_timeout("keel.boot_timeout=20 keel.boot_timeout=5", &s, NULL), -1);
	assert_int_equal(s, BOOT_READY_TIMEOUT_S);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_grub_writes_we_read),
	    cmocka_unit_test(test_we_write_grub_reads),
	    cmocka_unit_test(test_refused),
	    cmocka_unit_test(test_booted),
	    cmocka_unit_test(test_ready_timeout),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
