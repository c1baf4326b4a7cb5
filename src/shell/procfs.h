/* The parsers of what `ps` and `mounts` read from /proc, whose text is
 * hostile: a process names itself (its comm may hold ')', blanks or
 * control characters; its command line anything), and a mount point is
 * whatever a path was. Every field is checked; text to be printed is made
 * printable (control bytes become '?'). */
#ifndef KEEL_SHELL_PROCFS_H
#define KEEL_SHELL_PROCFS_H

#include <stddef.h>

struct procstat {
	int pid;
	char comm[64]; /* printable */
	char state;
	int ppid;
	unsigned long long utime, stime; /* clock ticks */
	long long rss_pages;
};

/* /proc/PID/stat's text (len bytes, need not be NUL-terminated). 0 or -1. */
int procstat_parse(const char *text, size_t len, struct procstat *out);

/* /proc/PID/cmdline's len bytes (NUL-separated words) as one printable
 * line in out (n bytes, cut when longer). */
void proc_cmdline(const char *raw, size_t len, char *out, size_t n);

/* One line of /proc/self/mountinfo, its fields unescaped (\040 and the
 * other octal escapes) and made printable, in place: the pointers point
 * into line. 0, or -1 if the line has not the shape of one. */
struct mountinfo {
	char *mount_point, *fstype, *source, *options;
};
int mountinfo_parse(char *line, struct mountinfo *m);

/* Makes s printable in place: bytes below 0x20 and 0x7f become '?'. */
void text_printable(char *s);

#endif
