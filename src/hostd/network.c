#include "hostd/network.h"

#include "common/log.h"
#include "common/util.h"
#include "common/vmspec.h"
#include "hostd/db.h"
#include "hostd/mgmt.h"
#include "hostd/netlink.h"
#include "hostd/vmconf.h"

#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MTU_MIN 1280
#define MTU_MAX 9000

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;

static const char *str(const json_t *o, const char *key)
{
	return json_string_value(json_object_get(o, key));
}

/* --- the inventory ------------------------------------------------------ */

static json_t *rows1(const char *sql, const char *arg)
{
	return db_rows(sql, (const char *[]){arg, NULL});
}

static json_t *row(const char *sql, const char *arg)
{
	json_t *rows = rows1(sql, arg), *r = json_incref(json_array_get(rows, 0));
	json_decref(rows);
	return r;
}

/* The port group of NIC `idx` of a VM. */
static const char *nic_portgroup(const struct vm_config *c, unsigned idx)
{
	return idx < c->nnics ? c->nics[idx].portgroup : VM_DEFAULT_PORTGROUP;
}

/* The names of the inventory VMs with a NIC on one of `pgs` (port group
 * names), as a JSON array. */
static json_t *vms_on(const json_t *pgs)
{
	json_t *out = json_array();
	size_t n;
	struct vm_config *all = db_vm_list(&n);
	for (size_t i = 0; i < n; i++) {
		int hit = 0;
		for (unsigned j = 0; j < all[i].nnics; j++) {
			size_t k;
			json_t *pg;
			json_array_foreach(pgs, k, pg) hit |=
			    strcmp(json_string_value(pg), nic_portgroup(&all[i], j)) == 0;
		}
		if (hit)
			json_array_append_new(out, json_string(all[i].name));
	}
	free(all);
	return out;
}

static json_t *column(json_t *rows, const char *key)
{
	json_t *out = json_array();
	size_t i;
	json_t *r;
	json_array_foreach(rows, i, r) json_array_append(out, json_object_get(r, key));
	json_decref(rows);
	return out;
}

static json_t *describe_switch(json_t *sw)
{
	const char *name = str(sw, "name");
	json_object_set_new(
	    sw, "uplinks",
	    column(rows1("SELECT nic FROM uplinks WHERE switch = ? ORDER BY nic", name), "nic"));
	json_object_set_new(
	    sw, "portgroups",
	    column(rows1("SELECT name FROM portgroups WHERE switch = ? ORDER BY name", name),
		   "name"));
	return sw;
}

static json_t *describe_pg(json_t *pg)
{
	json_int_t vlan = json_integer_value(json_object_get(pg, "vlan"));
	json_object_set_new(pg, "vlan", vlan ? json_integer(vlan) : json_null());
	json_t *one = json_pack("[O]", json_object_get(pg, "name"));
	json_object_set_new(pg, "vms", vms_on(one));
	json_decref(one);
	return pg;
}

#define SW_SQL "SELECT name, mtu FROM switches"
#define PG_SQL "SELECT name, switch, vlan FROM portgroups"

json_t *network_portgroup(const char *name)
{
	json_t *pg = row(PG_SQL " WHERE name = ?", name);
	return pg ? describe_pg(pg) : NULL;
}

static json_t *describe_all(json_t *rows, json_t *(*fn)(json_t *))
{
	size_t i;
	json_t *r;
	json_array_foreach(rows, i, r) fn(r);
	return rows;
}

json_t *network_switches(void)
{
	return describe_all(db_rows(SW_SQL " ORDER BY name", NULL), describe_switch);
}

json_t *network_portgroups(void)
{
	return describe_all(db_rows(PG_SQL " ORDER BY name", NULL), describe_pg);
}

/* --- the kernel --------------------------------------------------------- */

/* VLAN membership for a switch's ports: the tagged VLANs (uplinks) and the
 * native VLAN of port groups without one. */
struct vlans {
	uint16_t tagged[NL_VLAN_MAX];
	size_t ntagged;
	uint16_t native;
};

static void switch_vlans(const char *sw, struct vlans *v)
{
	uint8_t used[NL_VLAN_MAX + 1] = {0};
	json_t *pgs = rows1("SELECT vlan FROM portgroups WHERE switch = ? AND vlan > 0", sw);
	size_t i;
	json_t *r;
	json_array_foreach(pgs, i, r) used[json_integer_value(json_object_get(r, "vlan"))] = 1;
	json_decref(pgs);
	v->ntagged = 0;
	v->native = 0;
	for (uint16_t id = 1; id <= NL_VLAN_MAX; id++) {
		if (used[id])
			v->tagged[v->ntagged++] = id;
		else if (!v->native)
			v->native = id;
	}
}

