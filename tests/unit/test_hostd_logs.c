/* logs.c: the catalogue, the query values as hostile input, and reading:
 * the last lines, the lines since a time and the lines after a cursor,
 * across rotated files, with answers cut by their size. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "rm_rf.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "hostd/logs.h"

#define T0 1796300000LL /* 2026-12-03T...: line n is stamped T0 + n */

struct tmp {
	char dir[64];
	int hostd; /* the catalogue's index of "hostd" */
};

static void line(char *buf, size_t n, int k)
{
	time_t t = (time_t)(T0 + k);
	struct tm tm;
	gmtime_r(&t, &tm);
	char when[32];
	strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(buf, n, "%s.000Z keel keel-hostd[7] info: line %d\n", when, k);
}

/* lines [from, to) appended to dir/file */
static void append(const struct tmp *t, const char *file, int from, int to)
{
	char path[128], l[128];
	snprintf(path, sizeof(path), "%s/%s", t->dir, file);
	FILE *f = fopen(path, "a");
	assert_non_null(f);
	for (int k = from; k < to; k++) {
		line(l, sizeof(l), k);
		fputs(l, f);
	}
	fclose(f);
}

static char *expect(int from, int to)
{
	static char buf[65536];
	char l[128];
	buf[0] = '\0';
	for (int k = from; k < to; k++) {
		line(l, sizeof(l), k);
		strcat(buf, l);
	}
	return buf;
}

static void rotate(const struct tmp *t)
{
	char from[128], to[128];
	for (int k = 4; k >= 0; k--) {
		if (k == 0)
			snprintf(from, sizeof(from), "%s/hostd.log", t->dir);
		else
			snprintf(from, sizeof(from), "%s/hostd.log.%d", t->dir, k);
		snprintf(to, sizeof(to), "%s/hostd.log.%d", t->dir, k + 1);
		rename(from, to);
	}
}

static int setup(void **state)
{
	struct tmp *t = calloc(1, sizeof(*t));
	strcpy(t->dir, "/tmp/keel-logs-XXXXXX");
	if (!mkdtemp(t->dir))
		return -1;
	t->hostd = logs_find("hostd");
	/* hostd.log.2: 0-9, .1: 10-19, hostd.log: 20-24 */
	append(t, "hostd.log.2", 0, 10);
	append(t, "hostd.log.1", 10, 20);
	append(t, "hostd.log", 20, 25);
	*state = t;
	return 0;
}

static int teardown(void **state)
{
	struct tmp *t = *state;
	rm_rf(t->dir);
	free(t);
	return 0;
}

static void read_ok(const struct tmp *t, const struct logs_query *q, struct logs_answer *a)
{
	char err[256];
	int rc = logs_read(t->dir, (size_t)t->hostd, q, a, err, sizeof(err));
	if (rc < 0)
		fail_msg("logs_read: %s", err);
}

static void assert_text(const struct logs_answer *a, const char *want)
{
	assert_int_equal(a->len, strlen(want));
	assert_memory_equal(a->text, want, a->len);
}

static void test_catalogue(void **state)
{
	(void)state;
	const char *host[] = {"init", "hostd", "vmm", "dcui", "kernel", "chrony", "other"};
	for (size_t i = 0; i < sizeof(host) / sizeof(host[0]); i++) {
		assert_true(logs_host_name_valid(host[i]));
		assert_false(logs_audit_name_valid(host[i]));
	}
	assert_true(logs_audit_name_valid("audit"));
	assert_true(logs_audit_name_valid("audit-denied"));
	assert_false(logs_host_name_valid("audit"));
	const char *bad[] = {
	    "",		"..",	   "../hostd",	 "hostd.log", "hostd/",
	    "HOSTD",	"hostd\n", " hostd",	 "audit.log", "/scratch/log/hostd.log",
	    "hostd%00", "auditx",  "kernel.log", "."};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		assert_false(logs_host_name_valid(bad[i]));
		assert_false(logs_audit_name_valid(bad[i]));
	}
	assert_false(logs_host_name_valid(NULL));
	assert_string_equal(logs_file((size_t)logs_find("kernel")), "kernel.log");
	assert_string_equal(logs_file((size_t)logs_find("audit-denied")), "audit-denied.log");
}

