/* Interface configuration shared by keel-init (static management address)
 * and keel-dhcpc (leases): link up, IPv4 address, default route, resolvers.
 * Each function logs what went wrong and returns 0 or -1. */
#ifndef KEEL_NET_H
#define KEEL_NET_H

#include "common/hostconf.h"

#include <netinet/in.h>
#include <stddef.h>

int net_link_up(const char *ifname);
/* Sets the address and netmask (0.0.0.0 removes the address, and with it
 * the routes through it). */
int net_set_address(const char *ifname, struct in_addr addr, int prefix);
/* Adds (add=1) or deletes the default route via gw on ifname. */
int net_default_route(const char *ifname, struct in_addr gw, int add);
/* Applies the static address, gateway and DNS servers of hc to ifname. */
int net_apply_static(const char *ifname, const struct hostconf *hc);

#endif
