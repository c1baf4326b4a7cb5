#include "common/log.h"

#include "common/util.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

static const char *log_tag = "keel";
static int log_fd = 2;
static bool log_quiet; /* log_msg's lines to the log service only */

/* the log service's socket: its address, our socket (-1 until connected),
 * whether it was ever connected, the messages it did not take since (not
 * those before it first ran: they are on fd only, as the service's own
 * start says) */
static struct {
	pthread_mutex_t lock;
	struct sockaddr_un addr;
	int fd;
	bool connected;
	unsigned long dropped;
} sl = {.lock = PTHREAD_MUTEX_INITIALIZER, .fd = -1};

void log_init(const char *tag, int fd, const char *syslog_socket)
{
	log_tag = tag;
	log_fd = fd;
	log_quiet = false;
	pthread_mutex_lock(&sl.lock);
	if (sl.fd >= 0)
		close(sl.fd);
	sl.fd = -1;
	sl.connected = false;
	sl.dropped = 0;
	sl.addr = (struct sockaddr_un){.sun_family = AF_UNIX};
	if (syslog_socket)
		str_copy(sl.addr.sun_path, sizeof(sl.addr.sun_path), syslog_socket);
	pthread_mutex_unlock(&sl.lock);
	/* the libraries' own syslog(3) messages carry the tag too (glibc
	 * connects at their first one) */
	if (syslog_socket)
		openlog(tag, LOG_PID, LOG_DAEMON);
}

/* one datagram, never waiting: "<PRI>TAG[PID]: text" */
static int syslog_send(int pri, const char *text)
{
	char dgram[LOG_LINE_MAX + 128];
	int n =
	    snprintf(dgram, sizeof(dgram), "<%d>%s[%ld]: %s", pri, log_tag, (long)getpid(), text);
	size_t len = n < 0 ? 0 : (size_t)n >= sizeof(dgram) ? sizeof(dgram) - 1 : (size_t)n;
	for (int tries = 0; tries < 2; tries++) {
		if (sl.fd < 0) {
			sl.fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
			if (sl.fd >= 0 &&
			    connect(sl.fd, (struct sockaddr *)&sl.addr, sizeof(sl.addr)) < 0) {
				close(sl.fd);
				sl.fd = -1;
			}
			if (sl.fd < 0)
				return -1;
			sl.connected = true;
		}
		if (send(sl.fd, dgram, len, MSG_DONTWAIT | MSG_NOSIGNAL) >= 0)
			return 0;
		if (errno == EAGAIN)
			return -1; /* the service is behind: not waited for */
		close(sl.fd);	   /* it restarted: connect again, once */
		sl.fd = -1;
	}
	return -1;
}

/* To the log service, if there is one: a sender never waits for it (a log
 * service that is slow or gone must not stop keel-init or keel-hostd).
 * What it did not take is counted and said with the next one it takes.
 * Returns whether it was ever reached (what it missed since is counted). */
static bool log_syslog(int severity, const char *text)
{
	pthread_mutex_lock(&sl.lock);
	if (sl.addr.sun_path[0]) {
		if (sl.dropped) {
			char note[96];
			snprintf(note, sizeof(note),
				 "%lu messages not logged (the log service was busy or down)",
				 sl.dropped);
			if (syslog_send(LOG_DAEMON | LOG_WARNING, note) == 0)
				sl.dropped = 0;
		}
		if ((sl.dropped || syslog_send(LOG_DAEMON | severity, text) < 0) && sl.connected)
			sl.dropped++;
	}
	bool reached = sl.connected;
	pthread_mutex_unlock(&sl.lock);
	return reached;
}

void log_console_quiet(void)
{
	log_quiet = true;
}

double log_uptime(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_BOOTTIME, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

size_t log_escape(char *out, size_t cap, const char *in, size_t len)
{
	static const char hex[] = "0123456789abcdef";
	const unsigned char *p = (const unsigned char *)in;
	size_t o = 0;
	while (len > 0) {
		unsigned cp;
		size_t k = utf8_seq(p, len, &cp);
		int bad = k == 0 || cp < 0x20 || cp == 0x7f || (cp >= 0x80 && cp <= 0x9f);
		size_t n = k == 0 ? 1 : k; /* input bytes taken */
		size_t need = bad ? 4 * n : n;
		if (o + need + 1 > cap)
			break;
		for (size_t i = 0; i < n; i++) {
			if (bad) {
				out[o++] = '\\';
				out[o++] = 'x';
				out[o++] = hex[p[i] >> 4];
				out[o++] = hex[p[i] & 15];
			} else {
				out[o++] = (char)p[i];
			}
		}
		p += n;
		len -= n;
	}
	out[o] = '\0';
	return o;
}

static void log_emit(int severity, const char *fmt, va_list ap, const char *suffix)
{
	char msg[LOG_LINE_MAX], line[LOG_LINE_MAX];
	int m = vsnprintf(msg, sizeof(msg), fmt, ap);
	size_t mlen = m < 0 ? 0 : (size_t)m >= sizeof(msg) ? sizeof(msg) - 1 : (size_t)m;
	if (suffix) {
		int k = snprintf(msg + mlen, sizeof(msg) - mlen, ": %s", suffix);
		if (k > 0)
			mlen = mlen + (size_t)k >= sizeof(msg) ? sizeof(msg) - 1 : mlen + (size_t)k;
	}
	/* the line's own newline (messages from libraries often end in one) */
	while (mlen > 0 && msg[mlen - 1] == '\n')
		mlen--;
	int n = snprintf(line, sizeof(line), "[%9.3f] %s: ", log_uptime(), log_tag);
	if (n < 0 || (size_t)n >= sizeof(line) - 1)
		return;
	/* room is kept for the newline */
	size_t len = (size_t)n + log_escape(line + n, sizeof(line) - 1 - (size_t)n, msg, mlen);
	bool kept = severity >= 0 && log_syslog(severity, line + n);
	if (severity == LOG_INFO && log_quiet && kept)
		return;
	line[len++] = '\n';
	/* one write per line, so lines from several processes do not mix */
	ssize_t w = write(log_fd, line, len);
	(void)w;
}

void log_msg(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	log_emit(LOG_INFO, fmt, ap, NULL);
	va_end(ap);
}

void log_notice(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	log_emit(LOG_NOTICE, fmt, ap, NULL);
	va_end(ap);
}

void log_console(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	log_emit(-1, fmt, ap, NULL);
	va_end(ap);
}

void log_errno(const char *fmt, ...)
{
	int e = errno;
	va_list ap;
	va_start(ap, fmt);
	log_emit(LOG_ERR, fmt, ap, strerror(e));
	va_end(ap);
	errno = e;
}
