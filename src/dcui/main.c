/* keel-dcui: the Direct Console UI (docs/operations.md, "The console").
 *
 *   keel-dcui [--idle-timeout SECONDS] [--socket PATH] TTY
 *
 * keel-init runs one on /dev/tty1 (TERM=linux) and one on the serial
 * console (TERM=vt100 or vt220), and starts it again when it ends. TTY "-"
 * uses the terminal already on stdin and stdout. Everything it shows or
 * changes goes through keel-hostd's local API (common/localapi.h). */
#include "dcui/actions.h"
#include "dcui/idle.h"
#include "dcui/lapi.h"
#include "dcui/screen.h"

#include <curses.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>

#define REFRESH_MS	 5000 /* the idle screen is read again this often */
#define IDLE_TIMEOUT_S	 300  /* a logged-in console left alone is logged out */
#define IDLE_TIMEOUT_MAX 86400L

static void usage(void)
{
	fprintf(stderr, "usage: keel-dcui [--idle-timeout SECONDS] [--socket PATH] TTY\n");
	exit(2);
}

int main(int argc, char **argv)
{
	static const struct option options[] = {{"idle-timeout", required_argument, NULL, 'i'},
						{"socket", required_argument, NULL, 's'},
						{NULL, 0, NULL, 0}};
	long idle = IDLE_TIMEOUT_S;
	const char *socket_path = NULL;
	int opt;
	while ((opt = getopt_long(argc, argv, "", options, NULL)) != -1) {
		char *end;
		if (opt == 'i') {
			idle = strtol(optarg, &end, 10);
			if (*end || idle < 1 || idle > IDLE_TIMEOUT_MAX)
				usage();
		} else if (opt == 's') {
			socket_path = optarg;
		} else {
			usage();
		}
	}
	if (optind != argc - 1)
		usage();
	signal(SIGPIPE, SIG_IGN);
	struct lapi *api = lapi_new(socket_path);
	char err[256];
	if (!api) {
		fprintf(stderr, "keel-dcui: out of memory\n");
		return 1;
	}
	if (screen_open(argv[optind], err, sizeof(err)) < 0) {
		fprintf(stderr, "keel-dcui: %s\n", err);
		lapi_free(api);
		return 1;
	}
	screen_set_idle((int)idle);
	struct idle_info info;
	for (unsigned turn = 1; !screen_gone(); turn++) {
		/* now and then the whole screen again: a kernel emergency, or a
		 * terminal switched on late, leaves no trace for long */
		if (turn % 12 == 0)
			clearok(curscr, TRUE);
		idle_fetch(api, &info);
		idle_draw(&info);
		int key = screen_key(REFRESH_MS);
		if (key == KEY_F(2) || key == '2') {
			if (login_ask(api, "Authentication Required") == 0)
				menu_run(api);
		} else if (key == KEY_F(12) || key == '9') {
			power_run(api);
		}
	}
	lapi_free(api); /* logs out, should a screen have left a session */
	screen_close();
	fprintf(stderr, "keel-dcui: %s hung up\n", argv[optind]);
	return 1;
}
