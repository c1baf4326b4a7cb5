/* The commands of the keel CLI. Each one parses its own arguments (its
 * argv[0] is its name), calls the API through cli->api and prints the
 * result: a table, or the API's JSON with --json. It returns an exit code:
 * 0, EXIT_FAIL (the API refused, or the connection failed), EXIT_USAGE (bad
 * arguments: main then prints the command's usage), EXIT_SETUP (exit 2
 * without the usage: nothing could be tried, for want of a host, a password
 * or a local file) or EXIT_HELP (-h: main prints the usage and exits 0). */
#ifndef KEEL_CLI_CMD_H
#define KEEL_CLI_CMD_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <sys/stat.h>

#define EXIT_FAIL  1
#define EXIT_USAGE 2
#define EXIT_HELP  (-1)
#define EXIT_SETUP (-2)

#define PASSWORD_MAX 1024		/* the API's limit, in bytes */
#define PASSWORD_BUF (PASSWORD_MAX + 2) /* and a CR, and the NUL */

struct api;

struct cli {
	struct api *api;
	bool json;
	const char *user; /* who logs in */
	/* the command may have ended its own session (lockdown, a revoked
	 * session, a new certificate): a failed logout is not reported */
	bool quiet_logout;
};

int cmd_host_info(struct cli *cli, int argc, char **argv);
int cmd_host_restart(struct cli *cli, int argc, char **argv);
int cmd_host_certificate(struct cli *cli, int argc, char **argv);
int cmd_host_time(struct cli *cli, int argc, char **argv);
int cmd_host_time_set(struct cli *cli, int argc, char **argv);
int cmd_host_logs(struct cli *cli, int argc, char **argv);
int cmd_host_support_bundle(struct cli *cli, int argc, char **argv);
int cmd_host_syslog(struct cli *cli, int argc, char **argv);
int cmd_host_syslog_set(struct cli *cli, int argc, char **argv);
int cmd_host_reboot(struct cli *cli, int argc, char **argv);
int cmd_host_config_backup(struct cli *cli, int argc, char **argv);
int cmd_host_config_restore(struct cli *cli, int argc, char **argv);
int cmd_host_image(struct cli *cli, int argc, char **argv);
int cmd_host_maintenance(struct cli *cli, int argc, char **argv);
int cmd_host_maintenance_enter(struct cli *cli, int argc, char **argv);
int cmd_host_maintenance_exit(struct cli *cli, int argc, char **argv);
int cmd_host_rollback(struct cli *cli, int argc, char **argv);
int cmd_host_update_apply(struct cli *cli, int argc, char **argv);
int cmd_host_ext_list(struct cli *cli, int argc, char **argv);
int cmd_host_ext_install(struct cli *cli, int argc, char **argv);
int cmd_host_ext_remove(struct cli *cli, int argc, char **argv);
int cmd_host_acceptance(struct cli *cli, int argc, char **argv);
int cmd_host_acceptance_set(struct cli *cli, int argc, char **argv);
int cmd_host_shutdown(struct cli *cli, int argc, char **argv);
int cmd_host_factory_reset(struct cli *cli, int argc, char **argv);
int cmd_host_tsm(struct cli *cli, int argc, char **argv);
int cmd_host_tsm_set(struct cli *cli, int argc, char **argv);
/* A command without arguments that GETs path: the API's JSON (--json), or
 * print(answer). */
int cmd_show(struct cli *cli, int argc, char **argv, const char *path,
	     void (*print)(json_t *answer));
/* The same for a METHOD of path without a body (a POST of an action). */
int cmd_call(struct cli *cli, int argc, char **argv, const char *method, const char *path,
	     void (*print)(json_t *answer));
/* A password or passphrase into out: a line of stdin, or asked on the
 * terminal with `prompt` (twice, when `confirm`): 0 or an exit code. */
int cmd_read_secret(bool from_stdin, const char *prompt, bool confirm, char out[PASSWORD_BUF]);
/* A PEM file of at most 64 KiB, whole (malloc'd, NUL-terminated); NULL
 * with a message. */
char *cmd_read_pem(const char *path, size_t *len);

int cmd_vm_list(struct cli *cli, int argc, char **argv);
int cmd_vm_show(struct cli *cli, int argc, char **argv);
int cmd_vm_create(struct cli *cli, int argc, char **argv);
int cmd_vm_delete(struct cli *cli, int argc, char **argv);
int cmd_vm_start(struct cli *cli, int argc, char **argv);
int cmd_vm_stop(struct cli *cli, int argc, char **argv);
int cmd_vm_reset(struct cli *cli, int argc, char **argv);
int cmd_vm_kill(struct cli *cli, int argc, char **argv);
int cmd_vm_console(struct cli *cli, int argc, char **argv);
int cmd_vm_import(struct cli *cli, int argc, char **argv);