/* Puts a TAP (or uplink) on bridge `sw` with these VLANs and the MTU. */
static int attach(const char *port, const char *sw, unsigned mtu, const uint16_t *tagged,
		  size_t ntagged, uint16_t pvid, char *err, size_t errlen)
{
	int rc = nl_link_set_mtu(port, mtu, err, errlen);
	if (rc == 0)
		rc = nl_link_set_master(port, sw, err, errlen);
	if (rc == 0)
		rc = nl_port_vlans(port, tagged, ntagged, pvid, err, errlen);
	if (rc == 0)
		rc = nl_link_set_up(port, true, err, errlen);
	return rc;
}

/* A VM TAP on its port group: the VLAN untagged, as its only one. */
static int attach_tap(const char *tap, const char *pgname, unsigned *mtu_out, char *err,
		      size_t errlen)
{
	json_t *pg = row(PG_SQL " WHERE name = ?", pgname);
	json_t *sw = pg ? row(SW_SQL " WHERE name = ?", str(pg, "switch")) : NULL;
	int rc;
	if (!sw) {
		rc = -ENOENT;
		errorf(err, errlen, "port group %s: no such port group", pgname);
	} else {
		struct vlans v;
		switch_vlans(str(sw, "name"), &v);
		uint16_t vlan = (uint16_t)json_integer_value(json_object_get(pg, "vlan"));
		unsigned mtu = (unsigned)json_integer_value(json_object_get(sw, "mtu"));
		rc =
		    attach(tap, str(sw, "name"), mtu, NULL, 0, vlan ? vlan : v.native, err, errlen);
		if (mtu_out)
			*mtu_out = mtu;
	}
	json_decref(pg);
	json_decref(sw);
	return rc;
}

/* The bridge's ports as the kernel has them, with their VLANs and, for a
 * VM's TAP, the VM. */
static json_t *ports(const char *sw)
{
	json_t *out = json_array();
	struct nl_link *links = NULL;
	size_t n = 0;
	if (nl_links(&links, &n, NULL, 0) < 0)
		return out;
	for (size_t i = 0; i < n; i++) {
		if (strcmp(links[i].master, sw) != 0)
			continue;
		uint16_t vids[NL_VLAN_MAX], pvid = 0;
		size_t nv = 0;
		unsigned idx;
		int64_t id;
		json_t *tagged = json_array(), *vm = NULL;
		if (nl_port_vlans_get(links[i].name, vids, NL_VLAN_MAX, &nv, &pvid, NULL, NULL,
				      0) == 0)
			for (size_t j = 0; j < nv; j++)
				if (vids[j] != pvid)
					json_array_append_new(tagged, json_integer(vids[j]));
		struct vm_config c;
		if (vm_tap_parse(links[i].name, &id, &idx) && db_vm_by_id(id, &c) == 0)
			vm = json_string(c.name);
		json_array_append_new(out,
				      json_pack("{s:s,s:i,s:o,s:o,s:o}", "name", links[i].name,
						"mtu", (int)links[i].mtu, "pvid",
						pvid ? json_integer(pvid) : json_null(), "tagged",
						tagged, "vm", vm ? vm : json_null()));
	}
	free(links);
	return out;
}

json_t *network_switch(const char *name)
{
	json_t *sw = row(SW_SQL " WHERE name = ?", name);
	if (sw)
		json_object_set_new(describe_switch(sw), "ports", ports(name));
	return sw;
}

static void first_error(int rc, char *err, size_t errlen, const char *msg, int *result)
{
	if (rc < 0 && *result == 0) {
		str_copy(err, errlen, msg);
		*result = -1;
	}
	if (rc < 0)
		log_msg("network: %s", msg);
}

