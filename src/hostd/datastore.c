#include "hostd/datastore.h"

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <dirent.h>
#include <time.h>
#include <unistd.h>
#include <sys/ioctl.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/syscall.h>

#include <linux/fs.h>
#include <linux/openat2.h>

#include "common/util.h"

#define RESOLVE_FLAGS (RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS)
#define TMP_PREFIX    ".keel-tmp-"
#define TMP_REPLACE   ".replace" /* suffix of an upload's temp file: commit may replace */
#define FILE_MODE     0600
#define DIR_MODE      0755
#define COPY_CHUNK    (1 << 20)
#define LABEL_MAX     320 /* a path as shown in a message (longer ones are cut) */
#define OPENAT2_TRIES 16

/* --- messages ------------------------------------------------------------ */

/* Appends `s` to buf (size n, holding *len bytes) for a message: control
 * characters and bytes that are not UTF-8 become '?', and a string that does
 * not fit is cut (on a character boundary) and ends with "...". */
static void label_append(char *buf, size_t n, size_t *len, const char *s)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t avail = strlen(s);
	while (avail > 0) {
		size_t k = utf8_seq(p, avail, NULL);
		int bad = k == 0 || p[0] < 0x20 || p[0] == 0x7f;
		size_t out = bad ? 1 : k;
		if (*len + out + 4 > n) {
			memcpy(buf + *len, "...", 4);
			*len += 3;
			return;
		}
		if (bad)
			buf[*len] = '?';
		else
			memcpy(buf + *len, p, k);
		*len += out;
		buf[*len] = '\0';
		p += bad ? 1 : k;
		avail -= bad ? 1 : k;
	}
}

/* "local/vm1/disk.img" (the datastore's name, then the path), or only the
 * path when there is no datastore; "" shows as the datastore's name. */
static const char *label(const struct datastore *ds, const char *path, char *buf, size_t n)
{
	size_t len = 0;
	buf[0] = '\0';
	if (ds) {
		label_append(buf, n, &len, ds->name);
		if (path && *path)
			label_append(buf, n, &len, "/");
	}
	if (path && *path)
		label_append(buf, n, &len, path);
	else if (!ds)
		label_append(buf, n, &len, "\"\"");
	return buf;
}

static const char *errtext(int e)
{
	switch (e) {
	case ENOENT:
		return "no such file or folder";
	case EEXIST:
		return "already exists";
	case ENOTDIR:
		return "not a folder";
	case EISDIR:
		return "is a folder";
	case ENOTEMPTY:
		return "the folder is not empty";
	case ELOOP:
		return "is or goes through a symlink, which a datastore never follows";
	case EXDEV:
		return "leads outside the datastore";
	case ENOSPC:
		return "no space left on the datastore";
	case EFBIG:
		return "too large for the filesystem";
	case EROFS:
		return "the datastore is read-only";
	case EACCES:
	case EPERM:
		return "permission denied";
	case ENAMETOOLONG:
		return "name too long";
	default: {
		const char *s = strerrordesc_np(e);
		return s ? s : "unknown error";
	}
	}
}

/* Writes "<label>: <why>" (why defaults to the errno's text); returns -e. */
static int fail_label(const char *lbl, int e, const char *why, char *err, size_t errlen)
{
	errorf(err, errlen, "%s: %s", lbl, why ? why : errtext(e));
	return -e;
}

static int fail(const struct datastore *ds, const char *path, int e, const char *why, char *err,
		size_t errlen)
{
	char buf[LABEL_MAX];
	return fail_label(label(ds, path, buf, sizeof buf), e, why, err, errlen);
}

/* --- paths --------------------------------------------------------------- */

/* Why one path component (len bytes at s) is refused, or NULL. */
static const char *name_problem(const char *s, size_t len, int *e)
{
	*e = EINVAL;
	if (len == 0)
		return "empty name";
	if (len == 2 && s[0] == '.' && s[1] == '.')
		return "\"..\" is not allowed";
	if (len == 1 && s[0] == '.')
		return "\".\" is not allowed";
	if (s[0] == '.')
		return "names starting with '.' are not allowed";
	if (len > DS_NAME_MAX) {
		*e = ENAMETOOLONG;
		return "a name is longer than 255 bytes";
	}
	const unsigned char *p = (const unsigned char *)s;
	for (size_t i = 0; i < len;) {
		if (p[i] < 0x20 || p[i] == 0x7f)
			return "control characters are not allowed";
		if (p[i] == '\\')
			return "backslashes are not allowed";
		size_t k = utf8_seq(p + i, len - i, NULL);
		if (k == 0)
			return "not valid UTF-8";
		i += k;
	}
	return NULL;
}

