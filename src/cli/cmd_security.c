/* keel lockdown show | set, keel policy show | set, keel session list |
 * revoke, keel audit and keel host certificate */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "cli/api.h"
#include "cli/args.h"
#include "cli/cmd.h"
#include "cli/mem.h"
#include "cli/output.h"

#define PEM_MAX	    (64 << 10) /* the API's largest body */
#define AUDIT_LINES 10000      /* the API's most */

int cmd_call(struct cli *cli, int argc, char **argv, const char *method, const char *path,
	     void (*print)(json_t *answer))
{
	int rc = args_simple(argc, argv, 0, 0);
	json_t *r = NULL;
	if (rc == 0)
		rc = api_json(cli->api, method, path, NULL, &r);
	return print_answer(cli->json, rc, r, print);
}

int cmd_show(struct cli *cli, int argc, char **argv, const char *path,
	     void (*print)(json_t *answer))
{
	return cmd_call(cli, argc, argv, "GET", path, print);
}

/* --- lockdown ---------------------------------------------------------- */

static void lockdown_print(json_t *l)
{
	char *ex = json_text(json_object_get(l, "exceptions"), "none");
	struct table *t = table_new(2);
	table_add(t, "mode", jstr(l, "mode"));
	table_add(t, "exceptions", ex);
	table_print(t);
	free(ex);
}

int cmd_lockdown_show(struct cli *cli, int argc, char **argv)
{
	return cmd_show(cli, argc, argv, "/api/v1/security/lockdown", lockdown_print);
}

static bool listed(json_t *names, const char *name)
{
	size_t i;
	json_t *n;
	json_array_foreach(names, i, n)
	{
		if (json_is_string(n) && strcmp(json_string_value(n), name) == 0)
			return true;
	}
	return false;
}

int cmd_lockdown_set(struct cli *cli, int argc, char **argv)
{
	static const struct option opts[] = {{"exception", required_argument, NULL, 'e'},
					     {"no-exceptions", no_argument, NULL, 'n'},
					     {"help", no_argument, NULL, 'h'},
					     {0}};
	json_t *ex = json_array();
	bool none = false;
	int c, rc = 0;
	args_begin();
	while (rc == 0 && (c = args_next(argc, argv, "h", opts)) != -1) {
		if (c == 'n')
			none = true;
		else if (c == 'e' && json_array_append_new(ex, json_string(optarg)) < 0) {
			error_msg("--exception: '%s' is not UTF-8 text", optarg);
			rc = EXIT_USAGE;
		} else if (c != 'e')
			rc = c == 'h' ? EXIT_HELP : EXIT_USAGE;
	}
	if (rc == 0)
		rc = args_count(argc, argv, 1, 1);
	const char *mode = rc == 0 ? argv[optind] : "";
	if (rc == 0 && strcmp(mode, "off") && strcmp(mode, "normal") && strcmp(mode, "strict")) {
		error_msg("'%s': the mode is off, normal or strict", mode);
		rc = EXIT_USAGE;
	}
	if (rc == 0 && none && json_array_size(ex)) {
		error_msg("--exception and --no-exceptions exclude each other");
		rc = EXIT_USAGE;
	}
	/* without --exception, the current exceptions are kept */
	json_t *r = NULL;
	if (rc == 0 && !none && json_array_size(ex) == 0) {
		rc = api_json(cli->api, "GET", "/api/v1/security/lockdown", NULL, &r);
		if (rc == 0 && json_is_array(json_object_get(r, "exceptions")))
			json_array_extend(ex, json_object_get(r, "exceptions"));
		json_decref(r);
		r = NULL;
	}
	json_t *body = rc == 0 ? json_pack("{s:s, s:O}", "mode", mode, "exceptions", ex) : NULL;
	json_decref(ex);
	if (rc)
		return rc;
	rc = api_json(cli->api, "PUT", "/api/v1/security/lockdown", body, &r);
	json_decref(body);
	bool locked_out =
	    strcmp(mode, "off") != 0 && !listed(json_object_get(r, "exceptions"), cli->user);
	if (rc == 0 && locked_out) {
		/* the host ended the sessions of the users who may not log in */
		cli->quiet_logout = true;
	}
	if (rc == 0) {
		char *text = json_text(json_object_get(r, "exceptions"), "none");
		rc = print_result(cli->json, r, "lockdown %s (exceptions: %s)", jstr(r, "mode"),
				  text);
		free(text);
	}
	if (rc == 0 && locked_out)
		error_msg("warning: %s is not an exception: %s's sessions have ended, and %s "
			  "cannot log in until lockdown is off",
			  cli->user, cli->user, cli->user);
	json_decref(r);
	return rc;
}

