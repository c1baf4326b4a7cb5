#include "init/consoles.h"

#include "common/localapi.h"
#include "common/log.h"
#include "common/util.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define DCUI_MAX     4
#define DCUI_PROGRAM "/sbin/keel-dcui"
#define SHELL_TTY    "tty2"
#define DROPBEAR     "/sbin/dropbear"
#define DROPBEARKEY  "/sbin/dropbearkey"
#define IDLE_ARG     13 /* dropbear's argv: the idle time-out */

static char dcui_ttys[DCUI_MAX][16];
static int ndcui;
static char console_tty[16] = "tty1"; /* /dev/console's terminal */

static const char *const host_keys[][2] = {
    {"ed25519", SSH_KEY_DIR "/dropbear_ed25519_host_key"},
    {"ecdsa", SSH_KEY_DIR "/dropbear_ecdsa_host_key"},
};

/* a terminal's name: letters and digits, e.g. tty1, ttyS0, hvc0 */
static int valid_tty(const char *s, size_t n)
{
	if (n == 0 || n >= sizeof(dcui_ttys[0]))
		return 0;
	for (size_t i = 0; i < n; i++)
		if (!(s[i] >= 'a' && s[i] <= 'z') && !(s[i] >= 'A' && s[i] <= 'Z') &&
		    !(s[i] >= '0' && s[i] <= '9'))
			return 0;
	return 1;
}

static void add_dcui(const char *tty, size_t n)
{
	if (!valid_tty(tty, n) || ndcui == DCUI_MAX) {
		log_msg("consoles: keel.dcui: '%.*s' left out", (int)(n < 32 ? n : 32), tty);
		return;
	}
	for (int i = 0; i < ndcui; i++)
		if (strlen(dcui_ttys[i]) == n && strncmp(dcui_ttys[i], tty, n) == 0)
			return;
	memcpy(dcui_ttys[ndcui], tty, n);
	dcui_ttys[ndcui++][n] = '\0';
}

void consoles_init(const char *cmdline)
{
	const char *list = NULL;
	size_t list_len = 0;
	for (const char *w = cmdline; w && *w;) {
		size_t n = strcspn(w, " \n");
		if (n > 8 && strncmp(w, "console=", 8) == 0) {
			size_t t = strcspn(w + 8, ", \n");
			if (valid_tty(w + 8, t)) {
				memcpy(console_tty, w + 8, t);
				console_tty[t] = '\0';
			}
		} else if (n >= 10 && strncmp(w, "keel.dcui=", 10) == 0) {
			list = w + 10;
			list_len = n - 10;
		}
		w += n;
		w += strspn(w, " \n");
	}
	if (list) {
		if (list_len == 4 && strncmp(list, "none", 4) == 0)
			return;
		for (size_t at = 0; at < list_len;) {
			size_t n = strcspn(list + at, ",");
			if (n > list_len - at)
				n = list_len - at;
			add_dcui(list + at, n);
			at += n + 1;
		}
		return;
	}
	add_dcui("tty1", 4);
	if (strncmp(console_tty, "ttyS", 4) == 0)
		add_dcui(console_tty, strlen(console_tty));
}

int consoles_own_console(struct svctab *t)
{
	char name[32];
	snprintf(name, sizeof(name), "dcui-%s", strcmp(console_tty, "tty0") ? console_tty : "tty1");
	struct service *s = svctab_find(t, name);
	return s && !s->off && s->pid;
}

static int past(long long until)
{
	return until && (long long)time(NULL) >= until;
}

/* A service of the consoles on or off: started, stopped (`keep_sessions`:
 * left to end by itself, not started again), or as it is. */
static void want(struct svctab *t, const char *name, char *const argv[], const char *term, int on,
		 int keep_sessions)
{
	struct service *s = svctab_find(t, name);
	if (on && !s) {
		if (svctab_add(t, name, argv) < 0) {
			log_msg("consoles: no room for the %s service", name);
			return;
		}
		s = svctab_find(t, name);
		str_copy(s->term, sizeof(s->term), term);
		svc_start(s);
	} else if (on && s->off) {
		svc_restart(s);
	} else if (!on && s && !s->off) {
		if (keep_sessions) {
			s->off = 1; /* what runs ends by itself, and stays ended */
			s->restart_at = 0;
			log_msg("service %s: off (what runs is left to end)", name);
		} else {
			svc_stop(s);
		}
	}
}

