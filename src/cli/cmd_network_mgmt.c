/* keel network mgmt show | set | confirm | rollback: the host's management
 * network. New IP settings are applied on trial: the host rolls them back
 * unless they are confirmed in time (from the new address, which proves
 * that it works). A change of the host name alone is applied at once. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/api.h"
#include "cli/args.h"
#include "cli/cmd.h"
#include "cli/mem.h"
#include "cli/output.h"
#include "common/util.h"

#define MGMT_PATH  "/api/v1/network/management"
#define NUMBER_MAX 1000000 /* --timeout, --vlan: the API checks the ranges */

/* The management settings (the API's management object), with what the
 * interface has now and whether a change awaits its confirmation. */
static void mgmt_print(json_t *m)
{
	/* in DHCP mode, the address and the gateway are the DHCP server's */
	const char *unset = strcmp(jstr(m, "mode"), "dhcp") == 0 ? "by DHCP" : "none";
	const struct column fields[] = {
	    {"hostname", "hostname", NULL, false},
	    {"interface", "interface", NULL, false},
	    {"vlan", "vlan_shown", "none", false},
	    {"mode", "mode", NULL, false},
	    {"address", "address", unset, false},
	    {"gateway", "gateway", unset, false},
	    {"dns", "dns", "none", false},
	    {"current interface", "current_interface", NULL, false},
	    {"current addresses", "current_addresses", "none", false},
	    {"current gateway", "current_gateway", "none", false},
	    {"pending", "pending_text", NULL, false},
	};
	json_t *cur = json_object_get(m, "current"), *pending = json_object_get(m, "pending");
	if (jint(m, "vlan") > 0)
		json_object_set_new(m, "vlan_shown", json_integer(jint(m, "vlan")));
	json_t *v = json_object_get(cur, "interface");
	if (v)
		json_object_set(m, "current_interface", v);
	v = json_object_get(cur, "addresses");
	if (v)
		json_object_set(m, "current_addresses", v);
	v = json_object_get(cur, "gateway");
	if (v)
		json_object_set(m, "current_gateway", v);
	if (json_is_object(pending))
		json_object_set_new(m, "pending_text",
				    json_sprintf("yes: rolled back in %lld s unless confirmed",
						 jint(pending, "seconds_left")));
	else
		json_object_set_new(m, "pending_text", json_string("no"));
	table_fields(m, fields, ARRAY_SIZE(fields));
}

int cmd_net_mgmt_show(struct cli *cli, int argc, char **argv)
{
	return cmd_call(cli, argc, argv, "GET", MGMT_PATH, mgmt_print);
}

enum { OPT_DHCP = 256, OPT_STATIC, OPT_GATEWAY, OPT_DNS, OPT_HOSTNAME, OPT_TIMEOUT, OPT_VLAN };

/* one option of mgmt set into body; returns 0 or an exit code */
static int mgmt_option(int c, json_t *body)
{
	long long v;
	json_t *dns;
	switch (c) {
	case OPT_DHCP:
	case OPT_STATIC:
		if (json_object_get(body, "mode") &&
		    strcmp(jstr(body, "mode"), c == OPT_DHCP ? "dhcp" : "static") != 0) {
			error_msg("--dhcp and --static exclude each other");
			return EXIT_USAGE;
		}
		json_object_set_new(body, "mode", json_string(c == OPT_DHCP ? "dhcp" : "static"));
		return c == OPT_STATIC && arg_text(body, "address", optarg) < 0 ? EXIT_USAGE : 0;
	case OPT_GATEWAY:
		if (strcmp(optarg, "none") != 0)
			return arg_text(body, "gateway", optarg) < 0 ? EXIT_USAGE : 0;
		json_object_set_new(body, "gateway", json_null());
		return 0;
	case OPT_DNS:
		dns = strcmp(optarg, "none") == 0 ? json_array() : arg_list("--dns", optarg);
		if (!dns)
			return EXIT_USAGE;
		json_object_set_new(body, "dns", dns);
		return 0;
	case OPT_HOSTNAME:
		return arg_text(body, "hostname", optarg) < 0 ? EXIT_USAGE : 0;
	case OPT_VLAN:
		if (strcmp(optarg, "none") == 0)
			v = 0;
		else if (arg_uint("--vlan", optarg, 0, NUMBER_MAX, &v) < 0)
			return EXIT_USAGE;
		json_object_set_new(body, "vlan", json_integer(v));
		return 0;
	case OPT_TIMEOUT:
		if (arg_uint("--timeout", optarg, 0, NUMBER_MAX, &v) < 0)
			return EXIT_USAGE;
		json_object_set_new(body, "confirm_timeout_s", json_integer(v));
		return 0;
	case 'h':
		return EXIT_HELP;
	default:
		return EXIT_USAGE;
	}
}

/* The answer to the PUT: with confirm_by (202), the IP settings are on
 * trial; without (200), the host name alone changed, at once. */
