/* One forwarding target's queue: bounded by count and bytes, oldest
 * dropped first, kept until the connection has delivered it.
 *
 * Entries are numbered (seq) in the order they were pushed. The sender
 * takes the entry at next_seq (fwd_queue_next), writes it, and says how far
 * its connection's byte count had got then (fwd_queue_sent); an entry
 * leaves the queue only when the connection says those bytes were
 * delivered (fwd_queue_delivered: for TCP, acknowledged by the peer's
 * TCP) and `hold` ms more have passed: an acknowledgement is not
 * delivery (a peer that is being stopped, or a proxy such as QEMU's user
 * network, acknowledges what its program never reads), and a connection
 * found dead soon after is the sign of such a loss. A new connection
 * starts again from the oldest entry still queued (fwd_queue_rewind), so
 * that what a connection that died had taken, or had taken just before,
 * is sent again: a duplicate rather than a loss.
 *
 * A push that finds the queue full drops the oldest entries (written or
 * not) until the new one fits, and adds their number (not counting those
 * acknowledged already) to the `lost` of the first entry not yet written: the sender puts a record
 * saying how many were lost before it, and again if that entry is sent again. Not thread-safe: the
 * caller holds a lock. */
#ifndef KEEL_SYSLOGD_FWDQUEUE_H
#define KEEL_SYSLOGD_FWDQUEUE_H

#include <stddef.h>
#include <stdint.h>

struct fwd_entry {
	char *msg; /* the message, unframed */
	size_t len;
	unsigned long lost; /* dropped just before this one */
	uint64_t wire_end;  /* after fwd_queue_sent: the connection's count */
	int64_t acked_ms;   /* when it was known delivered; 0: not yet */
};

struct fwd_queue {
	struct fwd_entry *ring;
	size_t max_count, max_bytes;
	size_t head, count, bytes;
	uint64_t head_seq;	     /* seq of ring[head] */
	uint64_t next_seq;	     /* first entry not written to the connection */
	unsigned long dropped;	     /* lost, in all */
	unsigned long lost_unplaced; /* lost with nothing queued after them yet */
};

/* 0, or -1 (no memory). */
int fwd_queue_init(struct fwd_queue *q, size_t max_count, size_t max_bytes);
void fwd_queue_free(struct fwd_queue *q);
/* Copies the message in, dropping the oldest to make room. Returns how
 * many were dropped (delivered ones among them), or -1 if the message alone is over max_bytes or
 * there is no memory (then it is the one lost, and counted as such). */
int fwd_queue_push(struct fwd_queue *q, const char *msg, size_t len);
/* The entry to write next and its seq, or NULL. Valid until the next call. */
struct fwd_entry *fwd_queue_next(struct fwd_queue *q, uint64_t *seq);
/* Entry `seq` (taken by fwd_queue_next, with `lost` as it was then) is
 * written, up to byte `wire_end` of the connection. */
void fwd_queue_sent(struct fwd_queue *q, uint64_t seq, unsigned long lost, uint64_t wire_end);
/* The connection delivered its first `wire` bytes, as known at `now_ms`
 * (any monotonic clock): entries written within them are delivered, and
 * those delivered `hold_ms` or more before leave the queue. */
void fwd_queue_delivered(struct fwd_queue *q, uint64_t wire, int64_t now_ms, int64_t hold_ms);
/* A new connection: everything still queued is to be written again. */
void fwd_queue_rewind(struct fwd_queue *q);
/* 1 if every entry is written and known delivered (held ones included) */
int fwd_queue_settled(const struct fwd_queue *q);
/* written and not yet released (in flight or held) */
size_t fwd_queue_in_flight(const struct fwd_queue *q);

#endif
