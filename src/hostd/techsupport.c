#include "hostd/techsupport.h"

#include "common/hostconf.h"
#include "common/localapi.h"
#include "common/log.h"
#include "common/util.h"
#include "hostd/authz.h"
#include "hostd/db.h"
#include "hostd/error.h"
#include "hostd/mgmt.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

/* changes of host.conf's console settings, one at a time */
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;

/* The operator's wish for the console UI (PUT "dcui"), kept in the
 * inventory; host.conf's console.dcui is what runs: the wish, but never in
 * strict lockdown. */
static int dcui_wanted(void)
{
	char *v = db_setting_get("dcui");
	int on = !v || strcmp(v, "false") != 0;
	free(v);
	return on;
}

/* 1 when the lockdown mode is `mode` ("off", "normal", "strict") */
static int lockdown_is(const char *mode)
{
	json_t *l = authz_lockdown();
	int is = strcmp(json_string_value(json_object_get(l, "mode")) ?: "off", mode) == 0;
	json_decref(l);
	return is;
}

static void current(struct hostconf_console *c)
{
	struct hostconf hc;
	mgmt_saved(&hc);
	*c = hc.console;
}

static json_t *until_json(int on, long long until)
{
	return on && until && time(NULL) < until ? json_integer(until) : json_null();
}

json_t *tsm_describe(void)
{
	struct hostconf_console c;
	current(&c);
	return json_pack("{s:b,s:b,s:o,s:o,s:i,s:i,s:b,s:b}", "local", tsm_enabled(0), "ssh",
			 tsm_enabled(1), "local_until", until_json(c.tsm_local, c.tsm_local_until),
			 "ssh_until", until_json(c.tsm_ssh, c.tsm_ssh_until),
			 "availability_timeout_s", c.tsm_timeout_s, "idle_timeout_s", c.tsm_idle_s,
			 "dcui", dcui_wanted(), "dcui_running", c.dcui);
}

/* a service's switch: turned on, its time starts now */
static void set_service(int *on, long long *until, int want, int timeout_s, time_t now)
{
	if (want && !*on)
		*until = timeout_s ? (long long)now + timeout_s : 0;
	if (!want)
		*until = 0;
	*on = want;
}

static int timeout_field(const json_t *v, const char *name, int *out, char *err, size_t errlen)
{
	if (!v)
		return 0;
	if (!json_is_integer(v) || json_integer_value(v) < 0 ||
	    json_integer_value(v) > TSM_TIMEOUT_MAX)
		return error_set(err, errlen, -EINVAL, "%s: seconds, 0 (none) to %d", name,
				 TSM_TIMEOUT_MAX);
	*out = (int)json_integer_value(v);
	return 0;
}

int tsm_change(const json_t *body, char *err, size_t errlen)
{
	const char *key;
	json_t *v;
	json_object_foreach((json_t *)body, key, v)
	{
		if (strcmp(key, "local") && strcmp(key, "ssh") && strcmp(key, "dcui") &&
		    strcmp(key, "availability_timeout_s") && strcmp(key, "idle_timeout_s"))
			return error_set(err, errlen, -EINVAL, "%s: unknown field", key);
	}
	const json_t *local = json_object_get(body, "local"), *ssh = json_object_get(body, "ssh"),
		     *dcui = json_object_get(body, "dcui");
	if ((local && !json_is_boolean(local)) || (ssh && !json_is_boolean(ssh)) ||
	    (dcui && !json_is_boolean(dcui)))
		return error_set(err, errlen, -EINVAL, "local, ssh, dcui: true or false");
	pthread_mutex_lock(&lock);
	struct hostconf_console c;
	current(&c);
	int rc = timeout_field(json_object_get(body, "availability_timeout_s"),
			       "availability_timeout_s", &c.tsm_timeout_s, err, errlen);
	if (rc == 0)
		rc = timeout_field(json_object_get(body, "idle_timeout_s"), "idle_timeout_s",
				   &c.tsm_idle_s, err, errlen);
	if (rc == 0 && (json_is_true(local) || json_is_true(ssh)) && !lockdown_is("off"))
		rc = error_set(err, errlen, -EPERM,
			       "the host is in lockdown mode: tech support mode stays off");
	time_t now = time(NULL);
	if (rc == 0 && local)
		set_service(&c.tsm_local, &c.tsm_local_until, json_is_true(local), c.tsm_timeout_s,
			    now);
	if (rc == 0 && ssh)
		set_service(&c.tsm_ssh, &c.tsm_ssh_until, json_is_true(ssh), c.tsm_timeout_s, now);
	if (rc == 0 && dcui) {
		rc = db_setting_put("dcui", json_is_true(dcui) ? "true" : "false", err, errlen);
		c.dcui = json_is_true(dcui) && !lockdown_is("strict");
	}
	if (rc == 0)
		rc = mgmt_set_console(&c, err, errlen);
	pthread_mutex_unlock(&lock);
	if (rc == 0 && (local || ssh))
		log_msg("tech support mode: local %s, SSH %s", c.tsm_local ? "on" : "off",
			c.tsm_ssh ? "on" : "off");
	return rc;
}

int tsm_enabled(int ssh)
{
	struct hostconf_console c;
	current(&c);
	int on = ssh ? c.tsm_ssh : c.tsm_local;
	long long until = ssh ? c.tsm_ssh_until : c.tsm_local_until;
	return on && (!until || time(NULL) < until);
}

