#include "hostd/http.h"

#include "common/log.h"
#include "common/util.h"
#include "hostd/audit.h"
#include "hostd/error.h"
#include "hostd/source.h"

#include <arpa/inet.h>
#include <errno.h>
#include <microhttpd.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

/* TLS 1.2 and 1.3, forward-secret key exchange and AEAD ciphers only */
#define TLS_PRIORITIES                                                                             \
	"SECURE256:+SECURE128:-VERS-ALL:+VERS-TLS1.3:+VERS-TLS1.2:-CIPHER-ALL:+AES-256-GCM:"       \
	"+CHACHA20-POLY1305:+AES-128-GCM:-MAC-ALL:+AEAD:-KX-ALL:+ECDHE-ECDSA:+ECDHE-RSA:"          \
	"%SERVER_PRECEDENCE"

/* Connections: event-driven (poll) on a pool of worker threads, so an idle
 * connection costs a socket and some 45 KiB, not a thread. Not epoll: in
 * MHD 0.9.75's epoll mode, a worker tries every TLS handshake it holds
 * again on each pass of its loop, so 500 clients that sent half a
 * ClientHello kept hostd busy on more than a core (bench/conn.py); poll
 * wakes a worker only for sockets with something to read. A connection
 * whose first request has not arrived whole (TLS handshake and headers)
 * CONN_FIRST_DEADLINE seconds after it was accepted is closed, however
 * much it trickles; from then on it may be idle CONN_TIMEOUT seconds
 * (while a body streams or a reply is read). */
#define CONN_POOL_THREADS   8
#define CONN_LIMIT	    4000U
#define CONN_PER_SOURCE	    64U /* per source (source.h): IPv4 address, IPv6 /64 */
#define CONN_FIRST_DEADLINE 10	/* seconds from accept to the first request */
#define CONN_SWEEP_MS	    250 /* how often the deadlines are checked */
#define CONN_TIMEOUT	    120U
#define CONN_FDS_SPARE	    256 /* descriptors kept for all but connections */

/* Connections per source (source.h), in an open addressing table with
 * linear probing; a source leaves it when its last connection closes. */
#define SOURCE_SLOTS 8192 /* a power of two, over twice CONN_LIMIT */
struct source {
	unsigned char key[SOURCE_KEY_SIZE];
	unsigned count; /* 0: a free slot */
};
static struct source sources[SOURCE_SLOTS];

/* Every connection, from MHD_CONNECTION_NOTIFY_STARTED to _CLOSED (its
 * socket context): its socket, its source, and its deadline for the first
 * request. MHD closes the socket only after the _CLOSED notification, so
 * under conns_lock a socket in this table is still its connection's: the
 * sweeper may shut it down (and MHD, seeing the end, closes it). */
struct conn {
	int fd;		     /* -1: a free slot */
	int counted;	     /* counted for its source (key) */
	int64_t deadline_ms; /* now_ms(); 0 once the first request came */
	unsigned char key[SOURCE_KEY_SIZE];
};
static struct conn conns[CONN_LIMIT];
static size_t conns_next; /* where the search for a free slot starts */
static pthread_mutex_t conns_lock = PTHREAD_MUTEX_INITIALIZER; /* and sources */
static pthread_cond_t sweeper_wake;
static pthread_t sweeper;
static int sweeper_running, sweeper_stop; /* _stop with conns_lock */

static struct MHD_Daemon *daemon_;
static struct MHD_Daemon *local_daemon; /* the local API (http_start_local) */
static const struct route *routes;
static const struct http_checks *checks;

static const char *status_code(unsigned status)
{
	switch (status) {
	case 400:
		return "bad_request";
	case 401:
		return "unauthorized";
	case 403:
		return "forbidden";
	case 404:
		return "not_found";
	case 405:
		return "method_not_allowed";
	case 409:
		return "conflict";
	case 413:
		return "too_large";
	case 429:
		return "too_many_attempts";
	case 503:
		return "audit_unavailable";
	case 507:
		return "no_space";
	default:
		return "internal";
	}
}

