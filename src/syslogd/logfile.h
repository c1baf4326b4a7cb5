/* One of keel-syslogd's files (common/logfiles.h), appended to and rotated
 * by size: a line that would take NAME past `max` bytes first moves
 * NAME.(keep-1) to NAME.keep, ..., NAME to NAME.1 (older ones, up to
 * LOG_KEEP_MAX, removed: `keep` may have been lowered), then starts a new
 * NAME. A line is never split across files. */
#ifndef KEEL_SYSLOGD_LOGFILE_H
#define KEEL_SYSLOGD_LOGFILE_H

#include <stddef.h>
#include <sys/types.h>

struct logfile {
	char path[256];
	int fd; /* -1: opened at the next write */
	off_t size;
};

void logfile_init(struct logfile *f, const char *dir, const char *name);
/* Appends the line (rotating first if needed). 0, or -1 with errno. */
int logfile_write(struct logfile *f, const char *line, size_t len, long max, int keep);
void logfile_close(struct logfile *f);

#endif
