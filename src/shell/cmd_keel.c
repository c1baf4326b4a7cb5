/* keel ARGS...: the keel CLI run on this host as the logged-in user, and
 * logs [NAME [-n N] [-f]], which is `keel host logs`. This is the only
 * program keel-shell ever runs: the fixed KEEL_CLI_PATH, with argv from
 * the user's words (never through a shell) and a clean environment that
 * points it at the local API with this session's token
 * (KEEL_LOCAL_SOCKET, KEEL_SESSION_TOKEN: docs/cli.md), so the API
 * applies the user's privileges and audits what it does.
 *
 * The CLI would read and write this host's own files where it takes a
 * local file (an upload's source, a download's destination, a
 * certificate, a bundle, cloud-init files): those commands are refused
 * here, but `vm import FILE` and `user ssh-keys NAME FILE` of a file that
 * `cat` could read (relative names are under /scratch, the CLI's folder). Only the global option
 * --json is passed on: the connection is the session's. */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common/util.h"
#include "shell/client.h"
#include "shell/cmd.h"
#include "shell/confine.h"
#include "shell/out.h"
#include "shell/words.h"

#ifndef KEEL_CLI_PATH
#define KEEL_CLI_PATH "/sbin/keel"
#endif
#define KEEL_CLI_DIR "/scratch" /* its working folder */

/* The CLI commands that take a file of this host, and what is done with
 * them: refused, or their files (the words that are not options, from the
 * first_file-th on) checked as `cat` would check them. */
enum file_rule { FILES_REFUSED, FILES_CONFINED, FILES_IN_OPTIONS };

static const struct {
	const char *group, *name;
	enum file_rule rule;
	int first_file;
} local_files[] = {
    {"datastore", "upload", FILES_REFUSED, 0}, {"datastore", "download", FILES_REFUSED, 0},
    {"host", "certificate", FILES_REFUSED, 0}, {"host", "support-bundle", FILES_REFUSED, 0},
    {"vm", "create", FILES_IN_OPTIONS, 0},     {"vm", "import", FILES_CONFINED, 0}, /* FILE */
    {"user", "ssh-keys", FILES_CONFINED, 1},					    /* NAME FILE */
};

/* vm create's options that name a file */
static const char *const file_options[] = {"--cloud-init", "--meta-data", "--network-config"};

/* the options of those commands that take a value (a word that is not a file) */
static const char *const value_options[] = {"--name", "--datastore", "--memory", "--vcpus",
					    "--firmware"};

static bool takes_value(const char *opt)
{
	for (size_t i = 0; i < ARRAY_SIZE(value_options); i++)
		if (!strcmp(opt, value_options[i]))
			return true;
	return false;
}

/* the files among argv (the words after the command's) from the first-th
 * word that is not an option must be readable by `cat`: 0, or -1 after a
 * message */
static int check_files(struct shell *sh, int argc, char **argv, int first)
{
	int positional = 0;
	for (int i = 0; i < argc; i++) {
		if (argv[i][0] == '-') {
			i += takes_value(argv[i]) && !strchr(argv[i], '=');
			continue;
		}
		if (positional++ < first)
			continue;
		char path[PATH_MAX], resolved[PATH_MAX];
		int n = argv[i][0] == '/'
			    ? snprintf(path, sizeof(path), "%s", argv[i])
			    : snprintf(path, sizeof(path), KEEL_CLI_DIR "/%s", argv[i]);
		if (n < 0 || (size_t)n >= sizeof(path)) {
			say_error("keel", "%s: the name is too long", argv[i]);
			return -1;
		}
		enum confine_verdict v = confine_resolve(sh->root, path, resolved);
		if (v != CONFINE_OK) {
			say_error("keel", "%s: %s", argv[i], confine_reason(v, errno));
			return -1;
		}
	}
	return 0;
}

/* 0 if the CLI may run argv (after "keel"); -1 after a message */
static int allowed(struct shell *sh, int argc, char **argv)
{
	int first = 0;
	while (first < argc && argv[first][0] == '-') {
		if (strcmp(argv[first], "--json") && strcmp(argv[first], "-h") &&
		    strcmp(argv[first], "--help")) {
			say_error("keel",
				  "%s: only --json may come before the command here (the "
				  "connection is this session's)",
				  argv[first]);
			return -1;
		}
		first++;
	}
	if (argc - first < 2)
		return 0;
	int rest = argc - first - 2;
	char **words = argv + first + 2;
	for (size_t i = 0; i < ARRAY_SIZE(local_files); i++) {
		if (strcmp(argv[first], local_files[i].group) ||
		    strcmp(argv[first + 1], local_files[i].name))
			continue;
		switch (local_files[i].rule) {
		case FILES_CONFINED:
			return check_files(sh, rest, words, local_files[i].first_file);
		case FILES_IN_OPTIONS:
			for (int j = 0; j < rest; j++)
				for (size_t k = 0; k < ARRAY_SIZE(file_options); k++)
					if (!strncmp(words[j], file_options[k],
						     strlen(file_options[k]))) {
						say_error(
						    "keel",
						    "%s %s %s: reads a file of this host: run it "
						    "from a client",
						    local_files[i].group, local_files[i].name,
						    file_options[k]);
						return -1;
					}
			return 0;
		case FILES_REFUSED:
			say_error("keel",
				  "%s %s: works with files of this host: not in tech support mode "
				  "(run it from a client)",
				  local_files[i].group, local_files[i].name);
			return -1;
		}
	}
	return 0;
}

