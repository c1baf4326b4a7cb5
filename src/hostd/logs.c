#include "hostd/logs.h"

#include "common/logfiles.h"
#include "common/util.h"
#include "hostd/audit.h"
#include "hostd/error.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define MAX_FILES (LOG_KEEP_MAX + 1)

struct log_def {
	char name[16];
	char file[32];
	int keep_max;
	bool audit;
};

static struct log_def defs[LOGFILE_COUNT + 2];
static size_t ndefs;

/* The catalogue, made once from the names common/logfiles.h and audit.h
 * give (so that the files and the names cannot disagree); pthread_once,
 * as the API's workers may all ask first at the same time. */
static void make_catalogue(void)
{
	for (int id = 0; id < LOGFILE_COUNT; id++) {
		struct log_def *d = &defs[ndefs++];
		str_copy(d->file, sizeof(d->file), logfile_name((enum logfile_id)id));
		str_copy(d->name, sizeof(d->name), d->file);
		d->name[strcspn(d->name, ".")] = '\0';
		d->keep_max = LOG_KEEP_MAX;
	}
	defs[ndefs++] = (struct log_def){"audit", AUDIT_TRAIL_FILE, AUDIT_KEEP, true};
	defs[ndefs++] =
	    (struct log_def){"audit-denied", AUDIT_DENIED_FILE, AUDIT_DENIED_KEEP, true};
}

static void catalogue(void)
{
	static pthread_once_t once = PTHREAD_ONCE_INIT;
	pthread_once(&once, make_catalogue);
}

size_t logs_count(void)
{
	catalogue();
	return ndefs;
}

const char *logs_name(size_t i)
{
	return i < logs_count() ? defs[i].name : NULL;
}

const char *logs_file(size_t i)
{
	return i < logs_count() ? defs[i].file : NULL;
}

int logs_keep_max(size_t i)
{
	return i < logs_count() ? defs[i].keep_max : 0;
}

bool logs_is_audit(size_t i)
{
	return i < logs_count() && defs[i].audit;
}

int logs_find(const char *name)
{
	for (size_t i = 0; name && i < logs_count(); i++)
		if (strcmp(defs[i].name, name) == 0)
			return (int)i;
	return -1;
}

bool logs_host_name_valid(const char *name)
{
	int i = logs_find(name);
	return i >= 0 && !defs[i].audit;
}

bool logs_audit_name_valid(const char *name)
{
	int i = logs_find(name);
	return i >= 0 && defs[i].audit;
}

static void file_path(char *buf, size_t n, const char *dir, size_t i, int k)
{
	if (k == 0)
		snprintf(buf, n, "%s/%s", dir, defs[i].file);
	else
		snprintf(buf, n, "%s/%s.%d", dir, defs[i].file, k);
}

json_t *logs_list(const char *dir, bool host, bool audit)
{
	json_t *out = json_array();
	for (size_t i = 0; i < logs_count(); i++) {
		if (defs[i].audit ? !audit : !host)
			continue;
		char path[4096], when[32];
		struct stat st;
		json_t *e = json_pack("{s:s}", "name", defs[i].name);
		file_path(path, sizeof(path), dir, i, 0);
		if (stat(path, &st) == 0 && S_ISREG(st.st_mode) &&
		    utc_iso_time(when, st.st_mtime) == 0) {
			json_object_set_new(e, "size", json_integer(st.st_size));
			json_object_set_new(e, "modified", json_string(when));
		} else {
			json_object_set_new(e, "size", json_integer(0));
			json_object_set_new(e, "modified", json_null());
		}
		int rotated = 0;
		json_int_t bytes = 0;
		for (int k = 1; k <= defs[i].keep_max; k++) {
			file_path(path, sizeof(path), dir, i, k);
			if (stat(path, &st) == 0 && S_ISREG(st.st_mode)) {
				rotated++;
				bytes += st.st_size;
			}
		}
		json_object_set_new(e, "rotated", json_integer(rotated));
		json_object_set_new(e, "rotated_bytes", json_integer(bytes));
		json_array_append_new(out, e);
	}
	return out;
}

/* --- query values ---------------------------------------------------------- */

/* Digits only, at most 19 of them (below 2^63): no sign, no space, no
 * overflow. */
static int parse_u64(const char *s, size_t len, uint64_t *v)
{
	if (len == 0 || len > 19)
		return -1;
	uint64_t x = 0;
	for (size_t i = 0; i < len; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		x = x * 10 + (uint64_t)(s[i] - '0');
	}
	*v = x;
	return 0;
}