/* Makes the host keys dropbear lacks (once: they are kept in /config). */
static int make_host_keys(void)
{
	if (mkdir(SSH_KEY_DIR, 0700) < 0 && errno != EEXIST)
		return -1;
	for (size_t i = 0; i < sizeof(host_keys) / sizeof(host_keys[0]); i++) {
		if (access(host_keys[i][1], F_OK) == 0)
			continue;
		pid_t pid = fork();
		if (pid == 0) {
			int null = open("/dev/null", O_RDWR);
			dup2(null, 1);
			dup2(null, 2);
			char *argv[] = {DROPBEARKEY,
					"-t",
					(char *)host_keys[i][0],
					"-f",
					(char *)host_keys[i][1],
					NULL};
			execv(argv[0], argv);
			_exit(127);
		}
		int status = 0;
		if (pid < 0 || waitpid(pid, &status, 0) != pid || !WIFEXITED(status) ||
		    WEXITSTATUS(status) != 0) {
			log_msg("ssh: cannot make the %s host key", host_keys[i][0]);
			return -1;
		}
		log_msg("ssh: made the %s host key", host_keys[i][0]);
	}
	return 0;
}

static void apply_ssh(struct svctab *t, const struct hostconf_console *c)
{
	int on = c->tsm_ssh && !past(c->tsm_ssh_until);
	char idle[16];
	snprintf(idle, sizeof(idle), "%d", c->tsm_idle_s);
	struct service *s = svctab_find(t, "sshd");
	if (s && strcmp(s->argv[IDLE_ARG], idle) != 0) { /* a new idle time-out */
		free(s->argv[IDLE_ARG]);
		s->argv[IDLE_ARG] = strdup(idle);
		if (on && !s->off)
			svc_restart(s);
	}
	if (on && make_host_keys() < 0)
		on = 0;
	/* -F: in the foreground, for keel-init; -j -k: no port forwarding;
	 * no -E: its log goes to the log service */
	char *argv[] = {DROPBEAR, "-F",
			"-p",	  "22",
			"-P",	  "/run/keel/dropbear.pid",
			"-r",	  (char *)host_keys[0][1],
			"-r",	  (char *)host_keys[1][1],
			"-j",	  "-k",
			"-I",	  idle, /* IDLE_ARG */
			NULL};
	/* stopping the listener leaves the sessions it started running */
	want(t, "sshd", argv, "linux", on, 0);
}

int consoles_apply(struct svctab *t, const struct hostconf *hc)
{
	const struct hostconf_console *c = &hc->console;
	int hostd = access(LOCAL_API_SOCKET, F_OK) == 0, pending = 0;
	for (int i = 0; i < ndcui; i++) {
		char name[80], dev[80];
		snprintf(name, sizeof(name), "dcui-%s", dcui_ttys[i]);
		snprintf(dev, sizeof(dev), "/dev/%s", dcui_ttys[i]);
		char *argv[] = {DCUI_PROGRAM, dev, NULL};
		int on = c->dcui && access(DCUI_PROGRAM, X_OK) == 0 && access(dev, F_OK) == 0;
		pending |= on && !hostd;
		on = on && hostd;
		want(t, name, argv,
		     strncmp(dcui_ttys[i], "tty", 3) == 0 && dcui_ttys[i][3] >= '0' &&
			     dcui_ttys[i][3] <= '9'
			 ? "linux"
			 : "vt220",
		     on, 0);
	}
	char *shell[] = {KEEL_SHELL_PATH, "--login", "/dev/" SHELL_TTY, NULL};
	want(t, "tsm-" SHELL_TTY, shell, "linux", c->tsm_local && !past(c->tsm_local_until), 1);
	apply_ssh(t, c);
	return pending;
}
