/* keel-testhook: a test-only service, in the test variant of the appliance
 * image only. It gives the system-test harness a way to look inside the
 * host (which has no shell): one request line per TCP connection on port
 * 7000, then the reply, then the connection closes.
 *
 *   cat PATH          the file's bytes
 *   write PATH        the rest of the stream is written to PATH; "OK"
 *   kill NAME SIGNO   signal the supervised service NAME; "OK PID"
 *   run ARG...        run a program; its output, then "EXIT STATUS"
 *   poweroff|reboot   ask keel-init to power off or reboot; "OK" */
#include "common/log.h"
#include "common/util.h"

#include <netinet/in.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#define PORT 7000

static void reply(int fd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void reply(int fd, const char *fmt, ...)
{
	char buf[512];
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	if (n > 0 && write(fd, buf, (size_t)n) < 0)
		return;
}

static int read_line(int fd, char *line, size_t n)
{
	size_t i = 0;
	while (i + 1 < n) {
		char c;
		if (read(fd, &c, 1) != 1)
			return -1;
		if (c == '\n')
			break;
		line[i++] = c;
	}
	line[i] = '\0';
	return 0;
}

static void do_write(int fd, const char *path)
{
	FILE *f = fopen(path, "w");
	if (!f) {
		reply(fd, "ERR %m\n");
		return;
	}
	char buf[4096];
	ssize_t r;
	while ((r = read(fd, buf, sizeof(buf))) > 0)
		fwrite(buf, 1, (size_t)r, f);
	fflush(f);
	fsync(fileno(f));
	fclose(f);
	reply(fd, "OK\n");
}

static void do_run(int fd, char *args)
{
	char *argv[32];
	int n = 0;
	char *save = NULL;
	for (char *w = strtok_r(args, " ", &save); w && n < 31; w = strtok_r(NULL, " ", &save))
		argv[n++] = w;
	argv[n] = NULL;
	if (n == 0) {
		reply(fd, "ERR nothing to run\n");
		return;
	}
	pid_t pid = fork();
	if (pid == 0) {
		dup2(fd, 1);
		dup2(fd, 2);
		execv(argv[0], argv);
		reply(fd, "exec %s: %m\n", argv[0]);
		_exit(127);
	}
	int status = 0;
	waitpid(pid, &status, 0);
	reply(fd, "EXIT %d\n", WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status));
}

static void handle(int fd)
{
	char line[1024];
	if (read_line(fd, line, sizeof(line)) < 0)
		return;
	if (strncmp(line, "cat ", 4) == 0) {
		size_t len;
		char *data = read_file(line + 4, 64 << 20, &len);
		if (!data)
			reply(fd, "ERR %m\n");
		else if (write(fd, data, len) < 0)
			log_errno("write");
		free(data);
	} else if (strncmp(line, "write ", 6) == 0) {
		do_write(fd, line + 6);
	} else if (strncmp(line, "kill ", 5) == 0) {
		char name[64], path[128];
		int sig;
		if (sscanf(line + 5, "%63s %d", name, &sig) != 2 || strchr(name, '/')) {
			reply(fd, "ERR usage: kill NAME SIGNO\n");
			return;
		}
		snprintf(path, sizeof(path), "/run/keel/%s.pid", name);
		char *pid = read_file(path, 64, NULL);
		if (!pid || kill(atoi(pid), sig) < 0)
			reply(fd, "ERR %m\n");
		else
			reply(fd, "OK %d\n", atoi(pid));
		free(pid);
	} else if (strncmp(line, "run ", 4) == 0) {
		do_run(fd, line + 4);
	} else if (strcmp(line, "poweroff") == 0 || strcmp(line, "reboot") == 0) {
		reply(fd, "OK\n");
		kill(1, line[0] == 'p' ? SIGUSR2 : SIGTERM);
	} else {
		reply(fd, "ERR unknown request\n");
	}
}

int main(void)
{
	log_init("keel-testhook", 2);
	signal(SIGCHLD, SIG_IGN); /* connection handlers are reaped by the kernel */
	int s = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	int one = 1;
	setsockopt(s, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(PORT)};
	if (s < 0 || bind(s, (struct sockaddr *)&a, sizeof(a)) < 0 || listen(s, 16) < 0) {
		log_errno("cannot listen on port %d", PORT);
		return 1;
	}
	log_msg("listening on port %d", PORT);
	for (;;) {
		int c = accept(s, NULL, NULL);
		if (c < 0)
			continue;
		if (fork() == 0) {
			close(s);
			signal(SIGCHLD, SIG_DFL);
			handle(c);
			shutdown(c, SHUT_RDWR);
			_exit(0);
		}
		close(c);
	}
}
