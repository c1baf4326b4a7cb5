/* keel: the remote CLI of a Keel host (docs/cli.md).
 *
 *   keel [global options] COMMAND [args]
 *
 * Every invocation logs in, does its work through the API (docs/api.md)
 * and logs out, even on failure. On a host, in tech support mode,
 * keel-shell runs the host's build (keel-host-cli, http_local.c) with
 * KEEL_LOCAL_SOCKET and KEEL_SESSION_TOKEN: then it uses that session on
 * the local API (common/localapi.h) instead. Exit status: 0 success, 1 the
 * API refused or the connection failed, 2 a usage error. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/api.h"
#include "cli/args.h"
#include "cli/cmd.h"
#include "cli/creds.h"
#include "cli/http.h"
#include "cli/interrupt.h"
#include "cli/mem.h"
#include "cli/output.h"
#include "common/util.h"

/* group is one word or more, one space apart (keel network switch list);
 * name is NULL for a command of one word (keel passwd, keel audit) */
struct command {
	const char *group, *name, *args;
	int (*run)(struct cli *cli, int argc, char **argv);
};

static const struct command commands[] = {
    {"host", "info", "", cmd_host_info},
    {"host", "restart-agents", "", cmd_host_restart},
    {"host", "certificate", "--cert FILE --key FILE", cmd_host_certificate},
    {"host", "logs", "[NAME [--lines N | --since YYYY-MM-DDTHH:MM:SSZ] [--follow]]", cmd_host_logs},
    {"host", "support-bundle", "-o FILE.tgz", cmd_host_support_bundle},
    {"host time", "set", "--ntp SERVER[,SERVER...] | --ntp-off | --time YYYY-MM-DDTHH:MM:SSZ",
     cmd_host_time_set},
    {"host time", NULL, "", cmd_host_time},
    {"host maintenance", "enter", "[--shutdown-vms] [--timeout S]", cmd_host_maintenance_enter},
    {"host maintenance", "exit", "", cmd_host_maintenance_exit},
    {"host maintenance", NULL, "", cmd_host_maintenance},
    {"host config", "backup", "-o FILE [--passphrase-stdin]", cmd_host_config_backup},
    {"host config", "restore", "FILE [--force] [--passphrase-stdin]", cmd_host_config_restore},
    {"host", "image", "", cmd_host_image},
    {"host", "rollback", "", cmd_host_rollback},
    {"host update", "apply", "FILE [--allow-downgrade] [--reboot]", cmd_host_update_apply},
    {"host extension", "list", "", cmd_host_ext_list},
    {"host extension", "install", "FILE [--allow-downgrade] [--reboot]", cmd_host_ext_install},
    {"host extension", "remove", "NAME", cmd_host_ext_remove},
    {"host acceptance", "set", "certified|partner|community", cmd_host_acceptance_set},
    {"host acceptance", NULL, "", cmd_host_acceptance},
    {"host", "reboot", "[--timeout S]", cmd_host_reboot},
    {"host", "shutdown", "[--timeout S]", cmd_host_shutdown},
    {"host", "factory-reset", "--yes [--timeout S]", cmd_host_factory_reset},
    {"host tech-support", "show", "", cmd_host_tsm},
    {"host tech-support", "set",
     "[--local on|off] [--ssh on|off] [--dcui on|off]\n"
     "        [--availability-timeout S] [--idle-timeout S]",
     cmd_host_tsm_set},
    {"host syslog", "show", "", cmd_host_syslog},
    {"host syslog", "set",
     "--target URL [--target URL]... | --none\n"
     "        [--format rfc5424|rfc3164] [--ca FILE | --fingerprint SHA256]",
     cmd_host_syslog_set},
    {"vm", "list", "", cmd_vm_list},
    {"vm", "show", "NAME", cmd_vm_show},
    {"vm", "create",
     "NAME --memory SIZE --kernel DS/PATH [--vcpus N] [--initrd DS/PATH]\n"
     "        [--cmdline STR] [--disk DS/PATH[,size=SIZE][,ro]]...\n"
     "        [--nic [portgroup=NAME][,mac=MAC]]...\n"
     "        [--autostart [--autostart-order N] [--autostart-delay S]]\n"
     "        [--cloud-init FILE [--meta-data FILE] [--network-config FILE]]",
     cmd_vm_create},
    {"vm", "import",
     "FILE [--name NAME] [--datastore DS] [--quiet]\n"
     "        [--memory SIZE] [--vcpus N] [--firmware uefi|bios]",
     cmd_vm_import},
    {"vm", "start", "NAME", cmd_vm_start},
    {"vm", "stop", "NAME [--hard] [--timeout S] [--no-wait]", cmd_vm_stop},
    {"vm", "reset", "NAME", cmd_vm_reset},
    {"vm", "kill", "NAME", cmd_vm_kill},
    {"vm", "delete", "NAME [--delete-disks]", cmd_vm_delete},
    {"vm", "console", "NAME [--bytes N] [--follow] [--raw]", cmd_vm_console},
    {"datastore", "ls", "[DS[/PATH]]", cmd_ds_ls},
    {"datastore", "upload", "LOCALFILE DS/PATH [--overwrite]", cmd_ds_upload},
    {"datastore", "download", "DS/PATH LOCALFILE", cmd_ds_download},
    {"datastore", "mkdisk", "DS/PATH SIZE", cmd_ds_mkdisk},
    {"datastore", "mkdir", "DS/PATH", cmd_ds_mkdir},
    {"datastore", "rm", "DS/PATH", cmd_ds_rm},
    {"datastore", "cp", "DS/SRC DS/DST", cmd_ds_cp},
    {"datastore", "grow", "DS/PATH SIZE", cmd_ds_grow},
    {"user", "list", "", cmd_user_list},
    {"user", "show", "NAME", cmd_user_show},
    {"user", "create", "NAME [--password-stdin]", cmd_user_create},
    {"user", "passwd", "NAME [--password-stdin]", cmd_user_passwd},
    {"user", "disable", "NAME", cmd_user_disable},
    {"user", "enable", "NAME", cmd_user_enable},
    {"user", "unlock", "NAME", cmd_user_unlock},
    {"user", "delete", "NAME", cmd_user_delete},
    {"user", "ssh-keys", "NAME FILE | NAME --none", cmd_user_ssh_keys},
    {"passwd", NULL, "[--password-stdin]", cmd_passwd},
    {"role", "list", "", cmd_role_list},
    {"role", "show", "NAME", cmd_role_show},
    {"role", "create", "NAME PRIVILEGE...", cmd_role_create},
    {"role", "set", "NAME PRIVILEGE...", cmd_role_set},
    {"role", "delete", "NAME", cmd_role_delete},
    {"privilege", "list", "", cmd_privilege_list},
    {"permission", "list", "", cmd_permission_list},
    {"permission", "set", "USER ROLE [--vm NAME]", cmd_permission_set},
    {"permission", "remove", "USER [--vm NAME]", cmd_permission_remove},
    {"lockdown", "show", "", cmd_lockdown_show},
    {"lockdown", "set", "off|normal|strict [--exception USER]... [--no-exceptions]",
     cmd_lockdown_set},
    {"policy", "show", "", cmd_policy_show},
    {"policy", "set",
     "[--min-length N] [--classes N] [--lockout-failures N]\n"
     "        [--lockout-seconds N]",
     cmd_policy_set},
    {"session", "list", "", cmd_session_list},
    {"session", "revoke", "ID", cmd_session_revoke},
    {"audit", NULL, "[--lines N] [--log all|trail|denied]", cmd_audit},
    {"network switch", "list", "", cmd_net_switch_list},
    {"network switch", "show", "NAME", cmd_net_switch_show},
    {"network switch", "add", "NAME [--mtu N] [--uplink NIC]...", cmd_net_switch_add},
    {"network switch", "set", "NAME [--mtu N] [--uplinks NIC[,NIC...] | --no-uplinks]",
     cmd_net_switch_set},
    {"network switch", "rm", "NAME", cmd_net_switch_rm},
    {"network portgroup", "list", "", cmd_net_portgroup_list},
    {"network portgroup", "show", "NAME", cmd_net_portgroup_show},
    {"network portgroup", "add", "NAME --switch SWITCH [--vlan N]", cmd_net_portgroup_add},
    {"network portgroup", "set", "NAME --vlan N|none", cmd_net_portgroup_set},
    {"network portgroup", "rm", "NAME", cmd_net_portgroup_rm},
    {"network nic", "list", "", cmd_net_nic_list},
    {"network", "connections", "", cmd_net_connections},
    {"network", "neighbours", "", cmd_net_neighbours},
    {"network mgmt", "show", "", cmd_net_mgmt_show},
    {"network mgmt", "set",
     "[--vlan N|none] [--dhcp | --static ADDR/PREFIX] [--gateway GW|none]\n"
     "        [--dns A[,B...]|none] [--hostname NAME] [--timeout SECONDS]",
     cmd_net_mgmt_set},
    {"network mgmt", "confirm", "", cmd_net_mgmt_confirm},
    {"network mgmt", "rollback", "", cmd_net_mgmt_rollback},
    {"network mgmt", "test", "", cmd_net_mgmt_test},
};

