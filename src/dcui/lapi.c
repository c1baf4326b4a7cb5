/* The local API client (lapi.h). */
#include "dcui/lapi.h"

#include "common/localapi.h"

#include "common/localclient.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define ANSWER_MAX (8u << 20) /* the largest answer kept (logs: 4 MiB) */
#define TIMEOUT_MS (30 * 1000)

struct lapi {
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
	if (!a->socket_path) {
		free(a);
		return NULL;
	}
	return a;
}

void lapi_free(struct lapi *a)
{
	if (!a)
		return;
	lapi_logout(a);
	free(a->socket_path);
	free(a);
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
	char *payload = body ? json_dumps(body, JSON_COMPACT) : NULL, url[512];
	if ((body && !payload) ||
	    snprintf(url, sizeof(url), "/api/v1%s", path) >= (int)sizeof(url)) {
		free(payload);
		snprintf(r->message, sizeof(r->message), "out of memory");
		return -1;
	}
	struct local_request q = {.method = method,
				  .path = url,
				  .token = a->token[0] ? a->token : NULL,
				  .body = payload,
				  .len = payload ? strlen(payload) : 0,
				  .upload_fd = -1,
				  .max = ANSWER_MAX,
				  .timeout_ms = TIMEOUT_MS};
	char err[200];
	int rc = local_request(a->socket_path, &q, err, sizeof(err));
	free(payload);
	if (rc < 0) {
		snprintf(r->message, sizeof(r->message), "%s", err);
		return -1;
	}
	r->status = q.status;
	r->text = q.answer;
	r->len = q.answer_len;
	if (r->len && strstr(q.content_type_got, "json"))
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
