/* The inventory: one SQLite database on the config partition, opened in WAL
 * mode with synchronous=FULL, so that every change is on disk when the call
 * that made it returns. The connection is serialized (SQLITE_OPEN_FULLMUTEX)
 * and may be used from any thread; each function is one statement or one
 * transaction. Errors are returned as -1 with the reason in err. */
#ifndef KEEL_HOSTD_DB_H
#define KEEL_HOSTD_DB_H

#include "hostd/vmconf.h"

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

/* VMs, each stored as its canonical JSON (vmconf.h) and checked again when
 * read (a row that fails is logged and left out). db_vm_get and
 * db_vm_by_id fill c (if not NULL) and the row id (if not NULL); they
 * return 0, -ENOENT, or -EIO for a damaged row. db_vm_list returns every
 * VM sorted by name (malloc'ed, *n of them). */
int db_vm_get(const char *name, struct vm_config *c, int64_t *id);
int db_vm_by_id(int64_t id, struct vm_config *c);
struct vm_config *db_vm_list(size_t *n);
int db_vm_add(const struct vm_config *c, int64_t *id, char *err, size_t errlen);
int db_vm_update(const struct vm_config *c, char *err, size_t errlen);
int db_vm_remove(const char *name, char *err, size_t errlen);

#endif