/* other names: keel network arp is keel network neighbours */
static const struct {
	const char *group, *alias, *name;
} aliases[] = {
    {"network", "arp", "neighbours"},
};

/* the other name of the command, or NULL */
static const char *alias_of(const struct command *c)
{
	for (size_t i = 0; i < ARRAY_SIZE(aliases); i++)
		if (c->name && strcmp(c->group, aliases[i].group) == 0 &&
		    strcmp(c->name, aliases[i].name) == 0)
			return aliases[i].alias;
	return NULL;
}

/* whether word names the command (by its name or its other one) */
static bool names(const struct command *c, const char *word)
{
	const char *alias = alias_of(c);
	return strcmp(word, c->name) == 0 || (alias && strcmp(word, alias) == 0);
}

/* "keel GROUP [NAME[|ALIAS]] [ARGS]" */
static void print_command(FILE *f, const char *prefix, const struct command *c)
{
	const char *alias = alias_of(c);
	fprintf(f, "%skeel %s", prefix, c->group);
	if (c->name)
		fprintf(f, " %s%s%s", c->name, alias ? "|" : "", alias ? alias : "");
	fprintf(f, "%s%s\n", *c->args ? " " : "", c->args);
}

/* how many of the group's first words are argv's first ones */
static int common_words(const char *group, int argc, char **argv)
{
	int n = 0;
	for (const char *g = group; *g && n < argc; n++) {
		size_t len = strcspn(g, " ");
		if (strlen(argv[n]) != len || strncmp(argv[n], g, len) != 0)
			break;
		g += len;
		g += *g == ' ';
	}
	return n;
}

