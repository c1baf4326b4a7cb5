#include "common/log.h"

#include "common/util.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

static const char *log_tag = "keel";
static int log_fd = 2;
static bool log_to_syslog;

void log_init(const char *tag, int fd, bool use_syslog)
{
	log_tag = tag;
	log_fd = fd;
	log_to_syslog = use_syslog;
	/* glibc connects to /dev/log at the first message (close-on-exec) */
	if (use_syslog)
		openlog(tag, LOG_PID, LOG_DAEMON);
}

double log_uptime(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_BOOTTIME, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

size_t log_escape(char *out, size_t cap, const char *in, size_t len)
{
	static const char hex[] = "0123456789abcdef";
	const unsigned char *p = (const unsigned char *)in;
	size_t o = 0;
	while (len > 0) {
		unsigned cp;
		size_t k = utf8_seq(p, len, &cp);
		int bad = k == 0 || cp < 0x20 || cp == 0x7f || (cp >= 0x80 && cp <= 0x9f);
		size_t n = k == 0 ? 1 : k; /* input bytes taken */
		size_t need = bad ? 4 * n : n;
		if (o + need + 1 > cap)
			break;
		for (size_t i = 0; i < n; i++) {
			if (bad) {
				out[o++] = '\\';
				out[o++] = 'x';
				out[o++] = hex[p[i] >> 4];
				out[o++] = hex[p[i] & 15];
			} else {
				out[o++] = (char)p[i];
			}
		}
		p += n;
		len -= n;
	}
	out[o] = '\0';
	return o;
}

static void log_emit(int severity, const char *fmt, va_list ap, const char *suffix)
{
	char msg[LOG_LINE_MAX], line[LOG_LINE_MAX];
	int m = vsnprintf(msg, sizeof(msg), fmt, ap);
	size_t mlen = m < 0 ? 0 : (size_t)m >= sizeof(msg) ? sizeof(msg) - 1 : (size_t)m;
	if (suffix) {
		int k = snprintf(msg + mlen, sizeof(msg) - mlen, ": %s", suffix);
		if (k > 0)
			mlen = mlen + (size_t)k >= sizeof(msg) ? sizeof(msg) - 1 : mlen + (size_t)k;
	}
	/* the line's own newline (messages from libraries often end in one) */
	while (mlen > 0 && msg[mlen - 1] == '\n')
		mlen--;
	int n = snprintf(line, sizeof(line), "[%9.3f] %s: ", log_uptime(), log_tag);
	if (n < 0 || (size_t)n >= sizeof(line) - 1)
		return;
	/* room is kept for the newline */
	size_t len = (size_t)n + log_escape(line + n, sizeof(line) - 1 - (size_t)n, msg, mlen);
	if (log_to_syslog && severity >= 0)
		syslog(severity, "%s", line + n);
	line[len++] = '\n';
	/* one write per line, so lines from several processes do not mix */
	ssize_t w = write(log_fd, line, len);
	(void)w;
}

void log_msg(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	log_emit(LOG_INFO, fmt, ap, NULL);
	va_end(ap);
}

void log_console(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	log_emit(-1, fmt, ap, NULL);
	va_end(ap);
}

void log_errno(const char *fmt, ...)
{
	int e = errno;
	va_list ap;
	va_start(ap, fmt);
	log_emit(LOG_ERR, fmt, ap, strerror(e));
	va_end(ap);
	errno = e;
}
