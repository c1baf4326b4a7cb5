/* A message as keel-syslogd forwards it (common/syslogfwd.h), and its
 * framing on a stream.
 *
 * RFC 5424: "<PRI>1 2026-12-03T10:00:00.123456Z HOST APP PROCID MSGID - MSG"
 * (UTC with microseconds; "-" for a missing APP, PROCID or MSGID; no
 * structured data). RFC 3164: "<PRI>Dec  3 10:00:00 HOST APP[PID]: MSG"
 * (UTC; APP alone without a pid). MSG is escaped as in the local files
 * (log_escape: control characters and bytes that are not UTF-8 as \xNN),
 * so that a message is one line for every receiver. A whole message is at
 * most FWD_MSG_MAX bytes: the MSG of a longer one is cut (never inside an
 * escape or a character). On TCP and TLS each message is framed by octet
 * counting (RFC 6587 3.4.1): "LEN SP MESSAGE". */
#ifndef KEEL_SYSLOGD_FWDFMT_H
#define KEEL_SYSLOGD_FWDFMT_H

#include "common/logfiles.h"
#include "common/syslogfwd.h"
#include "syslogd/msg.h"

#include <stddef.h>
#include <time.h>

#define FWD_MSG_MAX   (LOG_MSG_MAX + 512)
#define FWD_FRAME_MAX (FWD_MSG_MAX + 8) /* "LEN " before it */

/* Formats m (received at `when` on `host`, MSGID `msgid` or NULL) into out
 * (at least FWD_MSG_MAX + 1 bytes), NUL-terminated. Returns its length. */
size_t fwd_format(char *out, enum syslog_format f, const struct timespec *when, const char *host,
		  const struct logmsg *m, const char *msgid);

/* Writes "LEN SP" and the message into out (at least len + 8 bytes).
 * Returns the frame's length. */
size_t fwd_frame(char *out, const char *msg, size_t len);

#endif
