/* vms, vm stats, restart-agents: calls of the local API with the session's
 * token, so the user's privileges apply as they would over HTTPS. */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "shell/client.h"
#include "shell/cmd.h"
#include "shell/intr.h"
#include "shell/out.h"

#define RESTART_WAIT_S 60

static const char *str(json_t *o, const char *key)
{
	const char *s = json_string_value(json_object_get(o, key));
	return s ? s : "-";
}

/* a string from the API made printable into buf */
static const char *clean(const char *s, char *buf, size_t n)
{
	snprintf(buf, n, "%s", s);
	text_printable_name(buf);
	return buf;
}

int cmd_vms(struct shell *sh, int argc, char **argv)
{
	(void)argv;
	char err[512];
	if (argc != 1) {
		say_error("vms", "usage: vms");
		return 1;
	}
	json_t *r = NULL;
	if (client_call(sh->api, "GET", "/vms", NULL, &r, NULL, err, sizeof(err)) < 0) {
		say_error("vms", "%s", err);
		return 1;
	}
	printf("%-32s %-10s %5s %10s\n", "NAME", "STATE", "VCPUS", "MEMORY MiB");
	size_t i;
	json_t *vm;
	json_array_foreach(json_object_get(r, "vms"), i, vm)
	{
		char name[128], state[32];
		printf("%-32s %-10s %5lld %10lld\n", clean(str(vm, "name"), name, sizeof(name)),
		       clean(str(vm, "state"), state, sizeof(state)),
		       (long long)json_integer_value(json_object_get(vm, "vcpus")),
		       (long long)json_integer_value(json_object_get(vm, "memory_mib")));
	}
	json_decref(r);
	return 0;
}

static void print_stats(json_t *r)
{
	char state[32];
	printf("state      %s\n", clean(str(r, "state"), state, sizeof(state)));
	printf("uptime     %.1f s\n", json_number_value(json_object_get(r, "uptime_s")));
	printf("boot       %.1f ms\n", json_number_value(json_object_get(r, "boot_ms")));
	printf("rss        %lld KiB\n",
	       (long long)json_integer_value(json_object_get(r, "rss_kib")));
	size_t i;
	json_t *v;
	json_array_foreach(json_object_get(r, "vcpus"), i, v)
	{
		printf("vcpu %lld    run %.3f s, cpu %.3f s, exits:",
		       (long long)json_integer_value(json_object_get(v, "id")),
		       (double)json_integer_value(json_object_get(v, "run_ns")) / 1e9,
		       (double)json_integer_value(json_object_get(v, "cpu_ns")) / 1e9);
		const char *key;
		json_t *n;
		json_object_foreach(json_object_get(v, "exits"), key, n)
		{
			char k[32];
			printf(" %s %lld", clean(key, k, sizeof(k)),
			       (long long)json_integer_value(n));
		}
		putchar('\n');
	}
}

int cmd_vm(struct shell *sh, int argc, char **argv)
{
	char err[512];
	if (argc != 3 || strcmp(argv[1], "stats") != 0) {
		say_error("vm", "usage: vm stats NAME");
		return 1;
	}
	char *path = client_path("/vms/%s/stats", argv[2]);
	json_t *r = NULL;
	int rc = path ? client_call(sh->api, "GET", path, NULL, &r, NULL, err, sizeof(err)) : -1;
	if (rc < 0)
		say_error("vm", "%s", path ? err : "out of memory");
	free(path);
	if (rc < 0) {
		json_decref(r);
		return 1;
	}
	print_stats(r);
	json_decref(r);
	return 0;
}

int cmd_restart_agents(struct shell *sh, int argc, char **argv)
{
	(void)argv;
	char err[512];
	if (argc != 1) {
		say_error("restart-agents", "usage: restart-agents");
		return 1;
	}
	if (client_call(sh->api, "POST", "/host/agents/restart", NULL, NULL, NULL, err,
			sizeof(err)) < 0) {
		say_error("restart-agents", "%s", err);
		return 1;
	}
	printf("The management agents are restarting (running VMs keep running)...\n");
	fflush(stdout);
	/* keel-hostd exits after its answer and keel-init starts it again; the
	 * session survives, the next command needs it back */
	for (int i = 0; i < 2 * RESTART_WAIT_S && !intr_pending(); i++) {
		usleep(500000);
		if (i >= 1 &&
		    client_call(sh->api, "GET", "", NULL, NULL, NULL, err, sizeof(err)) == 0) {
			printf("keel-hostd is back\n");
			return 0;
		}
	}
	say_error("restart-agents", "keel-hostd did not answer again within %d s", RESTART_WAIT_S);
	return 1;
}
