/* ps: every process of /proc, one line each: pid, user, state, resident
 * memory, CPU time (user + system) and command line. /proc is read as
 * hostile text (procfs.h); a process that ends meanwhile is skipped. */
#include <ctype.h>
#include <dirent.h>
#include <fcntl.h>
#include <limits.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/util.h"
#include "shell/cmd.h"
#include "shell/out.h"
#include "shell/procfs.h"

#define PROC_TEXT_MAX 4096

/* a /proc/PID file's bytes, at most PROC_TEXT_MAX; -1 if unreadable */
static ssize_t read_at(int dirfd, const char *name, char *buf, size_t n)
{
	int fd = openat(dirfd, name, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	size_t got = 0;
	while (got < n) {
		ssize_t r = read(fd, buf + got, n - got);
		if (r <= 0)
			break;
		got += (size_t)r;
	}
	close(fd);
	return (ssize_t)got;
}

static void user_name(uid_t uid, char *out, size_t n)
{
	struct passwd *pw = getpwuid(uid);
	if (pw && pw->pw_name)
		snprintf(out, n, "%s", pw->pw_name);
	else
		snprintf(out, n, "%u", (unsigned)uid);
	text_printable_name(out);
}

int cmd_ps(struct shell *sh, int argc, char **argv)
{
	(void)argv;
	char proc[PATH_MAX];
	if (argc != 1) {
		say_error("ps", "usage: ps");
		return 1;
	}
	snprintf(proc, sizeof(proc), "%s/proc", sh->root);
	DIR *d = opendir(proc);
	if (!d) {
		say_error("ps", "%s: cannot be read", proc);
		return 1;
	}
	long tick = sysconf(_SC_CLK_TCK), page_kib = sysconf(_SC_PAGESIZE) / 1024;
	tick = tick > 0 ? tick : 100;
	printf("%7s %-10s %s %9s %10s  %s\n", "PID", "USER", "S", "RSS KiB", "CPU", "COMMAND");
	for (struct dirent *e; (e = readdir(d));) {
		size_t n = strlen(e->d_name);
		if (n == 0 || n > 10 || strspn(e->d_name, "0123456789") != n)
			continue;
		int fd = openat(dirfd(d), e->d_name, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		if (fd < 0)
			continue;
		char text[PROC_TEXT_MAX], cmd[256], user[64];
		struct procstat ps;
		struct stat st;
		ssize_t len = read_at(fd, "stat", text, sizeof(text));
		if (len <= 0 || procstat_parse(text, (size_t)len, &ps) < 0 || fstat(fd, &st) < 0) {
			close(fd);
			continue;
		}
		len = read_at(fd, "cmdline", text, sizeof(text));
		if (len > 0)
			proc_cmdline(text, (size_t)len, cmd, sizeof(cmd));
		else
			snprintf(cmd, sizeof(cmd), "[%s]", ps.comm);
		close(fd);
		user_name(st.st_uid, user, sizeof(user));
		unsigned long long secs = (ps.utime + ps.stime) / (unsigned long long)tick;
		char cpu[32];
		snprintf(cpu, sizeof(cpu), "%llu:%02llu:%02llu", secs / 3600, secs / 60 % 60,
			 secs % 60);
		printf("%7d %-10.10s %c %9lld %10s  %s\n", ps.pid, user, ps.state,
		       ps.rss_pages > 0 ? ps.rss_pages * page_kib : 0, cpu, cmd);
	}
	closedir(d);
	return 0;
}
