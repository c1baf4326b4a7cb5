#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "hostd/authz.h"
#include "hostd/db.h"
#include "hostd/secret.h"
#include "hostd/throttle.h"

#define PW "Correct-Horse-7"

static char dir[64], path[128];

static int setup(void **state)
{
	(void)state;
	char err[256];
	strcpy(dir, "/tmp/keel-authz-XXXXXX");
	if (!mkdtemp(dir))
		return -1;
	snprintf(path, sizeof(path), "%s/inventory.db", dir);
	if (db_open(path, err, sizeof(err)) < 0 ||
	    authz_user_add("alice", PW, err, sizeof(err)) < 0 || secret_dummy_init() < 0)
		return -1;
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	db_close();
	unlink(path);
	rmdir(dir);
	return 0;
}

/* An unknown user and a wrong password: the same error and message, and
 * each costs one password hash check. */
static void test_unknown_user_as_wrong_password(void **state)
{
	(void)state;
	char e1[256], e2[256];
	const char *w1, *w2;
	long r1, r2;
	throttle_reset();
	unsigned long before = secret_password_checks();
	int a = authz_login_check("nobody", "guess-1A", "192.0.2.1", 100, &r1, &w1, e1, sizeof(e1));
	assert_int_equal(secret_password_checks(), before + 1);
	int b = authz_login_check("alice", "guess-1A", "192.0.2.1", 100, &r2, &w2, e2, sizeof(e2));
	assert_int_equal(secret_password_checks(), before + 2);
	assert_int_equal(a, -EACCES);
	assert_int_equal(b, -EACCES);
	assert_string_equal(e1, e2);
	assert_string_equal(w1, "unknown user"); /* the audit says what happened */
	assert_string_equal(w2, "failed");
}

/* After lockout_failures failures from one address, that pair waits
 * (whether or not the user exists); the user logs in from another. */
static void test_throttle_per_source(void **state)
{
	(void)state;
	char err[256];
	const char *why;
	long retry;
	throttle_reset();
	for (int i = 0; i < 5; i++) { /* the default policy: 5 */
		assert_int_equal(authz_login_check("alice", "x", "192.0.2.1", 100, &retry, &why,
						   err, sizeof(err)),
				 -EACCES);
		assert_int_equal(authz_login_check("nobody", "x", "192.0.2.1", 100, &retry, &why,
						   err, sizeof(err)),
				 -EACCES);
	}
	char e1[256], e2[256];
	long r1, r2;
	assert_int_equal(
	    authz_login_check("alice", PW, "192.0.2.1", 101, &r1, &why, e1, sizeof(e1)), -EAGAIN);
	assert_int_equal(
	    authz_login_check("nobody", PW, "192.0.2.1", 101, &r2, &why, e2, sizeof(e2)), -EAGAIN);
	assert_true(r1 > 0);
	assert_int_equal(r1, r2);
	assert_string_equal(e1, e2);
	assert_int_equal(
	    authz_login_check("alice", PW, "192.0.2.2", 101, &retry, &why, err, sizeof(err)), 0);
	json_t *u = authz_user("alice", 101);
	assert_true(json_is_true(json_object_get(u, "locked")));
	json_decref(u);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_unknown_user_as_wrong_password),
	    cmocka_unit_test(test_throttle_per_source),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
