/* Layer: inventory (domain). Includes: vmconf.h (the VMs it stores); never
 * http.h or api.h.
 *
 * The inventory: one SQLite database on the config partition, opened in WAL
 * mode with synchronous=FULL, so that every change is on disk when the call
 * that made it returns. The connection is serialized (SQLITE_OPEN_FULLMUTEX)
 * and may be used from any thread; each function is one statement unless it
 * says otherwise. All SQL of keel-hostd is here (db.c: the schema, users,
 * sessions, VMs; db_access.c: roles, permissions, settings, users' state;
 * db_network.c: switches, uplinks, port groups; db_dump.c: the allow-listed
 * dump of the support bundle), each argument bound by its
 * declared type. Errors follow error.h: a negative errno (-EIO for a
 * database error, -ENOENT where a function says "not found") with the
 * reason in err. Functions that return JSON return a new reference. */
#ifndef KEEL_HOSTD_DB_H
#define KEEL_HOSTD_DB_H

#include "hostd/vmconf.h"

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

int db_open(const char *path, char *err, size_t errlen);
void db_close(void);

/* --- users (db.c, db_access.c) --- */

/* The stored yescrypt hash of `user`, or -ENOENT when there is none (or it
 * does not fit). */
int db_user_hash(const char *user, char *hash, size_t hashlen);
/* Adds the user, or sets its hash if it exists. */
int db_user_set(const char *user, const char *hash, char *err, size_t errlen);
/* 1 if the user exists, else 0. */
int db_user_exists(const char *name);
/* A user without a usable password ("!" as its hash). */
int db_user_add(const char *name, char *err, size_t errlen);
/* Sets the hash of an existing user: the number of users changed (0/1). */
int db_user_set_hash(const char *name, const char *hash, char *err, size_t errlen);
int db_user_set_disabled(const char *name, int disabled, char *err, size_t errlen);
/* Clears the failed-login count and any lock. */
int db_user_unlock(const char *name, char *err, size_t errlen);
/* Records the count of failed logins since the last success. */
int db_user_set_failed(const char *name, int64_t failed);
/* Locks the account until `until` and clears the failure count. */
int db_user_lock(const char *name, int64_t until);
/* Deletes the user with its permissions and sessions (three statements). */
int db_user_delete(const char *name, char *err, size_t errlen);
/* {name, hash, disabled, failed, locked_until}, or NULL. */
json_t *db_user_get(const char *name);
/* [{name, disabled, failed, locked_until}] sorted by name. */
json_t *db_users_list(void);

/* --- sessions (db.c), keyed by the SHA-256 of their token --- */

/* db_session_check returns 0 and fills user (and source, its login's
 * source, unless NULL) when the session exists and has not expired (idle or absolute), and records
 * its use at `now`; else -ENOENT. db_session_remove: 0, or -ENOENT if there was no such session. */
int db_session_add(const char *token_hash, const char *user, const char *source, int64_t now,
		   int64_t expires, char *err, size_t errlen);
int db_session_check(const char *token_hash, int64_t now, int64_t idle, char *user, size_t userlen,
		     char *source, size_t sourcelen);
int db_session_remove(const char *token_hash);
/* The sessions not expired at `now`: [{id (the hash's first 16 hex digits),
 * user, source, created, last_used}], oldest first. */
json_t *db_sessions_list(int64_t now);
/* Moves every session's times by delta seconds (the wall clock was set). */
int db_sessions_shift(int64_t delta);
/* Removes the sessions whose id (the first 16 hex digits of the hash) is
 * `id`: the number removed. */
int db_sessions_remove_id(const char *id, char *err, size_t errlen);
int db_sessions_remove_user(const char *user, char *err, size_t errlen);
/* Removes the user's sessions but the one of token hash `keep` (NULL or
 * another user's: all of them): the number removed. */
int db_sessions_remove_user_except(const char *user, const char *keep, char *err, size_t errlen);

/* --- roles, permissions, settings (db_access.c) --- */

