/* The client side of the local API (localapi.h), for the host's own
 * programs (keel-dcui, keel-shell, the host's CLI): HTTP/1.1 on the unix
 * socket, one request per connection ("Connection: close"), with nothing
 * but libc. A few hundred lines in place of libcurl, which would bring two
 * dozen libraries (Kerberos, LDAP, SSH, a second crypto stack) into the
 * image for a socket that never leaves the host.
 *
 * The answer comes from keel-hostd, but it is still read as untrusted:
 * its head is at most LOCAL_HEAD_MAX bytes, a kept body at most `max`
 * bytes, Content-Length and chunk sizes are checked before they are used,
 * and every wait is bounded by the request's time-out. */
#ifndef KEEL_COMMON_LOCALCLIENT_H
#define KEEL_COMMON_LOCALCLIENT_H

#include <stddef.h>
#include <sys/types.h>

#define LOCAL_HEAD_MAX	   (16 * 1024)
#define LOCAL_HEADERS_WANT 3

struct local_request {
	const char *method; /* "GET", "POST", ... */
	const char *path;   /* "/api/v1/host?x=1": already escaped */
	const char *token;  /* the session's (Authorization: Bearer), or NULL */
	/* the body: `body` (len bytes), or, when upload_fd >= 0, upload_size
	 * bytes read from it; content_type NULL: application/json */
	const char *content_type;
	const char *body;
	size_t len;
	int upload_fd;
	off_t upload_size;
	/* the answer's body: to sink (a 2xx answer only; a negative return
	 * stops the transfer), else kept in `answer` up to max bytes */
	int (*sink)(void *ctx, const char *data, size_t len);
	void *sink_ctx;
	size_t max;
	int timeout_ms; /* for each wait (0: 30 s) */
	/* answer headers wanted (NULL-terminated names, case-insensitive):
	 * their values, "" when absent */
	const char *want[LOCAL_HEADERS_WANT + 1];
	char got[LOCAL_HEADERS_WANT][128];
	/* results */
	int status;   /* the HTTP status */
	char *answer; /* malloc'd, NUL-terminated (NULL when sunk) */
	size_t answer_len;
	char content_type_got[128];
};

/* Sends r on the unix socket `socket_path` and reads the answer. 0 when an
 * answer came (any status), else -1 with a message in err (the socket
 * cannot be reached, a time-out, an answer that is not HTTP or too large,
 * the sink's refusal). r->answer must then be freed by the caller. */
int local_request(const char *socket_path, struct local_request *r, char *err, size_t errlen);

#endif
