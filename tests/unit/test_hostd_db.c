#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "rm_rf.h"

#include <dirent.h>
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <jansson.h>
#include <sqlite3.h>

#include "common/util.h"
#include "hostd/db.h"
#include "hostd/db_statement.h"

/* --- helpers -------------------------------------------------------------- */

struct fx {
	char dir[64];
	char path[128];
};

static void open_db(struct fx *f)
{
	char err[512] = "";
	if (db_open(f->path, err, sizeof(err)) < 0)
		fail_msg("db_open %s: %s", f->path, err);
}

static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));
	if (!f)
		return -1;
	strcpy(f->dir, "/tmp/keel-db-XXXXXX");
	if (!mkdtemp(f->dir)) {
		free(f);
		return -1;
	}
	snprintf(f->path, sizeof(f->path), "%s/inventory.db", f->dir);
	char err[512] = "";
	if (db_open(f->path, err, sizeof(err)) < 0) {
		print_error("db_open: %s\n", err);
		rm_rf(f->dir);
		free(f);
		return -1;
	}
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;
	db_close();
	rm_rf(f->dir);
	free(f);
	return 0;
}

static json_t *J(const char *text)
{
	json_error_t e;
	json_t *v = json_loads(text, 0, &e);
	if (!v)
		fail_msg("bad JSON in test: %s: %s", text, e.text);
	return v;
}

/* The inventory's VM functions (typed: struct vm_config) seen through the
 * canonical JSON, so that the tests compare whole configurations. */
static int vm_add_json(const json_t *j, int64_t *id, char *err, size_t errlen)
{
	struct vm_config c;
	int rc = vmconf_from_json(j, &c, err, errlen);
	return rc < 0 ? rc : db_vm_add(&c, id, err, errlen);
}

static int vm_update_json(const json_t *j, char *err, size_t errlen)
{
	struct vm_config c;
	int rc = vmconf_from_json(j, &c, err, errlen);
	return rc < 0 ? rc : db_vm_update(&c, err, errlen);
}

static json_t *vm_get_json(const char *name, int64_t *id)
{
	struct vm_config c;
	return db_vm_get(name, &c, id) == 0 ? vmconf_json(&c) : NULL;
}

static json_t *vm_list_json(void)
{
	size_t n;
	struct vm_config *all = db_vm_list(&n);
	json_t *arr = json_array();
	for (size_t i = 0; i < n; i++)
		json_array_append_new(arr, vmconf_json(&all[i]));
	free(all);
	return arr;
}

static json_t *vm_conf(const char *name, int vcpus)
{
	json_t *c = J("{\"memory_mib\":512,\"firmware\":\"none\",\"boot_order\":[],"
		      "\"kernel\":\"local/vmlinuz\",\"initrd\":\"\","
		      "\"cmdline\":\"console=ttyS0\",\"disks\":[{\"path\":\"local/a.img\","
		      "\"readonly\":false}],\"nics\":[{\"mac\":\"52:54:00:12:34:56\","
		      "\"portgroup\":\"VM Network\"}],"
		      "\"autostart\":false,\"autostart_order\":0,\"autostart_delay_s\":0,"
		      "\"cloud_init\":null}");
	json_object_set_new(c, "name", json_string(name));
	json_object_set_new(c, "vcpus", json_integer(vcpus));
	return c;
}

static int64_t add_vm(const char *name, int vcpus)
{
	json_t *c = vm_conf(name, vcpus);
	char err[512] = "";
	int64_t id = -1;
	if (vm_add_json(c, &id, err, sizeof(err)) < 0)
		fail_msg("db_vm_add %s: %s", name, err);
	json_decref(c);
	return id;
}

/* The names of vm_list_json(), joined by ','. */
static void list_names(char *out, size_t n)
{
	json_t *arr = vm_list_json();
	assert_true(json_is_array(arr));
	out[0] = '\0';
	size_t i;
	json_t *c;
	json_array_foreach(arr, i, c)
	{
		const char *name = json_string_value(json_object_get(c, "name"));
		assert_non_null(name);
		if (i)
			strncat(out, ",", n - strlen(out) - 1);
		strncat(out, name, n - strlen(out) - 1);
	}
	json_decref(arr);
}