static void set_reply(struct req *r, unsigned status, struct MHD_Response *resp, const char *ctype)
{
	if (!resp)
		return; /* out of memory: MHD closes the connection */
	if (r->resp)	/* a handler bug: the first reply stands */
		MHD_destroy_response(r->resp);
	MHD_add_response_header(resp, "Content-Type", ctype);
	MHD_add_response_header(resp, "Cache-Control", "no-store");
	MHD_add_response_header(resp, "X-Content-Type-Options", "nosniff");
	r->status = status;
	r->resp = resp;
}

void reply_json(struct req *r, unsigned status, json_t *body)
{
	char *text = json_dumps(body, JSON_COMPACT | JSON_PRESERVE_ORDER);
	json_decref(body);
	if (!text)
		return;
	size_t n = strlen(text);
	text[n] = '\n'; /* replaces the NUL: the length is what is sent */
	set_reply(r, status, MHD_create_response_from_buffer(n + 1, text, MHD_RESPMEM_MUST_FREE),
		  "application/json");
}

void reply_error(struct req *r, unsigned status, const char *fmt, ...)
{
	char msg[512];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	json_t *text = json_string(msg);
	if (!text) { /* not UTF-8 (a name from the URL, say): those bytes as '?' */
		for (char *p = msg; *p; p++)
			if ((unsigned char)*p >= 0x80)
				*p = '?';
		text = json_string(msg);
	}
	reply_json(
	    r, status,
	    json_pack("{s:{s:s,s:o}}", "error", "code", status_code(status), "message", text));
}

void reply_errno(struct req *r, int neg_errno, const char *msg)
{
	reply_error(r, error_http_status(neg_errno), "%s", msg);
}

void reply_header(struct req *r, const char *name, const char *value)
{
	if (r->resp)
		MHD_add_response_header(r->resp, name, value);
}

void reply_empty(struct req *r, unsigned status)
{
	set_reply(r, status, MHD_create_response_from_buffer(0, "", MHD_RESPMEM_PERSISTENT),
		  "application/json");
}

void reply_text(struct req *r, unsigned status, char *buf, size_t len)
{
	set_reply(r, status, MHD_create_response_from_buffer(len, buf, MHD_RESPMEM_MUST_FREE),
		  "text/plain; charset=utf-8");
}

void reply_file(struct req *r, int fd, uint64_t size)
{
	struct MHD_Response *resp = MHD_create_response_from_fd64(size, fd);
	if (!resp) {
		close(fd);
		reply_error(r, 500, "cannot stream the file");
		return;
	}
	set_reply(r, 200, resp, "application/octet-stream");
}

struct stream {
	long (*read)(void *ctx, char *buf, size_t max);
	void (*done)(void *ctx);
	void *ctx;
};

static ssize_t stream_read(void *cls, uint64_t pos, char *buf, size_t max)
{
	(void)pos;
	struct stream *s = cls;
	long n = s->read(s->ctx, buf, max);
	return n > 0	? (ssize_t)n
	       : n == 0 ? MHD_CONTENT_READER_END_OF_STREAM
			: MHD_CONTENT_READER_END_WITH_ERROR;
}

static void stream_free(void *cls)
{
	struct stream *s = cls;
	s->done(s->ctx);
	free(s);
}

void reply_stream(struct req *r, const char *ctype, long (*read)(void *ctx, char *buf, size_t max),
		  void (*done)(void *ctx), void *ctx)
{
	struct stream *s = malloc(sizeof(*s));
	struct MHD_Response *resp =
	    s ? MHD_create_response_from_callback(MHD_SIZE_UNKNOWN, 64 * 1024, stream_read, s,
						  stream_free)
	      : NULL;
	if (!resp) {
		free(s);
		done(ctx);
		reply_error(r, 500, "cannot stream the reply");
		return;
	}
	*s = (struct stream){read, done, ctx};
	set_reply(r, 200, resp, ctype);
}

json_t *req_json(struct req *r)
{
	if (r->body_len == 0)
		return json_object();
	json_error_t e;
	json_t *j = json_loadb(r->body, r->body_len, JSON_REJECT_DUPLICATES, &e);
	if (!j) {
		reply_error(r, 400, "malformed JSON body: %s (line %d, column %d)", e.text, e.line,
			    e.column);
		return NULL;
	}
	if (!json_is_object(j)) {
		json_decref(j);
		reply_error(r, 400, "the JSON body must be an object");
		return NULL;
	}
	return j;
}

