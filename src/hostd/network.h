/* Layer: domain. Includes: db.h, mgmt.h, netlink.h, error.h; never http.h
 * or api.h.
 *
 * Virtual switches and port groups (ESXi's standard vSwitch model).
 *
 * A switch is a Linux bridge of the same name with VLAN filtering, an MTU
 * (1280..9000) and zero or more physical uplinks; a port group is a name on
 * a switch with a VLAN id (0 for none). The inventory (tables switches,
 * uplinks, portgroups) says what should be; network_reconcile() makes the
 * kernel match it. A VM's NIC N is the TAP "kvID.N" (ID: the VM's inventory
 * id), created at power-on on its port group and deleted when the VM stops.
 *
 * On a switch, a port group's VLAN is tagged on the uplinks and untagged on
 * its VMs' TAPs; port groups without a VLAN share the switch's "native"
 * VLAN (the lowest id no port group of the switch uses), untagged on the
 * uplinks as well. All functions serialize on one lock. */
#ifndef KEEL_HOSTD_NETWORK_H
#define KEEL_HOSTD_NETWORK_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* The names, defined here only (the API's captures and bodies use them):
 * a switch is 1..15 characters of A-Z a-z 0-9 _ . - (a Linux interface
 * name), not starting with . or - nor with a VM TAP's prefix; a port group
 * 1..PORTGROUP_NAME_MAX bytes (common/names.h) with no control character
 * and no '/', not starting or ending with a space, not "." or "..". */
bool network_switch_name_valid(const char *name);
bool network_portgroup_name_valid(const char *name);

/* Makes the kernel match the inventory: bridges, their MTU, uplinks and
 * the VLANs of every port. Returns 0, or the first problem's negative errno
 * with its message in err (it still does what it can). */
int network_reconcile(char *err, size_t errlen);
/* At start, before the API serves: deletes the TAPs of VMs that do not
 * run (is_running(name)). */
void network_prune(int (*is_running)(const char *name));

/* A switch / port group as the API shows it, or NULL if there is none; a
 * single switch also lists its bridge's ports with their VLANs. */
json_t *network_switch(const char *name);
json_t *network_portgroup(const char *name);
json_t *network_switches(void);
json_t *network_portgroups(void);

/* Changes; each returns 0 or a negative errno with a message in err
 * (error.h: -EINVAL bad input, -ENOENT no such switch or port group,
 * -EEXIST exists, -EBUSY in use, -EIO inventory or kernel), and changes
 * nothing when it fails a check. */
int network_switch_add(const json_t *body, char *err, size_t errlen);
int network_switch_update(const char *name, const json_t *body, char *err, size_t errlen);
int network_switch_remove(const char *name, char *err, size_t errlen);
int network_portgroup_add(const json_t *body, char *err, size_t errlen);
int network_portgroup_update(const char *name, const json_t *body, char *err, size_t errlen);
int network_portgroup_remove(const char *name, char *err, size_t errlen);

/* VM ports: creates the TAP, puts it on the port group's switch with its
 * VLAN and MTU (returned through *mtu), and brings it up. */
int network_port_up(const char *tap, const char *portgroup, unsigned *mtu, char *err,
		    size_t errlen);
/* Deletes the TAPs of the VM with inventory id `id`. */
void network_ports_down(int64_t id);

/* Diagnostics: physical NICs, TCP connections, neighbours (API shapes). */
json_t *network_nics(const char *mgmt_if);
json_t *network_connections(void);
json_t *network_neighbours(void);

#endif
