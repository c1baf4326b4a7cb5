#include "common/log.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static const char *log_tag = "keel";
static int log_fd = 2;

void log_init(const char *tag, int fd)
{
	log_tag = tag;
	log_fd = fd;
}

double log_uptime(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_BOOTTIME, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void log_emit(const char *fmt, va_list ap, const char *suffix)
{
	char line[1024];
	int n = snprintf(line, sizeof(line), "[%9.3f] %s: ", log_uptime(), log_tag);
	if (n < 0)
		return;
	int m = vsnprintf(line + n, sizeof(line) - (size_t)n, fmt, ap);
	size_t len = (m < 0) ? (size_t)n : (size_t)n + (size_t)m;
	if (len > sizeof(line) - 2)
		len = sizeof(line) - 2;
	if (suffix) {
		int k = snprintf(line + len, sizeof(line) - len, ": %s", suffix);
		if (k > 0)
			len += (size_t)k;
		if (len > sizeof(line) - 2)
			len = sizeof(line) - 2;
	}
	line[len++] = '\n';
	/* one write per line, so lines from several processes do not mix */
	ssize_t w = write(log_fd, line, len);
	(void)w;
}

void log_msg(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	log_emit(fmt, ap, NULL);
	va_end(ap);
}

void log_errno(const char *fmt, ...)
{
	int e = errno;
	va_list ap;
	va_start(ap, fmt);
	log_emit(fmt, ap, strerror(e));
	va_end(ap);
	errno = e;
}