static int check(const struct datastore *ds, const char *path, int allow_root, char *err,
		 size_t errlen)
{
	if (!path)
		return fail(ds, "", EINVAL, "no path", err, errlen);
	size_t len = strlen(path);
	if (len == 0)
		return allow_root ? 0 : fail(ds, path, EINVAL, "empty path", err, errlen);
	if (len > DS_PATH_MAX)
		return fail(ds, path, ENAMETOOLONG, "path longer than 1024 bytes", err, errlen);
	if (path[0] == '/')
		return fail(ds, path, EINVAL, "absolute paths are not allowed", err, errlen);
	const char *p = path;
	for (;;) {
		const char *end = strchrnul(p, '/');
		int e;
		const char *why = name_problem(p, (size_t)(end - p), &e);
		if (why && end == p)
			why = *end ? "empty folder name (\"//\")" : "trailing '/' is not allowed";
		if (why)
			return fail(ds, path, e, why, err, errlen);
		if (!*end)
			return 0;
		p = end + 1;
	}
}

int ds_path_check(const char *path, int allow_root, char *err, size_t errlen)
{
	return check(NULL, path, allow_root, err, errlen);
}

/* openat2() beneath dirfd, never through a symlink (O_PATH opens of a
 * symlink itself are refused too). Returns the fd or -errno. */
static int open_beneath(int dirfd, const char *path, int flags, mode_t mode)
{
	struct open_how how;
	memset(&how, 0, sizeof how);
	flags |= O_CLOEXEC | O_NOFOLLOW;
	how.flags = (uint64_t)(unsigned)flags;
	if ((flags & O_CREAT) || (flags & O_TMPFILE) == O_TMPFILE)
		how.mode = mode;
	how.resolve = RESOLVE_FLAGS;
	long fd;
	for (int tries = 0;; tries++) {
		fd = syscall(SYS_openat2, dirfd, path, &how, sizeof how);
		if (fd >= 0)
			break;
		/* EAGAIN: a rename raced with the lookup */
		if ((errno == EAGAIN || errno == EINTR) && tries < OPENAT2_TRIES)
			continue;
		int e = errno;
		/* O_DIRECTORY | O_NOFOLLOW on a symlink says ENOTDIR: say ELOOP */
		if (e == ENOTDIR && (flags & O_DIRECTORY) && !(flags & O_PATH)) {
			int probe = open_beneath(dirfd, path, O_PATH, 0);
			if (probe >= 0)
				close(probe);
			if (probe == -ELOOP)
				e = ELOOP;
		}
		return -e;
	}
	if (flags & O_PATH) {
		struct stat st;
		int e = fstat((int)fd, &st) < 0 ? errno : S_ISLNK(st.st_mode) ? ELOOP : 0;
		if (e) {
			close((int)fd);
			return -e;
		}
	}
	return (int)fd;
}

/* Opens the folder holding `path` (a checked, non-empty path) for *at()
 * calls; *base points at the last component. Errors name the folder. */
static int open_parent(const struct datastore *ds, const char *path, const char **base, char *err,
		       size_t errlen)
{
	char parent[DS_PATH_MAX + 1];
	const char *slash = strrchr(path, '/');
	if (slash) {
		size_t n = (size_t)(slash - path);
		memcpy(parent, path, n);
		parent[n] = '\0';
		*base = slash + 1;
	} else {
		strcpy(parent, "");
		*base = path;
	}
	int fd = open_beneath(ds->fd, *parent ? parent : ".", O_RDONLY | O_DIRECTORY, 0);
	if (fd < 0)
		return fail(ds, parent, -fd, NULL, err, errlen);
	return fd;
}

/* 0 when `name` does not exist in dirfd, else -EEXIST (-ELOOP for a
 * symlink), or another -errno. */
static int absent(int dirfd, const char *name)
{
	struct stat st;
	if (fstatat(dirfd, name, &st, AT_SYMLINK_NOFOLLOW) == 0)
		return S_ISLNK(st.st_mode) ? -ELOOP : -EEXIST;
	return errno == ENOENT ? 0 : -errno;
}

/* --- datastore ----------------------------------------------------------- */

