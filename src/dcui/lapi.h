/* The DCUI's client of keel-hostd's local API (common/localapi.h): plain
 * HTTP/1.1 on the root-only unix socket (common/localclient.h), JSON
 * through jansson. It is the DCUI's only way to the host: no file of /config is
 * ever read here.
 *
 * One handle holds at most one session (the token of POST /api/v1/session
 * with the channel "dcui"); every request made while logged in carries it,
 * and an answer 401 to one of them means the session is over: the handle
 * forgets it (lapi_user is NULL again).
 *
 * A request never prints: lapi_request returns 0 for a 2xx answer and -1
 * otherwise, and fills the reply with the status and a message to show a
 * person: the API's own ({"error": {"code", "message"}}), or what went
 * wrong on the way (the agent does not answer, an answer that is not the
 * API's). */
#ifndef KEEL_DCUI_LAPI_H
#define KEEL_DCUI_LAPI_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#define LAPI_MESSAGE_MAX 256

struct lapi;

struct lapi_reply {
	long status;  /* the HTTP status; 0 when no answer came */
	json_t *json; /* a JSON answer, parsed (owned: lapi_reply_free) */
	char *text;   /* the answer's bytes, NUL-terminated (owned) */
	size_t len;
	char code[64];			/* the API's error code ("lockdown", ...), or "" */
	char message[LAPI_MESSAGE_MAX]; /* what went wrong, for a person; "" on success */
};

/* A handle for the socket at `socket_path` (NULL: LOCAL_API_SOCKET).
 * Returns NULL only when out of memory. */
struct lapi *lapi_new(const char *socket_path);
/* Ends the session (lapi_logout) and frees. */
void lapi_free(struct lapi *a);

/* METHOD on LOCAL_API_URL + path ("/host"), with body (NULL: none) as
 * JSON. Returns 0 for a 2xx answer, else -1; *r is always filled and must
 * be freed with lapi_reply_free. */
int lapi_request(struct lapi *a, const char *method, const char *path, const json_t *body,
		 struct lapi_reply *r);
void lapi_reply_free(struct lapi_reply *r);

/* POST /api/v1/session {"user", "password", "channel": "dcui"}; on success
 * the handle is logged in as `user`. Returns 0, or -1 with the API's
 * message (a wrong password, lockdown, ...) in err. */
int lapi_login(struct lapi *a, const char *user, const char *password, char *err, size_t errlen);
/* DELETE /api/v1/session when logged in; the token is forgotten either way. */
void lapi_logout(struct lapi *a);
/* The logged-in user, or NULL. */
const char *lapi_user(const struct lapi *a);

#endif
