#include "hostd/network.h"

#include "common/log.h"
#include "common/util.h"
#include "common/vmspec.h"
#include "hostd/db.h"
#include "hostd/error.h"
#include "hostd/mgmt.h"
#include "common/netlink.h"
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

static json_t *describe_switch(json_t *sw)
{
	const char *name = str(sw, "name");
	json_object_set_new(sw, "uplinks", db_uplinks_of(name));
	json_object_set_new(sw, "portgroups", db_portgroups_of(name));
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

json_t *network_portgroup(const char *name)
{
	json_t *pg = db_portgroup_get(name);
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
	return describe_all(db_switches_list(), describe_switch);
}

json_t *network_portgroups(void)
{
	return describe_all(db_portgroups_list(), describe_pg);
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
	json_t *pgs = db_portgroup_vlans_of(sw);
	size_t i;
	json_t *vlan;
	json_array_foreach(pgs, i, vlan)
	{
		json_int_t id = json_integer_value(vlan);
		if (id > 0 && id <= NL_VLAN_MAX)
			used[id] = 1;
	}
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
	json_t *pg = db_portgroup_get(pgname);
	json_t *sw = pg ? db_switch_get(str(pg, "switch")) : NULL;
	int rc;
	if (!sw) {
		rc = error_set(err, errlen, -ENOENT, "port group %s: no such port group", pgname);
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
		if (vm_tap_parse(links[i].name, &id, &idx) && db_vm_get_by_id(id, &c) == 0)
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
	json_t *sw = db_switch_get(name);
	if (sw)
		json_object_set_new(describe_switch(sw), "ports", ports(name));
	return sw;
}

static void first_error(int rc, char *err, size_t errlen, const char *msg, int *result)
{
	if (rc < 0 && *result == 0) {
		if (err && errlen)
			str_copy(err, errlen, msg);
		*result = rc;
	}
	if (rc < 0)
		log_msg("network: %s", msg);
}

int network_reconcile(char *err, size_t errlen)
{
	pthread_mutex_lock(&lock);
	int result = 0;
	char msg[256];
	json_t *sws = db_switches_list();
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
		json_t *ups = db_uplinks_of(name), *u;
		json_array_foreach(ups, j, u)
		    first_error(attach(json_string_value(u), name, mtu, v.tagged, v.ntagged,
				       v.native, msg, sizeof(msg)),
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
			if (db_vm_get_by_id(id, &c) == 0)
				first_error(attach_tap(l->name, nic_portgroup(&c, idx), NULL, msg,
						       sizeof(msg)),
					    err, errlen, msg, &result);
		} else if (*l->master && strcmp(l->kind, "bridge") != 0) {
			/* an uplink taken off a switch of ours */
			char *up = db_uplink_switch(l->name);
			json_t *ours = db_switch_get(l->master);
			if (ours && (!up || strcmp(up, l->master) != 0))
				first_error(nl_link_set_master(l->name, NULL, msg, sizeof(msg)),
					    err, errlen, msg, &result);
			free(up);
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
		if (db_vm_get_by_id(id, &c) < 0 || !is_running(c.name)) {
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

bool network_switch_name_valid(const char *s)
{
	size_t n = strlen(s);
	if (n < 1 || n > 15 || s[0] == '.' || s[0] == '-' ||
	    strncmp(s, VM_TAP_PREFIX, strlen(VM_TAP_PREFIX)) == 0)
		return false;
	return strspn(s, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_.-") == n;
}

bool network_portgroup_name_valid(const char *s)
{
	size_t n = strnlen(s, PORTGROUP_NAME_MAX + 1);
	if (n < 1 || n > PORTGROUP_NAME_MAX || s[0] == ' ' || s[n - 1] == ' ' ||
	    strcmp(s, ".") == 0 || strcmp(s, "..") == 0)
		return false;
	for (; *s; s++)
		if ((unsigned char)*s < 0x20 || *s == 0x7f || *s == '/')
			return false;
	return true;
}

static int get_int(const json_t *body, const char *key, long lo, long hi, long *out, char *err,
		   size_t errlen)
{
	json_t *v = json_object_get(body, key);
	if (!v)
		return 0;
	if (!json_is_integer(v) || json_integer_value(v) < lo || json_integer_value(v) > hi)
		return error_set(err, errlen, -EINVAL, "%s: must be an integer from %ld to %ld",
				 key, lo, hi);
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
			return error_set(err, errlen, -EINVAL, "%s: unknown field", k);
	}
	return 0;
}

/* The uplinks of a switch body: physical NICs, not the management one, not
 * on another switch, no repeats. */
static int check_uplinks(const json_t *ups, const char *sw, char *err, size_t errlen)
{
	if (!json_is_array(ups) || json_array_size(ups) > 8)
		return error_set(err, errlen, -EINVAL,
				 "uplinks: must be a list of at most 8 NIC names");
	size_t i, j;
	json_t *u;
	json_array_foreach(ups, i, u)
	{
		const char *nic = json_string_value(u);
		struct nl_nic info;
		if (!nic || strlen(nic) > 15)
			return error_set(err, errlen, -EINVAL, "uplinks[%zu]: must be a NIC name",
					 i);
		int rc = nl_nic_info(nic, &info);
		if (rc == -ENODEV)
			return error_set(err, errlen, -EINVAL, "uplinks: %s: no such NIC", nic);
		if (rc < 0)
			return error_set(err, errlen, -EINVAL, "uplinks: %s: not a physical NIC",
					 nic);
		if (strcmp(nic, mgmt_ifname()) == 0)
			return error_set(err, errlen, -EINVAL,
					 "uplinks: %s carries the management network; it cannot be "
					 "an uplink",
					 nic);
		for (j = 0; j < i; j++)
			if (strcmp(nic, json_string_value(json_array_get(ups, j))) == 0)
				return error_set(err, errlen, -EINVAL,
						 "uplinks: %s is listed twice", nic);
		char *other = db_uplink_switch(nic);
		int taken = other && strcmp(other, sw) != 0;
		if (taken)
			error_set(err, errlen, -EINVAL, "uplinks: %s is already an uplink of %s",
				  nic, other);
		free(other);
		if (taken)
			return -EINVAL;
	}
	return 0;
}

/* After an inventory change: applies it; a failure is an internal error
 * (-EIO), whatever the kernel said. */
static int apply(char *err, size_t errlen)
{
	char msg[256];
	if (network_reconcile(msg, sizeof(msg)) < 0)
		return error_set(err, errlen, -EIO, "saved, but not applied: %s", msg);
	return 0;
}

int network_switch_add(const json_t *body, char *err, size_t errlen)
{
	static const char *const keys[] = {"name", "mtu", "uplinks", NULL};
	const char *name = str(body, "name");
	long mtu = 1500;
	json_t *ups = json_object_get(body, "uplinks");
	int rc = only(body, keys, err, errlen);
	if (rc < 0)
		return rc;
	if (!name || !network_switch_name_valid(name))
		return error_set(err, errlen, -EINVAL,
				 "name: 1 to 15 characters of A-Z a-z 0-9 _ . -, not starting with "
				 ". - or kv");
	if ((rc = get_int(body, "mtu", MTU_MIN, MTU_MAX, &mtu, err, errlen)) < 0 ||
	    (ups && (rc = check_uplinks(ups, name, err, errlen)) < 0))
		return rc;
	pthread_mutex_lock(&lock);
	json_t *old = db_switch_get(name);
	struct nl_nic info;
	if (old)
		rc = error_set(err, errlen, -EEXIST, "switch %s: exists", name);
	else if (nl_nic_info(name, &info) != -ENODEV)
		rc = error_set(err, errlen, -EEXIST, "%s: an interface of that name exists", name);
	else if ((rc = db_switch_add(name, mtu, err, errlen)) >= 0 && ups)
		rc = db_uplinks_set(name, ups, err, errlen);
	json_decref(old);
	pthread_mutex_unlock(&lock);
	return rc < 0 ? rc : apply(err, errlen);
}

int network_switch_update(const char *name, const json_t *body, char *err, size_t errlen)
{
	static const char *const keys[] = {"mtu", "uplinks", NULL};
	json_t *ups = json_object_get(body, "uplinks");
	long mtu = 0;
	int rc;
	if ((rc = only(body, keys, err, errlen)) < 0 ||
	    (rc = get_int(body, "mtu", MTU_MIN, MTU_MAX, &mtu, err, errlen)) < 0 ||
	    (ups && (rc = check_uplinks(ups, name, err, errlen)) < 0))
		return rc;
	pthread_mutex_lock(&lock);
	json_t *old = db_switch_get(name);
	if (!old)
		rc = error_set(err, errlen, -ENOENT, "switch %s: no such switch", name);
	else if ((!mtu || (rc = db_switch_set_mtu(name, mtu, err, errlen)) >= 0) && ups)
		rc = db_uplinks_set(name, ups, err, errlen);
	json_decref(old);
	pthread_mutex_unlock(&lock);
	return rc < 0 ? rc : apply(err, errlen);
}

/* -EBUSY naming the VMs when any VM uses one of the port groups `pgs`
 * (taken); else 0. */
static int in_use(json_t *pgs, const char *what, char *err, size_t errlen)
{
	json_t *vms = vms_on(pgs);
	int rc = 0;
	if (json_array_size(vms) > 0) {
		char *list = json_dumps(vms, JSON_COMPACT);
		rc =
		    error_set(err, errlen, -EBUSY, "%s: in use by VM%s %s; change their NICs first",
			      what, json_array_size(vms) > 1 ? "s" : "", list ? list : "");
		free(list);
	}
	json_decref(vms);
	json_decref(pgs);
	return rc;
}

int network_switch_remove(const char *name, char *err, size_t errlen)
{
	pthread_mutex_lock(&lock);
	json_t *old = db_switch_get(name);
	char what[64];
	snprintf(what, sizeof(what), "switch %s", name);
	int rc;
	if (!old)
		rc = error_set(err, errlen, -ENOENT, "%s: no such switch", what);
	else if ((rc = in_use(db_portgroups_of(name), what, err, errlen)) < 0 ||
		 (rc = db_switch_delete(name, err, errlen)) < 0)
		;
	else if (nl_link_del(name, err, errlen) < 0)
		log_msg("network: %s", err); /* the uplinks are released with the bridge */
	json_decref(old);
	pthread_mutex_unlock(&lock);
	return rc < 0 ? rc : 0;
}

int network_portgroup_add(const json_t *body, char *err, size_t errlen)
{
	static const char *const keys[] = {"name", "switch", "vlan", NULL};
	const char *name = str(body, "name"), *sw = str(body, "switch");
	long vlan;
	int rc = only(body, keys, err, errlen);
	if (rc < 0)
		return rc;
	if (!name || !network_portgroup_name_valid(name))
		return error_set(err, errlen, -EINVAL,
				 "name: 1 to 64 printable characters, no '/', no leading or "
				 "trailing space, not . or ..");
	if (!sw)
		return error_set(err, errlen, -EINVAL, "switch: missing");
	if ((rc = get_vlan(body, &vlan, err, errlen)) < 0)
		return rc;
	pthread_mutex_lock(&lock);
	json_t *old = db_portgroup_get(name), *s = db_switch_get(sw);
	if (old)
		rc = error_set(err, errlen, -EEXIST, "port group %s: exists", name);
	else if (!s)
		rc = error_set(err, errlen, -EINVAL, "switch: %s: no such switch", sw);
	else
		rc = db_portgroup_add(name, sw, vlan, err, errlen);
	json_decref(old);
	json_decref(s);
	pthread_mutex_unlock(&lock);
	return rc < 0 ? rc : apply(err, errlen);
}

int network_portgroup_update(const char *name, const json_t *body, char *err, size_t errlen)
{
	static const char *const keys[] = {"vlan", NULL};
	long vlan;
	int rc = only(body, keys, err, errlen);
	if (rc < 0)
		return rc;
	if (!json_object_get(body, "vlan"))
		return error_set(err, errlen, -EINVAL, "vlan: missing (null for none)");
	if ((rc = get_vlan(body, &vlan, err, errlen)) < 0)
		return rc;
	int n = db_portgroup_set_vlan(name, vlan, err, errlen);
	if (n < 0)
		return n;
	if (n == 0)
		return error_set(err, errlen, -ENOENT, "port group %s: no such port group", name);
	return apply(err, errlen);
}

int network_portgroup_remove(const char *name, char *err, size_t errlen)
{
	pthread_mutex_lock(&lock);
	char what[96];
	snprintf(what, sizeof(what), "port group %s", name);
	json_t *old = db_portgroup_get(name);
	int rc;
	if (!old)
		rc = error_set(err, errlen, -ENOENT, "%s: no such port group", what);
	else if ((rc = in_use(json_pack("[s]", name), what, err, errlen)) == 0)
		rc = db_portgroup_delete(name, err, errlen);
	json_decref(old);
	pthread_mutex_unlock(&lock);
	/* the native VLAN may change with it */
	return rc < 0 ? rc : apply(err, errlen);
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
		char *up = db_uplink_switch(links[i].name);
		const char *use = strcmp(links[i].name, mgmt_if) == 0 ? "management"
				  : up				      ? "uplink"
								      : NULL;
		json_array_append_new(
		    out,
		    json_pack("{s:s,s:o,s:s,s:o,s:s,s:s,s:i,s:o,s:o}", "name", links[i].name, "mac",
			      mac_json(links[i].mac), "link", links[i].carrier ? "up" : "down",
			      "speed_mbps",
			      info.speed_mbps >= 0 ? json_integer(info.speed_mbps) : json_null(),
			      "duplex", info.duplex, "driver", info.driver, "mtu",
			      (int)links[i].mtu, "use", use ? json_string(use) : json_null(),
			      "switch", up ? json_string(up) : json_null()));
		free(up);
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
