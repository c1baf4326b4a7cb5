#include "hostd/db.h"

#include "common/log.h"
#include "common/util.h"
#include "hostd/vmconf.h"

#include <errno.h>
#include <sqlite3.h>
#include <stdlib.h>
#include <string.h>

static sqlite3 *db;

/* The schema, by version (PRAGMA user_version): each step runs once, in
 * one transaction, on a database at the version before it. */
static const char *const schema[] = {
    /* 1: users, sessions, VMs */
    "CREATE TABLE users(name TEXT PRIMARY KEY, hash TEXT NOT NULL);"
    "CREATE TABLE sessions(token_hash TEXT PRIMARY KEY, user TEXT NOT NULL,"
    " source TEXT, created INTEGER NOT NULL, last_used INTEGER NOT NULL,"
    " expires INTEGER NOT NULL);"
    "CREATE TABLE vms(id INTEGER PRIMARY KEY AUTOINCREMENT,"
    " name TEXT UNIQUE NOT NULL, config TEXT NOT NULL);",
    /* 2: access control */
    "ALTER TABLE users ADD COLUMN disabled INTEGER NOT NULL DEFAULT 0;"
    "ALTER TABLE users ADD COLUMN failed INTEGER NOT NULL DEFAULT 0;"
    "ALTER TABLE users ADD COLUMN locked_until INTEGER NOT NULL DEFAULT 0;"
    "CREATE TABLE roles(name TEXT PRIMARY KEY, privileges TEXT NOT NULL);"
    "CREATE TABLE permissions(user TEXT NOT NULL, entity TEXT NOT NULL,"
    " role TEXT NOT NULL, PRIMARY KEY(user, entity));"
    "CREATE TABLE settings(key TEXT PRIMARY KEY, value TEXT NOT NULL);",
    /* 3: virtual switches (network.h); a fresh host has vSwitch0 and "VM
     * Network" */
    "CREATE TABLE switches(name TEXT PRIMARY KEY, mtu INTEGER NOT NULL);"
    "CREATE TABLE uplinks(nic TEXT PRIMARY KEY, switch TEXT NOT NULL);"
    "CREATE TABLE portgroups(name TEXT PRIMARY KEY, switch TEXT NOT NULL,"
    " vlan INTEGER NOT NULL DEFAULT 0);"
    "INSERT INTO switches VALUES('vSwitch0', 1500);"
    "INSERT INTO portgroups VALUES('" VM_DEFAULT_PORTGROUP "', 'vSwitch0', 0);",
};

static int migrate(char *err, size_t errlen)
{
	sqlite3_stmt *st = NULL;
	int version = 0;
	if (sqlite3_prepare_v2(db, "PRAGMA user_version", -1, &st, NULL) == SQLITE_OK &&
	    sqlite3_step(st) == SQLITE_ROW)
		version = sqlite3_column_int(st, 0);
	sqlite3_finalize(st);
	/* databases made before versioning hold step 1 at version 0 */
	if (version == 0 && sqlite3_table_column_metadata(db, NULL, "vms", "config", NULL, NULL,
							  NULL, NULL, NULL) == SQLITE_OK)
		version = 1;
	for (int v = version; v < (int)ARRAY_SIZE(schema); v++) {
		char *msg = NULL, pragma[40];
		snprintf(pragma, sizeof(pragma), "PRAGMA user_version = %d;", v + 1);
		if (sqlite3_exec(db, "BEGIN", NULL, NULL, &msg) != SQLITE_OK ||
		    sqlite3_exec(db, schema[v], NULL, NULL, &msg) != SQLITE_OK ||
		    sqlite3_exec(db, pragma, NULL, NULL, &msg) != SQLITE_OK ||
		    sqlite3_exec(db, "COMMIT", NULL, NULL, &msg) != SQLITE_OK) {
			errorf(err, errlen, "schema version %d: %s", v + 1, msg ? msg : "failed");
			sqlite3_free(msg);
			sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
			return -1;
		}
	}
	return 0;
}

int db_open(const char *path, char *err, size_t errlen)
{
	int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_FULLMUTEX;
	if (sqlite3_open_v2(path, &db, flags, NULL) != SQLITE_OK) {
		errorf(err, errlen, "%s: %s", path, db ? sqlite3_errmsg(db) : "out of memory");
		db_close();
		return -1;
	}
	sqlite3_busy_timeout(db, 5000);
	char *msg = NULL;
	if (sqlite3_exec(db, "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL;", NULL, NULL,
			 &msg) != SQLITE_OK) {
		errorf(err, errlen, "%s: %s", path, msg ? msg : "cannot set up");
		sqlite3_free(msg);
		db_close();
		return -1;
	}
	if (migrate(err, errlen) < 0) {
		db_close();
		return -1;
	}
	return 0;
}

