/* The password prompt on the controlling terminal (see creds.h). */
#include "cli/creds.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

#include "cli/interrupt.h"
#include "cli/mem.h"
#include "cli/output.h"

#define PASSWORD_MAX 1024

/* one line from the terminal, without its newline; -1 on error */
static int read_line(int fd, char *buf, size_t n)
{
	size_t len = 0;
	for (;;) {
		ssize_t r = read(fd, buf + len, n - 1 - len);
		if (r < 0 && errno == EINTR && !interrupted())
			continue;
		if (r <= 0)
			return -1;
		len += (size_t)r;
		char *nl = memchr(buf, '\n', len);
		if (nl) {
			*nl = '\0';
			return 0;
		}
		if (len == n - 1)
			return -1;
	}
}

char *prompt_password(const char *user, const char *host)
{
	int fd = open("/dev/tty", O_RDWR | O_CLOEXEC | O_NOCTTY);
	if (fd < 0) {
		error_msg(
		    "no password: set KEEL_PASSWORD, use --credentials, or run on a terminal");
		return NULL;
	}
	struct termios saved, quiet;
	int tty = tcgetattr(fd, &saved) == 0;
	if (tty) {
		quiet = saved;
		quiet.c_lflag &= ~(tcflag_t)(ECHO | ECHONL);
		tcsetattr(fd, TCSAFLUSH, &quiet);
	}
	dprintf(fd, "Password for %s@%s: ", user, host);
	char buf[PASSWORD_MAX];
	int r = read_line(fd, buf, sizeof(buf));
	if (tty)
		tcsetattr(fd, TCSAFLUSH, &saved);
	dprintf(fd, "\n");
	close(fd);
	char *pw = r == 0 ? xstrdup(buf) : NULL;
	explicit_bzero(buf, sizeof(buf));
	if (!pw)
		error_msg("%s", interrupted() ? "interrupted" : "no password read");
	return pw;
}
