/* ps: every process of /proc, one line each: pid, user, state, resident
 * memory, CPU time (user + system) and command line; top: the load, the
 * memory and the busiest processes over a second (one shot). /proc is read as
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
#include "shell/intr.h"
#include "shell/out.h"
#include "shell/procfs.h"

#define PROC_TEXT_MAX	4096
#define PROCS_MAX	100000
#define TOP_ROWS	20
#define TOP_INTERVAL_US 1000000

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

/* one process, as ps and top show it */
struct proc_row {
	int pid;
	char state;
	char user[32];
	long long rss_kib;
	unsigned long long ticks; /* user + system CPU time */
	unsigned long long delta; /* top: ticks over its interval */
	char cmd[256];
};

struct proc_table {
	struct proc_row *rows;
	size_t n, cap;
};

static int read_row(int dirfd, const char *name, long page_kib, struct proc_row *row)
{
	int fd = openat(dirfd, name, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	char text[PROC_TEXT_MAX];
	struct procstat ps;
	struct stat st;
	ssize_t len = read_at(fd, "stat", text, sizeof(text));
	if (len <= 0 || procstat_parse(text, (size_t)len, &ps) < 0 || fstat(fd, &st) < 0) {
		close(fd);
		return -1;
	}
	len = read_at(fd, "cmdline", text, sizeof(text));
	if (len > 0)
		proc_cmdline(text, (size_t)len, row->cmd, sizeof(row->cmd));
	else
		snprintf(row->cmd, sizeof(row->cmd), "[%s]", ps.comm);
	close(fd);
	user_name(st.st_uid, row->user, sizeof(row->user));
	row->pid = ps.pid;
	row->state = ps.state;
	row->rss_kib = ps.rss_pages > 0 ? ps.rss_pages * page_kib : 0;
	row->ticks = ps.utime + ps.stime;
	row->delta = 0;
	return 0;
}

/* every process of root's /proc (at most PROCS_MAX); -1 if /proc cannot
 * be read */
static int collect(const char *root, struct proc_table *t)
{
	char proc[PATH_MAX];
	snprintf(proc, sizeof(proc), "%s/proc", root);
	DIR *d = opendir(proc);
	if (!d)
		return -1;
	long page_kib = sysconf(_SC_PAGESIZE) / 1024;
	t->n = 0;
	for (struct dirent *e; (e = readdir(d)) && t->n < PROCS_MAX;) {
		size_t n = strlen(e->d_name);
		if (n == 0 || n > 10 || strspn(e->d_name, "0123456789") != n)
			continue;
		if (t->n == t->cap) {
			size_t cap = t->cap ? t->cap * 2 : 256;
			struct proc_row *r = realloc(t->rows, cap * sizeof(*r));
			if (!r)
				break;
			t->rows = r;
			t->cap = cap;
		}
		if (read_row(dirfd(d), e->d_name, page_kib, &t->rows[t->n]) == 0)
			t->n++;
	}
	closedir(d);
	return 0;
}

static long ticks_per_s(void)
{
	long tick = sysconf(_SC_CLK_TCK);
	return tick > 0 ? tick : 100;
}

static void print_row(const struct proc_row *r, const char *extra)
{
	unsigned long long secs = r->ticks / (unsigned long long)ticks_per_s();
	char cpu[32];
	snprintf(cpu, sizeof(cpu), "%llu:%02llu:%02llu", secs / 3600, secs / 60 % 60, secs % 60);
	printf("%7d %-10.10s %c %9lld %10s %s %s\n", r->pid, r->user, r->state, r->rss_kib, cpu,
	       extra, r->cmd);
}

static int compare_pid(const void *a, const void *b)
{
	const struct proc_row *x = a, *y = b;
	return (x->pid > y->pid) - (x->pid < y->pid);
}

int cmd_ps(struct shell *sh, int argc, char **argv)
{
	(void)argv;
	if (argc != 1) {
		say_error("ps", "usage: ps");
		return 1;
	}
	struct proc_table t = {0};
	if (collect(sh->root, &t) < 0) {
		say_error("ps", "/proc cannot be read");
		return 1;
	}
	qsort(t.rows, t.n, sizeof(*t.rows), compare_pid);
	printf("%7s %-10s %s %9s %10s %s\n", "PID", "USER", "S", "RSS KiB", "CPU", " COMMAND");
	for (size_t i = 0; i < t.n; i++)
		print_row(&t.rows[i], "");
	free(t.rows);
	return 0;
}

static int compare_busy(const void *a, const void *b)
{
	const struct proc_row *x = a, *y = b;
	if (x->delta != y->delta)
		return x->delta < y->delta ? 1 : -1;
	return (x->rss_kib < y->rss_kib) - (x->rss_kib > y->rss_kib);
}

/* "MemTotal:  123 kB"-style value of /proc/meminfo's text, or -1 */
static long long meminfo(const char *text, const char *key)
{
	const char *p = strstr(text, key);
	long long v;
	return p && sscanf(p + strlen(key), " %lld", &v) == 1 ? v : -1;
}

/* top: the host's load, memory, and its busiest processes over a second */
int cmd_top(struct shell *sh, int argc, char **argv)
{
	(void)argv;
	if (argc != 1) {
		say_error("top", "usage: top");
		return 1;
	}
	struct proc_table before = {0}, after = {0};
	if (collect(sh->root, &before) < 0) {
		say_error("top", "/proc cannot be read");
		return 1;
	}
	qsort(before.rows, before.n, sizeof(*before.rows), compare_pid);
	for (int i = 0; i < 10 && !intr_pending(); i++)
		usleep(TOP_INTERVAL_US / 10);
	int rc = collect(sh->root, &after);
	for (size_t i = 0; rc == 0 && i < after.n; i++) {
		struct proc_row *r = &after.rows[i];
		const struct proc_row *old =
		    bsearch(r, before.rows, before.n, sizeof(*before.rows), compare_pid);
		r->delta = old && r->ticks >= old->ticks ? r->ticks - old->ticks : r->ticks;
	}
	free(before.rows);
	if (rc < 0) {
		say_error("top", "/proc cannot be read");
		return 1;
	}
	char path[PATH_MAX], text[PROC_TEXT_MAX];
	snprintf(path, sizeof(path), "%s/proc/loadavg", sh->root);
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	ssize_t len = fd >= 0 ? read(fd, text, sizeof(text) - 1) : -1;
	if (fd >= 0)
		close(fd);
	text[len > 0 ? len : 0] = '\0';
	text[strcspn(text, "\n")] = '\0';
	text_printable_name(text);
	printf("load average %s\n", text);
	snprintf(path, sizeof(path), "%s/proc/meminfo", sh->root);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	len = fd >= 0 ? read(fd, text, sizeof(text) - 1) : -1;
	if (fd >= 0)
		close(fd);
	text[len > 0 ? len : 0] = '\0';
	printf("memory %lld MiB, %lld MiB available\n\n", meminfo(text, "MemTotal:") / 1024,
	       meminfo(text, "MemAvailable:") / 1024);
	qsort(after.rows, after.n, sizeof(*after.rows), compare_busy);
	printf("%7s %-10s %s %9s %10s %5s %s\n", "PID", "USER", "S", "RSS KiB", "CPU", "%CPU",
	       " COMMAND");
	long tick = ticks_per_s();
	for (size_t i = 0; i < after.n && i < TOP_ROWS; i++) {
		char pct[16];
		snprintf(pct, sizeof(pct), "%5.1f",
			 (double)after.rows[i].delta * 100.0 / (double)tick /
			     (TOP_INTERVAL_US / 1e6));
		print_row(&after.rows[i], pct);
	}
	free(after.rows);
	return 0;
}
