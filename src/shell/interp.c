#include "shell/interp.h"

#include <stdio.h>
#include <string.h>

#include "common/util.h"
#include "shell/intr.h"
#include "shell/out.h"
#include "shell/session.h"
#include "shell/words.h"

struct command {
	const char *name, *args, *what;
	cmd_fn run;
};

static int cmd_help(struct shell *sh, int argc, char **argv);

static const struct command commands[] = {
    {"help", "", "this list", cmd_help},
    {"exit", "", "end the session", NULL},
    {"ls", "[PATH]", "list a folder under /config, /scratch or /datastores", cmd_ls},
    {"cat", "PATH", "show a file under /config, /scratch or /datastores", cmd_cat},
    {"tail", "[-n N] [-f] PATH", "the last lines of a file (-f: follow it)", cmd_tail},
    {"logs", "[NAME [-n N] [-f]]", "the host's logs (through the API)", cmd_logs},
    {"ps", "", "processes: pid, user, state, memory, CPU time, command", cmd_ps},
    {"top", "", "load, memory and the busiest processes over a second", cmd_top},
    {"ip", "link|addr|route|neigh", "interfaces, addresses, routes, neighbours", cmd_ip},
    {"bridges", "", "bridges, their ports and VLAN devices", cmd_bridges},
    {"connections", "", "TCP and UDP sockets", cmd_connections},
    {"ping", "[-c N] HOST", "ICMP echo (IPv4 or IPv6)", cmd_ping},
    {"lookup", "NAME", "resolve a host name", cmd_lookup},
    {"capture", "IFACE [-c N] [-s SECONDS] FILE", "packets to a pcap file under /scratch/captures",
     cmd_capture},
    {"disks", "", "block devices and their sizes", cmd_disks},
    {"mounts", "", "mounted file systems", cmd_mounts},
    {"df", "", "file system usage", cmd_df},
    {"dmesg", "", "the kernel's messages", cmd_dmesg},
    {"vms", "", "the VMs (through the API)", cmd_vms},
    {"vm", "stats NAME", "a running VM's statistics", cmd_vm},
    {"restart-agents", "", "restart the management agents", cmd_restart_agents},
    {"keel", "ARGS...", "any keel CLI command, on this host, as you (keel help)", cmd_keel},
};

void interp_help(void)
{
	printf("Tech support mode: every command is recorded in the host's audit trail.\n"
	       "Words may be quoted with \"...\" or '...'; nothing is expanded.\n\n");
	for (size_t i = 0; i < ARRAY_SIZE(commands); i++) {
		char head[64];
		snprintf(head, sizeof(head), "%s%s%s", commands[i].name,
			 *commands[i].args ? " " : "", commands[i].args);
		printf("  %-40s %s\n", head, commands[i].what);
	}
}

static int cmd_help(struct shell *sh, int argc, char **argv)
{
	(void)sh;
	(void)argc;
	(void)argv;
	interp_help();
	return 0;
}

int interp_line(struct shell *sh, const char *line)
{
	static struct words w; /* large; one line at a time */
	char err[512];
	if (words_split(line, &w, err, sizeof(err)) < 0) {
		say_error("keel-shell", "%s", err);
		return 1;
	}
	if (w.argc == 0)
		return 0;
	const struct command *c = NULL;
	for (size_t i = 0; i < ARRAY_SIZE(commands) && !c; i++)
		if (strcmp(w.argv[0], commands[i].name) == 0)
			c = &commands[i];
	if (c && !c->run)
		return INTERP_EXIT;
	/* every other line is recorded, the unknown ones too, before anything */
	int audited = session_audit(sh->api, line, err, sizeof(err));
	if (audited < 0) {
		say_error(w.argv[0], "not run: it could not be recorded in the audit trail: %s",
			  err);
		return audited == -2 ? INTERP_ENDED : 1;
	}
	if (!c) {
		say_error("keel-shell", "unknown command '%.64s' (try help)", w.argv[0]);
		return 1;
	}
	intr_clear();
	int rc = c->run(sh, w.argc, w.argv);
	fflush(stdout);
	return rc;
}