int cmd_ds_ls(struct cli *cli, int argc, char **argv);
int cmd_ds_mkdisk(struct cli *cli, int argc, char **argv);
int cmd_ds_mkdir(struct cli *cli, int argc, char **argv);
int cmd_ds_rm(struct cli *cli, int argc, char **argv);
int cmd_ds_cp(struct cli *cli, int argc, char **argv);
int cmd_ds_grow(struct cli *cli, int argc, char **argv);
int cmd_ds_upload(struct cli *cli, int argc, char **argv);
int cmd_ds_download(struct cli *cli, int argc, char **argv);

int cmd_user_list(struct cli *cli, int argc, char **argv);
int cmd_user_show(struct cli *cli, int argc, char **argv);
int cmd_user_create(struct cli *cli, int argc, char **argv);
int cmd_user_passwd(struct cli *cli, int argc, char **argv);
int cmd_user_disable(struct cli *cli, int argc, char **argv);
int cmd_user_enable(struct cli *cli, int argc, char **argv);
int cmd_user_unlock(struct cli *cli, int argc, char **argv);
int cmd_user_delete(struct cli *cli, int argc, char **argv);
int cmd_user_ssh_keys(struct cli *cli, int argc, char **argv);
int cmd_passwd(struct cli *cli, int argc, char **argv);

int cmd_role_list(struct cli *cli, int argc, char **argv);
int cmd_role_show(struct cli *cli, int argc, char **argv);
int cmd_role_create(struct cli *cli, int argc, char **argv);
int cmd_role_set(struct cli *cli, int argc, char **argv);
int cmd_role_delete(struct cli *cli, int argc, char **argv);
int cmd_privilege_list(struct cli *cli, int argc, char **argv);
int cmd_permission_list(struct cli *cli, int argc, char **argv);
int cmd_permission_set(struct cli *cli, int argc, char **argv);
int cmd_permission_remove(struct cli *cli, int argc, char **argv);

int cmd_lockdown_show(struct cli *cli, int argc, char **argv);
int cmd_lockdown_set(struct cli *cli, int argc, char **argv);
int cmd_policy_show(struct cli *cli, int argc, char **argv);
int cmd_policy_set(struct cli *cli, int argc, char **argv);
int cmd_session_list(struct cli *cli, int argc, char **argv);
int cmd_session_revoke(struct cli *cli, int argc, char **argv);
int cmd_audit(struct cli *cli, int argc, char **argv);

int cmd_net_switch_list(struct cli *cli, int argc, char **argv);
int cmd_net_switch_show(struct cli *cli, int argc, char **argv);
int cmd_net_switch_add(struct cli *cli, int argc, char **argv);
int cmd_net_switch_set(struct cli *cli, int argc, char **argv);
int cmd_net_switch_rm(struct cli *cli, int argc, char **argv);
int cmd_net_portgroup_list(struct cli *cli, int argc, char **argv);
int cmd_net_portgroup_show(struct cli *cli, int argc, char **argv);
int cmd_net_portgroup_add(struct cli *cli, int argc, char **argv);
int cmd_net_portgroup_set(struct cli *cli, int argc, char **argv);
int cmd_net_portgroup_rm(struct cli *cli, int argc, char **argv);
int cmd_net_nic_list(struct cli *cli, int argc, char **argv);
int cmd_net_connections(struct cli *cli, int argc, char **argv);
int cmd_net_neighbours(struct cli *cli, int argc, char **argv);
int cmd_net_mgmt_show(struct cli *cli, int argc, char **argv);
int cmd_net_mgmt_set(struct cli *cli, int argc, char **argv);
int cmd_net_mgmt_confirm(struct cli *cli, int argc, char **argv);
int cmd_net_mgmt_rollback(struct cli *cli, int argc, char **argv);
int cmd_net_mgmt_test(struct cli *cli, int argc, char **argv);

/* A regular file to upload, opened, with its stat; NULL with a message. */
FILE *cmd_open_upload(const char *local, struct stat *st);
/* Whether a transfer shows its progress line: stderr is a terminal and the
 * output is not --json. */
bool cmd_progress(const struct cli *cli);

/* Prints a VM (an API VM object) as "key  value" lines; shared by show,
 * create and the power commands. */
void vm_print(json_t *vm);

#endif
