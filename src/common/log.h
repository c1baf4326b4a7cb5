/* Timestamped logging to a file descriptor (the console for keel-init).
 *
 * Every line is "[ seconds.millis] tag: message", the seconds being the
 * time since boot (CLOCK_BOOTTIME), so that lines line up with the kernel's
 * own messages on the console. The module keeps one output descriptor and
 * one tag; both are set once at start-up. */
#ifndef KEEL_LOG_H
#define KEEL_LOG_H

#include <stdarg.h>

void log_init(const char *tag, int fd);
void log_msg(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* like log_msg, with ": strerror(errno)" appended */
void log_errno(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* seconds since boot */
double log_uptime(void);

#endif
