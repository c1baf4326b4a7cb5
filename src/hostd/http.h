/* Layer: transport. Includes: nothing of hostd (http.c: audit.h, error.h
 * and source.h only); knows no domain module and no handler.
 *
 * keel-hostd's HTTPS server: libmicrohttpd with GnuTLS, event-driven (poll)
 * on a pool of 8 worker threads, and a table of routes (api.c). Up to 4000
 * connections, 64 per source (source.h: an IPv4 address, an IPv6 /64); a
 * connection whose first request has not arrived whole 10 s after it was
 * accepted is closed, however much it trickles; from then on it may be
 * idle 120 s. Handlers
 * run on the workers: while one blocks (a VM power action waits), the
 * other connections of its worker wait too. This module owns the request
 * life cycle: routing, authentication and authorization of every route
 * that asks for them (through the checks the caller gives http_start), JSON
 * bodies (at most HTTP_BODY_MAX bytes, parsed strictly), streamed uploads,
 * the audit record of every request, and the one error shape
 * {"error": {"code", "message"}}. A handler answers with exactly one
 * reply_*() call. The audit trail fails closed: a request that may change
 * state (any but a GET) reaches its handler only once an audit record of
 * the attempt (result "started") is written, and is answered 503 without
 * it; its outcome is recorded after the handler. */
#ifndef KEEL_HOSTD_HTTP_H
#define KEEL_HOSTD_HTTP_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define HTTP_BODY_MAX	(64 * 1024)
#define HTTP_MAX_PARAMS 3

struct MHD_Connection;
struct MHD_Response;

struct req {
	struct MHD_Connection *conn;
	const char *method;
	const struct route *route;
	char *url;		      /* the path, URL-decoded */
	char *param[HTTP_MAX_PARAMS]; /* the route's captures, URL-decoded, each
				       * valid by its grammar (struct capture) */
	char user[64];		      /* who is authenticated ("" for none; for a
				       * login, who tries, for the audit log) */
	const char *audit_result;     /* overrides ok/failed/denied when set */
	int bad_escape;		      /* the raw URL holds %00 or %2F (refused) */
	char token_hash[65];	      /* the session token's SHA-256, in hex */
	char source[64];	      /* the client's address; "local" on the
				       * local API */
	bool local;		      /* came in on the local API's socket */
	char *body;		      /* JSON body as received */
	size_t body_len;
	int body_too_large;
	/* streamed upload (ROUTE_UPLOAD): called with upload_done = 0, the
	 * handler opens its sink and sets the three fields below (or replies);
	 * the body goes to upload_write; called again with upload_done = 1, the
	 * handler commits or aborts the sink and frees it. If the client goes
	 * away in between, http.c calls upload_abort, which frees it too. */
	void *upload;
	int (*upload_write)(void *upload, const char *data, size_t len, char *err,
			    size_t errlen); /* 0 or a negative errno */
	void (*upload_abort)(void *upload);
	int uploading;
	int upload_done;
	int upload_error; /* negative errno of a failed write */
	char upload_err[256];
	/* the reply */
	unsigned status;
	struct MHD_Response *resp;
	int status_sent;
};

enum route_flags {
	ROUTE_PUBLIC = 1,   /* no session needed */
	ROUTE_UPLOAD = 2,   /* the body is a file, streamed to the handler's sink */
	ROUTE_LOGIN = 4,    /* a login: audited as "login", whatever its status; its
			     * handler calls req_audit_attempt itself */
	ROUTE_AUDITED = 8,  /* a GET put on record as a change is: its attempt
			     * before the handler (503 without it), its outcome
			     * after (a download of what the host holds) */
	ROUTE_CONSOLE = 16, /* no session needed on the local API (root's only):
			     * what the console UI shows before anyone logs in */
};

/* What a URL capture names, and the grammar of that name (the entity's own,
 * from src/common or the domain module that owns it). Before a request is
 * authenticated, authorized or handed to a handler, http.c checks every
 * capture, URL-decoded, against its grammar, in this one place: a route
 * whose capture fails it does not match, and the request is answered 404.
 * So a handler, the privilege check and the audit log only ever see a
 * name in its one spelling (no control characters, no "..", no "/"). */
struct capture {
	/* "vm", "user", "role", "datastore", "switch", "portgroup",
	 * "session", "log", "extension", or "path" (a datastore path, {*}) */
	const char *entity;
	bool (*valid)(const char *value);
};

