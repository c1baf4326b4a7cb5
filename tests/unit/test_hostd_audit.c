#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "rm_rf.h"

#include <dirent.h>
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "common/util.h"
#include "hostd/audit.h"

#define FILE_MAX (8 * 1024 * 1024)

/* --- helpers -------------------------------------------------------------- */

struct tmp {
	char root[64];
	char dir[128]; /* the log folder, made by audit_init */
};

static int setup(void **state)
{
	struct tmp *t = calloc(1, sizeof(*t));
	if (!t)
		return -1;
	strcpy(t->root, "/tmp/keel-audit-XXXXXX");
	if (!mkdtemp(t->root)) {
		free(t);
		return -1;
	}
	snprintf(t->dir, sizeof(t->dir), "%s/log", t->root);
	char err[256] = "";
	if (audit_init(t->dir, err, sizeof(err)) < 0) {
		fprintf(stderr, "audit_init: %s\n", err);
		rm_rf(t->root);
		free(t);
		return -1;
	}
	*state = t;
	return 0;
}

static int teardown(void **state)
{
	struct tmp *t = *state;
	audit_flush(); /* no count left for the next test's folder */
	rm_rf(t->root);
	free(t);
	return 0;
}

static void path_of(char *out, size_t n, const struct tmp *t, int i)
{
	if (i == 0)
		snprintf(out, n, "%s/audit.log", t->dir);
	else
		snprintf(out, n, "%s/audit.log.%d", t->dir, i);
}

/* audit-denied.log (0), audit-denied.log.1, ... */
static void denied_path_of(char *out, size_t n, const struct tmp *t, int i)
{
	if (i == 0)
		snprintf(out, n, "%s/audit-denied.log", t->dir);
	else
		snprintf(out, n, "%s/audit-denied.log.%d", t->dir, i);
}

/* The contents of file number i (audit.log, audit.log.1, ...) or NULL. */
static char *slurp(const struct tmp *t, int i, size_t *len)
{
	char p[256];
	path_of(p, sizeof(p), t, i);
	return read_file(p, FILE_MAX, len);
}

static void put_file(const struct tmp *t, int i, const char *data, size_t len)
{
	char p[256];
	path_of(p, sizeof(p), t, i);
	assert_int_equal(write_file(p, data, len, 0640), 0);
}

static size_t count_char(const char *s, size_t len, char c)
{
	size_t n = 0;
	for (size_t i = 0; i < len; i++)
		n += s[i] == c;
	return n;
}

static const char *str_of(json_t *obj, const char *key)
{
	json_t *v = json_object_get(obj, key);
	assert_true(json_is_string(v));
	return json_string_value(v);
}

/* The sequence number in an action "seq=N ..." (or "tT seq=N ..."). */
static long seq_of(json_t *entry)
{
	const char *a = strstr(str_of(entry, "action"), "seq=");
	assert_non_null(a);
	return strtol(a + 4, NULL, 10);
}

/* A valid entry line as audit.c writes it, for hand-made files. */
static void entry_line(char *buf, size_t n, long seq)
{
	snprintf(buf, n,
		 "{\"time\":\"2026-01-01T00:00:00Z\",\"user\":\"u\",\"source\":\"s\","
		 "\"action\":\"seq=%ld\",\"target\":\"\",\"result\":\"ok\"}\n",
		 seq);
}

/* A growing text buffer for hand-made files. */
struct text {
	char *p;
	size_t len, cap;
};

static void text_add(struct text *b, const char *s, size_t n)
{
	if (b->len + n + 1 > b->cap) {
		b->cap = (b->len + n + 1) * 2;
		b->p = realloc(b->p, b->cap);
		assert_non_null(b->p);
	}
	memcpy(b->p + b->len, s, n);
	b->len += n;
	b->p[b->len] = '\0';
}

static void text_str(struct text *b, const char *s)
{
	text_add(b, s, strlen(s));
}

static void text_entry(struct text *b, long seq)
{
	char line[256];
	entry_line(line, sizeof(line), seq);
	text_add(b, line, strlen(line));
}

/* Checks that tail(n) gives exactly the entries first..last (by seq). */
static void expect_seqs(json_t *arr, long first, long last)
{
	assert_non_null(arr);
	assert_true(json_is_array(arr));
	assert_int_equal(json_array_size(arr), (size_t)(last - first + 1));
	for (size_t i = 0; i < json_array_size(arr); i++)
		assert_int_equal(seq_of(json_array_get(arr, i)), first + (long)i);
}

/* --- tests ---------------------------------------------------------------- */

/* Runs first, before any audit_init in this process. */
static void test_not_initialised(void **state)
{
	(void)state;
	assert_int_equal(audit_write("u", "s", "a", "t", "ok", 0), -1);
	json_t *arr = audit_tail(10, AUDIT_ALL);
	assert_non_null(arr);
	assert_int_equal(json_array_size(arr), 0);
	json_decref(arr);
}