static int group_words(const char *group)
{
	int n = 1;
	for (; *group; group++)
		n += *group == ' ';
	return n;
}

/* The commands whose group starts with the n words of argv (all for 0) */
static void usage(FILE *f, int n, char **argv)
{
	if (n == 0)
		fputs("usage: keel [global options] COMMAND [args]\n"
		      "\n"
		      "Global options (and their environment variables):\n"
		      "  --host H[:PORT]     the Keel host, port 443 by default (KEEL_HOST)\n"
		      "  --user U            the user, root by default (KEEL_USER)\n"
		      "  --credentials FILE  a mode 0600 file of host=, user=, password=,\n"
		      "                      fingerprint= lines (KEEL_CREDENTIALS)\n"
		      "  --fingerprint FP    the SHA-256 of the host's certificate, as shown on\n"
		      "                      its console (KEEL_FINGERPRINT)\n"
		      "  --insecure          do not verify the host's certificate at all\n"
		      "  --json              print the API's JSON answers\n"
		      "  -h, --help          this help\n"
		      "The password comes from KEEL_PASSWORD, else the credentials file, else a\n"
		      "prompt on the terminal.\n"
		      "\n"
		      "Commands:\n",
		      f);
	for (size_t i = 0; i < ARRAY_SIZE(commands); i++)
		if (common_words(commands[i].group, n, argv) == n)
			print_command(f, "  ", &commands[i]);
	if (n == 0)
		fputs("\nSee docs/cli.md. Exit status: 0 success, 1 the API refused or the\n"
		      "connection failed, 2 a usage error.\n",
		      f);
}

static void command_usage(FILE *f, const struct command *c)
{
	print_command(f, "usage: ", c);
}

struct options {
	const char *host, *user, *credentials, *fingerprint;
	bool insecure, json;
};