int network_reconcile(char *err, size_t errlen)
{
	pthread_mutex_lock(&lock);
	int result = 0;
	char msg[256];
	json_t *sws = db_rows(SW_SQL, NULL);
	struct nl_link *links = NULL;
	size_t nlinks = 0, i, j;
	json_t *sw;
	json_array_foreach(sws, i, sw)
	{
		const char *name = str(sw, "name");
		unsigned mtu = (unsigned)json_integer_value(json_object_get(sw, "mtu"));
		first_error(nl_bridge_add(name, mtu, msg, sizeof(msg)), err, errlen, msg, &result);
		struct vlans v;
		switch_vlans(name, &v);
		json_t *ups = rows1("SELECT nic FROM uplinks WHERE switch = ?", name), *u;
		json_array_foreach(ups, j, u)
		    first_error(attach(str(u, "nic"), name, mtu, v.tagged, v.ntagged, v.native, msg,
				       sizeof(msg)),
				err, errlen, msg, &result);
		json_decref(ups);
	}
	first_error(nl_links(&links, &nlinks, msg, sizeof(msg)), err, errlen, msg, &result);
	for (i = 0; i < nlinks; i++) {
		struct nl_link *l = &links[i];
		int64_t id;
		unsigned idx;
		if (vm_tap_parse(l->name, &id, &idx)) {
			struct vm_config c;
			if (db_vm_by_id(id, &c) == 0)
				first_error(attach_tap(l->name, nic_portgroup(&c, idx), NULL, msg,
						       sizeof(msg)),
					    err, errlen, msg, &result);
		} else if (*l->master && strcmp(l->kind, "bridge") != 0) {
			/* an uplink taken off a switch of ours */
			json_t *up = row("SELECT switch FROM uplinks WHERE nic = ?", l->name);
			json_t *ours = row(SW_SQL " WHERE name = ?", l->master);
			if (ours && (!up || strcmp(str(up, "switch"), l->master) != 0))
				first_error(nl_link_set_master(l->name, NULL, msg, sizeof(msg)),
					    err, errlen, msg, &result);
			json_decref(up);
			json_decref(ours);
		}
	}
	free(links);
	json_decref(sws);
	pthread_mutex_unlock(&lock);
	return result;
}

void network_prune(int (*is_running)(const char *name))
{
	struct nl_link *links = NULL;
	size_t n = 0;
	if (nl_links(&links, &n, NULL, 0) < 0)
		return;
	for (size_t i = 0; i < n; i++) {
		int64_t id;
		unsigned idx;
		if (!vm_tap_parse(links[i].name, &id, &idx))
			continue;
		struct vm_config c;
		if (db_vm_by_id(id, &c) < 0 || !is_running(c.name)) {
			log_msg("network: deleting %s (its VM is not running)", links[i].name);
			nl_link_del(links[i].name, NULL, 0);
		}
	}
	free(links);
}

int network_port_up(const char *tap, const char *portgroup, unsigned *mtu, char *err, size_t errlen)
{
	pthread_mutex_lock(&lock);
	int rc = nl_tap_create(tap, MTU_MIN, err, errlen);
	if (rc == 0)
		rc = attach_tap(tap, portgroup, mtu, err, errlen);
	if (rc < 0)
		nl_link_del(tap, NULL, 0);
	pthread_mutex_unlock(&lock);
	return rc;
}

void network_ports_down(int64_t id)
{
	struct nl_link *links = NULL;
	size_t n = 0;
	if (nl_links(&links, &n, NULL, 0) < 0)
		return;
	for (size_t i = 0; i < n; i++) {
		int64_t owner;
		unsigned idx;
		if (vm_tap_parse(links[i].name, &owner, &idx) && owner == id)
			nl_link_del(links[i].name, NULL, 0);
	}
	free(links);
}

/* --- changes ------------------------------------------------------------ */

