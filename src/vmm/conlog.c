#include "vmm/conlog.h"

#include <errno.h>
#include <sys/eventfd.h>
#include <sys/stat.h>
#include <unistd.h>

int conlog_init(struct conlog *l, int fd, uint64_t max)
{
	struct stat st;
	if (max < 2) {
		errno = EINVAL;
		return -1;
	}
	if (fstat(fd, &st) < 0 || lseek(fd, 0, SEEK_END) < 0)
		return -1;
	l->fd = fd;
	l->max = max;
	l->size = (uint64_t)st.st_size;
	l->trim_due = false;
	l->wake = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (l->wake < 0)
		return -1;
	pthread_mutex_init(&l->lock, NULL);
	if (l->size > l->max) { /* left large by an earlier run */
		l->trim_due = true;
		eventfd_write(l->wake, 1);
	}
	return 0;
}

void conlog_put(struct conlog *l, uint8_t byte)
{
	pthread_mutex_lock(&l->lock);
	if (write(l->fd, &byte, 1) == 1)
		l->size++;
	if (l->size > l->max && !l->trim_due) {
		l->trim_due = true;
		eventfd_write(l->wake, 1);
	}
	pthread_mutex_unlock(&l->lock);
}

int conlog_trim(struct conlog *l)
{
	eventfd_t ignored;
	eventfd_read(l->wake, &ignored);
	pthread_mutex_lock(&l->lock);
	int rc = 0;
	if (l->size > l->max) {
		uint64_t keep = l->max / 2, from = l->size - keep;
		char buf[65536];
		for (uint64_t done = 0; rc == 0 && done < keep;) {
			uint64_t want = keep - done < sizeof(buf) ? keep - done : sizeof(buf);
			ssize_t n = pread(l->fd, buf, want, (off_t)(from + done));
			if (n == 0)
				errno = EIO; /* shorter than we wrote: someone else truncated it */
			if (n <= 0 || pwrite(l->fd, buf, (size_t)n, (off_t)done) != n)
				rc = -1;
			else
				done += (uint64_t)n;
		}
		if (rc == 0 &&
		    (ftruncate(l->fd, (off_t)keep) < 0 || lseek(l->fd, (off_t)keep, SEEK_SET) < 0))
			rc = -1;
		if (rc == 0)
			l->size = keep;
	}
	l->trim_due = false;
	pthread_mutex_unlock(&l->lock);
	return rc;
}
