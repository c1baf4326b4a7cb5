#include "shell/tty.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <termios.h>
#include <unistd.h>

#include "common/util.h"

static bool tty_name_valid(const char *path)
{
	const char *p = path;
	if (strncmp(p, "/dev/pts/", 9) == 0) {
		p += 9;
	} else if (strncmp(p, "/dev/tty", 8) == 0) {
		p += 8;
		if (*p == 'S')
			p++;
	} else {
		return false;
	}
	size_t n = strspn(p, "0123456789");
	return n >= 1 && n <= 3 && p[n] == '\0';
}

int tty_take(const char *path, char *err, size_t errlen)
{
	if (!tty_name_valid(path))
		return errorf(err, errlen, "%s: not a console (/dev/ttyN, /dev/ttySN, /dev/pts/N)",
			      path);
	setsid(); /* fails if already a session leader: then it is one */
	int fd = open(path, O_RDWR | O_NOCTTY | O_CLOEXEC);
	struct stat st;
	if (fd < 0)
		return errorf(err, errlen, "%s: %s", path, strerror(errno));
	if (fstat(fd, &st) < 0 || !S_ISCHR(st.st_mode) || !isatty(fd)) {
		close(fd);
		return errorf(err, errlen, "%s: not a terminal", path);
	}
	if (ioctl(fd, TIOCSCTTY, 1) < 0) {
		int e = errno;
		close(fd);
		return errorf(err, errlen, "%s: cannot become its controlling process: %s", path,
			      strerror(e));
	}
	for (int i = 0; i < 3; i++)
		if (dup2(fd, i) < 0) {
			int e = errno;
			close(fd);
			return errorf(err, errlen, "%s: %s", path, strerror(e));
		}
	close(fd);
	tcsetpgrp(0, getpgrp());
	return 0;
}

int tty_echo(int fd, bool on)
{
	struct termios t;
	if (tcgetattr(fd, &t) < 0)
		return -1;
	if (on)
		t.c_lflag |= ECHO;
	else
		t.c_lflag &= ~(tcflag_t)ECHO;
	return tcsetattr(fd, TCSANOW, &t); /* typed-ahead input is kept */
}
