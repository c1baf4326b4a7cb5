/* Layer: a transport of its own (the local console socket). Includes:
 * authz.h, audit.h, error.h; never http.h or api.h.
 *
 * The local console's way in: a unix socket (CONSOLE_SOCKET, mode 0600, so
 * only root on the host, i.e. keel-dcui, can reach it) taking one JSON line
 * per connection and answering one:
 *   {"cmd": "lockdown-off", "password": "ROOT PASSWORD"}
 *     → {"ok": true} or {"ok": false, "error": "..."}
 * Normal lockdown ends; strict lockdown is refused. Each use is audited
 * with source "console". Served by a thread of its own. */
#ifndef KEEL_HOSTD_CONSOLE_H
#define KEEL_HOSTD_CONSOLE_H

#include <stddef.h>

#define CONSOLE_SOCKET "/run/keel/console.sock"

int console_start(const char *path, char *err, size_t errlen);

#endif
