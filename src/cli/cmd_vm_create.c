/* keel vm create NAME --memory SIZE [--kernel DS/PATH | --firmware F] [...]: the options
 * become the JSON of POST /api/v1/vms. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/api.h"
#include "cli/args.h"
#include "cli/cmd.h"
#include "cli/mem.h"
#include "cli/output.h"
#include "common/util.h"
#include "common/vmspec.h"

/* DS/PATH[,size=SIZE][,ro] */
static json_t *parse_disk(const char *arg)
{
	char *copy = xstrdup(arg), *save = NULL;
	char *path = strtok_r(copy, ",", &save);
	json_t *d = json_object();
	if (!path || arg[0] == ',') {
		error_msg("--disk: expected DS/PATH[,size=SIZE][,ro], got '%s'", arg);
		goto bad;
	}
	if (arg_text(d, "path", path) < 0)
		goto bad;
	for (char *o = strtok_r(NULL, ",", &save); o; o = strtok_r(NULL, ",", &save)) {
		long long mib;
		if (strncmp(o, "size=", 5) == 0) {
			if (arg_size("--disk size", o + 5, &mib) < 0)
				goto bad;
			json_object_set_new(d, "size_mib", json_integer(mib));
		} else if (strcmp(o, "ro") == 0) {
			json_object_set_new(d, "readonly", json_true());
		} else {
			error_msg("--disk: unknown option '%s' (size=SIZE or ro)", o);
			goto bad;
		}
	}
	free(copy);
	return d;
bad:
	free(copy);
	json_decref(d);
	return NULL;
}

/* NIC: the key of "key=value" in --nic's argument, else NULL */
static const char *nic_key(const char *s)
{
	static const char *const keys[] = {"portgroup", "mac"};
	for (size_t i = 0; i < ARRAY_SIZE(keys); i++) {
		size_t n = strlen(keys[i]);
		if (strncmp(s, keys[i], n) == 0 && s[n] == '=')
			return keys[i];
	}
	return NULL;
}

/* --nic, --nic [portgroup=NAME][,mac=MAC] or --nic=... (either first). A
 * following "portgroup=..." or "mac=..." is taken as the option's argument
 * (GNU getopt then keeps it out of the operands). */
static json_t *parse_nic(int argc, char **argv)
{
	const char *arg = optarg;
	if (!arg && optind < argc && nic_key(argv[optind]))
		arg = argv[optind++];
	json_t *n = json_object();
	if (!arg)
		return n;
	char *copy = xstrdup(arg), *save = NULL;
	char *o = strtok_r(copy, ",", &save);
	for (; o; o = strtok_r(NULL, ",", &save)) {
		const char *key = nic_key(o);
		if (!key || !o[strlen(key) + 1] || json_object_get(n, key))
			break;
		if (arg_text(n, key, o + strlen(key) + 1) < 0) {
			free(copy);
			json_decref(n);
			return NULL;
		}
	}
	free(copy);
	if (!o && json_object_size(n))
		return n;
	error_msg("--nic: expected [portgroup=NAME][,mac=MAC], got '%s'", arg);
	json_decref(n);
	return NULL;
}

/* --boot-order 1,0: disk indexes */
static json_t *parse_boot_order(const char *arg)
{
	json_t *order = json_array();
	char *copy = xstrdup(arg), *save = NULL;
	for (char *o = strtok_r(copy, ",", &save); o; o = strtok_r(NULL, ",", &save)) {
		long long v;
		if (arg_uint("--boot-order", o, 0, VM_MAX_DISKS - 1, &v) < 0) {
			json_decref(order);
			order = NULL;
			break;
		}
		json_array_append_new(order, json_integer(v));
	}
	free(copy);
	return order;
}

/* --cloud-init FILE, --meta-data FILE, --network-config FILE: the file's
 * text into the request's cloud_init (the limits are checked here so that
 * a big file is not sent). */
static int read_cloud_init(json_t *vm, const char *option, const char *key, size_t max,
			   const char *path)
{
	size_t len;
	char *text = read_file(path, max + 1, &len); /* (fails EFBIG past max) */
	if (!text && errno == EFBIG)
		error_msg("%s %s: over %zu bytes", option, path, max);
	else if (!text)
		error_msg("%s %s: %s", option, path, strerror(errno));
	if (!text)
		return EXIT_USAGE;
	json_t *ci = json_object_get(vm, "cloud_init");
	if (!ci)
		json_object_set_new(vm, "cloud_init", ci = json_object());
	int rc = 0;
	if (strlen(text) != len || json_object_set_new(ci, key, json_stringn(text, len)) < 0) {
		error_msg("%s %s: not UTF-8 text", option, path);
		rc = EXIT_USAGE;
	}
	free(text);
	return rc;
}

enum { OPT_ORDER = 256, OPT_DELAY, OPT_BOOT, OPT_USER_DATA, OPT_META_DATA, OPT_NETWORK_CONFIG };

