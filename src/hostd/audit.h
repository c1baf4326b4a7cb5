/* Layer: transport support (written by http.c for every request and by
 * console.c). Includes: nothing of hostd.
 *
 * The audit trail: one JSON object per line in LOGDIR/audit.log (on
 * scratch), appended with O_APPEND and fdatasync'ed before audit_write
 * returns, so that an entry survives a crash of hostd or of the host. When
 * the file would grow past AUDIT_ROTATE_BYTES it is rotated first:
 * audit.log.4 → .5 (the old .5 is dropped), ..., audit.log → audit.log.1.
 * Thread-safe (one mutex). Entries:
 *   {"time": "2026-11-24T19:00:00Z", "user": "alice", "source": "10.0.2.2",
 *    "action": "POST /api/v1/vms/web1/power/on", "target": "vm/web1",
 *    "result": "denied", "status": 403}
 * Strings are written by jansson (escaped); user/target may be "" and are
 * then written as "" (never null); status 0 is left out.
 * Clarifications (of this implementation): a NULL string counts as "";
 * bytes that are not UTF-8 are written as U+FFFD, and each string is cut
 * (at a character boundary) to 1024 bytes, so that every line stays far
 * below the 64 KiB that audit_tail reads. A line is a single write() of
 * the whole line including its '\n' (a partial write is truncated away).
 * If a rotation fails, the entry is still appended to audit.log. */
#ifndef KEEL_HOSTD_AUDIT_H
#define KEEL_HOSTD_AUDIT_H

#include <jansson.h>
#include <stddef.h>

#define AUDIT_ROTATE_BYTES (1024 * 1024)
#define AUDIT_KEEP	   5

/* Sets the folder (created 0750 if missing); returns -1 with a message. */
int audit_init(const char *logdir, char *err, size_t errlen);

/* Appends one entry; result is "ok", "failed" or "denied" (or another
 * short word, e.g. "locked"). Returns -1 when it could not be written (the
 * caller logs that on the console). */
int audit_write(const char *user, const char *source, const char *action, const char *target,
		const char *result, int status);

/* The last `lines` entries (1..10000), oldest first, from audit.log and as
 * many rotated files as needed, as a JSON array of objects (lines that do
 * not parse are skipped). Memory is bounded by what is returned, not by the
 * size of the files.
 * lines == 0 gives an empty array; more than 10000 is clamped to 10000.
 * Lines longer than 64 KiB are skipped like unparsable ones. Missing files
 * are skipped; a read error ends the search (what was found is returned).
 * Returns NULL only when out of memory. */
json_t *audit_tail(size_t lines);

#endif
