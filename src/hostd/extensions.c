#include "hostd/extensions.h"

#include "common/bootenv.h"
#include "common/bundlefmt.h"
#include "common/util.h"
#include "hostd/error.h"
#include "hostd/verify.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#define SIG_MARKER "~Module signature appended~\n" /* the end of a signed module */
#define STATUS_MAX (EXT_MAX * 256)

static pthread_mutex_t busy = PTHREAD_MUTEX_INITIALIZER; /* one change at a time */

/* the extension `name`'s description under bank_dir: 0, or -1 (none, or
 * not an extension's) */
static int read_info(const char *bank_dir, const char *name, struct bundle_info *info)
{
	char path[4096], why[256];
	size_t len = 0;
	snprintf(path, sizeof(path), "%s/%s/%s/%s", bank_dir, EXT_DIR, name, EXT_ORDER);
	if (access(path, F_OK) < 0)
		return -1; /* an install cut short */
	snprintf(path, sizeof(path), "%s/%s/%s/%s", bank_dir, EXT_DIR, name, EXT_INFO);
	char *json = read_file(path, BUNDLE_JSON_MAX, &len);
	int rc = json && bundle_info_parse(json, len, info, why, sizeof(why)) == 0 &&
			 info->kind == BUNDLE_EXTENSION && strcmp(info->name, name) == 0
		     ? 0
		     : -1;
	free(json);
	return rc;
}

/* The extensions under bank_dir in name order: their count (at most
 * EXT_MAX) with infos[] filled in. */
static int installed(const char *bank_dir, struct bundle_info *infos)
{
	struct dirent **names = NULL;
	int n = ext_scan(bank_dir, &names), count = 0;
	for (int i = 0; i < n; i++) {
		if (count < EXT_MAX && read_info(bank_dir, names[i]->d_name, &infos[count]) == 0)
			count++;
		free(names[i]);
	}
	free(names);
	return count;
}

int ext_lowest_acceptance(const char *bank_dir)
{
	struct bundle_info *infos = calloc(EXT_MAX, sizeof(*infos));
	int n = infos ? installed(bank_dir, infos) : 0, lowest = 0;
	for (int i = 0; i < n; i++)
		if (!lowest || infos[i].acceptance < lowest)
			lowest = infos[i].acceptance;
	free(infos);
	return lowest;
}

/* keel-init's line for `name` in the status text: its state and error */
static void status_of(const char *text, const char *name, json_t *ext)
{
	size_t n = strlen(name);
	for (const char *l = text; l && *l; l = strchr(l, '\n') ? strchr(l, '\n') + 1 : NULL) {
		if (strncmp(l, name, n) != 0 || l[n] != ' ')
			continue;
		const char *state = l + n + 1, *end = strchrnul(state, '\n');
		size_t word = strcspn(state, " \n");
		json_object_set_new(ext, "state", json_stringn(state, word));
		if (state[word] == ' ')
			json_object_set_new(
			    ext, "error",
			    json_stringn(state + word + 1, (size_t)(end - state - word - 1)));
		return;
	}
	json_object_set_new(ext, "state", json_string("installed"));
}

/* Sets `name`'s line of the status file to "NAME installed" (installed is
 * true) or removes it: what the host runs changes at the next boot. */
static void status_set(const char *path, const char *name, bool installed)
{
	char *text = read_file(path, STATUS_MAX, NULL), *out = calloc(1, STATUS_MAX + 64);
	size_t n = strlen(name), len = 0;
	for (const char *l = text; out && l && *l;) {
		const char *next = strchrnul(l, '\n');
		size_t ll = (size_t)(next - l);
		if (!(strncmp(l, name, n) == 0 && l[n] == ' ') && ll > 0 &&
		    len + ll + 1 < STATUS_MAX) {
			memcpy(out + len, l, ll);
			out[len + ll] = '\n';
			len += ll + 1;
		}
		l = *next ? next + 1 : next;
	}
	if (out && installed)
		len += (size_t)sprintf(out + len, "%s installed\n", name);
	if (out)
		write_file_atomic(path, out, len, 0644);
	free(text);
	free(out);
}

static json_t *describe(const struct bundle_info *info)
{
	json_t *modules = json_array();
	for (size_t i = 0; i < info->nfiles; i++)
		json_array_append_new(modules, json_string(info->files[i].name));
	return json_pack("{s:s,s:s,s:s,s:s,s:s,s:o}", "name", info->name, "version", info->version,
			 "build", info->build, "acceptance",
			 bundle_acceptance_name(info->acceptance), "kernel", info->kernel,
			 "modules", modules);
}