static void test_query_values(void **state)
{
	(void)state;
	char err[256];
	unsigned n;
	assert_int_equal(logs_parse_lines("1", &n, err, sizeof(err)), 0);
	assert_int_equal(n, 1);
	assert_int_equal(logs_parse_lines("10000", &n, err, sizeof(err)), 0);
	const char *bad_lines[] = {"0",
				   "10001",
				   "-1",
				   "+5",
				   " 5",
				   "5 ",
				   "5x",
				   "",
				   "1e3",
				   "0x10",
				   "99999999999999999999",
				   "18446744073709551617"};
	for (size_t i = 0; i < sizeof(bad_lines) / sizeof(bad_lines[0]); i++)
		assert_int_equal(logs_parse_lines(bad_lines[i], &n, err, sizeof(err)), -EINVAL);
	assert_int_equal(logs_parse_lines(NULL, &n, err, sizeof(err)), -EINVAL);
	int64_t us;
	assert_int_equal(logs_parse_time("2026-12-03T17:24:32Z", &us, err, sizeof(err)), 0);
	assert_int_equal(us, 1796318672LL * 1000000);
	assert_int_equal(logs_parse_time("2026-12-03T17:24:32.5Z", &us, err, sizeof(err)), 0);
	assert_int_equal(us, 1796318672LL * 1000000 + 500000);
	assert_int_equal(logs_parse_time("2026-12-03T17:24:32.123456789Z", &us, err, sizeof(err)),
			 0);
	assert_int_equal(us % 1000000, 123456);
	assert_int_equal(logs_parse_time("2028-02-29T00:00:00Z", &us, err, sizeof(err)), 0);
	const char *bad_times[] = {"",
				   "2026-12-03",
				   "2026-12-03T17:24:32",
				   "2026-12-03 17:24:32Z",
				   "2026-12-03T17:24:32+01:00",
				   "2026-13-03T17:24:32Z",
				   "2026-12-03T24:00:00Z",
				   "2026-12-03T17:24:32.Z",
				   "2026-12-03T17:24:32.1234567890Z",
				   "2026-12-03T17:24:32Zjunk",
				   "1969-12-31T23:59:59Z",
				   "-026-12-03T17:24:32Z",
				   "2026-12-03T17:24:3aZ",
				   "2026-02-31T00:00:00Z",
				   "2026-02-29T00:00:00Z"};
	for (size_t i = 0; i < sizeof(bad_times) / sizeof(bad_times[0]); i++)
		assert_int_equal(logs_parse_time(bad_times[i], &us, err, sizeof(err)), -EINVAL);
	struct logs_cursor c;
	assert_int_equal(logs_parse_cursor("12-34-56", &c, err, sizeof(err)), 0);
	assert_true(c.ino == 12 && c.off == 34 && c.check == 56);
	char buf[64];
	logs_format_cursor(&c, buf, sizeof(buf));
	assert_string_equal(buf, "12-34-56");
	const char *bad_cursors[] = {"",
				     "12",
				     "12-34",
				     "12-34-",
				     "-12-34-56",
				     "12--34-56",
				     "1-2-3-4",
				     "a-b-c",
				     "1-+2-3",
				     "1- 2-3",
				     "99999999999999999999-0-0",
				     "0-0-0x"};
	for (size_t i = 0; i < sizeof(bad_cursors) / sizeof(bad_cursors[0]); i++)
		assert_int_equal(logs_parse_cursor(bad_cursors[i], &c, err, sizeof(err)), -EINVAL);
	/* the times lines begin with */
	const char *audit = "{\"time\":\"2026-12-03T17:24:32Z\",\"user\":\"root\"}\n";
	assert_int_equal(logs_line_time(audit, strlen(audit), &us), 0);
	assert_int_equal(us, 1796318672LL * 1000000);
	assert_int_equal(logs_line_time("no time here\n", 13, &us), -1);
	assert_int_equal(logs_line_time("{\"time\":", 8, &us), -1);
	assert_int_equal(logs_line_time("2026-12-03T17:2", 15, &us), -1);
}

static void test_tail(void **state)
{
	struct tmp *t = *state;
	struct logs_answer a;
	struct logs_query q = {.mode = LOGS_TAIL, .lines = 3};
	read_ok(t, &q, &a);
	assert_text(&a, expect(22, 25));
	free(a.text);
	q.lines = 12; /* across two rotated files */
	read_ok(t, &q, &a);
	assert_text(&a, expect(13, 25));
	free(a.text);
	q.lines = 1000; /* all there is */
	read_ok(t, &q, &a);
	assert_text(&a, expect(0, 25));
	assert_false(a.gap);
	free(a.text);
	/* a half-written line is not given, and the cursor stops before it */
	char path[128];
	snprintf(path, sizeof(path), "%s/hostd.log", t->dir);
	FILE *f = fopen(path, "a");
	fputs("2026-12-03T00:00:00.000Z half", f);
	fclose(f);
	q.lines = 1;
	read_ok(t, &q, &a);
	assert_text(&a, expect(24, 25));
	free(a.text);
	/* the answer's size bound: whole lines only */
	q.lines = 100;
	q.max = 200;
	read_ok(t, &q, &a);
	char l[128];
	line(l, sizeof(l), 24);
	assert_true(a.len <= 200 && a.len >= strlen(l));
	assert_int_equal(a.len % strlen(l), 0);
	assert_memory_equal(a.text + a.len - strlen(l), l, strlen(l));
	free(a.text);
}

