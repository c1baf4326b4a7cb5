/* keel-shell: tech support mode's command interpreter (docs/operations.md,
 * "Tech support mode"). Not a Linux shell: a fixed set of commands for a
 * support engineer (interp.c), each recorded in the audit trail through
 * keel-hostd's local API before it runs, and no way to run any program but
 * the keel CLI.
 *
 *   keel-shell --login TTY   local mode (keel-init, on tty2): "login:" and
 *                            "Password:" on TTY, a session through the
 *                            tsm-local door, and again after each exit
 *   keel-shell --login-here  the same on the terminal it is given, for one
 *                            login (the console UI's way in, on a serial
 *                            console that has no second screen)
 *   -keel-shell              (argv[0] starting with '-') an interactive SSH
 *                            session: dropbear has authenticated $USER;
 *                            the login goes through the tsm-ssh door with
 *                            the peer of $SSH_CLIENT
 *   keel-shell -c "LINE"     one command line over SSH (ssh host LINE)
 *
 * An interactive session with no input for the host's idle_timeout_s
 * (GET /api/v1/host/tech-support; 0: never) ends. Sessions begun, refused
 * and ended go to the log service (keel-syslogd's dcui.log), never to the
 * user's terminal; the commands are hostd's to log (the audit trail).
 * Exit status: the command's with -c, 1 when the login is refused. */
#include <errno.h>
#include <jansson.h>
#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/localapi.h"
#include "common/log.h"
#include "common/logfiles.h"
#include "shell/client.h"
#include "shell/interp.h"
#include "shell/intr.h"
#include "shell/lineread.h"
#include "shell/out.h"
#include "shell/session.h"
#include "shell/tty.h"

#define PROG "keel-shell"

static void logout(struct client *api)
{
	char err[512];
	if (session_logout(api, err, sizeof(err)) < 0)
		say_error(PROG, "logout: %s", err);
}

/* the interactive loop of a logged-in user; returns when the session ends */
static void interactive(struct shell *sh, struct lineread *in)
{
	char host[256] = "keel", err[512];
	unsigned idle = 0;
	static char line[LINE_MAX_BYTES + 1];
	gethostname(host, sizeof(host) - 1);
	host[sizeof(host) - 1] = '\0';
	if (session_idle_timeout(sh->api, &idle, err, sizeof(err)) < 0)
		say_error(PROG, "the idle timeout is not known (%s): none applies", err);
	printf("Tech support mode on %s: type help for the commands, exit to leave.\n", host);
	for (;;) {
		intr_clear(); /* a Ctrl-C that ended the last command: spent */
		printf("[%s@%s] keel> ", sh->user, host);
		fflush(stdout);
		enum line_result r = lineread_next(in, line, idle);
		if (r == LINE_TIMEOUT) {
			printf("\nidle for %u s: session ended\n", idle);
			log_msg("%s: idle for %u s: session ended", sh->user, idle);
			break;
		}
		if (r == LINE_EOF || r == LINE_ERROR) {
			putchar('\n');
			break;
		}
		if (intr_hangup())
			break;
		if (r == LINE_INTR) {
			intr_clear();
			putchar('\n');
			continue;
		}
		if (r == LINE_TOO_LONG) {
			say_error(PROG, "the line is longer than %d bytes: not run",
				  SHELL_COMMAND_MAX);
			continue;
		}
		int rc = interp_line(sh, line);
		if (rc == INTERP_EXIT || intr_hangup())
			break;
		if (rc == INTERP_ENDED) {
			printf("the session has ended\n");
			client_clear_token(sh->api); /* nothing to log out */
			break;
		}
	}
	fflush(stdout);
}

/* local mode: login prompts on the terminal (tty; NULL: the one given),
 * for ever, or for one login (`once`: 0 after a session, 1 refused) */
