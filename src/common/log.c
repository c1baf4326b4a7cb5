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

/* Length of the valid UTF-8 sequence at s (avail bytes), or 0: no overlong
 * forms, no surrogates, nothing above U+10FFFF. *cp gets the code point. */
static size_t utf8_seq(const unsigned char *s, size_t avail, unsigned *cp)
{
	unsigned c = s[0], min;
	size_t n;
	if (c < 0x80) {
		*cp = c;
		return 1;
	}
	if (c >= 0xc2 && c <= 0xdf) {
		n = 2, min = 0x80, *cp = c & 0x1f;
	} else if (c >= 0xe0 && c <= 0xef) {
		n = 3, min = 0x800, *cp = c & 0x0f;
	} else if (c >= 0xf0 && c <= 0xf4) {
		n = 4, min = 0x10000, *cp = c & 0x07;
	} else {
		return 0;
	}
	if (avail < n)
		return 0;
	for (size_t i = 1; i < n; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		*cp = (*cp << 6) | (s[i] & 0x3f);
	}
	if (*cp < min || *cp > 0x10ffff || (*cp >= 0xd800 && *cp <= 0xdfff))
		return 0;
	return n;
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

static void log_emit(const char *fmt, va_list ap, const char *suffix)
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