static void test_init(void **state)
{
	struct tmp *t = *state;
	struct stat st;
	assert_int_equal(stat(t->dir, &st), 0);
	assert_true(S_ISDIR(st.st_mode));
	assert_int_equal(st.st_mode & 07777, 0750);

	/* an existing folder is fine */
	char err[256] = "";
	assert_int_equal(audit_init(t->dir, err, sizeof(err)), 0);

	/* a file, a folder under a missing one, nothing at all */
	char p[256];
	snprintf(p, sizeof(p), "%s/file", t->root);
	assert_int_equal(write_file(p, "x", 1, 0600), 0);
	assert_int_equal(audit_init(p, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "audit"));
	snprintf(p, sizeof(p), "%s/missing/log", t->root);
	err[0] = '\0';
	assert_int_equal(audit_init(p, err, sizeof(err)), -1);
	assert_true(err[0] != '\0');
	assert_int_equal(audit_init("", err, sizeof(err)), -1);
	assert_int_equal(audit_init(NULL, err, sizeof(err)), -1);

	/* a failed init leaves the previous folder in use */
	assert_int_equal(audit_write("u", "s", "a", "t", "ok", 0), 0);
	size_t len;
	char *c = slurp(t, 0, &len);
	assert_non_null(c);
	assert_int_equal(count_char(c, len, '\n'), 1);
	free(c);
}