void tsm_tick(void)
{
	struct hostconf_console c;
	current(&c);
	time_t now = time(NULL);
	int local = c.tsm_local && c.tsm_local_until && now >= c.tsm_local_until;
	int ssh = c.tsm_ssh && c.tsm_ssh_until && now >= c.tsm_ssh_until;
	if (!local && !ssh)
		return;
	json_t *off = json_object();
	if (local)
		json_object_set_new(off, "local", json_false());
	if (ssh)
		json_object_set_new(off, "ssh", json_false());
	char err[256];
	if (tsm_change(off, err, sizeof(err)) < 0)
		log_msg("tech support mode: cannot turn off at its time: %s", err);
	else
		log_msg("tech support mode: %s%s%s off: its availability time-out passed",
			local ? "local" : "", local && ssh ? " and " : "", ssh ? "SSH" : "");
	json_decref(off);
}

void tsm_follow_lockdown(void)
{
	json_t *l = authz_lockdown();
	const char *mode = json_string_value(json_object_get(l, "mode")) ?: "off";
	pthread_mutex_lock(&lock);
	struct hostconf_console c, was;
	current(&c);
	was = c;
	if (strcmp(mode, "off")) {
		c.tsm_local = c.tsm_ssh = 0;
		c.tsm_local_until = c.tsm_ssh_until = 0;
	}
	c.dcui = dcui_wanted() && strcmp(mode, "strict") != 0;
	char err[256];
	if (memcmp(&c, &was, sizeof(c)) && mgmt_set_console(&c, err, sizeof(err)) < 0)
		log_msg("lockdown %s: %s", mode, err);
	pthread_mutex_unlock(&lock);
	json_decref(l);
	tsm_accounts_write();
}

/* The user's public keys, where dropbear looks (HOME/.ssh/authorized_keys:
 * no file when there are none). */
static void write_keys(const char *name)
{
	char path[160];
	snprintf(path, sizeof(path), TSM_HOME_DIR "/%s", name);
	mkdir(path, 0700);
	snprintf(path, sizeof(path), TSM_HOME_DIR "/%s/.ssh", name);
	mkdir(path, 0700);
	snprintf(path, sizeof(path), TSM_HOME_DIR "/%s/.ssh/authorized_keys", name);
	json_t *keys = authz_user_ssh_keys(name);
	char *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);
	size_t i;
	json_t *k;
	json_array_foreach(keys, i, k) if (f) fprintf(f, "%s\n", json_string_value(k));
	if (f)
		fclose(f);
	if (!f || (len ? write_file_atomic(path, text, len, 0600) < 0
		       : unlink(path) < 0 && errno != ENOENT))
		log_errno("tech support mode: cannot write %s", path);
	free(text);
	json_decref(keys);
}

/* The accounts: what /etc/passwd held that is not ours, then ours. */
static int write_accounts(FILE *pw, FILE *sh, int allowed)
{
	char *old = read_file(TSM_PASSWD_FILE, 1 << 20, NULL);
	for (char *line = old, *nl; line && *line; line = nl ? nl + 1 : NULL) {
		nl = strchr(line, '\n');
		if (nl)
			*nl = '\0';
		if (strncmp(line, "root:", 5) != 0 && !strstr(line, ":" TSM_GECOS ":"))
			fprintf(pw, "%s\n", line);
	}
	free(old);
	json_t *users = allowed ? db_users_list() : json_array();
	size_t i;
	json_t *u;
	int root = 0;
	json_array_foreach(users, i, u)
	{
		const char *name = json_string_value(json_object_get(u, "name"));
		char hash[256];
		if (!name || json_integer_value(json_object_get(u, "disabled")) ||
		    db_user_hash(name, hash, sizeof(hash)) < 0 || strpbrk(hash, ":\n"))
			continue;
		root |= strcmp(name, "root") == 0;
		write_keys(name);
		fprintf(pw, "%s:x:0:0:" TSM_GECOS ":" TSM_HOME_DIR "/%s:" KEEL_SHELL_PATH "\n",
			name, name);
		fprintf(sh, "%s:%s:0:0:99999:7:::\n", name, hash);
	}
	json_decref(users);
	if (!root) /* getpwnam("root") keeps working for the host's own use */
		fprintf(pw, "root:x:0:0:root:/:/nonexistent\n");
	return 0;
}

int tsm_accounts_write(void)
{
	static pthread_mutex_t files = PTHREAD_MUTEX_INITIALIZER;
	pthread_mutex_lock(&files);
	char *pw_text = NULL, *sh_text = NULL;
	size_t pw_len = 0, sh_len = 0;
	FILE *pw = open_memstream(&pw_text, &pw_len), *sh = open_memstream(&sh_text, &sh_len);
	int rc = -1;
	if (pw && sh) {
		mkdir(TSM_HOME_DIR, 0755);
		write_accounts(pw, sh, lockdown_is("off"));
		fclose(pw);
		fclose(sh);
		pw = sh = NULL;
		rc = write_file_atomic(TSM_SHADOW_FILE, sh_text, sh_len, 0600) < 0 ||
			     write_file_atomic(TSM_PASSWD_FILE, pw_text, pw_len, 0644) < 0
			 ? -1
			 : 0;
		if (rc < 0)
			log_errno("tech support mode: cannot write the accounts");
	}
	if (pw)
		fclose(pw);
	if (sh)
		fclose(sh);
	free(pw_text);
	free(sh_text);
	pthread_mutex_unlock(&files);
	return rc;
}