/* runs the CLI with args (NULL-terminated, args[0] "keel"); its status */
static int run_cli(struct shell *sh, char **args)
{
	char socket_env[160], token_env[CLIENT_TOKEN_MAX + 32], user_env[96], term_env[64];
	const char *term = getenv("TERM");
	snprintf(socket_env, sizeof(socket_env), "KEEL_LOCAL_SOCKET=%s", client_socket(sh->api));
	snprintf(token_env, sizeof(token_env), "KEEL_SESSION_TOKEN=%s", client_token(sh->api));
	snprintf(user_env, sizeof(user_env), "KEEL_USER=%s", sh->user);
	snprintf(term_env, sizeof(term_env), "TERM=%s",
		 term && strlen(term) < 32 &&
			 strspn(term, "abcdefghijklmnopqrstuvwxyz0123456789-") == strlen(term)
		     ? term
		     : "linux");
	char *env[] = {
	    socket_env, token_env,	user_env, term_env, "PATH=/sbin:/usr/sbin:/usr/bin:/bin",
	    "HOME=/",	"LANG=C.UTF-8", NULL};
	fflush(stdout);
	fflush(stderr);
	pid_t pid = fork();
	if (pid < 0) {
		say_error("keel", "cannot start the CLI: %s", strerror(errno));
		explicit_bzero(token_env, sizeof(token_env));
		return 1;
	}
	if (pid == 0) {
		signal(SIGINT, SIG_DFL);
		signal(SIGPIPE, SIG_DFL);
		signal(SIGQUIT, SIG_DFL);
		if (chdir(KEEL_CLI_DIR) < 0 && chdir("/") < 0)
			_exit(127);
		execve(KEEL_CLI_PATH, args, env);
		fprintf(stderr, "keel: cannot run %s: %s\n", KEEL_CLI_PATH, strerror(errno));
		_exit(127);
	}
	explicit_bzero(token_env, sizeof(token_env));
	int status;
	while (waitpid(pid, &status, 0) < 0)
		if (errno != EINTR)
			return 1;
	if (WIFSIGNALED(status))
		putchar('\n');
	return WIFEXITED(status) && WEXITSTATUS(status) == 0 ? 0 : 1;
}

int cmd_keel(struct shell *sh, int argc, char **argv)
{
	if (argc < 2) {
		say_error("keel", "usage: keel COMMAND [ARGS] (keel help: the commands)");
		return 1;
	}
	if (allowed(sh, argc - 1, argv + 1) < 0)
		return 1;
	argv[0] = "keel";
	return run_cli(sh, argv);
}

int cmd_logs(struct shell *sh, int argc, char **argv)
{
	char *args[WORDS_MAX + 8];
	int n = 0;
	args[n++] = "keel";
	args[n++] = "host";
	args[n++] = "logs";
	const char *name = NULL;
	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "-f") || !strcmp(argv[i], "--follow")) {
			args[n++] = "--follow";
		} else if ((!strcmp(argv[i], "-n") || !strcmp(argv[i], "--lines")) &&
			   i + 1 < argc) {
			long lines;
			if (cmd_number("logs", "-n", argv[++i], 1, 10000, &lines) < 0)
				return 1;
			args[n++] = "--lines";
			args[n++] = argv[i];
		} else if (argv[i][0] != '-' && !name) {
			name = argv[i];
		} else {
			say_error("logs", "usage: logs [NAME [-n N] [-f]]");
			return 1;
		}
	}
	if (!name && n > 3) {
		say_error("logs", "-n and -f go with a log's NAME (logs: the list)");
		return 1;
	}
	if (name) { /* NAME first, the options after it */
		memmove(args + 4, args + 3, (size_t)(n - 3) * sizeof(*args));
		args[3] = (char *)name;
		n++;
	}
	args[n] = NULL;
	return run_cli(sh, args);
}
