#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "common/logfiles.h"
#include "common/util.h"
#include "rm_rf.h"
#include "syslogd/logfile.h"
#include "syslogd/msg.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

/* the line for a datagram, at a fixed time on host "h1" */
static char *line_of(const char *dgram, size_t len)
{
	static char line[MSG_LINE_MAX];
	struct logmsg m;
	struct timespec t = {.tv_sec = 1796292000, .tv_nsec = 123456789}; /* 2026-12-03T10:00:00 */
	msg_parse_syslog(dgram, len, &m);
	msg_format(line, sizeof(line), &t, "h1", &m);
	return line;
}

#define LINE(s) line_of(s, sizeof(s) - 1)

static void test_parse_glibc(void **state)
{
	(void)state;
	struct logmsg m;
	const char d[] = "<30>Dec  3 10:00:00 keel-hostd[412]: login of 'root' refused";
	msg_parse_syslog(d, sizeof(d) - 1, &m);
	assert_int_equal(m.pri, 30);
	assert_string_equal(m.app, "keel-hostd");
	assert_int_equal(m.pid, 412);
	assert_int_equal(m.len, strlen("login of 'root' refused"));
	assert_memory_equal(m.text, "login of", 8);
	assert_string_equal(
	    LINE("<30>Dec  3 10:00:00 keel-hostd[412]: login of 'root' refused"),
	    "2026-12-03T10:00:00.123Z h1 keel-hostd[412] info: login of 'root' refused\n");
	/* no timestamp, no pid, a two-digit day, trailing newline */
	assert_string_equal(LINE("<11>Dec 13 01:02:03 chronyd: x\n"),
			    "2026-12-03T10:00:00.123Z h1 chronyd err: x\n");
	assert_string_equal(LINE("<0>app: m"), "2026-12-03T10:00:00.123Z h1 app emerg: m\n");
	assert_string_equal(LINE("<191>a[1]:"), "2026-12-03T10:00:00.123Z h1 a[1] debug: \n");
}

static void test_parse_hostile(void **state)
{
	(void)state;
	/* no PRI, PRI out of range, leading zero, unterminated: all kept whole
	 * as user.notice without an app */
	static const char *const whole[] = {"keel-hostd[1]: forged",
					    "<192>keel-hostd: x",
					    "<1000>x: y",
					    "<013>x: y",
					    "<13",
					    "<>x: y",
					    "",
					    "<-1>x: y",
					    "<1a>x: y"};
	for (size_t i = 0; i < sizeof(whole) / sizeof(whole[0]); i++) {
		struct logmsg m;
		msg_parse_syslog(whole[i], strlen(whole[i]), &m);
		assert_int_equal(m.pri, MSG_PRI_DEFAULT);
		assert_string_equal(m.app, "");
		assert_int_equal(m.pid, -1);
		assert_int_equal(m.len, strlen(whole[i]));
	}
	assert_string_equal(LINE("keel-hostd[1]: forged"),
			    "2026-12-03T10:00:00.123Z h1 - notice: keel-hostd[1]: forged\n");
	/* forged newlines, NUL bytes, terminal controls, invalid UTF-8 */
	assert_string_equal(
	    LINE("<14>x: a\n2026-01-01T00:00:00Z h1 keel-hostd[1] info: forged"),
	    "2026-12-03T10:00:00.123Z h1 x info: a\\x0a2026-01-01T00:00:00Z h1 keel-hostd[1] "
	    "info: forged\n");
	assert_string_equal(LINE("<14>x: a\0b\r\x1b[2J\xff\xc3(\xc2\x9b"),
			    "2026-12-03T10:00:00.123Z h1 x info: "
			    "a\\x00b\\x0d\\x1b[2J\\xff\\xc3(\\xc2\\x9b\n");
	/* a tag with a character a tag has not: no app */
	assert_string_equal(LINE("<14>a b: c"), "2026-12-03T10:00:00.123Z h1 - info: a b: c\n");
	assert_string_equal(LINE("<14>a\x1b: c"),
			    "2026-12-03T10:00:00.123Z h1 - info: a\\x1b: c\n");
	/* a bad pid: the tag is not one either */
	assert_string_equal(LINE("<14>a[12x]: c"),
			    "2026-12-03T10:00:00.123Z h1 - info: a[12x]: c\n");
	assert_string_equal(LINE("<14>a[12345678901]: c"),
			    "2026-12-03T10:00:00.123Z h1 - info: a[12345678901]: c\n");
	/* a tag too long */
	char longtag[200];
	memset(longtag, 'a', sizeof(longtag));
	memcpy(longtag, "<14>", 4);
	memcpy(longtag + 150, ": x", 3);
	struct logmsg m;
	msg_parse_syslog(longtag, 153, &m);
	assert_string_equal(m.app, "");
}

static void test_parse_huge(void **state)
{
	(void)state;
	size_t n = 3 * LOG_MSG_MAX;
	char *big = malloc(n);
	memset(big, '\r', n); /* every byte escaped: 4 times as long */
	memcpy(big, "<14>x: ", 7);
	struct logmsg m;
	msg_parse_syslog(big, n, &m);
	assert_int_equal(m.len, LOG_MSG_MAX - 7);
	char *line = line_of(big, n);
	size_t len = strlen(line);
	assert_true(len < MSG_LINE_MAX);
	assert_int_equal(line[len - 1], '\n');
	assert_null(memchr(line, '\n', len - 1));
	assert_non_null(strstr(line, " x info: \\x0d"));
	free(big);
}

