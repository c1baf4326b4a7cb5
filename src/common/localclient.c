#include "common/localclient.h"

#include "common/util.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdint.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#define CHUNK (64 * 1024)

struct conn {
	int fd, timeout_ms;
	char buf[LOCAL_HEAD_MAX];
	size_t start, end; /* unread bytes: buf[start..end) */
	int eof;
};

static int fail(char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static int fail(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
	return -1;
}

static int wait_for(struct conn *c, short events)
{
	struct pollfd p = {.fd = c->fd, .events = events};
	int n;
	do
		n = poll(&p, 1, c->timeout_ms);
	while (n < 0 && errno == EINTR);
	return n > 0 ? 0 : -1;
}

static int send_all(struct conn *c, const char *data, size_t len)
{
	while (len > 0) {
		if (wait_for(c, POLLOUT) < 0)
			return -1;
		ssize_t n = send(c->fd, data, len, MSG_NOSIGNAL);
		if (n < 0 && (errno == EINTR || errno == EAGAIN))
			continue;
		if (n <= 0)
			return -1;
		data += n;
		len -= (size_t)n;
	}
	return 0;
}

/* More bytes into buf (moved to its start first); 0, or -1 on a time-out
 * or an error. At the end of the stream, c->eof. */
static int fill(struct conn *c)
{
	if (c->start > 0) {
		memmove(c->buf, c->buf + c->start, c->end - c->start);
		c->end -= c->start;
		c->start = 0;
	}
	if (c->end == sizeof(c->buf) || c->eof)
		return 0;
	if (wait_for(c, POLLIN) < 0)
		return -1;
	ssize_t n;
	do
		n = recv(c->fd, c->buf + c->end, sizeof(c->buf) - c->end, 0);
	while (n < 0 && errno == EINTR);
	if (n < 0)
		return -1;
	if (n == 0)
		c->eof = 1;
	c->end += (size_t)n;
	return 0;
}

/* Where the body's bytes go: the sink, or the kept answer. */
struct body {
	struct local_request *r;
	int to_sink;
	size_t kept_cap;
};

static int take(struct body *b, const char *data, size_t len, char *err, size_t errlen)
{
	struct local_request *r = b->r;
	if (b->to_sink)
		return r->sink(r->sink_ctx, data, len) < 0 ? fail(err, errlen, "transfer stopped")
							   : 0;
	size_t max = r->max ? r->max : (8u << 20);
	if (len > max - r->answer_len)
		return fail(err, errlen, "the answer is larger than %zu bytes", max);
	if (r->answer_len + len + 1 > b->kept_cap) {
		size_t cap = b->kept_cap ? b->kept_cap : 4096;
		while (cap < r->answer_len + len + 1)
			cap *= 2;
		char *grown = realloc(r->answer, cap);
		if (!grown)
			return fail(err, errlen, "out of memory");
		r->answer = grown;
		b->kept_cap = cap;
	}
	memcpy(r->answer + r->answer_len, data, len);
	r->answer_len += len;
	r->answer[r->answer_len] = '\0';
	return 0;
}

/* `n` bytes of body (n == SIZE_MAX: until the end of the stream). */
static int body_bytes(struct conn *c, struct body *b, size_t n, char *err, size_t errlen)
{
	while (n > 0) {
		if (c->start == c->end) {
			if (c->eof)
				return n == SIZE_MAX ? 0
						     : fail(err, errlen, "the answer ended early");
			c->start = c->end = 0;
			if (fill(c) < 0)
				return fail(err, errlen, "the host agent stopped answering");
			continue;
		}
		size_t k = c->end - c->start;
		if (k > n)
			k = n;
		if (take(b, c->buf + c->start, k, err, errlen) < 0)
			return -1;
		c->start += k;
		if (n != SIZE_MAX)
			n -= k;
	}
	return 0;
}

/* A line of at most `max` bytes ending in CRLF, without it, into out. */
static int line(struct conn *c, char *out, size_t max, char *err, size_t errlen)
{
	for (;;) {
		char *nl = memchr(c->buf + c->start, '\n', c->end - c->start);
		if (nl) {
			size_t n = (size_t)(nl - (c->buf + c->start));
			if (n >= max)
				return fail(err, errlen, "an answer's line is too long");
			memcpy(out, c->buf + c->start, n);
			out[n] = '\0';
			if (n && out[n - 1] == '\r')
				out[n - 1] = '\0';
			c->start += n + 1;
			return 0;
		}
		if (c->end - c->start >= max || c->eof)
			return fail(err, errlen, "the answer is not HTTP");
		if (fill(c) < 0)
			return fail(err, errlen, "the host agent stopped answering");
	}
}

static int chunked(struct conn *c, struct body *b, char *err, size_t errlen)
{
	char text[64];
	for (;;) {
		if (line(c, text, sizeof(text), err, errlen) < 0)
			return -1;
		char *end;
		errno = 0;
		unsigned long long n = strtoull(text, &end, 16);
		if (end == text || (*end && *end != ';') || errno || n > (1ULL << 40))
			return fail(err, errlen, "a bad chunk size in the answer");
		if (n == 0)
			return 0; /* (trailers are not read: the connection closes) */
		if (body_bytes(c, b, (size_t)n, err, errlen) < 0 ||
		    line(c, text, sizeof(text), err, errlen) < 0)
			return -1;
		if (text[0])
			return fail(err, errlen,
				    "a chunk of the answer does not end where it says");
	}
}

static int request_head(struct local_request *r, char *head, size_t n, size_t body_len)
{
	char auth[256] = "";
	if (r->token && snprintf(auth, sizeof(auth), "Authorization: Bearer %s\r\n", r->token) >=
			    (int)sizeof(auth))
		return -1;
	int k = snprintf(head, n,
			 "%s %s HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n%s"
			 "Content-Type: %s\r\nContent-Length: %zu\r\n\r\n",
			 r->method, r->path, auth,
			 r->content_type ? r->content_type : "application/json", body_len);
	return k < 0 || (size_t)k >= n ? -1 : k;
}

static int send_body(struct conn *c, struct local_request *r, char *err, size_t errlen)
{
	if (r->upload_fd < 0)
		return r->len && send_all(c, r->body, r->len) < 0
			   ? fail(err, errlen, "the host agent stopped reading")
			   : 0;
	char *buf = malloc(CHUNK);
	if (!buf)
		return fail(err, errlen, "out of memory");
	off_t left = r->upload_size;
	int rc = 0;
	while (rc == 0 && left > 0) {
		ssize_t n = read(r->upload_fd, buf, left < CHUNK ? (size_t)left : CHUNK);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			rc = fail(err, errlen, "the file to send ended early");
		else if (send_all(c, buf, (size_t)n) < 0)
			rc = fail(err, errlen, "the host agent stopped reading");
		else
			left -= n;
	}
	free(buf);
	return rc;
}

/* The status line and the headers we care for. */
static int answer_head(struct conn *c, struct local_request *r, long long *length, int *is_chunked,
		       char *err, size_t errlen)
{
	char text[LOCAL_HEAD_MAX];
	if (line(c, text, sizeof(text), err, errlen) < 0)
		return -1;
	int status;
	if (sscanf(text, "HTTP/1.%*1[01] %3d", &status) != 1 || status < 100 || status > 599)
		return fail(err, errlen, "the answer is not HTTP");
	r->status = status;
	*length = -1;
	*is_chunked = 0;
	for (;;) {
		if (line(c, text, sizeof(text), err, errlen) < 0)
			return -1;
		if (!text[0])
			return 0;
		char *colon = strchr(text, ':');
		if (!colon)
			return fail(err, errlen, "a bad header in the answer");
		*colon = '\0';
		char *value = colon + 1 + strspn(colon + 1, " \t");
		if (strcasecmp(text, "Content-Length") == 0) {
			char *end;
			errno = 0;
			*length = strtoll(value, &end, 10);
			if (end == value || *end || errno || *length < 0)
				return fail(err, errlen, "a bad Content-Length in the answer");
		} else if (strcasecmp(text, "Transfer-Encoding") == 0) {
			*is_chunked = strcasecmp(value, "chunked") == 0;
		} else if (strcasecmp(text, "Content-Type") == 0) {
			str_copy(r->content_type_got, sizeof(r->content_type_got), value);
		}
		for (int i = 0; i < LOCAL_HEADERS_WANT && r->want[i]; i++)
			if (strcasecmp(text, r->want[i]) == 0)
				str_copy(r->got[i], sizeof(r->got[i]), value);
	}
}

int local_request(const char *socket_path, struct local_request *r, char *err, size_t errlen)
{
	r->status = 0;
	r->answer = NULL;
	r->answer_len = 0;
	r->content_type_got[0] = '\0';
	for (int i = 0; i < LOCAL_HEADERS_WANT; i++)
		r->got[i][0] = '\0';
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	if (str_copy(sa.sun_path, sizeof(sa.sun_path), socket_path) < 0)
		return fail(err, errlen, "%s: path too long", socket_path);
	struct conn *c = calloc(1, sizeof(*c));
	if (!c)
		return fail(err, errlen, "out of memory");
	c->timeout_ms = r->timeout_ms > 0 ? r->timeout_ms : 30000;
	c->fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	char head[1024];
	size_t body_len = r->upload_fd >= 0 ? (size_t)r->upload_size : r->len;
	int rc = 0, k = request_head(r, head, sizeof(head), body_len);
	if (k < 0)
		rc = fail(err, errlen, "the request is too long");
	else if (c->fd < 0 || connect(c->fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 ||
		 fcntl(c->fd, F_SETFL, O_NONBLOCK) < 0) /* every wait is poll's, bounded */
		rc = fail(err, errlen, "the host agent does not answer (%s: %s)", socket_path,
			  strerror(errno));
	else if (send_all(c, head, (size_t)k) < 0)
		rc = fail(err, errlen, "the host agent does not answer (%s)", strerror(errno));
	if (rc == 0)
		rc = send_body(c, r, err, errlen);
	long long length = -1;
	int is_chunked = 0;
	if (rc == 0)
		rc = answer_head(c, r, &length, &is_chunked, err, errlen);
	struct body b = {.r = r, .to_sink = r->sink && r->status / 100 == 2};
	if (rc == 0 && strcmp(r->method, "HEAD") && r->status != 204 && r->status != 304)
		rc = is_chunked	   ? chunked(c, &b, err, errlen)
		     : length >= 0 ? body_bytes(c, &b, (size_t)length, err, errlen)
				   : body_bytes(c, &b, SIZE_MAX, err, errlen);
	if (rc == 0 && !b.to_sink && !r->answer) {
		r->answer = calloc(1, 1);
		if (!r->answer)
			rc = fail(err, errlen, "out of memory");
	}
	if (c->fd >= 0)
		close(c->fd);
	free(c);
	if (rc < 0) {
		free(r->answer);
		r->answer = NULL;
		r->answer_len = 0;
	}
	return rc;
}
