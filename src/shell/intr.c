#include "shell/intr.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <string.h>
#include <unistd.h>

static volatile sig_atomic_t pending, hangup;
static int wake[2] = {-1, -1}; /* readable once a signal came */

static void poke(void)
{
	int e = errno;
	if (wake[1] >= 0 && write(wake[1], "", 1) < 0) {
		/* full: it is readable, which is all it is for */
	}
	errno = e;
}

static void on_sigint(int sig)
{
	(void)sig;
	pending = 1;
	poke();
}

static void on_hangup(int sig)
{
	(void)sig;
	hangup = 1;
	pending = 1;
	poke();
}

void intr_setup(void)
{
	if (pipe2(wake, O_NONBLOCK | O_CLOEXEC) < 0)
		wake[0] = wake[1] = -1;
	struct sigaction sa;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_sigint;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sa.sa_handler = on_hangup;
	sigaction(SIGHUP, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
	signal(SIGQUIT, SIG_IGN);
	signal(SIGTSTP, SIG_IGN);
}

bool intr_pending(void)
{
	return pending != 0;
}

void intr_clear(void)
{
	pending = hangup;
	char b[64];
	while (!hangup && wake[0] >= 0 && read(wake[0], b, sizeof(b)) > 0)
		;
}

int intr_fd(void)
{
	return wake[0];
}

bool intr_hangup(void)
{
	return hangup != 0;
}
