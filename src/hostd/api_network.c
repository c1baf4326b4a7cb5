#include "hostd/api.h"

#include "hostd/mgmt.h"
#include "hostd/network.h"

/* The virtual switch and port group routes: the checks and the changes are
 * network.c's; these map them onto HTTP. */

static void show(struct req *r, json_t *obj, const char *what)
{
	if (obj)
		reply_json(r, 200, obj);
	else
		reply_error(r, 404, "%s %s: not found", what, r->param[0]);
}

/* Answers a change with `status` and the object as it now is (nothing for
 * 204), or the error. */
static void changed(struct req *r, int rc, unsigned status, const char *err,
		    json_t *(*get)(const char *), const char *name)
{
	if (rc < 0)
		reply_errno(r, rc, err);
	else if (status == 204)
		reply_empty(r, 204);
	else
		reply_json(r, status, get(name));
}

typedef int (*change_fn)(const char *name, const json_t *body, char *err, size_t errlen);

static void with_body(struct req *r, change_fn fn, unsigned status, json_t *(*get)(const char *))
{
	json_t *body = req_json(r);
	if (!body)
		return;
	char err[512];
	const char *name =
	    r->param[0] ? r->param[0] : json_string_value(json_object_get(body, "name"));
	int rc = fn(r->param[0], body, err, sizeof(err));
	changed(r, rc, status, err, get, name);
	json_decref(body);
}

static int switch_add(const char *name, const json_t *body, char *err, size_t errlen)
{
	(void)name;
	return network_switch_add(body, err, errlen);
}

static int pg_add(const char *name, const json_t *body, char *err, size_t errlen)
{
	(void)name;
	return network_portgroup_add(body, err, errlen);
}

void api_switch_list(struct req *r)
{
	reply_json(r, 200, json_pack("{s:o}", "switches", network_switches()));
}

void api_switch_show(struct req *r)
{
	show(r, network_switch(r->param[0]), "switch");
}

void api_switch_create(struct req *r)
{
	with_body(r, switch_add, 201, network_switch);
}

void api_switch_update(struct req *r)
{
	with_body(r, network_switch_update, 200, network_switch);
}

void api_switch_delete(struct req *r)
{
	char err[512];
	changed(r, network_switch_remove(r->param[0], err, sizeof(err)), 204, err, NULL, NULL);
}

void api_portgroup_list(struct req *r)
{
	reply_json(r, 200, json_pack("{s:o}", "portgroups", network_portgroups()));
}

void api_portgroup_show(struct req *r)
{
	show(r, network_portgroup(r->param[0]), "port group");
}

void api_portgroup_create(struct req *r)
{
	with_body(r, pg_add, 201, network_portgroup);
}

void api_portgroup_update(struct req *r)
{
	with_body(r, network_portgroup_update, 200, network_portgroup);
}

void api_portgroup_delete(struct req *r)
{
	char err[512];
	changed(r, network_portgroup_remove(r->param[0], err, sizeof(err)), 204, err, NULL, NULL);
}

void api_net_nics(struct req *r)
{
	reply_json(r, 200, json_pack("{s:o}", "nics", network_nics(mgmt_ifname())));
}

void api_net_connections(struct req *r)
{
	reply_json(r, 200, json_pack("{s:o}", "connections", network_connections()));
}

void api_net_neighbours(struct req *r)
{
	reply_json(r, 200, json_pack("{s:o}", "neighbours", network_neighbours()));
}
