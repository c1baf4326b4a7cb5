#include "shell/lineread.h"

#include <errno.h>
#include <poll.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

void lineread_init(struct lineread *r, int fd, int wake)
{
	memset(r, 0, sizeof(*r));
	r->fd = fd;
	r->wake = wake;
}

/* takes a complete line out of the buffer, if one is there */
static int take(struct lineread *r, char *out, enum line_result *res)
{
	char *nl = memchr(r->buf, '\n', r->len);
	if (!nl)
		return 0;
	size_t n = (size_t)(nl - r->buf);
	size_t rest = r->len - n - 1;
	if (r->discarding) {
		*res = LINE_TOO_LONG;
		r->discarding = 0;
	} else {
		size_t m = n > 0 && r->buf[n - 1] == '\r' ? n - 1 : n;
		memcpy(out, r->buf, m);
		out[m] = '\0';
		*res = LINE_OK;
	}
	memmove(r->buf, nl + 1, rest);
	r->len = rest;
	return 1;
}

static long long now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

enum line_result lineread_next(struct lineread *r, char *out, unsigned timeout_s)
{
	enum line_result res;
	long long deadline = timeout_s ? now_ms() + (long long)timeout_s * 1000 : 0;
	for (;;) {
		if (take(r, out, &res))
			return res;
		if (r->len == LINE_MAX_BYTES) { /* full, and no newline */
			r->discarding = 1;
			r->len = 0;
		}
		int wait = -1;
		if (deadline) {
			long long left = deadline - now_ms();
			if (left <= 0)
				return LINE_TIMEOUT;
			wait = left > 0x7fffffff ? 0x7fffffff : (int)left;
		}
		struct pollfd p[2] = {{.fd = r->fd, .events = POLLIN},
				      {.fd = r->wake, .events = POLLIN}};
		int n = poll(p, 2, wait);
		if (n < 0)
			return errno == EINTR ? LINE_INTR : LINE_ERROR;
		if (n == 0)
			return LINE_TIMEOUT;
		if (p[1].revents & POLLIN) /* a signal, perhaps before the wait began */
			return LINE_INTR;
		ssize_t got = read(r->fd, r->buf + r->len, LINE_MAX_BYTES - r->len);
		if (got < 0 && (errno == EINTR || errno == EAGAIN))
			continue;
		if (got < 0)
			return LINE_ERROR;
		if (got == 0) {
			if (r->len == 0 || r->discarding) {
				int was = r->discarding;
				r->len = 0;
				r->discarding = 0;
				return was ? LINE_TOO_LONG : LINE_EOF;
			}
			memcpy(out, r->buf, r->len);
			out[r->len] = '\0';
			r->len = 0;
			return LINE_OK;
		}
		r->len += (size_t)got;
	}
}