int req_only_fields(struct req *r, json_t *obj, const char *const allowed[])
{
	const char *key;
	json_t *v;
	json_object_foreach(obj, key, v)
	{
		int ok = 0;
		for (int i = 0; allowed[i] && !ok; i++)
			ok = strcmp(key, allowed[i]) == 0;
		if (!ok) {
			reply_error(r, 400, "%s: unknown field", key);
			return -1;
		}
	}
	return 0;
}

const char *req_query(struct req *r, const char *name)
{
	return MHD_lookup_connection_value(r->conn, MHD_GET_ARGUMENT_KIND, name);
}

const char *req_header(struct req *r, const char *name)
{
	return MHD_lookup_connection_value(r->conn, MHD_HEADER_KIND, name);
}

/* Matches `url` against one pattern, capturing into r->param. */
static int match(struct req *r, const char *pattern, const char *url)
{
	int np = 0;
	const char *p = pattern, *u = url;
	for (;;) {
		if (*p == '\0')
			return *u == '\0' || (u[0] == '/' && u[1] == '\0');
		if (strncmp(p, "{*}", 3) == 0) {
			r->param[np] = strdup(*u == '/' ? u + 1 : u);
			size_t n = strlen(r->param[np]);
			if (n && r->param[np][n - 1] == '/')
				r->param[np][n - 1] = '\0';
			return 1;
		}
		if (strncmp(p, "{}", 2) == 0) {
			size_t n = strcspn(u, "/");
			if (n == 0 || np == HTTP_MAX_PARAMS)
				return 0;
			r->param[np++] = strndup(u, n);
			p += 2;
			u += n;
			continue;
		}
		/* "/x/{*}" also matches "/x" */
		if (*u == '\0' && strcmp(p, "/{*}") == 0) {
			r->param[np] = strdup("");
			return 1;
		}
		if (*p != *u)
			return 0;
		p++;
		u++;
	}
}

static void free_params(struct req *r)
{
	for (int i = 0; i < HTTP_MAX_PARAMS; i++) {
		free(r->param[i]);
		r->param[i] = NULL;
	}
}

/* The first capture of r->param that fails its grammar, or NULL. */
static const struct capture *bad_capture(const struct req *r, const struct route *rt)
{
	for (int i = 0; i < HTTP_MAX_PARAMS && r->param[i]; i++)
		if (!rt->captures[i]->valid(r->param[i]))
			return rt->captures[i];
	return NULL;
}

/* --- the audit trail ------------------------------------------------------ */

/* The action ("POST /api/v1/vms/web1/power/on") and target ("vm/web1") of
 * the request's audit record; each AUDIT_FIELD_MAX + 1 bytes (what a
 * record keeps of a string). */
static void audit_fields(const struct req *r, char *action, char *target)
{
	const char *ent = r->route && r->route->captures[0] ? r->route->captures[0]->entity : NULL;
	int ds = ent && strcmp(ent, "datastore") == 0;
	if (ent && r->param[0])
		snprintf(target, AUDIT_FIELD_MAX + 1, "%s%s%s%s%s", ds ? "" : ent, ds ? "" : "/",
			 r->param[0], r->param[1] ? "/" : "", r->param[1] ? r->param[1] : "");
	else
		str_copy(target, AUDIT_FIELD_MAX + 1, "host");
	snprintf(action, AUDIT_FIELD_MAX + 1, "%s %s", r->method, r->url);
}

int req_audit_attempt(struct req *r)
{
	char target[AUDIT_FIELD_MAX + 1], action[AUDIT_FIELD_MAX + 1];
	audit_fields(r, action, target);
	int login = r->route->flags & ROUTE_LOGIN;
	if ((login ? audit_write_denied(r->user, r->source, "login", target, "started", 0)
		   : audit_write(r->user, r->source, action, target, "started", 0)) == 0)
		return 0;
	log_errno("audit: cannot record %s by %s: refused", login ? "a login" : action, r->user);
	reply_error(r, 503, "the audit trail cannot be written: nothing was changed");
	return -1;
}

