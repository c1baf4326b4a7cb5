/* The inventory for the support bundle (db.h, db_dump_json): by an
 * allow-list. Only the tables and columns named here are read; a table or
 * a column added later (a secret, say) stays out until it is named here,
 * and the dump says which ones were left out, by name only. */
#include "hostd/db.h"

#include "common/util.h"
#include "hostd/db_statement.h"

#include <stdlib.h>
#include <string.h>

/* What is given of each table; every other column is left out: the users'
 * password hashes, the sessions' token hashes. A VM's cloud-init texts are
 * left out of its config (vmconf_redact). */
static const struct {
	const char *table;
	const char *const columns[8]; /* NULL-terminated */
	const char *sql;	      /* exactly those columns */
} allowed[] = {
    {"users",
     {"name", "disabled", "failed", "locked_until"},
     "SELECT name, disabled, failed, locked_until FROM users ORDER BY name"},
    {"sessions",
     {"user", "source", "created", "last_used", "expires"},
     "SELECT user, source, created, last_used, expires FROM sessions ORDER BY created"},
    {"vms", {"id", "name", "config"}, "SELECT id, name, config FROM vms ORDER BY name"},
    {"roles", {"name", "privileges"}, "SELECT name, privileges FROM roles ORDER BY name"},
    {"permissions",
     {"user", "entity", "role"},
     "SELECT user, entity, role FROM permissions ORDER BY user, entity"},
    {"settings", {"key", "value"}, "SELECT key, value FROM settings ORDER BY key"},
    {"switches", {"name", "mtu"}, "SELECT name, mtu FROM switches ORDER BY name"},
    {"uplinks", {"nic", "switch"}, "SELECT nic, switch FROM uplinks ORDER BY nic"},
    {"portgroups",
     {"name", "switch", "vlan"},
     "SELECT name, switch, vlan FROM portgroups ORDER BY name"},
};

/* The settings whose values are given (authz.c's policy and lockdown);
 * any other setting is shown by its key only. */
static const char *const allowed_settings[] = {"policy", "lockdown"};

static int listed(const char *const *names, size_t n, const char *name)
{
	for (size_t i = 0; i < n && names[i]; i++)
		if (strcmp(names[i], name) == 0)
			return 1;
	return 0;
}

json_t *db_dump_json(void)
{
	json_t *out = json_object(), *tables = json_object(), *omitted = json_array();
	for (size_t i = 0; i < ARRAY_SIZE(allowed); i++) {
		json_t *rows = db_query(allowed[i].sql, NULL);
		if (strcmp(allowed[i].table, "settings") == 0) {
			size_t k;
			json_t *row;
			json_array_foreach(rows, k, row)
			{
				const char *key = json_string_value(json_object_get(row, "key"));
				if (!key ||
				    !listed(allowed_settings, ARRAY_SIZE(allowed_settings), key))
					json_object_set_new(row, "value",
							    json_string("(not included)"));
			}
		}
		if (strcmp(allowed[i].table, "vms") == 0) {
			/* (cloud-init's user data carries passwords and keys) */
			size_t k;
			json_t *row;
			json_array_foreach(rows, k, row)
			{
				const char *text =
				    json_string_value(json_object_get(row, "config"));
				json_t *conf = text ? json_loads(text, 0, NULL) : NULL;
				vmconf_redact(conf);
				char *out = conf ? json_dumps(conf, JSON_COMPACT) : NULL;
				json_object_set_new(row, "config",
						    json_string(out ? out : "(not readable)"));
				free(out);
				json_decref(conf);
			}
		}
		json_object_set_new(tables, allowed[i].table, rows);
	}
	/* what was left out, by name */
	json_t *names = db_query_column(
	    "SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name", NULL);
	size_t k;
	json_t *name;
	json_array_foreach(names, k, name)
	{
		const char *t = json_string_value(name);
		size_t i = 0;
		while (i < ARRAY_SIZE(allowed) && strcmp(allowed[i].table, t) != 0)
			i++;
		if (i == ARRAY_SIZE(allowed)) {
			json_array_append_new(omitted, json_sprintf("%s", t));
			continue;
		}
		json_t *cols =
		    db_query("SELECT name FROM pragma_table_info(?)", DB_ARGS(db_text(t)));
		size_t c;
		json_t *col;
		json_array_foreach(cols, c, col)
		{
			const char *cn = json_string_value(json_object_get(col, "name"));
			if (cn && !listed(allowed[i].columns, ARRAY_SIZE(allowed[i].columns), cn))
				json_array_append_new(omitted, json_sprintf("%s.%s", t, cn));
		}
		json_decref(cols);
	}
	json_decref(names);
	json_object_set_new(out, "tables", tables);
	json_object_set_new(out, "omitted", omitted);
	return out;
}
