#include "hostd/authz.h"

#include "common/localapi.h"
#include "common/names.h"
#include "common/util.h"
#include "common/vmspec.h"
#include "hostd/db.h"
#include "hostd/error.h"
#include "hostd/secret.h"
#include "hostd/throttle.h"

#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#define MAX_EXCEPTIONS 32

const struct privilege authz_privileges[] = {
    {"System.View", "see the host, its datastores and VMs"},
    {"System.Audit", "read the audit log"},
    {"VirtualMachine.Inventory", "create and delete VMs"},
    {"VirtualMachine.Config", "change a VM's configuration"},
    {"VirtualMachine.PowerOn", "power a VM on"},
    {"VirtualMachine.PowerOff", "shut down, power off, reset or kill a VM"},
    {"VirtualMachine.Console", "read a VM's console"},
    {"Datastore.Browse", "list datastore folders and download files"},
    {"Datastore.FileManagement", "upload, remove, copy and grow files; make folders and disks"},
    {"Datastore.AllocateSpace", "create a disk for a VM (in its configuration)"},
    {"Network.Assign", "put a VM's NIC on a port group"},
    {"Host.Config.Network", "configure the host's networking"},
    {"Host.Config.Security",
     "manage users, roles, permissions, policy, lockdown, sessions and the certificate"},
    {"Host.Config.Maintenance", "restart the management agents; reboot and shut down the host"},
    {"Host.Diagnostics",
     "read the host's logs (not the audit trail) and download the support bundle"},
    {NULL, NULL},
};

static int valid_privilege(const char *name)
{
	for (const struct privilege *p = authz_privileges; p->name; p++)
		if (strcmp(p->name, name) == 0)
			return 1;
	return 0;
}

/* --- roles --------------------------------------------------------------- */

static json_t *builtin_role(const char *name)
{
	json_t *privs = json_array();
	if (strcmp(name, "Administrator") == 0) {
		for (const struct privilege *p = authz_privileges; p->name; p++)
			json_array_append_new(privs, json_string(p->name));
	} else if (strcmp(name, "ReadOnly") == 0) {
		json_array_append_new(privs, json_string("System.View"));
	} else if (strcmp(name, "NoAccess") != 0) {
		json_decref(privs);
		return NULL;
	}
	return json_pack("{s:s,s:b,s:o}", "name", name, "builtin", 1, "privileges", privs);
}

json_t *authz_role(const char *name)
{
	json_t *r = builtin_role(name);
	if (r)
		return r;
	char *text = db_role_privileges(name);
	json_t *privs = text ? json_loads(text, 0, NULL) : NULL;
	if (privs)
		r = json_pack("{s:s,s:b,s:o}", "name", name, "builtin", 0, "privileges", privs);
	free(text);
	return r;
}

json_t *authz_roles(void)
{
	json_t *out = json_array();
	const char *builtin[] = {"NoAccess", "ReadOnly", "Administrator"};
	for (size_t i = 0; i < ARRAY_SIZE(builtin); i++)
		json_array_append_new(out, builtin_role(builtin[i]));
	json_t *names = db_role_names();
	size_t i;
	json_t *name;
	json_array_foreach(names, i, name)
	{
		json_t *r = authz_role(json_string_value(name));
		if (r)
			json_array_append_new(out, r);
	}
	json_decref(names);
	return out;
}

