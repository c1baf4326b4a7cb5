/* Host configuration read by keel-init at boot: /config/host.conf, lines of
 * "key = value" with '#' comments, written by keel-hostd (hostconf_format)
 * or by an operator. Unknown keys and bad values are reported and
 * ignored (the defaults stay), so that a damaged file never stops a boot. */
#ifndef KEEL_HOSTCONF_H
#define KEEL_HOSTCONF_H

#include "common/syslogfwd.h"

#include <stddef.h>

#define HOSTCONF_FILE "/config/host.conf"
/* A factory reset asked for (keel-hostd writes it, then reboots the host):
 * at the next boot, keel-init empties /config (settings, users, inventory,
 * TLS and SSH identities) before anything reads it, this file last, and
 * the host starts as at its first boot. The datastores are left alone. */
#define FACTORY_RESET_FILE "/config/factory-reset"
/* A restore of a configuration backup asked for (keel-hostd stages its
 * files in RESTORE_DIR, host.conf, keel.db, tls/..., ssh/..., then writes
 * RESTORE_FILE and reboots the host): at the next boot, keel-init moves
 * them into /config (the inventory's old -wal and -shm files removed
 * first) before anything reads it, RESTORE_FILE last, so that a power cut
 * midway finishes the move at the boot after. */
#define RESTORE_DIR  "/config/restore"
#define RESTORE_FILE "/config/restore-pending"

enum net_mode { NET_DHCP, NET_STATIC };

/* The management network on a VLAN: its address is on a VLAN interface
 * over the management NIC, named MGMT_VLAN_IFNAME ("mgmt.20"), which
 * keel-init creates at boot and keel-hostd when the VLAN changes. */
#define HOSTCONF_VLAN_MAX 4094
#define MGMT_VLAN_IFNAME  "mgmt.%d"

#define HOSTCONF_NTP_MAX 4
#define HOSTCONF_NTP_LEN 64 /* a server's name: up to 63 characters */

/* The consoles (keel-init starts what is on; keel-hostd writes them):
 * console.dcui: keel-dcui runs on the consoles (off in strict lockdown);
 * tsm.local, tsm.ssh: tech support mode on a local console (keel-shell on
 * tty2) and over SSH (dropbear on port 22), each with the time it turns
 * itself off (tsm.*.until, seconds since the epoch; 0: never);
 * tsm.timeout_s: the availability time-out that sets those at each enable;
 * tsm.idle_s: an idle session ends after that long. 0: none. */
#define TSM_TIMEOUT_MAX (7 * 24 * 3600)
struct hostconf_console {
	int dcui;
	int tsm_local, tsm_ssh;
	long long tsm_local_until, tsm_ssh_until;
	int tsm_timeout_s, tsm_idle_s;
};

struct hostconf {
	char hostname[64];
	char mgmt_if[16]; /* empty: the first physical Ethernet NIC */
	int vlan;	  /* mgmt.vlan: 802.1Q VLAN ID of the management network,
			     1..HOSTCONF_VLAN_MAX; 0: untagged */
	enum net_mode mode;
	char address[20]; /* static: a.b.c.d */
	int prefix;	  /* static: 0..32 */
	char gateway[16]; /* static, optional */
	char dns[3][16];  /* static, optional */
	/* ntp.servers: up to HOSTCONF_NTP_MAX (valid_ntp_server), "" after the
	 * last; none: NTP is off */
	char ntp[HOSTCONF_NTP_MAX][HOSTCONF_NTP_LEN];
	/* log.size_kib, log.keep: the rotation of keel-syslogd's files
	 * (common/logfiles.h: defaults and ranges) */
	int log_size_kib;
	int log_keep;
	/* syslog.targets: up to SYSLOG_TARGETS_MAX URLs (common/syslogfwd.h),
	 * "" after the last; syslog.format; syslog.fingerprint ("" for none:
	 * TLS targets are checked against SYSLOG_CA_FILE) */
	char syslog_targets[SYSLOG_TARGETS_MAX][SYSLOG_URL_MAX];
	enum syslog_format syslog_format;
	char syslog_fingerprint[SYSLOG_FP_LEN + 1];
	struct hostconf_console console;
};

void hostconf_defaults(struct hostconf *hc);

/* Parses `text` into hc (which holds defaults). For each rejected line,
 * writes a message to errs (if not NULL) and counts it. Returns the count. */
int hostconf_parse(struct hostconf *hc, const char *text, char *errs, size_t errs_len);

/* Writes hc as host.conf text (with a "# written by keel-hostd" header)
 * into buf (n bytes), text that hostconf_parse reads back into the same
 * settings. Returns its length, or -1 if it does not fit or if hc holds a
 * value that hostconf_parse would not read back the same (an invalid one). */
int hostconf_format(const struct hostconf *hc, char *buf, size_t n);

/* The management NIC when host.conf names none: the first physical
 * Ethernet interface (one with a device link in sysfs), in name order.
 * Returns 0 and fills ifname, or -1 if there is none. */
int hostconf_find_nic(char *ifname, size_t n);

/* The interface that carries the management address: `nic` itself when
 * untagged, else MGMT_VLAN_IFNAME of `vlan`. Returns 0, or -1 if it does
 * not fit in n bytes. */
int hostconf_ip_ifname(const char *nic, int vlan, char *out, size_t n);

int valid_hostname(const char *s);
int valid_ipv4(const char *s);
/* An NTP server: an IPv4 or IPv6 address, or a host name (valid_hostname)
 * whose last label is not all digits. */
int valid_ntp_server(const char *s);

#endif