/* the global options; returns -1 to go on, or an exit code */
static int parse_options(int argc, char **argv, struct options *o)
{
	static const struct option opts[] = {{"host", required_argument, NULL, 'H'},
					     {"user", required_argument, NULL, 'u'},
					     {"credentials", required_argument, NULL, 'c'},
					     {"fingerprint", required_argument, NULL, 'f'},
					     {"insecure", no_argument, NULL, 'k'},
					     {"json", no_argument, NULL, 'j'},
					     {"help", no_argument, NULL, 'h'},
					     {0}};
	int c;
	args_begin();
	while ((c = args_next(argc, argv, "+h", opts)) != -1) {
		switch (c) {
		case 'H':
			o->host = optarg;
			break;
		case 'u':
			o->user = optarg;
			break;
		case 'c':
			o->credentials = optarg;
			break;
		case 'f':
			o->fingerprint = optarg;
			break;
		case 'k':
			o->insecure = true;
			break;
		case 'j':
			o->json = true;
			break;
		case 'h':
			usage(stdout, 0, NULL);
			return 0;
		default:
			fputs("Try 'keel --help'.\n", stderr);
			return EXIT_USAGE;
		}
	}
	return -1;
}

/* the option, else the environment variable (if not empty), else `file` */
static const char *pick(const char *opt, const char *env, const char *file)
{
	const char *e = getenv(env);
	return opt ? opt : e && *e ? e : file;
}

/* NAME[:PORT], [IPv6][:PORT] or a bare IPv6 address: host gets NAME or
 * [IPv6], for the URL */
static int parse_host(const char *arg, char *host, size_t n, unsigned *port)
{
	const char *colon = strchr(arg, ':'); /* before the port, if any */
	const char *end = arg + strlen(arg);  /* of the host part */
	bool bare6 = arg[0] != '[' && colon && strchr(colon + 1, ':');
	if (arg[0] == '[') {
		const char *close = strchr(arg, ']');
		colon = close && close[1] == ':' ? close + 1 : NULL;
		end = close && (!close[1] || colon) ? close + 1 : arg;
	} else if (bare6) {
		colon = NULL;
	} else if (colon) {
		end = colon;
	}
	long long p = 443;
	size_t len = (size_t)(end - arg);
	if (len == 0 || len + 3 > n || strpbrk(arg, " /?#@\\") ||
	    (colon && (parse_uint(colon + 1, 65535, &p) < 0 || p == 0))) {
		error_msg("bad host '%s': expected NAME[:PORT] or [IPv6][:PORT]", arg);
		return -1;
	}
	snprintf(host, n, bare6 ? "[%.*s]" : "%.*s", (int)len, arg);
	*port = (unsigned)p;
	return 0;
}

/* The connection settings, by precedence: option, environment, credentials
 * file, default. Returns 0 or EXIT_USAGE. */
static int configure(const struct options *o, struct creds *cr, struct api_conf *conf, char *host,
		     size_t hostlen)
{
	const char *path = pick(o->credentials, "KEEL_CREDENTIALS", NULL);
	if (path && creds_load(path, cr) < 0)
		return EXIT_USAGE;
	const char *h = pick(o->host, "KEEL_HOST", cr->host);
	if (h && parse_host(h, host, hostlen, &conf->port) < 0)
		return EXIT_USAGE;
	conf->host = h ? host : NULL;
	conf->user = pick(o->user, "KEEL_USER", cr->user);
	if (!conf->user)
		conf->user = "root";
	conf->password = pick(NULL, "KEEL_PASSWORD", cr->password);
	conf->ask_password = prompt_password;
	if (o->insecure && o->fingerprint) {
		error_msg("--insecure and --fingerprint exclude each other");
		return EXIT_USAGE;
	}
	conf->insecure = o->insecure; /* it overrides a fingerprint from elsewhere */
	const char *fp =
	    o->insecure ? NULL : pick(o->fingerprint, "KEEL_FINGERPRINT", cr->fingerprint);
	if (fp && fp_parse(fp, conf->fingerprint) < 0) {
		error_msg("bad fingerprint '%s': expected 32 hex bytes, like AB:CD:...", fp);
		return EXIT_USAGE;
	}
	conf->pinned = fp != NULL;
	/* keel-shell's `keel` on the host: its session on the local API */
	const char *sock = getenv("KEEL_LOCAL_SOCKET"), *token = getenv("KEEL_SESSION_TOKEN");
	if (sock && *sock && token && *token) {
		conf->local_socket = sock;
		conf->session_token = token;
	}
	return 0;
}