int authz_role_put(const char *name, const json_t *privileges, int create, char *err, size_t errlen)
{
	json_t *old = authz_role(name);
	int builtin = old && json_is_true(json_object_get(old, "builtin"));
	json_decref(old);
	if (!role_name_valid(name))
		return error_set(err, errlen, -EINVAL, "name: " ROLE_NAME_RULE);
	if (builtin)
		return error_set(err, errlen, -EEXIST, "%s: a built-in role cannot be changed",
				 name);
	if (create && old)
		return error_set(err, errlen, -EEXIST, "%s: the role exists", name);
	if (!create && !old)
		return error_set(err, errlen, -ENOENT, "%s: no such role", name);
	if (!json_is_array(privileges))
		return error_set(err, errlen, -EINVAL, "privileges: an array of privilege names");
	json_t *clean = json_array();
	size_t i;
	json_t *p;
	json_array_foreach(privileges, i, p)
	{
		if (!json_is_string(p) || !valid_privilege(json_string_value(p))) {
			json_decref(clean);
			return error_set(
			    err, errlen, -EINVAL,
			    "privileges[%zu]: no such privilege (GET /api/v1/privileges)", i);
		}
		int dup = 0;
		size_t j;
		json_t *q;
		json_array_foreach(clean, j, q) dup |= json_equal(p, q);
		if (!dup)
			json_array_append(clean, p);
	}
	char *text = json_dumps(clean, JSON_COMPACT);
	json_decref(clean);
	int rc = text ? db_role_put(name, text, err, errlen)
		      : error_set(err, errlen, -ENOMEM, "out of memory");
	free(text);
	return rc < 0 ? rc : 0;
}

int authz_role_remove(const char *name, char *err, size_t errlen)
{
	json_t *r = authz_role(name);
	int builtin = r && json_is_true(json_object_get(r, "builtin"));
	json_decref(r);
	if (!r)
		return error_set(err, errlen, -ENOENT, "%s: no such role", name);
	if (builtin)
		return error_set(err, errlen, -EEXIST, "%s: a built-in role cannot be removed",
				 name);
	json_t *used = db_role_first_use(name);
	if (used) {
		int rc = error_set(err, errlen, -EBUSY, "%s: used by %s's permission on %s", name,
				   json_string_value(json_object_get(used, "user")),
				   json_string_value(json_object_get(used, "entity")));
		json_decref(used);
		return rc;
	}
	int rc = db_role_delete(name, err, errlen);
	return rc < 0 ? rc : 0;
}

/* --- permissions and checks ---------------------------------------------- */

int authz_allowed(const char *user, const char *privilege, const char *vm)
{
	if (strcmp(user, "root") == 0)
		return 1;
	char entity[80];
	char *role = NULL;
	if (vm) {
		snprintf(entity, sizeof(entity), "vm/%s", vm);
		role = db_permission_role(user, entity);
	}
	if (!role)
		role = db_permission_role(user, "host");
	json_t *r = role ? authz_role(role) : NULL;
	free(role);
	int ok = 0;
	size_t i;
	json_t *p;
	json_array_foreach(json_object_get(r, "privileges"), i, p) ok |=
	    strcmp(json_string_value(p), privilege) == 0;
	json_decref(r);
	return ok;
}

json_t *authz_permissions(void)
{
	json_t *out = json_array();
	json_array_append_new(out, json_pack("{s:s,s:s,s:s}", "user", "root", "entity", "host",
					     "role", "Administrator"));
	json_t *rows = db_permissions_list();
	json_array_extend(out, rows);
	json_decref(rows);
	return out;
}

static int check_entity(const char *entity, char *err, size_t errlen)
{
	if (strcmp(entity, "host") == 0 ||
	    (strncmp(entity, "vm/", 3) == 0 && vm_name_valid(entity + 3)))
		return 0;
	return error_set(err, errlen, -EINVAL, "entity: \"host\" or \"vm/NAME\"");
}

int authz_permission_put(const char *user, const char *entity, const char *role, char *err,
			 size_t errlen)
{
	int rc = check_entity(entity, err, errlen);
	if (rc < 0)
		return rc;
	if (strcmp(user, "root") == 0)
		return error_set(err, errlen, -EEXIST, "root is Administrator on the host, always");
	if (!db_user_exists(user))
		return error_set(err, errlen, -ENOENT, "%s: no such user", user);
	json_t *r = authz_role(role);
	json_decref(r);
	if (!r)
		return error_set(err, errlen, -ENOENT, "%s: no such role", role);
	return db_permission_put(user, entity, role, err, errlen);
}

