#include "cli/api.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cmd.h"
#include "cli/http.h"
#include "cli/interrupt.h"
#include "cli/mem.h"
#include "cli/output.h"

#define UNRESERVED "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~"

struct api {
	struct http h;
	bool session;
	bool borrowed; /* conf's session_token: not ours to end */
};

/* The answer as JSON: NULL when empty. */
static int parse_answer(const struct request *r, json_t **out)
{
	*out = NULL;
	if (r->len == 0)
		return 0;
	json_error_t err;
	*out = json_loadb(r->body, r->len, 0, &err);
	if (*out)
		return 0;
	error_msg("%s %s: the answer is not JSON (%s)", r->method, r->path, err.text);
	return EXIT_FAIL;
}

static void wipe_free(char *s, size_t len)
{
	if (s)
		explicit_bzero(s, len);
	free(s);
}

/* GET /api/v1, before any secret is sent (and the fingerprint check). */
static int check_host(struct api *a)
{
	if (a->h.conf->insecure)
		error_msg("warning: --insecure: the host's certificate is not verified");
	struct request r = {.method = "GET", .path = "/api/v1", .anonymous = true};
	int rc = http_perform(&a->h, &r);
	json_t *j = NULL;
	if (rc == 0)
		rc = parse_answer(&r, &j);
	if (rc == 0 && strcmp(jstr(j, "api"), "v1") != 0) {
		error_msg("%s: not a Keel host speaking API v1", http_host(&a->h));
		rc = EXIT_FAIL;
	}
	json_decref(j);
	free(r.body);
	return rc;
}

static bool token_valid(const struct api *a, const char *t)
{
	size_t n = strlen(t);
	return n > 0 && n < sizeof(a->h.token) && strspn(t, "0123456789abcdefABCDEF-_.~+/=") == n;
}

static int take_token(struct api *a, const struct request *r)
{
	json_t *j = NULL;
	int rc = parse_answer(r, &j);
	const char *t = jstr(j, "token");
	size_t n = strlen(t);
	if (rc == 0 && !token_valid(a, t)) {
		error_msg("%s: the login answer has no usable token", http_host(&a->h));
		rc = EXIT_FAIL;
	}
	if (rc == 0) {
		memcpy(a->h.token, t, n + 1);
		a->session = true;
	}
	json_decref(j);
	return rc;
}

static int login(struct api *a)
{
	const struct api_conf *c = a->h.conf;
	if (!c->host) {
		error_msg("no host: use --host H[:PORT], KEEL_HOST or the credentials file");
		return EXIT_SETUP;
	}
	int rc = check_host(a);
	if (rc)
		return rc;
	char *asked = NULL;
	const char *pw = c->password;
	if (!pw) {
		asked = c->ask_password(c->user, c->host);
		if (!asked)
			return interrupted() ? EXIT_FAIL : EXIT_SETUP;
		pw = asked;
	}
	json_t *body = json_pack("{s:s, s:s}", "user", c->user, "password", pw);
	char *text = body ? json_dumps(body, JSON_COMPACT) : NULL;
	json_decref(body);
	if (asked)
		wipe_free(asked, strlen(asked));
	if (!text) {
		error_msg("the user name and the password must be UTF-8");
		return EXIT_SETUP;
	}
	struct request r = {
	    .method = "POST", .path = "/api/v1/session", .json = text, .anonymous = true};
	rc = http_perform(&a->h, &r);
	wipe_free(text, strlen(text));
	if (rc == 0)
		rc = take_token(a, &r);
	wipe_free(r.body, r.len);
	return rc;
}

static int session(struct api *a)
{
	return a->session ? 0 : login(a);
}

struct api *api_new(const struct api_conf *conf)
{
	struct api *a = xmalloc(sizeof(*a));
	memset(a, 0, sizeof(*a));
	a->h.conf = conf;
	if (http_open(&a->h) < 0) {
		free(a);
		return NULL;
	}
	if (conf->local_socket && conf->session_token) {
		if (!token_valid(a, conf->session_token)) {
			error_msg("KEEL_SESSION_TOKEN is not a session token");
			http_close(&a->h);
			free(a);
			return NULL;
		}
		snprintf(a->h.base, sizeof(a->h.base), "http://localhost");
		snprintf(a->h.token, sizeof(a->h.token), "%s", conf->session_token);
		a->session = a->borrowed = true;
	} else if (conf->host) {
		snprintf(a->h.base, sizeof(a->h.base), "https://%s:%u", conf->host, conf->port);
	}
	return a;
}

int api_close(struct api *a, bool quiet)
{
	if (!a)
		return 0;
	int rc = 0;
	if (a->session && !a->borrowed) {
		struct request r = {.method = "DELETE",
				    .path = "/api/v1/session",
				    .quiet = quiet,
				    .uninterruptible = true};
		rc = http_perform(&a->h, &r);
		if (rc && !quiet)
			error_msg("warning: the session was not ended (it expires by itself)");
		free(r.body);
	}
	explicit_bzero(a->h.token, sizeof(a->h.token));
	http_close(&a->h);
	free(a);
	return rc;
}

