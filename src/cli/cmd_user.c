/* keel user list | show | create | passwd | disable | enable | unlock |
 * delete, and keel passwd (one's own password).
 *
 * New passwords are never arguments: with --password-stdin they are lines
 * of stdin, else they are asked on /dev/tty with echo off (a new one
 * twice). Each command logs in before it asks, so that a wrong host, login
 * or privilege fails before a password is typed. */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

#include "cli/api.h"
#include "cli/args.h"
#include "cli/cmd.h"
#include "cli/interrupt.h"
#include "cli/mem.h"
#include "cli/output.h"
#include "common/util.h"

/* --- password input ---------------------------------------------------- */

enum { LINE_OK, LINE_EOF, LINE_LONG, LINE_ERR };

/* One line of fd (read a byte at a time, so that nothing after it is
 * consumed), without its newline or a CR before it; the end of the input
 * also ends a line that is not empty. */
static int read_line(int fd, char buf[PASSWORD_BUF])
{
	size_t len = 0;
	int rc = LINE_OK;
	char ch = 0;
	for (;;) {
		ssize_t r = read(fd, &ch, 1);
		if (r < 0 && errno == EINTR && !interrupted())
			continue;
		if (r < 0) {
			rc = LINE_ERR;
			break;
		}
		if (r == 0) {
			rc = len ? LINE_OK : LINE_EOF;
			break;
		}
		if (ch == '\n')
			break;
		if (len == PASSWORD_BUF - 1) {
			rc = LINE_LONG;
			break;
		}
		buf[len++] = ch;
	}
	ch = 0;
	if (len && buf[len - 1] == '\r')
		len--;
	buf[len] = '\0';
	if (rc == LINE_OK && len > PASSWORD_MAX)
		rc = LINE_LONG;
	return rc;
}

/* Reports a read_line result that is not LINE_OK (or an empty password);
 * returns 0 or the exit code. */
static int line_result(int rc, const char *buf, const char *from)
{
	if (rc == LINE_OK && *buf)
		return 0;
	if (rc == LINE_ERR && interrupted())
		error_msg("interrupted");
	else if (rc == LINE_ERR)
		error_msg("cannot read %s: %s", from, strerror(errno));
	else if (rc == LINE_EOF)
		error_msg("no password read from %s", from);
	else if (rc == LINE_LONG)
		error_msg("the password is longer than %d bytes", PASSWORD_MAX);
	else
		error_msg("the password is empty");
	return interrupted() ? EXIT_FAIL : EXIT_SETUP;
}

/* n passwords into pw[0..n-1]: n lines of stdin, or asked on the terminal
 * with prompts[i] (the last one, a new password, is asked twice when
 * `confirm`). */
static int read_secrets(bool from_stdin, int n, const char *const prompts[], bool confirm,
			char pw[][PASSWORD_BUF])
{
	if (from_stdin) {
		for (int i = 0; i < n; i++) {
			int rc = line_result(read_line(STDIN_FILENO, pw[i]), pw[i], "stdin");
			if (rc)
				return rc;
		}
		return 0;
	}
	int fd = open("/dev/tty", O_RDWR | O_CLOEXEC | O_NOCTTY);
	if (fd < 0) {
		error_msg("no terminal to ask the password on: use --password-stdin");
		return EXIT_SETUP;
	}
	struct termios saved, quiet;
	bool tty = tcgetattr(fd, &saved) == 0;
	if (tty) {
		quiet = saved;
		quiet.c_lflag &= ~(tcflag_t)(ECHO | ECHONL);
		tcsetattr(fd, TCSAFLUSH, &quiet);
	}
	char again[PASSWORD_BUF];
	int rc = 0;
	for (int i = 0; i < n + confirm && rc == 0; i++) {
		char *buf = i < n ? pw[i] : again;
		if (i < n)
			dprintf(fd, "%s: ", prompts[i]);
		else
			dprintf(fd, "Retype the new password: ");
		rc = line_result(read_line(fd, buf), buf, "the terminal");
		dprintf(fd, "\n");
	}
	if (rc == 0 && confirm && strcmp(pw[n - 1], again) != 0) {
		error_msg("the passwords do not match");
		rc = EXIT_SETUP;
	}
	explicit_bzero(again, sizeof(again));
	if (tty)
		tcsetattr(fd, TCSAFLUSH, &saved);
	close(fd);
	return rc;
}

