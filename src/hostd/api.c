#include "hostd/api.h"

#include "hostd/session.h"

#include <stddef.h>
#include <stdio.h>

#define V1    "/api/v1"
#define DS    V1 "/datastores/{}"
#define VIEW  "System.View"
#define SEC   "Host.Config.Security"
#define FILES "Datastore.FileManagement"
#define OFF   "VirtualMachine.PowerOff"
#define NET   V1 "/network"
#define NETW  "Host.Config.Network"

/* Every route, the privilege it needs and what it acts on. docs/api.md
 * lists this table (keel-hostd --routes; scripts/api-docs.sh). */
const struct route api_routes[] = {
    {"GET", V1, api_root, ROUTE_PUBLIC, NULL, NULL},
    {"POST", V1 "/session", api_session_login, ROUTE_PUBLIC, NULL, NULL},
    {"DELETE", V1 "/session", api_session_logout, 0, NULL, NULL},
    {"POST", V1 "/session/password", api_session_password, 0, NULL, NULL},
    {"GET", V1 "/host", api_host, 0, VIEW, NULL},
    {"POST", V1 "/host/agents/restart", api_host_restart, 0, "Host.Config.Maintenance", NULL},
    {"PUT", V1 "/host/certificate", api_host_certificate, 0, SEC, NULL},
    {"GET", V1 "/datastores", api_ds_list, 0, VIEW, NULL},
    {"GET", DS "/browse/{*}", api_ds_browse, 0, "Datastore.Browse", "datastore"},
    {"GET", DS "/files/{*}", api_ds_download, 0, "Datastore.Browse", "datastore"},
    {"PUT", DS "/files/{*}", api_ds_upload, ROUTE_UPLOAD, FILES, "datastore"},
    {"DELETE", DS "/files/{*}", api_ds_remove, 0, FILES, "datastore"},
    {"POST", DS "/folders", api_ds_mkdir, 0, FILES, "datastore"},
    {"POST", DS "/disks", api_ds_mkdisk, 0, FILES, "datastore"},
    {"POST", DS "/copy", api_ds_copy, 0, FILES, "datastore"},
    {"POST", DS "/grow", api_ds_grow, 0, FILES, "datastore"},
    /* lists the VMs the caller may view (System.View on each) */
    {"GET", V1 "/vms", api_vm_list, 0, NULL, NULL},
    {"POST", V1 "/vms", api_vm_create, 0, "VirtualMachine.Inventory", NULL},
    {"GET", V1 "/vms/{}", api_vm_show, 0, VIEW, "vm"},
    {"PATCH", V1 "/vms/{}", api_vm_update, 0, "VirtualMachine.Config", "vm"},
    {"DELETE", V1 "/vms/{}", api_vm_delete, 0, "VirtualMachine.Inventory", "vm"},
    {"POST", V1 "/vms/{}/power/on", api_vm_power, 0, "VirtualMachine.PowerOn", "vm"},
    {"POST", V1 "/vms/{}/power/shutdown", api_vm_power, 0, OFF, "vm"},
    {"POST", V1 "/vms/{}/power/off", api_vm_power, 0, OFF, "vm"},
    {"POST", V1 "/vms/{}/power/reset", api_vm_power, 0, OFF, "vm"},
    {"POST", V1 "/vms/{}/power/kill", api_vm_power, 0, OFF, "vm"},
    {"GET", V1 "/vms/{}/console", api_vm_console, 0, "VirtualMachine.Console", "vm"},
    {"GET", V1 "/vms/{}/stats", api_vm_stats, 0, VIEW, "vm"},
    {"GET", V1 "/privileges", api_privileges, 0, NULL, NULL},
    {"GET", V1 "/roles", api_roles_list, 0, SEC, NULL},
    {"POST", V1 "/roles", api_role_create, 0, SEC, NULL},
    {"GET", V1 "/roles/{}", api_role_show, 0, SEC, "role"},
    {"PATCH", V1 "/roles/{}", api_role_update, 0, SEC, "role"},
    {"DELETE", V1 "/roles/{}", api_role_delete, 0, SEC, "role"},
    {"GET", V1 "/users", api_users_list, 0, SEC, NULL},
    {"POST", V1 "/users", api_user_create, 0, SEC, NULL},
    {"GET", V1 "/users/{}", api_user_show, 0, SEC, "user"},
    {"PATCH", V1 "/users/{}", api_user_update, 0, SEC, "user"},
    {"DELETE", V1 "/users/{}", api_user_delete, 0, SEC, "user"},
    {"GET", V1 "/permissions", api_permissions_list, 0, SEC, NULL},
    {"PUT", V1 "/permissions", api_permission_put, 0, SEC, NULL},
    {"DELETE", V1 "/permissions/{}", api_permission_delete, 0, SEC, "user"},
    {"GET", V1 "/security/policy", api_policy_get, 0, SEC, NULL},
    {"PUT", V1 "/security/policy", api_policy_put, 0, SEC, NULL},
    {"GET", V1 "/security/lockdown", api_lockdown_get, 0, SEC, NULL},
    {"PUT", V1 "/security/lockdown", api_lockdown_put, 0, SEC, NULL},
    {"GET", V1 "/sessions", api_sessions, 0, SEC, NULL},
    {"DELETE", V1 "/sessions/{}", api_session_revoke, 0, SEC, "session"},
    {"GET", V1 "/audit", api_audit, 0, "System.Audit", NULL},
    {"GET", NET "/switches", api_switch_list, 0, VIEW, NULL},
    {"POST", NET "/switches", api_switch_create, 0, NETW, NULL},
    {"GET", NET "/switches/{}", api_switch_show, 0, VIEW, "switch"},
    {"PATCH", NET "/switches/{}", api_switch_update, 0, NETW, "switch"},
    {"DELETE", NET "/switches/{}", api_switch_delete, 0, NETW, "switch"},
    {"GET", NET "/portgroups", api_portgroup_list, 0, VIEW, NULL},
    {"POST", NET "/portgroups", api_portgroup_create, 0, NETW, NULL},
    {"GET", NET "/portgroups/{}", api_portgroup_show, 0, VIEW, "portgroup"},
    {"PATCH", NET "/portgroups/{}", api_portgroup_update, 0, NETW, "portgroup"},
    {"DELETE", NET "/portgroups/{}", api_portgroup_delete, 0, NETW, "portgroup"},
    {"GET", NET "/nics", api_net_nics, 0, VIEW, NULL},
    {"GET", NET "/connections", api_net_connections, 0, VIEW, NULL},
    {"GET", NET "/neighbours", api_net_neighbours, 0, VIEW, NULL},
    {"GET", NET "/management", api_mgmt_get, 0, VIEW, NULL},
    {"PUT", NET "/management", api_mgmt_put, 0, NETW, NULL},
    {"POST", NET "/management/confirm", api_mgmt_confirm, 0, NETW, NULL},
    {"POST", NET "/management/rollback", api_mgmt_rollback, 0, NETW, NULL},
    {NULL, NULL, NULL, 0, NULL, NULL},
};

void api_print_routes(FILE *f)
{
	fprintf(f, "| method | path | privilege |\n|---|---|---|\n");
	for (const struct route *rt = api_routes; rt->method; rt++)
		fprintf(f, "| %s | `%s` | %s%s%s |\n", rt->method, rt->pattern,
			rt->flags & ROUTE_PUBLIC ? "none (public)"
			: rt->privilege		 ? rt->privilege
						 : "any logged-in user",
			rt->entity && rt->privilege && rt->entity[0] == 'v' ? " on the VM" : "",
			rt->handler == api_vm_list ? " (lists the VMs with System.View)" : "");
}