void db_close(void)
{
	sqlite3_close(db);
	db = NULL;
}

/* Prepares `sql` and binds the text arguments (NULL-terminated list of
 * strings; "\x01" + decimal binds an integer). */
static sqlite3_stmt *prep(const char *sql, const char *const args[])
{
	sqlite3_stmt *st = NULL;
	if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK)
		return NULL;
	for (int i = 0; args && args[i]; i++) {
		int rc = args[i][0] == '\x01'
			     ? sqlite3_bind_int64(st, i + 1, strtoll(args[i] + 1, NULL, 10))
			     : sqlite3_bind_text(st, i + 1, args[i], -1, SQLITE_STATIC);
		if (rc != SQLITE_OK) {
			sqlite3_finalize(st);
			return NULL;
		}
	}
	return st;
}

/* Runs a statement that returns no rows; returns the number of changed rows
 * or -1, and the new row's id in *rowid (if not NULL). The connection's
 * mutex is held throughout, so that the count, the id and the error message
 * are this statement's and not another thread's. */
static int run_id(const char *sql, const char *const args[], int64_t *rowid, char *err,
		  size_t errlen)
{
	sqlite3_mutex *m = sqlite3_db_mutex(db);
	sqlite3_mutex_enter(m);
	sqlite3_stmt *st = prep(sql, args);
	int rc = st ? sqlite3_step(st) : SQLITE_ERROR, n = -1;
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE) {
		errorf(err, errlen, "inventory: %s", sqlite3_errmsg(db));
	} else {
		n = sqlite3_changes(db);
		if (rowid)
			*rowid = sqlite3_last_insert_rowid(db);
	}
	sqlite3_mutex_leave(m);
	return n;
}

static int run(const char *sql, const char *const args[], char *err, size_t errlen)
{
	return run_id(sql, args, NULL, err, errlen);
}

int db_exec(const char *sql, const char *const args[], char *err, size_t errlen)
{
	return run(sql, args, err, errlen);
}

json_t *db_rows(const char *sql, const char *const args[])
{
	json_t *rows = json_array();
	sqlite3_stmt *st = prep(sql, args);
	while (st && sqlite3_step(st) == SQLITE_ROW) {
		json_t *row = json_object();
		for (int i = 0; i < sqlite3_column_count(st); i++) {
			const char *col = sqlite3_column_name(st, i);
			switch (sqlite3_column_type(st, i)) {
			case SQLITE_INTEGER:
				json_object_set_new(row, col,
						    json_integer(sqlite3_column_int64(st, i)));
				break;
			case SQLITE_NULL:
				json_object_set_new(row, col, json_null());
				break;
			default:
				json_object_set_new(
				    row, col,
				    json_string((const char *)sqlite3_column_text(st, i)));
			}
		}
		json_array_append_new(rows, row);
	}
	sqlite3_finalize(st);
	return rows;
}

#define I64(buf, v) DB_INT(buf, v)

int db_user_hash(const char *user, char *hash, size_t hashlen)
{
	sqlite3_stmt *st =
	    prep("SELECT hash FROM users WHERE name = ?", (const char *[]){user, NULL});
	int rc = -1;
	if (st && sqlite3_step(st) == SQLITE_ROW &&
	    str_copy(hash, hashlen, (const char *)sqlite3_column_text(st, 0)) == 0)
		rc = 0;
	sqlite3_finalize(st);
	return rc;
}

int db_user_set(const char *user, const char *hash, char *err, size_t errlen)
{
	return run("INSERT INTO users(name, hash) VALUES(?, ?)"
		   " ON CONFLICT(name) DO UPDATE SET hash = excluded.hash",
		   (const char *[]){user, hash, NULL}, err, errlen) < 0
		   ? -1
		   : 0;
}

int db_session_add(const char *token_hash, const char *user, const char *source, int64_t now,
		   int64_t expires, char *err, size_t errlen)
{
	char a[32], b[32], c[32];
	/* expired sessions go when a new one comes */
	run("DELETE FROM sessions WHERE expires <= ?", (const char *[]){I64(a, now), NULL}, NULL,
	    0);
	return run("INSERT INTO sessions(token_hash, user, source, created, last_used, expires)"
		   " VALUES(?, ?, ?, ?, ?, ?)",
		   (const char *[]){token_hash, user, source, I64(a, now), I64(b, now),
				    I64(c, expires), NULL},
		   err, errlen) < 0
		   ? -1
		   : 0;
}

