/* keel-shell's session with keel-hostd over the local API (common/
 * localapi.h): the login through the door the user came by, the audit
 * record of each command before it runs, tech support mode's settings and
 * the logout. Every call returns 0 or -1 with err set (the API's own
 * message when it refused); nothing is printed here. */
#ifndef KEEL_SHELL_SESSION_H
#define KEEL_SHELL_SESSION_H

#include <stddef.h>

struct client;

#define USER_NAME_MAX 64

/* Whether name can be sent as a user name: 1..USER_NAME_MAX bytes, no
 * control characters, no blank (hostd checks the rest). */
int session_user_valid(const char *name);

/* POST /session {"user", "channel": "tsm-ssh", "peer"}: dropbear has
 * authenticated the user already. peer is SSH_CLIENT's address. */
int session_login_ssh(struct client *c, const char *user, const char *peer, char *err,
		      size_t errlen);
/* POST /session {"user", "password", "channel": "tsm-local"} */
int session_login_local(struct client *c, const char *user, const char *password, char *err,
			size_t errlen);
/* DELETE /session */
int session_logout(struct client *c, char *err, size_t errlen);
/* POST /host/tech-support/commands {"command"}: the audit record of a
 * command about to run; the command must not run when this fails. -2
 * (with err) when the session is no longer valid (HTTP 401: expired,
 * revoked, or ended by lockdown). */
int session_audit(struct client *c, const char *command, char *err, size_t errlen);
/* GET /host/tech-support's idle_timeout_s (0: none) */
int session_idle_timeout(struct client *c, unsigned *seconds, char *err, size_t errlen);

/* The first word of SSH_CLIENT ("ADDR PORT PORT"), checked to be an IPv4
 * or IPv6 address, into peer (64 bytes). -1 if it is not one. */
int session_peer(const char *ssh_client, char peer[64]);

#endif
