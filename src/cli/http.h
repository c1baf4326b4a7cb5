/* One HTTPS request of the API client (api.c) on its libcurl handle: the
 * TLS policy (CA verification, --insecure, or the fingerprint check of the
 * first request and the public-key pin of every later one), the body (JSON,
 * an upload, a download to a sink), Ctrl-C, the progress meter, and the
 * messages when it fails. */
#ifndef KEEL_CLI_HTTP_H
#define KEEL_CLI_HTTP_H

#include <curl/curl.h>
#include <stdbool.h>

#include "cli/api.h"

struct http {
	CURL *curl;
	const struct api_conf *conf;
	char base[320];	   /* https://HOST:PORT */
	char pin[PIN_LEN]; /* set once the certificate matched the fingerprint */
	char token[160];   /* sent unless the request is anonymous */
	char errbuf[CURL_ERROR_SIZE];
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

/* Returns 0 for a 2xx answer, else EXIT_FAIL after printing why (unless
 * quiet): "MESSAGE (HTTP STATUS)" from the API's error body, or the
 * connection or TLS failure. r->body is to be freed in either case. */
int http_perform(struct http *h, struct request *r);
/* "HOST:PORT", for messages */
const char *http_host(const struct http *h);

#endif
