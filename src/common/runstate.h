/* The run-time state files that keel-init, keel-dhcpc and keel-hostd share
 * under /run/keel (a tmpfs), each written atomically (a reader sees the old
 * content or the new, never a part):
 *
 * - SERVICE_PID_FORMAT (with the service's name): the pid of each service keel-init supervises,
 *   written by keel-init when it starts the service.
 * - MGMT_MODE_FILE: the management network's mode, "dhcp" or "static", a
 *   space, the interface that carries its address (the NIC, or its VLAN
 *   interface: hostconf_ip_ifname) and a newline; written by keel-init at
 *   boot, then by keel-hostd. A SIGHUP makes keel-dhcpc read it again.
 * - DHCPC_STATE_FILE: what keel-dhcpc is doing, one line: "idle",
 *   "discovering", or "bound ADDR/PREFIX gw GW lease SECONDS" (GW "-" when
 *   there is no default route). */
#ifndef KEEL_RUNSTATE_H
#define KEEL_RUNSTATE_H

#include "common/hostconf.h"

#include <netinet/in.h>
#include <stddef.h>
#include <stdint.h>

#define KEEL_RUN_DIR	   "/run/keel"
#define SERVICE_PID_FORMAT KEEL_RUN_DIR "/%s.pid"
#define MGMT_MODE_FILE	   KEEL_RUN_DIR "/mgmt.mode"
#define DHCPC_STATE_FILE   KEEL_RUN_DIR "/dhcpc.state"
#define DHCPC_SERVICE	   "dhcpc" /* keel-dhcpc's service name */

/* Writes the mode file at `path` (MGMT_MODE_FILE but in tests). Returns 0
 * or -1 with errno set. */
int mgmt_mode_write(const char *path, enum net_mode mode, const char *ifname);
/* Reads the mode file: 0 with *mode and ifname (IFNAMSIZ bytes), 1 when
 * it holds an unknown word or no valid interface name (*mode is then
 * NET_DHCP; ifname "" if the name is not valid), -1 with errno set when it
 * cannot be read. */
int mgmt_mode_read(const char *path, enum net_mode *mode, char ifname[16]);

enum dhcpc_phase { DHCPC_IDLE, DHCPC_DISCOVERING, DHCPC_BOUND };

struct dhcpc_state {
	enum dhcpc_phase phase;
	/* bound: */
	struct in_addr addr;
	unsigned prefix;
	struct in_addr gateway; /* 0.0.0.0: no default route */
	uint32_t lease_s;
};

/* The state as its one line (with the newline); returns the length, or -1
 * if it does not fit in n bytes. */
int dhcpc_state_format(const struct dhcpc_state *st, char *buf, size_t n);
/* Parses a state line; 0, or -1 when it is not one. */
int dhcpc_state_parse(const char *text, struct dhcpc_state *st);
int dhcpc_state_write(const char *path, const struct dhcpc_state *st);
/* 0, or -1 (errno set; EINVAL when the file does not hold a state). */
int dhcpc_state_read(const char *path, struct dhcpc_state *st);

#endif