static void test_roundtrip(void **state)
{
	struct tmp *t = *state;
	time_t before = time(NULL);
	assert_int_equal(audit_write("alice", "10.0.2.2", "POST /api/v1/vms/web1/power/on",
				     "vm/web1", "denied", 403),
			 0);
	time_t after = time(NULL);

	size_t len;
	char *c = slurp(t, 0, &len);
	assert_non_null(c);
	assert_int_equal(count_char(c, len, '\n'), 1);
	assert_int_equal(c[len - 1], '\n');
	/* compact, in the documented order */
	assert_true(strncmp(c, "{\"time\":\"", 9) == 0);
	assert_non_null(strstr(c, "\"user\":\"alice\",\"source\":\"10.0.2.2\",\"action\":"
				  "\"POST /api/v1/vms/web1/power/on\",\"target\":\"vm/web1\","
				  "\"result\":\"denied\",\"status\":403}\n"));
	free(c);

	char p[256];
	struct stat st;
	path_of(p, sizeof(p), t, 0);
	assert_int_equal(stat(p, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0640);

	json_t *arr = audit_tail(100, AUDIT_ALL);
	assert_non_null(arr);
	assert_int_equal(json_array_size(arr), 1);
	json_t *e = json_array_get(arr, 0);
	assert_int_equal(json_object_size(e), 7);
	assert_string_equal(str_of(e, "user"), "alice");
	assert_string_equal(str_of(e, "source"), "10.0.2.2");
	assert_string_equal(str_of(e, "action"), "POST /api/v1/vms/web1/power/on");
	assert_string_equal(str_of(e, "target"), "vm/web1");
	assert_string_equal(str_of(e, "result"), "denied");
	assert_true(json_is_integer(json_object_get(e, "status")));
	assert_int_equal(json_integer_value(json_object_get(e, "status")), 403);

	/* UTC, ISO-8601, 'Z', and now */
	const char *when = str_of(e, "time");
	assert_int_equal(strlen(when), 20);
	struct tm tm = {0};
	const char *end = strptime(when, "%Y-%m-%dT%H:%M:%SZ", &tm);
	assert_non_null(end);
	assert_int_equal(*end, '\0');
	time_t ts = timegm(&tm);
	assert_true(ts >= before && ts <= after);
	json_decref(arr);
}

static void test_status_zero_and_empty_strings(void **state)
{
	(void)state;
	assert_int_equal(audit_write("", "10.0.2.2", "POST /api/v1/login", "", "failed", 0), 0);
	assert_int_equal(audit_write(NULL, "local", "lockdown-on", NULL, "ok", 0), 0);
	assert_int_equal(audit_write("bob", "10.0.2.2", "GET /x", "t", "failed", -1), 0);
	json_t *arr = audit_tail(10, AUDIT_ALL);
	assert_int_equal(json_array_size(arr), 3);
	for (size_t i = 0; i < 2; i++) {
		json_t *e = json_array_get(arr, i);
		assert_null(json_object_get(e, "status"));
		assert_int_equal(json_object_size(e), 6);
		assert_string_equal(str_of(e, "user"), "");
		assert_string_equal(str_of(e, "target"), "");
	}
	assert_string_equal(str_of(json_array_get(arr, 1), "action"), "lockdown-on");
	json_t *st = json_object_get(json_array_get(arr, 2), "status");
	assert_int_equal(json_integer_value(st), -1);
	json_decref(arr);
}

static void test_escaping(void **state)
{
	struct tmp *t = *state;
	/* a user name that tries to end the entry and forge one of its own */
	const char *evil = "eve\",\"result\":\"ok\"}\n{\"time\":\"2020-01-01T00:00:00Z\","
			   "\"user\":\"root\",\"source\":\"1.2.3.4\",\"action\":\"x\","
			   "\"target\":\"\",\"result\":\"ok\"}\r\n\x01\x1f\x7f\\\t";
	const char *action = "POST /api/v1/vms/a\"b\n\r\x02/\\u0000";
	assert_int_equal(audit_write(evil, "10.0.2.2", action, "vm/\"x\"\n", "denied", 401), 0);
	assert_int_equal(audit_write("ok", "10.0.2.2", "GET /\n\n\n", "", "ok", 200), 0);

	size_t len;
	char *c = slurp(t, 0, &len);
	assert_non_null(c);
	assert_int_equal(count_char(c, len, '\n'), 2); /* one per entry */
	assert_int_equal(strlen(c), len);
	for (size_t i = 0; i < len; i++)
		if (c[i] != '\n')
			assert_true((unsigned char)c[i] >= 0x20);
	free(c);

	json_t *arr = audit_tail(10, AUDIT_ALL);
	assert_int_equal(json_array_size(arr), 2);
	json_t *e = json_array_get(arr, 0);
	assert_string_equal(str_of(e, "user"), evil);
	assert_string_equal(str_of(e, "action"), action);
	assert_string_equal(str_of(e, "target"), "vm/\"x\"\n");
	assert_string_equal(str_of(e, "result"), "denied");
	assert_string_equal(str_of(json_array_get(arr, 1), "action"), "GET /\n\n\n");
	json_decref(arr);
}

static void test_utf8_and_long_fields(void **state)
{
	(void)state;
	char big[5000];
	memset(big, 'x', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	char edge[1100]; /* 1023 'y' and then a 2-byte character */
	memset(edge, 'y', 1023);
	strcpy(edge + 1023, "\xC3\xA9zz");

	assert_int_equal(audit_write("J\xC3\xBCrgen \xE5\x90\x8D \xF0\x9F\x98\x80", "s",
				     "a\xFF\xFE"
				     "b\xC0\xAF\xED\xA0\x80",
				     big, edge, 0),
			 0);
	json_t *arr = audit_tail(1, AUDIT_ALL);
	assert_int_equal(json_array_size(arr), 1);
	json_t *e = json_array_get(arr, 0);
	assert_string_equal(str_of(e, "user"), "J\xC3\xBCrgen \xE5\x90\x8D \xF0\x9F\x98\x80");
	/* every byte that is not UTF-8 (overlong, surrogate, 0xFF) is U+FFFD */
	assert_string_equal(str_of(e, "action"), "a\xEF\xBF\xBD\xEF\xBF\xBD"
						 "b\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD"
						 "\xEF\xBF\xBD");
	/* cut to 1024 bytes, never inside a character */
	assert_int_equal(strlen(str_of(e, "target")), 1024);
	assert_int_equal(strlen(str_of(e, "result")), 1023);
	json_decref(arr);

	/* even the worst case stays one readable line */
	char ctl[2000];
	memset(ctl, '\x01', sizeof(ctl) - 1);
	ctl[sizeof(ctl) - 1] = '\0';
	assert_int_equal(audit_write(ctl, ctl, ctl, ctl, ctl, 1), 0);
	arr = audit_tail(1, AUDIT_ALL);
	assert_int_equal(json_array_size(arr), 1);
	assert_int_equal(strlen(str_of(json_array_get(arr, 0), "user")), 1024);
	json_decref(arr);
}

static void test_tail_empty(void **state)
{
	struct tmp *t = *state;
	json_t *arr = audit_tail(100, AUDIT_ALL); /* no file at all */
	assert_non_null(arr);
	assert_true(json_is_array(arr));
	assert_int_equal(json_array_size(arr), 0);
	json_decref(arr);

	put_file(t, 0, "", 0);
	arr = audit_tail(100, AUDIT_ALL);
	assert_int_equal(json_array_size(arr), 0);
	json_decref(arr);

	put_file(t, 0, "\n\n\n", 3);
	arr = audit_tail(1, AUDIT_ALL);
	assert_int_equal(json_array_size(arr), 0);
	json_decref(arr);
}

/* 0 gives []; more than 10000 is clamped to 10000 */
static void test_tail_limits(void **state)
{
	struct tmp *t = *state;
	struct text b = {0};
	for (long i = 0; i < 10005; i++)
		text_entry(&b, i);
	put_file(t, 0, b.p, b.len);
	free(b.p);

	json_t *arr = audit_tail(0, AUDIT_ALL);
	assert_non_null(arr);
	assert_int_equal(json_array_size(arr), 0);
	json_decref(arr);

	arr = audit_tail(20000, AUDIT_ALL);
	expect_seqs(arr, 5, 10004);
	json_decref(arr);
	arr = audit_tail(SIZE_MAX, AUDIT_ALL);
	expect_seqs(arr, 5, 10004);
	json_decref(arr);
	arr = audit_tail(10000, AUDIT_ALL);
	expect_seqs(arr, 5, 10004);
	json_decref(arr);
	arr = audit_tail(1, AUDIT_ALL);
	expect_seqs(arr, 10004, 10004);
	json_decref(arr);
}

/* Broken lines are skipped and do not count towards `lines`: not JSON,
 * not an object, empty, too long (valid or not, across 64 KiB blocks),
 * and a last line torn by a crash. */
static void test_tail_skips_bad_lines(void **state)
{
	struct tmp *t = *state;
	struct text b = {0};
	long seq = 0;
	for (int i = 0; i < 600; i++)
		text_entry(&b, seq++);
	text_str(&b, "{not json\n");
	text_entry(&b, seq++);
	text_str(&b, "[1,2]\n\"str\"\n42\nnull\n\n\n");
	text_entry(&b, seq++);
	for (int i = 0; i < 200000; i++) /* a 200 KB line of nothing */
		text_add(&b, "x", 1);
	text_add(&b, "\n", 1);
	for (int i = 0; i < 600; i++)
		text_entry(&b, seq++);
	/* a 100 KB line that is a valid object: too long all the same */
	text_str(&b, "{\"time\":\"\",\"action\":\"seq=999999\",\"pad\":\"");
	for (int i = 0; i < 100000; i++)
		text_add(&b, "p", 1);
	text_str(&b, "\"}\n");
	text_entry(&b, seq++);
	/* 300 KB, starting with an object: its start alone would parse */
	text_str(&b, "{\"time\":\"\",\"action\":\"seq=999998\"}");
	for (int i = 0; i < 300000; i++)
		text_add(&b, " ", 1);
	text_str(&b, "\n");
	text_entry(&b, seq++);
	text_str(&b, "{\"time\":\"2026-01-01T0"); /* torn */
	put_file(t, 0, b.p, b.len);
	free(b.p);

	json_t *arr = audit_tail(10000, AUDIT_ALL);
	expect_seqs(arr, 0, seq - 1);
	json_decref(arr);
	arr = audit_tail(1, AUDIT_ALL);
	expect_seqs(arr, seq - 1, seq - 1);
	json_decref(arr);
	arr = audit_tail(602, AUDIT_ALL);
	expect_seqs(arr, seq - 602, seq - 1);
	json_decref(arr);
	arr = audit_tail(603, AUDIT_ALL);
	expect_seqs(arr, seq - 603, seq - 1);
	json_decref(arr);
}

/* After a crash left half a line, the next entry starts a line of its own. */
static void test_write_after_torn_line(void **state)
{
	struct tmp *t = *state;
	char line[256];
	entry_line(line, sizeof(line), 0);
	char torn[512];
	snprintf(torn, sizeof(torn), "%s{\"time\":\"2026-", line);
	put_file(t, 0, torn, strlen(torn));
	assert_int_equal(audit_write("u", "s", "seq=1", "t", "ok", 0), 0);
	assert_int_equal(audit_write("u", "s", "seq=2", "t", "ok", 0), 0);

	json_t *arr = audit_tail(10, AUDIT_ALL);
	expect_seqs(arr, 0, 2);
	json_decref(arr);
	size_t len;
	char *c = slurp(t, 0, &len);
	assert_int_equal(count_char(c, len, '\n'), 4);
	free(c);
}

/* A write that stops short (here: at the file size limit) is taken back,
 * so that the file still holds whole lines only. */
static void test_short_write(void **state)
{
	struct tmp *t = *state;
	assert_int_equal(audit_write("u", "s", "seq=0", "t", "ok", 0), 0);
	size_t len0;
	char *before = slurp(t, 0, &len0);
	assert_non_null(before);

	struct rlimit old, lim;
	assert_int_equal(getrlimit(RLIMIT_FSIZE, &old), 0);
	void (*prev)(int) = signal(SIGXFSZ, SIG_IGN);
	lim = old;
	lim.rlim_cur = len0 + 40; /* room for a part of the next line */
	assert_int_equal(setrlimit(RLIMIT_FSIZE, &lim), 0);
	int rc = audit_write("a-long-user-name", "10.0.2.2", "seq=1 PUT /api/v1/something", "t",
			     "ok", 200);
	lim.rlim_cur = len0; /* no room at all */
	assert_int_equal(setrlimit(RLIMIT_FSIZE, &lim), 0);
	int rc2 = audit_write("u", "s", "seq=1", "t", "ok", 0);
	assert_int_equal(setrlimit(RLIMIT_FSIZE, &old), 0);
	signal(SIGXFSZ, prev);
	assert_int_equal(rc, -1);
	assert_int_equal(rc2, -1);

	size_t len1;
	char *after = slurp(t, 0, &len1);
	assert_non_null(after);
	assert_int_equal(len1, len0);
	assert_memory_equal(after, before, len0);
	free(before);
	free(after);

	assert_int_equal(audit_write("u", "s", "seq=1", "t", "ok", 0), 0);
	json_t *arr = audit_tail(10, AUDIT_ALL);
	expect_seqs(arr, 0, 1);
	json_decref(arr);
}

/* A line of about 30 KB: every control character is escaped as \u00XX. */
static void write_big(long seq)
{
	char action[1100], user[1100];
	int n = snprintf(action, sizeof(action), "seq=%ld ", seq);
	size_t pad = 700 + (size_t)(seq * 37 % 300); /* lines of varying length */
	memset(action + n, '\x01', pad);
	action[n + pad] = '\0';
	memset(user, '\x1f', 1024);
	user[1024] = '\0';
	assert_int_equal(audit_write(user, user, action, user, user, 200), 0);
}

static void test_rotation(void **state)
{
	struct tmp *t = *state;
	/* about 30 entries per file: fill all AUDIT_KEEP rotated files, then
	 * three more rotations so that old files have been dropped */
	char p[256];
	long total = 0;
	path_of(p, sizeof(p), t, AUDIT_KEEP);
	while (access(p, F_OK) < 0) {
		write_big(total++);
		assert_true(total < 1000);
	}
	assert_true(total > AUDIT_KEEP * 25);
	for (int i = 0; i < 3 * 30; i++)
		write_big(total++);

	/* AUDIT_KEEP rotated files, each full but not over the limit; every
	 * line whole; the sequence unbroken from the oldest file to the newest */
	path_of(p, sizeof(p), t, AUDIT_KEEP + 1);
	assert_int_equal(access(p, F_OK), -1);
	long next = -1, kept = 0;
	for (int i = AUDIT_KEEP; i >= 0; i--) {
		size_t len;
		char *c = slurp(t, i, &len);
		assert_non_null(c);
		assert_true(len <= AUDIT_ROTATE_BYTES);
		if (i > 0)
			assert_true(len > AUDIT_ROTATE_BYTES - 40000);
		assert_int_equal(c[len - 1], '\n');
		for (char *line = c, *nl; (nl = strchr(line, '\n')); line = nl + 1) {
			json_t *e = json_loadb(line, (size_t)(nl - line), 0, NULL);
			assert_true(json_is_object(e));
			long s = seq_of(e);
			if (next >= 0)
				assert_int_equal(s, next);
			next = s + 1;
			kept++;
			json_decref(e);
		}
		free(c);
	}
	assert_int_equal(next, total);
	assert_true(kept > 150 && kept < total);

	/* tail across the files: exactly the newest N, oldest first */
	long ns[] = {1, 2, 29, 30, 31, 64, 100, 150, kept - 1, kept};
	for (size_t i = 0; i < ARRAY_SIZE(ns); i++) {
		json_t *arr = audit_tail((size_t)ns[i], AUDIT_ALL);
		expect_seqs(arr, total - ns[i], total - 1);
		json_decref(arr);
	}
	json_t *arr = audit_tail(10000, AUDIT_ALL); /* more than there are: all of them */
	expect_seqs(arr, total - kept, total - 1);
	json_decref(arr);

	/* a missing rotated file in the middle is skipped */
	path_of(p, sizeof(p), t, 2);
	assert_int_equal(unlink(p), 0);
	arr = audit_tail(10000, AUDIT_ALL);
	assert_true(json_array_size(arr) < (size_t)kept);
	assert_int_equal(seq_of(json_array_get(arr, json_array_size(arr) - 1)), total - 1);
	json_decref(arr);
}

/* If audit.log cannot be moved away, the entry is appended all the same. */
static void test_rotation_failure(void **state)
{
	struct tmp *t = *state;
	struct text b = {0};
	long seq = 0;
	while (b.len < AUDIT_ROTATE_BYTES - 50)
		text_entry(&b, seq++);
	put_file(t, 0, b.p, b.len);
	free(b.p);
	char p[256], q[300];
	path_of(p, sizeof(p), t, 1);
	assert_int_equal(mkdir(p, 0700), 0); /* audit.log.1 is a folder in the way */
	snprintf(q, sizeof(q), "%s/x", p);
	assert_int_equal(write_file(q, "x", 1, 0600), 0);

	char action[64];
	snprintf(action, sizeof(action), "seq=%ld", seq);
	assert_int_equal(audit_write("u", "s", action, "t", "ok", 0), 0);
	json_t *arr = audit_tail(3, AUDIT_ALL);
	expect_seqs(arr, seq - 2, seq);
	json_decref(arr);
}

#define THREADS	    4
#define PER_THREAD  150
#define TAIL_ROUNDS 40

struct writer {
	int id;
	int failures;
};

static void *writer_main(void *arg)
{
	struct writer *w = arg;
	char user[1100], action[128];
	memset(user, '\x05', 600); /* about 3.6 KB: the threads rotate once */
	user[600] = '\0';
	for (int i = 0; i < PER_THREAD; i++) {
		snprintf(action, sizeof(action), "t%d seq=%d \"\n", w->id, i);
		if (audit_write(user, "10.0.2.2", action, "vm/x", "ok", 200) < 0)
			w->failures++;
	}
	return NULL;
}

/* Per thread, the entries in array order have rising sequence numbers. */
static void check_order(json_t *arr, int *count)
{
	int last[THREADS];
	for (int i = 0; i < THREADS; i++)
		last[i] = -1;
	for (size_t i = 0; i < json_array_size(arr); i++) {
		json_t *e = json_array_get(arr, i);
		const char *a = str_of(e, "action");
		int id, s;
		assert_int_equal(sscanf(a, "t%d seq=%d", &id, &s), 2);
		assert_true(id >= 0 && id < THREADS);
		assert_true(s > last[id]);
		last[id] = s;
		if (count)
			count[id]++;
	}
}

static void *reader_main(void *arg)
{
	int *bad = arg;
	for (int r = 0; r < TAIL_ROUNDS; r++) {
		json_t *arr = audit_tail(200, AUDIT_ALL);
		if (!arr || json_array_size(arr) > 200)
			(*bad)++;
		else
			check_order(arr, NULL);
		json_decref(arr);
	}
	return NULL;
}

static void test_concurrent_writers(void **state)
{
	struct tmp *t = *state;
	pthread_t th[THREADS], rd;
	struct writer w[THREADS];
	int bad = 0;
	assert_int_equal(pthread_create(&rd, NULL, reader_main, &bad), 0);
	for (int i = 0; i < THREADS; i++) {
		w[i] = (struct writer){.id = i};
		assert_int_equal(pthread_create(&th[i], NULL, writer_main, &w[i]), 0);
	}
	for (int i = 0; i < THREADS; i++) {
		assert_int_equal(pthread_join(th[i], NULL), 0);
		assert_int_equal(w[i].failures, 0);
	}
	assert_int_equal(pthread_join(rd, NULL), 0);
	assert_int_equal(bad, 0);

	/* every line of every file whole, nothing lost (all still kept) */
	size_t lines = 0;
	int files = 0;
	for (int i = 0; i <= AUDIT_KEEP; i++) {
		size_t len, here = 0;
		char *c = slurp(t, i, &len);
		if (!c)
			continue;
		files++;
		assert_true(len <= AUDIT_ROTATE_BYTES);
		assert_int_equal(strlen(c), len);
		assert_int_equal(c[len - 1], '\n');
		for (char *line = c, *nl; (nl = strchr(line, '\n')); line = nl + 1) {
			json_t *e = json_loadb(line, (size_t)(nl - line), 0, NULL);
			assert_true(json_is_object(e));
			json_decref(e);
			here++;
		}
		assert_int_equal(count_char(c, len, '\n'), here);
		lines += here;
		free(c);
	}
	assert_true(files >= 2);
	assert_int_equal(lines, THREADS * PER_THREAD);

	json_t *arr = audit_tail(10000, AUDIT_ALL);
	assert_int_equal(json_array_size(arr), THREADS * PER_THREAD);
	int count[THREADS] = {0};
	check_order(arr, count);
	for (int i = 0; i < THREADS; i++)
		assert_int_equal(count[i], PER_THREAD);
	json_decref(arr);
}

/* --- the two sets and the counting of requests without a user ------------- */

/* The entries of a file (one of the paths above) as a JSON array; lines
 * that do not parse fail the test. */
static json_t *entries_of(const char *path)
{
	json_t *arr = json_array();
	char *c = read_file(path, FILE_MAX, NULL);
	for (char *line = c, *nl; line && (nl = strchr(line, '\n')); line = nl + 1) {
		json_t *e = json_loadb(line, (size_t)(nl - line), 0, NULL);
		assert_true(json_is_object(e));
		json_array_append_new(arr, e);
	}
	free(c);
	return arr;
}

static json_t *denied_entries(const struct tmp *t)
{
	char p[256];
	denied_path_of(p, sizeof(p), t, 0);
	return entries_of(p);
}

static long int_of(json_t *obj, const char *key)
{
	json_t *v = json_object_get(obj, key);
	assert_true(json_is_integer(v));
	return (long)json_integer_value(v);
}

/* The entry of `source` and `status` with `action`, or NULL. */
static json_t *find_entry(json_t *arr, const char *source, int status, const char *action)
{
	size_t i;
	json_t *e;
	json_array_foreach(arr, i, e)
	{
		json_t *st = json_object_get(e, "status");
		if (strcmp(str_of(e, "source"), source) == 0 &&
		    (st ? json_integer_value(st) : 0) == status &&
		    strcmp(str_of(e, "action"), action) == 0)
			return e;
	}
	return NULL;
}

/* The first request of a (source, status) is written at once, with its
 * action; the others of the interval are one entry with their count,
 * written when the interval ends (not before), in audit-denied.log only. */
static void test_anonymous_counted(void **state)
{
	struct tmp *t = *state;
	for (int i = 0; i < 5000; i++)
		assert_int_equal(
		    audit_anonymous("10.0.2.2", "GET /api/v1/vms", "host", "denied", 401), 0);
	for (int i = 0; i < 5; i++)
		assert_int_equal(
		    audit_anonymous("10.0.2.3", "POST /api/v1/users", "host", "denied", 401), 0);
	for (int i = 0; i < 3; i++)
		assert_int_equal(
		    audit_anonymous("10.0.2.2", "DELETE /api/v1/nowhere", "host", "failed", 404),
		    0);
	assert_int_equal(audit_anonymous("10.0.2.4", "GET /api/v1/host", "host", "denied", 401), 0);

	json_t *arr = denied_entries(t);
	assert_int_equal(json_array_size(arr), 4); /* the first of each */
	json_t *e = find_entry(arr, "10.0.2.2", 401, "GET /api/v1/vms");
	assert_non_null(e);
	assert_int_equal(int_of(e, "count"), 1);
	assert_string_equal(str_of(e, "user"), "");
	assert_string_equal(str_of(e, "result"), "denied");
	assert_null(json_object_get(e, "first"));
	assert_non_null(find_entry(arr, "10.0.2.3", 401, "POST /api/v1/users"));
	assert_non_null(find_entry(arr, "10.0.2.2", 404, "DELETE /api/v1/nowhere"));
	json_decref(arr);
	size_t len;
	assert_null(slurp(t, 0, &len)); /* nothing in the trail */

	time_t now = time(NULL);
	audit_tick(now); /* the interval has not ended */
	arr = denied_entries(t);
	assert_int_equal(json_array_size(arr), 4);
	json_decref(arr);

	audit_tick(now + AUDIT_ANON_INTERVAL);
	arr = denied_entries(t);
	assert_int_equal(json_array_size(arr), 7); /* 10.0.2.4 sent one only */
	e = find_entry(arr, "10.0.2.2", 401, "unauthenticated requests");
	assert_non_null(e);
	assert_int_equal(int_of(e, "count"), 4999);
	assert_string_equal(str_of(e, "result"), "denied");
	assert_string_equal(str_of(e, "user"), "");
	assert_string_equal(str_of(e, "target"), "");
	assert_int_equal(strlen(str_of(e, "first")), 20);
	assert_true(strcmp(str_of(e, "first"), str_of(e, "last")) <= 0);
	e = find_entry(arr, "10.0.2.2", 404, "unauthenticated requests");
	assert_int_equal(int_of(e, "count"), 2);
	assert_string_equal(str_of(e, "result"), "failed");
	assert_int_equal(
	    int_of(find_entry(arr, "10.0.2.3", 401, "unauthenticated requests"), "count"), 4);
	json_decref(arr);

	/* a new interval starts with an entry of its own; an empty count
	 * writes nothing */
	assert_int_equal(audit_anonymous("10.0.2.2", "GET /api/v1/x", "host", "denied", 401), 0);
	audit_flush();
	arr = denied_entries(t);
	assert_int_equal(json_array_size(arr), 8);
	assert_string_equal(str_of(json_array_get(arr, 7), "action"), "GET /api/v1/x");
	json_decref(arr);

	/* audit_tail writes the counts first */
	for (int i = 0; i < 3; i++)
		assert_int_equal(audit_anonymous("10.0.2.5", "GET /", "host", "denied", 401), 0);
	arr = audit_tail(100, AUDIT_ALL);
	assert_int_equal(json_array_size(arr), 10);
	e = json_array_get(arr, 9);
	assert_string_equal(str_of(e, "source"), "10.0.2.5");
	assert_int_equal(int_of(e, "count"), 2);
	json_decref(arr);
	arr = audit_tail(100, AUDIT_TRAIL);
	assert_int_equal(json_array_size(arr), 0);
	json_decref(arr);
}

/* Past AUDIT_ANON_SOURCES pairs, the others are counted together, with no
 * entry of their own, in one "other sources" entry. */
static void test_anonymous_overflow(void **state)
{
	struct tmp *t = *state;
	const int extra = 50, each = 3;
	char src[32];
	for (int k = 0; k < AUDIT_ANON_SOURCES + extra; k++) {
		snprintf(src, sizeof(src), "10.1.%d.%d", k / 250, k % 250 + 1);
		for (int i = 0; i < each; i++)
			assert_int_equal(audit_anonymous(src, "GET /", "host", "denied", 401), 0);
	}
	json_t *arr = denied_entries(t);
	assert_int_equal(json_array_size(arr), AUDIT_ANON_SOURCES);
	json_decref(arr);

	audit_flush();
	arr = denied_entries(t);
	assert_int_equal(json_array_size(arr), 2 * AUDIT_ANON_SOURCES + 1);
	long total = 0, others = 0;
	size_t i;
	json_t *e;
	json_array_foreach(arr, i, e)
	{
		total += int_of(e, "count");
		if (strcmp(str_of(e, "source"), "other sources") == 0) {
			others++;
			assert_int_equal(int_of(e, "count"), extra * each);
			assert_null(json_object_get(e, "status"));
			assert_string_equal(str_of(e, "action"), "unauthenticated requests");
		}
	}
	assert_int_equal(others, 1);
	assert_int_equal(total, (AUDIT_ANON_SOURCES + extra) * each);
	json_decref(arr);

	/* the table is free again: a new source has an entry of its own */
	assert_int_equal(audit_anonymous("10.2.0.1", "GET /", "host", "denied", 401), 0);
	arr = denied_entries(t);
	assert_string_equal(str_of(json_array_get(arr, json_array_size(arr) - 1), "source"),
			    "10.2.0.1");
	json_decref(arr);
}

/* However much is written to audit-denied.log (failed logins, counts), the
 * trail keeps every entry: the sets rotate within budgets of their own. */
static void test_denied_has_its_own_budget(void **state)
{
	struct tmp *t = *state;
	for (long seq = 0; seq < 500; seq++) {
		char action[64];
		snprintf(action, sizeof(action), "seq=%ld POST /api/v1/users", seq);
		assert_int_equal(audit_write("alice", "10.0.2.2", action, "user/bob", "ok", 201),
				 0);
	}
	/* about 4 times the denied budget, in long failed logins ... */
	char user[1100];
	memset(user, '\x1f', 1024);
	user[1024] = '\0';
	for (int i = 0; i < 4 * (AUDIT_DENIED_KEEP + 1) * 180; i++)
		assert_int_equal(
		    audit_write_denied(user, "10.9.9.9", "login", "host", "failed", 401), 0);
	/* ... and requests without a user from many sources */
	char src[32];
	for (int k = 0; k < 20000; k++) {
		snprintf(src, sizeof(src), "10.3.%d.%d", k / 250 % 250, k % 250 + 1);
		audit_anonymous(src, "GET /api/v1/vms", "host", "denied", 401);
		if (k % 1000 == 0)
			audit_flush();
	}
	char p[256];
	denied_path_of(p, sizeof(p), t, AUDIT_DENIED_KEEP);
	assert_int_equal(access(p, F_OK), 0); /* rotated all the way */
	denied_path_of(p, sizeof(p), t, AUDIT_DENIED_KEEP + 1);
	assert_int_equal(access(p, F_OK), -1);
	path_of(p, sizeof(p), t, 1);
	assert_int_equal(access(p, F_OK), -1); /* the trail never rotated */

	json_t *arr = audit_tail(10000, AUDIT_TRAIL);
	expect_seqs(arr, 0, 499);
	json_decref(arr);
	/* both merged: the trail's entries are all there, among the others */
	arr = audit_tail(10000, AUDIT_ALL);
	long next = 0;
	size_t i;
	json_t *e;
	json_array_foreach(arr, i, e)
	{
		if (strcmp(str_of(e, "user"), "alice") == 0)
			assert_int_equal(seq_of(e), next++);
	}
	assert_int_equal(next, 500);
	assert_true(json_array_size(arr) > 500);
	json_decref(arr);
}

/* audit_tail merges the sets by time, the newest N of both. */
static void test_tail_merges_by_time(void **state)
{
	struct tmp *t = *state;
	const char *fmt = "{\"time\":\"2026-01-01T00:00:%02dZ\",\"user\":\"\",\"source\":\"s\","
			  "\"action\":\"seq=%d\",\"target\":\"\",\"result\":\"ok\"}\n";
	struct text tr = {0}, dn = {0};
	char line[256];
	for (int s = 0; s < 10; s++) {
		snprintf(line, sizeof(line), fmt, s, s);
		text_str(s % 3 ? &tr : &dn, line);
	}
	put_file(t, 0, tr.p, tr.len);
	char p[256];
	denied_path_of(p, sizeof(p), t, 0);
	assert_int_equal(write_file(p, dn.p, dn.len, 0640), 0);
	free(tr.p);
	free(dn.p);

	json_t *arr = audit_tail(100, AUDIT_ALL);
	expect_seqs(arr, 0, 9);
	json_decref(arr);
	arr = audit_tail(4, AUDIT_ALL);
	expect_seqs(arr, 6, 9);
	json_decref(arr);
	arr = audit_tail(100, AUDIT_DENIED);
	assert_int_equal(json_array_size(arr), 4); /* 0, 3, 6, 9 */
	assert_int_equal(seq_of(json_array_get(arr, 1)), 3);
	json_decref(arr);
	arr = audit_tail(100, AUDIT_TRAIL);
	assert_int_equal(json_array_size(arr), 6);
	json_decref(arr);
}

/* When audit.log cannot be written (here a folder is in its place), a
 * write to the trail fails (the caller refuses the change); the rest is
 * still read and audit-denied.log still written. */
static void test_trail_unwritable(void **state)
{
	struct tmp *t = *state;
	assert_int_equal(audit_write("u", "s", "seq=0", "t", "ok", 0), 0);
	char p[256], q[300];
	path_of(p, sizeof(p), t, 0);
	path_of(q, sizeof(q), t, 1);
	assert_int_equal(rename(p, q), 0);
	assert_int_equal(mkdir(p, 0700), 0);
	assert_int_equal(audit_write("u", "s", "seq=1", "t", "started", 0), -1);
	assert_int_equal(audit_write_denied("u", "s", "seq=2", "t", "failed", 401), 0);
	json_t *arr = audit_tail(10, AUDIT_ALL);
	assert_int_equal(json_array_size(arr), 2); /* of one second: in either order */
	assert_int_equal(seq_of(json_array_get(arr, 0)) + seq_of(json_array_get(arr, 1)), 2);
	json_decref(arr);
	assert_int_equal(rmdir(p), 0);
	assert_int_equal(audit_write("u", "s", "seq=3", "t", "ok", 0), 0);
}

int main(void)
{
	umask(022);
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_not_initialised),
	    cmocka_unit_test_setup_teardown(test_init, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_roundtrip, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_status_zero_and_empty_strings, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_escaping, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_utf8_and_long_fields, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_tail_empty, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_tail_limits, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_tail_skips_bad_lines, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_write_after_torn_line, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_short_write, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_rotation, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_rotation_failure, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_concurrent_writers, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_anonymous_counted, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_anonymous_overflow, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_denied_has_its_own_budget, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_tail_merges_by_time, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_trail_unwritable, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
