/* keel-testhook: a test-only service, in the test variant of the appliance
 * image only. It gives the system-test harness a way to look inside the
 * host (which has no shell): one request line per TCP connection on port
 * 7000, then the reply, then the connection closes.
 *
 *   cat PATH          the file's bytes
 *   ls PATH           the directory's entries (not . and ..), one per line
 *   readlink PATH     the symbolic link's target
 *   write PATH        the rest of the stream is written to PATH; "OK"
 *   kill NAME SIGNO   signal the supervised service NAME (or the process
 *                     whose id NAME is); "OK PID"
 *   run ARG...        run a program; its output, then "EXIT STATUS"
 *   spawn LOG ARG...  start a program in the background (or LOG @ARGFILE:
 *                     its arguments one per line), its output
 *                     appended to LOG; "OK PID". When it ends, its exit
 *                     status is written to LOG.exit (whole, by a rename)
 *   unix PATH         the rest of the stream goes to the unix socket PATH
 *                     once it connects, and one line of its answer comes back
 *   unixall PATH      the same, and its whole answer, until it closes (an
 *                     HTTP request with "Connection: close", say)
 *   bridge BR A.B.C.D/P TAP...  create bridge BR with that address, and
 *                     persistent TAP interfaces in it, all up; "OK"
 *   timed PATTERN SECONDS ARGFILE   run the program whose arguments are
 *                     the lines of ARGFILE, its output on a pipe; when a
 *                     line containing PATTERN appears, "MATCH MS PID" (MS from
 *                     the fork), the program left running with its output
 *                     drained; "TIMEOUT PID" after SECONDS. For `make bench`
 *   truncate PATH N   create PATH (or cut or extend it) as an N-byte sparse
 *                     file; "OK"
 *   fallocate PATH N  the same, with all N bytes allocated (zeros); "OK"
 *   chmod MODE PATH   set PATH's mode (octal), e.g. to run an uploaded
 *                     diagnostic tool; "OK"
 *   syslog            the rest of the stream (up to 16 KiB) is sent as one
 *                     datagram to /dev/log (any bytes: a hostile sender); "OK"
 *   poweroff|reboot   ask keel-init to power off or reboot; "OK" */
#include "common/log.h"
#include "common/util.h"

#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/if_tun.h>
#include <linux/sockios.h>
#include <net/if.h>
#include <netinet/in.h>
#include <sys/ioctl.h>
#include <signal.h>
#include <stdbool.h>
#include <stdarg.h>
#include <stdio.h>
#include <time.h>
#include <stdlib.h>
#include <string.h>
#include <sys/select.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
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

static int split(char *args, char **argv);

static int if_up(int s, const char *name)
{
	struct ifreq ifr = {0};
	str_copy(ifr.ifr_name, IFNAMSIZ, name);
	if (ioctl(s, SIOCGIFFLAGS, &ifr) < 0)
		return -1;
	ifr.ifr_flags |= IFF_UP;
	return ioctl(s, SIOCSIFFLAGS, &ifr);
}

/* The test network a VM's NICs plug into (hostd does this in a later
 * issue): a bridge with an address, and persistent TAPs in it. */