int ds_open(struct datastore *ds, const char *name, const char *root, char *err, size_t errlen)
{
	ds->fd = -1;
	ds->name[0] = '\0';
	ds->root[0] = '\0';
	if (!name || !*name || str_copy(ds->name, sizeof ds->name, name) < 0) {
		ds->name[0] = '\0';
		errorf(err, errlen, "datastore name missing or longer than 63 bytes");
		return -EINVAL;
	}
	if (!root || root[0] != '/' || str_copy(ds->root, sizeof ds->root, root) < 0)
		return fail(ds, "", EINVAL,
			    "the root must be an absolute path of at most 255 bytes", err, errlen);
	int fd = open(root, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0) {
		int e = errno;
		char lbl[LABEL_MAX], why[LABEL_MAX + 64], r[LABEL_MAX];
		size_t len = 0;
		r[0] = '\0';
		label_append(r, sizeof r, &len, root);
		snprintf(why, sizeof why, "cannot open %s: %s", r, errtext(e));
		return fail_label(label(ds, "", lbl, sizeof lbl), e, why, err, errlen);
	}
	ds->fd = fd;
	return 0;
}

void ds_close(struct datastore *ds)
{
	if (ds->fd >= 0)
		close(ds->fd);
	ds->fd = -1;
}

int ds_space(const struct datastore *ds, uint64_t *capacity, uint64_t *free_bytes)
{
	struct statfs sf;
	if (fstatfs(ds->fd, &sf) < 0)
		return -errno;
	uint64_t unit = sf.f_frsize ? (uint64_t)sf.f_frsize : (uint64_t)sf.f_bsize;
	if (capacity)
		*capacity = (uint64_t)sf.f_blocks * unit;
	if (free_bytes)
		*free_bytes = (uint64_t)sf.f_bavail * unit;
	return 0;
}

int ds_openat(const struct datastore *ds, const char *path, int flags, mode_t mode, char *err,
	      size_t errlen)
{
	int r = check(ds, path, 1, err, errlen);
	if (r < 0)
		return r;
	int fd = open_beneath(ds->fd, *path ? path : ".", flags, mode);
	if (fd < 0)
		return fail(ds, path, -fd, NULL, err, errlen);
	return fd;
}

/* Fills e from st; refuses what is neither a regular file nor a folder. */
static int entry_from(const struct datastore *ds, const char *path, const char *name,
		      const struct stat *st, struct ds_entry *e, char *err, size_t errlen)
{
	if (S_ISLNK(st->st_mode))
		return fail(ds, path, ELOOP, NULL, err, errlen);
	if (!S_ISREG(st->st_mode) && !S_ISDIR(st->st_mode))
		return fail(ds, path, EINVAL, "not a regular file or folder", err, errlen);
	memset(e, 0, sizeof *e);
	str_copy(e->name, sizeof e->name, name);
	e->is_dir = S_ISDIR(st->st_mode);
	e->size = (uint64_t)st->st_size;
	e->alloc = (uint64_t)st->st_blocks * 512;
	e->mtime = (int64_t)st->st_mtim.tv_sec;
	return 0;
}

int ds_stat(const struct datastore *ds, const char *path, struct ds_entry *e, char *err,
	    size_t errlen)
{
	int r = check(ds, path, 1, err, errlen);
	if (r < 0)
		return r;
	struct stat st;
	if (!*path) {
		if (fstat(ds->fd, &st) < 0)
			return fail(ds, path, errno, NULL, err, errlen);
		return entry_from(ds, path, "", &st, e, err, errlen);
	}
	const char *base;
	int dirfd = open_parent(ds, path, &base, err, errlen);
	if (dirfd < 0)
		return dirfd;
	r = fstatat(dirfd, base, &st, AT_SYMLINK_NOFOLLOW) < 0 ? -errno : 0;
	close(dirfd);
	if (r < 0)
		return fail(ds, path, -r, NULL, err, errlen);
	return entry_from(ds, path, base, &st, e, err, errlen);
}

static int entry_cmp(const void *a, const void *b)
{
	return strcmp(((const struct ds_entry *)a)->name, ((const struct ds_entry *)b)->name);
}

