/* keel host tech-support show|set | reboot | shutdown | factory-reset |
 * image | rollback | maintenance [enter|exit] */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "cli/api.h"
#include "cli/args.h"
#include "cli/cmd.h"
#include "cli/output.h"
#include "common/util.h"

static void tsm_print(json_t *t)
{
	struct table *tab = table_new(2);
	char buf[3][64];
	for (int i = 0; i < 2; i++) {
		const char *which = i ? "ssh" : "local";
		json_t *until = json_object_get(t, i ? "ssh_until" : "local_until");
		if (!jbool(t, which))
			snprintf(buf[i], sizeof(buf[i]), "off");
		else if (json_is_integer(until))
			snprintf(buf[i], sizeof(buf[i]), "on until %s",
				 fmt_time(buf[2], json_integer_value(until)));
		else
			snprintf(buf[i], sizeof(buf[i]), "on");
		table_add(tab, i ? "ssh" : "local", buf[i]);
	}
	char a[32], b[32];
	snprintf(a, sizeof(a), "%lld s", jint(t, "availability_timeout_s"));
	snprintf(b, sizeof(b), "%lld s", jint(t, "idle_timeout_s"));
	table_add(tab, "availability timeout", jint(t, "availability_timeout_s") ? a : "none");
	table_add(tab, "idle timeout", jint(t, "idle_timeout_s") ? b : "none");
	table_add(tab, "console UI",
		  !jbool(t, "dcui")	     ? "off"
		  : jbool(t, "dcui_running") ? "on"
					     : "off (strict lockdown)");
	table_print(tab);
}

int cmd_host_tsm(struct cli *cli, int argc, char **argv)
{
	return cmd_show(cli, argc, argv, "/api/v1/host/tech-support", tsm_print);
}

enum { OPT_LOCAL = 256, OPT_SSH, OPT_DCUI, OPT_AVAIL, OPT_IDLE };

static int on_off(json_t *body, const char *key, const char *what, const char *arg)
{
	if (strcmp(arg, "on") && strcmp(arg, "off")) {
		error_msg("%s: on or off", what);
		return EXIT_USAGE;
	}
	json_object_set_new(body, key, json_boolean(strcmp(arg, "on") == 0));
	return 0;
}

int cmd_host_tsm_set(struct cli *cli, int argc, char **argv)
{
	static const struct option opts[] = {
	    {"local", required_argument, NULL, OPT_LOCAL},
	    {"ssh", required_argument, NULL, OPT_SSH},
	    {"dcui", required_argument, NULL, OPT_DCUI},
	    {"availability-timeout", required_argument, NULL, OPT_AVAIL},
	    {"idle-timeout", required_argument, NULL, OPT_IDLE},
	    {"help", no_argument, NULL, 'h'},
	    {0}};
	json_t *body = json_object();
	long long v;
	int c, rc = 0;
	args_begin();
	while (rc == 0 && (c = args_next(argc, argv, "h", opts)) != -1) {
		if (c == OPT_LOCAL || c == OPT_SSH || c == OPT_DCUI)
			rc = on_off(body,
				    c == OPT_LOCAL ? "local"
				    : c == OPT_SSH ? "ssh"
						   : "dcui",
				    c == OPT_LOCAL ? "--local"
				    : c == OPT_SSH ? "--ssh"
						   : "--dcui",
				    optarg);
		else if (c == OPT_AVAIL || c == OPT_IDLE)
			rc = arg_uint(c == OPT_AVAIL ? "--availability-timeout" : "--idle-timeout",
				      optarg, 0, 7 * 24 * 3600, &v) < 0
				 ? EXIT_USAGE
				 : (json_object_set_new(body,
							c == OPT_AVAIL ? "availability_timeout_s"
								       : "idle_timeout_s",
							json_integer(v)),
				    0);
		else
			rc = c == 'h' ? EXIT_HELP : EXIT_USAGE;
	}
	if (rc == 0)
		rc = args_count(argc, argv, 0, 0);
	if (rc == 0 && json_object_size(body) == 0) {
		error_msg("nothing to set: --local, --ssh, --dcui, --availability-timeout or "
			  "--idle-timeout");
		rc = EXIT_USAGE;
	}
	json_t *r = NULL;
	if (rc == 0)
		rc = api_json(cli->api, "PUT", "/api/v1/host/tech-support", body, &r);
	json_decref(body);
	return print_answer(cli->json, rc, r, tsm_print);
}

/* POST path {timeout_s}: the guests have that long to shut down */
static int power(struct cli *cli, int argc, char **argv, const char *path, const char *what,
		 bool need_yes)
{
	static const struct option opts[] = {{"timeout", required_argument, NULL, 't'},
					     {"yes", no_argument, NULL, 'y'},
					     {"help", no_argument, NULL, 'h'},
					     {0}};
	json_t *body = json_object();
	long long v;
	int c, rc = 0, yes = 0;
	args_begin();
	while (rc == 0 && (c = args_next(argc, argv, "h", opts)) != -1) {
		if (c == 't')
			rc = arg_uint("--timeout", optarg, 0, 3600, &v) < 0
				 ? EXIT_USAGE
				 : (json_object_set_new(body, "timeout_s", json_integer(v)), 0);
		else if (c == 'y' && need_yes)
			yes = 1;
		else
			rc = c == 'h' ? EXIT_HELP : EXIT_USAGE;
	}
	if (rc == 0)
		rc = args_count(argc, argv, 0, 0);
	if (rc == 0 && need_yes && !yes) {
		error_msg("this removes every setting, user, role, permission, network and VM of "
			  "the inventory (the datastores' files stay) and reboots the host with a "
			  "new root password: run it again with --yes");
		rc = EXIT_SETUP;
	}
	json_t *r = NULL;
	if (rc == 0)
		rc = api_json(cli->api, "POST", path, body, &r);
	json_decref(body);
	cli->quiet_logout = true; /* the host is going away */
	if (rc == 0)
		rc = print_result(cli->json, r,
				  "the host %s: %lld VM%s shutting down first (up to %lld s)", what,
				  jint(r, "vms_running"), jint(r, "vms_running") == 1 ? "" : "s",
				  jint(r, "timeout_s"));
	json_decref(r);
	return rc;
}

