/* Layer: transport support (written by http.c for every request and by
 * console.c and mgmt.c). Includes: nothing of hostd.
 *
 * The audit trail: one JSON object per line, in two sets of files in
 * LOGDIR (on scratch), each with a budget of its own, so that no amount of
 * traffic from people nobody knows can push the record of what known
 * people did out of the folder:
 *   - audit.log: the trail. What an authenticated user asked for (changes,
 *     refusals of privilege), successful logins, console actions, the
 *     management network's rollbacks. AUDIT_ROTATE_BYTES x (1 +
 *     AUDIT_KEEP) = 10 MiB: about 60,000 entries of ~160 bytes (a change
 *     takes two, "started" and its outcome: some 30,000 changes).
 *   - audit-denied.log: logins until they succeed (each is written on
 *     its own, as it names an account: "started" and, if it fails, its
 *     outcome) and requests made without a known user (no or an invalid
 *     token, a refused URL: counted per source, below).
 *     AUDIT_ROTATE_BYTES x (1 + AUDIT_DENIED_KEEP) = 4 MiB: about 25,000
 *     entries (130 to 220 bytes; some 12,000 failed logins).
 * Each entry is appended with O_APPEND and fdatasync'ed before the call
 * returns, so that it survives a crash of hostd or of the host. When a
 * file would grow past AUDIT_ROTATE_BYTES it is rotated first:
 * audit.log.8 → .9 (the old .9 is dropped), ..., audit.log → audit.log.1
 * (audit-denied.log likewise, up to .3). Thread-safe (a mutex per set).
 * Entries:
 *   {"time": "2026-11-24T19:00:00Z", "user": "alice", "source": "10.0.2.2",
 *    "action": "POST /api/v1/vms/web1/power/on", "target": "vm/web1",
 *    "result": "denied", "status": 403}
 * Strings are written by jansson (escaped); user/target may be "" and are
 * then written as "" (never null); status 0 is left out.
 *
 * Requests without a known user are counted per (source, status) rather
 * than written one by one: the first of an interval is written at once
 * (its own action and target, "count": 1), the others are counted, and
 * AUDIT_ANON_INTERVAL s after that first one a single entry gives how many
 * there were and when the first and last came:
 *   {"time": ..., "user": "", "source": "10.0.2.2",
 *    "action": "unauthenticated requests", "target": "", "result": "denied",
 *    "status": 401, "count": 1234, "first": "2026-...Z", "last": "2026-...Z"}
 * So a (source, status) writes at most two entries per interval, and the
 * counts of a source add up to its requests. At most AUDIT_ANON_SOURCES
 * (source, status) pairs are counted at a time; past that, the requests
 * of further pairs are counted together, with no entry of their own, in
 * one entry of source "other sources" (no status). The counts are in
 * memory until written: audit_tick writes those whose interval has ended,
 * audit_flush (at shutdown) and audit_tail (before it reads) all of them.
 *
 * Clarifications (of this implementation): a NULL string counts as "";
 * bytes that are not UTF-8 are written as U+FFFD, and each string is cut
 * (at a character boundary) to 1024 bytes, so that every line stays far
 * below the 64 KiB that audit_tail reads. A line is a single write() of
 * the whole line including its '\n' (a partial write is truncated away).
 * If a rotation fails, the entry is still appended to the current file.
 * Each entry is also sent to keel-syslogd for remote forwarding (a
 * datagram to SYSLOG_AUDIT_SOCKET, common/syslogfwd.h, as authpriv.info:
 * dropped, never waited for, when keel-syslogd cannot take it). */
#ifndef KEEL_HOSTD_AUDIT_H
#define KEEL_HOSTD_AUDIT_H

#include <jansson.h>
#include <stddef.h>
#include <time.h>

/* the files in LOGDIR (rotated as NAME.1 ...) */
#define AUDIT_TRAIL_FILE    "audit.log"
#define AUDIT_DENIED_FILE   "audit-denied.log"
#define AUDIT_FIELD_MAX	    1024 /* bytes a record keeps of one string */
#define AUDIT_ROTATE_BYTES  (1024 * 1024)
#define AUDIT_KEEP	    9 /* audit.log.1 .. .9 */
#define AUDIT_DENIED_KEEP   3 /* audit-denied.log.1 .. .3 */
#define AUDIT_ANON_INTERVAL 60
#define AUDIT_ANON_SOURCES  256

/* The sets, for audit_tail. */
#define AUDIT_TRAIL  1 /* audit.log */
#define AUDIT_DENIED 2 /* audit-denied.log */
#define AUDIT_ALL    (AUDIT_TRAIL | AUDIT_DENIED)

/* Sets the folder (created 0750 if missing); returns -1 with a message. */
int audit_init(const char *logdir, char *err, size_t errlen);

/* Appends one entry to the trail (audit.log); result is "ok", "failed" or
 * "denied" (or another short word, e.g. "started", "locked"). Returns -1
 * when it could not be written. */
int audit_write(const char *user, const char *source, const char *action, const char *target,
		const char *result, int status);

/* The same, to audit-denied.log: for failed logins. */
int audit_write_denied(const char *user, const char *source, const char *action, const char *target,
		       const char *result, int status);

/* Counts a request made without a known user (above), writing it at once
 * when it is the first of its (source, status) in an interval. Returns -1
 * when that write failed. */
int audit_anonymous(const char *source, const char *action, const char *target, const char *result,
		    int status);

/* Writes the counts whose interval has ended by `now`; audit_flush writes
 * them all. A count that cannot be written is lost (with a console line). */
void audit_tick(time_t now);
void audit_flush(void);

/* The last `lines` entries (1..10000) of the sets in `sets` (AUDIT_TRAIL,
 * AUDIT_DENIED or AUDIT_ALL), oldest first, as a JSON array of objects;
 * the entries of both sets are merged by time (an entry of the trail
 * after one of audit-denied.log of the same second). Each set is read
 * from its newest file back through as many rotated files as needed
 * (lines that do not parse are skipped). With AUDIT_DENIED, the counts
 * are written first (audit_flush). Memory is bounded by what is returned,
 * not by the size of the files.
 * lines == 0 gives an empty array; more than 10000 is clamped to 10000.
 * Lines longer than 64 KiB are skipped like unparsable ones. Missing files
 * are skipped; a read error ends the search in that set (what was found is
 * returned). Returns NULL only when out of memory. */
json_t *audit_tail(size_t lines, unsigned sets);

#endif
