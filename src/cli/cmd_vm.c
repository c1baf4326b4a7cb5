/* keel vm list | show | delete, and the human form of a VM */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/api.h"
#include "cli/args.h"
#include "cli/cmd.h"
#include "cli/mem.h"
#include "cli/output.h"
#include "common/vmspec.h"

static void add_disks_and_nics(struct table *t, json_t *vm)
{
	size_t i;
	json_t *d;
	json_array_foreach(json_object_get(vm, "disks"), i, d)
	{
		char *s =
		    xasprintf("%s%s", jstr(d, "path"), jbool(d, "readonly") ? " (read-only)" : "");
		table_add(t, "disk", s);
		free(s);
	}
	if (i == 0)
		table_add(t, "disk", "none");
	json_array_foreach(json_object_get(vm, "nics"), i, d)
	{
		const char *pg = jstr(d, "portgroup");
		char *s = *pg ? xasprintf("%s (port group %s)", jstr(d, "mac"), pg)
			      : xstrdup(jstr(d, "mac"));
		table_add(t, "nic", s);
		free(s);
	}
	if (i == 0)
		table_add(t, "nic", "none");
}

void vm_print(json_t *vm)
{
	char up[32], mem[SIZE_LEN], n[3][96];
	struct table *t = table_new(2);
	table_add(t, "name", jstr(vm, "name"));
	if (json_object_get(vm, "pid"))
		snprintf(n[0], sizeof(n[0]), "%s (pid %lld, up %s)", jstr(vm, "state"),
			 jint(vm, "pid"), fmt_duration(up, jnum(vm, "uptime_s")));
	else
		snprintf(n[0], sizeof(n[0]), "%s", jstr(vm, "state"));
	table_add(t, "state", n[0]);
	snprintf(n[1], sizeof(n[1]), "%lld", jint(vm, "vcpus"));
	table_add(t, "vcpus", n[1]);
	table_add(t, "memory", fmt_size(mem, jint(vm, "memory_mib") << 20));
	const char *fw = json_string_value(json_object_get(vm, "firmware"));
	char order[VM_MAX_DISKS * 24] = "";
	if (fw)
		table_add(t, "firmware", fw);
	if (!fw || strcmp(fw, "none") == 0) {
		table_add(t, "kernel", jstr(vm, "kernel"));
		table_add(t, "initrd", json_string_value(json_object_get(vm, "initrd")));
		table_add(t, "cmdline", jstr(vm, "cmdline"));
	} else {
		size_t i, len = 0;
		json_t *d;
		json_array_foreach(json_object_get(vm, "boot_order"), i, d) len +=
		    (size_t)snprintf(order + len, sizeof(order) - len, "%sdisk %lld", i ? ", " : "",
				     (long long)json_integer_value(d));
		table_add(t, "boot order", len ? order : "the firmware's");
	}
	add_disks_and_nics(t, vm);
	if (jbool(vm, "autostart"))
		snprintf(n[2], sizeof(n[2]), "yes (order %lld, delay %lld s)",
			 jint(vm, "autostart_order"), jint(vm, "autostart_delay_s"));
	else
		snprintf(n[2], sizeof(n[2]), "no");
	table_add(t, "autostart", n[2]);
	json_t *ci = json_object_get(vm, "cloud_init");
	char seed[96] = "none";
	if (json_is_object(ci))
		snprintf(
		    seed, sizeof(seed), "user data %zu bytes, meta-data %s, network-config %s",
		    json_string_length(json_object_get(ci, "user_data")),
		    json_string_length(json_object_get(ci, "meta_data")) ? "given" : "the host's",
		    json_string_length(json_object_get(ci, "network_config")) ? "given" : "none");
	table_add(t, "cloud-init", seed);
	if (json_object_get(vm, "last_error"))
		table_add(t, "last error", jstr(vm, "last_error"));
	table_print(t);
}

int cmd_vm_list(struct cli *cli, int argc, char **argv)
{
	int rc = args_simple(argc, argv, 0, 0);
	json_t *r = NULL;
	if (rc == 0)
		rc = api_json(cli->api, "GET", "/api/v1/vms", NULL, &r);
	if (rc || cli->json) {
		rc = rc ? rc : print_json(r);
		json_decref(r);
		return rc;
	}
	struct table *t = table_new(5);
	table_align_right(t, 2);
	table_align_right(t, 3);
	table_add(t, "NAME", "STATE", "VCPUS", "MEMORY", "AUTOSTART");
	size_t i;
	json_t *vm;
	json_array_foreach(json_object_get(r, "vms"), i, vm)
	{
		char vcpus[24], mem[SIZE_LEN];
		snprintf(vcpus, sizeof(vcpus), "%lld", jint(vm, "vcpus"));
		table_add(t, jstr(vm, "name"), jstr(vm, "state"), vcpus,
			  fmt_size(mem, jint(vm, "memory_mib") << 20),
			  jbool(vm, "autostart") ? "yes" : "no");
	}
	table_print(t);
	json_decref(r);
	return finish_stdout();
}

int cmd_vm_show(struct cli *cli, int argc, char **argv)
{
	int rc = args_simple(argc, argv, 1, 1);
	if (rc)
		return rc;
	char *path = api_pathf("/api/v1/vms/%s", argv[optind]);
	json_t *vm = NULL;
	rc = api_json(cli->api, "GET", path, NULL, &vm);
	free(path);
	return print_answer(cli->json, rc, vm, vm_print);
}

int cmd_vm_delete(struct cli *cli, int argc, char **argv)
{
	static const struct option opts[] = {
	    {"delete-disks", no_argument, NULL, 'd'}, {"help", no_argument, NULL, 'h'}, {0}};
	bool disks = false;
	int c;
	args_begin();
	while ((c = args_next(argc, argv, "h", opts)) != -1) {
		if (c == 'h')
			return EXIT_HELP;
		if (c != 'd')
			return EXIT_USAGE;
		disks = true;
	}
	int rc = args_count(argc, argv, 1, 1);
	if (rc)
		return rc;
	const char *name = argv[optind];
	char *path = api_pathf(disks ? "/api/v1/vms/%s?delete_disks=true" : "/api/v1/vms/%s", name);
	rc = api_json(cli->api, "DELETE", path, NULL, NULL);
	free(path);
	if (rc == 0 && !cli->json) {
		printf("%s deleted%s\n", name, disks ? ", with its disks" : "");
		rc = finish_stdout();
	}
	return rc;
}
