/* keel-shell's client of the local API (common/localapi.h): plain HTTP/1.1
 * on the unix socket (common/localclient.h: libc alone), JSON in and out
 * (jansson), one per session. The session's token, once set, goes with every
 * request as "Authorization: Bearer".
 *
 * A call returns 0 for a 2xx answer; otherwise -1 with err set to the
 * API's own message ("MESSAGE (HTTP STATUS)", from its {"error":
 * {"message"}} body) or to why the host could not be reached. Nothing is
 * printed here. Answers are held in memory up to CLIENT_BODY_MAX bytes. */
#ifndef KEEL_SHELL_CLIENT_H
#define KEEL_SHELL_CLIENT_H

#include <jansson.h>
#include <stddef.h>

#define CLIENT_BODY_MAX	 (4u << 20)
#define CLIENT_TOKEN_MAX 160

struct client;

/* NULL if out of memory, or the socket's path is too long */
struct client *client_new(const char *socket_path);
/* wipes the token */
void client_free(struct client *c);
/* 0, or -1 if the token is empty, too long or not of a token's characters */
int client_set_token(struct client *c, const char *token);
void client_clear_token(struct client *c);
/* the token ("" when none) */
const char *client_token(const struct client *c);
const char *client_socket(const struct client *c);

/* method to /api/v1 + path (path starts with "/"); body may be NULL;
 * *resp (if resp) gets the answer, NULL when empty. *status (if status)
 * the HTTP status, 0 if none came. */
int client_call(struct client *c, const char *method, const char *path, json_t *body, json_t **resp,
		long *status, char *err, size_t errlen);

/* "/vms/NAME/stats"-like paths: fmt's "%s" each insert a percent-encoded
 * component. Returns a malloc'd string, or NULL. */
char *client_path(const char *fmt, const char *component);

#endif