/* --- password and lock-out policy ---------------------------------------- */

static const struct {
	const char *option, *key;
} policy_options[] = {
    {"--min-length", "password_min_length"},
    {"--classes", "password_classes"},
    {"--lockout-failures", "lockout_failures"},
    {"--lockout-seconds", "lockout_seconds"},
};

#define POLICY_FIELDS (int)(sizeof(policy_options) / sizeof(policy_options[0]))

static void policy_print(json_t *p)
{
	char n[4][64];
	snprintf(n[0], sizeof(n[0]), "%lld", jint(p, "password_min_length"));
	snprintf(n[1], sizeof(n[1]), "%lld of lower case, upper case, digits, others",
		 jint(p, "password_classes"));
	if (jint(p, "lockout_failures") == 0)
		snprintf(n[2], sizeof(n[2]), "never");
	else
		snprintf(n[2], sizeof(n[2]), "after %lld failed logins in a row",
			 jint(p, "lockout_failures"));
	snprintf(n[3], sizeof(n[3]), "%lld s", jint(p, "lockout_seconds"));
	struct table *t = table_new(2);
	table_add(t, "password length", n[0]);
	table_add(t, "password classes", n[1]);
	table_add(t, "lock-out", n[2]);
	table_add(t, "locked for", n[3]);
	table_print(t);
}

int cmd_policy_show(struct cli *cli, int argc, char **argv)
{
	return cmd_show(cli, argc, argv, "/api/v1/security/policy", policy_print);
}

int cmd_policy_set(struct cli *cli, int argc, char **argv)
{
	static const struct option opts[] = {{"min-length", required_argument, NULL, 0},
					     {"classes", required_argument, NULL, 1},
					     {"lockout-failures", required_argument, NULL, 2},
					     {"lockout-seconds", required_argument, NULL, 3},
					     {"help", no_argument, NULL, 'h'},
					     {0}};
	long long v[POLICY_FIELDS];
	bool given[POLICY_FIELDS] = {false}, any = false;
	int c;
	args_begin();
	while ((c = args_next(argc, argv, "h", opts)) != -1) {
		if (c < 0 || c >= POLICY_FIELDS)
			return c == 'h' ? EXIT_HELP : EXIT_USAGE;
		/* the API checks the ranges */
		if (arg_uint(policy_options[c].option, optarg, 0, 1000000, &v[c]) < 0)
			return EXIT_USAGE;
		given[c] = any = true;
	}
	int rc = args_count(argc, argv, 0, 0);
	if (rc == 0 && !any) {
		error_msg("nothing to set");
		rc = EXIT_USAGE;
	}
	if (rc)
		return rc;
	/* the whole policy is PUT: the current one, with the options */
	json_t *cur = NULL, *r = NULL;
	rc = api_json(cli->api, "GET", "/api/v1/security/policy", NULL, &cur);
	if (rc)
		return rc;
	json_t *body = json_object();
	for (int i = 0; i < POLICY_FIELDS; i++) {
		json_t *old = json_object_get(cur, policy_options[i].key);
		if (given[i])
			json_object_set_new(body, policy_options[i].key, json_integer(v[i]));
		else if (old)
			json_object_set(body, policy_options[i].key, old);
	}
	json_decref(cur);
	rc = api_json(cli->api, "PUT", "/api/v1/security/policy", body, &r);
	json_decref(body);
	return print_answer(cli->json, rc, r, policy_print);
}

/* --- sessions and the audit log ------------------------------------------ */

/* An epoch (a number, or a string of digits) as local time; other text
 * as it is */