int logs_parse_lines(const char *s, unsigned *lines, char *err, size_t errlen)
{
	uint64_t v;
	if (!s || parse_u64(s, strlen(s), &v) < 0 || v < 1 || v > LOGS_LINES_MAX)
		return error_set(err, errlen, -EINVAL, "lines: an integer from 1 to %d",
				 LOGS_LINES_MAX);
	*lines = (unsigned)v;
	return 0;
}

static int digits(const char *s, int n, int *v)
{
	int x = 0;
	for (int i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		x = x * 10 + (s[i] - '0');
	}
	*v = x;
	return 0;
}

/* YYYY-MM-DDTHH:MM:SS[.F{1,9}]Z at s (of at most len bytes): its length,
 * or -1. */
static int parse_iso(const char *s, size_t len, int64_t *us)
{
	int y, mo, d, h, mi, sec;
	if (len < 20 || digits(s, 4, &y) || s[4] != '-' || digits(s + 5, 2, &mo) || s[7] != '-' ||
	    digits(s + 8, 2, &d) || s[10] != 'T' || digits(s + 11, 2, &h) || s[13] != ':' ||
	    digits(s + 14, 2, &mi) || s[16] != ':' || digits(s + 17, 2, &sec))
		return -1;
	if (y < 1970 || mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || sec > 60)
		return -1;
	size_t p = 19;
	int64_t frac = 0, scale = 1000000;
	if (p < len && s[p] == '.') {
		size_t n = 0;
		for (p++; p < len && s[p] >= '0' && s[p] <= '9' && n < 9; p++, n++) {
			scale /= 10;
			if (n < 6)
				frac += (s[p] - '0') * (scale ? scale : 0);
		}
		if (n == 0)
			return -1;
	}
	if (p >= len || s[p] != 'Z')
		return -1;
	struct tm tm = {.tm_year = y - 1900,
			.tm_mon = mo - 1,
			.tm_mday = d,
			.tm_hour = h,
			.tm_min = mi,
			.tm_sec = sec};
	time_t t = timegm(&tm);
	struct tm back;
	/* no 31 February (timegm would make it 3 March) */
	if (t == (time_t)-1 || !gmtime_r(&t, &back) || back.tm_mday != d || back.tm_mon != mo - 1)
		return -1;
	*us = (int64_t)t * 1000000 + frac;
	return (int)p + 1;
}

int logs_parse_time(const char *s, int64_t *us, char *err, size_t errlen)
{
	size_t len = s ? strlen(s) : 0;
	if (!s || parse_iso(s, len, us) != (int)len)
		return error_set(err, errlen, -EINVAL,
				 "since: a UTC time as YYYY-MM-DDTHH:MM:SS[.FRACTION]Z");
	return 0;
}

int logs_parse_cursor(const char *s, struct logs_cursor *c, char *err, size_t errlen)
{
	const char *d1 = s ? strchr(s, '-') : NULL, *d2 = d1 ? strchr(d1 + 1, '-') : NULL;
	if (!d2 || parse_u64(s, (size_t)(d1 - s), &c->ino) < 0 ||
	    parse_u64(d1 + 1, (size_t)(d2 - d1 - 1), &c->off) < 0 ||
	    parse_u64(d2 + 1, strlen(d2 + 1), &c->check) < 0)
		return error_set(err, errlen, -EINVAL,
				 "after: a cursor INODE-OFFSET-CHECK, as X-Keel-Log-Next gave it");
	return 0;
}

void logs_format_cursor(const struct logs_cursor *c, char *buf, size_t n)
{
	snprintf(buf, n, "%llu-%llu-%llu", (unsigned long long)c->ino, (unsigned long long)c->off,
		 (unsigned long long)c->check);
}

int logs_line_time(const char *line, size_t len, int64_t *us)
{
	if (len > 0 && line[0] == '{') { /* the audit trail: {"time": "...", */
		static const char key[] = "{\"time\":";
		size_t k = sizeof(key) - 1, p;
		if (len < k || memcmp(line, key, k) != 0)
			return -1;
		for (p = k; p < len && line[p] == ' '; p++)
			;
		if (p >= len || line[p] != '"')
			return -1;
		line += p + 1;
		len -= p + 1;
	}
	return parse_iso(line, len, us) < 0 ? -1 : 0;
}

/* --- reading ---------------------------------------------------------------- */

/* A log's files as they were when opened, newest first. */
struct fileset {
	int fd[MAX_FILES];
	uint64_t ino[MAX_FILES];
	uint64_t size[MAX_FILES];
	int n;
};

/* Opens NAME, NAME.1, ... in that order; a rotation in between would show
 * a file twice (under two names): it is kept once. */
