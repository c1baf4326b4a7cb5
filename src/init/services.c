#include "init/services.h"

#include "common/log.h"
#include "common/runstate.h"
#include "common/util.h"
#include "init/backoff.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

int svctab_add(struct svctab *t, const char *name, char *const argv[])
{
	if (t->n == SVC_MAX)
		return -1;
	struct service *s = &t->svc[t->n];
	memset(s, 0, sizeof(*s));
	if (str_copy(s->name, sizeof(s->name), name) < 0)
		return -1;
	for (int i = 0; argv[i] && i < SVC_ARGS; i++) {
		s->argv[i] = strdup(argv[i]);
		if (!s->argv[i])
			return -1;
	}
	t->n++;
	return 0;
}

int svctab_parse(struct svctab *t, const char *text)
{
	int bad = 0, lineno = 0;
	char line[512];
	int rc;
	while ((rc = next_config_line(&text, line, sizeof(line))) != 0) {
		lineno++;
		if (rc > 0) {
			char *words[SVC_ARGS + 2] = {0};
			int nw = 0;
			char *save = NULL;
			for (char *w = strtok_r(line, " \t\r", &save); w && nw < SVC_ARGS + 2;
			     w = strtok_r(NULL, " \t\r", &save))
				words[nw++] = w;
			if (nw == 0)
				continue;
			if (nw >= 2 && nw <= SVC_ARGS + 1 && words[1][0] == '/' &&
			    strlen(words[0]) < sizeof(t->svc[0].name) &&
			    svctab_add(t, words[0], &words[1]) == 0)
				continue;
		}
		log_msg("services: line %d rejected (want: name /path [args], at most %d args)",
			lineno, SVC_ARGS - 1);
		bad++;
	}
	return bad;
}

void svctab_free(struct svctab *t)
{
	for (int i = 0; i < t->n; i++)
		for (int j = 0; t->svc[i].argv[j]; j++)
			free(t->svc[i].argv[j]);
	t->n = 0;
}

static void write_pidfile(const struct service *s)
{
	char path[128], buf[32];
	mkdir(KEEL_RUN_DIR, 0755);
	snprintf(path, sizeof(path), SERVICE_PID_FORMAT, s->name);
	int n = snprintf(buf, sizeof(buf), "%d\n", (int)s->pid);
	if (s->pid == 0)
		unlink(path);
	else if (write_file_atomic(path, buf, (size_t)n, 0644) < 0)
		log_errno("services: cannot write %s", path);
}

static void schedule_restart(struct service *s, double ran)
{
	s->backoff_ms = backoff_next(s->backoff_ms, (long)(ran * 1000));
	s->restart_at = log_uptime() + (double)s->backoff_ms / 1000.0;
	log_msg("service %s: restarting in %.1fs", s->name, (double)s->backoff_ms / 1000.0);
}

void svc_start(struct service *s)
{
	/* a close-on-exec pipe tells us whether execve worked */
	int pfd[2];
	if (pipe2(pfd, O_CLOEXEC) < 0) {
		log_errno("service %s: pipe", s->name);
		schedule_restart(s, 0);
		return;
	}
	pid_t pid = fork();
	if (pid < 0) {
		log_errno("service %s: fork", s->name);
		close(pfd[0]);
		close(pfd[1]);
		schedule_restart(s, 0);
		return;
	}
	if (pid == 0) {
		sigset_t all;
		sigemptyset(&all);
		sigprocmask(SIG_SETMASK, &all, NULL);
		setsid();
		int fd = open("/dev/console", O_RDWR | O_NOCTTY);
		if (fd >= 0) {
			dup2(fd, 0);
			dup2(fd, 1);
			dup2(fd, 2);
			if (fd > 2)
				close(fd);
		}
		char term[32];
		snprintf(term, sizeof(term), "TERM=%s", s->term[0] ? s->term : "linux");
		char *envp[] = {"PATH=/sbin:/bin", "HOME=/", term, NULL};
		execve(s->argv[0], s->argv, envp);
		int e = errno;
		ssize_t w = write(pfd[1], &e, sizeof(e));
		(void)w;
		_exit(127);
	}
	close(pfd[1]);
	int e = 0;
	ssize_t n;
	do
		n = read(pfd[0], &e, sizeof(e));
	while (n < 0 && errno == EINTR);
	close(pfd[0]);
	s->started = log_uptime();
	s->restart_at = 0;
	if (n == (ssize_t)sizeof(e)) {
		/* the child exits 127 and is reaped by the main loop; it is no
		 * longer ours, so it is not reported a second time */
		log_msg("service %s: cannot start %s: %s", s->name, s->argv[0], strerror(e));
		s->pid = 0;
		schedule_restart(s, 0);
		return;
	}
	s->pid = pid;
	write_pidfile(s);
	log_msg("service %s: started, pid %d", s->name, (int)pid);
}