struct route {
	const char *method;
	/* "/api/v1/vms/{}/console": {} captures one segment, a trailing {*}
	 * the rest of the path (possibly empty; one trailing '/' dropped) */
	const char *pattern;
	void (*handler)(struct req *r);
	int flags;
	/* the privilege the caller needs (authz.h); NULL: any logged-in user */
	const char *privilege;
	/* what each capture of the pattern is, in order ({} and {*} alike);
	 * http_start refuses a table with a capture left out. The first names
	 * what the route acts on: a "vm" has the privilege checked on that VM;
	 * none: the host. The audit log's target is made from them. */
	const struct capture *captures[HTTP_MAX_PARAMS];
	/* a fixed argument the handler reads (the power action of
	 * /vms/{}/power/ACTION), or NULL */
	const char *action;
	/* what docs/api.md adds after the privilege, or NULL */
	const char *doc_note;
};

/* What http.c asks of the rest of keel-hostd, for every request. */
struct http_checks {
	/* The session of an Authorization header ("Bearer TOKEN"; NULL when
	 * there is none): 0 with the user and the token's hash (65 bytes)
	 * filled in, and `source` (unless NULL) with the source of the
	 * session's login; or a negative errno. */
	int (*authenticate)(const char *authorization, char *user, size_t userlen, char *token_hash,
			    char *source, size_t sourcelen);
	/* 1 when `user` holds `privilege` on the VM `vm` (NULL: on the host). */
	int (*allowed)(const char *user, const char *privilege, const char *vm);
};

/* Starts serving `routes` (terminated by a NULL method) on `port`, with the
 * PEM key and certificate; TLS 1.2 and 1.3 only. Refuses (-EINVAL) a table
 * in which a capture has no grammar. A URL holding an encoded NUL (%00,
 * which would cut the decoded URL short) or, in its path, an encoded '/'
 * (%2F, which would become a separator) is answered 400 before routing. */
int http_start(unsigned port, const char *key_pem, const char *cert_pem, const struct route *routes,
	       const struct http_checks *checks, char *err, size_t errlen);
/* Serves the same routes, checks and audit in plain HTTP on the unix
 * socket `path`, made mode 0600 (root's alone): the local API of
 * common/localapi.h, for the host's own console programs. Its requests
 * have r->local set and source "local". After http_start. */
int http_start_local(const char *path, char *err, size_t errlen);
/* Stops both. */
void http_stop(void);

/* The request's JSON body as an object (an empty body is {}), or NULL
 * after replying 400/413. Owned by the caller. */
json_t *req_json(struct req *r);
/* Writes the audit record of the request's attempt (result "started"):
 * 0, or -1 after replying 503 (then nothing may change). http.c calls it
 * before the handler of every route but a GET or a ROUTE_LOGIN one, whose
 * handler calls it once r->user holds the name that tries. */
int req_audit_attempt(struct req *r);
/* A query argument, or NULL. */
const char *req_query(struct req *r, const char *name);
/* The address the request came to (this host's end), as text. */
void req_local_addr(struct req *r, char *out, size_t n);
/* A header, or NULL. */
const char *req_header(struct req *r, const char *name);

/* Replies: the JSON is stolen. */
void reply_json(struct req *r, unsigned status, json_t *body);
void reply_error(struct req *r, unsigned status, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* For a negative errno from a domain module, with its message: the one
 * mapping of errors to statuses (error_http_status, error.h). */
void reply_errno(struct req *r, int neg_errno, const char *msg);
/* Adds a header to the reply already made. */
void reply_header(struct req *r, const char *name, const char *value);
void reply_empty(struct req *r, unsigned status);
/* takes `buf` (malloc'ed) */
void reply_text(struct req *r, unsigned status, char *buf, size_t len);
/* streams `size` bytes of `fd` (taken) */
void reply_file(struct req *r, int fd, uint64_t size);
/* Streams what `read` makes, of a length not known in advance, as
 * `ctype`: read(ctx, buf, max) returns > 0 bytes, 0 at the end, -1 to
 * abort (the client sees the connection end early). `done(ctx)` is called
 * once, when the reply is over or was never sent (ctx is taken). */
void reply_stream(struct req *r, const char *ctype, long (*read)(void *ctx, char *buf, size_t max),
		  void (*done)(void *ctx), void *ctx);

/* Checks that `obj` has only the fields in `allowed` (NULL-terminated);
 * replies 400 naming the first other one and returns -1. */
int req_only_fields(struct req *r, json_t *obj, const char *const allowed[]);

#endif
