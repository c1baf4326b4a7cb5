#include "hostd/api.h"

#include "hostd/session.h"

#include <stddef.h>

#define V1 "/api/v1"
#define DS V1 "/datastores/{}"

const struct route api_routes[] = {
    {"GET", V1, api_root, ROUTE_PUBLIC},
    {"POST", V1 "/session", api_session_login, ROUTE_PUBLIC},
    {"DELETE", V1 "/session", api_session_logout, 0},
    {"GET", V1 "/host", api_host, 0},
    {"POST", V1 "/host/agents/restart", api_host_restart, 0},
    {"GET", V1 "/datastores", api_ds_list, 0},
    {"GET", DS "/browse/{*}", api_ds_browse, 0},
    {"GET", DS "/files/{*}", api_ds_download, 0},
    {"PUT", DS "/files/{*}", api_ds_upload, ROUTE_UPLOAD},
    {"DELETE", DS "/files/{*}", api_ds_remove, 0},
    {"POST", DS "/folders", api_ds_mkdir, 0},
    {"POST", DS "/disks", api_ds_mkdisk, 0},
    {"POST", DS "/copy", api_ds_copy, 0},
    {"POST", DS "/grow", api_ds_grow, 0},
    {"GET", V1 "/vms", api_vm_list, 0},
    {"POST", V1 "/vms", api_vm_create, 0},
    {"GET", V1 "/vms/{}", api_vm_show, 0},
    {"PATCH", V1 "/vms/{}", api_vm_update, 0},
    {"DELETE", V1 "/vms/{}", api_vm_delete, 0},
    {"POST", V1 "/vms/{}/power/{}", api_vm_power, 0},
    {"GET", V1 "/vms/{}/console", api_vm_console, 0},
    {"GET", V1 "/vms/{}/stats", api_vm_stats, 0},
    {NULL, NULL, NULL, 0},
};
