/* Layer: domain. Includes: audit.h, error.h, netlink.h and src/common's
 * hostconf.h, runstate.h, resolvconf.h; never http.h or api.h.
 *
 * The management network: the management interface's VLAN (none, or an
 * 802.1Q VLAN interface over the NIC) and IPv4 settings (DHCP, or a static
 * address, gateway and DNS servers) and the host name, as kept
 * in /config/host.conf (read by keel-init at boot; see common/hostconf.h),
 * which also keeps the NTP servers (mgmt_set_ntp).
 *
 * A change of the IP settings is applied a second after the API has
 * answered, and must then be confirmed over the new settings within a
 * timeout; otherwise the previous ones are applied again. Only a confirmed
 * change is written to host.conf, so a reboot before the confirmation also
 * brings the previous settings back. Live switches between DHCP and static
 * go through keel-dhcpc's mode file (/run/keel/mgmt.mode) and SIGHUP. */
#ifndef KEEL_HOSTD_MGMT_H
#define KEEL_HOSTD_MGMT_H

#include "common/hostconf.h"

#include <jansson.h>
#include <stddef.h>

/* Reads host.conf, finds the interface, starts the worker that applies
 * and rolls back. Returns 0 or -1 (logged). */
int mgmt_init(void);
/* The management NIC's name ("" if there is none). */
const char *mgmt_ifname(void);

/* The settings as the API shows them: {hostname, interface, vlan, mode,
 * address, gateway, dns, current, pending}. */
json_t *mgmt_describe(void);
/* Changes the settings with `body` (any of vlan, mode, address, gateway,
 * dns, hostname, confirm_timeout_s), for `user` connected from `source`:
 * 0 when done at once (the host name alone), with *out = {management};
 * 1 when the change is applied in a second and waits for confirmation,
 * with *out = {management, confirm_by, confirm_timeout_s}; else -EBUSY (a
 * change waits), -EINVAL (bad body) or -EIO (host.conf), with a message. */
int mgmt_change(const json_t *body, const char *user, const char *source, json_t **out, char *err,
		size_t errlen);
/* Confirms the waiting change; `local_addr` is the address the request
 * came to, which must be the new one (NULL: from the host's console, where
 * the person confirming sees the new settings). 0 with *out = {management}, or
 * -EBUSY / -EIO with a message. */
int mgmt_confirm(const char *local_addr, const char *user, json_t **out, char *err, size_t errlen);
/* The NTP servers of host.conf ("" after the last). */
void mgmt_ntp(char servers[HOSTCONF_NTP_MAX][HOSTCONF_NTP_LEN]);
/* Writes them (valid_ntp_server each) to host.conf and sends SIGHUP to
 * keel-init, which starts, restarts or stops chronyd (common/chrony.h).
 * 0, or -EIO with a message. */
int mgmt_set_ntp(const char servers[HOSTCONF_NTP_MAX][HOSTCONF_NTP_LEN], char *err, size_t errlen);
/* host.conf as saved (for its syslog.*, console.* and tsm.* settings). */
void mgmt_saved(struct hostconf *out);
/* Writes want's syslog.* settings (valid ones: common/syslogfwd.h) to
 * host.conf and sends SIGHUP to keel-init, which passes it on to
 * keel-syslogd. 0, or -EIO with a message. */
int mgmt_set_syslog(const struct hostconf *want, char *err, size_t errlen);
/* Writes want's console.* and tsm.* settings to host.conf and sends SIGHUP
 * to keel-init, which starts or stops keel-dcui, keel-shell and dropbear.
 * 0, or -EIO with a message. (Read them with mgmt_saved.) */
int mgmt_set_console(const struct hostconf_console *want, char *err, size_t errlen);
/* Sends keel-init `sig` (SIGHUP: host.conf changed; SIGTERM: reboot;
 * SIGUSR2: poweroff), only when PID 1 is keel-init: a hostd run elsewhere
 * (the tests run it on the build machine) signals no other init. 0, or -1
 * (logged). */
int mgmt_signal_init(int sig);
/* Rolls the waiting change back now: 0 with *out = {management}, or
 * -EBUSY when none waits. */
int mgmt_rollback(json_t **out, char *err, size_t errlen);

#endif