static int local_mode(struct client *api, const char *tty, int once)
{
	char err[512];
	static char user[LINE_MAX_BYTES + 1], password[LINE_MAX_BYTES + 1];
	if (tty && tty_take(tty, err, sizeof(err)) < 0) {
		say_error(PROG, "%s", err);
		return 1;
	}
	struct lineread in;
	lineread_init(&in, 0, intr_fd());
	for (;;) {
		printf("\nKeel tech support mode\n\nlogin: ");
		fflush(stdout);
		enum line_result r = lineread_next(&in, user, 0);
		if (intr_hangup())
			return 0;
		if (r == LINE_ERROR)
			return 1; /* the terminal is gone: keel-init starts another */
		if (r != LINE_OK || !user[0]) {
			intr_clear();
			if (once)
				return 1;
			if (r == LINE_EOF)
				sleep(1);
			continue;
		}
		tty_echo(0, false); /* before the prompt: what is typed after it is not shown */
		printf("Password: ");
		fflush(stdout);
		r = lineread_next(&in, password, 60);
		tty_echo(0, true);
		putchar('\n');
		if (r != LINE_OK) {
			explicit_bzero(password, sizeof(password));
			intr_clear();
			if (once)
				return 1;
			continue;
		}
		int rc = -1;
		if (!session_user_valid(user))
			snprintf(err, sizeof(err), "not a user name");
		else
			rc = session_login_local(api, user, password, err, sizeof(err));
		explicit_bzero(password, sizeof(password));
		if (rc < 0) {
			log_msg("local login of %s refused: %s", user, err);
			printf("Login refused: %s\n", err);
			sleep(2);
			if (once)
				return 1;
			continue;
		}
		struct shell sh = {.api = api, .user = user, .root = ""};
		const char *where = tty ? tty : "the console UI's terminal";
		log_msg("%s logged in on %s", user, where);
		interactive(&sh, &in);
		logout(api);
		log_msg("%s logged out on %s", user, where);
		if (intr_hangup() || once)
			return 0;
	}
}

/* SSH mode: the user dropbear authenticated; line NULL for an
 * interactive session */
static int ssh_mode(struct client *api, const char *line)
{
	char err[512], peer[64];
	const char *user = getenv("USER");
	const char *ssh_client = getenv("SSH_CLIENT");
	if (!user || !session_user_valid(user)) {
		say_error(PROG, "no user: $USER is not set to a user name");
		return 1;
	}
	if (!ssh_client || session_peer(ssh_client, peer) < 0) {
		say_error(PROG, "no peer: $SSH_CLIENT does not begin with an address");
		return 1;
	}
	if (session_login_ssh(api, user, peer, err, sizeof(err)) < 0) {
		log_msg("SSH login of %s from %s refused: %s", user, peer, err);
		say_error(PROG, "login refused: %s", err);
		return 1;
	}
	if (!line)
		log_msg("%s logged in over SSH from %s", user, peer);
	struct shell sh = {.api = api, .user = user, .root = ""};
	int rc = 0;
	if (line) {
		rc = interp_line(&sh, line);
		if (rc == INTERP_ENDED)
			client_clear_token(api); /* nothing to log out */
		rc = rc == INTERP_EXIT ? 0 : rc == INTERP_ENDED ? 1 : rc;
	} else {
		struct lineread in;
		lineread_init(&in, 0, intr_fd());
		interactive(&sh, &in);
	}
	logout(api);
	if (!line)
		log_msg("%s logged out (SSH from %s)", user, peer);
	return rc;
}

/* jansson's free: wiped first, for the login's password and the tokens
 * that pass through JSON values */
static void wipe_free(void *p)
{
	if (p)
		explicit_bzero(p, malloc_usable_size(p));
	free(p);
}

static int usage(void)
{
	fputs("usage: keel-shell --login TTY | --login-here | -c \"COMMAND LINE\" (or as a "
	      "login shell)\n",
	      stderr);
	return 2;
}

int main(int argc, char **argv)
{
	const char *tty = NULL, *line = NULL;
	int here = argc == 2 && strcmp(argv[1], "--login-here") == 0;
	if (argc == 3 && strcmp(argv[1], "--login") == 0)
		tty = argv[2];
	else if (here)
		;
	else if (argc == 3 && strcmp(argv[1], "-c") == 0)
		line = argv[2];
	else if (argc != 1)
		return usage();
	intr_setup();
	log_init(PROG, -1, LOG_SOCKET); /* the log service only */
	json_set_alloc_funcs(malloc, wipe_free);
	struct client *api = client_new(LOCAL_API_SOCKET);
	if (!api) {
		say_error(PROG, "out of memory");
		return 1;
	}
	int rc = tty || here ? local_mode(api, tty, here) : ssh_mode(api, line);
	client_free(api);
	return rc;
}
