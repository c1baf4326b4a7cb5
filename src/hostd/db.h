/* The inventory: one SQLite database on the config partition, opened in WAL
 * mode with synchronous=FULL, so that every change is on disk when the call
 * that made it returns. The connection is serialized (SQLITE_OPEN_FULLMUTEX)
 * and may be used from any thread; each function is one statement or one
 * transaction. Errors are returned as -1 with the reason in err. */
#ifndef KEEL_HOSTD_DB_H
#define KEEL_HOSTD_DB_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

int db_open(const char *path, char *err, size_t errlen);
void db_close(void);

/* For modules with tables of their own (authz.c): one statement with text
 * arguments (a NULL-terminated list; DB_INT() makes an integer argument).
 * db_exec returns the number of changed rows or -1; db_rows returns the
 * rows as a JSON array of objects keyed by column name. */
#define DB_INT(buf, v) (snprintf(buf, sizeof(buf), "\x01%lld", (long long)(v)), buf)
int db_exec(const char *sql, const char *const args[], char *err, size_t errlen);
json_t *db_rows(const char *sql, const char *const args[]);

/* Users: the stored yescrypt hash of `user`, or -1 when there is none. */
int db_user_hash(const char *user, char *hash, size_t hashlen);
int db_user_set(const char *user, const char *hash, char *err, size_t errlen);

/* Sessions, keyed by the SHA-256 of their token. db_session_check returns 0
 * and fills user when the session exists and has not expired (idle or
 * absolute), and records its use at `now`. */
int db_session_add(const char *token_hash, const char *user, const char *source, int64_t now,
		   int64_t expires, char *err, size_t errlen);
int db_session_check(const char *token_hash, int64_t now, int64_t idle, char *user, size_t userlen);
int db_session_remove(const char *token_hash);

/* VMs: `config` is the VM's canonical JSON (see vmconf.h). db_vm_get
 * returns a new reference and the row id, or NULL. db_vm_list returns a
 * JSON array of configs sorted by name. */
json_t *db_vm_get(const char *name, int64_t *id);
json_t *db_vm_list(void);
int db_vm_add(const json_t *config, int64_t *id, char *err, size_t errlen);
int db_vm_update(const char *name, const json_t *config, char *err, size_t errlen);
int db_vm_remove(const char *name, char *err, size_t errlen);

#endif
