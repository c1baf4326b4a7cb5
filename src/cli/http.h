/* One request of the API client (api.c) on its transport, of which there
 * are two:
 *   - http.c (keel): HTTPS with libcurl: the TLS policy (CA verification,
 *     --insecure, or the fingerprint check of the first request and the
 *     public-key pin of every later one), the body (JSON, an upload, a
 *     download to a sink), Ctrl-C, the progress meter;
 *   - http_local.c (keel-host-cli, the host's CLI): the local API only
 *     (common/localclient.h, no libcurl), with keel-shell's session.
 * Both print the messages when a request fails (http_answer.c). */
#ifndef KEEL_CLI_HTTP_H
#define KEEL_CLI_HTTP_H

#include <stdbool.h>
#include <sys/types.h>

#include "cli/api.h"

struct http {
	void *transport; /* the transport's own (http.c: its libcurl handle) */
	const struct api_conf *conf;
	char base[320];	   /* https://HOST:PORT */
	char pin[PIN_LEN]; /* set once the certificate matched the fingerprint */
	char token[160];   /* sent unless the request is anonymous */
};

#define HTTP_HEADERS_WANTED 3

struct request {
	const char *method, *path;
	const char *json; /* the body, serialized */
	FILE *src;	  /* an upload of size bytes */
	off_t size;
	const char *type; /* the upload's Content-Type (NULL: application/octet-stream) */
	api_sink sink;	  /* where a 2xx answer goes, instead of body */
	void *sink_ctx;
	bool anonymous, quiet, progress;
	bool uninterruptible; /* the logout still runs after Ctrl-C */
	/* response headers wanted: their values (or "") after the request */
	const char *header_names[HTTP_HEADERS_WANTED];
	char header_values[HTTP_HEADERS_WANTED][128];
	/* results */
	long status;
	char *body; /* NUL-terminated */
	size_t len;
};

/* Once per process, before any other call: 0, or -1 after a message. */
int http_global_init(void);
void http_global_cleanup(void);
/* The transport of h (its conf set): 0, or -1 after a message. */
int http_open(struct http *h);
void http_close(struct http *h);
/* Returns 0 for a 2xx answer, else EXIT_FAIL after printing why (unless
 * quiet): "MESSAGE (HTTP STATUS)" from the API's error body, or the
 * connection or TLS failure. r->body is to be freed in either case. */
int http_perform(struct http *h, struct request *r);

/* http_answer.c, for both transports: */
/* "HOST:PORT" (or the local socket), for messages */
const char *http_host(const struct http *h);
/* Whether h speaks to the local API (conf's local_socket and session_token) */
bool http_is_local(const struct http *h);
/* The message of a non-2xx answer: "MESSAGE (HTTP STATUS)" */
void http_report_refusal(const struct request *r);

#endif
