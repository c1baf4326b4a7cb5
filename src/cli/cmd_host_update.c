/* keel host update apply: an update bundle sent to the host. keel host
 * extension list | install | remove, keel host acceptance [set]. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cli/api.h"
#include "cli/args.h"
#include "cli/cmd.h"
#include "cli/output.h"
#include "common/util.h"

/* POST host/reboot, after an install with --reboot */
static int reboot_host(struct cli *cli)
{
	json_t *r = NULL;
	int rc = api_json(cli->api, "POST", "/api/v1/host/reboot", NULL, &r);
	cli->quiet_logout = true; /* the host is going away */
	if (rc == 0 && !cli->json)
		rc = print_result(false, r, "the host reboots: %lld VM%s shutting down first",
				  jint(r, "vms_running"), jint(r, "vms_running") == 1 ? "" : "s");
	json_decref(r);
	return rc;
}

/* COMMAND FILE [--allow-downgrade] [--reboot]: the bundle FILE streamed to
 * `path`, the answer printed, then a reboot if asked for */
static int send_bundle(struct cli *cli, int argc, char **argv, const char *path,
		       void (*print)(json_t *answer, bool reboot))
{
	static const struct option opts[] = {{"allow-downgrade", no_argument, NULL, 'd'},
					     {"reboot", no_argument, NULL, 'r'},
					     {"help", no_argument, NULL, 'h'},
					     {0}};
	bool downgrade = false, reboot = false;
	int c;
	args_begin();
	while ((c = args_next(argc, argv, "h", opts)) != -1) {
		if (c == 'd')
			downgrade = true;
		else if (c == 'r')
			reboot = true;
		else
			return c == 'h' ? EXIT_HELP : EXIT_USAGE;
	}
	int rc = args_count(argc, argv, 1, 1);
	if (rc)
		return rc;
	struct stat st;
	FILE *f = cmd_open_upload(argv[optind], &st);
	if (!f)
		return EXIT_SETUP;
	json_t *r = NULL;
	char url[128];
	snprintf(url, sizeof(url), "%s%s", path, downgrade ? "?allow_downgrade=true" : "");
	rc = api_post_upload(cli->api, url, f, st.st_size, cmd_progress(cli), &r);
	fclose(f);
	if (rc == 0 && cli->json)
		rc = print_json(r);
	else if (rc == 0)
		print(r, reboot);
	json_decref(r);
	return rc == 0 && reboot ? reboot_host(cli) : rc;
}

static void update_print(json_t *r, bool reboot)
{
	printf("Keel %s (%s, %s) is in bank %s: the next boot runs it, on trial%s\n",
	       jstr(r, "version"), jstr(r, "build"), jstr(r, "acceptance"), jstr(r, "bank"),
	       reboot ? "" : " (keel host reboot)");
	char *kept = json_text(json_object_get(r, "extensions_kept"), NULL);
	char *dropped = json_text(json_object_get(r, "extensions_dropped"), NULL);
	if (kept)
		printf("Extensions it keeps: %s\n", kept);
	if (dropped)
		printf("Extensions left out (built for another kernel): %s\n", dropped);
	free(kept);
	free(dropped);
}

/* keel host update apply FILE [--allow-downgrade] [--reboot]: POST
 * /api/v1/host/update with the bundle, streamed; then POST /host/reboot */
int cmd_host_update_apply(struct cli *cli, int argc, char **argv)
{
	return send_bundle(cli, argc, argv, "/api/v1/host/update", update_print);
}

static void extension_print(json_t *r, bool reboot)
{
	char *modules = json_text(json_object_get(r, "modules"), "-");
	printf("Extension %s %s (%s, kernel %s) is installed: %s load%s\n", jstr(r, "name"),
	       jstr(r, "version"), jstr(r, "acceptance"), jstr(r, "kernel"), modules,
	       reboot ? " at the next boot" : " at the next boot (keel host reboot)");
	free(modules);
}

int cmd_host_ext_install(struct cli *cli, int argc, char **argv)
{
	return send_bundle(cli, argc, argv, "/api/v1/host/extensions", extension_print);
}

static void extensions_print(json_t *r)
{
	static const struct column cols[] = {
	    {"NAME", "name", NULL, false},
	    {"VERSION", "version", NULL, false},
	    {"ACCEPTANCE", "acceptance", NULL, false},
	    {"STATE", "state", NULL, false},
	    {"MODULES", "modules", NULL, false},
	};
	json_t *list = json_object_get(r, "extensions"), *e;
	size_t i;
	if (json_array_size(list) == 0)
		printf("No extensions are installed.\n");
	else
		table_objects(list, cols, ARRAY_SIZE(cols));
	json_array_foreach(list, i, e) if (json_object_get(e, "error"))
	    printf("%s: %s\n", jstr(e, "name"), jstr(e, "error"));
	printf("The host takes bundles of acceptance level %s or above.\n", jstr(r, "acceptance"));
}

int cmd_host_ext_list(struct cli *cli, int argc, char **argv)
{
	return cmd_show(cli, argc, argv, "/api/v1/host/extensions", extensions_print);
}

int cmd_host_ext_remove(struct cli *cli, int argc, char **argv)
{
	int rc = args_simple(argc, argv, 1, 1);
	if (rc)
		return rc;
	char *path = api_pathf("/api/v1/host/extensions/%s", argv[optind]);
	json_t *r = NULL;
	rc = api_json(cli->api, "DELETE", path, NULL, &r);
	free(path);
	if (rc == 0)
		rc = print_result(cli->json, r,
				  "Extension %s removed: its modules stay loaded until the host "
				  "reboots",
				  jstr(r, "removed"));
	json_decref(r);
	return rc;
}

static void acceptance_print(json_t *r)
{
	printf("The host takes bundles of acceptance level %s or above.\n", jstr(r, "level"));
}

int cmd_host_acceptance(struct cli *cli, int argc, char **argv)
{
	return cmd_show(cli, argc, argv, "/api/v1/host/acceptance", acceptance_print);
}

int cmd_host_acceptance_set(struct cli *cli, int argc, char **argv)
{
	int rc = args_simple(argc, argv, 1, 1);
	if (rc)
		return rc;
	json_t *r = NULL, *body = json_pack("{s:s}", "level", argv[optind]);
	rc = api_json(cli->api, "PUT", "/api/v1/host/acceptance", body, &r);
	json_decref(body);
	return print_answer(cli->json, rc, r, acceptance_print);
}
