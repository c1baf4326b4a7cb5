/* Bringing up loopback and the management NIC (static configuration; DHCP
 * is done by the keel-dhcpc service). */
#ifndef KEEL_NET_H
#define KEEL_NET_H

#include "init/hostconf.h"

#include <stddef.h>

int net_link_up(const char *ifname);
/* First physical Ethernet interface (one with a device link in sysfs), in
 * name order. Returns 0 and fills ifname, or -1 if there is none. */
int net_find_mgmt(char *ifname, size_t n);
/* Applies the static address, gateway and DNS servers of hc to ifname. */
int net_apply_static(const char *ifname, const struct hostconf *hc);

#endif