int ds_list(const struct datastore *ds, const char *path, struct ds_entry **out, size_t *n,
	    char *err, size_t errlen)
{
	*out = NULL;
	*n = 0;
	int r = check(ds, path, 1, err, errlen);
	if (r < 0)
		return r;
	int fd = open_beneath(ds->fd, *path ? path : ".", O_RDONLY | O_DIRECTORY, 0);
	if (fd < 0)
		return fail(ds, path, -fd, NULL, err, errlen);
	DIR *d = fdopendir(fd);
	if (!d) {
		int e = errno;
		close(fd);
		return fail(ds, path, e, NULL, err, errlen);
	}
	size_t cap = 16, count = 0;
	struct ds_entry *v = malloc(cap * sizeof *v);
	if (!v) {
		closedir(d);
		return fail(ds, path, ENOMEM, NULL, err, errlen);
	}
	for (;;) {
		errno = 0;
		struct dirent *de = readdir(d);
		if (!de) {
			r = errno ? -errno : 0;
			break;
		}
		int e;
		/* hidden names, and names the API could not address */
		if (de->d_name[0] == '.' || name_problem(de->d_name, strlen(de->d_name), &e))
			continue;
		struct stat st;
		if (fstatat(dirfd(d), de->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0) {
			if (errno == ENOENT) /* removed meanwhile */
				continue;
			r = -errno;
			break;
		}
		if (!S_ISREG(st.st_mode) && !S_ISDIR(st.st_mode))
			continue; /* symlinks, devices, sockets, fifos */
		if (count == cap) {
			struct ds_entry *nv = reallocarray(v, cap * 2, sizeof *v);
			if (!nv) {
				r = -ENOMEM;
				break;
			}
			v = nv;
			cap *= 2;
		}
		entry_from(ds, path, de->d_name, &st, &v[count++], NULL, 0);
	}
	closedir(d);
	if (r < 0) {
		free(v);
		return fail(ds, path, -r, NULL, err, errlen);
	}
	qsort(v, count, sizeof *v, entry_cmp);
	*out = v;
	*n = count;
	return 0;
}

int ds_mkdir(const struct datastore *ds, const char *path, char *err, size_t errlen)
{
	int r = check(ds, path, 0, err, errlen);
	if (r < 0)
		return r;
	const char *base;
	int dirfd = open_parent(ds, path, &base, err, errlen);
	if (dirfd < 0)
		return dirfd;
	r = mkdirat(dirfd, base, DIR_MODE) < 0 ? -errno : 0;
	if (r == 0)
		fsync(dirfd);
	close(dirfd);
	return r < 0 ? fail(ds, path, -r, NULL, err, errlen) : 0;
}

int ds_mkparents(const struct datastore *ds, const char *path, char *err, size_t errlen)
{
	int r = check(ds, path, 0, err, errlen);
	if (r < 0)
		return r;
	int cur = open_beneath(ds->fd, ".", O_RDONLY | O_DIRECTORY, 0);
	if (cur < 0)
		return fail(ds, "", -cur, NULL, err, errlen);
	char prefix[DS_PATH_MAX + 1];
	const char *p = path;
	const char *slash;
	while ((slash = strchr(p, '/')) != NULL) {
		size_t plen = (size_t)(slash - path);
		memcpy(prefix, path, plen);
		prefix[plen] = '\0';
		const char *name = prefix + (p - path);
		if (mkdirat(cur, name, DIR_MODE) == 0)
			fsync(cur);
		else if (errno != EEXIST)
			r = -errno;
		int next = r < 0 ? r : open_beneath(cur, name, O_RDONLY | O_DIRECTORY, 0);
		close(cur);
		if (next < 0)
			return fail(ds, prefix, -next, NULL, err, errlen);
		cur = next;
		p = slash + 1;
	}
	close(cur);
	return 0;
}

int ds_remove(const struct datastore *ds, const char *path, char *err, size_t errlen)
{
	int r = check(ds, path, 0, err, errlen);
	if (r < 0)
		return r;
	const char *base;
	int dirfd = open_parent(ds, path, &base, err, errlen);
	if (dirfd < 0)
		return dirfd;
	struct stat st;
	const char *why = NULL;
	if (fstatat(dirfd, base, &st, AT_SYMLINK_NOFOLLOW) < 0) {
		r = -errno;
	} else if (S_ISLNK(st.st_mode)) {
		r = -ELOOP;
	} else if (S_ISDIR(st.st_mode)) {
		if (unlinkat(dirfd, base, AT_REMOVEDIR) < 0)
			r = errno == EEXIST ? -ENOTEMPTY : -errno;
	} else if (S_ISREG(st.st_mode)) {
		if (unlinkat(dirfd, base, 0) < 0)
			r = -errno;
	} else {
		r = -EINVAL;
		why = "not a regular file or folder";
	}
	if (r == 0)
		fsync(dirfd);
	close(dirfd);
	return r < 0 ? fail(ds, path, -r, why, err, errlen) : 0;
}

/* --- building files under a temporary name ------------------------------- */

/* Creates a new temporary file (TMP_PREFIX + random + suffix) in dirfd;
 * its name goes to name (DS_NAME_MAX + 1 bytes). Returns the fd or -errno. */
static int make_temp(int dirfd, char *name, const char *suffix)
{
	static unsigned counter;
	for (int tries = 0; tries < 16; tries++) {
		uint64_t rnd;
		if (getrandom(&rnd, sizeof rnd, GRND_NONBLOCK) != (ssize_t)sizeof rnd) {
			struct timespec ts;
			clock_gettime(CLOCK_MONOTONIC, &ts);
			rnd = ((uint64_t)ts.tv_nsec << 20) ^ (uint64_t)ts.tv_sec ^
			      ((uint64_t)getpid() << 40) ^ __atomic_add_fetch(&counter, 1, 0);
		}
		snprintf(name, DS_NAME_MAX + 1, TMP_PREFIX "%016llx%s", (unsigned long long)rnd,
			 suffix);
		int fd = open_beneath(dirfd, name, O_WRONLY | O_CREAT | O_EXCL, FILE_MODE);
		if (fd != -EEXIST)
			return fd;
	}
	return -EEXIST;
}

/* 1 when `name` is one make_temp makes: TMP_PREFIX, 16 lowercase hex
 * digits, then "" or TMP_REPLACE. */
static int is_temp_name(const char *name)
{
	size_t pl = strlen(TMP_PREFIX);
	if (strncmp(name, TMP_PREFIX, pl) != 0)
		return 0;
	const char *p = name + pl;
	for (int i = 0; i < 16; i++, p++)
		if (!((*p >= '0' && *p <= '9') || (*p >= 'a' && *p <= 'f')))
			return 0;
	return *p == '\0' || strcmp(p, TMP_REPLACE) == 0;
}

/* the deepest folder a datastore path can name ("a/b/.../x") */
#define SWEEP_DEPTH_MAX (DS_PATH_MAX / 2)

/* ds_remove_temporaries in the folder dirfd (closed here), `path` its
 * datastore path (DS_PATH_MAX + 1 bytes, restored on return) for
 * messages; *first keeps the first error. Returns the number removed. */
static int sweep(const struct datastore *ds, int folder, char *path, int depth, int *first,
		 char *err, size_t errlen)
{
	DIR *d = fdopendir(folder);
	if (!d) {
		int e = errno;
		close(folder);
		if (!*first)
			*first = fail(ds, path, e, NULL, err, errlen);
		return 0;
	}
	int removed = 0;
	size_t plen = strlen(path);
	for (;;) {
		errno = 0;
		struct dirent *de = readdir(d);
		if (!de) {
			if (errno && !*first)
				*first = fail(ds, path, errno, NULL, err, errlen);
			break;
		}
		const char *name = de->d_name;
		struct stat st;
		if (strcmp(name, ".") == 0 || strcmp(name, "..") == 0 ||
		    fstatat(dirfd(d), name, &st, AT_SYMLINK_NOFOLLOW) < 0)
			continue;
		if (S_ISREG(st.st_mode) && is_temp_name(name)) {
			if (unlinkat(dirfd(d), name, 0) == 0)
				removed++;
			else if (errno != ENOENT && !*first)
				*first = fail(ds, path, errno, "cannot remove a temporary file",
					      err, errlen);
			continue;
		}
		/* folders the API can name, never a symlink */
		if (!S_ISDIR(st.st_mode) || name[0] == '.' || depth >= SWEEP_DEPTH_MAX ||
		    plen + 1 + strlen(name) > DS_PATH_MAX)
			continue;
		int sub = open_beneath(dirfd(d), name, O_RDONLY | O_DIRECTORY, 0);
		if (plen)
			path[plen] = '/';
		strcpy(path + plen + (plen ? 1 : 0), name);
		if (sub < 0) {
			if (!*first)
				*first = fail(ds, path, -sub, NULL, err, errlen);
		} else {
			removed += sweep(ds, sub, path, depth + 1, first, err, errlen);
		}
		path[plen] = '\0';
	}
	closedir(d);
	return removed;
}

int ds_remove_temporaries(const struct datastore *ds, char *err, size_t errlen)
{
	char path[DS_PATH_MAX + 1] = "";
	int fd = open_beneath(ds->fd, ".", O_RDONLY | O_DIRECTORY, 0);
	if (fd < 0)
		return fail(ds, "", -fd, NULL, err, errlen);
	int first = 0;
	int removed = sweep(ds, fd, path, 0, &first, err, errlen);
	return first < 0 ? first : removed;
}

/* Puts a complete temporary file in place: fsync, close, rename (without
 * replacing unless `replace`), fsync of the folder. Closes fd in every case
 * and removes the temporary file on failure. Errors are about `lbl`. */
static int commit_temp(int dirfd, int fd, const char *tmp, const char *name, int replace,
		       const char *lbl, char *err, size_t errlen)
{
	int r = fsync(fd) < 0 ? -errno : 0;
	if (close(fd) < 0 && r == 0)
		r = -errno;
	if (r < 0) {
		unlinkat(dirfd, tmp, 0);
		return fail_label(lbl, -r, NULL, err, errlen);
	}
	if (replace)
		r = renameat(dirfd, tmp, dirfd, name);
	else
		r = renameat2(dirfd, tmp, dirfd, name, RENAME_NOREPLACE);
	if (r < 0) {
		int e = errno;
		unlinkat(dirfd, tmp, 0);
		return fail_label(lbl, e, NULL, err, errlen);
	}
	if (fsync(dirfd) < 0) {
		int e = errno;
		char why[128];
		snprintf(why, sizeof why, "in place, but syncing its folder failed: %s",
			 errtext(e));
		return fail_label(lbl, e, why, err, errlen);
	}
	return 0;
}

int ds_mkdisk(const struct datastore *ds, const char *path, uint64_t size, char *err, size_t errlen)
{
	int r = check(ds, path, 0, err, errlen);
	if (r < 0)
		return r;
	if (size == 0 || size % 512 != 0 || size > DS_DISK_MAX)
		return fail(
		    ds, path, EINVAL,
		    "a disk's size must be a positive multiple of 512 bytes, at most 64 TiB", err,
		    errlen);
	const char *base;
	int dirfd = open_parent(ds, path, &base, err, errlen);
	if (dirfd < 0)
		return dirfd;
	char tmp[DS_NAME_MAX + 1];
	int fd = absent(dirfd, base);
	if (fd == 0)
		fd = make_temp(dirfd, tmp, "");
	if (fd < 0) {
		r = fd;
		close(dirfd);
		return fail(ds, path, -r, NULL, err, errlen);
	}
	if (ftruncate(fd, (off_t)size) < 0) {
		r = -errno;
		close(fd);
		unlinkat(dirfd, tmp, 0);
		close(dirfd);
		return fail(ds, path, -r, NULL, err, errlen);
	}
	char lbl[LABEL_MAX];
	r = commit_temp(dirfd, fd, tmp, base, 0, label(ds, path, lbl, sizeof lbl), err, errlen);
	close(dirfd);
	return r;
}

/* Copies the data of src (size bytes) into the empty dst, leaving holes
 * where src has them. Returns 0 or -errno. */
static int sparse_copy(int src, int dst, off_t size)
{
	if (ftruncate(dst, size) < 0)
		return -errno;
	char *buf = NULL;
	int use_cfr = 1, r = 0;
	off_t pos = 0;
	while (pos < size && r == 0) {
		off_t data = lseek(src, pos, SEEK_DATA);
		if (data < 0) {
			r = errno == ENXIO ? 0 : -errno;
			break;
		}
		if (data >= size)
			break;
		off_t hole = lseek(src, data, SEEK_HOLE);
		if (hole < 0) {
			r = -errno;
			break;
		}
		if (hole > size)
			hole = size;
		while (data < hole) {
			size_t want =
			    (size_t)(hole - data) < COPY_CHUNK ? (size_t)(hole - data) : COPY_CHUNK;
			ssize_t n;
			if (use_cfr) {
				loff_t in = data, out = data;
				n = copy_file_range(src, &in, dst, &out, want, 0);
				if (n < 0 && (errno == EXDEV || errno == EINVAL ||
					      errno == EOPNOTSUPP || errno == ENOSYS)) {
					use_cfr = 0;
					continue;
				}
			} else {
				if (!buf && !(buf = malloc(COPY_CHUNK))) {
					r = -ENOMEM;
					break;
				}
				n = pread(src, buf, want, data);
				for (ssize_t done = 0; n > 0 && done < n;) {
					ssize_t w = pwrite(dst, buf + done, (size_t)(n - done),
							   data + done);
					if (w < 0 && errno != EINTR) {
						n = -1;
						break;
					}
					done += w > 0 ? w : 0;
				}
			}
			if (n < 0 && errno == EINTR)
				continue;
			if (n < 0) {
				r = -errno;
				break;
			}
			if (n == 0) /* src shrank meanwhile: the rest stays zero */
				break;
			data += n;
		}
		pos = hole;
	}
	free(buf);
	return r;
}

int ds_copy(const struct datastore *ds, const char *src, const char *dst, int *reflinked, char *err,
	    size_t errlen)
{
	if (reflinked)
		*reflinked = 0;
	int r = check(ds, src, 0, err, errlen);
	if (r < 0 || (r = check(ds, dst, 0, err, errlen)) < 0)
		return r;
	/* O_NONBLOCK: a fifo must not block the open; it is refused below */
	int sfd = open_beneath(ds->fd, src, O_RDONLY | O_NONBLOCK, 0);
	if (sfd < 0)
		return fail(ds, src, -sfd, NULL, err, errlen);
	struct stat st;
	int e = fstat(sfd, &st) < 0    ? errno
		: S_ISDIR(st.st_mode)  ? EISDIR
		: !S_ISREG(st.st_mode) ? EINVAL
				       : 0;
	if (e) {
		close(sfd);
		return fail(ds, src, e, e == EINVAL ? "not a regular file" : NULL, err, errlen);
	}
	const char *base;
	int dirfd = open_parent(ds, dst, &base, err, errlen);
	if (dirfd < 0) {
		close(sfd);
		return dirfd;
	}
	char tmp[DS_NAME_MAX + 1];
	int fd = absent(dirfd, base);
	if (fd == 0)
		fd = make_temp(dirfd, tmp, "");
	if (fd < 0) {
		r = fd;
		close(sfd);
		close(dirfd);
		return fail(ds, dst, -r, NULL, err, errlen);
	}
	int cloned = 0;
	if (ioctl(fd, FICLONE, sfd) == 0)
		cloned = 1;
	else if (errno == EOPNOTSUPP || errno == EXDEV || errno == EINVAL || errno == ENOTTY)
		r = sparse_copy(sfd, fd, st.st_size);
	else
		r = -errno;
	close(sfd);
	if (r < 0) {
		close(fd);
		unlinkat(dirfd, tmp, 0);
		close(dirfd);
		return fail(ds, dst, -r, NULL, err, errlen);
	}
	char lbl[LABEL_MAX];
	r = commit_temp(dirfd, fd, tmp, base, 0, label(ds, dst, lbl, sizeof lbl), err, errlen);
	close(dirfd);
	if (r == 0 && reflinked)
		*reflinked = cloned;
	return r;
}

int ds_grow(const struct datastore *ds, const char *path, uint64_t size, char *err, size_t errlen)
{
	int r = check(ds, path, 0, err, errlen);
	if (r < 0)
		return r;
	if (size % 512 != 0 || size > DS_DISK_MAX)
		return fail(ds, path, EINVAL,
			    "the size must be a multiple of 512 bytes, at most 64 TiB", err,
			    errlen);
	int fd = open_beneath(ds->fd, path, O_WRONLY | O_NONBLOCK, 0);
	if (fd < 0)
		return fail(ds, path, -fd, NULL, err, errlen);
	struct stat st;
	char why[128];
	const char *msg = NULL;
	if (fstat(fd, &st) < 0) {
		r = -errno;
	} else if (!S_ISREG(st.st_mode)) {
		r = -EINVAL;
		msg = "not a regular file";
	} else if (size < (uint64_t)st.st_size) {
		r = -EINVAL;
		snprintf(why, sizeof why, "cannot shrink from %lld to %llu bytes",
			 (long long)st.st_size, (unsigned long long)size);
		msg = why;
	} else if (size > (uint64_t)st.st_size) {
		if (ftruncate(fd, (off_t)size) < 0 || fsync(fd) < 0)
			r = -errno;
	}
	close(fd);
	return r < 0 ? fail(ds, path, -r, msg, err, errlen) : 0;
}

/* --- uploads ------------------------------------------------------------- */

static void upload_reset(struct ds_upload *u)
{
	u->fd = -1;
	u->dirfd = -1;
	u->tmpname[0] = '\0';
}

int ds_upload_begin(const struct datastore *ds, const char *path, int overwrite,
		    struct ds_upload *u, char *err, size_t errlen)
{
	memset(u, 0, sizeof *u);
	upload_reset(u);
	int r = check(ds, path, 0, err, errlen);
	if (r < 0 || (r = ds_mkparents(ds, path, err, errlen)) < 0)
		return r;
	const char *base;
	int dirfd = open_parent(ds, path, &base, err, errlen);
	if (dirfd < 0)
		return dirfd;
	struct stat st;
	const char *why = NULL;
	if (fstatat(dirfd, base, &st, AT_SYMLINK_NOFOLLOW) < 0) {
		r = errno == ENOENT ? 0 : -errno;
	} else if (S_ISDIR(st.st_mode)) {
		r = -EISDIR;
	} else if (S_ISLNK(st.st_mode)) {
		r = -ELOOP;
	} else if (!S_ISREG(st.st_mode)) {
		r = -EINVAL;
		why = "not a regular file";
	} else if (!overwrite) {
		r = -EEXIST;
	}
	int fd = r < 0 ? r : make_temp(dirfd, u->tmpname, overwrite ? TMP_REPLACE : "");
	if (fd < 0) {
		u->tmpname[0] = '\0';
		close(dirfd);
		return fail(ds, path, -fd, why, err, errlen);
	}
	str_copy(u->name, sizeof u->name, base);
	u->fd = fd;
	u->dirfd = dirfd;
	u->written = 0;
	return 0;
}

int ds_upload_write_at(struct ds_upload *u, uint64_t offset, const void *buf, size_t len, char *err,
		       size_t errlen)
{
	char lbl[LABEL_MAX];
	if (u->fd < 0)
		return fail(NULL, u->name, EBADF, "no upload in progress", err, errlen);
	if (offset > DS_DISK_MAX || len > DS_DISK_MAX - offset)
		return fail(NULL, u->name, EFBIG, NULL, err, errlen);
	const char *p = buf;
	while (len > 0) {
		ssize_t n = pwrite(u->fd, p, len, (off_t)offset);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			int e = errno;
			return fail_label(label(NULL, u->name, lbl, sizeof lbl), e, NULL, err,
					  errlen);
		}
		p += n;
		len -= (size_t)n;
		offset += (uint64_t)n;
		u->written += (uint64_t)n;
	}
	return 0;
}