int db_session_check(const char *token_hash, int64_t now, int64_t idle, char *user, size_t userlen)
{
	char a[32], b[32];
	sqlite3_stmt *st =
	    prep("SELECT user, last_used FROM sessions"
		 " WHERE token_hash = ? AND expires > ? AND last_used > ?",
		 (const char *[]){token_hash, I64(a, now), I64(b, now - idle), NULL});
	int rc = -1;
	int64_t last = 0;
	if (st && sqlite3_step(st) == SQLITE_ROW &&
	    str_copy(user, userlen, (const char *)sqlite3_column_text(st, 0)) == 0) {
		last = sqlite3_column_int64(st, 1);
		rc = 0;
	}
	sqlite3_finalize(st);
	/* the idle clock is kept to the minute: not a disk write per request */
	if (rc == 0 && now - last >= 60)
		run("UPDATE sessions SET last_used = ? WHERE token_hash = ?",
		    (const char *[]){I64(a, now), token_hash, NULL}, NULL, 0);
	return rc;
}

int db_session_remove(const char *token_hash)
{
	return run("DELETE FROM sessions WHERE token_hash = ?", (const char *[]){token_hash, NULL},
		   NULL, 0) > 0
		   ? 0
		   : -1;
}

/* A stored configuration into c; -EIO when it no longer passes the checks
 * (a damaged row, left out rather than trusted). */
static int column_vm(sqlite3_stmt *st, int col, struct vm_config *c)
{
	const char *text = (const char *)sqlite3_column_text(st, col);
	json_t *conf = text ? json_loads(text, 0, NULL) : NULL;
	char err[256];
	int rc = conf ? vmconf_from_json(conf, c, err, sizeof(err)) : -1;
	json_decref(conf);
	if (rc < 0) {
		log_msg("inventory: VM row %lld: %s", (long long)sqlite3_column_int64(st, 0),
			conf ? err : "not JSON");
		return -EIO;
	}
	return 0;
}

int db_vm_get(const char *name, struct vm_config *c, int64_t *id)
{
	sqlite3_stmt *st =
	    prep("SELECT id, config FROM vms WHERE name = ?", (const char *[]){name, NULL});
	int rc = -ENOENT;
	if (st && sqlite3_step(st) == SQLITE_ROW) {
		if (id)
			*id = sqlite3_column_int64(st, 0);
		struct vm_config scratch;
		rc = column_vm(st, 1, c ? c : &scratch);
	}
	sqlite3_finalize(st);
	return rc;
}

int db_vm_by_id(int64_t id, struct vm_config *c)
{
	char ids[24];
	sqlite3_stmt *st = prep("SELECT id, config FROM vms WHERE id = ?",
				(const char *[]){DB_INT(ids, id), NULL});
	int rc = -ENOENT;
	if (st && sqlite3_step(st) == SQLITE_ROW)
		rc = column_vm(st, 1, c);
	sqlite3_finalize(st);
	return rc;
}

struct vm_config *db_vm_list(size_t *n)
{
	struct vm_config *all = NULL;
	size_t cap = 0;
	*n = 0;
	sqlite3_stmt *st = prep("SELECT id, config FROM vms ORDER BY name", NULL);
	while (st && sqlite3_step(st) == SQLITE_ROW) {
		if (*n == cap) {
			struct vm_config *more = reallocarray(all, cap ? cap * 2 : 8, sizeof(*all));
			if (!more)
				break;
			all = more;
			cap = cap ? cap * 2 : 8;
		}
		if (column_vm(st, 1, &all[*n]) == 0)
			(*n)++;
	}
	sqlite3_finalize(st);
	return all;
}

static int vm_write(const char *sql, const char *name, const struct vm_config *c, int64_t *id,
		    char *err, size_t errlen)
{
	json_t *conf = vmconf_json(c);
	char *text = conf ? json_dumps(conf, JSON_COMPACT | JSON_SORT_KEYS) : NULL;
	json_decref(conf);
	if (!text)
		return errorf(err, errlen, "inventory: out of memory");
	int n = run_id(sql, (const char *[]){text, name, NULL}, id, err, errlen);
	free(text);
	if (n == 0)
		return errorf(err, errlen, "%s: no such VM", name);
	return n < 0 ? -1 : 0;
}

int db_vm_add(const struct vm_config *c, int64_t *id, char *err, size_t errlen)
{
	return vm_write("INSERT INTO vms(config, name) VALUES(?, ?)", c->name, c, id, err, errlen);
}

int db_vm_update(const struct vm_config *c, char *err, size_t errlen)
{
	return vm_write("UPDATE vms SET config = ? WHERE name = ?", c->name, c, NULL, err, errlen);
}

int db_vm_remove(const char *name, char *err, size_t errlen)
{
	int n = run("DELETE FROM vms WHERE name = ?", (const char *[]){name, NULL}, err, errlen);
	if (n == 0)
		return errorf(err, errlen, "%s: no such VM", name);
	return n < 0 ? -1 : 0;
}
