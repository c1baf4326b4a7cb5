/* The client of the Keel API (docs/api.md): one transport (http.h: HTTPS
 * with libcurl, or in the host's CLI the local API), one session.
 *
 * The first call that needs the host checks it: GET /api/v1 without any
 * secret, pinning the certificate when a fingerprint is configured (its
 * SHA-256 is compared with the fingerprint, then its public key is pinned
 * for every later request, so that a reconnection to another server can
 * never receive the password). Then the password is obtained (ask_password
 * if none was given) and the session opened (POST /api/v1/session); every
 * later request carries the token. api_close ends the session.
 *
 * Calls return 0, or an exit code after printing "keel: why" on stderr:
 * EXIT_FAIL when the API refused ("keel: MESSAGE (HTTP STATUS)") or the
 * connection failed, EXIT_SETUP when nothing could be tried (no host, no
 * password). */
#ifndef KEEL_CLI_API_H
#define KEEL_CLI_API_H

#include <jansson.h>
#include <stdbool.h>
#include <stdio.h>
#include <sys/types.h>

#include "cli/pin.h"

struct api_conf {
	const char *host; /* "name", "192.0.2.1" or "[2001:db8::1]"; NULL: none given */
	unsigned port;
	const char *user;
	const char *password; /* NULL: ask_password is called */
	bool pinned;	      /* fingerprint is set */
	unsigned char fingerprint[FP_LEN];
	bool insecure; /* no verification at all */
	char *(*ask_password)(const char *user, const char *host);
	/* On the host itself (keel-shell's `keel` command): the local API's
	 * unix socket (common/localapi.h) and a session opened there already.
	 * Both set: plain HTTP to that socket, no TLS, no login and no logout
	 * (the session is its owner's); host, password and fingerprint unused. */
	const char *local_socket;
	const char *session_token;
};

/* conf must outlive the handle. Returns NULL (with a message) on failure
 * (a session_token that is not a token's characters, too). */
struct api *api_new(const struct api_conf *conf);
/* Ends the session if one was opened (DELETE /api/v1/session) and frees.
 * Failures are reported unless quiet; returns 0 or EXIT_FAIL. */
int api_close(struct api *a, bool quiet);

/* A JSON call: body may be NULL (no body); *resp gets the answer (NULL for
 * an empty one, e.g. 204); resp may be NULL to ignore it. */
int api_json(struct api *a, const char *method, const char *path, json_t *body, json_t **resp);
/* A GET whose answer is text (a console log): *text is malloc'd and
 * NUL-terminated, *len its length. */
int api_text(struct api *a, const char *path, char **text, size_t *len);
/* api_text, and the values of up to 3 response headers (names NULL-
 * terminated; values[i] of 128 bytes, "" when absent). */
int api_text_headers(struct api *a, const char *path, char **text, size_t *len,
		     const char *const *names, char (*values)[128]);
/* PUT of `size` bytes read from src, streamed, as `type` (NULL:
 * application/octet-stream); progress on stderr if asked. */
int api_upload(struct api *a, const char *path, FILE *src, off_t size, const char *type,
	       bool progress, json_t **resp);
/* The same as a POST, application/octet-stream (an update bundle). */
int api_post_upload(struct api *a, const char *path, FILE *src, off_t size, bool progress,
		    json_t **resp);
/* GET streamed to sink (only a 2xx answer), which returns 0, or -1 with
 * errno set to abort. */
typedef int (*api_sink)(const char *data, size_t len, void *ctx);
int api_download(struct api *a, const char *path, api_sink sink, void *ctx, bool progress);
/* The same for a POST of `body` (JSON) whose answer is a file. */
int api_post_download(struct api *a, const char *path, json_t *body, api_sink sink, void *ctx);
/* Whether the host answers GET /api/v1 (quietly; a TLS failure counts as
 * no answer). */
bool api_ping(struct api *a);

/* Builds an API path: "%s" inserts a percent-encoded component ('/'
 * encoded too), "%p" a percent-encoded path (its '/' kept); other
 * characters are copied. Returns a malloc'd string. */
char *api_pathf(const char *fmt, ...);

#endif
