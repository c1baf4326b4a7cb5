#include "syslogd/logfile.h"

#include "common/logfiles.h"

#include <fcntl.h>
#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>

void logfile_init(struct logfile *f, const char *dir, const char *name)
{
	snprintf(f->path, sizeof(f->path), "%s/%s", dir, name);
	f->fd = -1;
	f->size = 0;
}

void logfile_close(struct logfile *f)
{
	if (f->fd >= 0)
		close(f->fd);
	f->fd = -1;
}

static void rotate(struct logfile *f, int keep)
{
	char from[300], to[300];
	logfile_close(f);
	for (int i = LOG_KEEP_MAX; i > keep; i--) {
		snprintf(to, sizeof(to), "%s.%d", f->path, i);
		unlink(to);
	}
	for (int i = keep; i > 1; i--) {
		snprintf(from, sizeof(from), "%s.%d", f->path, i - 1);
		snprintf(to, sizeof(to), "%s.%d", f->path, i);
		rename(from, to);
	}
	snprintf(to, sizeof(to), "%s.1", f->path);
	rename(f->path, to);
}

static int open_file(struct logfile *f)
{
	struct stat st;
	f->fd = open(f->path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0640);
	if (f->fd < 0)
		return -1;
	f->size = fstat(f->fd, &st) == 0 ? st.st_size : 0;
	return 0;
}

int logfile_write(struct logfile *f, const char *line, size_t len, long max, int keep)
{
	if (f->fd < 0 && open_file(f) < 0)
		return -1;
	if (f->size > 0 && f->size + (off_t)len > (off_t)max) {
		/* if the renames fail, the line still goes to the file */
		rotate(f, keep);
		if (open_file(f) < 0)
			return -1;
	}
	ssize_t w = write(f->fd, line, len);
	if (w > 0)
		f->size += w;
	return w == (ssize_t)len ? 0 : -1;
}