static void test_since(void **state)
{
	struct tmp *t = *state;
	struct logs_answer a;
	struct logs_query q = {.mode = LOGS_SINCE, .since_us = (T0 + 5) * 1000000};
	read_ok(t, &q, &a);
	assert_text(&a, expect(5, 25));
	free(a.text);
	q.since_us = (T0 + 15) * 1000000 + 1; /* inside hostd.log.1 */
	read_ok(t, &q, &a);
	assert_text(&a, expect(16, 25));
	free(a.text);
	q.since_us = (T0 - 100) * 1000000; /* before all */
	read_ok(t, &q, &a);
	assert_text(&a, expect(0, 25));
	free(a.text);
	q.since_us = (T0 + 100) * 1000000; /* after all: nothing, cursor at the end */
	read_ok(t, &q, &a);
	assert_int_equal(a.len, 0);
	free(a.text);
	struct logs_query after = {.mode = LOGS_AFTER, .after = a.next};
	append(t, "hostd.log", 25, 26);
	read_ok(t, &after, &a);
	assert_text(&a, expect(25, 26));
	free(a.text);
	/* cut by size: "more", and the rest follows the cursor */
	q.since_us = (T0 + 5) * 1000000;
	q.max = 300;
	read_ok(t, &q, &a);
	assert_true(a.more && a.len > 0 && a.len <= 300);
	size_t total = a.len;
	char *all = malloc(65536);
	memcpy(all, a.text, a.len);
	while (a.more) {
		after.after = a.next;
		after.max = 300;
		free(a.text);
		read_ok(t, &after, &a);
		memcpy(all + total, a.text, a.len);
		total += a.len;
	}
	free(a.text);
	const char *want = expect(5, 26);
	assert_int_equal(total, strlen(want));
	assert_memory_equal(all, want, total);
	free(all);
}

static void test_after_across_rotations(void **state)
{
	struct tmp *t = *state;
	struct logs_answer a;
	struct logs_query q = {.mode = LOGS_TAIL, .lines = 1};
	read_ok(t, &q, &a);
	free(a.text);
	struct logs_query after = {.mode = LOGS_AFTER, .after = a.next};
	read_ok(t, &after, &a); /* nothing new */
	assert_int_equal(a.len, 0);
	assert_memory_equal(&a.next, &after.after, sizeof(a.next));
	free(a.text);
	append(t, "hostd.log", 25, 27);
	rotate(t);
	append(t, "hostd.log", 27, 28);
	rotate(t);
	append(t, "hostd.log", 28, 30);
	read_ok(t, &after, &a);
	assert_text(&a, expect(25, 30));
	assert_false(a.gap);
	after.after = a.next;
	free(a.text);
	read_ok(t, &after, &a);
	assert_int_equal(a.len, 0);
	free(a.text);
	/* rotated out of existence: from the oldest file there is, a gap */
	for (int k = 0; k < 8; k++) {
		rotate(t);
		append(t, "hostd.log", 30 + k, 31 + k);
	}
	char path[128];
	for (int k = 4; k <= 9; k++) {
		snprintf(path, sizeof(path), "%s/hostd.log.%d", t->dir, k);
		unlink(path);
	}
	read_ok(t, &after, &a);
	assert_true(a.gap);
	assert_text(&a, expect(34, 38));
	free(a.text);
	/* the beginning: 0-0-0, no gap */
	after.after = (struct logs_cursor){0, 0, 0};
	read_ok(t, &after, &a);
	assert_false(a.gap);
	assert_text(&a, expect(34, 38));
	free(a.text);
}

static void test_no_files(void **state)
{
	(void)state;
	char dir[] = "/tmp/keel-logs-empty-XXXXXX";
	assert_non_null(mkdtemp(dir));
	struct logs_answer a;
	char err[256];
	struct logs_query q = {.mode = LOGS_TAIL, .lines = 10};
	assert_int_equal(logs_read(dir, (size_t)logs_find("kernel"), &q, &a, err, sizeof(err)), 0);
	assert_int_equal(a.len, 0);
	assert_true(a.next.ino == 0 && a.next.off == 0);
	free(a.text);
	json_t *list = logs_list(dir, true, false);
	assert_int_equal(json_array_size(list), 7);
	json_decref(list);
	list = logs_list(dir, false, true);
	assert_int_equal(json_array_size(list), 2);
	json_decref(list);
	assert_int_equal(logs_read(dir, 999, &q, &a, err, sizeof(err)), -ENOENT);
	rm_rf(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_catalogue),
	    cmocka_unit_test(test_query_values),
	    cmocka_unit_test_setup_teardown(test_tail, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_since, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_after_across_rotations, setup, teardown),
	    cmocka_unit_test(test_no_files),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