/* A custom role's privileges as stored (JSON text, malloc'ed), or NULL. */
char *db_role_privileges(const char *name);
/* The custom roles' names: a JSON array, sorted. */
json_t *db_role_names(void);
/* Adds the role or replaces its privileges (JSON text). */
int db_role_put(const char *name, const char *privileges, char *err, size_t errlen);
int db_role_delete(const char *name, char *err, size_t errlen);
/* One permission that uses `role`: {user, entity}, or NULL. */
json_t *db_role_first_use(const char *role);

/* The role of `user` on `entity` (malloc'ed), or NULL. */
char *db_permission_role(const char *user, const char *entity);
/* [{user, entity, role}] sorted by user and entity. */
json_t *db_permissions_list(void);
int db_permission_put(const char *user, const char *entity, const char *role, char *err,
		      size_t errlen);
/* The number of permissions removed (0 or 1). */
int db_permission_delete(const char *user, const char *entity, char *err, size_t errlen);
/* Removes every permission on `entity` ("vm/NAME"): the number removed. */
int db_permission_delete_entity(const char *entity, char *err, size_t errlen);

/* A consistent copy of the inventory at `path` (replaced), without its
 * sessions: for a configuration backup. 0 or -1. */
int db_copy(const char *path);

/* A setting's value as stored (text, malloc'ed), or NULL. */
char *db_setting_get(const char *key);
int db_setting_put(const char *key, const char *value, char *err, size_t errlen);

/* --- virtual switches and port groups (db_network.c) --- */

/* {name, mtu}, or NULL; all of them sorted by name. */
json_t *db_switch_get(const char *name);
json_t *db_switches_list(void);
int db_switch_add(const char *name, int64_t mtu, char *err, size_t errlen);
int db_switch_set_mtu(const char *name, int64_t mtu, char *err, size_t errlen);
/* Deletes the switch with its uplinks and port groups (three statements). */
int db_switch_delete(const char *name, char *err, size_t errlen);

/* A switch's uplinks (NIC names, sorted): a JSON array. */
json_t *db_uplinks_of(const char *sw);
/* The switch `nic` is an uplink of (malloc'ed), or NULL. */
char *db_uplink_switch(const char *nic);
/* Replaces the uplinks of `sw` by `nics` (a JSON array of names). */
int db_uplinks_set(const char *sw, const json_t *nics, char *err, size_t errlen);

/* {name, switch, vlan}, or NULL; all of them sorted by name. */
json_t *db_portgroup_get(const char *name);
json_t *db_portgroups_list(void);
/* The port groups of a switch (names, sorted): a JSON array. */
json_t *db_portgroups_of(const char *sw);
/* The VLAN ids (> 0) of a switch's port groups: a JSON array. */
json_t *db_portgroup_vlans_of(const char *sw);
int db_portgroup_add(const char *name, const char *sw, int64_t vlan, char *err, size_t errlen);
/* The number of port groups changed (0 or 1). */
int db_portgroup_set_vlan(const char *name, int64_t vlan, char *err, size_t errlen);
int db_portgroup_delete(const char *name, char *err, size_t errlen);

/* --- VMs (db.c) --- */

/* Each stored as its canonical JSON (vmconf.h) and checked again when read
 * (a row that fails is logged and left out). db_vm_get and db_vm_get_by_id
 * fill c (if not NULL) and the row id (if not NULL); they return 0,
 * -ENOENT, or -EIO for a damaged row. db_vm_list returns every VM sorted
 * by name (malloc'ed, *n of them). db_vm_update and db_vm_remove return
 * -ENOENT ("NAME: no such VM") when there is no such VM. */
int db_vm_get(const char *name, struct vm_config *c, int64_t *id);
int db_vm_get_by_id(int64_t id, struct vm_config *c);
struct vm_config *db_vm_list(size_t *n);
int db_vm_add(const struct vm_config *c, int64_t *id, char *err, size_t errlen);
int db_vm_update(const struct vm_config *c, char *err, size_t errlen);
int db_vm_remove(const char *name, char *err, size_t errlen);

/* --- the support bundle (db_dump.c) --- */

/* {tables: {TABLE: [rows]}, omitted: ["TABLE" | "TABLE.COLUMN"]}: the
 * tables and columns of an allow-list (no password or token hash, no
 * setting outside the list); what else the database holds is named in
 * `omitted`, never given. */
json_t *db_dump_json(void);

#endif