int ds_upload_write(struct ds_upload *u, const void *buf, size_t len, char *err, size_t errlen)
{
	return ds_upload_write_at(u, u->written, buf, len, err, errlen); /* (all written so far) */
}

int ds_upload_set_size(struct ds_upload *u, uint64_t size, char *err, size_t errlen)
{
	if (u->fd < 0)
		return fail(NULL, u->name, EBADF, "no upload in progress", err, errlen);
	if (size > DS_DISK_MAX)
		return fail(NULL, u->name, EFBIG, NULL, err, errlen);
	if (ftruncate(u->fd, (off_t)size) < 0)
		return fail(NULL, u->name, errno, NULL, err, errlen);
	return 0;
}

int ds_upload_commit(struct ds_upload *u, char *err, size_t errlen)
{
	char lbl[LABEL_MAX];
	if (u->fd < 0 || u->dirfd < 0)
		return fail(NULL, u->name, EBADF, "no upload in progress", err, errlen);
	size_t tl = strlen(u->tmpname), sl = strlen(TMP_REPLACE);
	int replace = tl > sl && strcmp(u->tmpname + tl - sl, TMP_REPLACE) == 0;
	int r = commit_temp(u->dirfd, u->fd, u->tmpname, u->name, replace,
			    label(NULL, u->name, lbl, sizeof lbl), err, errlen);
	close(u->dirfd);
	upload_reset(u);
	return r;
}

void ds_upload_abort(struct ds_upload *u)
{
	if (u->fd >= 0)
		close(u->fd);
	if (u->dirfd >= 0) {
		if (u->tmpname[0])
			unlinkat(u->dirfd, u->tmpname, 0);
		close(u->dirfd);
	}
	upload_reset(u);
}

int ds_host_path(const struct datastore *ds, const char *path, char *out, size_t outlen, char *err,
		 size_t errlen)
{
	struct ds_entry e;
	int r = ds_stat(ds, path, &e, err, errlen);
	if (r < 0)
		return r;
	size_t rl = strlen(ds->root);
	const char *sep = *path && (rl == 0 || ds->root[rl - 1] != '/') ? "/" : "";
	int n = snprintf(out, outlen, "%s%s%s", ds->root, sep, path);
	if (n < 0 || (size_t)n >= outlen) {
		if (outlen)
			out[0] = '\0';
		return fail(ds, path, ENAMETOOLONG, "the host path does not fit", err, errlen);
	}
	return 0;
}
