/* Layer: domain. Includes: mgmt.h; never http.h or api.h.
 *
 * "Test management network", as the console UI and the API run it: ping
 * the management interface's default gateway and each DNS server of
 * /etc/resolv.conf (ICMP echo, NETTEST_PINGS tries of a second each), and
 * resolve the host's name. Takes a few seconds at most; nothing changes. */
#ifndef KEEL_HOSTD_NETTEST_H
#define KEEL_HOSTD_NETTEST_H

#include <jansson.h>

#define NETTEST_PINGS	3
#define NETTEST_DNS_MAX 3

/* {gateway: {address, ok, ms} | null (none), dns: [{address, ok, ms}],
 * hostname: {name, ok, addresses: [...]}, ok: all of them} (ms: the first
 * answer's round trip, or null) */
json_t *nettest_run(void);

#endif
