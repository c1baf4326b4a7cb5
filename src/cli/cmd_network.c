/* keel network switch list | show | add | set | rm, keel network portgroup
 * list | show | add | set | rm, keel network nic list, keel network
 * connections and keel network neighbours (the management network is in
 * cmd_network_mgmt.c) */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/api.h"
#include "cli/args.h"
#include "cli/cmd.h"
#include "cli/output.h"
#include "common/util.h"

#define NUMBER_MAX 1000000 /* for --mtu and --vlan: the API checks the ranges */

/* GET path and print its member `member`, an array of objects, as a table;
 * prepare (if any) first adds members for the table to each object */
static int list(struct cli *cli, int argc, char **argv, const char *path, const char *member,
		const struct column *cols, int ncols, void (*prepare)(json_t *object))
{
	int rc = args_simple(argc, argv, 0, 0);
	json_t *r = NULL;
	if (rc == 0)
		rc = api_json(cli->api, "GET", path, NULL, &r);
	if (rc || cli->json) {
		rc = rc ? rc : print_json(r);
		json_decref(r);
		return rc;
	}
	json_t *objects = json_object_get(r, member);
	size_t i;
	json_t *o;
	if (prepare)
		json_array_foreach(objects, i, o) prepare(o);
	table_objects(objects, cols, ncols);
	json_decref(r);
	return finish_stdout();
}

/* NAME: GET path_fmt with NAME in it, then print(answer) */
static int show(struct cli *cli, int argc, char **argv, const char *path_fmt,
		void (*print)(json_t *answer))
{
	int rc = args_simple(argc, argv, 1, 1);
	if (rc)
		return rc;
	char *path = api_pathf(path_fmt, argv[optind]);
	json_t *r = NULL;
	rc = api_json(cli->api, "GET", path, NULL, &r);
	free(path);
	return print_answer(cli->json, rc, r, print);
}

/* NAME: DELETE path_fmt with NAME in it */
static int delete_named(struct cli *cli, int argc, char **argv, const char *path_fmt,
			const char *what)
{
	int rc = args_simple(argc, argv, 1, 1);
	if (rc)
		return rc;
	char *path = api_pathf(path_fmt, argv[optind]);
	rc = api_json(cli->api, "DELETE", path, NULL, NULL);
	free(path);
	if (rc == 0)
		rc = print_result(cli->json, NULL, "%s %s removed", what, argv[optind]);
	return rc;
}

/* Sends body (taken) to path_fmt with NAME in it, then print(answer). */
static int send_body(struct cli *cli, const char *method, const char *path_fmt, const char *name,
		     json_t *body, void (*print)(json_t *answer))
{
	char *path = api_pathf(path_fmt, name);
	json_t *r = NULL;
	int rc = api_json(cli->api, method, path, body, &r);
	free(path);
	json_decref(body);
	return print_answer(cli->json, rc, r, print);
}

/* o[key] = the number in s; -1 with a message if it is not one */
static int set_number(json_t *o, const char *key, const char *what, const char *s)
{
	long long v;
	if (arg_uint(what, s, 0, NUMBER_MAX, &v) < 0)
		return -1;
	json_object_set_new(o, key, json_integer(v));
	return 0;
}

/* --- switches ------------------------------------------------------------ */

static const struct column switch_columns[] = {
    {"NAME", "name", NULL, false},
    {"MTU", "mtu", NULL, true},
    {"UPLINKS", "uplinks", NULL, false},
    {"PORTGROUPS", "portgroups", NULL, false},
};

static const struct column switch_fields[] = {
    {"name", "name", NULL, false},
    {"mtu", "mtu", NULL, false},
    {"uplinks", "uplinks", "none", false},
    {"port groups", "portgroups", "none", false},
};

static const struct column port_columns[] = {
    {"PORT", "name", NULL, false},	 {"MTU", "mtu", NULL, true}, {"PVID", "pvid", "none", true},
    {"TAGGED", "tagged", "none", false}, {"VM", "vm", NULL, false},
};

static void switch_print(json_t *s)
{
	table_fields(s, switch_fields, ARRAY_SIZE(switch_fields));
	json_t *ports = json_object_get(s, "ports");
	if (json_array_size(ports)) {
		printf("\n");
		table_objects(ports, port_columns, ARRAY_SIZE(port_columns));
	}
}

int cmd_net_switch_list(struct cli *cli, int argc, char **argv)
{
	return list(cli, argc, argv, "/api/v1/network/switches", "switches", switch_columns,
		    ARRAY_SIZE(switch_columns), NULL);
}

int cmd_net_switch_show(struct cli *cli, int argc, char **argv)
{
	return show(cli, argc, argv, "/api/v1/network/switches/%s", switch_print);
}

