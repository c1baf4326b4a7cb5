/* /etc/resolv.conf, written by keel-init (a static address at boot),
 * keel-dhcpc (a lease's servers) and keel-hostd (a static address set
 * through the API): one "nameserver A.B.C.D" line per server. */
#ifndef KEEL_RESOLVCONF_H
#define KEEL_RESOLVCONF_H

#include <netinet/in.h>

#define RESOLV_CONF_FILE "/etc/resolv.conf"

/* Replaces `path` (RESOLV_CONF_FILE but in tests) atomically with these n
 * servers (none: an empty file). Returns 0 or -1 with errno set. */
int resolvconf_write(const char *path, const struct in_addr *dns, int n);

#endif
