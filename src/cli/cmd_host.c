/* keel host info | restart-agents | certificate | time [set] | syslog show|set */
#include <stdio.h>
#include <string.h>

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

/* keel host time [set --ntp SERVER[,SERVER...] | --ntp-off | --time ISO8601] */
static void time_print(json_t *t)
{
	struct table *tab = table_new(2);
	char buf[4][256] = {""};
	table_add(tab, "time", jstr(t, "time"));
	json_t *servers = json_object_get(t, "servers"), *s;
	size_t i;
	json_array_foreach(servers, i, s)
	    snprintf(buf[0] + strlen(buf[0]), sizeof(buf[0]) - strlen(buf[0]), "%s%s",
		     i ? ", " : "", json_string_value(s));
	table_add(tab, "ntp", jbool(t, "ntp") ? buf[0] : "off");
	table_add(tab, "synchronized", jbool(t, "synchronized") ? "yes" : "no");
	json_t *tr = json_object_get(t, "tracking");
	if (json_is_object(tr)) {
		snprintf(buf[1], sizeof(buf[1]), "%s, stratum %lld", jstr(tr, "reference"),
			 jint(tr, "stratum"));
		table_add(tab, "reference", buf[1]);
		snprintf(buf[2], sizeof(buf[2]), "%+.6f s (NTP time minus the clock)",
			 jnum(tr, "offset_s"));
		table_add(tab, "offset", buf[2]);
		table_add(tab, "leap", jstr(tr, "leap"));
	}
	table_print(tab);
	json_t *sources = json_object_get(t, "sources");
	if (json_array_size(sources) == 0)
		return;
	struct table *st = table_new(5);
	table_add(st, "SOURCE", "STATE", "STRATUM", "REACH", "OFFSET");
	json_array_foreach(sources, i, s)
	{
		char stratum[16], reach[16], off[32];
		snprintf(stratum, sizeof(stratum), "%lld", jint(s, "stratum"));
		snprintf(reach, sizeof(reach), "%03llo", jint(s, "reach"));
		snprintf(off, sizeof(off), "%+.6f", jnum(s, "offset_s"));
		table_add(st, jstr(s, "name"), jstr(s, "state"), stratum, reach, off);
	}
	printf("\n");
	table_print(st);
}

int cmd_host_time(struct cli *cli, int argc, char **argv)
{
	return cmd_show(cli, argc, argv, "/api/v1/host/time", time_print);
}

enum { OPT_NTP = 256, OPT_NTP_OFF, OPT_TIME };

int cmd_host_time_set(struct cli *cli, int argc, char **argv)
{
	static const struct option opts[] = {{"ntp", required_argument, NULL, OPT_NTP},
					     {"ntp-off", no_argument, NULL, OPT_NTP_OFF},
					     {"time", required_argument, NULL, OPT_TIME},
					     {"help", no_argument, NULL, 'h'},
					     {0}};
	json_t *body = json_object(), *list;
	int c, rc = 0;
	args_begin();
	while (rc == 0 && (c = args_next(argc, argv, "h", opts)) != -1) {
		if (c == OPT_NTP && (list = arg_list("--ntp", optarg)))
			json_object_set_new(body, "ntp_servers", list);
		else if (c == OPT_NTP_OFF)
			json_object_set_new(body, "ntp_servers", json_array());
		else if (c == OPT_TIME)
			rc = arg_text(body, "time", optarg) < 0 ? EXIT_USAGE : 0;
		else
			rc = c == 'h' ? EXIT_HELP : EXIT_USAGE;
	}
	if (rc == 0)
		rc = args_count(argc, argv, 0, 0);
	if (rc == 0 && json_object_size(body) == 0) {
		error_msg("nothing to set: --ntp SERVER[,SERVER...], --ntp-off or --time ISO8601");
		rc = EXIT_USAGE;
	}
	json_t *r = NULL;
	if (rc == 0)
		rc = api_json(cli->api, "PUT", "/api/v1/host/time", body, &r);
	json_decref(body);
	return print_answer(cli->json, rc, r, time_print);
}

