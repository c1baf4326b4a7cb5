#include "hostd/db.h"

#include "common/log.h"
#include "common/util.h"
#include "hostd/db_statement.h"
#include "hostd/error.h"
#include "hostd/vmconf.h"

#include <errno.h>
#include <sqlite3.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

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
			error_set(err, errlen, -EIO, "schema version %d: %s", v + 1,
				  msg ? msg : "failed");
			sqlite3_free(msg);
			sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
			return -EIO;
		}
	}
	return 0;
}

int db_open(const char *path, char *err, size_t errlen)
{
	int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_FULLMUTEX;
	if (sqlite3_open_v2(path, &db, flags, NULL) != SQLITE_OK) {
		error_set(err, errlen, -EIO, "%s: %s", path,
			  db ? sqlite3_errmsg(db) : "out of memory");
		db_close();
		return -EIO;
	}
	sqlite3_busy_timeout(db, 5000);
	char *msg = NULL;
	if (sqlite3_exec(db, "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL;", NULL, NULL,
			 &msg) != SQLITE_OK) {
		error_set(err, errlen, -EIO, "%s: %s", path, msg ? msg : "cannot set up");
		sqlite3_free(msg);
		db_close();
		return -EIO;
	}
	if (migrate(err, errlen) < 0) {
		db_close();
		return -EIO;
	}
	return 0;
}

void db_close(void)
{
	sqlite3_close(db);
	db = NULL;
}

sqlite3 *db_handle(void)
{
	return db;
}

int db_copy(const char *path)
{
	sqlite3 *dst = NULL;
	unlink(path);
	int rc = sqlite3_open(path, &dst) == SQLITE_OK ? 0 : -1;
	sqlite3_backup *bk = rc == 0 ? sqlite3_backup_init(dst, "main", db, "main") : NULL;
	if (!bk || sqlite3_backup_step(bk, -1) != SQLITE_DONE)
		rc = -1;
	if (bk)
		sqlite3_backup_finish(bk);
	if (rc == 0 && sqlite3_exec(dst, "DELETE FROM sessions", NULL, NULL, NULL) != SQLITE_OK)
		rc = -1;
	sqlite3_close(dst);
	if (rc < 0)
		unlink(path);
	return rc;
}

sqlite3_stmt *db_prepare(const char *sql, const struct db_arg *args)
{
	sqlite3_stmt *st = NULL;
	if (!db || sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK)
		return NULL;
	for (int i = 0; args && args[i].type != DB_ARG_END; i++) {
		int rc = SQLITE_MISUSE;
		if (args[i].type == DB_ARG_INT64)
			rc = sqlite3_bind_int64(st, i + 1, args[i].integer);
		else if (args[i].type == DB_ARG_TEXT)
			rc = sqlite3_bind_text(st, i + 1, args[i].text, -1, SQLITE_STATIC);
		if (rc != SQLITE_OK) {
			sqlite3_finalize(st);
			return NULL;
		}
	}
	return st;
}

/* The connection's mutex is held throughout, so that the count, the id and
 * the error message are this statement's and not another thread's. */
int db_run(const char *sql, const struct db_arg *args, int64_t *rowid, char *err, size_t errlen)
{
	if (!db)
		return error_set(err, errlen, -EIO, "inventory: not open");
	sqlite3_mutex *m = sqlite3_db_mutex(db);
	sqlite3_mutex_enter(m);
	sqlite3_stmt *st = db_prepare(sql, args);
	int rc = st ? sqlite3_step(st) : SQLITE_ERROR, n;
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE) {
		n = error_set(err, errlen, -EIO, "inventory: %s", sqlite3_errmsg(db));
	} else {
		n = sqlite3_changes(db);
		if (rowid)
			*rowid = sqlite3_last_insert_rowid(db);
	}
	sqlite3_mutex_leave(m);
	return n;
}

