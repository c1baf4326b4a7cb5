#include "hostd/audit.h"

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include "common/log.h"
#include "common/syslogfwd.h"
#include "common/util.h"

#define AUDIT_MODE    0640
#define KEEP_MAX      (AUDIT_KEEP > AUDIT_DENIED_KEEP ? AUDIT_KEEP : AUDIT_DENIED_KEEP)
#define TAIL_MAX      10000	     /* audit_tail clamps `lines` to this */
#define TAIL_BLOCK    (64 * 1024)    /* audit_tail reads backwards in blocks of this */
#define TAIL_LINE_MAX (64 * 1024)    /* longer lines are skipped by audit_tail */
#define REPLACEMENT   "\xEF\xBF\xBD" /* U+FFFD, for bytes that are not UTF-8 */

/* A set of files: NAME, NAME.1, ... NAME.keep; its mutex serialises its
 * writes and rotations. */
struct set {
	const char *name;
	int keep;
	pthread_mutex_t lock;
};
static struct set trail = {AUDIT_TRAIL_FILE, AUDIT_KEEP, PTHREAD_MUTEX_INITIALIZER};
static struct set denied = {AUDIT_DENIED_FILE, AUDIT_DENIED_KEEP, PTHREAD_MUTEX_INITIALIZER};

/* The folder, as an open descriptor (for openat, renameat and fsync):
 * changed with both sets' mutexes held, read with either. */
static int audit_dirfd = -1;
#define AUDIT_FORWARD_MAX 8192 /* bytes of a forwarded record, with its header */
static char audit_dir[PATH_MAX];

/* --- folder --------------------------------------------------------------- */