int ext_list(const struct ext_host *h, json_t **out, char *err, size_t errlen)
{
	struct bundle_info *infos = calloc(EXT_MAX, sizeof(*infos));
	if (!infos)
		return error_set(err, errlen, -ENOMEM, "out of memory");
	char *status = read_file(h->status, STATUS_MAX, NULL);
	json_t *list = json_array();
	int n = installed(h->bank_dir, infos);
	for (int i = 0; i < n; i++) {
		json_t *e = describe(&infos[i]);
		status_of(status, infos[i].name, e);
		json_array_append_new(list, e);
	}
	*out = json_pack("{s:o,s:s}", "extensions", list, "acceptance",
			 bundle_acceptance_name(h->acceptance));
	free(status);
	free(infos);
	return 0;
}

/* A module the host's kernel can load: an ELF object, for `kernel` (its
 * vermagic's first word), signed (the kernel checks by whom). */
static int module_check(int fd, off_t off, uint64_t size, const char *name, const char *kernel,
			char *err, size_t errlen)
{
	long page = sysconf(_SC_PAGESIZE);
	off_t base = off - off % page;
	size_t len = (size_t)(off - base) + (size_t)size;
	unsigned char *map = mmap(NULL, len, PROT_READ, MAP_PRIVATE, fd, base);
	if (map == MAP_FAILED)
		return error_set(err, errlen, -EIO, "cannot read %s: %s", name, strerror(errno));
	const unsigned char *m = map + (off - base);
	const char *vermagic = memmem(m, size, "vermagic=", 9);
	size_t klen = strlen(kernel), sig = strlen(SIG_MARKER);
	int rc = 0;
	if (size < 64 || memcmp(m,
				"\x7f"
				"ELF",
				4) != 0)
		rc = error_set(err, errlen, -EINVAL, "%s is not a kernel module (no ELF header)",
			       name);
	else if (!vermagic || (size_t)(vermagic - (const char *)m) + 9 + klen + 1 > size ||
		 memcmp(vermagic + 9, kernel, klen) != 0 || vermagic[9 + klen] != ' ')
		rc = error_set(err, errlen, -EINVAL,
			       "%s is not built for kernel %s, the one this host runs (its "
			       "vermagic)",
			       name, kernel);
	else if (size < sig || memcmp(m + size - sig, SIG_MARKER, sig) != 0)
		rc = error_set(err, errlen, -EINVAL,
			       "%s is not signed: this host loads only modules signed by its "
			       "kernel's builder (module.sig_enforce)",
			       name);
	munmap(map, len);
	return rc;
}

static int remove_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(path) < 0 && errno != ENOENT ? -1 : 0;
}

