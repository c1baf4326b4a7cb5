#include "shell/intr.h"

#include <signal.h>
#include <string.h>

static volatile sig_atomic_t pending, hangup;

static void on_sigint(int sig)
{
	(void)sig;
	pending = 1;
}

static void on_hangup(int sig)
{
	(void)sig;
	hangup = 1;
	pending = 1;
}

void intr_setup(void)
{
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
}

bool intr_hangup(void)
{
	return hangup != 0;
}