static int read_passwords(bool from_stdin, int n, const char *const prompts[],
			  char pw[][PASSWORD_BUF])
{
	return read_secrets(from_stdin, n, prompts, true, pw);
}

int cmd_read_secret(bool from_stdin, const char *prompt, bool confirm, char out[PASSWORD_BUF])
{
	return read_secrets(from_stdin, 1, &prompt, confirm, (char(*)[PASSWORD_BUF])out);
}

static bool password_stdin_option(int argc, char **argv, int *rc)
{
	static const struct option opts[] = {
	    {"password-stdin", no_argument, NULL, 'p'}, {"help", no_argument, NULL, 'h'}, {0}};
	bool from_stdin = false;
	int c;
	*rc = 0;
	args_begin();
	while ((c = args_next(argc, argv, "h", opts)) != -1) {
		if (c != 'p') {
			*rc = c == 'h' ? EXIT_HELP : EXIT_USAGE;
			return false;
		}
		from_stdin = true;
	}
	return from_stdin;
}

/* Wipes and drops a JSON body that holds passwords. */
static void drop_secret_body(json_t *body)
{
	const char *key;
	json_t *v;
	json_object_foreach(body, key, v)
	{
		if (json_is_string(v) && strstr(key, "password"))
			explicit_bzero((char *)json_string_value(v), json_string_length(v));
	}
	json_decref(body);
}

/* --- output ------------------------------------------------------------ */

/* "no", or "until TIME" */
static const char *locked_text(char buf[48], json_t *u)
{
	char t[32];
	if (!jbool(u, "locked"))
		return "no";
	if (!json_is_integer(json_object_get(u, "locked_until")))
		return "yes";
	snprintf(buf, 48, "until %s", fmt_time(t, jint(u, "locked_until")));
	return buf;
}

int cmd_user_list(struct cli *cli, int argc, char **argv)
{
	int rc = args_simple(argc, argv, 0, 0);
	json_t *r = NULL;
	if (rc == 0)
		rc = api_json(cli->api, "GET", "/api/v1/users", NULL, &r);
	if (rc || cli->json) {
		rc = rc ? rc : print_json(r);
		json_decref(r);
		return rc;
	}
	struct table *t = table_new(4);
	table_align_right(t, 3);
	table_add(t, "NAME", "DISABLED", "LOCKED", "FAILURES");
	size_t i;
	json_t *u;
	json_array_foreach(json_object_get(r, "users"), i, u)
	{
		char locked[48], failed[24];
		snprintf(failed, sizeof(failed), "%lld", jint(u, "failed_logins"));
		table_add(t, jstr(u, "name"), jbool(u, "disabled") ? "yes" : "no",
			  locked_text(locked, u), failed);
	}
	table_print(t);
	json_decref(r);
	return finish_stdout();
}

int cmd_user_show(struct cli *cli, int argc, char **argv)
{
	int rc = args_simple(argc, argv, 1, 1);
	if (rc)
		return rc;
	const char *name = argv[optind];
	char *path = api_pathf("/api/v1/users/%s", name);
	json_t *u = NULL, *perms = NULL;
	rc = api_json(cli->api, "GET", path, NULL, &u);
	free(path);
	if (rc == 0 && !cli->json)
		rc = api_json(cli->api, "GET", "/api/v1/permissions", NULL, &perms);
	if (rc || cli->json) {
		rc = rc ? rc : print_json(u);
		json_decref(u);
		return rc;
	}
	char locked[48], failed[24];
	snprintf(failed, sizeof(failed), "%lld", jint(u, "failed_logins"));
	struct table *t = table_new(2);
	table_add(t, "name", jstr(u, "name"));
	table_add(t, "disabled", jbool(u, "disabled") ? "yes" : "no");
	table_add(t, "locked", locked_text(locked, u));
	table_add(t, "failed logins", failed);
	size_t i, n = 0;
	json_t *p;
	json_array_foreach(json_object_get(perms, "permissions"), i, p)
	{
		if (strcmp(jstr(p, "user"), jstr(u, "name")) != 0)
			continue;
		char *s = xasprintf("%s on %s", jstr(p, "role"), jstr(p, "entity"));
		table_add(t, "permission", s);
		free(s);
		n++;
	}
	if (n == 0)
		table_add(t, "permission", "none (no access)");
	table_print(t);
	json_decref(u);
	json_decref(perms);
	return finish_stdout();
}

