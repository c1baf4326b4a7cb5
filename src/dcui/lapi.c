/* The local API client (lapi.h). */
#include "dcui/lapi.h"

#include "common/localapi.h"

#include <curl/curl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define ANSWER_MAX (8u << 20) /* the largest answer kept (logs: 4 MiB) */
#define TIMEOUT_S  30

struct lapi {
	CURL *curl;
	char *socket_path;
	char token[160];
	char user[80];
};

struct lapi *lapi_new(const char *socket_path)
{
	struct lapi *a = calloc(1, sizeof(*a));
	if (!a)
		return NULL;
	a->socket_path = strdup(socket_path ? socket_path : LOCAL_API_SOCKET);
	a->curl = curl_easy_init();
	if (!a->curl || !a->socket_path) {
		lapi_free(a);
		return NULL;
	}
	return a;
}

void lapi_free(struct lapi *a)
{
	if (!a)
		return;
	lapi_logout(a);
	if (a->curl)
		curl_easy_cleanup(a->curl);
	free(a->socket_path);
	free(a);
}

static size_t on_write(char *p, size_t size, size_t n, void *ud)
{
	struct lapi_reply *r = ud;
	size_t len = size * n;
	if (r->len + len > ANSWER_MAX)
		return 0; /* libcurl fails the transfer */
	char *grown = realloc(r->text, r->len + len + 1);
	if (!grown)
		return 0;
	r->text = grown;
	memcpy(r->text + r->len, p, len);
	r->len += len;
	r->text[r->len] = '\0';
	return len;
}

/* The message of an error answer: the API's, else the status. */
static void error_message(struct lapi_reply *r)
{
	json_t *error = json_object_get(r->json, "error");
	const char *message = json_string_value(json_object_get(error, "message"));
	const char *code = json_string_value(json_object_get(error, "code"));
	if (code)
		snprintf(r->code, sizeof(r->code), "%s", code);
	if (message && *message)
		snprintf(r->message, sizeof(r->message), "%s", message);
	else
		snprintf(r->message, sizeof(r->message), "the host agent answered HTTP %ld",
			 r->status);
}

int lapi_request(struct lapi *a, const char *method, const char *path, const json_t *body,
		 struct lapi_reply *r)
{
	memset(r, 0, sizeof(*r));
	char *url = NULL, *payload = NULL, auth[200];
	struct curl_slist *headers = NULL;
	CURL *c = a->curl;
	if (asprintf(&url, "%s%s", LOCAL_API_URL, path) < 0) {
		snprintf(r->message, sizeof(r->message), "out of memory");
		return -1;
	}
	curl_easy_reset(c);
	curl_easy_setopt(c, CURLOPT_UNIX_SOCKET_PATH, a->socket_path);
	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method);
	curl_easy_setopt(c, CURLOPT_TIMEOUT, (long)TIMEOUT_S);
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_write);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, r);
	if (a->token[0]) {
		snprintf(auth, sizeof(auth), "Authorization: Bearer %s", a->token);
		headers = curl_slist_append(headers, auth);
	}
	if (body) {
		payload = json_dumps(body, JSON_COMPACT);
		headers = curl_slist_append(headers, "Content-Type: application/json");
		curl_easy_setopt(c, CURLOPT_POSTFIELDS, payload ? payload : "");
	} else if (strcmp(method, "GET") != 0) {
		curl_easy_setopt(c, CURLOPT_POSTFIELDS, "");
	}
	if (strcmp(method, "GET") == 0)
		curl_easy_setopt(c, CURLOPT_HTTPGET, 1L);
	curl_easy_setopt(c, CURLOPT_HTTPHEADER, headers);
	CURLcode rc = curl_easy_perform(c);
	curl_slist_free_all(headers);
	free(payload);
	free(url);
	if (rc != CURLE_OK) {
		snprintf(r->message, sizeof(r->message), "the host agent does not answer (%s)",
			 curl_easy_strerror(rc));
		return -1;
	}
	curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &r->status);
	char *type = NULL;
	curl_easy_getinfo(c, CURLINFO_CONTENT_TYPE, &type);
	if (r->text && type && strstr(type, "json"))
		r->json = json_loadb(r->text, r->len, 0, NULL);
	if (r->status / 100 == 2)
		return 0;
	error_message(r);
	if (r->status == 401 && a->token[0]) {
		/* the session is over (expired, ended by another): forget it */
		a->token[0] = '\0';
		a->user[0] = '\0';
	}
	return -1;
}

void lapi_reply_free(struct lapi_reply *r)
{
	json_decref(r->json);
	free(r->text);
	r->json = NULL;
	r->text = NULL;
}

int lapi_login(struct lapi *a, const char *user, const char *password, char *err, size_t errlen)
{
	lapi_logout(a);
	json_t *body =
	    json_pack("{s:s,s:s,s:s}", "user", user, "password", password, "channel", CHANNEL_DCUI);
	struct lapi_reply r;
	int rc = body ? lapi_request(a, "POST", "/session", body, &r) : -1;
	json_decref(body);
	if (!body) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	const char *token = json_string_value(json_object_get(r.json, "token"));
	if (rc == 0 && (!token || strlen(token) >= sizeof(a->token))) {
		snprintf(r.message, sizeof(r.message), "the host agent gave no session");
		rc = -1;
	}
	if (rc == 0) {
		snprintf(a->token, sizeof(a->token), "%s", token);
		snprintf(a->user, sizeof(a->user), "%s", user);
	} else {
		snprintf(err, errlen, "%s", r.message);
	}
	lapi_reply_free(&r);
	return rc;
}

void lapi_logout(struct lapi *a)
{
	if (!a->token[0])
		return;
	struct lapi_reply r;
	lapi_request(a, "DELETE", "/session", NULL, &r); /* an ended session is gone anyway */
	lapi_reply_free(&r);
	a->token[0] = '\0';
	a->user[0] = '\0';
}

const char *lapi_user(const struct lapi *a)
{
	return a->token[0] ? a->user : NULL;
}
