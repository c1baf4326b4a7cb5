#include "hostd/session.h"

#include "common/log.h"
#include "common/util.h"
#include "hostd/authz.h"
#include "hostd/db.h"
#include "hostd/error.h"
#include "hostd/secret.h"
#include "hostd/source.h"
#include "hostd/techsupport.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define MAX_SOURCES 256

/* failed logins per source (source.h: an IPv4 address, an IPv6 /64) */
static struct fails {
	char source[SOURCE_NAME_MAX]; /* source_name */
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
		return error_set(err, errlen, -EIO, "cannot make a random password");
	if (secret_hash_password(pw, hash, sizeof(hash), err, errlen) < 0)
		return -EIO;
	int rc = db_user_set("root", hash, err, errlen);
	if (rc < 0)
		return rc;
	return str_copy(shown, shownlen, pw) < 0 ? -ENAMETOOLONG : 0;
}

/* The entry of the source of `addr`, made or recycled (the oldest) if
 * needed. */
static struct fails *fails_entry(const char *addr)
{
	char source[SOURCE_NAME_MAX];
	source_name(addr, source, sizeof(source));
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

int session_login(const char *user, const char *password, enum door door, const char *source,
		  char *token, long *retry_after_s, const char **why, char *err, size_t errlen)
{
	time_t now = time(NULL);
	*why = NULL;
	*retry_after_s = blocked_for(source, now);
	if (*retry_after_s > 0)
		return error_set(err, errlen, -EAGAIN,
				 "too many failed logins from %s: try again in %ld s", source,
				 *retry_after_s);
	const char *refused;
	int rc = authz_login_check(user, password, door, source, now, retry_after_s, &refused, err,
				   errlen);
	if (rc == 0 && (door == DOOR_TSM_LOCAL || door == DOOR_TSM_SSH) &&
	    !tsm_enabled(door == DOOR_TSM_SSH)) {
		refused = "disabled";
		rc = error_set(err, errlen, -EPERM, "tech support mode (%s) is disabled",
			       door == DOOR_TSM_SSH ? "SSH" : "local");
	}
	if (rc != -EAGAIN && rc != -EPERM)
		record_result(source, now, rc == 0);
	if (rc < 0) {
		log_msg("login of '%.64s' from %s refused (%s)", user, source, refused);
		if (rc == -EACCES)
			sleep(1); /* slows guessing; this connection's thread only */
		*why = refused;
		return rc;
	}
	char token_hash[SESSION_TOKEN_LEN + 1];
	if (secret_token(token) < 0)
		return error_set(err, errlen, -EIO, "cannot make a token");
	secret_sha256_hex(token, strlen(token), token_hash);
	rc = db_session_add(token_hash, user, source, now, now + SESSION_MAX_S, err, errlen);
	return rc < 0 ? rc : 0;
}

void session_logout(const char *token_hash)
{
	db_session_remove(token_hash);
}

int session_authenticate(const char *authorization, char *user, size_t userlen, char *token_hash,
			 char *source, size_t sourcelen)
{
	if (!authorization || strncmp(authorization, "Bearer ", 7) != 0)
		return -EACCES;
	const char *token = authorization + 7;
	if (strlen(token) != SESSION_TOKEN_LEN)
		return -EACCES;
	secret_sha256_hex(token, SESSION_TOKEN_LEN, token_hash);
	session_follow_clock(); /* a step since the last tick moves no session out */
	return db_session_check(token_hash, time(NULL), SESSION_IDLE_S, user, userlen, source,
				sourcelen) < 0
		   ? -EACCES
		   : 0;
}

int session_change_password(const char *user, const char *current, const char *new_password,
			    const char *source, const char *token_hash, long *retry_after_s,
			    char *err, size_t errlen)
{
	time_t now = time(NULL);
	*retry_after_s = blocked_for(source, now);
	if (*retry_after_s > 0)
		return error_set(err, errlen, -EAGAIN,
				 "too many failed logins from %s: try again in %ld s", source,
				 *retry_after_s);
	const char *refused;
	char why[256];
	int rc = authz_login_check(user, current, authz_door_of_source(source), source, now,
				   retry_after_s, &refused, why, sizeof(why));
	if (rc != -EAGAIN && rc != -EPERM)
		record_result(source, now, rc == 0);
	if (rc < 0) {
		log_msg("password change of '%.64s' from %s refused (%s)", user, source, refused);
		if (rc == -EAGAIN)
			return error_set(err, errlen, rc, "%s", why);
		if (rc == -EACCES)
			sleep(1); /* as a failed login */
		return error_set(err, errlen, rc, "current_password: %s", why);
	}
	json_t *update = json_pack("{s:s}", "password", new_password);
	rc = authz_user_update(user, update, token_hash, err, errlen);
	json_decref(update);
	return rc;
}

void session_follow_clock(void)
{
	static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
	static int64_t offset; /* the wall clock minus the time since boot */
	static bool known;
	struct timespec wall, boot;
	pthread_mutex_lock(&lock);
	clock_gettime(CLOCK_REALTIME, &wall);
	clock_gettime(CLOCK_BOOTTIME, &boot);
	int64_t now = (int64_t)wall.tv_sec - (int64_t)boot.tv_sec;
	if (known && (now - offset > 2 || offset - now > 2)) {
		log_msg("the clock was set (%+lld s): sessions keep their remaining time",
			(long long)(now - offset));
		db_sessions_shift(now - offset);
	}
	offset = now;
	known = true;
	pthread_mutex_unlock(&lock);
}

json_t *session_list(void)
{
	return db_sessions_list(time(NULL));
}

bool session_id_valid(const char *id)
{
	return strnlen(id, SESSION_ID_LEN + 1) == SESSION_ID_LEN &&
	       strspn(id, "0123456789abcdef") == SESSION_ID_LEN;
}

int session_revoke(const char *id, char *err, size_t errlen)
{
	if (!session_id_valid(id))
		return error_set(err, errlen, -EINVAL, "%s: a session id is 16 hex digits", id);
	int n = db_sessions_remove_id(id, err, errlen);
	if (n == 0)
		return error_set(err, errlen, -ENOENT, "%s: no such session", id);
	return n < 0 ? n : 0;
}