/* NAME [--password-stdin]: create and passwd */
static int new_password(struct cli *cli, int argc, char **argv, bool create)
{
	int rc;
	bool from_stdin = password_stdin_option(argc, argv, &rc);
	if (rc == 0)
		rc = args_count(argc, argv, 1, 1);
	if (rc)
		return rc;
	const char *name = argv[optind];
	/* logs in, and checks the privilege and the user, before asking */
	json_t *r = NULL;
	char *path = api_pathf(create ? "/api/v1/users" : "/api/v1/users/%s", name);
	rc = api_json(cli->api, "GET", path, NULL, &r);
	free(path);
	size_t i;
	json_t *u;
	json_array_foreach(json_object_get(r, "users"), i, u)
	{
		if (rc == 0 && strcmp(jstr(u, "name"), name) == 0) {
			error_msg("%s: the user exists", name);
			rc = EXIT_FAIL;
		}
	}
	json_decref(r);
	r = NULL;
	char pw[1][PASSWORD_BUF];
	char *prompt = xasprintf("New password for %s", name);
	if (rc == 0)
		rc = read_passwords(from_stdin, 1, (const char *const[]){prompt}, pw);
	free(prompt);
	if (rc) {
		explicit_bzero(pw, sizeof(pw));
		return rc;
	}
	json_t *body = create ? json_pack("{s:s, s:s}", "name", name, "password", pw[0])
			      : json_pack("{s:s}", "password", pw[0]);
	explicit_bzero(pw, sizeof(pw));
	if (!body) {
		error_msg("the user name and the password must be UTF-8 text");
		return EXIT_SETUP;
	}
	path = create ? api_pathf("/api/v1/users") : api_pathf("/api/v1/users/%s", name);
	rc = api_json(cli->api, create ? "POST" : "PATCH", path, body, &r);
	free(path);
	drop_secret_body(body);
	if (rc == 0 && create)
		rc = print_result(
		    cli->json, r,
		    "%s created (with no permission yet: keel permission set %s ROLE)", name, name);
	else if (rc == 0)
		rc = print_result(cli->json, r, "password of %s changed", name);
	json_decref(r);
	return rc;
}

int cmd_user_create(struct cli *cli, int argc, char **argv)
{
	return new_password(cli, argc, argv, true);
}

int cmd_user_passwd(struct cli *cli, int argc, char **argv)
{
	return new_password(cli, argc, argv, false);
}

/* NAME: PATCH /api/v1/users/NAME with {key: value} */
static int patch(struct cli *cli, int argc, char **argv, const char *key, bool value,
		 const char *what)
{
	int rc = args_simple(argc, argv, 1, 1);
	if (rc)
		return rc;
	const char *name = argv[optind];
	/* disabling oneself ends one's own session too */
	cli->quiet_logout = strcmp(key, "disabled") == 0 && value && strcmp(name, cli->user) == 0;
	char *path = api_pathf("/api/v1/users/%s", name);
	json_t *body = json_pack("{s:b}", key, value), *r = NULL;
	rc = api_json(cli->api, "PATCH", path, body, &r);
	free(path);
	json_decref(body);
	if (rc == 0)
		rc = print_result(cli->json, r, "%s %s", name, what);
	json_decref(r);
	return rc;
}

int cmd_user_disable(struct cli *cli, int argc, char **argv)
{
	return patch(cli, argc, argv, "disabled", true, "disabled (its sessions ended)");
}

int cmd_user_enable(struct cli *cli, int argc, char **argv)
{
	return patch(cli, argc, argv, "disabled", false, "enabled");
}

