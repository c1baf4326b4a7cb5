/* Layer: domain. Includes: audit.h (the audit files' names); never http.h
 * or api.h.
 *
 * The host's logs as the API shows them: a fixed catalogue of names, each
 * a file in the log folder and its rotated copies (NAME.log, NAME.log.1,
 * ...): keel-syslogd's files (common/logfiles.h: "init", "hostd", "vmm",
 * "dcui", "kernel", "chrony", "other") and the audit trail (audit.h:
 * "audit", "audit-denied"). A name is only ever looked up in this
 * catalogue: no path from a request reaches a file name.
 *
 * Reading one (logs_read) takes one of three queries, and every answer is
 * whole lines (at most LOGS_REPLY_MAX bytes) with a cursor that says where
 * it ended:
 *   - tail: the last N lines (across the rotated files when needed);
 *   - since: the lines from the first one stamped at or after T (lines
 *     begin with an ISO 8601 UTC time; audit lines with {"time": ...});
 *   - after: the lines that follow a cursor.
 * A cursor is "INODE-OFFSET-CHECK": the file it is in (its inode, which a
 * rotation's rename keeps), the byte after the last line given, and a
 * check of the file's first bytes (so that a new file that got the inode
 * of a deleted one is not taken for it). So
 * following a log by asking for what follows the last cursor misses and
 * repeats nothing across rotations: the file is found again under its new
 * name (NAME.log.1, ...), read to its end, and the newer files after it.
 * Only if the file was rotated out of existence (more than log.keep
 * rotations between two reads) are lines lost: the answer then starts at
 * the oldest file there is and says so (gap). "0-0-0" is the beginning. */
#ifndef KEEL_HOSTD_LOGS_H
#define KEEL_HOSTD_LOGS_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define LOGS_LINES_DEFAULT 100
#define LOGS_LINES_MAX	   10000
#define LOGS_REPLY_MAX	   (4 * 1024 * 1024) /* bytes of one answer */

/* The catalogue: index 0 .. logs_count() - 1. */
size_t logs_count(void);
const char *logs_name(size_t i);
/* "audit.log", "hostd.log", ... (in the log folder) */
const char *logs_file(size_t i);
/* the most rotated copies it may have */
int logs_keep_max(size_t i);
bool logs_is_audit(size_t i);
/* The index of `name`, or -1. */
int logs_find(const char *name);
/* Capture grammars: a name of the catalogue, of the audit trail or not. */
bool logs_host_name_valid(const char *name);
bool logs_audit_name_valid(const char *name);

/* [{name, size, modified, rotated, rotated_bytes}] of the logs of `dir`
 * (those of the audit trail if `audit`, the others if `host`); a log that
 * has no file yet has size 0 and modified null. */
json_t *logs_list(const char *dir, bool host, bool audit);

enum logs_mode { LOGS_TAIL, LOGS_SINCE, LOGS_AFTER };

struct logs_cursor {
	uint64_t ino, off;
	uint64_t check; /* FNV-1a (32 bits) of the file's first min(off, 64) bytes */
};

struct logs_query {
	enum logs_mode mode;
	unsigned lines;		  /* LOGS_TAIL */
	int64_t since_us;	  /* LOGS_SINCE: microseconds since the epoch */
	struct logs_cursor after; /* LOGS_AFTER */
	size_t max;		  /* bytes of the answer (0: LOGS_REPLY_MAX) */
};

struct logs_answer {
	char *text; /* malloc'ed whole lines; len bytes (not NUL-terminated) */
	size_t len;
	struct logs_cursor next;
	bool more; /* more lines follow at once (the answer was full) */
	bool gap;  /* lines were lost before the first one (rotated away) */
};

/* Parses a query's values, strictly (digits only, no sign, no overflow):
 * 0, or -EINVAL with what is accepted in err. */
int logs_parse_lines(const char *s, unsigned *lines, char *err, size_t errlen);
/* "2026-12-03T17:24:32Z", with an optional fraction of up to 9 digits */
int logs_parse_time(const char *s, int64_t *us, char *err, size_t errlen);
int logs_parse_cursor(const char *s, struct logs_cursor *c, char *err, size_t errlen);
/* "INODE-OFFSET-CHECK" into buf (at least 48 bytes) */
void logs_format_cursor(const struct logs_cursor *c, char *buf, size_t n);
/* The time a line begins with (microseconds), or -1 if it has none. */
int logs_line_time(const char *line, size_t len, int64_t *us);

/* Reads log `i` of `dir`: 0 with *a filled (free a->text), or a negative
 * errno with a message. */
int logs_read(const char *dir, size_t i, const struct logs_query *q, struct logs_answer *a,
	      char *err, size_t errlen);

#endif