json_t *db_query(const char *sql, const struct db_arg *args)
{
	json_t *rows = json_array();
	sqlite3_stmt *st = db_prepare(sql, args);
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

json_t *db_query_column(const char *sql, const struct db_arg *args)
{
	json_t *rows = db_query(sql, args), *out = json_array(), *row;
	size_t i;
	json_array_foreach(rows, i, row)
	    json_array_append(out, json_object_iter_value(json_object_iter(row)));
	json_decref(rows);
	return out;
}

json_t *db_query_row(const char *sql, const struct db_arg *args)
{
	json_t *rows = db_query(sql, args), *row = json_incref(json_array_get(rows, 0));
	json_decref(rows);
	return row;
}

char *db_query_text(const char *sql, const struct db_arg *args)
{
	sqlite3_stmt *st = db_prepare(sql, args);
	char *text = NULL;
	if (st && sqlite3_step(st) == SQLITE_ROW && sqlite3_column_text(st, 0))
		text = strdup((const char *)sqlite3_column_text(st, 0));
	sqlite3_finalize(st);
	return text;
}

int db_user_hash(const char *user, char *hash, size_t hashlen)
{
	sqlite3_stmt *st =
	    db_prepare("SELECT hash FROM users WHERE name = ?", DB_ARGS(db_text(user)));
	int rc = -ENOENT;
	if (st && sqlite3_step(st) == SQLITE_ROW &&
	    str_copy(hash, hashlen, (const char *)sqlite3_column_text(st, 0)) == 0)
		rc = 0;
	sqlite3_finalize(st);
	return rc;
}

int db_user_set(const char *user, const char *hash, char *err, size_t errlen)
{
	int n = db_run("INSERT INTO users(name, hash) VALUES(?, ?)"
		       " ON CONFLICT(name) DO UPDATE SET hash = excluded.hash",
		       DB_ARGS(db_text(user), db_text(hash)), NULL, err, errlen);
	return n < 0 ? n : 0;
}

int db_session_add(const char *token_hash, const char *user, const char *source, int64_t now,
		   int64_t expires, char *err, size_t errlen)
{
	/* expired sessions go when a new one comes */
	db_run("DELETE FROM sessions WHERE expires <= ?", DB_ARGS(db_int64(now)), NULL, NULL, 0);
	int n = db_run("INSERT INTO sessions(token_hash, user, source, created, last_used, expires)"
		       " VALUES(?, ?, ?, ?, ?, ?)",
		       DB_ARGS(db_text(token_hash), db_text(user), db_text(source), db_int64(now),
			       db_int64(now), db_int64(expires)),
		       NULL, err, errlen);
	return n < 0 ? n : 0;
}

int db_sessions_shift(int64_t delta)
{
	return db_run("UPDATE sessions SET created = created + ?1, last_used = last_used + ?1,"
		      " expires = expires + ?1",
		      DB_ARGS(db_int64(delta)), NULL, NULL, 0);
}

int db_session_check(const char *token_hash, int64_t now, int64_t idle, char *user, size_t userlen,
		     char *source, size_t sourcelen)
{
	sqlite3_stmt *st =
	    db_prepare("SELECT user, last_used, source FROM sessions"
		       " WHERE token_hash = ? AND expires > ? AND last_used > ?",
		       DB_ARGS(db_text(token_hash), db_int64(now), db_int64(now - idle)));
	int rc = -ENOENT;
	int64_t last = 0;
	if (st && sqlite3_step(st) == SQLITE_ROW &&
	    str_copy(user, userlen, (const char *)sqlite3_column_text(st, 0)) == 0) {
		last = sqlite3_column_int64(st, 1);
		const char *from = (const char *)sqlite3_column_text(st, 2);
		if (source)
			str_copy(source, sourcelen, from ? from : "");
		rc = 0;
	}
	sqlite3_finalize(st);
	/* the idle clock is kept to the minute: not a disk write per request */
	if (rc == 0 && now - last >= 60)
		db_run("UPDATE sessions SET last_used = ? WHERE token_hash = ?",
		       DB_ARGS(db_int64(now), db_text(token_hash)), NULL, NULL, 0);
	return rc;
}

int db_session_remove(const char *token_hash)
{
	int n = db_run("DELETE FROM sessions WHERE token_hash = ?", DB_ARGS(db_text(token_hash)),
		       NULL, NULL, 0);
	return n < 0 ? n : n == 0 ? -ENOENT : 0;
}

json_t *db_sessions_list(int64_t now)
{
	return db_query("SELECT substr(token_hash, 1, 16) AS id, user, source, created,"
			" last_used FROM sessions WHERE expires > ? ORDER BY created",
			DB_ARGS(db_int64(now)));
}

int db_sessions_remove_id(const char *id, char *err, size_t errlen)
{
	/* the id is 16 hex digits: compared as a prefix, never as a pattern */
	return db_run("DELETE FROM sessions WHERE substr(token_hash, 1, 16) = ?",
		      DB_ARGS(db_text(id)), NULL, err, errlen);
}

int db_sessions_remove_user(const char *user, char *err, size_t errlen)
{
	return db_run("DELETE FROM sessions WHERE user = ?", DB_ARGS(db_text(user)), NULL, err,
		      errlen);
}

int db_sessions_remove_user_except(const char *user, const char *keep, char *err, size_t errlen)
{
	/* (token_hash IS NOT NULL holds for every session) */
	return db_run("DELETE FROM sessions WHERE user = ? AND token_hash IS NOT ?",
		      DB_ARGS(db_text(user), db_text(keep)), NULL, err, errlen);
}

/* A stored configuration into c; -EIO when it no longer passes the checks
 * (a damaged row, left out rather than trusted). Column 0 is the row id. */
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

/* The VM of a one-row query: fills c (if not NULL) and *id (if not NULL). */
static int vm_row(sqlite3_stmt *st, struct vm_config *c, int64_t *id)
{
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

int db_vm_get(const char *name, struct vm_config *c, int64_t *id)
{
	return vm_row(
	    db_prepare("SELECT id, config FROM vms WHERE name = ?", DB_ARGS(db_text(name))), c, id);
}

int db_vm_get_by_id(int64_t id, struct vm_config *c)
{
	return vm_row(db_prepare("SELECT id, config FROM vms WHERE id = ?", DB_ARGS(db_int64(id))),
		      c, NULL);
}

struct vm_config *db_vm_list(size_t *n)
{
	struct vm_config *all = NULL;
	size_t cap = 0;
	*n = 0;
	sqlite3_stmt *st = db_prepare("SELECT id, config FROM vms ORDER BY name", DB_NO_ARGS);
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

static int vm_write(const char *sql, const struct vm_config *c, int64_t *id, char *err,
		    size_t errlen)
{
	json_t *conf = vmconf_json(c);
	char *text = conf ? json_dumps(conf, JSON_COMPACT | JSON_SORT_KEYS) : NULL;
	json_decref(conf);
	if (!text)
		return error_set(err, errlen, -ENOMEM, "inventory: out of memory");
	int n = db_run(sql, DB_ARGS(db_text(text), db_text(c->name)), id, err, errlen);
	free(text);
	if (n == 0)
		return error_set(err, errlen, -ENOENT, "%s: no such VM", c->name);
	return n < 0 ? n : 0;
}

int db_vm_add(const struct vm_config *c, int64_t *id, char *err, size_t errlen)
{
	return vm_write("INSERT INTO vms(config, name) VALUES(?, ?)", c, id, err, errlen);
}

int db_vm_update(const struct vm_config *c, char *err, size_t errlen)
{
	return vm_write("UPDATE vms SET config = ? WHERE name = ?", c, NULL, err, errlen);
}

int db_vm_remove(const char *name, char *err, size_t errlen)
{
	int n = db_run("DELETE FROM vms WHERE name = ?", DB_ARGS(db_text(name)), NULL, err, errlen);
	if (n == 0)
		return error_set(err, errlen, -ENOENT, "%s: no such VM", name);
	return n < 0 ? n : 0;
}