/* The command named by argv's first words; *words gets their number. */
static const struct command *find(int argc, char **argv, int *words)
{
	for (size_t i = 0; i < ARRAY_SIZE(commands); i++) {
		const struct command *c = &commands[i];
		int n = group_words(c->group);
		if (common_words(c->group, argc, argv) < n)
			continue;
		*words = n + (c->name != NULL);
		if (!c->name || (n < argc && names(c, argv[n])))
			return c;
	}
	return NULL;
}

/* "W1 W2 ..." of argv's first n words (malloc'd) */
static char *join_words(int n, char **argv)
{
	char *s = xstrdup(argv[0]);
	for (int i = 1; i < n; i++) {
		char *t = xasprintf("%s %s", s, argv[i]);
		free(s);
		s = t;
	}
	return s;
}

/* The command named by argv into *c, and the number of words that name it;
 * returns -1 to go on, or an exit code (after a message if there is no
 * such command, or the group's commands for "keel GROUP... -h"). */
static int lookup(int argc, char **argv, const struct command **c, int *words)
{
	if (argc < 1) {
		error_msg("no command");
		usage(stderr, 0, NULL);
		return EXIT_USAGE;
	}
	int known = 0; /* argv's first words that start a group */
	for (size_t i = 0; i < ARRAY_SIZE(commands); i++) {
		int n = common_words(commands[i].group, argc, argv);
		known = n > known ? n : known;
	}
	if (!known) {
		error_msg("unknown command '%s'", argv[0]);
		fputs("Try 'keel --help'.\n", stderr);
		return EXIT_USAGE;
	}
	*c = find(argc, argv, words);
	if (*c)
		return -1;
	if (argc == known + 1 && (!strcmp(argv[known], "-h") || !strcmp(argv[known], "--help"))) {
		usage(stdout, known, argv);
		return 0;
	}
	char *cmd = join_words(argc > known ? known + 1 : known, argv);
	if (argc > known)
		error_msg("unknown command '%s'", cmd);
	else
		error_msg("%s: which command?", cmd);
	free(cmd);
	usage(stderr, known, argv);
	return EXIT_USAGE;
}

static int run(const struct command *c, const struct options *o, int argc, char **argv)
{
	struct creds cr;
	struct api_conf conf;
	char host[300];
	memset(&cr, 0, sizeof(cr));
	memset(&conf, 0, sizeof(conf));
	int rc = configure(o, &cr, &conf, host, sizeof(host));
	if (rc) {
		creds_free(&cr);
		return rc;
	}
	struct cli cli = {api_new(&conf), o->json, conf.user, false};
	if (cli.api) {
		rc = c->run(&cli, argc, argv);
		api_close(cli.api, rc != 0 || cli.quiet_logout);
	} else {
		rc = EXIT_FAIL;
	}
	creds_free(&cr);
	if (rc == EXIT_HELP) {
		command_usage(stdout, c);
		rc = 0;
	} else if (rc == EXIT_USAGE) {
		command_usage(stderr, c);
	} else if (rc == EXIT_SETUP) {
		rc = EXIT_USAGE;
	}
	return rc;
}

int main(int argc, char **argv)
{
	struct options o;
	memset(&o, 0, sizeof(o));
	interrupt_setup();
	int rc = parse_options(argc, argv, &o);
	if (rc >= 0)
		return rc;
	argc -= optind;
	argv += optind;
	if (argc == 1 && strcmp(argv[0], "help") == 0) {
		usage(stdout, 0, NULL);
		return 0;
	}
	const struct command *c = NULL;
	int words = 0;
	rc = lookup(argc, argv, &c, &words);
	if (rc >= 0)
		return rc;
	if (http_global_init() < 0)
		return EXIT_FAIL;
	/* the command's argv[0] is its name (or its group, for one word) */
	rc = run(c, &o, argc - (words - 1), argv + (words - 1));
	http_global_cleanup();
	return rc;
}
