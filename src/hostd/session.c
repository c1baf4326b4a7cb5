#include "hostd/session.h"

#include "common/log.h"
#include "common/util.h"
#include "hostd/authz.h"
#include "hostd/db.h"
#include "hostd/secret.h"

#include <microhttpd.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define MAX_SOURCES 256

/* failed logins per client address */
static struct fails {
	char source[64];
	int count;
	time_t last;
} fails[MAX_SOURCES];
static pthread_mutex_t fails_lock = PTHREAD_MUTEX_INITIALIZER;

int session_init_root(char *shown, size_t shownlen, char *err, size_t errlen)
{
	char hash[256];
	shown[0] = '\0';
	if (db_user_hash("root", hash, sizeof(hash)) == 0)
		return 0;
	char pw[32];
	if (secret_random_password(pw, sizeof(pw), 16) < 0)
		return errorf(err, errlen, "cannot make a random password");
	if (secret_hash_password(pw, hash, sizeof(hash), err, errlen) < 0 ||
	    db_user_set("root", hash, err, errlen) < 0)
		return -1;
	return str_copy(shown, shownlen, pw);
}

/* The entry of `source`, made or recycled (the oldest) if needed. */
static struct fails *fails_entry(const char *source)
{
	struct fails *oldest = &fails[0];
	for (int i = 0; i < MAX_SOURCES; i++) {
		if (strcmp(fails[i].source, source) == 0)
			return &fails[i];
		if (fails[i].last < oldest->last)
			oldest = &fails[i];
	}
	memset(oldest, 0, sizeof(*oldest));
	str_copy(oldest->source, sizeof(oldest->source), source);
	return oldest;
}

/* Seconds `source` must wait before trying again, or 0. */
static long blocked_for(const char *source, time_t now)
{
	pthread_mutex_lock(&fails_lock);
	struct fails *f = fails_entry(source);
	long wait = 0;
	if (f->count >= SESSION_MAX_FAILS && now - f->last < SESSION_FAIL_WINDOW)
		wait = SESSION_FAIL_WINDOW - (now - f->last);
	pthread_mutex_unlock(&fails_lock);
	return wait;
}

/* Failures count while each comes within SESSION_FAIL_WINDOW of the one
 * before; a success clears them. */
static void record_result(const char *source, time_t now, int ok)
{
	pthread_mutex_lock(&fails_lock);
	struct fails *f = fails_entry(source);
	if (ok || now - f->last >= SESSION_FAIL_WINDOW)
		f->count = 0;
	if (!ok) {
		f->count++;
		f->last = now;
	}
	pthread_mutex_unlock(&fails_lock);
}

void api_session_login(struct req *r)
{
	json_t *body = req_json(r);
	if (!body)
		return;
	const char *user = NULL, *password = NULL;
	json_error_t e;
	if (req_only_fields(r, body, (const char *const[]){"user", "password", NULL}) < 0)
		goto out;
	if (json_unpack_ex(body, &e, JSON_STRICT, "{s:s,s:s}", "user", &user, "password",
			   &password) < 0 ||
	    strlen(user) > 64 || strlen(password) > 1024) {
		reply_error(r, 400, "the body must be {\"user\": string, \"password\": string}");
		goto out;
	}
	time_t now = time(NULL);
	str_copy(r->user, sizeof(r->user), user); /* for the audit log */
	long wait = blocked_for(r->source, now);
	if (wait > 0) {
		char retry[24];
		snprintf(retry, sizeof(retry), "%ld", wait);
		reply_error(r, 429, "too many failed logins from %s: try again in %ld s", r->source,
			    wait);
		MHD_add_response_header(r->resp, "Retry-After", retry);
		goto out;
	}
	char err[256];
	const char *why;
	int status = authz_login_check(user, password, now, &why, err, sizeof(err));
	record_result(r->source, now, status == 0);
	if (status) {
		log_msg("login of '%.64s' from %s refused (%s)", user, r->source, why);
		if (status == 401)
			sleep(1); /* slows guessing; this connection's thread only */
		r->audit_result = why;
		if (status == 403)
			reply_json(r, 403,
				   json_pack("{s:{s:s,s:s}}", "error", "code", "lockdown",
					     "message", err));
		else
			reply_error(r, (unsigned)status, "%s", err);
		goto out;
	}
	char token[65], token_hash[65];
	if (secret_token(token) < 0) {
		reply_error(r, 500, "cannot make a token");
		goto out;
	}
	secret_sha256_hex(token, strlen(token), token_hash);
	if (db_session_add(token_hash, user, r->source, now, now + SESSION_MAX_S, err,
			   sizeof(err)) < 0) {
		reply_error(r, 500, "%s", err);
		goto out;
	}
	reply_json(
	    r, 201,
	    json_pack("{s:s,s:s,s:i}", "token", token, "user", user, "expires_in", SESSION_IDLE_S));
out:
	json_decref(body);
}

void api_session_logout(struct req *r)
{
	db_session_remove(r->token_hash);
	reply_empty(r, 204);
}

int session_authenticate(struct req *r, const char *authorization)
{
	if (!authorization || strncmp(authorization, "Bearer ", 7) != 0)
		return -1;
	const char *token = authorization + 7;
	if (strlen(token) != 64)
		return -1;
	secret_sha256_hex(token, 64, r->token_hash);
	return db_session_check(r->token_hash, time(NULL), SESSION_IDLE_S, r->user,
				sizeof(r->user));
}

void api_session_password(struct req *r)
{
	json_t *body = req_json(r), *upd = NULL;
	const char *cur = NULL, *pw = NULL;
	char hash[256], err[256];
	if (!body ||
	    req_only_fields(r, body,
			    (const char *const[]){"current_password", "new_password", NULL}) < 0)
		goto out;
	if (json_unpack(body, "{s:s,s:s}", "current_password", &cur, "new_password", &pw) < 0) {
		reply_error(r, 400,
			    "want {\"current_password\": string, \"new_password\": string}");
		goto out;
	}
	if (db_user_hash(r->user, hash, sizeof(hash)) < 0 || !secret_check_password(cur, hash)) {
		reply_error(r, 403, "current_password: wrong password");
		goto out;
	}
	upd = json_pack("{s:s}", "password", pw);
	int status = authz_user_update(r->user, upd, err, sizeof(err));
	if (status != 200)
		reply_error(r, (unsigned)status, "%s", err);
	else
		reply_empty(r, 204);
out:
	json_decref(upd);
	json_decref(body);
}

void api_sessions(struct req *r)
{
	char now[32];
	json_t *rows = db_rows("SELECT substr(token_hash, 1, 16) AS id, user, source, created,"
			       " last_used FROM sessions WHERE expires > ? ORDER BY created",
			       (const char *[]){DB_INT(now, time(NULL)), NULL});
	reply_json(r, 200, json_pack("{s:o}", "sessions", rows));
}

void api_session_revoke(struct req *r)
{
	char err[256], pattern[32];
	const char *id = r->param[0];
	if (strlen(id) != 16 || strspn(id, "0123456789abcdef") != 16) {
		reply_error(r, 400, "%s: a session id is 16 hex digits", id);
		return;
	}
	snprintf(pattern, sizeof(pattern), "%s*", id);
	int n = db_exec("DELETE FROM sessions WHERE token_hash GLOB ?",
			(const char *[]){pattern, NULL}, err, sizeof(err));
	if (n < 0)
		reply_error(r, 500, "%s", err);
	else if (n == 0)
		reply_error(r, 404, "%s: no such session", id);
	else
		reply_empty(r, 204);
}
