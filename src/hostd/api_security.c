#include "hostd/api.h"

#include "common/log.h"
#include "hostd/audit.h"
#include "hostd/authz.h"
#include "hostd/techsupport.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

/* The users, roles, permissions, policy, lockdown and audit routes: the
 * checks and the changes are authz.c's; these map them onto HTTP. */

/* Replies `ok` with `status` (a JSON body, or none for 204) when rc is a
 * success, else the error in err. A success changed users, roles or
 * permissions: the accounts of tech support mode follow. */
static void reply_result(struct req *r, int rc, unsigned status, const char *err, json_t *ok)
{
	if (rc >= 0)
		tsm_accounts_write();
	if (rc < 0) {
		json_decref(ok);
		reply_errno(r, rc, err);
	} else if (ok) {
		reply_json(r, status, ok);
	} else {
		reply_empty(r, status);
	}
}

void api_privileges(struct req *r)
{
	json_t *arr = json_array();
	for (const struct privilege *p = authz_privileges; p->name; p++)
		json_array_append_new(
		    arr, json_pack("{s:s,s:s}", "name", p->name, "description", p->description));
	reply_json(r, 200, json_pack("{s:o}", "privileges", arr));
}

void api_roles_list(struct req *r)
{
	reply_json(r, 200, json_pack("{s:o}", "roles", authz_roles()));
}

void api_role_show(struct req *r)
{
	json_t *role = authz_role(r->param[0]);
	if (role)
		reply_json(r, 200, role);
	else
		reply_error(r, 404, "%s: no such role", r->param[0]);
}

static void role_put(struct req *r, const char *name, int create)
{
	json_t *body = req_json(r);
	const char *const fields[] = {"name", "privileges", NULL};
	char err[256];
	if (!body || req_only_fields(r, body, create ? fields : fields + 1) < 0)
		goto out;
	if (create && !(name = json_string_value(json_object_get(body, "name")))) {
		reply_error(r, 400, "name: a string is needed");
		goto out;
	}
	int rc =
	    authz_role_put(name, json_object_get(body, "privileges"), create, err, sizeof(err));
	reply_result(r, rc, create ? 201 : 200, err, rc < 0 ? NULL : authz_role(name));
out:
	json_decref(body);
}

void api_role_create(struct req *r)
{
	role_put(r, NULL, 1);
}

void api_role_update(struct req *r)
{
	role_put(r, r->param[0], 0);
}

void api_role_delete(struct req *r)
{
	char err[256];
	reply_result(r, authz_role_remove(r->param[0], err, sizeof(err)), 204, err, NULL);
}

void api_users_list(struct req *r)
{
	reply_json(r, 200, json_pack("{s:o}", "users", authz_users(time(NULL))));
}

void api_user_show(struct req *r)
{
	json_t *u = authz_user(r->param[0], time(NULL));
	if (u)
		reply_json(r, 200, u);
	else
		reply_error(r, 404, "%s: no such user", r->param[0]);
}

void api_user_create(struct req *r)
{
	json_t *body = req_json(r);
	const char *name, *pw;
	char err[256];
	if (!body || req_only_fields(r, body, (const char *const[]){"name", "password", NULL}) < 0)
		goto out;
	if (json_unpack(body, "{s:s,s:s}", "name", &name, "password", &pw) < 0) {
		reply_error(r, 400, "want {\"name\": string, \"password\": string}");
		goto out;
	}
	int rc = authz_user_add(name, pw, err, sizeof(err));
	reply_result(r, rc, 201, err, rc < 0 ? NULL : authz_user(name, time(NULL)));
out:
	json_decref(body);
}

void api_user_update(struct req *r)
{
	json_t *body = req_json(r);
	char err[256];
	if (!body)
		return;
	/* r->token_hash is the caller's session: kept if the caller is the user */
	int rc = authz_user_update(r->param[0], body, r->token_hash, err, sizeof(err));
	reply_result(r, rc, 200, err, rc < 0 ? NULL : authz_user(r->param[0], time(NULL)));
	json_decref(body);
}

void api_user_delete(struct req *r)
{
	char err[256];
	reply_result(r, authz_user_remove(r->param[0], err, sizeof(err)), 204, err, NULL);
}

void api_permissions_list(struct req *r)
{
	reply_json(r, 200, json_pack("{s:o}", "permissions", authz_permissions()));
}

void api_permission_put(struct req *r)
{
	json_t *body = req_json(r);
	const char *user, *entity, *role;
	char err[256];
	if (!body ||
	    req_only_fields(r, body, (const char *const[]){"user", "entity", "role", NULL}) < 0)
		goto out;
	if (json_unpack(body, "{s:s,s:s,s:s}", "user", &user, "entity", &entity, "role", &role) <
	    0) {
		reply_error(r, 400,
			    "want {\"user\": string, \"entity\": string, \"role\": string}");
		goto out;
	}
	int rc = authz_permission_put(user, entity, role, err, sizeof(err));
	reply_result(r, rc, 200, err,
		     json_pack("{s:s,s:s,s:s}", "user", user, "entity", entity, "role", role));
out:
	json_decref(body);
}

void api_permission_delete(struct req *r)
{
	const char *entity = req_query(r, "entity");
	char err[256];
	if (!entity) {
		reply_error(r, 400, "entity: needed as ?entity=host or ?entity=vm/NAME");
		return;
	}
	reply_result(r, authz_permission_remove(r->param[0], entity, err, sizeof(err)), 204, err,
		     NULL);
}

void api_policy_get(struct req *r)
{
	reply_json(r, 200, authz_policy_json());
}

void api_policy_put(struct req *r)
{
	json_t *body = req_json(r);
	char err[256];
	if (!body)
		return;
	int rc = authz_policy_put(body, err, sizeof(err));
	reply_result(r, rc, 200, err, rc < 0 ? NULL : authz_policy_json());
	json_decref(body);
}

void api_lockdown_get(struct req *r)
{
	reply_json(r, 200, authz_lockdown());
}

void api_lockdown_put(struct req *r)
{
	json_t *body = req_json(r);
	char err[256];
	if (!body)
		return;
	int rc = authz_lockdown_put(body, err, sizeof(err));
	if (rc >= 0)
		tsm_follow_lockdown();
	if (rc >= 0)
		log_notice("lockdown: %s by %s from %s",
			   json_string_value(json_object_get(body, "mode")), r->user, r->source);
	reply_result(r, rc, 200, err, rc < 0 ? NULL : authz_lockdown());
	json_decref(body);
}

void api_audit(struct req *r)
{
	const char *l = req_query(r, "lines");
	char *end;
	long lines = l ? strtol(l, &end, 10) : 100;
	if (l && (*l == '\0' || *end || lines < 1 || lines > 10000)) {
		reply_error(r, 400, "lines: an integer from 1 to 10000");
		return;
	}
	const char *log = req_query(r, "log");
	unsigned sets = !log || strcmp(log, "all") == 0 ? AUDIT_ALL
			: strcmp(log, "trail") == 0	? AUDIT_TRAIL
			: strcmp(log, "denied") == 0	? AUDIT_DENIED
							: 0;
	if (!sets) {
		reply_error(r, 400, "log: all, trail or denied");
		return;
	}
	reply_json(r, 200, json_pack("{s:o}", "entries", audit_tail((size_t)lines, sets)));
}
