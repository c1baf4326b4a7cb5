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
	int a = authz_login_check("nobody", "guess-1A", DOOR_API, "192.0.2.1", 100, &r1, &w1, e1,
				  sizeof(e1));
	assert_int_equal(secret_password_checks(), before + 1);
	int b = authz_login_check("alice", "guess-1A", DOOR_API, "192.0.2.1", 100, &r2, &w2, e2,
				  sizeof(e2));
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
		assert_int_equal(authz_login_check("alice", "x", DOOR_API, "192.0.2.1", 100, &retry,
						   &why, err, sizeof(err)),
				 -EACCES);
		assert_int_equal(authz_login_check("nobody", "x", DOOR_API, "192.0.2.1", 100,
						   &retry, &why, err, sizeof(err)),
				 -EACCES);
	}
	char e1[256], e2[256];
	long r1, r2;
	assert_int_equal(
	    authz_login_check("alice", PW, DOOR_API, "192.0.2.1", 101, &r1, &why, e1, sizeof(e1)),
	    -EAGAIN);
	assert_int_equal(
	    authz_login_check("nobody", PW, DOOR_API, "192.0.2.1", 101, &r2, &why, e2, sizeof(e2)),
	    -EAGAIN);
	assert_true(r1 > 0);
	assert_int_equal(r1, r2);
	assert_string_equal(e1, e2);
	assert_int_equal(authz_login_check("alice", PW, DOOR_API, "192.0.2.2", 101, &retry, &why,
					   err, sizeof(err)),
			 0);
	json_t *u = authz_user("alice", 101);
	assert_true(json_is_true(json_object_get(u, "locked")));
	json_decref(u);
}

static void set_lockdown(const char *mode)
{
	char err[256];
	json_t *body = json_pack("{s:s,s:[s]}", "mode", mode, "exceptions", "carol");
	assert_int_equal(authz_lockdown_put(body, err, sizeof(err)), 0);
	json_decref(body);
}

/* The lockdown matrix (common/localapi.h), cell by cell: root, an
 * Administrator of the host (carol, the exception user, so that strict
 * lockdown may be set), a ReadOnly user (dave). */
static void test_lockdown_matrix(void **state)
{
	(void)state;
	char err[256];
	assert_int_equal(authz_user_add("carol", PW, err, sizeof(err)), 0);
	assert_int_equal(authz_user_add("dave", PW, err, sizeof(err)), 0);
	assert_int_equal(authz_permission_put("carol", "host", "Administrator", err, sizeof(err)),
			 0);
	assert_int_equal(authz_permission_put("dave", "host", "ReadOnly", err, sizeof(err)), 0);
	static const struct {
		const char *mode;
		enum door door;
		int root, admin, readonly; /* 1: let in */
	} cells[] = {
	    {"off", DOOR_API, 1, 1, 1},		 {"normal", DOOR_API, 0, 1, 0},
	    {"strict", DOOR_API, 0, 1, 0},	 {"off", DOOR_DCUI, 1, 1, 0},
	    {"normal", DOOR_DCUI, 1, 0, 0},	 {"strict", DOOR_DCUI, 0, 0, 0},
	    {"off", DOOR_TSM_LOCAL, 1, 1, 0},	 {"normal", DOOR_TSM_LOCAL, 0, 0, 0},
	    {"strict", DOOR_TSM_LOCAL, 0, 0, 0}, {"off", DOOR_TSM_SSH, 1, 1, 0},
	    {"normal", DOOR_TSM_SSH, 0, 0, 0},	 {"strict", DOOR_TSM_SSH, 0, 0, 0},
	};
	for (size_t i = 0; i < sizeof(cells) / sizeof(cells[0]); i++) {
		set_lockdown(cells[i].mode);
		const char *users[] = {"root", "carol", "dave"};
		int want[] = {cells[i].root, cells[i].admin, cells[i].readonly};
		for (int u = 0; u < 3; u++) {
			int rc = authz_door_check(users[u], cells[i].door, err, sizeof(err));
			if ((rc == 0) != want[u])
				fail_msg("%s, door %d, %s: %d (%s)", cells[i].mode, cells[i].door,
					 users[u], rc, err);
		}
	}
	set_lockdown("off");
	/* a console's refusal comes after the password: a wrong one is a
	 * wrong one, whoever the user is */
	long retry;
	const char *why;
	throttle_reset();
	assert_int_equal(authz_login_check("dave", "wrong-1A", DOOR_DCUI, "dcui", 100, &retry, &why,
					   err, sizeof(err)),
			 -EACCES);
	assert_int_equal(
	    authz_login_check("dave", PW, DOOR_DCUI, "dcui", 100, &retry, &why, err, sizeof(err)),
	    -EPERM);
	assert_string_equal(why, "not allowed"); /* lockdown is off: no Administrator */
	assert_int_equal(
	    authz_login_check("carol", PW, DOOR_DCUI, "dcui", 100, &retry, &why, err, sizeof(err)),
	    0);
	/* an SSH login is authenticated already: no password, but the account
	 * checks still hold */
	assert_int_equal(authz_login_check("carol", NULL, DOOR_TSM_SSH, "ssh 192.0.2.9", 100,
					   &retry, &why, err, sizeof(err)),
			 0);
	assert_int_equal(authz_login_check("nobody", NULL, DOOR_TSM_SSH, "ssh 192.0.2.9", 100,
					   &retry, &why, err, sizeof(err)),
			 -EACCES);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_unknown_user_as_wrong_password),
	    cmocka_unit_test(test_throttle_per_source),
	    cmocka_unit_test(test_lockdown_matrix),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