/* Makes a newly created folder's own entry durable: fsyncs its parent. */
static void sync_parent(const char *path)
{
	char copy[PATH_MAX];
	if (str_copy(copy, sizeof(copy), path) < 0)
		return;
	int fd = open(dirname(copy), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return;
	if (fsync(fd) < 0)
		log_errno("audit: fsync of the parent of %s", path);
	close(fd);
}

int audit_init(const char *logdir, char *err, size_t errlen)
{
	if (!logdir || !*logdir)
		return errorf(err, errlen, "audit: no log folder");
	if (strlen(logdir) >= sizeof(audit_dir))
		return errorf(err, errlen, "audit: log folder name too long");
	if (mkdir(logdir, 0750) == 0)
		sync_parent(logdir);
	else if (errno != EEXIST)
		return errorf(err, errlen, "audit: creating %s: %s", logdir, strerror(errno));
	int fd = open(logdir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return errorf(err, errlen, "audit: opening %s: %s", logdir, strerror(errno));

	pthread_mutex_lock(&trail.lock);
	pthread_mutex_lock(&denied.lock);
	int old = audit_dirfd;
	audit_dirfd = fd;
	str_copy(audit_dir, sizeof(audit_dir), logdir);
	pthread_mutex_unlock(&denied.lock);
	pthread_mutex_unlock(&trail.lock);
	if (old >= 0)
		close(old);
	return 0;
}

/* The name of the set's file number i: audit.log (0), audit.log.1, ... */
static void log_name(const struct set *s, char *buf, size_t n, int i)
{
	if (i == 0)
		snprintf(buf, n, "%s", s->name);
	else
		snprintf(buf, n, "%s.%d", s->name, i);
}

/* --- one entry ------------------------------------------------------------ */

/* A copy of s (NULL counts as "") that jansson accepts: bytes that are not
 * UTF-8 become U+FFFD, and it is cut (at a character boundary) to at most
 * AUDIT_FIELD_MAX bytes, so that a line always stays well below TAIL_LINE_MAX
 * even when every byte is a control character escaped as \u00XX. */
static json_t *clean_string(const char *s)
{
	char out[AUDIT_FIELD_MAX + 1];
	size_t o = 0;
	const unsigned char *p = (const unsigned char *)(s ? s : "");
	size_t n = strlen((const char *)p);
	while (n > 0) {
		size_t k = utf8_seq(p, n, NULL);
		const void *src = p;
		size_t w = k;
		if (k == 0) {
			src = REPLACEMENT;
			w = sizeof(REPLACEMENT) - 1;
			k = 1;
		}
		if (o + w > AUDIT_FIELD_MAX)
			break;
		memcpy(out + o, src, w);
		o += w;
		p += k;
		n -= k;
	}
	out[o] = '\0';
	return json_stringn(out, o);
}

/* One entry; count 0 and first 0 (and status 0) are left out. */
struct entry {
	const char *user, *source, *action, *target, *result;
	int status;
	long count;
	time_t first, last;
};

/* The entry as one compact JSON line ending in '\n', preceded by another
 * '\n' (for append_locked), malloc'd; or NULL. *len_out counts both. */
static char *format_line(const struct entry *e, size_t *len_out)
{
	char when[32], first[32], last[32];
	if (utc_iso_time(when, time(NULL)) < 0 || utc_iso_time(first, e->first) < 0 ||
	    utc_iso_time(last, e->last) < 0)
		return NULL;
	/* "o" steals the reference, and json_pack releases what it was given
	 * when it fails (also for a NULL from clean_string). */
	json_t *obj =
	    json_pack("{s:s, s:o, s:o, s:o, s:o, s:o}", "time", when, "user", clean_string(e->user),
		      "source", clean_string(e->source), "action", clean_string(e->action),
		      "target", clean_string(e->target), "result", clean_string(e->result));
	if (!obj)
		return NULL;
	if ((e->status != 0 && json_object_set_new(obj, "status", json_integer(e->status)) < 0) ||
	    (e->count != 0 && json_object_set_new(obj, "count", json_integer(e->count)) < 0) ||
	    (e->first != 0 && (json_object_set_new(obj, "first", json_string(first)) < 0 ||
			       json_object_set_new(obj, "last", json_string(last)) < 0))) {
		json_decref(obj);
		return NULL;
	}
	size_t len = json_dumpb(obj, NULL, 0, JSON_COMPACT);
	char *line = len ? malloc(len + 2) : NULL;
	if (line && json_dumpb(obj, line + 1, len, JSON_COMPACT) != len) {
		free(line);
		line = NULL;
	}
	json_decref(obj);
	if (!line)
		return NULL;
	line[0] = '\n';
	line[len + 1] = '\n';
	*len_out = len + 2;
	return line;
}

/* NAME → NAME.1, the older ones one further (NAME.keep is overwritten,
 * i.e. dropped), then the folder is fsynced. Returns -1 if NAME itself
 * could not be moved (the caller then keeps appending to it rather than
 * lose the entry). Called with the set's lock held. */
static int rotate_locked(const struct set *s, int dirfd)
{
	char from[32], to[32];
	for (int i = s->keep; i >= 1; i--) {
		log_name(s, from, sizeof(from), i - 1);
		log_name(s, to, sizeof(to), i);
		if (renameat(dirfd, from, dirfd, to) < 0 && (errno != ENOENT || i == 1)) {
			log_errno("audit: renaming %s/%s", audit_dir, from);
			return -1;
		}
	}
	if (fsync(dirfd) < 0)
		log_errno("audit: fsync of %s", audit_dir);
	return 0;
}

/* Appends one whole line to the set's file with a single write() and
 * fdatasyncs it; rotates first when the line would take the file past
 * AUDIT_ROTATE_BYTES. `buf` is the line preceded by a '\n', which is
 * written only when the file does not end in one (a line torn by a
 * crash), so that the new entry is not glued to the torn one. Called with
 * the set's lock held. */
static int append_locked(const struct set *s, const char *buf, size_t buflen)
{
	const char *line = buf + 1;
	size_t len = buflen - 1;
	int dirfd = audit_dirfd;
	if (dirfd < 0) {
		errno = EBADF;
		return -1;
	}
	int new_entry = 0; /* a new name in the folder: fsync it too */
	int fd = openat(dirfd, s->name, O_RDWR | O_APPEND | O_CLOEXEC);
	if (fd < 0 && errno == ENOENT) {
		fd = openat(dirfd, s->name, O_RDWR | O_APPEND | O_CREAT | O_CLOEXEC, AUDIT_MODE);
		new_entry = 1;
	}
	if (fd < 0)
		return -1;
	struct stat st;
	if (fstat(fd, &st) < 0)
		goto fail;
	if (st.st_size > 0 && (uint64_t)st.st_size + len > AUDIT_ROTATE_BYTES &&
	    rotate_locked(s, dirfd) == 0) {
		close(fd);
		fd = openat(dirfd, s->name, O_RDWR | O_APPEND | O_CREAT | O_CLOEXEC, AUDIT_MODE);
		new_entry = 1;
		if (fd < 0 || fstat(fd, &st) < 0)
			goto fail;
	}
	char last = '\n';
	if (st.st_size > 0 && pread(fd, &last, 1, st.st_size - 1) == 1 && last != '\n') {
		line = buf;
		len = buflen;
	}

	ssize_t n;
	do
		n = write(fd, line, len);
	while (n < 0 && errno == EINTR);
	if (n < 0 || (size_t)n != len) {
		int e = n < 0 ? errno : ENOSPC;
		/* a part of a line would corrupt the next one: take it back */
		if (n > 0 && ftruncate(fd, st.st_size) < 0)
			log_errno("audit: truncating a partial line in %s/%s", audit_dir, s->name);
		close(fd);
		errno = e;
		return -1;
	}
	if (fdatasync(fd) < 0)
		goto fail;
	if (close(fd) < 0)
		return -1;
	if (new_entry && fsync(dirfd) < 0)
		return -1;
	return 0;
fail:;
	int e = errno;
	if (fd >= 0)
		close(fd);
	errno = e;
	return -1;
}

/* The record, to keel-syslogd for forwarding (common/syslogfwd.h), as
 * authpriv.info from keel-hostd: a datagram that is dropped, never waited
 * for, when keel-syslogd is not there or its socket is full. Called with
 * the set's lock held, so that the records go in the order of the file. */
static pthread_once_t forward_once = PTHREAD_ONCE_INIT;
static int forward_fd = -1;

static void forward_open(void)
{
	forward_fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
}

static void forward_locked(const char *line, size_t len)
{
	pthread_once(&forward_once, forward_open); /* the two sets' locks are not one */
	int fd = forward_fd;
	if (fd < 0)
		return;
	char msg[AUDIT_FORWARD_MAX];
	int n = snprintf(msg, sizeof(msg), "<%d>keel-hostd[%ld]: ", LOG_AUTHPRIV | LOG_INFO,
			 (long)getpid());
	if (n < 0 || len > sizeof(msg) - (size_t)n)
		len = sizeof(msg) - (size_t)n; /* cut: LOG_MSG_MAX is the limit anyway */
	memcpy(msg + n, line, len);
	struct sockaddr_un sa = {.sun_family = AF_UNIX, .sun_path = SYSLOG_AUDIT_SOCKET};
	sendto(fd, msg, (size_t)n + len, MSG_DONTWAIT | MSG_NOSIGNAL, (struct sockaddr *)&sa,
	       sizeof(sa));
}

static int write_entry(struct set *s, const struct entry *e)
{
	pthread_mutex_lock(&s->lock);
	/* formatted under the lock, so that the times in the file are in order */
	size_t len = 0;
	char *line = format_line(e, &len);
	int rc = line ? append_locked(s, line, len) : -1;
	if (line)
		forward_locked(line + 1, len - 2); /* without the newlines */
	pthread_mutex_unlock(&s->lock);
	free(line);
	return rc;
}

int audit_write(const char *user, const char *source, const char *action, const char *target,
		const char *result, int status)
{
	return write_entry(&trail, &(struct entry){.user = user,
						   .source = source,
						   .action = action,
						   .target = target,
						   .result = result,
						   .status = status});
}

int audit_write_denied(const char *user, const char *source, const char *action, const char *target,
		       const char *result, int status)
{
	return write_entry(&denied, &(struct entry){.user = user,
						    .source = source,
						    .action = action,
						    .target = target,
						    .result = result,
						    .status = status});
}

/* --- requests without a known user ----------------------------------------- */

/* A (source, status) being counted: its first request of the interval was
 * written at `since`; `count` more have come since, the first and last of
 * them at `first` and `last`. A free slot has since == 0. */
struct anon {
	char source[64];
	char result[16];
	int status;
	long count;
	time_t since, first, last;
};
static struct anon anon[AUDIT_ANON_SOURCES];
static struct anon anon_other = {.source = "other sources", .result = "denied"};
static pthread_mutex_t anon_lock = PTHREAD_MUTEX_INITIALIZER;

static void anon_count(struct anon *a, time_t now)
{
	if (a->count++ == 0)
		a->first = now;
	a->last = now;
}

int audit_anonymous(const char *source, const char *action, const char *target, const char *result,
		    int status)
{
	time_t now = time(NULL);
	source = source ? source : "";
	result = result ? result : "";
	struct anon *a = NULL, *free_slot = NULL;
	pthread_mutex_lock(&anon_lock);
	for (size_t i = 0; i < AUDIT_ANON_SOURCES && !a; i++) {
		if (!anon[i].since)
			free_slot = free_slot ? free_slot : &anon[i];
		else if (anon[i].status == status && strcmp(anon[i].source, source) == 0)
			a = &anon[i];
	}
	if (!a && free_slot) { /* the first of an interval: written at once */
		*free_slot = (struct anon){.status = status, .since = now};
		str_copy(free_slot->source, sizeof(free_slot->source), source);
		str_copy(free_slot->result, sizeof(free_slot->result), result);
		pthread_mutex_unlock(&anon_lock);
		return write_entry(&denied, &(struct entry){.source = source,
							    .action = action,
							    .target = target,
							    .result = result,
							    .status = status,
							    .count = 1});
	}
	if (!a && !anon_other.since)
		anon_other.since = now;
	anon_count(a ? a : &anon_other, now);
	pthread_mutex_unlock(&anon_lock);
	return 0;
}

/* Writes the counts whose interval has ended by `now` (all: every one) and
 * frees their slots. One at a time, so that no write holds anon_lock. */
static void anon_flush(time_t now, int all)
{
	for (size_t i = 0; i <= AUDIT_ANON_SOURCES; i++) {
		struct anon *slot = i < AUDIT_ANON_SOURCES ? &anon[i] : &anon_other;
		pthread_mutex_lock(&anon_lock);
		struct anon a = *slot;
		int due = a.since && (all || now - a.since >= AUDIT_ANON_INTERVAL);
		if (due) {
			slot->since = 0;
			slot->count = 0;
		}
		pthread_mutex_unlock(&anon_lock);
		if (!due || a.count == 0)
			continue;
		struct entry e = {.source = a.source,
				  .action = "unauthenticated requests",
				  .result = a.result,
				  .status = a.status,
				  .count = a.count,
				  .first = a.first,
				  .last = a.last};
		if (write_entry(&denied, &e) < 0)
			log_errno("audit: %ld unauthenticated requests from %s not written",
				  a.count, a.source);
	}
}

void audit_tick(time_t now)
{
	anon_flush(now, 0);
}

void audit_flush(void)
{
	anon_flush(time(NULL), 1);
}

/* --- reading back ----------------------------------------------------------- */

struct tail {
	json_t **got; /* got[want - count .. want - 1]: newest at the end */
	size_t want, count;
	char *buf; /* TAIL_BLOCK + TAIL_LINE_MAX bytes */
};

/* One line (without its '\n'): kept if it is a JSON object. */
static void tail_take(struct tail *t, const char *p, size_t n)
{
	if (n == 0 || n > TAIL_LINE_MAX || t->count >= t->want)
		return;
	json_t *o = json_loadb(p, n, 0, NULL);
	if (!json_is_object(o)) {
		json_decref(o);
		return;
	}
	t->got[t->want - 1 - t->count++] = o;
}

static int pread_full(int fd, char *buf, size_t n, off_t off)
{
	while (n > 0) {
		ssize_t r = pread(fd, buf, n, off);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0) {
			if (r == 0)
				errno = EIO; /* shrank under us */
			return -1;
		}
		buf += r;
		n -= (size_t)r;
		off += r;
	}
	return 0;
}

/* Reads the first `size` bytes of fd backwards, block by block, taking the
 * lines newest first until enough are collected. The buffer holds one block
 * plus the not yet complete line after it, which is dropped once it is
 * longer than TAIL_LINE_MAX (and the rest of that line with it). Returns -1
 * on a read error. */
static int tail_file(struct tail *t, int fd, off_t size)
{
	off_t pos = size;
	size_t len = 0;	  /* buf[0, len) is file[pos, pos + len) */
	int skipping = 0; /* the line at buf[0] is too long: drop it */
	while (pos > 0 && t->count < t->want) {
		size_t chunk = pos < TAIL_BLOCK ? (size_t)pos : TAIL_BLOCK;
		memmove(t->buf + chunk, t->buf, len);
		if (pread_full(fd, t->buf, chunk, pos - (off_t)chunk) < 0)
			return -1;
		pos -= (off_t)chunk;
		len += chunk;
		size_t end = len;
		for (size_t i = len; i-- > 0 && t->count < t->want;) {
			if (t->buf[i] != '\n')
				continue;
			if (skipping)
				skipping = 0;
			else
				tail_take(t, t->buf + i + 1, end - i - 1);
			end = i;
		}
		len = end;
		if (len > TAIL_LINE_MAX) {
			skipping = 1;
			len = 0;
		}
	}
	if (pos == 0 && !skipping)
		tail_take(t, t->buf, len); /* the file's first line */
	return 0;
}

/* The last `lines` entries of one set, oldest first, as a JSON array; or
 * NULL when out of memory. */
static json_t *tail_set(struct set *s, size_t lines)
{
	/* NAME, NAME.1, ...: opened and measured under the lock, so that they
	 * are one consistent set (no rotation, no half-written line) however
	 * long the reading takes; writers do not wait for it. */
	int fds[KEEP_MAX + 1];
	off_t sizes[KEEP_MAX + 1];
	char dir[PATH_MAX];
	pthread_mutex_lock(&s->lock);
	str_copy(dir, sizeof(dir), audit_dir);
	for (int i = 0; i <= s->keep; i++) {
		char name[32];
		struct stat st;
		log_name(s, name, sizeof(name), i);
		sizes[i] = 0;
		fds[i] = audit_dirfd < 0 ? -1 : openat(audit_dirfd, name, O_RDONLY | O_CLOEXEC);
		if (fds[i] < 0)
			continue;
		if (fstat(fds[i], &st) < 0 || !S_ISREG(st.st_mode)) {
			close(fds[i]);
			fds[i] = -1;
		} else
			sizes[i] = st.st_size;
	}
	pthread_mutex_unlock(&s->lock);

	struct tail t = {.got = calloc(lines, sizeof(json_t *)),
			 .want = lines,
			 .buf = malloc(TAIL_BLOCK + TAIL_LINE_MAX)};
	int ok = t.got && t.buf;
	/* a file that cannot be read ends the search: older entries after a
	 * gap would not be "the last N" */
	for (int i = 0; ok && i <= s->keep && t.count < t.want; i++) {
		if (fds[i] >= 0 && tail_file(&t, fds[i], sizes[i]) < 0) {
			char name[32];
			log_name(s, name, sizeof(name), i);
			log_errno("audit: reading %s/%s", dir, name);
			break;
		}
	}
	for (int i = 0; i <= s->keep; i++)
		if (fds[i] >= 0)
			close(fds[i]);
	json_t *arr = ok ? json_array() : NULL;
	for (size_t k = t.want - t.count; t.got && k < t.want; k++) {
		if (arr)
			json_array_append(arr, t.got[k]);
		json_decref(t.got[k]);
	}
	free(t.got);
	free(t.buf);
	return arr;
}

static const char *time_of(json_t *entry)
{
	const char *t = json_string_value(json_object_get(entry, "time"));
	return t ? t : "";
}

json_t *audit_tail(size_t lines, unsigned sets)
{
	if (lines > TAIL_MAX)
		lines = TAIL_MAX;
	if (lines == 0)
		return json_array();
	if (sets & AUDIT_DENIED)
		audit_flush();
	json_t *a = sets & AUDIT_TRAIL ? tail_set(&trail, lines) : json_array();
	json_t *d = sets & AUDIT_DENIED ? tail_set(&denied, lines) : json_array();
	json_t *out = json_array();
	if (!a || !d || !out) {
		json_decref(a);
		json_decref(d);
		json_decref(out);
		return NULL;
	}
	/* merged by time (ISO times in UTC compare as strings; of the same
	 * second, audit-denied.log's first), less the oldest beyond `lines` */
	size_t na = json_array_size(a), nd = json_array_size(d);
	size_t skip = na + nd > lines ? na + nd - lines : 0;
	for (size_t i = 0, j = 0; i < na || j < nd;) {
		int from_d = j < nd && (i == na || strcmp(time_of(json_array_get(d, j)),
							  time_of(json_array_get(a, i))) <= 0);
		json_t *e = from_d ? json_array_get(d, j++) : json_array_get(a, i++);
		if (skip)
			skip--;
		else if (json_array_append(out, e) < 0) {
			json_decref(out);
			out = NULL;
			break;
		}
	}
	json_decref(a);
	json_decref(d);
	return out;
}
