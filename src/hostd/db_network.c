/* The inventory's virtual switches, uplinks and port groups (see db.h and
 * network.h). */
#include "hostd/db.h"

#include "hostd/db_statement.h"


/* --- switches ------------------------------------------------------------ */

json_t *db_switch_get(const char *name)
{
	return db_query_row("SELECT name, mtu FROM switches WHERE name = ?",
			    DB_ARGS(db_text(name)));
}

json_t *db_switches_list(void)
{
	return db_query("SELECT name, mtu FROM switches ORDER BY name", DB_NO_ARGS);
}

int db_switch_add(const char *name, int64_t mtu, char *err, size_t errlen)
{
	int n = db_run("INSERT INTO switches(name, mtu) VALUES(?, ?)",
		       DB_ARGS(db_text(name), db_int64(mtu)), NULL, err, errlen);
	return n < 0 ? n : 0;
}

int db_switch_set_mtu(const char *name, int64_t mtu, char *err, size_t errlen)
{
	return db_run("UPDATE switches SET mtu = ? WHERE name = ?",
		      DB_ARGS(db_int64(mtu), db_text(name)), NULL, err, errlen);
}

int db_switch_delete(const char *name, char *err, size_t errlen)
{
	int rc = db_run("DELETE FROM uplinks WHERE switch = ?", DB_ARGS(db_text(name)), NULL, err,
			errlen);
	if (rc >= 0)
		rc = db_run("DELETE FROM portgroups WHERE switch = ?", DB_ARGS(db_text(name)), NULL,
			    err, errlen);
	if (rc >= 0)
		rc = db_run("DELETE FROM switches WHERE name = ?", DB_ARGS(db_text(name)), NULL,
			    err, errlen);
	return rc;
}

/* --- uplinks ------------------------------------------------------------- */

json_t *db_uplinks_of(const char *sw)
{
	return db_query_column("SELECT nic FROM uplinks WHERE switch = ? ORDER BY nic",
			       DB_ARGS(db_text(sw)));
}

char *db_uplink_switch(const char *nic)
{
	return db_query_text("SELECT switch FROM uplinks WHERE nic = ?", DB_ARGS(db_text(nic)));
}

int db_uplinks_set(const char *sw, const json_t *nics, char *err, size_t errlen)
{
	int rc =
	    db_run("DELETE FROM uplinks WHERE switch = ?", DB_ARGS(db_text(sw)), NULL, err, errlen);
	size_t i;
	json_t *nic;
	json_array_foreach(nics, i, nic)
	{
		if (rc < 0)
			break;
		rc = db_run("INSERT INTO uplinks(nic, switch) VALUES(?, ?)",
			    DB_ARGS(db_text(json_string_value(nic)), db_text(sw)), NULL, err,
			    errlen);
	}
	return rc < 0 ? rc : 0;
}

/* --- port groups ----------------------------------------------------------- */

json_t *db_portgroup_get(const char *name)
{
	return db_query_row("SELECT name, switch, vlan FROM portgroups WHERE name = ?",
			    DB_ARGS(db_text(name)));
}

json_t *db_portgroups_list(void)
{
	return db_query("SELECT name, switch, vlan FROM portgroups ORDER BY name", DB_NO_ARGS);
}

json_t *db_portgroups_of(const char *sw)
{
	return db_query_column("SELECT name FROM portgroups WHERE switch = ? ORDER BY name",
			       DB_ARGS(db_text(sw)));
}

json_t *db_portgroup_vlans_of(const char *sw)
{
	return db_query_column("SELECT vlan FROM portgroups WHERE switch = ? AND vlan > 0",
			       DB_ARGS(db_text(sw)));
}

int db_portgroup_add(const char *name, const char *sw, int64_t vlan, char *err, size_t errlen)
{
	int n = db_run("INSERT INTO portgroups(name, switch, vlan) VALUES(?, ?, ?)",
		       DB_ARGS(db_text(name), db_text(sw), db_int64(vlan)), NULL, err, errlen);
	return n < 0 ? n : 0;
}

int db_portgroup_set_vlan(const char *name, int64_t vlan, char *err, size_t errlen)
{
	return db_run("UPDATE portgroups SET vlan = ? WHERE name = ?",
		      DB_ARGS(db_int64(vlan), db_text(name)), NULL, err, errlen);
}

int db_portgroup_delete(const char *name, char *err, size_t errlen)
{
	return db_run("DELETE FROM portgroups WHERE name = ?", DB_ARGS(db_text(name)), NULL, err,
		      errlen);
}
