/* keel-shell's commands. Each parses its own words (argv[0] is its name),
 * does its work and prints it on stdout, its errors on stderr (out.h), and
 * returns 0 or 1. None runs a program but `keel` (cmd_keel.c: the CLI at
 * its fixed path), none writes anywhere but `capture` (under
 * CAPTURE_DIR), and the files they read are confined (confine.h). Long
 * ones (tail -f, ping, capture) end on Ctrl-C (intr.h). */
#ifndef KEEL_SHELL_CMD_H
#define KEEL_SHELL_CMD_H

#include <stdbool.h>
#include <stddef.h>

struct client;

struct shell {
	struct client *api; /* the logged-in session */
	const char *user;
	const char *root; /* "" on the host: every path the commands read is under it */
};

typedef int (*cmd_fn)(struct shell *sh, int argc, char **argv);

/* files (confined) */
int cmd_ls(struct shell *sh, int argc, char **argv);
int cmd_cat(struct shell *sh, int argc, char **argv);
int cmd_tail(struct shell *sh, int argc, char **argv);
/* the API, and the CLI */
int cmd_logs(struct shell *sh, int argc, char **argv);
int cmd_vms(struct shell *sh, int argc, char **argv);
int cmd_vm(struct shell *sh, int argc, char **argv);
int cmd_restart_agents(struct shell *sh, int argc, char **argv);
int cmd_keel(struct shell *sh, int argc, char **argv);
/* the system */
/* a small /sys file's first line into out (printable); -1 if none */
int sysfs_line(const char *path, char *out, size_t n);

int cmd_ps(struct shell *sh, int argc, char **argv);
int cmd_top(struct shell *sh, int argc, char **argv);
int cmd_disks(struct shell *sh, int argc, char **argv);
int cmd_mounts(struct shell *sh, int argc, char **argv);
int cmd_df(struct shell *sh, int argc, char **argv);
int cmd_dmesg(struct shell *sh, int argc, char **argv);
/* the network */
int cmd_ip(struct shell *sh, int argc, char **argv);
int cmd_bridges(struct shell *sh, int argc, char **argv);
int cmd_connections(struct shell *sh, int argc, char **argv);
int cmd_ping(struct shell *sh, int argc, char **argv);
int cmd_lookup(struct shell *sh, int argc, char **argv);
int cmd_capture(struct shell *sh, int argc, char **argv);

/* A decimal option value in [min, max]; -1 with a message naming cmd. */
int cmd_number(const char *cmd, const char *opt, const char *text, long min, long max, long *out);

#endif