static const char *time_cell(char buf[32], json_t *v)
{
	long long t;
	if (json_is_number(v))
		return fmt_time(buf, (long long)json_number_value(v));
	if (json_is_string(v) && parse_uint(json_string_value(v), 1LL << 62, &t) == 0)
		return fmt_time(buf, t);
	return json_string_value(v);
}

int cmd_session_list(struct cli *cli, int argc, char **argv)
{
	int rc = args_simple(argc, argv, 0, 0);
	json_t *r = NULL;
	if (rc == 0)
		rc = api_json(cli->api, "GET", "/api/v1/sessions", NULL, &r);
	if (rc || cli->json) {
		rc = rc ? rc : print_json(r);
		json_decref(r);
		return rc;
	}
	struct table *t = table_new(5);
	table_add(t, "ID", "USER", "SOURCE", "CREATED", "LAST USED");
	size_t i;
	json_t *s;
	json_array_foreach(json_object_get(r, "sessions"), i, s)
	{
		char created[32], used[32];
		table_add(t, jstr(s, "id"), jstr(s, "user"), jstr(s, "source"),
			  time_cell(created, json_object_get(s, "created")),
			  time_cell(used, json_object_get(s, "last_used")));
	}
	table_print(t);
	json_decref(r);
	return finish_stdout();
}

int cmd_session_revoke(struct cli *cli, int argc, char **argv)
{
	int rc = args_simple(argc, argv, 1, 1);
	if (rc)
		return rc;
	char *path = api_pathf("/api/v1/sessions/%s", argv[optind]);
	rc = api_json(cli->api, "DELETE", path, NULL, NULL);
	free(path);
	cli->quiet_logout = true; /* it may have been this one */
	if (rc == 0)
		rc = print_result(cli->json, NULL, "session %s revoked", argv[optind]);
	return rc;
}

/* "2026-11-24T19:00:00Z" as local time, to the second; else as it is */
static const char *audit_time(char buf[32], const char *iso)
{
	struct tm tm;
	memset(&tm, 0, sizeof(tm));
	const char *end = strptime(iso, "%Y-%m-%dT%H:%M:%SZ", &tm);
	time_t t = end && !*end ? timegm(&tm) : (time_t)-1;
	struct tm local;
	if (t == (time_t)-1 || !localtime_r(&t, &local) ||
	    !strftime(buf, 32, "%Y-%m-%d %H:%M:%S", &local))
		return iso;
	return buf;
}

int cmd_audit(struct cli *cli, int argc, char **argv)
{
	static const struct option opts[] = {{"lines", required_argument, NULL, 'n'},
					     {"log", required_argument, NULL, 'l'},
					     {"help", no_argument, NULL, 'h'},
					     {0}};
	long long lines = 100;
	const char *log = "all";
	int c;
	args_begin();
	while ((c = args_next(argc, argv, "h", opts)) != -1) {
		if (c == 'n' && arg_uint("--lines", optarg, 1, AUDIT_LINES, &lines) == 0)
			continue;
		if (c == 'l' && (strcmp(optarg, "all") == 0 || strcmp(optarg, "trail") == 0 ||
				 strcmp(optarg, "denied") == 0)) {
			log = optarg;
			continue;
		}
		if (c == 'l')
			error_msg("--log: all, trail or denied");
		return c == 'h' ? EXIT_HELP : EXIT_USAGE;
	}
	int rc = args_count(argc, argv, 0, 0);
	if (rc)
		return rc;
	char *path = xasprintf("/api/v1/audit?lines=%lld&log=%s", lines, log);
	json_t *r = NULL;
	rc = api_json(cli->api, "GET", path, NULL, &r);
	free(path);
	if (rc || cli->json) {
		rc = rc ? rc : print_json(r);
		json_decref(r);
		return rc;
	}
	struct table *t = table_new(7);
	table_align_right(t, 4);
	table_add(t, "TIME", "USER", "SOURCE", "RESULT", "STATUS", "ACTION", "TARGET");
	size_t i;
	json_t *e;
	json_array_foreach(json_object_get(r, "entries"), i, e)
	{
		char time[32], status[24] = "";
		if (json_is_number(json_object_get(e, "status")))
			snprintf(status, sizeof(status), "%lld", jint(e, "status"));
		/* requests without a user, counted: "ACTION (N times)" */
		char *action =
		    json_is_integer(json_object_get(e, "count"))
			? xasprintf("%s (%lld times)", jstr(e, "action"), jint(e, "count"))
			: xstrdup(jstr(e, "action"));
		table_add(t, audit_time(time, jstr(e, "time")), jstr(e, "user"), jstr(e, "source"),
			  jstr(e, "result"), status, action, jstr(e, "target"));
		free(action);
	}
	table_print(t);
	json_decref(r);
	return finish_stdout();
}

