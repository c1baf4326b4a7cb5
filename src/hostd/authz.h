/* Layer: domain. Includes: db.h, secret.h, vmconf.h (names), error.h;
 * never http.h or api.h.
 *
 * Access control: privileges, roles (built-in and custom), permissions (a
 * role for a user on the host or on one VM), users, the password and
 * lock-out policy, and lockdown mode. State is in the inventory (db.h);
 * every function takes effect when it returns. Functions that can be
 * refused return 0 or a negative errno with a message (error.h). */
#ifndef KEEL_HOSTD_AUTHZ_H
#define KEEL_HOSTD_AUTHZ_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

struct privilege {
	const char *name;
	const char *description;
};
extern const struct privilege authz_privileges[]; /* ends with {NULL, NULL} */

/* 1 when `user` holds `privilege` on the VM `vm` (NULL: on the host). */
int authz_allowed(const char *user, const char *privilege, const char *vm);

/* Roles: JSON {name, builtin, privileges}. */
json_t *authz_roles(void);
json_t *authz_role(const char *name);
int authz_role_put(const char *name, const json_t *privileges, int create, char *err,
		   size_t errlen);
int authz_role_remove(const char *name, char *err, size_t errlen);

/* Permissions: JSON {user, entity, role}; entity "host" or "vm/NAME". */
json_t *authz_permissions(void);
int authz_permission_put(const char *user, const char *entity, const char *role, char *err,
			 size_t errlen);
int authz_permission_remove(const char *user, const char *entity, char *err, size_t errlen);

/* The password and lock-out policy. lockout_failures: failed logins of a
 * (user name, source address) before that pair must wait (0: never);
 * lockout_seconds: the longest wait (throttle.h). */
struct policy {
	int min_length, classes, lockout_failures, lockout_seconds;
};
void authz_policy(struct policy *p);
json_t *authz_policy_json(void);
int authz_policy_put(const json_t *body, char *err, size_t errlen);
/* 0 when `password` meets the policy, else -EINVAL with the reason. */
int authz_password_ok(const char *password, char *err, size_t errlen);

/* Users: JSON {name, disabled, locked, locked_until, failed_logins}: locked
 * while some source must wait before trying the user again (until the
 * latest locked_until); failed_logins counted over all sources. */
json_t *authz_users(int64_t now);
json_t *authz_user(const char *name, int64_t now);
int authz_user_add(const char *name, const char *password, char *err, size_t errlen);
/* body: any of password, disabled, locked (false ends every source's
 * wait for this user), ssh_keys (the list, replaced whole). A new password
 * ends the user's sessions but `keep_session` (the token hash of the
 * session making the change, when it is the user's own; NULL: none). */
int authz_user_update(const char *name, const json_t *body, const char *keep_session, char *err,
		      size_t errlen);
int authz_user_remove(const char *name, char *err, size_t errlen);
/* A user's public keys for SSH (tech support mode), as set with
 * authz_user_update's "ssh_keys": a JSON array of authorized_keys lines
 * ("TYPE BASE64 [COMMENT]", no options), at most AUTHZ_SSH_KEYS_MAX. */
#define AUTHZ_SSH_KEYS_MAX 16
#define AUTHZ_SSH_KEY_MAX  8192
json_t *authz_user_ssh_keys(const char *user);

/* Logins. authz_login_check: 0 and the user may log in from `source`, or
 * -EACCES with the same message "wrong user name or password" for an
 * unknown user and a wrong password (an unknown user costs one password
 * hash too, against a dummy: the time tells nothing), -EACCES "disabled"
 * for a disabled account with the right password, -EAGAIN with
 * *retry_after_s while the pair (user, source) must wait (throttle.h:
 * after lockout_failures failures, waits growing up to lockout_seconds;
 * the same for names that are no user's), or -EPERM (lockdown). *why is a
 * short word for the audit log, which says what happened ("ok", "failed",
 * "unknown user", "throttled", "disabled", "lockdown"). */
/* The door a person comes in through (common/localapi.h): the API over
 * HTTPS, or one of the host's own consoles on the local API. */
enum door { DOOR_API, DOOR_DCUI, DOOR_TSM_LOCAL, DOOR_TSM_SSH };
/* ... through `door`: the API's lockdown refusal comes before the password
 * is checked, a console's after it (authz_door_check; *why "lockdown" or,
 * lockdown off, "not allowed"). `password` NULL:
 * the user was authenticated already (an SSH login, DOOR_TSM_SSH). */
int authz_login_check(const char *user, const char *password, enum door door, const char *source,
		      int64_t now, long *retry_after_s, const char **why, char *err, size_t errlen);
/* A channel's name ("dcui", "tsm-local", "tsm-ssh") as a door: 0, or -1. */
int authz_door_parse(const char *channel, enum door *out);
/* The door of a session, from its source ("dcui", "tsm-local",
 * "ssh ADDRESS"; any other is the API's). */
enum door authz_door_of_source(const char *source);
/* The lockdown matrix (common/localapi.h): 0 when `user` may come in
 * through `door` in the present lockdown mode, else -EPERM with the
 * reason. The API's door is authz_login_check's. */
int authz_door_check(const char *user, enum door door, char *err, size_t errlen);
/* 1 for root and the users with the Administrator role on the host. */
int authz_host_admin(const char *user);

/* Lockdown mode: JSON {mode, exceptions}. */
json_t *authz_lockdown(void);
/* Sets the mode (from the API); ends the sessions of users who may no
 * longer log in. */
int authz_lockdown_put(const json_t *body, char *err, size_t errlen);

#endif