static int make_bridge(char *args)
{
	char *argv[32];
	int n = split(args, argv);
	char *slash = n >= 2 ? strchr(argv[1], '/') : NULL;
	if (!slash)
		return -1;
	*slash = '\0';
	int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	struct ifreq ifr = {0};
	str_copy(ifr.ifr_name, IFNAMSIZ, argv[0]);
	struct sockaddr_in *sin = (struct sockaddr_in *)&ifr.ifr_addr;
	sin->sin_family = AF_INET;
	if (s < 0 || (ioctl(s, SIOCBRADDBR, argv[0]) < 0 && errno != EEXIST) ||
	    inet_pton(AF_INET, argv[1], &sin->sin_addr) != 1 || ioctl(s, SIOCSIFADDR, &ifr) < 0)
		return -1;
	int prefix = atoi(slash + 1);
	sin->sin_addr.s_addr = htonl(prefix ? ~0u << (32 - prefix) : 0);
	if (ioctl(s, SIOCSIFNETMASK, &ifr) < 0 || if_up(s, argv[0]) < 0)
		return -1;
	for (int i = 2; i < n; i++) {
		int t = open("/dev/net/tun", O_RDWR | O_CLOEXEC);
		struct ifreq tr = {.ifr_flags = IFF_TAP | IFF_NO_PI};
		str_copy(tr.ifr_name, IFNAMSIZ, argv[i]);
		if (t < 0 || ioctl(t, TUNSETIFF, &tr) < 0 || ioctl(t, TUNSETPERSIST, 1) < 0)
			return -1;
		close(t);
		struct ifreq br = {0};
		str_copy(br.ifr_name, IFNAMSIZ, argv[0]);
		br.ifr_ifindex = (int)if_nametoindex(argv[i]);
		if (ioctl(s, SIOCBRADDIF, &br) < 0 || if_up(s, argv[i]) < 0)
			return -1;
	}
	close(s);
	return 0;
}

/* Splits args at spaces into argv (32 slots); returns the count. */
static int split(char *args, char **argv)
{
	int n = 0;
	char *save = NULL;
	for (char *w = strtok_r(args, " ", &save); w && n < 31; w = strtok_r(NULL, " ", &save))
		argv[n++] = w;
	argv[n] = NULL;
	return n;
}