static const struct option opts[] = {
    {"memory", required_argument, NULL, 'm'},
    {"kernel", required_argument, NULL, 'k'},
    {"firmware", required_argument, NULL, 'f'},
    {"boot-order", required_argument, NULL, OPT_BOOT},
    {"vcpus", required_argument, NULL, 'c'},
    {"initrd", required_argument, NULL, 'i'},
    {"cmdline", required_argument, NULL, 'l'},
    {"disk", required_argument, NULL, 'd'},
    {"nic", optional_argument, NULL, 'n'},
    {"autostart", no_argument, NULL, 'a'},
    {"autostart-order", required_argument, NULL, OPT_ORDER},
    {"autostart-delay", required_argument, NULL, OPT_DELAY},
    {"cloud-init", required_argument, NULL, OPT_USER_DATA},
    {"meta-data", required_argument, NULL, OPT_META_DATA},
    {"network-config", required_argument, NULL, OPT_NETWORK_CONFIG},
    {"help", no_argument, NULL, 'h'},
    {0}};

/* one option into the request; returns 0 or an exit code */
static int take_option(int c, int argc, char **argv, json_t *vm)
{
	long long v;
	json_t *item;
	switch (c) {
	case 'm':
		if (arg_size("--memory", optarg, &v) < 0)
			return EXIT_USAGE;
		json_object_set_new(vm, "memory_mib", json_integer(v));
		return 0;
	case 'c':
		if (arg_uint("--vcpus", optarg, 1, VM_MAX_VCPUS, &v) < 0)
			return EXIT_USAGE;
		json_object_set_new(vm, "vcpus", json_integer(v));
		return 0;
	case 'k':
	case 'i':
	case 'l':
	case 'f':
		return arg_text(vm,
				c == 'k'   ? "kernel"
				: c == 'i' ? "initrd"
				: c == 'f' ? "firmware"
					   : "cmdline",
				optarg) < 0
			   ? EXIT_USAGE
			   : 0;
	case OPT_BOOT:
		if (!(item = parse_boot_order(optarg)))
			return EXIT_USAGE;
		json_object_set_new(vm, "boot_order", item);
		return 0;
	case 'd':
	case 'n':
		item = c == 'd' ? parse_disk(optarg) : parse_nic(argc, argv);
		if (!item)
			return EXIT_USAGE;
		json_array_append_new(json_object_get(vm, c == 'd' ? "disks" : "nics"), item);
		return 0;
	case 'a':
		json_object_set_new(vm, "autostart", json_true());
		return 0;
	case OPT_ORDER:
	case OPT_DELAY:
		if (arg_uint(c == OPT_ORDER ? "--autostart-order" : "--autostart-delay", optarg, 0,
			     1000000, &v) < 0)
			return EXIT_USAGE;
		json_object_set_new(vm, c == OPT_ORDER ? "autostart_order" : "autostart_delay_s",
				    json_integer(v));
		return 0;
	case OPT_USER_DATA:
		return read_cloud_init(vm, "--cloud-init", "user_data", VM_USER_DATA_MAX, optarg);
	case OPT_META_DATA:
		return read_cloud_init(vm, "--meta-data", "meta_data", VM_META_DATA_MAX, optarg);
	case OPT_NETWORK_CONFIG:
		return read_cloud_init(vm, "--network-config", "network_config",
				       VM_NETWORK_CONFIG_MAX, optarg);
	case 'h':
		return EXIT_HELP;
	default:
		return EXIT_USAGE;
	}
}

/* the request, or NULL (and *rc) when the arguments are wrong */
static json_t *parse(int argc, char **argv, int *rc)
{
	json_t *vm = json_object();
	json_object_set_new(vm, "disks", json_array());
	json_object_set_new(vm, "nics", json_array());
	int c;
	*rc = 0;
	args_begin();
	while (*rc == 0 && (c = args_next(argc, argv, "h", opts)) != -1)
		*rc = take_option(c, argc, argv, vm);
	if (*rc == 0)
		*rc = args_count(argc, argv, 1, 1);
	if (*rc == 0 && !json_object_get(vm, "memory_mib")) {
		error_msg("--memory is required");
		*rc = EXIT_USAGE;
	}
	if (*rc == 0 && !jbool(vm, "autostart") &&
	    (json_object_get(vm, "autostart_order") || json_object_get(vm, "autostart_delay_s"))) {
		error_msg("--autostart-order and --autostart-delay go with --autostart");
		*rc = EXIT_USAGE;
	}
	json_t *ci = json_object_get(vm, "cloud_init");
	if (*rc == 0 && ci && !json_object_get(ci, "user_data")) {
		error_msg("--meta-data and --network-config go with --cloud-init");
		*rc = EXIT_USAGE;
	}
	if (*rc == 0 && arg_text(vm, "name", argv[optind]) < 0)
		*rc = EXIT_USAGE;
	if (*rc) {
		json_decref(vm);
		return NULL;
	}
	if (json_array_size(json_object_get(vm, "disks")) == 0)
		json_object_del(vm, "disks");
	if (json_array_size(json_object_get(vm, "nics")) == 0)
		json_object_del(vm, "nics");
	return vm;
}

int cmd_vm_create(struct cli *cli, int argc, char **argv)
{
	int rc;
	json_t *req = parse(argc, argv, &rc);
	if (!req)
		return rc;
	json_t *vm = NULL;
	rc = api_json(cli->api, "POST", "/api/v1/vms", req, &vm);
	json_decref(req);
	return print_answer(cli->json, rc, vm, vm_print);
}
