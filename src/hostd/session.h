/* Layer: domain. Includes: authz.h, db.h, secret.h, source.h, techsupport.h, error.h;
 * never http.h or api.h.
 *
 * Sessions and logins: logging in and out, the token check that the
 * transport runs for every authenticated route, the root account's
 * first-boot password, the sessions list, and the rate limit on failed
 * logins (per source, source.h: an IPv4 address, an IPv6 /64;
 * SESSION_MAX_FAILS failures within SESSION_FAIL_WINDOW seconds block that
 * source until SESSION_FAIL_WINDOW seconds after its last failure). Errors follow error.h. */
#ifndef KEEL_HOSTD_SESSION_H
#define KEEL_HOSTD_SESSION_H

#include "hostd/authz.h"

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#define SESSION_IDLE_S	    (30 * 60)
#define SESSION_MAX_S	    (12 * 60 * 60)
#define SESSION_MAX_FAILS   10
#define SESSION_FAIL_WINDOW 60
#define SESSION_TOKEN_LEN   64 /* hex digits of a token, and of its hash */

/* Makes sure root has a password: on a host without one, generates one,
 * stores its hash, and returns it in `shown` (to be shown once on the
 * console); otherwise shown is "". */
int session_init_root(char *shown, size_t shownlen, char *err, size_t errlen);

/* The session of `authorization` ("Bearer TOKEN"): 0 with its user, the
 * token's hash (SESSION_TOKEN_LEN + 1 bytes) and, unless `source` is NULL,
 * the source it logged in from filled in; or -EACCES. */
int session_authenticate(const char *authorization, char *user, size_t userlen, char *token_hash,
			 char *source, size_t sourcelen);

/* A login of `user` through `door` (authz.h) from `source` (an address,
 * or for a console's door "dcui", "tsm-local", "ssh ADDRESS"); the doors of
 * tech support mode must be enabled too (techsupport.h). 0 with a new session's
 * token (SESSION_TOKEN_LEN + 1 bytes) on success; else a negative errno and
 * a message: -EAGAIN when `source` must wait *retry_after_s seconds (too
 * many failures from that address, or of that user name from that
 * address: authz_login_check), -EACCES for a wrong or unknown user or
 * password (one message for both) or a disabled account, -EPERM in
 * lockdown, -EIO otherwise. *why is the audit log's word for a refusal by
 * the account checks (authz_login_check), else NULL. */
int session_login(const char *user, const char *password, enum door door, const char *source,
		  char *token, long *retry_after_s, const char **why, char *err, size_t errlen);
/* Ends the session whose token has the hash `token_hash`. */
void session_logout(const char *token_hash);

/* A user's own password change, from the session of token hash
 * `token_hash` at address `source`. The check of `current` is a login's:
 * it is refused with -EAGAIN (*retry_after_s) while `source`, or the pair
 * (user, source), must wait, and a wrong `current` (-EACCES) counts as a
 * failed login of the address and of the pair (lock-out policy). Then as authz_user_update: the
 * user's other sessions end, `token_hash`'s stays. */
int session_change_password(const char *user, const char *current, const char *new_password,
			    const char *source, const char *token_hash, long *retry_after_s,
			    char *err, size_t errlen);

/* A session id, as the sessions list shows it: 16 lowercase hex digits
 * (the start of the SHA-256 of its token). */
#define SESSION_ID_LEN 16
bool session_id_valid(const char *id);

/* The live sessions: [{id, user, source, created, last_used}]. */
json_t *session_list(void);

/* Called about every 200 ms and before each session check: when the wall
 * clock was stepped (NTP's first
 * synchronization, a manual time), moves every session's times with it, so
 * that a step ends no session early nor keeps one longer. */
void session_follow_clock(void);
/* Ends the session of id `id` (16 hex digits): -EINVAL for a malformed
 * id, -ENOENT when there is no such session. */
int session_revoke(const char *id, char *err, size_t errlen);

#endif
