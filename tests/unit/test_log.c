#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "common/log.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

/* --- log_escape ---------------------------------------------------------- */

static void test_escape_table(void **state)
{
	(void)state;
	static const struct {
		const char *in, *out;
	} table[] = {
	    {"", ""},
	    {"plain text, 100% ok ~", "plain text, 100% ok ~"},
	    {"line\nbreak", "line\\x0abreak"},
	    {"cr\rtab\tbell\a", "cr\\x0dtab\\x09bell\\x07"},
	    {"\x1b[2J\x1b]0;title\x07", "\\x1b[2J\\x1b]0;title\\x07"},
	    {"del\x7f", "del\\x7f"},
	    /* UTF-8 text stays */
	    {"caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x99\x82",
	     "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x99\x82"},
	    /* U+0085 (NEL) and U+009B (CSI), the C1 controls in UTF-8 */
	    {"a\xc2\x85z\xc2\x9b", "a\\xc2\\x85z\\xc2\\x9b"},
	    /* U+00A0 is the first after them: kept */
	    {"\xc2\xa0", "\xc2\xa0"},
	    /* bytes that are not UTF-8: a raw 8-bit CSI, a lone continuation,
	     * an overlong '/', a surrogate, a cut sequence */
	    {"\x9b"
	     "2J",
	     "\\x9b2J"},
	    {"\x80", "\\x80"},
	    {"\xc0\xaf", "\\xc0\\xaf"},
	    {"\xed\xa0\x80", "\\xed\\xa0\\x80"},
	    {"\xe2\x82", "\\xe2\\x82"},
	    {"\xff\xfe", "\\xff\\xfe"},
	};
	for (size_t i = 0; i < sizeof table / sizeof table[0]; i++) {
		char out[256];
		size_t n = log_escape(out, sizeof out, table[i].in, strlen(table[i].in));
		assert_string_equal(out, table[i].out);
		assert_int_equal(n, strlen(table[i].out));
	}
	/* a NUL inside the given length is escaped too */
	char out[64];
	assert_int_equal(log_escape(out, sizeof out, "a\0b", 3), 6);
	assert_string_equal(out, "a\\x00b");
}

static void test_escape_never_cuts(void **state)
{
	(void)state;
	char out[8];
	/* "ab" + an escape (4) would need 7 bytes + NUL: it fits exactly */
	assert_int_equal(log_escape(out, sizeof out, "ab\ncd", 5), 7);
	assert_string_equal(out, "ab\\x0ac");
	/* an escape that does not fit whole is left out */
	assert_int_equal(log_escape(out, sizeof out, "abcd\n", 5), 4);
	assert_string_equal(out, "abcd");
	/* so is a character */
	assert_int_equal(log_escape(out, sizeof out, "abcde\xe2\x82\xac", 8), 5);
	assert_string_equal(out, "abcde");
	assert_int_equal(log_escape(out, 1, "abc", 3), 0);
	assert_string_equal(out, "");
}

/* --- lines written by log_msg --------------------------------------------- */

/* Runs log_msg (mode 0, or 2: the text as the whole message) or log_errno
 * (mode 1) into a pipe; returns what was written. */
static size_t capture(char *buf, size_t cap, int mode, const char *user)
{
	int fds[2];
	assert_int_equal(pipe2(fds, O_CLOEXEC), 0);
	log_init("test", fds[1], NULL);
	errno = ENOENT;
	if (mode == 2)
		log_msg("%s", user);
	else if (mode == 1)
		log_errno("login of '%s'", user);
	else
		log_msg("login of '%s' refused", user);
	close(fds[1]);
	size_t len = 0;
	ssize_t n;
	while ((n = read(fds[0], buf + len, cap - 1 - len)) > 0)
		len += (size_t)n;
	close(fds[0]);
	buf[len] = '\0';
	log_init("keel", 2, NULL);
	return len;
}

/* one line, ending in its only newline, with no control character */
static void assert_one_clean_line(const char *buf, size_t len)
{
	assert_true(len > 0 && len <= LOG_LINE_MAX);
	assert_int_equal(buf[len - 1], '\n');
	for (size_t i = 0; i + 1 < len; i++) {
		unsigned char c = (unsigned char)buf[i];
		assert_true(c >= 0x20 && c != 0x7f);
	}
}

static void test_log_lines_escaped(void **state)
{
	(void)state;
	char buf[2 * LOG_LINE_MAX];
	/* a user name that forges a second line and clears the screen */
	const char *evil = "bob'\n[    1.000] keel-hostd: login of 'root' ok\x1b[2J\x1b]0;x\x07";
	size_t len = capture(buf, sizeof buf, 0, evil);
	assert_one_clean_line(buf, len);
	assert_non_null(strstr(buf, "] test: login of 'bob'\\x0a[    1.000] keel-hostd: login of "
				    "'root' ok\\x1b[2J\\x1b]0;x\\x07' refused\n"));

	len = capture(buf, sizeof buf, 1, "\r\x9b");
	assert_one_clean_line(buf, len);
	assert_non_null(strstr(buf, "login of '\\x0d\\x9b': No such file or directory\n"));

	/* a newline ending the message is the line's own */
	len = capture(buf, sizeof buf, 2, "from a library\n\n");
	assert_one_clean_line(buf, len);
	assert_non_null(strstr(buf, "] test: from a library\n"));
	len = capture(buf, sizeof buf, 1, "x\n");
	assert_non_null(strstr(buf, "login of 'x\\x0a': No such file or directory\n"));

	/* UTF-8 names are shown as they are */
	len = capture(buf, sizeof buf, 0, "j\xc3\xb6rg");
	assert_non_null(strstr(buf, "login of 'j\xc3\xb6rg' refused\n"));

	/* too long, and all escapes: cut, still one line */
	char big[3000];
	memset(big, '\x1b', sizeof big - 1);
	big[sizeof big - 1] = '\0';
	len = capture(buf, sizeof buf, 0, big);
	assert_one_clean_line(buf, len);
	assert_true(len > LOG_LINE_MAX - 8);
}

