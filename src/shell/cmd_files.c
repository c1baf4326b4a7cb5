/* ls, cat, tail: the files of /config, /scratch and /datastores, confined
 * by confine.h (resolved first, secrets under /config listed but never
 * read). Text goes to the terminal with its control characters made
 * harmless (out.h). */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "common/util.h"
#include "shell/cmd.h"
#include "shell/confine.h"
#include "shell/intr.h"
#include "shell/out.h"

#define LS_ENTRIES_MAX 100000
#define TAIL_LINES_MAX 100000
#define TAIL_DEFAULT   10
#define FOLLOW_US      500000

int cmd_number(const char *cmd, const char *opt, const char *text, long min, long max, long *out)
{
	char *end;
	errno = 0;
	long v = strtol(text, &end, 10);
	if (text[0] < '0' || text[0] > '9' || *end || errno || v < min || v > max) {
		say_error(cmd, "%s: expected a number from %ld to %ld", opt, min, max);
		return -1;
	}
	*out = v;
	return 0;
}

/* Resolves and checks a path for cmd; -1 after saying why not. */
static int resolve(struct shell *sh, const char *cmd, const char *path, char resolved[PATH_MAX],
		   bool secret_ok)
{
	enum confine_verdict v = confine_resolve(sh->root, path, resolved);
	if (v == CONFINE_OK || (v == CONFINE_SECRET && secret_ok))
		return 0;
	say_error(cmd, "%s: %s", path, confine_reason(v, errno));
	return -1;
}

/* opens a checked regular file for reading */
static int open_file(const char *cmd, const char *path, const char *resolved)
{
	int fd = confine_open(resolved, O_RDONLY | O_NONBLOCK);
	struct stat st;
	if (fd < 0) {
		say_error(cmd, "%s: %s", path, strerror(errno));
		return -1;
	}
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		say_error(cmd, "%s: not a regular file", path);
		close(fd);
		return -1;
	}
	return fd;
}

static char type_char(mode_t m)
{
	return S_ISDIR(m)    ? 'd'
	       : S_ISLNK(m)  ? 'l'
	       : S_ISREG(m)  ? '-'
	       : S_ISCHR(m)  ? 'c'
	       : S_ISBLK(m)  ? 'b'
	       : S_ISFIFO(m) ? 'p'
	       : S_ISSOCK(m) ? 's'
			     : '?';
}