/* Whether the handler may run: a GET changes nothing; a login puts itself
 * on record once it knows the user (api_session.c); any other request
 * only once its attempt is on record (else it is answered 503). */
static int on_record(struct req *r)
{
	return (strcmp(r->method, "GET") == 0 && !(r->route->flags & ROUTE_AUDITED)) ||
	       (r->route->flags & ROUTE_LOGIN) || req_audit_attempt(r) == 0;
}

/* Finds the route of `url` and checks its captures: a route whose capture
 * fails its grammar does not match. */
static void route_request(struct req *r, const char *url)
{
	int path_known = 0;
	const struct capture *refused = NULL;
	for (const struct route *rt = routes; rt->method; rt++) {
		int m = match(r, rt->pattern, url);
		const struct capture *bad = m ? bad_capture(r, rt) : NULL;
		if (m && !bad && strcmp(rt->method, r->method) == 0) {
			r->route = rt;
			return;
		}
		free_params(r);
		path_known |= m && !bad;
		if (bad && !refused)
			refused = bad;
	}
	if (path_known)
		reply_error(r, 405, "%s is not allowed on %s", r->method, url);
	else if (refused)
		reply_error(r, 404, "%s: no such endpoint (not a valid %s name)", url,
			    refused->entity);
	else
		reply_error(r, 404, "%s: no such endpoint", url);
}

/* An IPv4 or IPv6 address as text; IPv4-mapped IPv6 as plain IPv4. */
static void addr_text(const struct sockaddr *sa, char *out, size_t n)
{
	const struct sockaddr_in6 *s6 = (const struct sockaddr_in6 *)sa;
	if (sa && sa->sa_family == AF_INET)
		inet_ntop(AF_INET, &((const struct sockaddr_in *)sa)->sin_addr, out, (socklen_t)n);
	else if (sa && sa->sa_family == AF_INET6 && IN6_IS_ADDR_V4MAPPED(&s6->sin6_addr))
		inet_ntop(AF_INET, &s6->sin6_addr.s6_addr[12], out, (socklen_t)n);
	else if (sa && sa->sa_family == AF_INET6)
		inet_ntop(AF_INET6, &s6->sin6_addr, out, (socklen_t)n);
	else
		str_copy(out, n, "unknown");
}