struct service *svctab_find(struct svctab *t, const char *name)
{
	for (int i = 0; i < t->n; i++)
		if (strcmp(t->svc[i].name, name) == 0)
			return &t->svc[i];
	return NULL;
}

void svc_stop(struct service *s)
{
	s->off = 1;
	s->restart_now = 0;
	s->restart_at = 0;
	if (s->pid) {
		log_msg("service %s: stopping", s->name);
		kill(s->pid, SIGTERM);
	}
}

void svc_restart(struct service *s)
{
	s->off = 0;
	s->backoff_ms = 0;
	if (s->pid) {
		log_msg("service %s: restarting", s->name);
		s->restart_now = 1;
		kill(s->pid, SIGTERM);
	} else {
		svc_start(s);
	}
}

int svctab_reaped(struct svctab *t, pid_t pid, int status, int stopping)
{
	for (int i = 0; i < t->n; i++) {
		struct service *s = &t->svc[i];
		if (s->pid != pid)
			continue;
		double ran = log_uptime() - s->started;
		if (WIFSIGNALED(status))
			log_msg("service %s: pid %d killed by signal %d after %.1fs", s->name,
				(int)pid, WTERMSIG(status), ran);
		else
			log_msg("service %s: pid %d exited with status %d after %.1fs", s->name,
				(int)pid, WEXITSTATUS(status), ran);
		s->pid = 0;
		write_pidfile(s);
		if (s->restart_now && !stopping)
			s->restart_at = log_uptime();
		else if (!stopping && !s->off)
			schedule_restart(s, ran);
		s->restart_now = 0;
		return 1;
	}
	return 0;
}

double svctab_tick(struct svctab *t)
{
	double now = log_uptime(), next = 0;
	for (int i = 0; i < t->n; i++) {
		struct service *s = &t->svc[i];
		if (s->pid == 0 && s->restart_at > 0 && s->restart_at <= now)
			svc_start(s);
		if (s->pid == 0 && s->restart_at > 0 && (next == 0 || s->restart_at < next))
			next = s->restart_at;
	}
	return next;
}

static int any_running(const struct svctab *t)
{
	for (int i = 0; i < t->n; i++)
		if (t->svc[i].pid)
			return 1;
	return 0;
}

static void reap_some(struct svctab *t)
{
	int status;
	pid_t pid;
	while ((pid = waitpid(-1, &status, WNOHANG)) > 0)
		svctab_reaped(t, pid, status, 1);
}

void svctab_stop_all(struct svctab *t, double grace)
{
	for (int i = 0; i < t->n; i++) {
		t->svc[i].restart_at = 0;
		if (t->svc[i].pid) {
			log_msg("service %s: stopping", t->svc[i].name);
			kill(t->svc[i].pid, SIGTERM);
		}
	}
	double deadline = log_uptime() + grace;
	while (any_running(t) && log_uptime() < deadline) {
		reap_some(t);
		usleep(50 * 1000);
	}
	for (int i = 0; i < t->n; i++)
		if (t->svc[i].pid) {
			log_msg("service %s: did not stop in %.0fs, killing", t->svc[i].name,
				grace);
			kill(t->svc[i].pid, SIGKILL);
		}
	while (any_running(t)) {
		int status;
		pid_t pid = waitpid(-1, &status, 0);
		if (pid < 0)
			break;
		svctab_reaped(t, pid, status, 1);
	}
}