static void set_print(json_t *r)
{
	json_t *m = json_object_get(r, "management");
	mgmt_print(m);
	if (!json_object_get(r, "confirm_by")) {
		printf("Applied at once (no IP setting changed: nothing to confirm).\n");
		return;
	}
	const char *addr = jstr(m, "address");
	bool known = strcmp(jstr(m, "mode"), "static") == 0 && *addr;
	char *host = known ? xasprintf("%.*s", (int)strcspn(addr, "/"), addr) : xstrdup("ADDRESS");
	printf("Confirm within %lld s from %s: keel --host %s network mgmt confirm (otherwise the "
	       "previous settings come back)\n",
	       jint(r, "confirm_timeout_s"),
	       known ? "the new address" : "the address the host gets by DHCP (on its console)",
	       host);
	free(host);
}

int cmd_net_mgmt_set(struct cli *cli, int argc, char **argv)
{
	static const struct option opts[] = {{"dhcp", no_argument, NULL, OPT_DHCP},
					     {"static", required_argument, NULL, OPT_STATIC},
					     {"gateway", required_argument, NULL, OPT_GATEWAY},
					     {"dns", required_argument, NULL, OPT_DNS},
					     {"hostname", required_argument, NULL, OPT_HOSTNAME},
					     {"vlan", required_argument, NULL, OPT_VLAN},
					     {"timeout", required_argument, NULL, OPT_TIMEOUT},
					     {"help", no_argument, NULL, 'h'},
					     {0}};
	json_t *body = json_object();
	int c, rc = 0;
	args_begin();
	while (rc == 0 && (c = args_next(argc, argv, "h", opts)) != -1)
		rc = mgmt_option(c, body);
	if (rc == 0)
		rc = args_count(argc, argv, 0, 0);
	size_t settings =
	    json_object_size(body) - (json_object_get(body, "confirm_timeout_s") != 0);
	if (rc == 0 && settings == 0) {
		error_msg("nothing to set");
		rc = EXIT_USAGE;
	}
	json_t *r = NULL;
	if (rc == 0)
		rc = api_json(cli->api, "PUT", MGMT_PATH, body, &r);
	json_decref(body);
	/* the host applies new IP settings a second after its answer: the
	 * logout may come too late for the old address */
	if (rc == 0 && json_object_get(r, "confirm_by"))
		cli->quiet_logout = true;
	return print_answer(cli->json, rc, r, set_print);
}

static void confirmed_print(json_t *r)
{
	mgmt_print(json_object_get(r, "management"));
	printf("Confirmed: the new settings stay.\n");
}

static void rolled_back_print(json_t *r)
{
	mgmt_print(json_object_get(r, "management"));
	printf("Rolled back: the previous settings are in effect again.\n");
}

int cmd_net_mgmt_confirm(struct cli *cli, int argc, char **argv)
{
	return cmd_call(cli, argc, argv, "POST", MGMT_PATH "/confirm", confirmed_print);
}

int cmd_net_mgmt_rollback(struct cli *cli, int argc, char **argv)
{
	/* the host goes back to the previous address: the logout may not
	 * reach it */
	cli->quiet_logout = true;
	return cmd_call(cli, argc, argv, "POST", MGMT_PATH "/rollback", rolled_back_print);
}

static const char *ping_text(json_t *p, char buf[64])
{
	if (!jbool(p, "ok"))
		return "no answer";
	snprintf(buf, 64, "answers (%.1f ms)", jnum(p, "ms"));
	return buf;
}

static void test_print(json_t *r)
{
	struct table *t = table_new(3);
	char buf[64], list[256] = "";
	table_add(t, "TEST", "ADDRESS", "RESULT");
	json_t *gw = json_object_get(r, "gateway"), *d;
	if (json_is_object(gw))
		table_add(t, "ping gateway", jstr(gw, "address"), ping_text(gw, buf));
	else
		table_add(t, "ping gateway", "-", "no default gateway");
	size_t i;
	json_array_foreach(json_object_get(r, "dns"), i, d)
	    table_add(t, "ping DNS server", jstr(d, "address"), ping_text(d, buf));
	json_t *h = json_object_get(r, "hostname");
	json_array_foreach(json_object_get(h, "addresses"), i, d)
	    snprintf(list + strlen(list), sizeof(list) - strlen(list), "%s%s", i ? ", " : "",
		     json_string_value(d));
	table_add(t, "resolve host name", jstr(h, "name"), jbool(h, "ok") ? list : "not resolved");
	table_print(t);
	printf("%s\n", jbool(r, "ok") ? "Management network: OK" : "Management network: FAILED");
}

/* exit 1 when a test fails, for scripts */
int cmd_net_mgmt_test(struct cli *cli, int argc, char **argv)
{
	int rc = args_simple(argc, argv, 0, 0);
	json_t *r = NULL;
	if (rc == 0)
		rc = api_json(cli->api, "POST", MGMT_PATH "/test", NULL, &r);
	int ok = rc == 0 && jbool(r, "ok");
	rc = print_answer(cli->json, rc, r, test_print);
	return rc ? rc : ok ? 0 : EXIT_FAIL;
}
