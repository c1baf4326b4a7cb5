/* keel host update apply: an update bundle sent to the host */
#include <stdio.h>
#include <sys/stat.h>

#include "cli/api.h"
#include "cli/args.h"
#include "cli/cmd.h"
#include "cli/output.h"

/* keel host update apply FILE [--allow-downgrade] [--reboot]: POST
 * /api/v1/host/update with the bundle, streamed; then POST /host/reboot */
int cmd_host_update_apply(struct cli *cli, int argc, char **argv)
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
	rc = api_post_upload(cli->api,
			     downgrade ? "/api/v1/host/update?allow_downgrade=true"
				       : "/api/v1/host/update",
			     f, st.st_size, cmd_progress(cli), &r);
	fclose(f);
	if (rc == 0)
		rc = print_result(
		    cli->json, r,
		    "Keel %s (%s, %s) is in bank %s: the next boot runs it, on trial%s",
		    jstr(r, "version"), jstr(r, "build"), jstr(r, "acceptance"), jstr(r, "bank"),
		    reboot ? "" : " (keel host reboot)");
	json_decref(r);
	if (rc == 0 && reboot) {
		r = NULL;
		rc = api_json(cli->api, "POST", "/api/v1/host/reboot", NULL, &r);
		cli->quiet_logout = true; /* the host is going away */
		if (rc == 0 && !cli->json)
			rc = print_result(
			    false, r, "the host reboots: %lld VM%s shutting down first",
			    jint(r, "vms_running"), jint(r, "vms_running") == 1 ? "" : "s");
		json_decref(r);
	}
	return rc;
}
