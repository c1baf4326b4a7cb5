#include "shell/client.h"

#define LOCAL_API_PATH	  "/api/v1"
#define CLIENT_TIMEOUT_MS 120000 /* each wait of a request */

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/localapi.h"
#include "common/localclient.h"
#include "common/util.h"

struct client {
	char socket[108];
	char token[CLIENT_TOKEN_MAX];
};

struct client *client_new(const char *socket_path)
{
	struct client *c = calloc(1, sizeof(*c));
	if (c && str_copy(c->socket, sizeof(c->socket), socket_path) < 0) {
		free(c);
		c = NULL;
	}
	return c;
}

void client_free(struct client *c)
{
	if (!c)
		return;
	explicit_bzero(c->token, sizeof(c->token));
	free(c);
}

int client_set_token(struct client *c, const char *token)
{
	size_t n = strlen(token);
	if (n == 0 || n >= sizeof(c->token) || strspn(token, "0123456789abcdefABCDEF-_.~+/=") != n)
		return -1;
	memcpy(c->token, token, n + 1);
	return 0;
}

void client_clear_token(struct client *c)
{
	explicit_bzero(c->token, sizeof(c->token));
}

const char *client_token(const struct client *c)
{
	return c->token;
}

const char *client_socket(const struct client *c)
{
	return c->socket;
}

/* the API's error message of a non-2xx answer */
static void api_error(const struct local_request *r, char *err, size_t errlen)
{
	json_t *j = r->answer_len ? json_loadb(r->answer, r->answer_len, 0, NULL) : NULL;
	const char *msg =
	    json_string_value(json_object_get(json_object_get(j, "error"), "message"));
	if (msg)
		snprintf(err, errlen, "%s (HTTP %d)", msg, r->status);
	else
		snprintf(err, errlen, "the host answered HTTP %d", r->status);
	json_decref(j);
}

int client_call(struct client *c, const char *method, const char *path, json_t *body, json_t **resp,
		long *status, char *err, size_t errlen)
{
	if (resp)
		*resp = NULL;
	if (status)
		*status = 0;
	char *text = body ? json_dumps(body, JSON_COMPACT) : NULL;
	if (body && !text)
		return errorf(err, errlen, "cannot encode the request (text must be UTF-8)");
	char url[512];
	int n = snprintf(url, sizeof(url), "%s%s", LOCAL_API_PATH, path);
	if (n < 0 || (size_t)n >= sizeof(url)) {
		free(text);
		return errorf(err, errlen, "the request's path is too long");
	}
	struct local_request r = {.method = method,
				  .path = url,
				  .token = c->token[0] ? c->token : NULL,
				  .body = text,
				  .len = text ? strlen(text) : 0,
				  .upload_fd = -1,
				  .max = CLIENT_BODY_MAX,
				  .timeout_ms = CLIENT_TIMEOUT_MS};
	char why[256];
	int rc = local_request(c->socket, &r, why, sizeof(why));
	if (text) {
		explicit_bzero(text, strlen(text)); /* it may hold a password */
		free(text);
	}
	if (status)
		*status = r.status;
	int ret = 0;
	if (rc < 0) {
		ret = errorf(err, errlen, "%s", why);
	} else if (r.status / 100 != 2) {
		api_error(&r, err, errlen);
		ret = -1;
	} else if (resp && r.answer_len) {
		json_error_t je;
		*resp = json_loadb(r.answer, r.answer_len, 0, &je);
		if (!*resp)
			ret = errorf(err, errlen, "the answer is not JSON (%s)", je.text);
	}
	if (r.answer)
		explicit_bzero(r.answer, r.answer_len); /* a login's answer holds a token */
	free(r.answer);
	return ret;
}

char *client_path(const char *fmt, const char *component)
{
	static const char hex[] = "0123456789ABCDEF";
	size_t n = strnlen(component, 1024);
	char *e = malloc(3 * n + 1), *o = e;
	if (!e)
		return NULL;
	for (size_t i = 0; i < n; i++) {
		unsigned char ch = (unsigned char)component[i];
		if ((ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z') ||
		    (ch >= '0' && ch <= '9') || ch == '-' || ch == '.' || ch == '_' || ch == '~') {
			*o++ = (char)ch;
		} else {
			*o++ = '%';
			*o++ = hex[ch >> 4];
			*o++ = hex[ch & 15];
		}
	}
	*o = '\0';
	char *out = NULL;
	if (asprintf(&out, fmt, e) < 0)
		out = NULL;
	free(e);
	return out;
}