static void set_open(struct fileset *s, const char *dir, size_t i)
{
	s->n = 0;
	for (int k = 0; k <= defs[i].keep_max && s->n < MAX_FILES; k++) {
		char path[4096];
		file_path(path, sizeof(path), dir, i, k);
		int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK);
		struct stat st;
		if (fd < 0)
			continue;
		int dup = fstat(fd, &st) < 0 || !S_ISREG(st.st_mode);
		for (int j = 0; j < s->n && !dup; j++)
			dup = s->ino[j] == (uint64_t)st.st_ino;
		if (dup) {
			close(fd);
			continue;
		}
		s->fd[s->n] = fd;
		s->ino[s->n] = (uint64_t)st.st_ino;
		s->size[s->n] = (uint64_t)st.st_size;
		s->n++;
	}
}

static void set_close(struct fileset *s)
{
	for (int j = 0; j < s->n; j++)
		close(s->fd[j]);
	s->n = 0;
}

static int read_at(int fd, char *buf, size_t n, uint64_t off)
{
	size_t got = 0;
	while (got < n) {
		ssize_t r = pread(fd, buf + got, n - got, (off_t)(off + got));
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			return -1;
		got += (size_t)r;
	}
	return 0;
}

/* The end of a file's whole lines within its first `size` bytes: after its
 * last '\n'. A line being written is not given yet; a rotated file that
 * does not end its last line (a write cut short) has that piece left out. */
static int64_t whole_end(int fd, uint64_t size)
{
	char buf[4096];
	uint64_t end = size;
	while (end > 0) {
		size_t n = end < sizeof(buf) ? (size_t)end : sizeof(buf);
		if (read_at(fd, buf, n, end - n) < 0)
			return -1;
		for (size_t k = n; k > 0; k--)
			if (buf[k - 1] == '\n')
				return (int64_t)(end - n + k);
		end -= n;
	}
	return 0;
}

/* The check of a cursor at `off` in an open file (struct logs_cursor). */
static uint64_t file_check(int fd, uint64_t off)
{
	unsigned char buf[64];
	size_t n = off < sizeof(buf) ? (size_t)off : sizeof(buf);
	uint32_t h = 2166136261u;
	if (n && read_at(fd, (char *)buf, n, 0) < 0)
		return 0;
	for (size_t i = 0; i < n; i++)
		h = (h ^ buf[i]) * 16777619u;
	return h;
}

/* The file of the set that `c` is in, or -1. */
static int cursor_file(const struct fileset *s, const struct logs_cursor *c)
{
	for (int k = 0; k < s->n; k++)
		if (s->ino[k] == c->ino && c->off <= s->size[k] &&
		    (c->off == 0 || file_check(s->fd[k], c->off) == c->check))
			return k;
	return -1;
}

static int tail(struct fileset *s, unsigned lines, size_t max, struct logs_answer *a)
{
	char *buf = malloc(max);
	if (!buf)
		return -ENOMEM;
	size_t start = max; /* the data is buf[start, max) */
	size_t from = max;  /* where the answer begins */
	unsigned seen = 0;  /* '\n' seen, from the end */
	int done = 0;
	a->next = (struct logs_cursor){0, 0, 0};
	for (int j = 0; j < s->n && !done && start > 0; j++) {
		int64_t end = whole_end(s->fd[j], s->size[j]);
		if (end < 0)
			break;
		if (j == 0)
			a->next = (struct logs_cursor){s->ino[0], (uint64_t)end, 0};
		size_t n = (uint64_t)end < start ? (size_t)end : start;
		if (n == 0)
			continue;
		if (read_at(s->fd[j], buf + start - n, n, (uint64_t)end - n) < 0)
			break;
		size_t seg = start - n;
		/* the last line ends with the last '\n': N lines begin after
		 * the (N + 1)th '\n' from the end */
		for (size_t p = start; p > seg && !done; p--)
			if (buf[p - 1] == '\n' && ++seen == lines + 1) {
				from = p;
				done = 1;
			}
		start = seg;
		if (!done)
			from = start;
		if (!done && n < (size_t)end) { /* the budget ends inside a file */
			char *nl = memchr(buf + start, '\n', max - start);
			from = nl ? (size_t)(nl - buf) + 1 : max;
			done = 1;
		}
	}
	a->len = max - from;
	a->text = malloc(a->len ? a->len : 1);
	if (!a->text) {
		free(buf);
		return -ENOMEM;
	}
	memcpy(a->text, buf + from, a->len);
	free(buf);
	return 0;
}

/* From file j at offset off onward, newest last, up to max bytes of whole
 * lines. */
