/* Sessions and logins: POST/DELETE /api/v1/session, the token check that
 * http.c runs for every authenticated route, the root account's first-boot
 * password, and the rate limit on failed logins (per client address:
 * SESSION_MAX_FAILS failures within SESSION_FAIL_WINDOW seconds block that
 * address until SESSION_FAIL_WINDOW seconds after its last failure). */
#ifndef KEEL_HOSTD_SESSION_H
#define KEEL_HOSTD_SESSION_H

#include "hostd/http.h"

#define SESSION_IDLE_S	    (30 * 60)
#define SESSION_MAX_S	    (12 * 60 * 60)
#define SESSION_MAX_FAILS   10
#define SESSION_FAIL_WINDOW 60

/* Makes sure root has a password: on a host without one, generates one,
 * stores its hash, and returns it in `shown` (to be shown once on the
 * console); otherwise shown is "". */
int session_init_root(char *shown, size_t shownlen, char *err, size_t errlen);

/* For http.c: the session of `authorization` ("Bearer TOKEN"); fills
 * r->user and r->token_hash, or returns -1. */
int session_authenticate(struct req *r, const char *authorization);

void api_session_login(struct req *r);
void api_session_logout(struct req *r);
void api_session_password(struct req *r);
void api_sessions(struct req *r);
void api_session_revoke(struct req *r);

#endif