int authz_permission_remove(const char *user, const char *entity, char *err, size_t errlen)
{
	int n = check_entity(entity, err, errlen);
	if (n < 0)
		return n;
	if (strcmp(user, "root") == 0)
		return error_set(err, errlen, -EEXIST, "root is Administrator on the host, always");
	n = db_permission_delete(user, entity, err, errlen);
	if (n == 0)
		return error_set(err, errlen, -ENOENT, "%s has no permission on %s", user, entity);
	return n < 0 ? n : 0;
}

/* --- settings: policy and lockdown ---------------------------------------- */

static json_t *setting(const char *key)
{
	char *text = db_setting_get(key);
	json_t *v = text ? json_loads(text, 0, NULL) : NULL;
	free(text);
	return v;
}

static int setting_put(const char *key, const json_t *value, char *err, size_t errlen)
{
	char *text = json_dumps(value, JSON_COMPACT);
	int rc = text ? db_setting_put(key, text, err, errlen)
		      : error_set(err, errlen, -ENOMEM, "out of memory");
	free(text);
	return rc;
}

static const struct {
	const char *key;
	int lo, hi, def;
} policy_fields[] = {
    {"password_min_length", 8, 128, 12},
    {"password_classes", 1, 4, 3},
    {"lockout_failures", 0, 100, 5},
    {"lockout_seconds", 1, 86400, 900},
};

void authz_policy(struct policy *p)
{
	json_t *v = setting("policy");
	int *out[] = {&p->min_length, &p->classes, &p->lockout_failures, &p->lockout_seconds};
	for (size_t i = 0; i < ARRAY_SIZE(policy_fields); i++) {
		json_t *x = json_object_get(v, policy_fields[i].key);
		*out[i] = x ? (int)json_integer_value(x) : policy_fields[i].def;
	}
	json_decref(v);
}

json_t *authz_policy_json(void)
{
	struct policy p;
	authz_policy(&p);
	return json_pack("{s:i,s:i,s:i,s:i}", "password_min_length", p.min_length,
			 "password_classes", p.classes, "lockout_failures", p.lockout_failures,
			 "lockout_seconds", p.lockout_seconds);
}

int authz_policy_put(const json_t *body, char *err, size_t errlen)
{
	json_t *v = authz_policy_json();
	const char *key;
	json_t *x;
	json_object_foreach((json_t *)body, key, x)
	{
		size_t i = 0;
		while (i < ARRAY_SIZE(policy_fields) && strcmp(policy_fields[i].key, key))
			i++;
		if (i == ARRAY_SIZE(policy_fields)) {
			json_decref(v);
			return error_set(err, errlen, -EINVAL, "%s: unknown field", key);
		}
		if (!json_is_integer(x) || json_integer_value(x) < policy_fields[i].lo ||
		    json_integer_value(x) > policy_fields[i].hi) {
			json_decref(v);
			return error_set(err, errlen, -EINVAL, "%s: an integer from %d to %d", key,
					 policy_fields[i].lo, policy_fields[i].hi);
		}
		json_object_set(v, key, x);
	}
	int rc = setting_put("policy", v, err, errlen);
	json_decref(v);
	return rc;
}

int authz_password_ok(const char *pw, char *err, size_t errlen)
{
	struct policy p;
	authz_policy(&p);
	int lower = 0, upper = 0, digit = 0, other = 0;
	for (const unsigned char *c = (const unsigned char *)pw; *c; c++) {
		if (*c < 0x20 || *c == 0x7f)
			return error_set(err, errlen, -EINVAL,
					 "password: control characters are not allowed");
		lower |= islower(*c) != 0;
		upper |= isupper(*c) != 0;
		digit |= isdigit(*c) != 0;
		other |= !isalnum(*c);
	}
	if (strlen(pw) < (size_t)p.min_length || strlen(pw) > 1024)
		return error_set(err, errlen, -EINVAL,
				 "password: at least %d characters (and at most 1024)",
				 p.min_length);
	if (lower + upper + digit + other < p.classes)
		return error_set(err, errlen, -EINVAL,
				 "password: needs %d of: lower case, upper case, digits, others",
				 p.classes);
	return 0;
}

/* --- users ------------------------------------------------------------- */

