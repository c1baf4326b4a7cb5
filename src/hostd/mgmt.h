/* The management network: the management interface's IPv4 settings (DHCP,
 * or a static address, gateway and DNS servers) and the host name, as kept
 * in /config/host.conf (read by keel-init at boot; see init/hostconf.h).
 *
 * A change of the IP settings is applied a second after the API has
 * answered, and must then be confirmed over the new settings within a
 * timeout; otherwise the previous ones are applied again. Only a confirmed
 * change is written to host.conf, so a reboot before the confirmation also
 * brings the previous settings back. Live switches between DHCP and static
 * go through keel-dhcpc's mode file (/run/keel/mgmt.mode) and SIGHUP. */
#ifndef KEEL_HOSTD_MGMT_H
#define KEEL_HOSTD_MGMT_H

/* Reads host.conf, finds the interface, starts the worker that applies
 * and rolls back. Returns 0 or -1 (logged). */
int mgmt_init(void);
/* The management interface's name ("" if there is none). */
const char *mgmt_ifname(void);

#endif