/* One integer from the database file, through a connection of our own. */
static long long query_int(const char *path, const char *sql)
{
	sqlite3 *s = NULL;
	assert_int_equal(sqlite3_open_v2(path, &s, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
	sqlite3_stmt *st = NULL;
	assert_int_equal(sqlite3_prepare_v2(s, sql, -1, &st, NULL), SQLITE_OK);
	assert_int_equal(sqlite3_step(st), SQLITE_ROW);
	long long v = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	sqlite3_close(s);
	return v;
}

/* --- open ----------------------------------------------------------------- */

static void test_wal(void **state)
{
	struct fx *f = *state;
	/* journal_mode=WAL is stored in the file: another connection sees it */
	sqlite3 *s = NULL;
	assert_int_equal(sqlite3_open_v2(f->path, &s, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
	sqlite3_stmt *st = NULL;
	assert_int_equal(sqlite3_prepare_v2(s, "PRAGMA journal_mode", -1, &st, NULL), SQLITE_OK);
	assert_int_equal(sqlite3_step(st), SQLITE_ROW);
	assert_string_equal((const char *)sqlite3_column_text(st, 0), "wal");
	sqlite3_finalize(st);
	sqlite3_close(s);

	/* and a write goes to the -wal file */
	char err[512] = "", wal[160];
	assert_int_equal(db_user_set("root", "$y$hash", err, sizeof(err)), 0);
	snprintf(wal, sizeof(wal), "%s-wal", f->path);
	struct stat sb;
	assert_int_equal(stat(wal, &sb), 0);
	assert_true(sb.st_size > 0);

	/* the schema is there */
	assert_int_equal(
	    query_int(f->path, "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name "
			       "IN ('users', 'sessions', 'vms')"),
	    3);
}

static void test_open_fails(void **state)
{
	(void)state;
	/* db is one static handle: close the fixture's before trying */
	db_close();
	char err[512] = "";
	assert_int_equal(db_open("/nonexistent-keel-dir/x/inventory.db", err, sizeof(err)), -EIO);
	assert_non_null(strstr(err, "/nonexistent-keel-dir/x/inventory.db"));
	/* and a good path opens again after a failed open */
	open_db(*state);
}

/* --- users ---------------------------------------------------------------- */

static void test_users(void **state)
{
	(void)state;
	char err[512] = "", hash[256];
	memset(hash, 'X', sizeof(hash));
	assert_int_equal(db_user_hash("root", hash, sizeof(hash)), -ENOENT);

	assert_int_equal(db_user_set("root", "$y$j9T$salt$hash1", err, sizeof(err)), 0);
	assert_int_equal(db_user_hash("root", hash, sizeof(hash)), 0);
	assert_string_equal(hash, "$y$j9T$salt$hash1");

	/* replaced, not added */
	assert_int_equal(db_user_set("root", "$y$j9T$salt$hash2", err, sizeof(err)), 0);
	assert_int_equal(db_user_hash("root", hash, sizeof(hash)), 0);
	assert_string_equal(hash, "$y$j9T$salt$hash2");
	assert_int_equal(query_int(((struct fx *)*state)->path, "SELECT count(*) FROM users"), 1);

	/* others are separate; names are exact */
	assert_int_equal(db_user_set("admin", "$y$other", err, sizeof(err)), 0);
	assert_int_equal(db_user_hash("admin", hash, sizeof(hash)), 0);
	assert_string_equal(hash, "$y$other");
	assert_int_equal(db_user_hash("root", hash, sizeof(hash)), 0);
	assert_string_equal(hash, "$y$j9T$salt$hash2");
	assert_int_equal(db_user_hash("Root", hash, sizeof(hash)), -ENOENT);
	assert_int_equal(db_user_hash("nobody", hash, sizeof(hash)), -ENOENT);
	assert_int_equal(db_user_hash("", hash, sizeof(hash)), -ENOENT);
	/* SQL in a name is just a name */
	assert_int_equal(db_user_hash("root' OR '1'='1", hash, sizeof(hash)), -ENOENT);

	/* a hash that does not fit is not returned truncated */
	char small[8];
	assert_int_equal(db_user_hash("root", small, sizeof(small)), -ENOENT);
	/* one that just fits is */
	char exact[sizeof("$y$j9T$salt$hash2")];
	assert_int_equal(db_user_hash("root", exact, sizeof(exact)), 0);
	assert_string_equal(exact, "$y$j9T$salt$hash2");
}

/* --- sessions ------------------------------------------------------------- */

#define T0   1000000
#define IDLE 600

static void test_session_basic(void **state)
{
	(void)state;
	char err[512] = "", user[64];
	assert_int_equal(
	    db_session_add("tok1", "root", "192.0.2.1", T0, T0 + 3600, err, sizeof(err)), 0);
	memset(user, 0, sizeof(user));
	assert_int_equal(db_session_check("tok1", T0 + 1, IDLE, user, sizeof(user), NULL, 0), 0);
	assert_string_equal(user, "root");

	/* unknown tokens */
	assert_int_equal(db_session_check("tok2", T0 + 1, IDLE, user, sizeof(user), NULL, 0),
			 -ENOENT);
	assert_int_equal(db_session_check("", T0 + 1, IDLE, user, sizeof(user), NULL, 0), -ENOENT);
	assert_int_equal(db_session_check("TOK1", T0 + 1, IDLE, user, sizeof(user), NULL, 0),
			 -ENOENT);

	/* a token is added once */
	err[0] = '\0';
	assert_int_equal(db_session_add("tok1", "admin", "x", T0 + 2, T0 + 3600, err, sizeof(err)),
			 -EIO);
	assert_true(strlen(err) > 0);
	assert_int_equal(db_session_check("tok1", T0 + 3, IDLE, user, sizeof(user), NULL, 0), 0);
	assert_string_equal(user, "root");

	/* two sessions of one user */
	assert_int_equal(db_session_add("tok2", "root", "", T0, T0 + 3600, err, sizeof(err)), 0);
	assert_int_equal(db_session_check("tok2", T0 + 1, IDLE, user, sizeof(user), NULL, 0), 0);

	/* removed */
	assert_int_equal(db_session_remove("tok1"), 0);
	assert_int_equal(db_session_check("tok1", T0 + 4, IDLE, user, sizeof(user), NULL, 0),
			 -ENOENT);
	assert_int_equal(db_session_remove("tok1"), -ENOENT);
	assert_int_equal(db_session_remove("nope"), -ENOENT);
	/* the other one is still there */
	assert_int_equal(db_session_check("tok2", T0 + 4, IDLE, user, sizeof(user), NULL, 0), 0);
}

static void test_session_expires(void **state)
{
	(void)state;
	char err[512] = "", user[64];
	assert_int_equal(db_session_add("t", "root", "s", T0, T0 + 100, err, sizeof(err)), 0);
	assert_int_equal(db_session_check("t", T0 + 99, 1000000, user, sizeof(user), NULL, 0), 0);
	/* expires <= now: gone, however recent its use */
	assert_int_equal(db_session_check("t", T0 + 100, 1000000, user, sizeof(user), NULL, 0),
			 -ENOENT);
	assert_int_equal(db_session_check("t", T0 + 101, 1000000, user, sizeof(user), NULL, 0),
			 -ENOENT);
	assert_int_equal(db_session_check("t", T0 + 100000, 1000000, user, sizeof(user), NULL, 0),
			 -ENOENT);

	/* an already-expired session is never good */
	assert_int_equal(db_session_add("dead", "root", "s", T0, T0, err, sizeof(err)), 0);
	assert_int_equal(db_session_check("dead", T0, 1000000, user, sizeof(user), NULL, 0),
			 -ENOENT);

	/* adding a session sweeps the expired ones */
	struct fx *f = *state;
	assert_int_equal(db_session_add("live", "root", "s", T0 + 200, T0 + 5000, err, sizeof(err)),
			 0);
	assert_int_equal(query_int(f->path, "SELECT count(*) FROM sessions"), 1);
	assert_int_equal(db_session_check("live", T0 + 201, IDLE, user, sizeof(user), NULL, 0), 0);
}

static void test_session_idle(void **state)
{
	(void)state;
	char err[512] = "", user[64];
	/* last_used older than `idle`: refused (the boundary is refused too) */
	assert_int_equal(db_session_add("a", "root", "s", T0, T0 + 100000, err, sizeof(err)), 0);
	assert_int_equal(db_session_check("a", T0 + IDLE, IDLE, user, sizeof(user), NULL, 0),
			 -ENOENT);
	assert_int_equal(db_session_check("a", T0 + IDLE + 1, IDLE, user, sizeof(user), NULL, 0),
			 -ENOENT);
	assert_int_equal(db_session_check("a", T0 + 5000, IDLE, user, sizeof(user), NULL, 0),
			 -ENOENT);
	/* a check does not revive it: the refused checks did not touch it, so a
	 * check within idle of the add is still fine */
	assert_int_equal(db_session_check("a", T0 + IDLE - 1, IDLE, user, sizeof(user), NULL, 0),
			 0);

	/* a longer idle at check time is a parameter, not stored */
	assert_int_equal(db_session_add("b", "root", "s", T0, T0 + 100000, err, sizeof(err)), 0);
	assert_int_equal(db_session_check("b", T0 + 1000, 2000, user, sizeof(user), NULL, 0), 0);
}

/* a step of the wall clock moves every session with it: after +3600 s a
 * session used just before the step is good, and still expires at its
 * remaining time */
static void test_sessions_shift(void **state)
{
	(void)state;
	char err[512] = "", user[64];
	assert_int_equal(db_session_add("s", "root", "x", T0, T0 + 2000, err, sizeof(err)), 0);
	assert_int_equal(db_session_check("s", T0 + 3600, IDLE, user, sizeof(user), NULL, 0),
			 -ENOENT);
	assert_int_equal(db_sessions_shift(3600), 1);
	assert_int_equal(db_session_check("s", T0 + 3600 + 10, IDLE, user, sizeof(user), NULL, 0),
			 0);
	assert_int_equal(
	    db_session_check("s", T0 + 3600 + 2000, 100000, user, sizeof(user), NULL, 0), -ENOENT);
	assert_int_equal(db_sessions_shift(-7200), 1); /* and back */
	assert_int_equal(db_session_check("s", T0 - 3600 + 20, IDLE, user, sizeof(user), NULL, 0),
			 0);
}

static void test_session_idle_clock(void **state)
{
	struct fx *f = *state;
	char err[512] = "", user[64];

	/* a check more than 60 s after the last use moves last_used */
	assert_int_equal(db_session_add("m", "root", "s", T0, T0 + 100000, err, sizeof(err)), 0);
	assert_int_equal(db_session_check("m", T0 + 500, IDLE, user, sizeof(user), NULL, 0), 0);
	assert_int_equal(
	    query_int(f->path, "SELECT last_used FROM sessions WHERE token_hash = 'm'"), T0 + 500);
	/* so a check at T0 + 1000 (more than IDLE after the add, less after the
	 * use) passes */
	assert_int_equal(db_session_check("m", T0 + 1000, IDLE, user, sizeof(user), NULL, 0), 0);
	assert_string_equal(user, "root");
	/* and moves it again */
	assert_int_equal(db_session_check("m", T0 + 1599, IDLE, user, sizeof(user), NULL, 0), 0);
	assert_int_equal(db_session_check("m", T0 + 2100, IDLE, user, sizeof(user), NULL, 0), 0);
	/* idle from there: refused */
	assert_int_equal(db_session_check("m", T0 + 2100 + IDLE, IDLE, user, sizeof(user), NULL, 0),
			 -ENOENT);

	/* a check within 60 s of the last use does not write */
	assert_int_equal(db_session_add("n", "root", "s", T0, T0 + 100000, err, sizeof(err)), 0);
	assert_int_equal(db_session_check("n", T0 + 30, IDLE, user, sizeof(user), NULL, 0), 0);
	assert_int_equal(
	    query_int(f->path, "SELECT last_used FROM sessions WHERE token_hash = 'n'"), T0);
	assert_int_equal(db_session_check("n", T0 + 59, IDLE, user, sizeof(user), NULL, 0), 0);
	assert_int_equal(
	    query_int(f->path, "SELECT last_used FROM sessions WHERE token_hash = 'n'"), T0);
	/* so the idle clock still runs from the add: T0 + IDLE is too late */
	assert_int_equal(db_session_check("n", T0 + IDLE, IDLE, user, sizeof(user), NULL, 0),
			 -ENOENT);
	/* after more than 60 s it is recorded */
	assert_int_equal(db_session_add("o", "root", "s", T0, T0 + 100000, err, sizeof(err)), 0);
	assert_int_equal(db_session_check("o", T0 + 61, IDLE, user, sizeof(user), NULL, 0), 0);
	assert_int_equal(
	    query_int(f->path, "SELECT last_used FROM sessions WHERE token_hash = 'o'"), T0 + 61);
	assert_int_equal(db_session_check("o", T0 + IDLE + 60, IDLE, user, sizeof(user), NULL, 0),
			 0);

	/* a refused check does not move the clock */
	assert_int_equal(db_session_add("p", "root", "s", T0, T0 + 100000, err, sizeof(err)), 0);
	assert_int_equal(db_session_check("p", T0 + 700, IDLE, user, sizeof(user), NULL, 0),
			 -ENOENT);
	assert_int_equal(
	    query_int(f->path, "SELECT last_used FROM sessions WHERE token_hash = 'p'"), T0);

	/* the absolute expiry is not moved by use */
	assert_int_equal(db_session_add("q", "root", "s", T0, T0 + 1000, err, sizeof(err)), 0);
	assert_int_equal(db_session_check("q", T0 + 500, IDLE, user, sizeof(user), NULL, 0), 0);
	assert_int_equal(db_session_check("q", T0 + 999, IDLE, user, sizeof(user), NULL, 0), 0);
	assert_int_equal(db_session_check("q", T0 + 1000, IDLE, user, sizeof(user), NULL, 0),
			 -ENOENT);
}

/* --- VMs ------------------------------------------------------------------ */

static void test_vm_add_get(void **state)
{
	(void)state;
	char err[512] = "";
	int64_t id1 = add_vm("web1", 1), id2 = add_vm("db", 2), id3 = add_vm("app", 4);
	assert_true(id1 > 0);
	assert_true(id2 > id1);
	assert_true(id3 > id2);

	int64_t id = -1;
	json_t *c = vm_get_json("db", &id), *want = vm_conf("db", 2);
	assert_non_null(c);
	assert_int_equal(id, id2);
	assert_true(json_equal(c, want));
	json_decref(want);
	json_decref(c);
	/* id may be NULL */
	c = vm_get_json("web1", NULL);
	assert_non_null(c);
	want = vm_conf("web1", 1);
	assert_true(json_equal(c, want));
	json_decref(want);
	json_decref(c);

	id = -5;
	assert_null(vm_get_json("nope", &id));
	assert_null(vm_get_json("WEB1", NULL));
	assert_null(vm_get_json("", NULL));

	/* ids are not reused after a removal */
	assert_int_equal(db_vm_remove("app", err, sizeof(err)), 0);
	int64_t id4 = add_vm("app2", 1);
	assert_true(id4 > id3);
	/* nor when a name comes back */
	int64_t id5 = add_vm("app", 1);
	assert_true(id5 > id4);
}

static void test_vm_list(void **state)
{
	(void)state;
	char names[256];
	list_names(names, sizeof(names));
	assert_string_equal(names, "");
	add_vm("web1", 1);
	add_vm("b", 1);
	add_vm("web10", 1);
	add_vm("a.x", 1);
	add_vm("c-2", 1);
	add_vm("web2", 1);
	list_names(names, sizeof(names));
	assert_string_equal(names, "a.x,b,c-2,web1,web10,web2");

	/* whole configurations */
	json_t *arr = vm_list_json();
	json_t *want = vm_conf("b", 1);
	assert_true(json_equal(json_array_get(arr, 1), want));
	json_decref(want);
	json_decref(arr);
}

static void test_vm_update(void **state)
{
	(void)state;
	char err[512] = "";
	int64_t id = add_vm("web1", 1), id2 = add_vm("web2", 1);
	json_t *c = vm_conf("web1", 8);
	json_object_set_new(c, "cmdline", json_string("quiet 'x' \"y\""));
	assert_int_equal(vm_update_json(c, err, sizeof(err)), 0);
	int64_t got = -1;
	json_t *g = vm_get_json("web1", &got);
	assert_true(json_equal(g, c));
	assert_int_equal(got, id); /* the id stays */
	json_decref(g);
	/* cloud-init's texts come back as they went in */
	json_object_set_new(
	    c, "cloud_init",
	    J("{\"user_data\":\"#cloud-config\\nusers:\\n\\t- name: 'é \\\"x\\\"'\\r\\n\","
	      "\"meta_data\":\"\",\"network_config\":\"version: 2\\n\"}"));
	assert_int_equal(vm_update_json(c, err, sizeof(err)), 0);
	g = vm_get_json("web1", NULL);
	assert_true(json_equal(g, c));
	json_decref(g);
	/* the other VM is untouched */
	g = vm_get_json("web2", &got);
	json_t *want = vm_conf("web2", 1);
	assert_true(json_equal(g, want));
	assert_int_equal(got, id2);
	json_decref(want);
	json_decref(g);

	/* a missing VM: an error naming it, nothing added */
	err[0] = '\0';
	json_t *m = vm_conf("ghost", 1);
	assert_int_equal(vm_update_json(m, err, sizeof(err)), -ENOENT);
	assert_string_equal(err, "ghost: no such VM");
	assert_null(vm_get_json("ghost", NULL));
	json_decref(m);
	json_decref(c);
}

static void test_vm_remove(void **state)
{
	(void)state;
	char err[512] = "", names[256];
	add_vm("a", 1);
	add_vm("b", 1);
	assert_int_equal(db_vm_remove("a", err, sizeof(err)), 0);
	assert_null(vm_get_json("a", NULL));
	list_names(names, sizeof(names));
	assert_string_equal(names, "b");

	err[0] = '\0';
	assert_int_equal(db_vm_remove("a", err, sizeof(err)), -ENOENT);
	assert_string_equal(err, "a: no such VM");
	err[0] = '\0';
	assert_int_equal(db_vm_remove("nothere", err, sizeof(err)), -ENOENT);
	assert_string_equal(err, "nothere: no such VM");
	/* SQL in a name is just a name */
	err[0] = '\0';
	assert_int_equal(db_vm_remove("b' OR '1'='1", err, sizeof(err)), -ENOENT);
	assert_non_null(strstr(err, "no such VM"));
	list_names(names, sizeof(names));
	assert_string_equal(names, "b");
}

static void test_vm_duplicate(void **state)
{
	(void)state;
	char err[512] = "";
	int64_t id = add_vm("web1", 1);
	json_t *dup = vm_conf("web1", 16);
	int64_t id2 = -7;
	err[0] = '\0';
	assert_int_equal(vm_add_json(dup, &id2, err, sizeof(err)), -EIO);
	assert_true(strlen(err) > 0);
	assert_non_null(strstr(err, "UNIQUE"));
	/* nothing changed */
	int64_t got = -1;
	json_t *g = vm_get_json("web1", &got), *want = vm_conf("web1", 1);
	assert_true(json_equal(g, want));
	assert_int_equal(got, id);
	json_decref(want);
	json_decref(g);
	json_t *arr = vm_list_json();
	assert_int_equal(json_array_size(arr), 1);
	json_decref(arr);
	json_decref(dup);

	/* a config without a name is refused */
	json_t *noname = vm_conf("x", 1);
	json_object_del(noname, "name");
	err[0] = '\0';
	assert_int_equal(vm_add_json(noname, &id2, err, sizeof(err)), -EINVAL);
	assert_true(strlen(err) > 0);
	json_decref(noname);
	arr = vm_list_json();
	assert_int_equal(json_array_size(arr), 1);
	json_decref(arr);
}

/* --- threads ------------------------------------------------------------- */

/* db.h: the connection "may be used from any thread" (keel-hostd serves each
 * HTTP connection on its own thread). Another thread logs in (a session is
 * added: an INSERT, and a DELETE that may change no row) or is seen (a
 * session's use is recorded: an UPDATE) all the time. */
static atomic_int hammer_stop;

static void *hammer(void *arg)
{
	(void)arg;
	char err[256], tok[32], user[64];
	for (long i = 0; !atomic_load(&hammer_stop); i++) {
		snprintf(tok, sizeof(tok), "h%ld", i);
		db_session_add(tok, "root", "x", T0, T0 + 100000000, err, sizeof(err));
		db_session_check("h0", T0 + 60 * (i + 1), 100000000, user, sizeof(user), NULL, 0);
	}
	return NULL;
}

static void test_vm_threads(void **state)
{
	(void)state;
	/* The row id and change count of a statement must be its own, not
	 * those of another thread's statement run in between (db.c holds the
	 * connection's mutex from step to reading them). */
	char err[512] = "", name[32];
	pthread_t t;
	atomic_store(&hammer_stop, 0);
	assert_int_equal(pthread_create(&t, NULL, hammer, NULL), 0);
	int bad_id = 0, bad_remove = 0;
	for (int i = 0; i < 500; i++) {
		snprintf(name, sizeof(name), "vm%d", i);
		json_t *c = vm_conf(name, 1);
		int64_t id = -1, real = -2;
		if (vm_add_json(c, &id, err, sizeof(err)) == 0) {
			json_decref(vm_get_json(name, &real));
			bad_id += id != real;
		}
		json_decref(c);
		bad_remove += db_vm_remove("ghost", err, sizeof(err)) == 0;
	}
	atomic_store(&hammer_stop, 1);
	pthread_join(t, NULL);
	if (bad_id || bad_remove)
		fail_msg("of 500: db_vm_add gave a wrong id %d times, db_vm_remove(\"ghost\") "
			 "succeeded %d times",
			 bad_id, bad_remove);
}

/* --- durability ----------------------------------------------------------- */

static void test_reopen(void **state)
{
	struct fx *f = *state;
	char err[512] = "", hash[128], user[64];
	assert_int_equal(db_user_set("root", "$y$persist", err, sizeof(err)), 0);
	assert_int_equal(
	    db_session_add("tok", "root", "10.0.0.1", T0, T0 + 10000, err, sizeof(err)), 0);
	int64_t a = add_vm("alpha", 2), b = add_vm("beta", 3);
	add_vm("gamma", 1);
	assert_int_equal(db_vm_remove("gamma", err, sizeof(err)), 0);
	json_t *upd = vm_conf("beta", 6);
	assert_int_equal(vm_update_json(upd, err, sizeof(err)), 0);
	/* a session use that is recorded */
	assert_int_equal(db_session_check("tok", T0 + 500, IDLE, user, sizeof(user), NULL, 0), 0);

	db_close();
	open_db(f);

	assert_int_equal(db_user_hash("root", hash, sizeof(hash)), 0);
	assert_string_equal(hash, "$y$persist");
	/* within idle of the recorded use, not of the add */
	assert_int_equal(db_session_check("tok", T0 + 1000, IDLE, user, sizeof(user), NULL, 0), 0);
	assert_string_equal(user, "root");
	int64_t id = -1;
	json_t *g = vm_get_json("alpha", &id), *want = vm_conf("alpha", 2);
	assert_true(json_equal(g, want));
	assert_int_equal(id, a);
	json_decref(want);
	json_decref(g);
	g = vm_get_json("beta", &id);
	assert_true(json_equal(g, upd));
	assert_int_equal(id, b);
	json_decref(g);
	assert_null(vm_get_json("gamma", NULL));
	char names[128];
	list_names(names, sizeof(names));
	assert_string_equal(names, "alpha,beta");
	/* ids keep growing across restarts (gamma's is not reused) */
	int64_t d = add_vm("delta", 1);
	assert_true(d > b + 1);

	/* once more, opening an existing database twice over */
	db_close();
	open_db(f);
	db_close();
	open_db(f);
	list_names(names, sizeof(names));
	assert_string_equal(names, "alpha,beta,delta");
	assert_int_equal(query_int(f->path, "SELECT count(*) FROM vms"), 3);
	json_decref(upd);
}

/* --- arguments are bound by their declared type --------------------------- */

/* Once, a text argument that began with byte 0x01 was bound as an integer
 * (the rest parsed as a number): a name "\x01" "42" became 42. Every text
 * argument is text, whatever its bytes. */
static void test_text_starting_with_0x01(void **state)
{
	struct fx *f = *state;
	char err[512] = "", hash[64];
	const char name[] = "\x01"
			    "42",
		   value[] = "\x01"
			     "7";
	assert_int_equal(db_user_set(name, value, err, sizeof(err)), 0);
	assert_int_equal(db_user_hash(name, hash, sizeof(hash)), 0);
	assert_string_equal(hash, value);
	/* stored as text, byte for byte, not as the integer 42 or 7 */
	assert_int_equal(query_int(f->path, "SELECT count(*) FROM users WHERE typeof(name) = 'text'"
					    " AND name = char(1) || '42' AND typeof(hash) = 'text'"
					    " AND hash = char(1) || '7'"),
			 1);
	assert_int_equal(query_int(f->path, "SELECT count(*) FROM users WHERE name = 42"), 0);
	/* nor is it an integer key that finds another row */
	assert_int_equal(db_user_hash("42", hash, sizeof(hash)), -ENOENT);

	/* the same for the other tables' text columns */
	assert_int_equal(db_setting_put(name, value, err, sizeof(err)), 0);
	char *v = db_setting_get(name);
	assert_non_null(v);
	assert_string_equal(v, value);
	free(v);
	assert_int_equal(query_int(f->path,
				   "SELECT count(*) FROM settings WHERE typeof(key) = 'text'"
				   " AND key = char(1) || '42' AND typeof(value) = 'text'"),
			 1);
	assert_int_equal(db_portgroup_add(name, "vSwitch0", 5, err, sizeof(err)), 0);
	assert_int_equal(query_int(f->path, "SELECT count(*) FROM portgroups WHERE"
					    " typeof(name) = 'text' AND name = char(1) || '42'"
					    " AND typeof(vlan) = 'integer' AND vlan = 5"),
			 1);
	/* and a session token hash, the key of every authenticated request */
	char user[64];
	assert_int_equal(db_session_add(name, "root", "s", T0, T0 + 100, err, sizeof(err)), 0);
	assert_int_equal(db_session_check(name, T0 + 1, IDLE, user, sizeof(user), NULL, 0), 0);
	assert_int_equal(db_session_check("42", T0 + 1, IDLE, user, sizeof(user), NULL, 0),
			 -ENOENT);
}

/* --- users' state, roles, permissions, settings ----------------------------- */

static void test_access(void **state)
{
	struct fx *f = *state;
	char err[512] = "";
	assert_int_equal(db_user_exists("alice"), 0);
	assert_int_equal(db_user_add("alice", err, sizeof(err)), 0);
	assert_int_equal(db_user_exists("alice"), 1);
	assert_int_equal(db_user_add("alice", err, sizeof(err)), -EIO); /* one of a name */
	assert_int_equal(db_user_set_hash("alice", "$y$a", err, sizeof(err)), 1);
	assert_int_equal(db_user_set_hash("nobody", "$y$a", err, sizeof(err)), 0);
	assert_int_equal(db_user_set_disabled("alice", 1, err, sizeof(err)), 1);
	assert_int_equal(db_user_set_failed("alice", 3), 1);
	json_t *u = db_user_get("alice");
	assert_non_null(u);
	assert_string_equal(json_string_value(json_object_get(u, "hash")), "$y$a");
	assert_int_equal(json_integer_value(json_object_get(u, "disabled")), 1);
	assert_int_equal(json_integer_value(json_object_get(u, "failed")), 3);
	json_decref(u);
	assert_int_equal(db_user_lock("alice", T0 + 900), 1);
	u = db_user_get("alice");
	assert_int_equal(json_integer_value(json_object_get(u, "failed")), 0);
	assert_int_equal(json_integer_value(json_object_get(u, "locked_until")), T0 + 900);
	json_decref(u);
	assert_int_equal(db_user_unlock("alice", err, sizeof(err)), 1);
	u = db_user_get("alice");
	assert_int_equal(json_integer_value(json_object_get(u, "locked_until")), 0);
	json_decref(u);
	assert_null(db_user_get("bob"));
	json_t *list = db_users_list();
	assert_int_equal(json_array_size(list), 1);
	assert_null(json_object_get(json_array_get(list, 0), "hash")); /* no hashes in lists */
	json_decref(list);

	/* roles */
	assert_null(db_role_privileges("ops"));
	assert_int_equal(db_role_put("ops", "[\"System.View\"]", err, sizeof(err)), 0);
	assert_int_equal(db_role_put("ops", "[\"System.Audit\"]", err, sizeof(err)), 0);
	char *privs = db_role_privileges("ops");
	assert_string_equal(privs, "[\"System.Audit\"]");
	free(privs);
	assert_int_equal(db_role_put("dev", "[]", err, sizeof(err)), 0);
	json_t *names = db_role_names();
	assert_int_equal(json_array_size(names), 2);
	assert_string_equal(json_string_value(json_array_get(names, 0)), "dev");
	json_decref(names);

	/* permissions */
	assert_null(db_role_first_use("ops"));
	assert_int_equal(db_permission_put("alice", "vm/web", "ops", err, sizeof(err)), 0);
	assert_int_equal(db_permission_put("alice", "vm/web", "dev", err, sizeof(err)), 0);
	assert_int_equal(db_permission_put("alice", "host", "ops", err, sizeof(err)), 0);
	char *role = db_permission_role("alice", "vm/web");
	assert_string_equal(role, "dev");
	free(role);
	json_t *use = db_role_first_use("ops");
	assert_string_equal(json_string_value(json_object_get(use, "entity")), "host");
	json_decref(use);
	list = db_permissions_list();
	assert_int_equal(json_array_size(list), 2);
	json_decref(list);
	assert_int_equal(db_permission_delete("alice", "vm/other", err, sizeof(err)), 0);
	assert_int_equal(db_permission_delete_entity("vm/web", err, sizeof(err)), 1);
	assert_null(db_permission_role("alice", "vm/web"));
	assert_int_equal(db_role_delete("dev", err, sizeof(err)), 1);
	assert_int_equal(db_role_delete("dev", err, sizeof(err)), 0);

	/* sessions of a user; deleting a user takes its permissions and sessions */
	assert_int_equal(
	    db_session_add("0123456789abcdefXX", "alice", "s", T0, T0 + 100, err, sizeof(err)), 0);
	char who[64], from[64];
	assert_int_equal(db_session_check("0123456789abcdefXX", T0 + 1, 100, who, sizeof(who), from,
					  sizeof(from)),
			 0);
	assert_string_equal(from, "s"); /* the login's source (its door) */
	json_t *sessions = db_sessions_list(T0);
	assert_string_equal(json_string_value(json_object_get(json_array_get(sessions, 0), "id")),
			    "0123456789abcdef");
	json_decref(sessions);
	assert_int_equal(db_user_delete("alice", err, sizeof(err)), 1);
	assert_int_equal(db_user_exists("alice"), 0);
	assert_int_equal(query_int(f->path, "SELECT count(*) FROM permissions"), 0);
	assert_int_equal(query_int(f->path, "SELECT count(*) FROM sessions"), 0);

	/* a session id is compared, never matched as a pattern */
	assert_int_equal(
	    db_session_add("abcdef0123456789ZZ", "root", "s", T0, T0 + 100, err, sizeof(err)), 0);
	assert_int_equal(db_sessions_remove_id("*", err, sizeof(err)), 0);
	assert_int_equal(db_sessions_remove_id("abcdef01234567??", err, sizeof(err)), 0);
	assert_int_equal(db_sessions_remove_id("abcdef0123456789", err, sizeof(err)), 1);
	assert_int_equal(db_sessions_remove_user("root", err, sizeof(err)), 0);

	/* settings */
	assert_null(db_setting_get("policy"));
	assert_int_equal(db_setting_put("policy", "{\"a\":1}", err, sizeof(err)), 0);
	assert_int_equal(db_setting_put("policy", "{\"a\":2}", err, sizeof(err)), 0);
	char *v = db_setting_get("policy");
	assert_string_equal(v, "{\"a\":2}");
	free(v);
}

/* --- switches, uplinks, port groups ----------------------------------------- */

static void test_network(void **state)
{
	struct fx *f = *state;
	char err[512] = "";
	/* a fresh inventory has vSwitch0 and "VM Network" */
	json_t *sw = db_switch_get("vSwitch0");
	assert_int_equal(json_integer_value(json_object_get(sw, "mtu")), 1500);
	json_decref(sw);
	assert_int_equal(db_switch_add("vSwitch1", 9000, err, sizeof(err)), 0);
	assert_int_equal(db_switch_add("vSwitch1", 1500, err, sizeof(err)), -EIO);
	assert_int_equal(query_int(f->path, "SELECT count(*) FROM switches WHERE name = 'vSwitch1'"
					    " AND typeof(mtu) = 'integer' AND mtu = 9000"),
			 1);
	assert_int_equal(db_switch_set_mtu("vSwitch1", 1600, err, sizeof(err)), 1);
	assert_int_equal(db_switch_set_mtu("nope", 1600, err, sizeof(err)), 0);
	json_t *all = db_switches_list();
	assert_int_equal(json_array_size(all), 2);
	json_decref(all);

	json_t *nics = json_pack("[s,s]", "eth2", "eth1");
	assert_int_equal(db_uplinks_set("vSwitch1", nics, err, sizeof(err)), 0);
	json_decref(nics);
	json_t *ups = db_uplinks_of("vSwitch1");
	assert_int_equal(json_array_size(ups), 2);
	assert_string_equal(json_string_value(json_array_get(ups, 0)), "eth1");
	json_decref(ups);
	char *owner = db_uplink_switch("eth2");
	assert_string_equal(owner, "vSwitch1");
	free(owner);
	nics = json_pack("[s]", "eth3");
	assert_int_equal(db_uplinks_set("vSwitch1", nics, err, sizeof(err)), 0);
	json_decref(nics);
	assert_null(db_uplink_switch("eth2"));

	assert_int_equal(db_portgroup_add("web", "vSwitch1", 10, err, sizeof(err)), 0);
	assert_int_equal(db_portgroup_add("db", "vSwitch1", 0, err, sizeof(err)), 0);
	assert_int_equal(db_portgroup_set_vlan("db", 20, err, sizeof(err)), 1);
	assert_int_equal(db_portgroup_set_vlan("nope", 20, err, sizeof(err)), 0);
	json_t *pg = db_portgroup_get("db");
	assert_string_equal(json_string_value(json_object_get(pg, "switch")), "vSwitch1");
	assert_int_equal(json_integer_value(json_object_get(pg, "vlan")), 20);
	json_decref(pg);
	json_t *of = db_portgroups_of("vSwitch1");
	assert_int_equal(json_array_size(of), 2);
	assert_string_equal(json_string_value(json_array_get(of, 0)), "db");
	json_decref(of);
	json_t *vlans = db_portgroup_vlans_of("vSwitch0");
	assert_int_equal(json_array_size(vlans), 0); /* "VM Network" has none */
	json_decref(vlans);
	all = db_portgroups_list();
	assert_int_equal(json_array_size(all), 3);
	json_decref(all);
	assert_int_equal(db_portgroup_delete("web", err, sizeof(err)), 1);
	assert_int_equal(db_switch_delete("vSwitch1", err, sizeof(err)), 1);
	assert_null(db_switch_get("vSwitch1"));
	assert_null(db_portgroup_get("db"));
	assert_null(db_uplink_switch("eth3"));

	/* a VM by its row id */
	int64_t id = add_vm("web1", 2);
	struct vm_config vm;
	assert_int_equal(db_vm_get_by_id(id, &vm), 0);
	json_t *c = vmconf_json(&vm), *want = vm_conf("web1", 2);
	assert_true(json_equal(c, want));
	json_decref(c);
	json_decref(want);
	assert_int_equal(db_vm_get_by_id(id + 1, &vm), -ENOENT);
	/* a damaged row is left out, and said to be damaged */
	sqlite3_exec(db_handle(), "UPDATE vms SET config = '{\"name\":\"../x\"}'", NULL, NULL,
		     NULL);
	assert_int_equal(db_vm_get_by_id(id, &vm), -EIO);
	assert_int_equal(db_vm_get("web1", &vm, NULL), -EIO);
	size_t n;
	free(db_vm_list(&n));
	assert_int_equal(n, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_wal, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_open_fails, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_users, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_session_basic, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_session_expires, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_session_idle, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_session_idle_clock, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_sessions_shift, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_vm_add_get, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_vm_list, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_vm_update, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_vm_remove, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_vm_duplicate, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_reopen, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_vm_threads, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_text_starting_with_0x01, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_access, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_network, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
