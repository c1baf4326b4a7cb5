/* NTP: how keel-init runs Debian's chronyd and how keel-hostd asks it.
 *
 * The servers are host.conf's ntp.servers (common/hostconf.h), written by
 * keel-hostd. keel-hostd then sends SIGHUP to keel-init (PID 1), which
 * reads host.conf again and, with servers, writes CHRONY_CONF_FILE
 * (chrony_conf_format) and (re)starts the service CHRONY_SERVICE
 * (CHRONYD_ARGV: in the foreground, its log to syslog (chrony.log), as
 * CHRONY_USER); without servers it stops it. chronyd creates
 * CHRONY_SOCKET_DIR itself (mode 0770, its user's) for its command socket
 * CHRONY_SOCKET, which keel-hostd (root) queries with chronyc. The drift
 * file is kept in CHRONY_DRIFT_DIR (owned by CHRONY_USER, made by
 * keel-init). The kernel reads the RTC at boot (CONFIG_RTC_HCTOSYS) and,
 * with `rtcsync`, writes it every 11 minutes while synchronized. */
#ifndef KEEL_CHRONY_H
#define KEEL_CHRONY_H

#include "common/hostconf.h"
#include "common/runstate.h"

#include <stddef.h>

#define CHRONY_SERVICE	  "chronyd"
#define CHRONYD		  "/sbin/chronyd"
#define CHRONYC		  "/sbin/chronyc"
#define CHRONY_USER	  "_chrony" /* in the image's /etc/passwd */
#define CHRONY_CONF_FILE  KEEL_RUN_DIR "/chrony.conf"
#define CHRONY_SOCKET_DIR KEEL_RUN_DIR "/chrony"
#define CHRONY_SOCKET	  CHRONY_SOCKET_DIR "/chronyd.sock"
#define CHRONY_DRIFT_DIR  "/scratch/chrony"
#define CHRONYD_ARGV                                                                               \
	{                                                                                          \
		CHRONYD, "-n", "-u", CHRONY_USER, "-f", CHRONY_CONF_FILE, NULL                     \
	}

/* chronyd's configuration for hc's NTP servers into buf (n bytes): its
 * length, or -1 if it does not fit or hc has no server. */
int chrony_conf_format(const struct hostconf *hc, char *buf, size_t n);

#endif