static void print_entry(struct shell *sh, int dirfd, const char *dir, const char *name)
{
	struct stat st;
	char when[32] = "-", full[PATH_MAX], shown[NAME_MAX + 1], target[PATH_MAX] = "";
	if (fstatat(dirfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
		return;
	struct tm tm;
	if (gmtime_r(&st.st_mtime, &tm))
		strftime(when, sizeof(when), "%Y-%m-%d %H:%M", &tm);
	str_copy(shown, sizeof(shown), name);
	text_printable_name(shown);
	if (S_ISLNK(st.st_mode)) {
		ssize_t n = readlinkat(dirfd, name, target, sizeof(target) - 1);
		target[n > 0 ? n : 0] = '\0';
		text_printable_name(target);
	}
	int n = snprintf(full, sizeof(full), "%s/%s", dir, name);
	bool secret = n > 0 && (size_t)n < sizeof(full) && confine_is_secret(sh->root, full);
	printf("%c%03o %12lld %s  %s%s%s%s\n", type_char(st.st_mode), st.st_mode & 07777,
	       (long long)st.st_size, when, shown, target[0] ? " -> " : "", target,
	       secret ? "  (hidden: holds secrets)" : "");
}

static int compare_names(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static int list_dir(struct shell *sh, const char *path, const char *resolved)
{
	int fd = confine_open(resolved, O_RDONLY | O_DIRECTORY);
	DIR *d = fd >= 0 ? fdopendir(fd) : NULL;
	if (!d) {
		say_error("ls", "%s: %s", path, strerror(errno));
		if (fd >= 0)
			close(fd);
		return 1;
	}
	char **names = NULL;
	size_t n = 0, cap = 0;
	int rc = 0;
	for (struct dirent *e; (e = readdir(d));) {
		if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
			continue;
		if (n == LS_ENTRIES_MAX) {
			say_error("ls", "%s: more than %d entries: the first shown", path,
				  LS_ENTRIES_MAX);
			rc = 1;
			break;
		}
		if (n == cap) {
			size_t c = cap ? cap * 2 : 64;
			char **m = realloc(names, c * sizeof(*names));
			if (!m)
				break;
			names = m;
			cap = c;
		}
		if (!(names[n] = strdup(e->d_name)))
			break;
		n++;
	}
	qsort(names, n, sizeof(*names), compare_names);
	for (size_t i = 0; i < n; i++) {
		print_entry(sh, dirfd(d), resolved, names[i]);
		free(names[i]);
	}
	free(names);
	closedir(d);
	return rc;
}

int cmd_ls(struct shell *sh, int argc, char **argv)
{
	if (argc > 2) {
		say_error("ls", "usage: ls [PATH]");
		return 1;
	}
	if (argc == 1) {
		puts("/config\n/scratch\n/datastores");
		return 0;
	}
	char resolved[PATH_MAX];
	if (resolve(sh, "ls", argv[1], resolved, true) < 0)
		return 1;
	struct stat st;
	if (stat(resolved, &st) < 0) {
		say_error("ls", "%s: %s", argv[1], strerror(errno));
		return 1;
	}
	if (S_ISDIR(st.st_mode))
		return list_dir(sh, argv[1], resolved);
	char *slash = strrchr(resolved, '/');
	*slash = '\0';
	int dfd = confine_open(resolved[0] ? resolved : "/", O_RDONLY | O_DIRECTORY);
	if (dfd < 0) {
		say_error("ls", "%s: %s", argv[1], strerror(errno));
		return 1;
	}
	print_entry(sh, dfd, resolved, slash + 1);
	close(dfd);
	return 0;
}

/* copies fd's bytes from where it stands to stdout; 0 or -1 */
static int copy_out(const char *cmd, const char *path, int fd)
{
	char buf[65536];
	for (;;) {
		if (intr_pending())
			return 0;
		ssize_t n = read(fd, buf, sizeof(buf));
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			say_error(cmd, "%s: %s", path, strerror(errno));
			return -1;
		}
		if (n == 0)
			return 0;
		if (write_text(stdout, buf, (size_t)n) < 0)
			return -1;
	}
}

int cmd_cat(struct shell *sh, int argc, char **argv)
{
	if (argc != 2) {
		say_error("cat", "usage: cat PATH");
		return 1;
	}
	char resolved[PATH_MAX];
	if (resolve(sh, "cat", argv[1], resolved, false) < 0)
		return 1;
	int fd = open_file("cat", argv[1], resolved);
	if (fd < 0)
		return 1;
	int rc = copy_out("cat", argv[1], fd);
	close(fd);
	return rc < 0 ? 1 : 0;
}

/* the offset of the start of the last `lines` lines of fd (size bytes) */
static off_t tail_start(int fd, off_t size, long lines)
{
	char buf[8192];
	off_t pos = size;
	long seen = 0;
	bool first = true;		     /* a newline ending the file does not start a line */
	while (pos > 0 && !intr_pending()) { /* a file without newlines is read whole */
		size_t n = pos < (off_t)sizeof(buf) ? (size_t)pos : sizeof(buf);
		pos -= (off_t)n;
		ssize_t got = pread(fd, buf, n, pos);
		if (got != (ssize_t)n)
			return 0;
		for (size_t i = n; i-- > 0;) {
			if (buf[i] != '\n')
				continue;
			if (first && pos + (off_t)i == size - 1)
				continue;
			if (++seen == lines)
				return pos + (off_t)i + 1;
		}
		first = false;
	}
	return 0;
}

/* follows the file at `resolved` (still open on *fd): what is appended,
 * from the start after a truncation, and the new file after a rotation
 * (a new inode under the name) */
static int follow(struct shell *sh, const char *path, const char *resolved, int *fd)
{
	(void)sh;
	while (!intr_pending()) {
		if (copy_out("tail", path, *fd) < 0)
			return -1;
		fflush(stdout);
		usleep(FOLLOW_US);
		struct stat now, named;
		if (fstat(*fd, &now) < 0)
			return -1;
		off_t pos = lseek(*fd, 0, SEEK_CUR);
		if (now.st_size < pos)
			lseek(*fd, 0, SEEK_SET);
		if (stat(resolved, &named) == 0 && named.st_ino != now.st_ino) {
			copy_out("tail", path, *fd); /* the rest of the old one */
			int nfd = confine_open(resolved, O_RDONLY | O_NONBLOCK);
			if (nfd >= 0) {
				close(*fd);
				*fd = nfd;
			}
		}
	}
	return 0;
}

int cmd_tail(struct shell *sh, int argc, char **argv)
{
	long lines = TAIL_DEFAULT;
	bool follow_it = false;
	const char *path = NULL;
	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "-f")) {
			follow_it = true;
		} else if (!strcmp(argv[i], "-n") && i + 1 < argc) {
			if (cmd_number("tail", "-n", argv[++i], 1, TAIL_LINES_MAX, &lines) < 0)
				return 1;
		} else if (argv[i][0] != '-' && !path) {
			path = argv[i];
		} else {
			say_error("tail", "usage: tail [-n N] [-f] PATH");
			return 1;
		}
	}
	if (!path) {
		say_error("tail", "usage: tail [-n N] [-f] PATH");
		return 1;
	}
	char resolved[PATH_MAX];
	if (resolve(sh, "tail", path, resolved, false) < 0)
		return 1;
	int fd = open_file("tail", path, resolved);
	if (fd < 0)
		return 1;
	struct stat st;
	int rc = fstat(fd, &st);
	if (rc == 0 && lseek(fd, tail_start(fd, st.st_size, lines), SEEK_SET) < 0)
		rc = -1;
	if (rc == 0)
		rc = follow_it ? follow(sh, path, resolved, &fd) : copy_out("tail", path, fd);
	close(fd);
	return rc < 0 ? 1 : 0;
}
