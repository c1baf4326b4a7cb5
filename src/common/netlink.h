/* Linux network plumbing over rtnetlink (libmnl), for keel-hostd's virtual
 * switches and management network (the kernel side of network.c and
 * mgmt.c) and keel-init's management VLAN at boot: bridges with VLAN
 * filtering, persistent TAP ports, uplinks, MTU, VLAN interfaces, IPv4
 * addresses and the default route, and the reads behind the network
 * diagnostics (links, NIC details, the neighbour table, TCP connections).
 *
 * Every call is synchronous (request, then the kernel's ACK) and returns 0
 * or a negative errno value; on failure `err` (errlen bytes, may be NULL)
 * gets a one-line message naming the interface and what failed. Calls are
 * thread-safe (each opens its own netlink socket). Interface names are
 * 1..15 bytes (IFNAMSIZ - 1). */
#ifndef KEEL_NETLINK_H
#define KEEL_NETLINK_H

#include <netinet/in.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define NL_VLAN_MAX 4094

/* Creates bridge `name` if it does not exist (an existing one of another
 * kind is -EEXIST), with VLAN filtering on and default_pvid 0 (a new port
 * gets no VLAN until nl_port_vlans says), STP off, forward delay 0, the
 * given MTU, and brings it up. On an existing bridge, sets those again. */
int nl_bridge_add(const char *name, unsigned mtu, char *err, size_t errlen);
/* Deletes a link (bridge, TAP, ...). -ENODEV if there is none. */
int nl_link_del(const char *name, char *err, size_t errlen);
int nl_link_set_mtu(const char *name, unsigned mtu, char *err, size_t errlen);
/* Enslaves `name` to bridge `master`, or releases it when master is NULL. */
int nl_link_set_master(const char *name, const char *master, char *err, size_t errlen);
int nl_link_set_up(const char *name, bool up, char *err, size_t errlen);
/* Creates a persistent TAP interface (no packet info header, owned by root)
 * with the given MTU, down. An existing TAP of that name is kept (0). */
int nl_tap_create(const char *name, unsigned mtu, char *err, size_t errlen);

/* Creates an 802.1Q VLAN interface `name` over `parent` for VLAN `vid`
 * (1..4094), if there is no VLAN link of that name yet, and brings it up. */
int nl_vlan_add(const char *name, const char *parent, unsigned vid, char *err, size_t errlen);

/* Makes bridge port `port`'s VLAN membership exactly: each of tagged[]
 * (1..4094) as a tagged member, plus `pvid` (0: none) as PVID and egress
 * untagged. Changes only what differs from the current membership (read
 * back from the kernel), so calling it again with the same set does not
 * disturb traffic. */
int nl_port_vlans(const char *port, const uint16_t *tagged, size_t ntagged, uint16_t pvid,
		  char *err, size_t errlen);
/* Reads a port's VLANs: fills vids (up to cap, ascending; the count is
 * returned through *n) and *pvid (0 if none). Untagged-egress VLANs are
 * flagged in `untagged` (a bitmap of NL_VLAN_MAX + 1 bits, may be NULL). */
int nl_port_vlans_get(const char *port, uint16_t *vids, size_t cap, size_t *n, uint16_t *pvid,
		      uint8_t *untagged, char *err, size_t errlen);

/* Makes addr/prefix the only IPv4 address of `name` (none when addr is
 * 0.0.0.0): the others, and the routes through them, are removed. */
int nl_ipv4_set(const char *name, struct in_addr addr, unsigned prefix, char *err, size_t errlen);
/* Adds (add = true) or deletes the default route via gw on `name`; one
 * that is already there (add) or already gone (delete) is not an error. */
int nl_default_route(const char *name, struct in_addr gw, bool add, char *err, size_t errlen);

struct nl_link {
	char name[16];
	int ifindex;
	char kind[16];	 /* IFLA_INFO_KIND: "bridge", "tun", "veth", ... or "" */
	char master[16]; /* the bridge it belongs to, or "" */
	unsigned mtu;
	uint8_t mac[6];
	bool up;      /* IFF_UP */
	bool carrier; /* IFF_LOWER_UP */
};
/* All links, in ifindex order. *out is malloc'ed (free it). */
int nl_links(struct nl_link **out, size_t *n, char *err, size_t errlen);

/* A physical NIC's details from sysfs: whether it is one (it has a device
 * behind it), its driver, speed (Mb/s, -1 unknown) and duplex ("full",
 * "half" or "unknown"). Returns -ENODEV if the link does not exist,
 * -ENOTSUP if it is not a physical NIC. */
struct nl_nic {
	char driver[32];
	int speed_mbps;
	char duplex[8];
};
int nl_nic_info(const char *name, struct nl_nic *out);

struct nl_neigh {
	char ifname[16];
	char ip[46]; /* IPv4 or IPv6, text */
	char mac[18];
	char state[12]; /* "reachable", "stale", "delay", "probe", "failed",
			   "incomplete", "noarp", "permanent" */
};
/* The neighbour (ARP and NDP) table. *out is malloc'ed. */
int nl_neighbours(struct nl_neigh **out, size_t *n, char *err, size_t errlen);

struct nl_tcp {
	char local[54]; /* "10.0.2.15:443" or "[fe80::1]:22" */
	char remote[54];
	char state[12]; /* "ESTABLISHED", "LISTEN", "TIME_WAIT", ... */
};
/* Active TCP connections (IPv4 and IPv6). *out is malloc'ed. */
int nl_tcp_connections(struct nl_tcp **out, size_t *n, char *err, size_t errlen);

#endif
