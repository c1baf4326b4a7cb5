/* keel-syslogd's messages: a syslog(3) datagram or a /dev/kmsg record,
 * parsed as hostile input, and the line written for it.
 *
 * A datagram is RFC 3164 as glibc sends it: "<PRI>Mmm dd hh:mm:ss
 * TAG[PID]: message". PRI is 0..191 in 1 to 3 digits without a leading zero;
 * a datagram without a valid PRI is kept whole as the message, as user.notice
 * (RFC 3164 4.3.3), with no app. The timestamp is optional (its time is
 * not believed: the line has the time of reception); TAG is up to
 * MSG_APP_MAX characters of [A-Za-z0-9._/-], PID up to 10 digits. Past
 * LOG_MSG_MAX bytes the message is cut. Nothing of it is trusted to be
 * text: the line escapes it (log_escape). */
#ifndef KEEL_SYSLOGD_MSG_H
#define KEEL_SYSLOGD_MSG_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#define MSG_APP_MAX	48
#define MSG_PRI_DEFAULT 13 /* user.notice */

struct logmsg {
	int pri;		   /* facility * 8 + severity, 0..191 */
	char app[MSG_APP_MAX + 1]; /* "" if none */
	long pid;		   /* -1 if none */
	const char *text;	   /* into the parsed buffer, not terminated */
	size_t len;
};

/* Parses a datagram of len bytes (any bytes). Always fills m. */
void msg_parse_syslog(const char *buf, size_t len, struct logmsg *m);

/* Parses a /dev/kmsg record "PRI,SEQ,TS_USEC,FLAGS[,...];message\n[ KEY=VALUE\n...]"
 * into m (app "kernel"), *seq and *ts_us (microseconds since boot).
 * Returns 0, or -1 if it is not one. */
int msg_parse_kmsg(const char *buf, size_t len, struct logmsg *m, uint64_t *seq, uint64_t *ts_us);

/* The severity's name: "emerg" ... "debug". */
const char *msg_severity(int pri);

/* The line for m, received at `when` (UTC) on `host`:
 * "2026-12-03T10:00:00.123Z HOST APP[PID] SEVERITY: MESSAGE\n" ("APP" alone
 * without a pid, "-" without an app), the message escaped. Returns its
 * length; cut (still one line, newline last) if longer than cap - 1. */
size_t msg_format(char *out, size_t cap, const struct timespec *when, const char *host,
		  const struct logmsg *m);
/* room for any line */
#define MSG_LINE_MAX (4 * LOG_MSG_MAX + 256)

#endif