static json_t *user_json(json_t *row, int64_t now)
{
	/* locked: some source must wait before trying this user again */
	long failed;
	int64_t until;
	throttle_status(json_string_value(json_object_get(row, "name")), now, &failed, &until);
	return json_pack("{s:O,s:b,s:b,s:o,s:I,s:o}", "name", json_object_get(row, "name"),
			 "disabled", json_integer_value(json_object_get(row, "disabled")) != 0,
			 "locked", until > now, "locked_until",
			 until > now ? json_integer(until) : json_null(), "failed_logins",
			 (json_int_t)failed, "ssh_keys",
			 authz_user_ssh_keys(json_string_value(json_object_get(row, "name"))));
}

/* One user's row (with its hash), or every user's (without) */
static json_t *user_rows(const char *name)
{
	if (!name)
		return db_users_list();
	json_t *row = db_user_get(name), *rows = json_array();
	if (row)
		json_array_append_new(rows, row);
	return rows;
}

json_t *authz_users(int64_t now)
{
	json_t *rows = user_rows(NULL), *out = json_array();
	size_t i;
	json_t *row;
	json_array_foreach(rows, i, row) json_array_append_new(out, user_json(row, now));
	json_decref(rows);
	return out;
}

json_t *authz_user(const char *name, int64_t now)
{
	json_t *rows = user_rows(name);
	json_t *row = json_array_get(rows, 0);
	json_t *out = row ? user_json(row, now) : NULL;
	json_decref(rows);
	return out;
}

static int set_password(const char *name, const char *password, char *err, size_t errlen)
{
	char hash[256];
	int rc = authz_password_ok(password, err, errlen);
	if (rc < 0)
		return rc;
	if (secret_hash_password(password, hash, sizeof(hash), err, errlen) < 0)
		return -EIO;
	rc = db_user_set_hash(name, hash, err, errlen);
	if (rc >= 0 && strcmp(name, "root") == 0)
		unlink(FIRST_BOOT_PASSWORD_FILE); /* the console UI shows it no more */
	return rc < 0 ? rc : 0;
}

int authz_user_add(const char *name, const char *password, char *err, size_t errlen)
{
	if (!user_name_valid(name))
		return error_set(err, errlen, -EINVAL, "name: " USER_NAME_RULE);
	if (db_user_exists(name))
		return error_set(err, errlen, -EEXIST, "%s: the user exists", name);
	int rc = authz_password_ok(password, err, errlen);
	if (rc < 0)
		return rc;
	if ((rc = db_user_add(name, err, errlen)) < 0)
		return rc;
	rc = set_password(name, password, err, errlen);
	if (rc < 0)
		db_user_delete(name, NULL, 0);
	return rc;
}

/* An authorized_keys line as OpenSSH writes a public key: "TYPE BASE64
 * [COMMENT]", a known type, no options (they could loosen what the key may
 * do), printable ASCII only. */