static int exit_code(int status)
{
	return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

/* The arguments in ARGFILE, one per line (so that they may hold spaces):
 * fills argv (NULL-terminated, at most max - 1) and returns the buffer that
 * holds them (to free), or NULL. */
static char *read_argfile(const char *path, char **argv, int max)
{
	char *text = read_file(path, 65536, NULL);
	int n = 0;
	for (char *save = NULL, *l = text ? strtok_r(text, "\n", &save) : NULL; l && n < max - 1;
	     l = strtok_r(NULL, "\n", &save))
		argv[n++] = l;
	argv[n] = NULL;
	if (n == 0) {
		free(text);
		return NULL;
	}
	return text;
}

static void do_spawn(int fd, char *args)
{
	char *argv[64], *text = NULL;
	char *log = strtok_r(args, " ", &args);
	if (!log || (args[0] == '@' ? !(text = read_argfile(args + 1, argv, 64))
				    : split(args, argv) == 0)) {
		reply(fd, "ERR usage: spawn LOG PROGRAM [ARG...] | spawn LOG @ARGFILE\n");
		return;
	}
	int pipefd[2];
	if (pipe(pipefd) < 0) {
		reply(fd, "ERR %m\n");
		return;
	}
	if (fork() == 0) { /* the monitor: runs the program, records how it ended */
		setsid();
		pid_t pid = fork();
		if (pid == 0) {
			int out = open(log, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
			int in = open("/dev/null", O_RDONLY | O_CLOEXEC);
			if (out < 0 || in < 0)
				_exit(127);
			dup2(in, 0);
			dup2(out, 1);
			dup2(out, 2);
			execv(argv[0], argv);
			dprintf(2, "exec %s: %m\n", argv[0]);
			_exit(127);
		}
		if (write(pipefd[1], &pid, sizeof(pid)) < 0)
			_exit(1);
		close(pipefd[1]);
		int status = 0;
		waitpid(pid, &status, 0);
		char path[1024], code[16];
		snprintf(path, sizeof(path), "%s.exit", log);
		snprintf(code, sizeof(code), "%d\n", exit_code(status));
		write_file_atomic(path, code, strlen(code), 0644); /* never seen half-written */
		_exit(0);
	}
	pid_t pid = -1;
	if (read(pipefd[0], &pid, sizeof(pid)) != sizeof(pid))
		reply(fd, "ERR could not start\n");
	else
		reply(fd, "OK %d\n", pid);
	close(pipefd[0]);
	close(pipefd[1]);
	free(text);
}

/* Connects to a unix socket (retrying for a few seconds while it is not
 * there yet), sends the rest of the stream, returns one line of answer, or
 * (`all`) every byte until the socket's end or 30 s of silence. */
static void do_unix(int fd, const char *path, int all)
{
	struct sockaddr_un a = {.sun_family = AF_UNIX};
	if (str_copy(a.sun_path, sizeof(a.sun_path), path) < 0) {
		reply(fd, "ERR path too long\n");
		return;
	}
	int s = -1;
	for (int i = 0; i < 50; i++) {
		s = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
		if (s >= 0 && connect(s, (struct sockaddr *)&a, sizeof(a)) == 0)
			break;
		close(s);
		s = -1;
		usleep(100000);
	}
	if (s < 0) {
		reply(fd, "ERR %m\n");
		return;
	}
	char buf[65536];
	ssize_t r;
	while ((r = read(fd, buf, sizeof(buf))) > 0)
		if (write(s, buf, (size_t)r) != r)
			break;
	if (all) {
		struct timeval tv = {.tv_sec = 30};
		setsockopt(s, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
		while ((r = read(s, buf, sizeof(buf))) > 0)
			if (write(fd, buf, (size_t)r) != r)
				break;
		close(s);
		return;
	}
	char line[65536];
	if (read_line(s, line, sizeof(line)) == 0) {
		size_t n = strlen(line);
		line[n] = '\n';
		if (write(fd, line, n + 1) < 0)
			log_errno("write");
	} else
		reply(fd, "ERR no answer\n");
	close(s);
}

static uint64_t now_us(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (uint64_t)t.tv_sec * 1000000u + (uint64_t)t.tv_nsec / 1000u;
}

/* The bench's own timer: the same for every VMM it starts. */
static void do_timed(int fd, char *args)
{
	char pattern[128], argfile[256];
	int seconds;
	if (sscanf(args, "%127s %d %255s", pattern, &seconds, argfile) != 3) {
		reply(fd, "ERR usage: timed PATTERN SECONDS ARGFILE\n");
		return;
	}
	char *argv[64];
	char *text = read_argfile(argfile, argv, 64);
	int p[2];
	if (!text || pipe(p) < 0) {
		reply(fd, "ERR no program\n");
		free(text);
		return;
	}
	uint64_t t0 = now_us();
	pid_t pid = fork();
	if (pid == 0) {
		setsid();
		close(fd); /* the connection must end when we answer */
		close(p[0]);
		int null = open("/dev/null", O_RDWR);
		dup2(null, 0);
		dup2(p[1], 1);
		dup2(p[1], 2);
		execv(argv[0], argv);
		_exit(127);
	}
	close(p[1]);
	char buf[4096], line[4096];
	size_t len = 0;
	uint64_t deadline = t0 + (uint64_t)seconds * 1000000u;
	while (now_us() < deadline) {
		struct timeval tv = {0, 100000};
		fd_set set;
		FD_ZERO(&set);
		FD_SET(p[0], &set);
		if (select(p[0] + 1, &set, NULL, NULL, &tv) <= 0)
			continue;
		ssize_t r = read(p[0], buf, sizeof(buf));
		if (r <= 0)
			break;
		for (ssize_t i = 0; i < r; i++) {
			if (buf[i] != '\n' && len + 1 < sizeof(line)) {
				line[len++] = buf[i];
				continue;
			}
			line[len] = '\0';
			len = 0;
			if (!strstr(line, pattern))
				continue;
			reply(fd, "MATCH %.1f %d\n", (double)(now_us() - t0) / 1000.0, pid);
			if (fork() == 0) { /* keep draining, so that the VMM never blocks */
				close(fd);
				while (read(p[0], buf, sizeof(buf)) > 0)
					;
			}
			_exit(0);
		}
	}
	reply(fd, "TIMEOUT %d\n", pid);
	free(text);
}

static void do_run(int fd, char *args)
{
	char *argv[32];
	if (split(args, argv) == 0) {
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
	reply(fd, "EXIT %d\n", exit_code(status));
}

static void do_syslog(int fd)
{
	static char buf[16 << 10];
	size_t len = 0;
	ssize_t r;
	while (len < sizeof(buf) && (r = read(fd, buf + len, sizeof(buf) - len)) > 0)
		len += (size_t)r;
	int s = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	struct sockaddr_un sa = {.sun_family = AF_UNIX, .sun_path = "/dev/log"};
	if (s < 0 || sendto(s, buf, len, 0, (struct sockaddr *)&sa, sizeof(sa)) < 0)
		reply(fd, "ERR %m\n");
	else
		reply(fd, "OK\n");
	if (s >= 0)
		close(s);
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
	} else if (strncmp(line, "ls ", 3) == 0) {
		DIR *d = opendir(line + 3);
		if (!d)
			reply(fd, "ERR %m\n");
		for (struct dirent *e; d && (e = readdir(d));)
			if (strcmp(e->d_name, ".") && strcmp(e->d_name, ".."))
				reply(fd, "%s\n", e->d_name);
		if (d)
			closedir(d);
	} else if (strncmp(line, "readlink ", 9) == 0) {
		char target[4096];
		ssize_t n = readlink(line + 9, target, sizeof(target) - 1);
		if (n < 0)
			reply(fd, "ERR %m\n");
		else
			reply(fd, "%.*s\n", (int)n, target);
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
		/* a number is a process id (from spawn) */
		char *pid = strspn(name, "0123456789") == strlen(name) ? strdup(name)
								       : read_file(path, 64, NULL);
		if (!pid || kill(atoi(pid), sig) < 0)
			reply(fd, "ERR %m\n");
		else
			reply(fd, "OK %d\n", atoi(pid));
		free(pid);
	} else if (strncmp(line, "run ", 4) == 0) {
		do_run(fd, line + 4);
	} else if (strncmp(line, "bridge ", 7) == 0) {
		if (make_bridge(line + 7) < 0)
			reply(fd, "ERR %m\n");
		else
			reply(fd, "OK\n");
	} else if (strncmp(line, "timed ", 6) == 0) {
		do_timed(fd, line + 6);
	} else if (strncmp(line, "truncate ", 9) == 0 || strncmp(line, "fallocate ", 10) == 0) {
		const bool alloc = line[0] == 'f';
		char path[512];
		long long size;
		int f = -1, e;
		if (sscanf(line + (alloc ? 10 : 9), "%511s %lld", path, &size) != 2 || size < 0 ||
		    (f = open(path, O_WRONLY | O_CREAT | O_CLOEXEC, 0644)) < 0 ||
		    ftruncate(f, alloc ? 0 : size) < 0)
			reply(fd, "ERR %m\n");
		else if (alloc && (e = posix_fallocate(f, 0, size)) != 0)
			reply(fd, "ERR %s\n", strerror(e));
		else
			reply(fd, "OK\n");
		if (f >= 0)
			close(f);
	} else if (strncmp(line, "chmod ", 6) == 0) {
		unsigned mode;
		char path[512];
		if (sscanf(line + 6, "%o %511s", &mode, path) != 2 || chmod(path, mode) < 0)
			reply(fd, "ERR %m\n");
		else
			reply(fd, "OK\n");
	} else if (strncmp(line, "spawn ", 6) == 0) {
		do_spawn(fd, line + 6);
	} else if (strncmp(line, "unix ", 5) == 0) {
		do_unix(fd, line + 5, 0);
	} else if (strncmp(line, "unixall ", 8) == 0) {
		do_unix(fd, line + 8, 1);
	} else if (strcmp(line, "syslog") == 0) {
		do_syslog(fd);
	} else if (strcmp(line, "poweroff") == 0 || strcmp(line, "reboot") == 0) {
		reply(fd, "OK\n");
		kill(1, line[0] == 'p' ? SIGUSR2 : SIGTERM);
	} else {
		reply(fd, "ERR unknown request\n");
	}
}

int main(void)
{
	log_init("keel-testhook", 2, NULL);
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