enum { OPT_MTU = 256, OPT_UPLINK, OPT_UPLINKS, OPT_NO_UPLINKS, OPT_SWITCH, OPT_VLAN };

/* switch add and set: NAME and the options into body; returns 0 or an
 * exit code */
static int switch_options(int argc, char **argv, json_t *body, bool add)
{
	static const struct option add_opts[] = {{"mtu", required_argument, NULL, OPT_MTU},
						 {"uplink", required_argument, NULL, OPT_UPLINK},
						 {"help", no_argument, NULL, 'h'},
						 {0}};
	static const struct option set_opts[] = {{"mtu", required_argument, NULL, OPT_MTU},
						 {"uplinks", required_argument, NULL, OPT_UPLINKS},
						 {"no-uplinks", no_argument, NULL, OPT_NO_UPLINKS},
						 {"help", no_argument, NULL, 'h'},
						 {0}};
	json_t *uplinks = json_array(), *l;
	bool no_uplinks = false;
	int c, rc = 0;
	args_begin();
	while (rc == 0 && (c = args_next(argc, argv, "h", add ? add_opts : set_opts)) != -1) {
		switch (c) {
		case OPT_MTU:
			rc = set_number(body, "mtu", "--mtu", optarg) < 0 ? EXIT_USAGE : 0;
			break;
		case OPT_UPLINK:
		case OPT_UPLINKS:
			l = arg_list(c == OPT_UPLINK ? "--uplink" : "--uplinks", optarg);
			rc = l ? 0 : EXIT_USAGE;
			json_array_extend(uplinks, l);
			json_decref(l);
			break;
		case OPT_NO_UPLINKS:
			no_uplinks = true;
			break;
		default:
			rc = c == 'h' ? EXIT_HELP : EXIT_USAGE;
		}
	}
	if (rc == 0)
		rc = args_count(argc, argv, 1, 1);
	if (rc == 0 && no_uplinks && json_array_size(uplinks)) {
		error_msg("--uplinks and --no-uplinks exclude each other");
		rc = EXIT_USAGE;
	}
	if (no_uplinks || json_array_size(uplinks))
		json_object_set(body, "uplinks", uplinks);
	json_decref(uplinks);
	if (rc == 0 && !add && json_object_size(body) == 0) {
		error_msg("nothing to set");
		rc = EXIT_USAGE;
	}
	if (rc == 0 && add && arg_text(body, "name", argv[optind]) < 0)
		rc = EXIT_USAGE;
	return rc;
}

int cmd_net_switch_add(struct cli *cli, int argc, char **argv)
{
	json_t *body = json_object();
	int rc = switch_options(argc, argv, body, true);
	if (rc) {
		json_decref(body);
		return rc;
	}
	return send_body(cli, "POST", "/api/v1/network/switches", "", body, switch_print);
}

int cmd_net_switch_set(struct cli *cli, int argc, char **argv)
{
	json_t *body = json_object();
	int rc = switch_options(argc, argv, body, false);
	if (rc) {
		json_decref(body);
		return rc;
	}
	return send_body(cli, "PATCH", "/api/v1/network/switches/%s", argv[optind], body,
			 switch_print);
}

int cmd_net_switch_rm(struct cli *cli, int argc, char **argv)
{
	return delete_named(cli, argc, argv, "/api/v1/network/switches/%s", "switch");
}

/* --- port groups --------------------------------------------------------- */

static const struct column portgroup_columns[] = {
    {"NAME", "name", NULL, false},
    {"SWITCH", "switch", NULL, false},
    {"VLAN", "vlan", "none", true},
    {"VMS", "vms", NULL, false},
};

static const struct column portgroup_fields[] = {
    {"name", "name", NULL, false},
    {"switch", "switch", NULL, false},
    {"vlan", "vlan", "none", false},
    {"vms", "vms", "none", false},
};

static void portgroup_print(json_t *p)
{
	table_fields(p, portgroup_fields, ARRAY_SIZE(portgroup_fields));
}

int cmd_net_portgroup_list(struct cli *cli, int argc, char **argv)
{
	return list(cli, argc, argv, "/api/v1/network/portgroups", "portgroups", portgroup_columns,
		    ARRAY_SIZE(portgroup_columns), NULL);
}

int cmd_net_portgroup_show(struct cli *cli, int argc, char **argv)
{
	return show(cli, argc, argv, "/api/v1/network/portgroups/%s", portgroup_print);
}

/* portgroup add and set: NAME and the options into body; returns 0 or an
 * exit code */
