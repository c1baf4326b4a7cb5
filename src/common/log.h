/* Timestamped logging to a file descriptor (the console for keel-init).
 *
 * Every line is "[ seconds.millis] tag: message", the seconds being the
 * time since boot (CLOCK_BOOTTIME), so that lines line up with the kernel's
 * own messages on the console. The module keeps one output descriptor and
 * one tag; both are set once at start-up (log_init). Lines may also go to
 * syslog (log_init's use_syslog).
 *
 * Messages carry names that come from users and the network (login names,
 * VM and file names, DHCP servers' words), so every line is written through
 * log_escape: one line per call, whatever the message holds, and nothing in
 * it that a terminal acts on (newlines at the end of a message are dropped:
 * the line has its own). A line is cut at LOG_LINE_MAX bytes. */
#ifndef KEEL_LOG_H
#define KEEL_LOG_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>

/* a log line, newline included, is at most this long */
#define LOG_LINE_MAX 1024

/* Copies len bytes of `in` to out (cap bytes, cap > 0), escaped for a log
 * line: control characters (0x00-0x1f, 0x7f), the C1 controls written in
 * UTF-8 (U+0080-U+009F) and every byte that is not part of valid UTF-8
 * become "\xNN" (each byte of them); printable ASCII and valid UTF-8 text
 * are kept as they are. Never cuts an escape or a character: what does not
 * fit is left out. out is NUL-terminated; returns its length. */
size_t log_escape(char *out, size_t cap, const char *in, size_t len);

/* The tag (kept, not copied) and descriptor of every line. With
 * use_syslog, each message also goes to syslog(3) (LOG_DAEMON, the tag as
 * ident, with the pid; log_msg as LOG_INFO, log_errno as LOG_ERR; the
 * escaped message, without the uptime), which keel-syslogd writes to
 * /scratch/log (common/logfiles.h). keel-vmm, jailed without /dev/log,
 * turns it off, and so never opens a socket. */
void log_init(const char *tag, int fd, bool use_syslog);
void log_msg(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* like log_msg, but to the descriptor only, never to syslog: for what
 * must not reach a file on disk (the first-boot root password) */
void log_console(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* like log_msg, with ": strerror(errno)" appended */
void log_errno(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* seconds since boot */
double log_uptime(void);

#endif