static void client_address(struct req *r)
{
	if (r->local) {
		str_copy(r->source, sizeof(r->source), "local");
		return;
	}
	const union MHD_ConnectionInfo *ci =
	    MHD_get_connection_info(r->conn, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
	addr_text(ci ? ci->client_addr : NULL, r->source, sizeof(r->source));
}

void req_local_addr(struct req *r, char *out, size_t n)
{
	const union MHD_ConnectionInfo *ci =
	    MHD_get_connection_info(r->conn, MHD_CONNECTION_INFO_CONNECTION_FD);
	struct sockaddr_storage ss;
	socklen_t len = sizeof(ss);
	if (ci && getsockname(ci->connect_fd, (struct sockaddr *)&ss, &len) == 0)
		addr_text((struct sockaddr *)&ss, out, n);
	else
		str_copy(out, n, "unknown");
}

/* The slot of `key`, or the free slot where it would go; with
 * conns_lock held. The table never fills: it has twice as many slots as
 * there can be connections. */
static size_t source_slot(const unsigned char key[SOURCE_KEY_SIZE])
{
	uint32_t h = 2166136261u; /* FNV-1a */
	for (int i = 0; i < SOURCE_KEY_SIZE; i++)
		h = (h ^ key[i]) * 16777619u;
	size_t i = h & (SOURCE_SLOTS - 1);
	while (sources[i].count && memcmp(sources[i].key, key, SOURCE_KEY_SIZE) != 0)
		i = (i + 1) & (SOURCE_SLOTS - 1);
	return i;
}

/* Empties slot i, moving back the entries after it whose probe passed it. */
static void source_remove(size_t i)
{
	sources[i].count = 0;
	for (size_t j = (i + 1) & (SOURCE_SLOTS - 1); sources[j].count;
	     j = (j + 1) & (SOURCE_SLOTS - 1)) {
		struct source s = sources[j];
		sources[j].count = 0;
		sources[source_slot(s.key)] = s;
	}
}

/* CLOCK_MONOTONIC in milliseconds */
static int64_t now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Refuses a source at its limit early, before MHD sets the connection up
 * (conn_start counts exactly). */
static enum MHD_Result on_accept(void *cls, const struct sockaddr *sa, socklen_t len)
{
	(void)cls;
	unsigned char key[SOURCE_KEY_SIZE];
	if (source_key(sa, len, key) < 0)
		return MHD_YES;
	pthread_mutex_lock(&conns_lock);
	unsigned n = sources[source_slot(key)].count;
	pthread_mutex_unlock(&conns_lock);
	return n < CONN_PER_SOURCE ? MHD_YES : MHD_NO;
}

/* A free slot of conns (there are as many as connections may be); NULL if
 * none. With conns_lock held. */
static struct conn *conn_slot(void)
{
	for (size_t n = 0; n < CONN_LIMIT; n++) {
		struct conn *k = &conns[conns_next];
		conns_next = (conns_next + 1) % CONN_LIMIT;
		if (k->fd < 0)
			return k;
	}
	return NULL;
}

/* A new connection's slot, counted for its source. NULL, with its socket
 * shut down so that MHD closes it, when its source is at its limit (the
 * pool's workers accept concurrently: on_accept lets a few too many
 * through). With conns_lock held. */
static struct conn *conn_start(struct MHD_Connection *c)
{
	const union MHD_ConnectionInfo *fd =
	    MHD_get_connection_info(c, MHD_CONNECTION_INFO_CONNECTION_FD);
	const union MHD_ConnectionInfo *ca =
	    MHD_get_connection_info(c, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
	struct conn *k = fd ? conn_slot() : NULL;
	if (!k)
		return NULL;
	k->counted = ca && ca->client_addr &&
		     source_key(ca->client_addr, sizeof(struct sockaddr_in6), k->key) == 0;
	if (k->counted) {
		struct source *src = &sources[source_slot(k->key)];
		if (src->count >= CONN_PER_SOURCE) {
			shutdown(fd->connect_fd, SHUT_RDWR);
			return NULL;
		}
		memcpy(src->key, k->key, SOURCE_KEY_SIZE);
		src->count++;
	}
	k->fd = fd->connect_fd;
	k->deadline_ms = now_ms() + CONN_FIRST_DEADLINE * 1000;
	return k;
}

/* With conns_lock held. */
static void conn_end(struct conn *k)
{
	if (k->counted) {
		size_t i = source_slot(k->key);
		if (sources[i].count && --sources[i].count == 0)
			source_remove(i);
	}
	k->fd = -1;
}

static void on_connection(void *cls, struct MHD_Connection *c, void **socket_ctx,
			  enum MHD_ConnectionNotificationCode what)
{
	(void)cls;
	pthread_mutex_lock(&conns_lock);
	if (what == MHD_CONNECTION_NOTIFY_STARTED) {
		*socket_ctx = conn_start(c);
	} else if (what == MHD_CONNECTION_NOTIFY_CLOSED && *socket_ctx) {
		conn_end(*socket_ctx);
		*socket_ctx = NULL;
	}
	pthread_mutex_unlock(&conns_lock);
}

/* The first request of connection `c` has arrived whole: no deadline. */
static void conn_requested(struct MHD_Connection *c)
{
	pthread_mutex_lock(&conns_lock);
	const union MHD_ConnectionInfo *ci =
	    MHD_get_connection_info(c, MHD_CONNECTION_INFO_SOCKET_CONTEXT);
	if (ci && ci->socket_context)
		((struct conn *)ci->socket_context)->deadline_ms = 0;
	pthread_mutex_unlock(&conns_lock);
}

/* Every CONN_SWEEP_MS, shuts down the sockets of the connections past
 * their deadline for a first request; MHD, seeing the end, closes them. */
static void *sweep(void *arg)
{
	(void)arg;
	pthread_mutex_lock(&conns_lock);
	while (!sweeper_stop) {
		int64_t now = now_ms();
		for (size_t i = 0; i < CONN_LIMIT; i++)
			if (conns[i].fd >= 0 && conns[i].deadline_ms &&
			    now >= conns[i].deadline_ms) {
				shutdown(conns[i].fd, SHUT_RDWR);
				conns[i].deadline_ms = 0;
			}
		now += CONN_SWEEP_MS;
		struct timespec wake = {.tv_sec = now / 1000, .tv_nsec = now % 1000 * 1000000};
		pthread_cond_timedwait(&sweeper_wake, &conns_lock, &wake);
	}
	pthread_mutex_unlock(&conns_lock);
	return NULL;
}

/* The first call for a request: route, authenticate, open an upload. */
static void begin(struct req *r, const char *url)
{
	client_address(r);
	if (r->bad_escape) {
		reply_error(r, 400, "the URL holds %%00 or, in its path, an encoded '/' (%%2F)");
		return;
	}
	route_request(r, url);
	if (r->resp || !r->route) /* (no route and no reply: out of memory) */
		return;
	int open = (r->route->flags & ROUTE_PUBLIC) ||
		   (r->local && (r->route->flags & ROUTE_CONSOLE) &&
		    !req_header(r, MHD_HTTP_HEADER_AUTHORIZATION));
	if (!open &&
	    checks->authenticate(req_header(r, MHD_HTTP_HEADER_AUTHORIZATION), r->user,
				 sizeof(r->user), r->token_hash, r->local ? r->source : NULL,
				 sizeof(r->source)) < 0) {
		r->user[0] = '\0'; /* nobody known: counted, not recorded (audit.h) */
		reply_error(r, 401, "a valid session token is needed (POST /api/v1/session)");
		return;
	}
	const char *priv = r->route->privilege;
	const struct capture *what = r->route->captures[0];
	const char *vm = what && strcmp(what->entity, "vm") == 0 ? r->param[0] : NULL;
	if (priv && !open && !checks->allowed(r->user, priv, vm)) {
		reply_error(r, 403, "%s lacks the privilege %s on %s%s", r->user, priv,
			    vm ? "vm/" : "the host", vm ? vm : "");
		return;
	}
	if ((r->route->flags & ROUTE_UPLOAD) && on_record(r)) {
		r->route->handler(r); /* opens its sink, or replies */
		r->uploading = !r->resp && r->upload && r->upload_write && r->upload_abort;
		if (!r->resp && !r->uploading)
			reply_error(r, 500, "no upload sink");
	}
}

static void take_data(struct req *r, const char *data, size_t size)
{
	if (r->resp)
		return; /* already answered: the rest is discarded */
	if (r->uploading) {
		if (r->upload_error == 0)
			r->upload_error = r->upload_write(r->upload, data, size, r->upload_err,
							  sizeof(r->upload_err));
		return;
	}
	if (r->body_too_large || r->body_len + size > HTTP_BODY_MAX) {
		r->body_too_large = 1;
		return;
	}
	char *b = realloc(r->body, r->body_len + size + 1);
	if (!b) {
		r->body_too_large = 1;
		return;
	}
	memcpy(b + r->body_len, data, size);
	r->body = b;
	r->body_len += size;
}

static void finish(struct req *r)
{
	if (r->resp || !r->route)
		return;
	if (r->uploading) {
		r->upload_done = 1;
		r->route->handler(r); /* commits or aborts its sink */
		r->uploading = 0;
	} else if (r->body_too_large) {
		reply_error(r, 413, "the request body is over %d bytes", HTTP_BODY_MAX);
	} else if (on_record(r)) {
		r->route->handler(r);
	}
	if (!r->resp)
		reply_error(r, 500, "no reply");
}

/* The outcome of every state-changing request, every login and every
 * refusal of authentication or authorization: in the trail when a user is
 * known (a failed login in audit-denied.log), counted per source when not
 * (audit.h). */
static void audit_request(struct req *r)
{
	int login = r->route && (r->route->flags & ROUTE_LOGIN);
	int audited = r->route && (r->route->flags & ROUTE_AUDITED);
	if (strcmp(r->method, "GET") == 0 && !login && !audited && r->status != 401 &&
	    r->status != 403)
		return;
	char target[AUDIT_FIELD_MAX + 1], action[AUDIT_FIELD_MAX + 1];
	audit_fields(r, action, target);
	const char *result = r->audit_result   ? r->audit_result
			     : r->status < 400 ? "ok"
			     : r->status == 401 || r->status == 403 || r->status == 429 ? "denied"
											: "failed";
	int rc;
	if (!r->user[0])
		rc = audit_anonymous(r->source, action, target, result, (int)r->status);
	else if (login && r->status >= 400)
		rc =
		    audit_write_denied(r->user, r->source, "login", target, result, (int)r->status);
	else
		rc = audit_write(r->user, r->source, login ? "login" : action, target, result,
				 (int)r->status);
	if (rc < 0)
		log_errno("audit: cannot write an entry (%s %s by %s)", action, result, r->user);
}

/* The context MHD hands on_request for a request whose raw URL holds an
 * escape no name or path may hold: %00, which MHD would decode and cut the
 * URL (or a query argument) short at, so that "vms/42%00x" would read
 * "vms/42"; and an encoded '/' in the path, which MHD would decode into a
 * separator, so that "vms/42%2F" would read "vms/42/". */
static char bad_escape;

/* MHD's URI log callback: sees the URL before it is decoded. */
static void *on_uri(void *cls, const char *uri, struct MHD_Connection *c)
{
	(void)cls;
	(void)c;
	size_t path_len = strcspn(uri, "?");
	if (strstr(uri, "%00"))
		return &bad_escape;
	for (const char *p = uri; (p = strchr(p, '%')) && (size_t)(p - uri) < path_len; p++)
		if (p[1] == '2' && (p[2] == 'F' || p[2] == 'f'))
			return &bad_escape;
	return NULL;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *c, const char *url,
				  const char *method, const char *version, const char *data,
				  size_t *size, void **ctx)
{
	(void)version;
	struct req *r = *ctx;
	if (!r || *ctx == &bad_escape) {
		r = calloc(1, sizeof(*r));
		if (!r)
			return MHD_NO;
		r->bad_escape = *ctx == &bad_escape;
		r->conn = c;
		r->method = method;
		r->local = cls == &local_daemon;
		conn_requested(c); /* it has arrived whole: no more deadline */
		r->url = strdup(url);
		*ctx = r;
		if (!r->url)
			return MHD_NO;
		begin(r, url);
	} else if (*size) {
		take_data(r, data, *size);
		*size = 0;
		return MHD_YES;
	} else {
		finish(r);
	}
	if (r->resp && !r->status_sent) {
		r->status_sent = 1;
		audit_request(r);
		return MHD_queue_response(c, r->status, r->resp);
	}
	return MHD_YES;
}

static void on_completed(void *cls, struct MHD_Connection *c, void **ctx,
			 enum MHD_RequestTerminationCode why)
{
	(void)cls;
	(void)c;
	(void)why;
	struct req *r = *ctx;
	if (!r || *ctx == &bad_escape)
		return;
	if (r->uploading)
		r->upload_abort(r->upload); /* the client went away mid-upload */
	if (r->resp)
		MHD_destroy_response(r->resp);
	free_params(r);
	free(r->url);
	free(r->body);
	free(r);
	*ctx = NULL;
}

static void mhd_log(void *cls, const char *fmt, va_list ap)
{
	(void)cls;
	char msg[512];
	vsnprintf(msg, sizeof(msg), fmt, ap);
	msg[strcspn(msg, "\n")] = '\0';
	log_msg("http: %s", msg);
}

int http_start(unsigned port, const char *key_pem, const char *cert_pem, const struct route *table,
	       const struct http_checks *request_checks, char *err, size_t errlen)
{
	for (const struct route *rt = table; rt->method; rt++) {
		int n = 0;
		for (const char *p = rt->pattern; (p = strchr(p, '{')); p++, n++)
			if (n == HTTP_MAX_PARAMS || !rt->captures[n] || !rt->captures[n]->valid)
				return error_set(err, errlen, -EINVAL,
						 "route %s %s: capture %d has no grammar",
						 rt->method, rt->pattern, n + 1);
	}
	routes = table;
	checks = request_checks;
	/* as many connections as there are descriptors for (main.c raises the
	 * limit) */
	unsigned limit = CONN_LIMIT;
	struct rlimit rl;
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY &&
	    rl.rlim_cur < (rlim_t)CONN_LIMIT + CONN_FDS_SPARE) {
		limit = rl.rlim_cur > 2 * CONN_FDS_SPARE ? (unsigned)rl.rlim_cur - CONN_FDS_SPARE
							 : CONN_FDS_SPARE;
		log_msg("http: at most %u connections (RLIMIT_NOFILE %llu)", limit,
			(unsigned long long)rl.rlim_cur);
	}
	for (size_t i = 0; i < CONN_LIMIT; i++)
		conns[i].fd = -1;
	pthread_condattr_t ca;
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&sweeper_wake, &ca);
	pthread_condattr_destroy(&ca);
	sweeper_stop = 0;
	if (pthread_create(&sweeper, NULL, sweep, NULL) != 0)
		return error_set(err, errlen, -EIO, "cannot start the connection sweeper");
	sweeper_running = 1;
	unsigned flags =
	    MHD_USE_TLS | MHD_USE_POLL_INTERNAL_THREAD | MHD_USE_DUAL_STACK | MHD_USE_ERROR_LOG;
	daemon_ = MHD_start_daemon(
	    flags, (uint16_t)port, on_accept, NULL, on_request, NULL, MHD_OPTION_EXTERNAL_LOGGER,
	    mhd_log, NULL, MHD_OPTION_HTTPS_MEM_KEY, key_pem, MHD_OPTION_HTTPS_MEM_CERT, cert_pem,
	    MHD_OPTION_HTTPS_PRIORITIES, TLS_PRIORITIES, MHD_OPTION_NOTIFY_COMPLETED, on_completed,
	    NULL, MHD_OPTION_NOTIFY_CONNECTION, on_connection, NULL, MHD_OPTION_URI_LOG_CALLBACK,
	    on_uri, NULL, MHD_OPTION_THREAD_POOL_SIZE, (unsigned)CONN_POOL_THREADS,
	    MHD_OPTION_CONNECTION_LIMIT, limit, MHD_OPTION_CONNECTION_TIMEOUT, CONN_TIMEOUT,
	    MHD_OPTION_END);
	if (!daemon_) {
		http_stop();
		return error_set(err, errlen, -EIO, "cannot serve HTTPS on port %u", port);
	}
	return 0;
}