int cmd_user_unlock(struct cli *cli, int argc, char **argv)
{
	return patch(cli, argc, argv, "locked", false, "unlocked");
}

int cmd_user_delete(struct cli *cli, int argc, char **argv)
{
	int rc = args_simple(argc, argv, 1, 1);
	if (rc)
		return rc;
	const char *name = argv[optind];
	char *path = api_pathf("/api/v1/users/%s", name);
	rc = api_json(cli->api, "DELETE", path, NULL, NULL);
	free(path);
	cli->quiet_logout = strcmp(name, cli->user) == 0;
	if (rc == 0)
		rc = print_result(cli->json, NULL, "%s deleted, with its permissions and sessions",
				  name);
	return rc;
}

int cmd_passwd(struct cli *cli, int argc, char **argv)
{
	int rc;
	bool from_stdin = password_stdin_option(argc, argv, &rc);
	if (rc == 0)
		rc = args_count(argc, argv, 0, 0);
	if (rc)
		return rc;
	/* logs in before asking (any logged-in user may list the privileges) */
	json_t *r = NULL;
	rc = api_json(cli->api, "GET", "/api/v1/privileges", NULL, &r);
	json_decref(r);
	if (rc)
		return rc;
	char pw[2][PASSWORD_BUF];
	char *prompt = xasprintf("Current password of %s", cli->user);
	rc = read_passwords(from_stdin, 2, (const char *const[]){prompt, "New password"}, pw);
	free(prompt);
	json_t *body = NULL;
	if (rc == 0)
		body = json_pack("{s:s, s:s}", "current_password", pw[0], "new_password", pw[1]);
	explicit_bzero(pw, sizeof(pw));
	if (rc)
		return rc;
	if (!body) {
		error_msg("the passwords must be UTF-8 text");
		return EXIT_SETUP;
	}
	rc = api_json(cli->api, "POST", "/api/v1/session/password", body, NULL);
	drop_secret_body(body);
	if (rc == 0)
		rc = print_result(cli->json, NULL, "password of %s changed", cli->user);
	return rc;
}

/* keel user ssh-keys NAME FILE | NAME --none: the user's public keys for
 * SSH (tech support mode), replaced by FILE's (authorized_keys lines: one
 * key per line; blank lines and '#' comments skipped) */
int cmd_user_ssh_keys(struct cli *cli, int argc, char **argv)
{
	static const struct option opts[] = {
	    {"none", no_argument, NULL, 'n'}, {"help", no_argument, NULL, 'h'}, {0}};
	int c, rc = 0, none = 0;
	args_begin();
	while (rc == 0 && (c = args_next(argc, argv, "h", opts)) != -1)
		if (c == 'n')
			none = 1;
		else
			rc = c == 'h' ? EXIT_HELP : EXIT_USAGE;
	if (rc == 0)
		rc = args_count(argc, argv, none ? 1 : 2, none ? 1 : 2);
	if (rc)
		return rc;
	json_t *keys = json_array();
	if (!none) {
		size_t len;
		char *text = read_file(argv[optind + 1], 256 * 1024, &len);
		if (!text) {
			error_msg("%s: cannot read it (at most 256 KiB)", argv[optind + 1]);
			json_decref(keys);
			return EXIT_SETUP;
		}
		char *save = NULL;
		for (char *line = strtok_r(text, "\r\n", &save); line;
		     line = strtok_r(NULL, "\r\n", &save))
			if (*line && *line != '#')
				json_array_append_new(keys, json_string(line));
		free(text);
	}
	const char *name = argv[optind];
	char *path = api_pathf("/api/v1/users/%s", name);
	json_t *body = json_pack("{s:o}", "ssh_keys", keys), *r = NULL;
	rc = api_json(cli->api, "PATCH", path, body, &r);
	free(path);
	json_decref(body);
	if (rc == 0)
		rc = print_result(cli->json, r, "%s: %zu SSH key%s", name,
				  json_array_size(json_object_get(r, "ssh_keys")),
				  json_array_size(json_object_get(r, "ssh_keys")) == 1 ? "" : "s");
	json_decref(r);
	return rc;
}
