/* Layer: handlers. Includes: http.h; the api_*.c files include http.h
 * (through this header) and the domain headers they call; no domain
 * module includes this header.
 *
 * The API's handlers (one file per area: api_host.c, api_session.c,
 * api_security.c, api_datastore.c, api_vm.c, api_network.c, api_mgmt.c,
 * api_logs.c, api_update.c)
 * and their route table (api.c). A handler parses and validates the
 * request, calls the domain, and maps its errors (error.h) to statuses
 * with reply_errno. docs/api.md describes every route. */
#ifndef KEEL_HOSTD_API_H
#define KEEL_HOSTD_API_H

#include "hostd/http.h"

#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>

/* privileges the handlers check themselves (authz.h lists them all) */
#define PRIV_AUDIT	 "System.Audit"
#define PRIV_DIAGNOSTICS "Host.Diagnostics"

extern const struct route api_routes[];
/* The route table as a markdown table, for docs/api.md. */
void api_print_routes(FILE *f);

/* api_host.c */
struct host_info {
	char hostname[64];
	char version[32];
	char fingerprint[96];
	/* set by HTTP threads (POST /host/agents/restart, a new certificate),
	 * read by the main loop */
	atomic_bool restart_requested;
	/* POST /host/reboot or /host/shutdown: HOST_REBOOT or HOST_POWEROFF,
	 * with the seconds the guests have to shut down (main.c acts on it) */
	atomic_int power_request;
	atomic_int power_timeout_s;
};
enum { HOST_RUNNING, HOST_REBOOT, HOST_POWEROFF };
void api_host_init(struct host_info *info, const char *tls_dir);
const struct host_info *api_host_info(void);
void api_root(struct req *r);
void api_host(struct req *r);
void api_host_restart(struct req *r);
void api_host_power(struct req *r); /* route action "reboot" or "shutdown" */
void api_host_image(struct req *r);
void api_host_backup(struct req *r);
void api_host_restore_file(struct req *r);
void api_host_restore(struct req *r);
void api_host_maintenance(struct req *r);
void api_host_maintenance_enter(struct req *r);
void api_host_maintenance_exit(struct req *r);
void api_host_rollback(struct req *r);
/* api_update.c: POST /host/update, an update bundle (update.h) */
void api_host_update(struct req *r);
void api_host_extensions(struct req *r);
void api_host_extension_install(struct req *r);
void api_host_extension_remove(struct req *r);
void api_host_acceptance(struct req *r);
void api_host_acceptance_set(struct req *r);
void api_tsm_get(struct req *r);
void api_tsm_put(struct req *r);
void api_tsm_command(struct req *r);
void api_host_certificate(struct req *r);
void api_host_time(struct req *r);
void api_host_time_set(struct req *r);
void api_host_syslog(struct req *r);
void api_host_syslog_set(struct req *r);

/* api_session.c */
void api_session_login(struct req *r);
void api_session_logout(struct req *r);
void api_session_password(struct req *r);
void api_sessions(struct req *r);
void api_session_revoke(struct req *r);

/* api_datastore.c: datastore files (datastore_registry.h) */
void api_ds_list(struct req *r);
void api_ds_browse(struct req *r);
void api_ds_download(struct req *r);
void api_ds_upload(struct req *r);
void api_ds_remove(struct req *r);
void api_ds_mkdir(struct req *r);
void api_ds_mkdisk(struct req *r);
void api_ds_copy(struct req *r);
void api_ds_grow(struct req *r);

/* api_security.c */
void api_privileges(struct req *r);
void api_roles_list(struct req *r);
void api_role_create(struct req *r);
void api_role_show(struct req *r);
void api_role_update(struct req *r);
void api_role_delete(struct req *r);
void api_users_list(struct req *r);
void api_user_create(struct req *r);
void api_user_show(struct req *r);
void api_user_update(struct req *r);
void api_user_delete(struct req *r);
void api_permissions_list(struct req *r);
void api_permission_put(struct req *r);
void api_permission_delete(struct req *r);
void api_policy_get(struct req *r);
void api_policy_put(struct req *r);
void api_lockdown_get(struct req *r);
void api_lockdown_put(struct req *r);
void api_audit(struct req *r);

/* api_network.c: virtual switches, port groups, diagnostics */
void api_switch_list(struct req *r);
void api_switch_show(struct req *r);
void api_switch_create(struct req *r);
void api_switch_update(struct req *r);
void api_switch_delete(struct req *r);
void api_portgroup_list(struct req *r);
void api_portgroup_show(struct req *r);
void api_portgroup_create(struct req *r);
void api_portgroup_update(struct req *r);
void api_portgroup_delete(struct req *r);
void api_net_nics(struct req *r);
void api_net_connections(struct req *r);
void api_net_neighbours(struct req *r);

/* api_logs.c: the host's logs (logs.h), the support bundle (bundle.h) */
void api_logs_list(struct req *r);
void api_log_read(struct req *r);
void api_support_bundle(struct req *r);

/* api_mgmt.c: the management network (mgmt.h) */
void api_mgmt_get(struct req *r);
void api_mgmt_put(struct req *r);
void api_mgmt_confirm(struct req *r);
void api_mgmt_rollback(struct req *r);
void api_mgmt_test(struct req *r);

/* api_vm.c */
void api_vm_list(struct req *r);
void api_vm_create(struct req *r);
void api_vm_show(struct req *r);
void api_vm_update(struct req *r);
void api_vm_delete(struct req *r);
void api_vm_power(struct req *r);
void api_vm_console(struct req *r);
void api_vm_stats(struct req *r);

#endif