/* --- to the log service --------------------------------------------------- */

/* a log service's socket at path (made again if there), not read until asked */
static int service(const char *path)
{
	unlink(path);
	int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", path);
	assert_int_equal(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	return fd;
}

/* the next datagram, NUL-terminated, or "" if none waits */
static const char *next_dgram(int fd)
{
	static char buf[2 * LOG_LINE_MAX];
	ssize_t n = recv(fd, buf, sizeof(buf) - 1, MSG_DONTWAIT);
	buf[n > 0 ? n : 0] = '\0';
	return buf;
}

static void test_syslog_never_waits(void **state)
{
	(void)state;
	char dir[] = "/tmp/keel-test-log-XXXXXX", path[64], want[128];
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/log", dir);
	int devnull = open("/dev/null", O_WRONLY | O_CLOEXEC);

	/* before the service first runs: on fd only, and not counted */
	log_init("test", devnull, path);
	log_msg("early");
	int svc = service(path);
	errno = EACCES;
	log_errno("denied\n");
	/* LOG_DAEMON | LOG_ERR, the pid, the escaped message */
	snprintf(want, sizeof(want), "<27>test[%ld]: denied\\x0a: Permission denied",
		 (long)getpid());
	assert_string_equal(next_dgram(svc), want);
	assert_string_equal(next_dgram(svc), "");

	/* a service that does not read: the sender goes on, counting */
	int sent = 0;
	for (int i = 0; i < 500; i++)
		log_msg("message %d", i);
	while (next_dgram(svc)[0])
		sent++;
	assert_true(sent > 0 && sent < 500);
	log_msg("after");
	snprintf(want, sizeof(want),
		 "<28>test[%ld]: %d messages not logged (the log service was busy or down)",
		 (long)getpid(), 500 - sent);
	assert_string_equal(next_dgram(svc), want);
	snprintf(want, sizeof(want), "<30>test[%ld]: after", (long)getpid());
	assert_string_equal(next_dgram(svc), want);

	/* gone, then back (a restart): counted while gone, said once back */
	close(svc);
	unlink(path);
	log_msg("while gone");
	svc = service(path);
	log_msg("back");
	snprintf(want, sizeof(want),
		 "<28>test[%ld]: 1 messages not logged (the log service was busy or down)",
		 (long)getpid());
	assert_string_equal(next_dgram(svc), want);
	assert_non_null(strstr(next_dgram(svc), "]: back"));

	log_init("keel", 2, NULL);
	close(svc);
	close(devnull);
	unlink(path);
	rmdir(dir);
}

/* what the pipe holds now */
static const char *drain(int fd)
{
	static char buf[4 * LOG_LINE_MAX];
	ssize_t n = read(fd, buf, sizeof(buf) - 1);
	buf[n > 0 ? n : 0] = '\0';
	return buf;
}

static void test_console_keeps_what_it_needs(void **state)
{
	(void)state;
	char dir[] = "/tmp/keel-test-log-XXXXXX", path[64];
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/log", dir);
	int svc = service(path), fds[2];
	assert_int_equal(pipe2(fds, O_CLOEXEC | O_NONBLOCK), 0);
	log_init("test", fds[1], path);
	log_console_quiet();

	log_msg("vm x: powered on"); /* the log service only */
	assert_non_null(strstr(next_dgram(svc), "<30>test["));
	assert_string_equal(drain(fds[0]), "");
	log_notice("API ready"); /* both */
	assert_non_null(strstr(next_dgram(svc), "<29>test["));
	assert_non_null(strstr(drain(fds[0]), "] test: API ready\n"));
	errno = EIO;
	log_errno("disk"); /* both */
	assert_non_null(strstr(next_dgram(svc), "<27>test["));
	assert_non_null(strstr(drain(fds[0]), "] test: disk: Input/output error\n"));
	log_console("password: %s", "s3cret"); /* the console only, never kept */
	assert_string_equal(next_dgram(svc), "");
	assert_non_null(strstr(drain(fds[0]), "] test: password: s3cret\n"));

	/* without a log service, quiet changes nothing: all on the console */
	log_init("test", fds[1], NULL);
	log_console_quiet();
	log_msg("no service");
	assert_non_null(strstr(drain(fds[0]), "] test: no service\n"));
	close(svc);
	unlink(path);
	log_init("test", fds[1], path); /* one that never ran */
	log_console_quiet();
	log_msg("not yet");
	assert_non_null(strstr(drain(fds[0]), "] test: not yet\n"));

	log_init("keel", 2, NULL);
	close(fds[0]);
	close(fds[1]);
	rmdir(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_escape_table),
	    cmocka_unit_test(test_escape_never_cuts),
	    cmocka_unit_test(test_log_lines_escaped),
	    cmocka_unit_test(test_syslog_never_waits),
	    cmocka_unit_test(test_console_keeps_what_it_needs),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
