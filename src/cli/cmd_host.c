/* keel host info | restart-agents */
#include <stdio.h>

#include "cli/api.h"
#include "cli/args.h"
#include "cli/cmd.h"
#include "cli/interrupt.h"
#include "cli/output.h"

#define RESTART_WAIT_S 60

int cmd_host_info(struct cli *cli, int argc, char **argv)
{
	int rc = args_simple(argc, argv, 0, 0);
	json_t *h = NULL;
	if (rc == 0)
		rc = api_json(cli->api, "GET", "/api/v1/host", NULL, &h);
	if (rc || cli->json) {
		rc = rc ? rc : print_json(h);
		json_decref(h);
		return rc;
	}
	char up[32], mem[SIZE_LEN], freemem[SIZE_LEN], buf[2][64];
	struct table *t = table_new(2);
	table_add(t, "hostname", jstr(h, "hostname"));
	table_add(t, "version", jstr(h, "version"));
	table_add(t, "uptime", fmt_duration(up, jnum(h, "uptime_s")));
	snprintf(buf[0], sizeof(buf[0]), "%lld", jint(h, "cpus"));
	table_add(t, "cpus", buf[0]);
	snprintf(buf[1], sizeof(buf[1]), "%s (%s free)", fmt_size(mem, jint(h, "memory_mib") << 20),
		 fmt_size(freemem, jint(h, "memory_free_mib") << 20));
	table_add(t, "memory", buf[1]);
	table_add(t, "kvm", jbool(h, "kvm") ? "yes" : "no");
	snprintf(buf[0], sizeof(buf[0]), "%lld (%lld running)", jint(h, "vms"),
		 jint(h, "vms_running"));
	table_add(t, "vms", buf[0]);
	table_add(t, "certificate", jstr(h, "certificate_sha256"));
	table_print(t);
	json_decref(h);
	return finish_stdout();
}

/* keel-hostd exits after its answer and keel-init starts it again: wait
 * until it answers, so that the session can be ended. */
static int wait_back(struct cli *cli)
{
	for (int i = 0; i < 2 * RESTART_WAIT_S; i++) {
		if (!interrupt_sleep(0.5)) {
			error_msg("interrupted");
			return EXIT_FAIL;
		}
		if (i >= 1 && api_ping(cli->api))
			return 0;
	}
	error_msg("keel-hostd did not answer again within %d s", RESTART_WAIT_S);
	return EXIT_FAIL;
}

int cmd_host_restart(struct cli *cli, int argc, char **argv)
{
	int rc = args_simple(argc, argv, 0, 0);
	json_t *r = NULL;
	if (rc == 0)
		rc = api_json(cli->api, "POST", "/api/v1/host/agents/restart", NULL, &r);
	if (rc == 0 && cli->json)
		rc = print_json(r);
	if (rc == 0 && !cli->json) {
		printf("keel-hostd is restarting (running VMs keep running)...\n");
		rc = finish_stdout();
	}
	if (rc == 0)
		rc = wait_back(cli);
	if (rc == 0 && !cli->json) {
		printf("keel-hostd is back\n");
		rc = finish_stdout();
	}
	json_decref(r);
	return rc;
}