/* --- the host's certificate ---------------------------------------------- */

/* A PEM file, whole (malloc'd, NUL-terminated); NULL with a message. */
char *cmd_read_pem(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rbe");
	struct stat st;
	if (!f || fstat(fileno(f), &st) < 0 || !S_ISREG(st.st_mode)) {
		error_msg("%s: %s", path, f ? "not a regular file" : strerror(errno));
		if (f)
			fclose(f);
		return NULL;
	}
	char *buf = xmalloc(PEM_MAX + 1);
	size_t n = fread(buf, 1, PEM_MAX + 1, f);
	bool bad = ferror(f);
	fclose(f);
	const char *why = bad		      ? strerror(errno)
			  : n > PEM_MAX	      ? "larger than 64 KiB"
			  : memchr(buf, 0, n) ? "not a PEM file"
					      : NULL;
	if (why) {
		error_msg("%s: %s", path, why);
		explicit_bzero(buf, PEM_MAX + 1);
		free(buf);
		return NULL;
	}
	buf[n] = '\0';
	*len = n;
	return buf;
}

int cmd_host_certificate(struct cli *cli, int argc, char **argv)
{
	static const struct option opts[] = {{"cert", required_argument, NULL, 'c'},
					     {"key", required_argument, NULL, 'k'},
					     {"help", no_argument, NULL, 'h'},
					     {0}};
	const char *cert_path = NULL, *key_path = NULL;
	int c;
	args_begin();
	while ((c = args_next(argc, argv, "h", opts)) != -1) {
		if (c == 'c')
			cert_path = optarg;
		else if (c == 'k')
			key_path = optarg;
		else
			return c == 'h' ? EXIT_HELP : EXIT_USAGE;
	}
	int rc = args_count(argc, argv, 0, 0);
	if (rc == 0 && (!cert_path || !key_path)) {
		error_msg("both --cert and --key are needed");
		rc = EXIT_USAGE;
	}
	if (rc)
		return rc;
	size_t cert_len = 0, key_len = 0;
	char *cert = cmd_read_pem(cert_path, &cert_len);
	char *key = cert ? cmd_read_pem(key_path, &key_len) : NULL;
	json_t *body =
	    key ? json_pack("{s:s%, s:s%}", "certificate", cert, cert_len, "key", key, key_len)
		: NULL;
	if (key && !body)
		error_msg("%s, %s: not PEM files (not UTF-8 text)", cert_path, key_path);
	if (key)
		explicit_bzero(key, key_len);
	free(key);
	free(cert);
	if (!body)
		return EXIT_SETUP;
	json_t *r = NULL;
	rc = api_json(cli->api, "PUT", "/api/v1/host/certificate", body, &r);
	json_t *k = json_object_get(body, "key");
	explicit_bzero((char *)json_string_value(k), json_string_length(k));
	json_decref(body);
	if (rc == 0) {
		/* keel-hostd restarts: the logout may find it gone, or with the
		 * new certificate that the pinned key no longer matches */
		cli->quiet_logout = true;
		rc = print_result(
		    cli->json, r,
		    "certificate replaced; keel-hostd restarts to serve it (running VMs "
		    "keep running)\n"
		    "SHA-256 %s\n"
		    "From now on, give keel this fingerprint with --fingerprint (or\n"
		    "KEEL_FINGERPRINT, or fingerprint= in the credentials file).",
		    jstr(r, "certificate_sha256"));
	}
	json_decref(r);
	return rc;
}
