/* Interface configuration shared by keel-init (static management address)
 * and keel-dhcpc (leases): link up, IPv4 address, default route, resolvers.
 * Each function logs what went wrong and returns 0 or -1. */
#ifndef KEEL_NET_H
#define KEEL_NET_H

#include "init/hostconf.h"

#include <netinet/in.h>
#include <stddef.h>

/* The management network's live switch (keel-hostd <-> keel-dhcpc): the
 * mode file holds "dhcp" or "static" (written by keel-init at boot, then
 * by hostd), and a SIGHUP makes keel-dhcpc read it again. keel-dhcpc
 * reports in the state file: "idle", "discovering", or "bound ADDR/PREFIX
 * gw GW lease SECONDS" (GW "-" if none). Both are replaced atomically. */
#define MGMT_MODE_FILE	 "/run/keel/mgmt.mode"
#define DHCPC_STATE_FILE "/run/keel/dhcpc.state"

int net_link_up(const char *ifname);
/* First physical Ethernet interface (one with a device link in sysfs), in
 * name order. Returns 0 and fills ifname, or -1 if there is none. */
int net_find_mgmt(char *ifname, size_t n);
/* Sets the address and netmask (0.0.0.0 removes the address, and with it
 * the routes through it). */
int net_set_address(const char *ifname, struct in_addr addr, int prefix);
/* Adds (add=1) or deletes the default route via gw on ifname. */
int net_default_route(const char *ifname, struct in_addr gw, int add);
/* Replaces /etc/resolv.conf with these name servers (atomically). */
int net_write_resolv(const struct in_addr *dns, int n);
/* Applies the static address, gateway and DNS servers of hc to ifname. */
int net_apply_static(const char *ifname, const struct hostconf *hc);

#endif