static int forward(struct fileset *s, int j, uint64_t off, size_t max, struct logs_answer *a)
{
	a->text = malloc(max);
	if (!a->text)
		return -ENOMEM;
	a->len = 0;
	a->next = (struct logs_cursor){s->n ? s->ino[j] : 0, s->n ? off : 0, 0};
	for (; j >= 0 && j < s->n; j--, off = 0) {
		int64_t end = whole_end(s->fd[j], s->size[j]);
		if (end < 0)
			return -EIO;
		a->next = (struct logs_cursor){s->ino[j], off, 0};
		if ((uint64_t)end <= off)
			continue;
		size_t room = max - a->len;
		uint64_t want = (uint64_t)end - off;
		size_t n = want < room ? (size_t)want : room;
		if (read_at(s->fd[j], a->text + a->len, n, off) < 0)
			return -EIO;
		if (n < want) { /* full: up to the last whole line */
			size_t keep = n;
			while (keep > 0 && a->text[a->len + keep - 1] != '\n')
				keep--;
			if (keep == 0 && a->len == 0)
				keep = n; /* one line longer than an answer: in pieces */
			a->len += keep;
			a->next.off = off + keep;
			a->more = true;
			return 0;
		}
		a->len += n;
		a->next.off = (uint64_t)end;
		if (j > 0 && a->len == max) {
			a->more = true;
			/* continues at the start of the next file */
			a->next = (struct logs_cursor){s->ino[j - 1], 0, 0};
			return 0;
		}
		if (j > 0) /* continue in the newer file, from its start */
			a->next = (struct logs_cursor){s->ino[j - 1], 0, 0};
	}
	return 0;
}

/* The file and offset of the first line stamped at or after `us`. */
static int find_since(struct fileset *s, int64_t us, int *fj, uint64_t *foff)
{
	/* the newest file whose first line is older than `us`: every line
	 * before it is older still */
	int j = s->n - 1;
	for (int k = 0; k < s->n; k++) {
		char line[64];
		size_t n = s->size[k] < sizeof(line) ? (size_t)s->size[k] : sizeof(line);
		int64_t t;
		if (n && read_at(s->fd[k], line, n, 0) == 0 && logs_line_time(line, n, &t) == 0 &&
		    t < us) {
			j = k;
			break;
		}
	}
	for (; j >= 0; j--) {
		int fd = dup(s->fd[j]);
		FILE *f = fd >= 0 ? fdopen(fd, "r") : NULL;
		if (!f) {
			if (fd >= 0)
				close(fd);
			return -EIO;
		}
		char *line = NULL;
		size_t cap = 0;
		uint64_t off = 0;
		ssize_t n;
		int found = 0;
		while (off < s->size[j] && (n = getline(&line, &cap, f)) > 0) {
			int64_t t;
			if (logs_line_time(line, (size_t)n, &t) == 0 && t >= us) {
				found = 1;
				break;
			}
			off += (uint64_t)n;
		}
		free(line);
		fclose(f);
		if (found || j == 0) {
			int64_t end = found ? (int64_t)off : whole_end(s->fd[0], s->size[0]);
			*fj = j;
			*foff = end < 0 ? 0 : (uint64_t)end;
			return end < 0 ? -EIO : 0;
		}
	}
	*fj = 0;
	*foff = 0;
	return 0;
}

int logs_read(const char *dir, size_t i, const struct logs_query *q, struct logs_answer *a,
	      char *err, size_t errlen)
{
	if (i >= logs_count())
		return error_set(err, errlen, -ENOENT, "no such log");
	memset(a, 0, sizeof(*a));
	size_t max = q->max ? q->max : LOGS_REPLY_MAX;
	struct fileset s;
	set_open(&s, dir, i);
	int rc = 0;
	if (q->mode == LOGS_TAIL) {
		rc = tail(&s, q->lines, max, a);
	} else if (q->mode == LOGS_SINCE) {
		int j = 0;
		uint64_t off = 0;
		rc = s.n ? find_since(&s, q->since_us, &j, &off) : 0;
		if (rc == 0)
			rc = forward(&s, j, off, max, a);
	} else {
		int j = cursor_file(&s, &q->after);
		uint64_t off = q->after.off;
		if (j < 0) { /* gone (or "0-0-0"): from the oldest file there is */
			a->gap = q->after.ino != 0 && s.n > 0;
			j = s.n - 1;
			off = 0;
		}
		rc = forward(&s, j, off, max, a);
		if (s.n == 0)
			a->next = q->after.ino ? q->after : (struct logs_cursor){0, 0, 0};
	}
	for (int k = 0; rc == 0 && k < s.n; k++)
		if (s.ino[k] == a->next.ino)
			a->next.check = file_check(s.fd[k], a->next.off);
	set_close(&s);
	if (rc < 0) {
		free(a->text);
		a->text = NULL;
		return error_set(err, errlen, rc, "%s: cannot be read", defs[i].name);
	}
	return 0;
}