int http_start_local(const char *path, char *err, size_t errlen)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	if (str_copy(sa.sun_path, sizeof(sa.sun_path), path) < 0)
		return error_set(err, errlen, -ENAMETOOLONG, "%s: path too long", path);
	unlink(path);
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	mode_t old = umask(077); /* root's alone from the start */
	int bad = fd < 0 || bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 ||
		  chmod(path, 0600) < 0 || listen(fd, 16) < 0;
	umask(old);
	if (bad) {
		if (fd >= 0)
			close(fd);
		return error_set(err, errlen, -EIO, "%s: cannot listen: %s", path, strerror(errno));
	}
	local_daemon = MHD_start_daemon(
	    MHD_USE_POLL_INTERNAL_THREAD | MHD_USE_ERROR_LOG, 0, NULL, NULL, on_request,
	    &local_daemon, MHD_OPTION_LISTEN_SOCKET, fd, MHD_OPTION_EXTERNAL_LOGGER, mhd_log, NULL,
	    MHD_OPTION_NOTIFY_COMPLETED, on_completed, NULL, MHD_OPTION_URI_LOG_CALLBACK, on_uri,
	    NULL, MHD_OPTION_THREAD_POOL_SIZE, 2U, MHD_OPTION_CONNECTION_LIMIT, 64U,
	    MHD_OPTION_CONNECTION_TIMEOUT, CONN_TIMEOUT, MHD_OPTION_END);
	if (!local_daemon) {
		close(fd);
		return error_set(err, errlen, -EIO, "%s: cannot serve the local API", path);
	}
	return 0;
}

void http_stop(void)
{
	if (local_daemon)
		MHD_stop_daemon(local_daemon);
	local_daemon = NULL;
	if (sweeper_running) {
		pthread_mutex_lock(&conns_lock);
		sweeper_stop = 1;
		pthread_cond_signal(&sweeper_wake);
		pthread_mutex_unlock(&conns_lock);
		pthread_join(sweeper, NULL);
		sweeper_running = 0;
	}
	if (daemon_)
		MHD_stop_daemon(daemon_);
	daemon_ = NULL;
}