static void test_parse_kmsg(void **state)
{
	(void)state;
	struct logmsg m;
	uint64_t seq, ts;
	const char r[] = "5,0,0,-;Linux version 6.1.0 (gcc)\n SUBSYSTEM=x\n";
	assert_int_equal(msg_parse_kmsg(r, sizeof(r) - 1, &m, &seq, &ts), 0);
	assert_int_equal(m.pri, 5);
	assert_string_equal(m.app, "kernel");
	assert_int_equal(m.len, strlen("Linux version 6.1.0 (gcc)"));
	const char r2[] = "30,1234,5678901,c;keel-init: x";
	assert_int_equal(msg_parse_kmsg(r2, sizeof(r2) - 1, &m, &seq, &ts), 0);
	assert_int_equal(m.pri, 30);
	assert_int_equal(seq, 1234);
	assert_int_equal(ts, 5678901);
	assert_int_equal(m.len, strlen("keel-init: x"));
	static const char *const bad[] = {"",	      ";x",	 "5;x",
					  "5,1;x",    "5,1,2;x", "a,1,2,-;x",
					  "5,,2,-;x", "5,1,2,-", "5,99999999999999999999999,2,-;x"};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_int_equal(msg_parse_kmsg(bad[i], strlen(bad[i]), &m, &seq, &ts), -1);
}

static void test_file_mapping(void **state)
{
	(void)state;
	static const struct {
		const char *app, *file;
	} table[] = {
	    {"keel-init", "init.log"},	  {"keel-dhcpc", "init.log"}, {"keel-hostd", "hostd.log"},
	    {"keel-vmm", "vmm.log"},	  {"keel-dcui", "dcui.log"},  {"keel-shell", "dcui.log"},
	    {"kernel", "kernel.log"},	  {"chronyd", "chrony.log"},  {"", "other.log"},
	    {"keel-hostdx", "other.log"}, {"audit", "other.log"},     {"KEEL-HOSTD", "other.log"},
	};
	for (size_t i = 0; i < sizeof(table) / sizeof(table[0]); i++)
		assert_string_equal(logfile_name(logfile_for_app(table[i].app)), table[i].file);
	long size;
	int keep;
	logfile_limits(256, 3, 0, &size, &keep);
	assert_int_equal(size, 256 * 1024);
	assert_int_equal(keep, 3);
	logfile_limits(1024 * 1024, 20, 1, &size, &keep);
	assert_true(size * (keep + 1) * LOGFILE_COUNT <= LOG_RAM_CAP_KIB * 1024L);
	assert_true(size >= 64 * 1024);
}

static off_t file_size(const char *dir, const char *name)
{
	char path[512];
	struct stat st;
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	return stat(path, &st) == 0 ? st.st_size : -1;
}

static void test_rotation(void **state)
{
	(void)state;
	char dir[] = "/tmp/keel-test-syslogd-XXXXXX";
	assert_non_null(mkdtemp(dir));
	struct logfile f;
	logfile_init(&f, dir, "x.log");
	char line[100];
	memset(line, 'a', sizeof(line) - 1);
	line[sizeof(line) - 1] = '\n';
	/* 1000 bytes a file: 10 lines each, never split */
	for (int i = 0; i < 10; i++)
		assert_int_equal(logfile_write(&f, line, sizeof(line), 1000, 2), 0);
	assert_int_equal(file_size(dir, "x.log"), 1000);
	assert_int_equal(file_size(dir, "x.log.1"), -1);
	assert_int_equal(logfile_write(&f, line, sizeof(line), 1000, 2), 0);
	assert_int_equal(file_size(dir, "x.log"), 100);
	assert_int_equal(file_size(dir, "x.log.1"), 1000);
	for (int i = 0; i < 35; i++)
		assert_int_equal(logfile_write(&f, line, sizeof(line), 1000, 2), 0);
	/* 46 lines: 6 in x.log, 10 in each of the 2 kept */
	assert_int_equal(file_size(dir, "x.log"), 600);
	assert_int_equal(file_size(dir, "x.log.1"), 1000);
	assert_int_equal(file_size(dir, "x.log.2"), 1000);
	assert_int_equal(file_size(dir, "x.log.3"), -1);
	/* a file found at start is appended to, and rotated by its size */
	logfile_close(&f);
	logfile_init(&f, dir, "x.log");
	for (int i = 0; i < 5; i++)
		assert_int_equal(logfile_write(&f, line, sizeof(line), 1000, 2), 0);
	assert_int_equal(file_size(dir, "x.log"), 100);
	assert_int_equal(file_size(dir, "x.log.1"), 1000);
	/* fewer kept: the older ones go at the next rotation */
	for (int i = 0; i < 10; i++)
		assert_int_equal(logfile_write(&f, line, sizeof(line), 1000, 1), 0);
	assert_int_equal(file_size(dir, "x.log.1"), 1000);
	assert_int_equal(file_size(dir, "x.log.2"), -1);
	logfile_close(&f);
	rm_rf(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_parse_glibc),	 cmocka_unit_test(test_parse_hostile),
	    cmocka_unit_test(test_parse_huge),	 cmocka_unit_test(test_parse_kmsg),
	    cmocka_unit_test(test_file_mapping), cmocka_unit_test(test_rotation),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