int cmd_host_reboot(struct cli *cli, int argc, char **argv)
{
	return power(cli, argc, argv, "/api/v1/host/reboot", "reboots", false);
}

int cmd_host_shutdown(struct cli *cli, int argc, char **argv)
{
	return power(cli, argc, argv, "/api/v1/host/shutdown", "powers off", false);
}

int cmd_host_factory_reset(struct cli *cli, int argc, char **argv)
{
	return power(cli, argc, argv, "/api/v1/host/factory-reset",
		     "is reset to its factory settings and reboots", true);
}

/* The two boot banks: which booted, which boots next, and each image */
static void image_print(json_t *r)
{
	if (json_is_null(json_object_get(r, "booted"))) {
		printf("This host did not boot from its boot banks (its kernel came from "
		       "elsewhere).\n");
		return;
	}
	static const struct column cols[] = {
	    {"BANK", "bank", NULL, false},     {"VERSION", "version", "-", false},
	    {"COMMIT", "commit", "-", false},  {"STATE", "state", NULL, false},
	    {"BOOTED", "booted", NULL, false}, {"NEXT BOOT", "next", NULL, false},
	};
	table_objects(json_object_get(r, "banks"), cols, ARRAY_SIZE(cols));
	const char *reason = jstr(r, "reason");
	static const char *const why[][2] = {
	    {"installed", "installed"},
	    {"updated", "updated"},
	    {"fellback", "fell back: the other bank's new image did not boot"},
	    {"rollback", "rolled back by request"},
	};
	for (size_t i = 0; i < ARRAY_SIZE(why); i++)
		if (strcmp(reason, why[i][0]) == 0)
			printf("Bank %s: %s.\n", jstr(r, "next"), why[i][1]);
	if (json_is_integer(json_object_get(r, "tries_left")))
		printf("On trial: %lld more boots before the loader falls back.\n",
		       jint(r, "tries_left"));
}

int cmd_host_image(struct cli *cli, int argc, char **argv)
{
	return cmd_show(cli, argc, argv, "/api/v1/host/image", image_print);
}

static void rollback_print(json_t *r)
{
	image_print(r);
	printf("The next boot uses bank %s: keel host reboot\n", jstr(r, "next"));
}

int cmd_host_rollback(struct cli *cli, int argc, char **argv)
{
	return cmd_call(cli, argc, argv, "POST", "/api/v1/host/image/rollback", rollback_print);
}

static void maintenance_print(json_t *r)
{
	const char *m = jstr(r, "maintenance");
	long long n = jint(r, "vms_running");
	if (strcmp(m, "entering") == 0)
		printf("entering maintenance mode: %lld VM%s still shutting down (keel host "
		       "maintenance shows when it is done)\n",
		       n, n == 1 ? "" : "s");
	else
		printf("maintenance mode: %s (%lld VM%s running)\n", m, n, n == 1 ? "" : "s");
}

int cmd_host_maintenance(struct cli *cli, int argc, char **argv)
{
	return cmd_show(cli, argc, argv, "/api/v1/host/maintenance", maintenance_print);
}

int cmd_host_maintenance_enter(struct cli *cli, int argc, char **argv)
{
	static const struct option opts[] = {{"shutdown-vms", no_argument, NULL, 's'},
					     {"timeout", required_argument, NULL, 't'},
					     {"help", no_argument, NULL, 'h'},
					     {0}};
	json_t *body = json_object();
	long long v;
	int c, rc = 0;
	args_begin();
	while (rc == 0 && (c = args_next(argc, argv, "h", opts)) != -1) {
		if (c == 's')
			json_object_set_new(body, "shutdown_vms", json_true());
		else if (c == 't')
			rc = arg_uint("--timeout", optarg, 0, 3600, &v) < 0
				 ? EXIT_USAGE
				 : (json_object_set_new(body, "timeout_s", json_integer(v)), 0);
		else
			rc = c == 'h' ? EXIT_HELP : EXIT_USAGE;
	}
	if (rc == 0)
		rc = args_count(argc, argv, 0, 0);
	json_t *r = NULL;
	if (rc == 0)
		rc = api_json(cli->api, "POST", "/api/v1/host/maintenance/enter", body, &r);
	json_decref(body);
	return print_answer(cli->json, rc, r, maintenance_print);
}

int cmd_host_maintenance_exit(struct cli *cli, int argc, char **argv)
{
	return cmd_call(cli, argc, argv, "POST", "/api/v1/host/maintenance/exit",
			maintenance_print);
}