static int valid_switch_name(const char *s)
{
	size_t n = strlen(s);
	if (n < 1 || n > 15 || s[0] == '.' || s[0] == '-' ||
	    strncmp(s, VM_TAP_PREFIX, strlen(VM_TAP_PREFIX)) == 0)
		return 0;
	return strspn(s, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_.-") == n;
}

static int valid_pg_name(const char *s)
{
	size_t n = strlen(s);
	if (n < 1 || n > 64 || s[0] == ' ' || s[n - 1] == ' ')
		return 0;
	for (; *s; s++)
		if ((unsigned char)*s < 0x20 || *s == 0x7f || *s == '/')
			return 0;
	return 1;
}

static int get_int(const json_t *body, const char *key, long lo, long hi, long *out, char *err,
		   size_t errlen)
{
	json_t *v = json_object_get(body, key);
	if (!v)
		return 0;
	if (!json_is_integer(v) || json_integer_value(v) < lo || json_integer_value(v) > hi)
		return errorf(err, errlen, "%s: must be an integer from %ld to %ld", key, lo, hi);
	*out = (long)json_integer_value(v);
	return 0;
}

/* "vlan": null (none) or 1..4094 */
static int get_vlan(const json_t *body, long *vlan, char *err, size_t errlen)
{
	json_t *v = json_object_get(body, "vlan");
	if (!v || json_is_null(v)) {
		*vlan = 0;
		return 0;
	}
	return get_int(body, "vlan", 1, NL_VLAN_MAX, vlan, err, errlen);
}

static int only(const json_t *body, const char *const keys[], char *err, size_t errlen)
{
	const char *k;
	json_t *v;
	json_object_foreach((json_t *)body, k, v)
	{
		int ok = 0;
		for (size_t i = 0; keys[i]; i++)
			ok |= strcmp(k, keys[i]) == 0;
		if (!ok)
			return errorf(err, errlen, "%s: unknown field", k);
	}
	return 0;
}

/* The uplinks of a switch body: physical NICs, not the management one, not
 * on another switch, no repeats. */
static int check_uplinks(const json_t *ups, const char *sw, char *err, size_t errlen)
{
	if (!json_is_array(ups) || json_array_size(ups) > 8)
		return errorf(err, errlen, "uplinks: must be a list of at most 8 NIC names");
	size_t i, j;
	json_t *u;
	json_array_foreach(ups, i, u)
	{
		const char *nic = json_string_value(u);
		struct nl_nic info;
		if (!nic || strlen(nic) > 15)
			return errorf(err, errlen, "uplinks[%zu]: must be a NIC name", i);
		int rc = nl_nic_info(nic, &info);
		if (rc == -ENODEV)
			return errorf(err, errlen, "uplinks: %s: no such NIC", nic);
		if (rc < 0)
			return errorf(err, errlen, "uplinks: %s: not a physical NIC", nic);
		if (strcmp(nic, mgmt_ifname()) == 0)
			return errorf(err, errlen,
				      "uplinks: %s carries the management network; it cannot be "
				      "an uplink",
				      nic);
		for (j = 0; j < i; j++)
			if (strcmp(nic, json_string_value(json_array_get(ups, j))) == 0)
				return errorf(err, errlen, "uplinks: %s is listed twice", nic);
		json_t *other = row("SELECT switch FROM uplinks WHERE nic = ?", nic);
		int taken = other && strcmp(str(other, "switch"), sw) != 0;
		if (taken)
			errorf(err, errlen, "uplinks: %s is already an uplink of %s", nic,
			       str(other, "switch"));
		json_decref(other);
		if (taken)
			return -1;
	}
	return 0;
}

static int set_uplinks(const char *sw, const json_t *ups, char *err, size_t errlen)
{
	if (db_exec("DELETE FROM uplinks WHERE switch = ?", (const char *[]){sw, NULL}, err,
		    errlen) < 0)
		return -1;
	size_t i;
	json_t *u;
	json_array_foreach(ups, i, u) if (db_exec("INSERT INTO uplinks(nic, switch) VALUES(?, ?)",
						  (const char *[]){json_string_value(u), sw, NULL},
						  err, errlen) < 0) return -1;
	return 0;
}

/* After an inventory change: applies it, and reports a failure as 500. */
static int apply(int status, char *err, size_t errlen)
{
	char msg[256];
	if (network_reconcile(msg, sizeof(msg)) < 0)
		return errorf(err, errlen, "saved, but not applied: %s", msg), 500;
	return status;
}

int network_switch_add(const json_t *body, char *err, size_t errlen)
{
	static const char *const keys[] = {"name", "mtu", "uplinks", NULL};
	const char *name = str(body, "name");
	long mtu = 1500;
	json_t *ups = json_object_get(body, "uplinks");
	if (only(body, keys, err, errlen) < 0)
		return 400;
	if (!name || !valid_switch_name(name))
		return errorf(err, errlen,
			      "name: 1 to 15 characters of A-Z a-z 0-9 _ . -, not starting with "
			      ". - or kv"),
		       400;
	if (get_int(body, "mtu", MTU_MIN, MTU_MAX, &mtu, err, errlen) < 0 ||
	    (ups && check_uplinks(ups, name, err, errlen) < 0))
		return 400;
	pthread_mutex_lock(&lock);
	json_t *old = row(SW_SQL " WHERE name = ?", name);
	struct nl_nic info;
	char b[32];
	int status = 201;
	if (old)
		status = 409, errorf(err, errlen, "switch %s: exists", name);
	else if (nl_nic_info(name, &info) != -ENODEV)
		status = 409, errorf(err, errlen, "%s: an interface of that name exists", name);
	else if (db_exec("INSERT INTO switches(name, mtu) VALUES(?, ?)",
			 (const char *[]){name, DB_INT(b, mtu), NULL}, err, errlen) < 0 ||
		 (ups && set_uplinks(name, ups, err, errlen) < 0))
		status = 500;
	json_decref(old);
	pthread_mutex_unlock(&lock);
	return status == 201 ? apply(status, err, errlen) : status;
}

int network_switch_update(const char *name, const json_t *body, char *err, size_t errlen)
{
	static const char *const keys[] = {"mtu", "uplinks", NULL};
	json_t *ups = json_object_get(body, "uplinks");
	long mtu = 0;
	if (only(body, keys, err, errlen) < 0 ||
	    get_int(body, "mtu", MTU_MIN, MTU_MAX, &mtu, err, errlen) < 0 ||
	    (ups && check_uplinks(ups, name, err, errlen) < 0))
		return 400;
	pthread_mutex_lock(&lock);
	json_t *old = row(SW_SQL " WHERE name = ?", name);
	char b[32];
	int status = 200;
	if (!old)
		status = 404, errorf(err, errlen, "switch %s: no such switch", name);
	else if ((mtu && db_exec("UPDATE switches SET mtu = ? WHERE name = ?",
				 (const char *[]){DB_INT(b, mtu), name, NULL}, err, errlen) < 0) ||
		 (ups && set_uplinks(name, ups, err, errlen) < 0))
		status = 500;
	json_decref(old);
	pthread_mutex_unlock(&lock);
	return status == 200 ? apply(status, err, errlen) : status;
}

/* 409 naming the VMs when any VM uses one of the port groups `pgs`. */
static int in_use(json_t *pgs, const char *what, char *err, size_t errlen)
{
	json_t *vms = vms_on(pgs);
	int used = json_array_size(vms) > 0;
	if (used) {
		char *list = json_dumps(vms, JSON_COMPACT);
		errorf(err, errlen, "%s: in use by VM%s %s; change their NICs first", what,
		       json_array_size(vms) > 1 ? "s" : "", list ? list : "");
		free(list);
	}
	json_decref(vms);
	json_decref(pgs);
	return used;
}

int network_switch_remove(const char *name, char *err, size_t errlen)
{
	pthread_mutex_lock(&lock);
	json_t *old = row(SW_SQL " WHERE name = ?", name);
	char what[64];
	snprintf(what, sizeof(what), "switch %s", name);
	int status = 204;
	if (!old)
		status = 404, errorf(err, errlen, "%s: no such switch", what);
	else if (in_use(column(rows1("SELECT name FROM portgroups WHERE switch = ?", name), "name"),
			what, err, errlen))
		status = 409;
	else if (db_exec("DELETE FROM uplinks WHERE switch = ?", (const char *[]){name, NULL}, err,
			 errlen) < 0 ||
		 db_exec("DELETE FROM portgroups WHERE switch = ?", (const char *[]){name, NULL},
			 err, errlen) < 0 ||
		 db_exec("DELETE FROM switches WHERE name = ?", (const char *[]){name, NULL}, err,
			 errlen) < 0)
		status = 500;
	else if (nl_link_del(name, err, errlen) < 0)
		log_msg("network: %s", err); /* the uplinks are released with the bridge */
	json_decref(old);
	pthread_mutex_unlock(&lock);
	return status;
}

int network_portgroup_add(const json_t *body, char *err, size_t errlen)
{
	static const char *const keys[] = {"name", "switch", "vlan", NULL};
	const char *name = str(body, "name"), *sw = str(body, "switch");
	long vlan;
	if (only(body, keys, err, errlen) < 0)
		return 400;
	if (!name || !valid_pg_name(name))
		return errorf(err, errlen,
			      "name: 1 to 64 printable characters, no '/', no leading or "
			      "trailing space"),
		       400;
	if (!sw)
		return errorf(err, errlen, "switch: missing"), 400;
	if (get_vlan(body, &vlan, err, errlen) < 0)
		return 400;
	pthread_mutex_lock(&lock);
	json_t *old = row(PG_SQL " WHERE name = ?", name), *s = row(SW_SQL " WHERE name = ?", sw);
	char b[32];
	int status = 201;
	if (old)
		status = 409, errorf(err, errlen, "port group %s: exists", name);
	else if (!s)
		status = 400, errorf(err, errlen, "switch: %s: no such switch", sw);
	else if (db_exec("INSERT INTO portgroups(name, switch, vlan) VALUES(?, ?, ?)",
			 (const char *[]){name, sw, DB_INT(b, vlan), NULL}, err, errlen) < 0)
		status = 500;
	json_decref(old);
	json_decref(s);
	pthread_mutex_unlock(&lock);
	return status == 201 ? apply(status, err, errlen) : status;
}

int network_portgroup_update(const char *name, const json_t *body, char *err, size_t errlen)
{
	static const char *const keys[] = {"vlan", NULL};
	long vlan;
	if (only(body, keys, err, errlen) < 0)
		return 400;
	if (!json_object_get(body, "vlan"))
		return errorf(err, errlen, "vlan: missing (null for none)"), 400;
	if (get_vlan(body, &vlan, err, errlen) < 0)
		return 400;
	char b[32];
	int n = db_exec("UPDATE portgroups SET vlan = ? WHERE name = ?",
			(const char *[]){DB_INT(b, vlan), name, NULL}, err, errlen);
	if (n < 0)
		return 500;
	if (n == 0)
		return errorf(err, errlen, "port group %s: no such port group", name), 404;
	return apply(200, err, errlen);
}

int network_portgroup_remove(const char *name, char *err, size_t errlen)
{
	pthread_mutex_lock(&lock);
	char what[96];
	snprintf(what, sizeof(what), "port group %s", name);
	json_t *old = row(PG_SQL " WHERE name = ?", name);
	int status = 204;
	if (!old)
		status = 404, errorf(err, errlen, "%s: no such port group", what);
	else if (in_use(json_pack("[s]", name), what, err, errlen))
		status = 409;
	else if (db_exec("DELETE FROM portgroups WHERE name = ?", (const char *[]){name, NULL}, err,
			 errlen) < 0)
		status = 500;
	json_decref(old);
	pthread_mutex_unlock(&lock);
	/* the native VLAN may change with it */
	return status == 204 ? apply(status, err, errlen) : status;
}

/* --- diagnostics -------------------------------------------------------- */

static json_t *mac_json(const uint8_t m[6])
{
	return json_sprintf("%02x:%02x:%02x:%02x:%02x:%02x", m[0], m[1], m[2], m[3], m[4], m[5]);
}

json_t *network_nics(const char *mgmt_if)
{
	json_t *out = json_array();
	struct nl_link *links = NULL;
	size_t n = 0;
	if (nl_links(&links, &n, NULL, 0) < 0)
		return out;
	for (size_t i = 0; i < n; i++) {
		struct nl_nic info;
		if (nl_nic_info(links[i].name, &info) < 0)
			continue;
		json_t *up = row("SELECT switch FROM uplinks WHERE nic = ?", links[i].name);
		const char *use = strcmp(links[i].name, mgmt_if) == 0 ? "management"
				  : up				      ? "uplink"
								      : NULL;
		json_array_append_new(
		    out, json_pack(
			     "{s:s,s:o,s:s,s:o,s:s,s:s,s:i,s:o,s:o}", "name", links[i].name, "mac",
			     mac_json(links[i].mac), "link", links[i].carrier ? "up" : "down",
			     "speed_mbps",
			     info.speed_mbps >= 0 ? json_integer(info.speed_mbps) : json_null(),
			     "duplex", info.duplex, "driver", info.driver, "mtu", (int)links[i].mtu,
			     "use", use ? json_string(use) : json_null(), "switch",
			     up ? json_incref(json_object_get(up, "switch")) : json_null()));
		json_decref(up);
	}
	free(links);
	return out;
}

json_t *network_connections(void)
{
	json_t *out = json_array();
	struct nl_tcp *c = NULL;
	size_t n = 0;
	if (nl_tcp_connections(&c, &n, NULL, 0) == 0)
		for (size_t i = 0; i < n; i++)
			json_array_append_new(out, json_pack("{s:s,s:s,s:s}", "local", c[i].local,
							     "remote", c[i].remote, "state",
							     c[i].state));
	free(c);
	return out;
}

json_t *network_neighbours(void)
{
	json_t *out = json_array();
	struct nl_neigh *e = NULL;
	size_t n = 0;
	if (nl_neighbours(&e, &n, NULL, 0) == 0)
		for (size_t i = 0; i < n; i++)
			json_array_append_new(out, json_pack("{s:s,s:s,s:s,s:s}", "ip", e[i].ip,
							     "mac", e[i].mac, "interface",
							     e[i].ifname, "state", e[i].state));
	free(e);
	return out;
}
