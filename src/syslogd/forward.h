/* keel-syslogd's remote forwarding (common/syslogfwd.h): up to
 * SYSLOG_TARGETS_MAX targets over UDP, TCP or TLS (GnuTLS), each with its
 * own bounded queue (fwdqueue.h: FWD_QUEUE_COUNT messages and
 * FWD_QUEUE_BYTES), emptied by one sender thread that polls every
 * connection. fwd_submit only formats and queues: a target that is down,
 * slow or unreachable never holds up the caller.
 *
 * Delivery on TCP and TLS: a message stays queued until the peer's TCP
 * has acknowledged every byte up to its end (the connection's byte count
 * less SIOCOUTQ's unacknowledged bytes), and FWD_HOLD_MS more: a receiver
 * being stopped, or a proxy in between (QEMU's user network is one),
 * acknowledges bytes that its program never reads, and the connection is
 * seen to end only a moment later. A connection is dropped when the
 * peer closes it or it fails (poll: POLLRDHUP, POLLHUP, POLLERR; a syslog
 * receiver never sends, so readable data other than TLS's own records
 * and end of file mean that it went away), and the next connection starts
 * again from the oldest message still queued: a receiver that restarts
 * gets again what was sent in its last FWD_HOLD_MS (duplicates), and
 * misses nothing. Connections are
 * tried again after 1 s, doubling to FWD_BACKOFF_MAX_S. UDP is sent and
 * forgotten. */
#ifndef KEEL_SYSLOGD_FORWARD_H
#define KEEL_SYSLOGD_FORWARD_H

#include "common/hostconf.h"
#include "syslogd/msg.h"

#include <time.h>

#define FWD_QUEUE_COUNT	  10000
#define FWD_QUEUE_BYTES	  (4 << 20)
#define FWD_BACKOFF_MAX_S 16
#define FWD_CONNECT_S	  10 /* to connect and finish the TLS handshake */
#define FWD_HOLD_MS	  5000
#define FWD_DRAIN_MS	  2000 /* at shutdown, for connected targets */

/* Takes the settings fwd_configure gave (at once: messages submitted from
 * now on are queued for those targets), then starts the sender thread.
 * 0, or -1. */
int fwd_start(void);
/* At shutdown: waits, up to timeout_ms, until every connected target has
 * been sent (and acknowledged) what is queued for it. */
void fwd_drain(int timeout_ms);
/* Takes host.conf's syslog settings (and SYSLOG_CA_FILE, read by the
 * sender): targets kept by URL keep their queue and connection. */
void fwd_configure(const struct hostconf *hc);
/* 1 once the last fwd_configure's targets are the ones fwd_submit uses. */
int fwd_configured(void);
/* Queues m, received at `when` on `host`, for every target; `msgid` may
 * be NULL. Never blocks on the network. */
void fwd_submit(const struct timespec *when, const char *host, const struct logmsg *m,
		const char *msgid);

#endif