static int valid_ssh_key(const char *line)
{
	static const char *const types[] = {"ssh-ed25519",
					    "ssh-rsa",
					    "ecdsa-sha2-nistp256",
					    "ecdsa-sha2-nistp384",
					    "ecdsa-sha2-nistp521",
					    "sk-ssh-ed25519@openssh.com",
					    "sk-ecdsa-sha2-nistp256@openssh.com",
					    NULL};
	size_t len = strlen(line);
	if (len == 0 || len > AUTHZ_SSH_KEY_MAX)
		return 0;
	for (size_t i = 0; i < len; i++)
		if (line[i] < 0x20 || line[i] > 0x7e)
			return 0;
	size_t t = strcspn(line, " ");
	int known = 0;
	for (size_t i = 0; types[i]; i++)
		known |= strlen(types[i]) == t && strncmp(line, types[i], t) == 0;
	if (!known || line[t] != ' ')
		return 0;
	const char *b64 = line + t + 1;
	size_t n = strspn(b64, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/=");
	return n >= 16 && (b64[n] == '\0' || b64[n] == ' ');
}

static void ssh_keys_key(const char *user, char *out, size_t n)
{
	snprintf(out, n, "ssh_keys:%s", user);
}

json_t *authz_user_ssh_keys(const char *user)
{
	char key[96];
	ssh_keys_key(user, key, sizeof(key));
	json_t *keys = setting(key);
	if (!json_is_array(keys)) {
		json_decref(keys);
		keys = json_array();
	}
	return keys;
}

static int set_ssh_keys(const char *user, json_t *keys, char *err, size_t errlen)
{
	size_t i;
	json_t *k;
	if (!json_is_array(keys) || json_array_size(keys) > AUTHZ_SSH_KEYS_MAX)
		return error_set(err, errlen, -EINVAL, "ssh_keys: a list of at most %d public keys",
				 AUTHZ_SSH_KEYS_MAX);
	json_array_foreach(
	    keys, i,
	    k) if (!json_is_string(k) ||
		   !valid_ssh_key(json_string_value(
		       k))) return error_set(err, errlen, -EINVAL,
					     "ssh_keys[%zu]: a public key as OpenSSH writes it "
					     "(\"ssh-ed25519 AAAA... comment\"), "
					     "without options",
					     i);
	char key[96];
	ssh_keys_key(user, key, sizeof(key));
	return setting_put(key, keys, err, errlen);
}

int authz_user_update(const char *name, const json_t *body, const char *keep_session, char *err,
		      size_t errlen)
{
	json_t *pw = json_object_get(body, "password"), *dis = json_object_get(body, "disabled"),
	       *locked = json_object_get(body, "locked"), *keys = json_object_get(body, "ssh_keys");
	const char *key;
	json_t *x;
	json_object_foreach(
	    (json_t *)body, key,
	    x) if (strcmp(key, "password") && strcmp(key, "disabled") && strcmp(key, "locked") &&
		   strcmp(key, "ssh_keys")) return error_set(err, errlen, -EINVAL,
							     "%s: unknown field", key);
	if ((pw && !json_is_string(pw)) || (dis && !json_is_boolean(dis)) ||
	    (locked && !json_is_false(locked)))
		return error_set(
		    err, errlen, -EINVAL,
		    "want {\"password\": string, \"disabled\": bool, \"locked\": false}");
	if (!db_user_exists(name))
		return error_set(err, errlen, -ENOENT, "%s: no such user", name);
	if (dis && json_is_true(dis) && strcmp(name, "root") == 0)
		return error_set(err, errlen, -EEXIST, "root cannot be disabled");
	int rc = pw ? authz_password_ok(json_string_value(pw), err, errlen) : 0;
	if (rc < 0)
		return rc;
	if (keys && (rc = set_ssh_keys(name, keys, err, errlen)) < 0)
		return rc;
	rc = pw ? set_password(name, json_string_value(pw), err, errlen) : 0;
	if (rc == 0 && pw) /* whoever knew the old password is logged out */
		db_sessions_remove_user_except(name, keep_session, NULL, 0);
	if (rc == 0 && dis) {
		db_user_set_disabled(name, json_is_true(dis), err, errlen);
		if (json_is_true(dis))
			db_sessions_remove_user(name, NULL, 0);
	}
	if (rc == 0 && locked) {
		db_user_unlock(name, err, errlen); /* a lock an older version set */
		throttle_clear(name, NULL);
	}
	return rc;
}

int authz_user_remove(const char *name, char *err, size_t errlen)
{
	if (strcmp(name, "root") == 0)
		return error_set(err, errlen, -EEXIST, "root cannot be deleted");
	if (!db_user_exists(name))
		return error_set(err, errlen, -ENOENT, "%s: no such user", name);
	int rc = db_user_delete(name, err, errlen);
	if (rc >= 0) { /* a user of that name made later starts without them */
		json_t *none = json_array();
		set_ssh_keys(name, none, NULL, 0);
		json_decref(none);
	}
	return rc < 0 ? rc : 0;
}

/* --- logins and lockdown -------------------------------------------------- */

static const char *lockdown_mode(json_t *l)
{
	const char *m = json_string_value(json_object_get(l, "mode"));
	return m ? m : "off";
}

static int is_exception(json_t *l, const char *user)
{
	size_t i;
	json_t *e;
	json_array_foreach(json_object_get(l, "exceptions"), i,
			   e) if (strcmp(json_string_value(e), user) == 0) return 1;
	return 0;
}

json_t *authz_lockdown(void)
{
	json_t *l = setting("lockdown");
	if (!l)
		l = json_pack("{s:s,s:[]}", "mode", "off", "exceptions");
	return l;
}

static int door_refused(json_t *l, const char *user, enum door door, char *err, size_t errlen);

int authz_login_check(const char *user, const char *password, enum door door, const char *source,
		      int64_t now, long *retry_after_s, const char **why, char *err, size_t errlen)
{
	*retry_after_s = 0;
	/* the API's refusal comes first, as it always did; a console's
	 * after the password, so that it tells nothing of who is whom */
	if (door == DOOR_API && authz_door_check(user, door, err, errlen) < 0) {
		*why = "lockdown";
		return -EPERM;
	}
	/* Per (name, source), whether or not the name is a user's: a wait
	 * tells nothing about who exists. */
	*retry_after_s = throttle_wait(user, source, now);
	if (*retry_after_s > 0) {
		*why = "throttled";
		return error_set(err, errlen, -EAGAIN,
				 "too many failed logins of this user name from this address: "
				 "try again in %ld s",
				 *retry_after_s);
	}
	json_t *rows = user_rows(user);
	json_t *row = json_array_get(rows, 0);
	int ok = 0;
	if (row && !password) {
		ok = 1; /* authenticated already (DOOR_TSM_SSH: dropbear) */
	} else if (row) {
		ok = secret_check_password(password,
					   json_string_value(json_object_get(row, "hash")));
	} else if (password) {
		secret_check_dummy(password); /* the same time as for a user */
	}
	int rc;
	if (!ok) {
		/* The same answer for an unknown user and a wrong password; the
		 * audit says which. */
		*why = row ? "failed" : "unknown user";
		struct policy p;
		authz_policy(&p);
		throttle_fail(user, source, now, p.lockout_failures, p.lockout_seconds);
		rc = error_set(err, errlen, -EACCES, "wrong user name or password");
	} else if (json_integer_value(json_object_get(row, "disabled"))) {
		*why = "disabled";
		rc = error_set(err, errlen, -EACCES, "%s: the account is disabled", user);
	} else {
		throttle_clear(user, source);
		rc = door == DOOR_API ? 0 : authz_door_check(user, door, err, errlen);
		json_t *l = rc == 0 ? NULL : authz_lockdown();
		*why = rc == 0					? "ok"
		       : strcmp(lockdown_mode(l), "off") == 0 ? "not allowed"
							: "lockdown";
		json_decref(l);
	}
	json_decref(rows);
	return rc;
}

int authz_door_parse(const char *channel, enum door *out)
{
	static const char *const names[] = {
	    [DOOR_DCUI] = "dcui", [DOOR_TSM_LOCAL] = "tsm-local", [DOOR_TSM_SSH] = "tsm-ssh"};
	for (int d = DOOR_DCUI; d <= DOOR_TSM_SSH; d++)
		if (strcmp(channel, names[d]) == 0) {
			*out = (enum door)d;
			return 0;
		}
	return -1;
}

enum door authz_door_of_source(const char *source)
{
	if (strcmp(source, "dcui") == 0)
		return DOOR_DCUI;
	if (strcmp(source, "tsm-local") == 0)
		return DOOR_TSM_LOCAL;
	return strncmp(source, "ssh ", 4) == 0 ? DOOR_TSM_SSH : DOOR_API;
}

int authz_host_admin(const char *user)
{
	if (strcmp(user, "root") == 0)
		return 1;
	char *role = db_permission_role(user, "host");
	int admin = role && strcmp(role, "Administrator") == 0;
	free(role);
	return admin;
}

/* The matrix for lockdown `l` (the API's door: exception users only in
 * lockdown). */
static int door_refused(json_t *l, const char *user, enum door door, char *err, size_t errlen)
{
	const char *mode = lockdown_mode(l);
	int off = strcmp(mode, "off") == 0;
	if (door == DOOR_API)
		return off || is_exception(l, user)
			   ? 0
			   : error_set(err, errlen, -EPERM,
				       "the host is in %s lockdown mode: logins are refused", mode);
	if (door == DOOR_DCUI && strcmp(mode, "strict") == 0)
		return error_set(err, errlen, -EPERM,
				 "the host is in strict lockdown mode: the console is disabled");
	if (door == DOOR_DCUI && !off)
		return strcmp(user, "root") == 0
			   ? 0
			   : error_set(err, errlen, -EPERM,
				       "the host is in normal lockdown mode: only root may log in "
				       "at the console");
	if (!off)
		return error_set(err, errlen, -EPERM,
				 "the host is in %s lockdown mode: tech support mode is refused",
				 mode);
	return authz_host_admin(user)
		   ? 0
		   : error_set(err, errlen, -EPERM,
			       "%s: only root and Administrators of the host may log in here",
			       user);
}

int authz_door_check(const char *user, enum door door, char *err, size_t errlen)
{
	json_t *l = authz_lockdown();
	int rc = door_refused(l, user, door, err, errlen);
	json_decref(l);
	return rc;
}

int authz_lockdown_put(const json_t *body, char *err, size_t errlen)
{
	json_t *mode = json_object_get(body, "mode"), *ex = json_object_get(body, "exceptions");
	const char *key;
	json_t *x;
	json_object_foreach((json_t *)body, key,
			    x) if (strcmp(key, "mode") &&
				   strcmp(key, "exceptions")) return error_set(err, errlen, -EINVAL,
									       "%s: unknown field",
									       key);
	const char *m = json_string_value(mode);
	if (!m || (strcmp(m, "off") && strcmp(m, "normal") && strcmp(m, "strict")))
		return error_set(err, errlen, -EINVAL, "mode: \"off\", \"normal\" or \"strict\"");
	json_t *old = authz_lockdown();
	if (!ex)
		ex = json_object_get(old, "exceptions");
	if (!json_is_array(ex) || json_array_size(ex) > MAX_EXCEPTIONS) {
		json_decref(old);
		return error_set(err, errlen, -EINVAL,
				 "exceptions: an array of at most %d user names", MAX_EXCEPTIONS);
	}
	size_t i;
	json_t *e;
	int admin = 0;
	json_array_foreach(ex, i, e)
	{
		if (!json_is_string(e) || !db_user_exists(json_string_value(e))) {
			json_decref(old);
			return error_set(err, errlen, -EINVAL, "exceptions[%zu]: no such user", i);
		}
		admin |= authz_allowed(json_string_value(e), "Host.Config.Security", NULL);
	}
	if (strcmp(m, "strict") == 0 && !admin) {
		json_decref(old);
		return error_set(
		    err, errlen, -EEXIST,
		    "strict lockdown needs an exception user with Host.Config.Security: "
		    "else the host could never be managed again");
	}
	json_t *l = json_pack("{s:s,s:O}", "mode", m, "exceptions", ex);
	json_decref(old);
	int rc = setting_put("lockdown", l, err, errlen);
	if (rc == 0 && strcmp(m, "off")) {
		/* sessions of users who may no longer come in through
		 * their door end now */
		json_t *sessions = db_sessions_list(time(NULL));
		json_t *sn;
		char why[160];
		json_array_foreach(sessions, i, sn)
		{
			const char *user = json_string_value(json_object_get(sn, "user"));
			enum door d = authz_door_of_source(
			    json_string_value(json_object_get(sn, "source")) ?: "");
			if (user && door_refused(l, user, d, why, sizeof(why)) < 0)
				db_sessions_remove_id(json_string_value(json_object_get(sn, "id")),
						      NULL, 0);
		}
		json_decref(sessions);
	}
	json_decref(l);
	return rc;
}
