/* The inventory's access-control tables: users' state, roles, permissions
 * and settings (see db.h). */
#include "hostd/db.h"

#include "hostd/db_statement.h"

#include <stdlib.h>

/* --- users --------------------------------------------------------------- */

int db_user_exists(const char *name)
{
	json_t *row = db_query_row("SELECT name FROM users WHERE name = ?", DB_ARGS(db_text(name)));
	json_decref(row);
	return row != NULL;
}

int db_user_add(const char *name, char *err, size_t errlen)
{
	int n = db_run("INSERT INTO users(name, hash) VALUES(?, '!')", DB_ARGS(db_text(name)), NULL,
		       err, errlen);
	return n < 0 ? n : 0;
}

int db_user_set_hash(const char *name, const char *hash, char *err, size_t errlen)
{
	return db_run("UPDATE users SET hash = ? WHERE name = ?",
		      DB_ARGS(db_text(hash), db_text(name)), NULL, err, errlen);
}

int db_user_set_disabled(const char *name, int disabled, char *err, size_t errlen)
{
	return db_run("UPDATE users SET disabled = ? WHERE name = ?",
		      DB_ARGS(db_int64(disabled ? 1 : 0), db_text(name)), NULL, err, errlen);
}

int db_user_unlock(const char *name, char *err, size_t errlen)
{
	return db_run("UPDATE users SET failed = 0, locked_until = 0 WHERE name = ?",
		      DB_ARGS(db_text(name)), NULL, err, errlen);
}

int db_user_set_failed(const char *name, int64_t failed)
{
	return db_run("UPDATE users SET failed = ? WHERE name = ?",
		      DB_ARGS(db_int64(failed), db_text(name)), NULL, NULL, 0);
}

int db_user_lock(const char *name, int64_t until)
{
	return db_run("UPDATE users SET failed = 0, locked_until = ? WHERE name = ?",
		      DB_ARGS(db_int64(until), db_text(name)), NULL, NULL, 0);
}

int db_user_delete(const char *name, char *err, size_t errlen)
{
	int rc = db_run("DELETE FROM permissions WHERE user = ?", DB_ARGS(db_text(name)), NULL, err,
			errlen);
	if (rc >= 0)
		rc = db_run("DELETE FROM sessions WHERE user = ?", DB_ARGS(db_text(name)), NULL,
			    err, errlen);
	if (rc >= 0)
		rc = db_run("DELETE FROM users WHERE name = ?", DB_ARGS(db_text(name)), NULL, err,
			    errlen);
	return rc;
}

json_t *db_user_get(const char *name)
{
	return db_query_row(
	    "SELECT name, hash, disabled, failed, locked_until FROM users WHERE name = ?",
	    DB_ARGS(db_text(name)));
}

json_t *db_users_list(void)
{
	return db_query("SELECT name, disabled, failed, locked_until FROM users ORDER BY name",
			DB_NO_ARGS);
}

/* --- roles --------------------------------------------------------------- */

char *db_role_privileges(const char *name)
{
	return db_query_text("SELECT privileges FROM roles WHERE name = ?", DB_ARGS(db_text(name)));
}

json_t *db_role_names(void)
{
	return db_query_column("SELECT name FROM roles ORDER BY name", DB_NO_ARGS);
}

int db_role_put(const char *name, const char *privileges, char *err, size_t errlen)
{
	int n = db_run("INSERT INTO roles(name, privileges) VALUES(?, ?)"
		       " ON CONFLICT(name) DO UPDATE SET privileges = excluded.privileges",
		       DB_ARGS(db_text(name), db_text(privileges)), NULL, err, errlen);
	return n < 0 ? n : 0;
}

int db_role_delete(const char *name, char *err, size_t errlen)
{
	return db_run("DELETE FROM roles WHERE name = ?", DB_ARGS(db_text(name)), NULL, err,
		      errlen);
}

json_t *db_role_first_use(const char *role)
{
	return db_query_row("SELECT user, entity FROM permissions WHERE role = ? LIMIT 1",
			    DB_ARGS(db_text(role)));
}

/* --- permissions ----------------------------------------------------------- */

char *db_permission_role(const char *user, const char *entity)
{
	return db_query_text("SELECT role FROM permissions WHERE user = ? AND entity = ?",
			     DB_ARGS(db_text(user), db_text(entity)));
}

json_t *db_permissions_list(void)
{
	return db_query("SELECT user, entity, role FROM permissions ORDER BY user, entity",
			DB_NO_ARGS);
}

int db_permission_put(const char *user, const char *entity, const char *role, char *err,
		      size_t errlen)
{
	int n = db_run("INSERT INTO permissions(user, entity, role) VALUES(?, ?, ?)"
		       " ON CONFLICT(user, entity) DO UPDATE SET role = excluded.role",
		       DB_ARGS(db_text(user), db_text(entity), db_text(role)), NULL, err, errlen);
	return n < 0 ? n : 0;
}

int db_permission_delete(const char *user, const char *entity, char *err, size_t errlen)
{
	return db_run("DELETE FROM permissions WHERE user = ? AND entity = ?",
		      DB_ARGS(db_text(user), db_text(entity)), NULL, err, errlen);
}

int db_permission_delete_entity(const char *entity, char *err, size_t errlen)
{
	return db_run("DELETE FROM permissions WHERE entity = ?", DB_ARGS(db_text(entity)), NULL,
		      err, errlen);
}

/* --- settings -------------------------------------------------------------- */

char *db_setting_get(const char *key)
{
	return db_query_text("SELECT value FROM settings WHERE key = ?", DB_ARGS(db_text(key)));
}

int db_setting_put(const char *key, const char *value, char *err, size_t errlen)
{
	int n = db_run("INSERT INTO settings(key, value) VALUES(?, ?)"
		       " ON CONFLICT(key) DO UPDATE SET value = excluded.value",
		       DB_ARGS(db_text(key), db_text(value)), NULL, err, errlen);
	return n < 0 ? n : 0;
}
