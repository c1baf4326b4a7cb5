#include "shell/client.h"

#include <curl/curl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/localapi.h"
#include "common/util.h"

struct client {
	CURL *curl;
	char socket[108];
	char token[CLIENT_TOKEN_MAX];
};

struct body {
	char *data;
	size_t len, cap;
	bool too_large;
};

struct client *client_new(const char *socket_path)
{
	struct client *c = calloc(1, sizeof(*c));
	if (!c)
		return NULL;
	c->curl = curl_easy_init();
	if (!c->curl || str_copy(c->socket, sizeof(c->socket), socket_path) < 0) {
		if (c->curl)
			curl_easy_cleanup(c->curl);
		free(c);
		return NULL;
	}
	return c;
}

void client_free(struct client *c)
{
	if (!c)
		return;
	explicit_bzero(c->token, sizeof(c->token));
	curl_easy_cleanup(c->curl);
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

static size_t on_write(char *p, size_t size, size_t n, void *ud)
{
	struct body *b = ud;
	size_t len = size * n;
	if (len > CLIENT_BODY_MAX || b->len + len > CLIENT_BODY_MAX) {
		b->too_large = true;
		return 0;
	}
	if (b->len + len + 1 > b->cap) {
		size_t cap = (b->len + len + 1) * 2;
		char *d = realloc(b->data, cap);
		if (!d)
			return 0;
		b->data = d;
		b->cap = cap;
	}
	memcpy(b->data + b->len, p, len);
	b->len += len;
	b->data[b->len] = '\0';
	return len;
}

/* the API's error message of a non-2xx answer */
static void api_error(const struct body *b, long status, char *err, size_t errlen)
{
	json_t *j = b->len ? json_loadb(b->data, b->len, 0, NULL) : NULL;
	const char *msg =
	    json_string_value(json_object_get(json_object_get(j, "error"), "message"));
	if (msg)
		snprintf(err, errlen, "%s (HTTP %ld)", msg, status);
	else
		snprintf(err, errlen, "the host answered HTTP %ld", status);
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
	char url[512], auth[CLIENT_TOKEN_MAX + 32], errbuf[CURL_ERROR_SIZE] = "";
	int n = snprintf(url, sizeof(url), "%s%s", LOCAL_API_URL, path);
	if (n < 0 || (size_t)n >= sizeof(url)) {
		free(text);
		return errorf(err, errlen, "the request's path is too long");
	}
	CURL *h = c->curl;
	struct curl_slist *hdrs = NULL, *more;
	struct body b = {0};
	curl_easy_reset(h);
	curl_easy_setopt(h, CURLOPT_UNIX_SOCKET_PATH, c->socket);
	curl_easy_setopt(h, CURLOPT_URL, url);
	curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http");
	curl_easy_setopt(h, CURLOPT_PATH_AS_IS, 1L);
	curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT, 10L);
	curl_easy_setopt(h, CURLOPT_TIMEOUT, 120L);
	curl_easy_setopt(h, CURLOPT_ERRORBUFFER, errbuf);
	curl_easy_setopt(h, CURLOPT_USERAGENT, "keel-shell");
	curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_write);
	curl_easy_setopt(h, CURLOPT_WRITEDATA, &b);
	bool ok = true;
	if (c->token[0]) {
		snprintf(auth, sizeof(auth), "Authorization: Bearer %s", c->token);
		ok = (more = curl_slist_append(hdrs, auth)) != NULL;
		hdrs = ok ? more : hdrs;
		explicit_bzero(auth, sizeof(auth));
	}
	if (ok && text) {
		curl_easy_setopt(h, CURLOPT_POSTFIELDS, text);
		curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)strlen(text));
		ok = (more = curl_slist_append(hdrs, "Content-Type: application/json")) != NULL;
		hdrs = ok ? more : hdrs;
	} else if (ok && strcmp(method, "POST") == 0) {
		curl_easy_setopt(h, CURLOPT_POSTFIELDS, "");
		curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)0);
	}
	const char *natural = text || strcmp(method, "POST") == 0 ? "POST" : "GET";
	if (strcmp(method, natural) != 0)
		curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, method);
	curl_easy_setopt(h, CURLOPT_HTTPHEADER, hdrs);
	CURLcode rc = ok ? curl_easy_perform(h) : CURLE_OUT_OF_MEMORY;
	curl_slist_free_all(hdrs);
	if (text) {
		explicit_bzero(text, strlen(text)); /* it may hold a password */
		free(text);
	}
	long st = 0;
	curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &st);
	if (status)
		*status = st;
	int ret = 0;
	if (rc != CURLE_OK) {
		ret = errorf(err, errlen, "the host agent cannot be reached (%s): %s", c->socket,
			     b.too_large ? "the answer is too large"
			     : errbuf[0] ? errbuf
					 : curl_easy_strerror(rc));
	} else if (st / 100 != 2) {
		api_error(&b, st, err, errlen);
		ret = -1;
	} else if (resp && b.len) {
		json_error_t je;
		*resp = json_loadb(b.data, b.len, 0, &je);
		if (!*resp)
			ret = errorf(err, errlen, "the answer is not JSON (%s)", je.text);
	}
	if (b.data)
		explicit_bzero(b.data, b.len); /* a login's answer holds a token */
	free(b.data);
	return ret;
}

char *client_path(const char *fmt, const char *component)
{
	char *e = curl_easy_escape(NULL, component, (int)strnlen(component, 1024));
	if (!e)
		return NULL;
	char *out = NULL;
	if (asprintf(&out, fmt, e) < 0)
		out = NULL;
	curl_free(e);
	return out;
}