int api_json(struct api *a, const char *method, const char *path, json_t *body, json_t **resp)
{
	if (resp)
		*resp = NULL;
	int rc = session(a);
	if (rc)
		return rc;
	char *text = body ? json_dumps(body, JSON_COMPACT) : NULL;
	if (body && !text) {
		error_msg("cannot encode the request (text must be UTF-8)");
		return EXIT_SETUP;
	}
	struct request r = {.method = method, .path = path, .json = text};
	rc = http_perform(&a->h, &r);
	if (rc == 0 && resp)
		rc = parse_answer(&r, resp);
	if (text)
		wipe_free(text, strlen(text)); /* it may hold a password */
	free(r.body);
	return rc;
}

int api_text(struct api *a, const char *path, char **text, size_t *len)
{
	*text = NULL;
	*len = 0;
	int rc = session(a);
	if (rc)
		return rc;
	struct request r = {.method = "GET", .path = path};
	rc = http_perform(&a->h, &r);
	if (rc) {
		free(r.body);
		return rc;
	}
	*text = r.body ? r.body : xstrdup("");
	*len = r.len;
	return 0;
}

int api_text_headers(struct api *a, const char *path, char **text, size_t *len,
		     const char *const *names, char (*values)[128])
{
	*text = NULL;
	*len = 0;
	int rc = session(a);
	if (rc)
		return rc;
	struct request r = {.method = "GET", .path = path};
	for (int i = 0; i < HTTP_HEADERS_WANTED && names[i]; i++)
		r.header_names[i] = names[i];
	rc = http_perform(&a->h, &r);
	for (int i = 0; i < HTTP_HEADERS_WANTED && names[i]; i++)
		memcpy(values[i], r.header_values[i], sizeof(r.header_values[i]));
	if (rc) {
		free(r.body);
		return rc;
	}
	*text = r.body ? r.body : xstrdup("");
	*len = r.len;
	return 0;
}

static int upload(struct api *a, const char *method, const char *path, FILE *src, off_t size,
		  const char *type, bool progress, json_t **resp)
{
	*resp = NULL;
	int rc = session(a);
	if (rc)
		return rc;
	struct request r = {.method = method,
			    .path = path,
			    .src = src,
			    .size = size,
			    .type = type,
			    .progress = progress};
	rc = http_perform(&a->h, &r);
	if (rc == 0)
		rc = parse_answer(&r, resp);
	free(r.body);
	return rc;
}

int api_upload(struct api *a, const char *path, FILE *src, off_t size, const char *type,
	       bool progress, json_t **resp)
{
	return upload(a, "PUT", path, src, size, type, progress, resp);
}

int api_post_upload(struct api *a, const char *path, FILE *src, off_t size, bool progress,
		    json_t **resp)
{
	return upload(a, "POST", path, src, size, NULL, progress, resp);
}

int api_download(struct api *a, const char *path, api_sink sink, void *ctx, bool progress)
{
	int rc = session(a);
	if (rc)
		return rc;
	struct request r = {
	    .method = "GET", .path = path, .sink = sink, .sink_ctx = ctx, .progress = progress};
	rc = http_perform(&a->h, &r);
	free(r.body);
	return rc;
}

int api_post_download(struct api *a, const char *path, json_t *body, api_sink sink, void *ctx)
{
	int rc = session(a);
	if (rc)
		return rc;
	char *text = json_dumps(body, JSON_COMPACT);
	if (!text) {
		error_msg("cannot encode the request (text must be UTF-8)");
		return EXIT_SETUP;
	}
	struct request r = {
	    .method = "POST", .path = path, .json = text, .sink = sink, .sink_ctx = ctx};
	rc = http_perform(&a->h, &r);
	wipe_free(text, strlen(text)); /* it may hold a passphrase */
	free(r.body);
	return rc;
}

bool api_ping(struct api *a)
{
	struct request r = {.method = "GET", .path = "/api/v1", .anonymous = true, .quiet = true};
	int rc = http_perform(&a->h, &r);
	free(r.body);
	return rc == 0;
}

char *api_pathf(const char *fmt, ...)
{
	char *out = NULL;
	size_t size = 0;
	FILE *f = xcheck(open_memstream(&out, &size));
	va_list ap;
	va_start(ap, fmt);
	for (const char *p = fmt; *p; p++) {
		if (p[0] != '%' || (p[1] != 's' && p[1] != 'p')) {
			fputc(*p, f);
			continue;
		}
		bool keep_slash = *++p == 'p';
		const char *s = va_arg(ap, const char *);
		for (;;) {
			size_t n = keep_slash ? strcspn(s, "/") : strlen(s);
			for (size_t i = 0; i < n; i++) /* RFC 3986: all but the unreserved */
				if (strchr(UNRESERVED, s[i]) && s[i])
					fputc(s[i], f);
				else
					fprintf(f, "%%%02X", (unsigned char)s[i]);
			if (!keep_slash || !s[n])
				break;
			fputc('/', f);
			s += n + 1;
		}
	}
	va_end(ap);
	if (fclose(f) != 0)
		out = xcheck(NULL);
	return out;
}
