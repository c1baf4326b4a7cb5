/* keel-syslogd's sender (forward.c) against a TCP receiver in this
 * process, under ASan and UBSan: messages arrive in order, octet-counted;
 * targets removed and added again while messages are submitted (a use
 * after free once); a receiver that goes away and comes back gets what
 * was submitted meanwhile. Waits have deadlines only to end a hung test. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "common/hostconf.h"
#include "syslogd/forward.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

static int listener(int *port)
{
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	struct sockaddr_in sa = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	socklen_t len = sizeof(sa);
	int on = 1;
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof(on));
	if (*port)
		sa.sin_port = htons((uint16_t)*port);
	assert_int_equal(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	assert_int_equal(listen(fd, 8), 0);
	assert_int_equal(getsockname(fd, (struct sockaddr *)&sa, &len), 0);
	*port = ntohs(sa.sin_port);
	return fd;
}

static int accept_within(int l, int ms)
{
	struct pollfd p = {.fd = l, .events = POLLIN};
	assert_int_equal(poll(&p, 1, ms), 1);
	return accept(l, NULL, NULL);
}

/* reads frames from *c (and, when it ends, from the next connection on l)
 * until one whose message ends with `last`; returns how many messages
 * ending with PREFIX0, PREFIX1, ... came, in that order, from `from` on */
static int read_until(int l, int *c, const char *last, const char *prefix, int from)
{
	static char buf[1 << 20];
	size_t len = 0;
	int next = from;
	for (;;) {
		struct pollfd p = {.fd = *c, .events = POLLIN};
		assert_int_equal(poll(&p, 1, 20000), 1);
		ssize_t n = read(*c, buf + len, sizeof(buf) - len);
		if (n <= 0) { /* that connection ended: the sender makes another */
			close(*c);
			*c = accept_within(l, 20000);
			len = 0;
			continue;
		}
		len += (size_t)n;
		size_t off = 0;
		for (;;) {
			char *sp = memchr(buf + off, ' ', len - off);
			if (!sp)
				break;
			size_t flen = strtoul(buf + off, NULL, 10);
			size_t start = (size_t)(sp + 1 - buf);
			if (start + flen > len)
				break;
			char msg[512];
			snprintf(msg, sizeof(msg), "%.*s", (int)flen, buf + start);
			char want[64];
			snprintf(want, sizeof(want), "%s%d", prefix, next);
			size_t wl = strlen(want);
			/* duplicates of earlier ones may come first, after a reconnection */
			if (flen >= wl && strcmp(msg + flen - wl, want) == 0)
				next++;
			off = start + flen;
			if (flen >= strlen(last) && strcmp(msg + flen - strlen(last), last) == 0)
				return next - from;
		}
		memmove(buf, buf + off, len - off);
		len -= off;
	}
}

static void submit(const char *prefix, int i)
{
	char text[64];
	int n = snprintf(text, sizeof(text), "%s%d", prefix, i);
	struct logmsg m = {.pri = 30, .app = "t", .pid = 1, .text = text, .len = (size_t)n};
	struct timespec now;
	clock_gettime(CLOCK_REALTIME, &now);
	fwd_submit(&now, "h", &m, NULL);
}

/* until the sender took the last configuration (20 s at most) */
static void wait_configured(void)
{
	for (int i = 0; !fwd_configured(); i++) {
		assert_true(i < 2000);
		struct timespec ts = {.tv_nsec = 10 * 1000000};
		nanosleep(&ts, NULL);
	}
}

static void test_sender(void **state)
{
	(void)state;
	int port = 0, l = listener(&port);
	struct hostconf hc, none;
	hostconf_defaults(&hc);
	hostconf_defaults(&none);
	snprintf(hc.syslog_targets[0], SYSLOG_URL_MAX, "tcp://127.0.0.1:%d", port);
	snprintf(hc.syslog_targets[1], SYSLOG_URL_MAX, "udp://127.0.0.1:%d", port);
	fwd_configure(&hc);
	assert_int_equal(fwd_start(), 0);
	assert_true(fwd_configured()); /* taken before the first message */
	for (int i = 0; i < 500; i++)
		submit("a-", i);
	int c = accept_within(l, 20000);
	assert_int_equal(read_until(l, &c, "a-499", "a-", 0), 500);

	/* removed and added again while messages come */
	for (int round = 0; round < 20; round++) {
		fwd_configure(round % 2 ? &hc : &none);
		for (int i = 0; i < 50; i++)
			submit("r-", i);
	}
	fwd_configure(&hc);
	wait_configured();
	for (int i = 0; i < 10; i++)
		submit("b-", i);
	assert_int_equal(read_until(l, &c, "b-9", "b-", 0), 10);

	/* the receiver goes away: nothing submitted meanwhile is lost */
	close(c);
	close(l);
	for (int i = 0; i < 300; i++)
		submit("c-", i);
	l = listener(&port);
	c = accept_within(l, 60000);
	assert_int_equal(read_until(l, &c, "c-299", "c-", 0), 300);
	close(c);
	close(l);
	fwd_configure(&none);
}

int main(void)
{
	const struct CMUnitTest tests[] = {cmocka_unit_test(test_sender)};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