static int portgroup_options(int argc, char **argv, json_t *body, bool add)
{
	static const struct option add_opts[] = {{"switch", required_argument, NULL, OPT_SWITCH},
						 {"vlan", required_argument, NULL, OPT_VLAN},
						 {"help", no_argument, NULL, 'h'},
						 {0}};
	static const struct option set_opts[] = {
	    {"vlan", required_argument, NULL, OPT_VLAN}, {"help", no_argument, NULL, 'h'}, {0}};
	int c, rc = 0;
	args_begin();
	while (rc == 0 && (c = args_next(argc, argv, "h", add ? add_opts : set_opts)) != -1) {
		if (c == OPT_SWITCH)
			rc = arg_text(body, "switch", optarg) < 0 ? EXIT_USAGE : 0;
		else if (c == OPT_VLAN && strcmp(optarg, "none") == 0)
			json_object_set_new(body, "vlan", json_null());
		else if (c == OPT_VLAN)
			rc = set_number(body, "vlan", "--vlan", optarg) < 0 ? EXIT_USAGE : 0;
		else
			rc = c == 'h' ? EXIT_HELP : EXIT_USAGE;
	}
	if (rc == 0)
		rc = args_count(argc, argv, 1, 1);
	if (rc == 0 && add && !json_object_get(body, "switch")) {
		error_msg("--switch is required");
		rc = EXIT_USAGE;
	}
	if (rc == 0 && !add && !json_object_get(body, "vlan")) {
		error_msg("--vlan is required");
		rc = EXIT_USAGE;
	}
	if (rc == 0 && add && arg_text(body, "name", argv[optind]) < 0)
		rc = EXIT_USAGE;
	return rc;
}

int cmd_net_portgroup_add(struct cli *cli, int argc, char **argv)
{
	json_t *body = json_object();
	int rc = portgroup_options(argc, argv, body, true);
	if (rc) {
		json_decref(body);
		return rc;
	}
	return send_body(cli, "POST", "/api/v1/network/portgroups", "", body, portgroup_print);
}

int cmd_net_portgroup_set(struct cli *cli, int argc, char **argv)
{
	json_t *body = json_object();
	int rc = portgroup_options(argc, argv, body, false);
	if (rc) {
		json_decref(body);
		return rc;
	}
	return send_body(cli, "PATCH", "/api/v1/network/portgroups/%s", argv[optind], body,
			 portgroup_print);
}

int cmd_net_portgroup_rm(struct cli *cli, int argc, char **argv)
{
	return delete_named(cli, argc, argv, "/api/v1/network/portgroups/%s", "port group");
}

/* --- physical NICs, connections, neighbours ------------------------------ */

static const struct column nic_columns[] = {
    {"NAME", "name", NULL, false},     {"MAC", "mac", NULL, false},
    {"LINK", "link", NULL, false},     {"SPEED", "speed_text", NULL, true},
    {"DUPLEX", "duplex", NULL, false}, {"DRIVER", "driver", NULL, false},
    {"MTU", "mtu", NULL, true},	       {"USE", "use_text", NULL, false},
};

/* speed_text: "1 Gb/s", "100 Mb/s"; use_text: "management", "uplink of
 * vSwitch0" */
static void nic_prepare(json_t *nic)
{
	json_t *speed = json_object_get(nic, "speed_mbps");
	long long mbps = jint(nic, "speed_mbps");
	if (json_is_number(speed) && mbps >= 1000 && mbps % 1000 == 0)
		json_object_set_new(nic, "speed_text", json_sprintf("%lld Gb/s", mbps / 1000));
	else if (json_is_number(speed))
		json_object_set_new(nic, "speed_text", json_sprintf("%lld Mb/s", mbps));
	const char *use = jstr(nic, "use"), *sw = jstr(nic, "switch");
	if (strcmp(use, "uplink") == 0 && *sw)
		json_object_set_new(nic, "use_text", json_sprintf("uplink of %s", sw));
	else
		json_object_set_new(nic, "use_text", json_string(use));
}

int cmd_net_nic_list(struct cli *cli, int argc, char **argv)
{
	return list(cli, argc, argv, "/api/v1/network/nics", "nics", nic_columns,
		    ARRAY_SIZE(nic_columns), nic_prepare);
}

static const struct column connection_columns[] = {
    {"LOCAL", "local", NULL, false},
    {"REMOTE", "remote", NULL, false},
    {"STATE", "state", NULL, false},
};

int cmd_net_connections(struct cli *cli, int argc, char **argv)
{
	return list(cli, argc, argv, "/api/v1/network/connections", "connections",
		    connection_columns, ARRAY_SIZE(connection_columns), NULL);
}

static const struct column neighbour_columns[] = {
    {"IP", "ip", NULL, false},
    {"MAC", "mac", NULL, false},
    {"INTERFACE", "interface", NULL, false},
    {"STATE", "state", NULL, false},
};

int cmd_net_neighbours(struct cli *cli, int argc, char **argv)
{
	return list(cli, argc, argv, "/api/v1/network/neighbours", "neighbours", neighbour_columns,
		    ARRAY_SIZE(neighbour_columns), NULL);
}