/* removes dir/name and all under it, if it is there */
static int remove_tree(int dirfd, const char *dir, const char *name)
{
	char path[4096];
	struct stat st;
	if (fstatat(dirfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
		return errno == ENOENT ? 0 : -1;
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	return nftw(path, remove_entry, 8, FTW_DEPTH | FTW_PHYS);
}

/* `text` as the file `name` of dirfd, fsync'ed */
static int put_text(int dirfd, const char *name, const char *text)
{
	int fd = openat(dirfd, name, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0)
		return -1;
	int rc = write_all(fd, text, strlen(text)) < 0 || fsync(fd) < 0 ? -1 : 0, e = errno;
	close(fd);
	errno = e;
	return rc;
}

/* The extension `info` as ext_dir/NAME (ext_dir: a bank's EXT_DIR, opened
 * as extfd): its modules from fds[i] at offs[i], checked against their
 * hashes as they are written. */
static int write_folder(int extfd, const char *ext_dir, const struct bundle_info *info,
			const int *fds, const off_t *offs, char *err, size_t errlen)
{
	char tmp[EXT_NAME_MAX + 8], old[EXT_NAME_MAX + 8], ftmp[BUNDLE_NAME_MAX + 8];
	snprintf(tmp, sizeof(tmp), ".%s.new", info->name);
	snprintf(old, sizeof(old), ".%s.old", info->name);
	if (remove_tree(extfd, ext_dir, tmp) < 0 || remove_tree(extfd, ext_dir, old) < 0 ||
	    mkdirat(extfd, tmp, 0755) < 0)
		return error_set(err, errlen, -EIO, "cannot make %s/%s: %s", ext_dir, tmp,
				 strerror(errno));
	int dirfd = openat(extfd, tmp, O_RDONLY | O_DIRECTORY | O_CLOEXEC), rc = 0;
	char *json = bundle_info_format(info), order[EXT_MODULES_MAX * (BUNDLE_NAME_MAX + 1) + 1];
	size_t olen = 0;
	if (dirfd < 0 || !json)
		rc = error_set(err, errlen, -EIO, "cannot write %s/%s: %s", ext_dir, tmp,
			       json ? strerror(errno) : "out of memory");
	for (size_t i = 0; rc == 0 && i < info->nfiles; i++) {
		const struct bundle_file *f = &info->files[i];
		verify_temp_name(ftmp, sizeof(ftmp), f->name);
		rc = verify_put_file(dirfd, f->name, fds[i], offs[i], f->size, f->sha256, err,
				     errlen);
		if (rc == 0 && renameat(dirfd, ftmp, dirfd, f->name) < 0)
			rc = error_set(err, errlen, -EIO, "cannot rename %s: %s", ftmp,
				       strerror(errno));
		olen += (size_t)sprintf(order + olen, "%s\n", f->name);
	}
	if (rc == 0 && (put_text(dirfd, EXT_INFO, json) < 0 ||
			put_text(dirfd, EXT_ORDER, order) < 0 || fsync(dirfd) < 0))
		rc = error_set(err, errlen, -EIO, "cannot write %s/%s: %s", ext_dir, tmp,
			       strerror(errno));
	if (dirfd >= 0)
		close(dirfd);
	free(json);
	/* the older version out of the way, the new one in its place */
	if (rc == 0 && ((renameat(extfd, info->name, extfd, old) < 0 && errno != ENOENT) ||
			renameat(extfd, tmp, extfd, info->name) < 0 || fsync(extfd) < 0))
		rc = error_set(err, errlen, -EIO, "cannot put %s/%s in place: %s", ext_dir,
			       info->name, strerror(errno));
	if (rc < 0 && faccessat(extfd, info->name, F_OK, 0) < 0)
		renameat(extfd, old, extfd, info->name); /* the older version back */
	remove_tree(extfd, ext_dir, rc == 0 ? old : tmp);
	return rc;
}

/* bank_dir's EXT_DIR, made if it is not there, opened into *extfd; the
 * bank read-write while it is open (*made_rw: it was read-only) */
static int open_ext_dir(const char *bank_dir, char *path, size_t n, int *extfd, int *made_rw,
			char *err, size_t errlen)
{
	snprintf(path, n, "%s/%s", bank_dir, EXT_DIR);
	*made_rw = bootenv_remount(bank_dir, 1);
	if ((mkdir(path, 0755) < 0 && errno != EEXIST) ||
	    (*extfd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0) {
		int e = errno;
		if (*made_rw)
			bootenv_remount(bank_dir, 0);
		return error_set(err, errlen, -EIO, "cannot open %s: %s", path, strerror(e));
	}
	return 0;
}

static int close_ext_dir(const char *bank_dir, int extfd, int made_rw, int rc, char *err,
			 size_t errlen)
{
	close(extfd);
	if (made_rw && !bootenv_remount(bank_dir, 0) && rc == 0)
		rc = error_set(err, errlen, -EIO, "cannot remount %s read-only", bank_dir);
	return rc;
}

int ext_install(const struct ext_host *h, int fd, bool allow_downgrade, json_t **out, char *err,
		size_t errlen)
{
	*out = NULL;
	if (pthread_mutex_trylock(&busy) != 0)
		return error_set(err, errlen, -EBUSY,
				 "another extension is being installed or "
				 "removed");
	struct verified_bundle b;
	struct bundle_info *have = calloc(EXT_MAX, sizeof(*have));
	struct verify_policy policy = {.trusted_dir = h->trusted_dir,
				       .kind = BUNDLE_EXTENSION,
				       .kernel = h->kernel,
				       .acceptance = h->acceptance};
	char path[4096];
	int rc = have ? 0 : error_set(err, errlen, -ENOMEM, "out of memory"), n = 0, extfd, made_rw;
	/* verified once, then held to the version installed under its name */
	if (rc == 0 && (rc = verify_bundle(fd, &policy, &b, err, errlen)) == 0)
		n = installed(h->bank_dir, have);
	int i = 0;
	while (i < n && strcmp(have[i].name, b.info.name) != 0)
		i++;
	if (rc == 0 && i < n)
		rc = verify_version(&b.info, have[i].version, allow_downgrade, err, errlen);
	else if (rc == 0 && n == EXT_MAX)
		rc = error_set(err, errlen, -EINVAL,
			       "this host has %d extensions, as many as it takes", EXT_MAX);
	int fds[EXT_MODULES_MAX];
	for (size_t k = 0; rc == 0 && k < b.info.nfiles; k++) {
		fds[k] = fd;
		rc = module_check(fd, b.offset[k], b.info.files[k].size, b.info.files[k].name,
				  h->kernel, err, errlen);
	}
	if (rc == 0 && (rc = open_ext_dir(h->bank_dir, path, sizeof(path), &extfd, &made_rw, err,
					  errlen)) == 0) {
		rc = write_folder(extfd, path, &b.info, fds, b.offset, err, errlen);
		rc = close_ext_dir(h->bank_dir, extfd, made_rw, rc, err, errlen);
	}
	if (rc == 0) {
		status_set(h->status, b.info.name, true);
		*out = describe(&b.info);
		json_object_set_new(*out, "signed_by", json_string(b.key));
		json_object_set_new(*out, "reboot_needed", json_true());
	}
	free(have);
	pthread_mutex_unlock(&busy);
	return rc;
}

int ext_remove(const struct ext_host *h, const char *name, char *err, size_t errlen)
{
	struct bundle_info info;
	char path[4096], old[EXT_NAME_MAX + 8];
	int extfd, made_rw;
	if (!ext_name_ok(name) || read_info(h->bank_dir, name, &info) < 0)
		return error_set(err, errlen, -ENOENT, "no extension %s is installed", name);
	if (pthread_mutex_trylock(&busy) != 0)
		return error_set(err, errlen, -EBUSY,
				 "another extension is being installed or "
				 "removed");
	snprintf(old, sizeof(old), ".%s.old", name);
	int rc = open_ext_dir(h->bank_dir, path, sizeof(path), &extfd, &made_rw, err, errlen);
	if (rc == 0) {
		if (remove_tree(extfd, path, old) < 0 || renameat(extfd, name, extfd, old) < 0 ||
		    fsync(extfd) < 0)
			rc = error_set(err, errlen, -EIO, "cannot remove %s/%s: %s", path, name,
				       strerror(errno));
		remove_tree(extfd, path, old);
		rc = close_ext_dir(h->bank_dir, extfd, made_rw, rc, err, errlen);
	}
	if (rc == 0)
		status_set(h->status, name, false);
	pthread_mutex_unlock(&busy);
	return rc;
}

/* removes what dir (opened as dirfd) holds */
static int empty_dir(int dirfd, const char *dir)
{
	int fd = dup(dirfd), rc = 0;
	DIR *d = fd >= 0 ? fdopendir(fd) : NULL;
	struct dirent *e;
	if (!d) {
		if (fd >= 0)
			close(fd);
		return -1;
	}
	while (rc == 0 && (e = readdir(d)))
		if (strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0)
			rc = remove_tree(dirfd, dir, e->d_name);
	closedir(d);
	return rc;
}

int ext_carry_over(const char *from_dir, const char *to_dir, const char *kernel, json_t *kept,
		   json_t *dropped, char *err, size_t errlen)
{
	struct bundle_info *infos = calloc(EXT_MAX, sizeof(*infos));
	char path[4096], file[4096];
	int extfd = -1, made_rw;
	if (!infos)
		return error_set(err, errlen, -ENOMEM, "out of memory");
	pthread_mutex_lock(&busy);
	int n = installed(from_dir, infos);
	/* the bank an update wrote: its extensions were its older image's */
	int rc = open_ext_dir(to_dir, path, sizeof(path), &extfd, &made_rw, err, errlen);
	if (rc == 0 && empty_dir(extfd, path) < 0)
		rc = error_set(err, errlen, -EIO, "cannot empty %s: %s", path, strerror(errno));
	for (int i = 0; rc == 0 && i < n; i++) {
		if (strcmp(infos[i].kernel, kernel) != 0) {
			json_array_append_new(dropped, json_string(infos[i].name));
			continue;
		}
		int fds[EXT_MODULES_MAX];
		off_t offs[EXT_MODULES_MAX] = {0};
		size_t k = 0;
		for (; k < infos[i].nfiles; k++) {
			snprintf(file, sizeof(file), "%s/%s/%s/%s", from_dir, EXT_DIR,
				 infos[i].name, infos[i].files[k].name);
			if ((fds[k] = open(file, O_RDONLY | O_CLOEXEC)) < 0)
				break;
		}
		rc = k < infos[i].nfiles
			 ? error_set(err, errlen, -EIO, "cannot read %s: %s", file, strerror(errno))
			 : write_folder(extfd, path, &infos[i], fds, offs, err, errlen);
		while (k-- > 0)
			close(fds[k]);
		if (rc == 0)
			json_array_append_new(kept, json_string(infos[i].name));
	}
	if (extfd >= 0)
		rc = close_ext_dir(to_dir, extfd, made_rw, rc, err, errlen);
	pthread_mutex_unlock(&busy);
	free(infos);
	return rc;
}