/* keel host syslog show | set ... */
static void syslog_print(json_t *t)
{
	struct table *tab = table_new(2);
	json_t *status = json_object_get(t, "status"), *s;
	size_t i;
	table_add(tab, "format", jstr(t, "format"));
	const char *fp = json_string_value(json_object_get(t, "fingerprint"));
	const char *ca = json_string_value(json_object_get(t, "ca"));
	char certs[64] = "";
	if (ca) {
		int n = 0;
		for (const char *p = ca; (p = strstr(p, "-----BEGIN CERTIFICATE-----")); p++)
			n++;
		snprintf(certs, sizeof(certs), "CA bundle (%d certificates)", n);
	}
	table_add(tab, "tls check", fp ? "pinned fingerprint" : ca ? certs : "none");
	if (fp)
		table_add(tab, "fingerprint", fp);
	if (json_array_size(status) == 0)
		table_add(tab, "targets", "none (nothing is forwarded)");
	table_print(tab);
	if (json_array_size(status) == 0)
		return;
	struct table *st = table_new(5);
	table_add(st, "TARGET", "STATE", "QUEUED", "LOST", "LAST ERROR");
	json_array_foreach(status, i, s)
	{
		char queued[24] = "-", lost[24] = "-";
		if (json_is_integer(json_object_get(s, "queued")))
			snprintf(queued, sizeof(queued), "%lld", jint(s, "queued"));
		if (json_is_integer(json_object_get(s, "lost")))
			snprintf(lost, sizeof(lost), "%lld", jint(s, "lost"));
		const char *err = json_string_value(json_object_get(s, "error"));
		table_add(st, jstr(s, "target"), jstr(s, "state"), queued, lost, err ? err : "-");
	}
	printf("\n");
	table_print(st);
}

int cmd_host_syslog(struct cli *cli, int argc, char **argv)
{
	return cmd_show(cli, argc, argv, "/api/v1/host/syslog", syslog_print);
}

enum { OPT_TARGET = 256, OPT_NONE, OPT_FORMAT, OPT_CA, OPT_FINGERPRINT };

int cmd_host_syslog_set(struct cli *cli, int argc, char **argv)
{
	static const struct option opts[] = {
	    {"target", required_argument, NULL, OPT_TARGET},
	    {"none", no_argument, NULL, OPT_NONE},
	    {"format", required_argument, NULL, OPT_FORMAT},
	    {"ca", required_argument, NULL, OPT_CA},
	    {"fingerprint", required_argument, NULL, OPT_FINGERPRINT},
	    {"help", no_argument, NULL, 'h'},
	    {0}};
	json_t *body = json_object(), *targets = json_array();
	int c, rc = 0, none = 0;
	args_begin();
	while (rc == 0 && (c = args_next(argc, argv, "h", opts)) != -1) {
		if (c == OPT_TARGET) {
			json_t *u = json_string(optarg);
			rc = u ? 0 : EXIT_USAGE;
			if (u)
				json_array_append_new(targets, u);
			else
				error_msg("--target: not UTF-8");
		} else if (c == OPT_NONE) {
			none = 1;
		} else if (c == OPT_FORMAT) {
			rc = arg_text(body, "format", optarg) < 0 ? EXIT_USAGE : 0;
		} else if (c == OPT_FINGERPRINT) {
			rc = arg_text(body, "fingerprint", optarg) < 0 ? EXIT_USAGE : 0;
			json_object_set_new(body, "ca", json_null());
		} else if (c == OPT_CA) {
			size_t len;
			char *pem = cmd_read_pem(optarg, &len);
			if (!pem) {
				rc = EXIT_SETUP;
			} else {
				rc = arg_text(body, "ca", pem) < 0 ? EXIT_USAGE : 0;
				json_object_set_new(body, "fingerprint", json_null());
				free(pem);
			}
		} else {
			rc = c == 'h' ? EXIT_HELP : EXIT_USAGE;
		}
	}
	if (rc == 0)
		rc = args_count(argc, argv, 0, 0);
	if (rc == 0 && none && json_array_size(targets)) {
		error_msg("--none or --target, not both");
		rc = EXIT_USAGE;
	}
	if (rc == 0 && json_is_string(json_object_get(body, "ca")) &&
	    json_is_string(json_object_get(body, "fingerprint"))) {
		error_msg("--ca or --fingerprint, not both");
		rc = EXIT_USAGE;
	}
	if (none || json_array_size(targets))
		json_object_set(body, "targets", targets);
	if (rc == 0 && json_object_size(body) == 0) {
		error_msg("nothing to set: --target URL, --none, --format, --ca or --fingerprint");
		rc = EXIT_USAGE;
	}
	json_decref(targets);
	json_t *r = NULL;
	if (rc == 0)
		rc = api_json(cli->api, "PUT", "/api/v1/host/syslog", body, &r);
	json_decref(body);
	return print_answer(cli->json, rc, r, syslog_print);
}
