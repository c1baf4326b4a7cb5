/* Layer: domain (files in one datastore; datastore_registry.h names the
 * datastores). Includes: nothing of hostd; never http.h or api.h.
 *
 * Datastore files for keel-hostd: everything the API does to files on a
 * datastore goes through here, with paths that come from the network.
 *
 * A datastore is a directory (the root) opened once; every operation takes
 * a path relative to it. Paths are hostile: ds_path_check() refuses empty
 * paths, absolute paths, "." and ".." components, empty components ("a//b"),
 * components starting with '.', control characters and backslashes, and
 * paths longer than DS_PATH_MAX; on top of that every open goes through
 * openat2(RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS)
 * from the root, so nothing outside the datastore is ever reached, even
 * through a symlink someone else put there.
 *
 * Every function returns 0 (or a file descriptor, where it says so) or a
 * negative errno, and writes a message for the API's error body into
 * err/errlen (which names the path). Nothing is printed. On failure nothing
 * is changed on disk: a disk, copy or upload is built under a hidden
 * temporary name (".keel-tmp-*") in the target folder and renamed into place
 * only when complete and fsync'ed.
 *
 * Details (datastore.c): a symlink is never acted on either, not even
 * removed: every function refuses it with -ELOOP. Fifos, sockets and devices
 * are refused with -EINVAL. Messages read "local/vm1/disk.img: why" (a
 * missing parent folder is the path named); control characters and bytes
 * that are not UTF-8 show as '?'. Files are created 0600, folders 0755. */
#ifndef KEEL_HOSTD_DATASTORE_H
#define KEEL_HOSTD_DATASTORE_H

#include <stdint.h>
#include <stddef.h>
#include <sys/types.h>

#define DS_PATH_MAX 1024
#define DS_NAME_MAX 255

struct datastore {
	char name[64];	/* "local" */
	char root[256]; /* "/datastores/local" */
	int fd;		/* O_PATH|O_DIRECTORY of root, or -1 */
};

struct ds_entry {
	char name[DS_NAME_MAX + 1];
	int is_dir;
	uint64_t size;	/* apparent size in bytes */
	uint64_t alloc; /* bytes allocated on disk (st_blocks * 512) */
	int64_t mtime;	/* seconds since the epoch */
};

/* Opens the root directory. */
int ds_open(struct datastore *ds, const char *name, const char *root, char *err, size_t errlen);
void ds_close(struct datastore *ds);

/* Capacity and free space of the filesystem holding the datastore. */
int ds_space(const struct datastore *ds, uint64_t *capacity, uint64_t *free_bytes);

/* 0 when `path` is an acceptable relative datastore path (see above);
 * "" is accepted only when allow_root is set (the root folder itself).
 * Also refused: names that are not valid UTF-8 (they could not go into
 * JSON). A path of exactly DS_PATH_MAX bytes is accepted, a name of exactly
 * DS_NAME_MAX bytes too. -ENAMETOOLONG for a path or name too long, else
 * -EINVAL. */
int ds_path_check(const char *path, int allow_root, char *err, size_t errlen);

/* Opens `path` (beneath the root) with `flags` (O_CLOEXEC and O_NOFOLLOW are
 * added). Returns the fd or a negative errno. */
int ds_openat(const struct datastore *ds, const char *path, int flags, mode_t mode, char *err,
	      size_t errlen);

/* Stats one path ("" is the root; its entry's name is ""). */
int ds_stat(const struct datastore *ds, const char *path, struct ds_entry *e, char *err,
	    size_t errlen);

/* Lists a folder ("" is the root): *out is malloc'ed, sorted by name,
 * hidden names (starting with '.') are left out. So are symlinks, fifos,
 * sockets and devices, and names ds_path_check() would refuse. On success
 * *out is never NULL (free it), even when *n is 0. */
int ds_list(const struct datastore *ds, const char *path, struct ds_entry **out, size_t *n,
	    char *err, size_t errlen);

/* Creates one folder; its parent must exist. -EEXIST if it does. */
int ds_mkdir(const struct datastore *ds, const char *path, char *err, size_t errlen);

/* Creates the folders of `path` that are missing (like mkdir -p) for the
 * parent of a file about to be created: "a/b/c.img" makes a and a/b. */
int ds_mkparents(const struct datastore *ds, const char *path, char *err, size_t errlen);

/* Removes a file, or a folder that is empty. */
int ds_remove(const struct datastore *ds, const char *path, char *err, size_t errlen);

/* Creates a sparse raw disk of `size` bytes (a positive multiple of 512,
 * at most DS_DISK_MAX); -EEXIST if the path exists. */
#define DS_DISK_MAX (64ULL << 40)
int ds_mkdisk(const struct datastore *ds, const char *path, uint64_t size, char *err,
	      size_t errlen);

/* Copies a file: a reflink (FICLONE) where the filesystem can, else a copy
 * that keeps holes (SEEK_DATA/SEEK_HOLE); -EEXIST if dst exists.
 * *reflinked tells which happened. */
int ds_copy(const struct datastore *ds, const char *src, const char *dst, int *reflinked, char *err,
	    size_t errlen);

/* Grows a file to `size` bytes (a multiple of 512); refuses to shrink
 * (-EINVAL) and leaves the contents alone. The same size is a no-op; more
 * than DS_DISK_MAX is refused. */
int ds_grow(const struct datastore *ds, const char *path, uint64_t size, char *err, size_t errlen);

/* Streaming upload: ds_upload_begin() checks the path (its parent folders
 * are created), refuses an existing file unless `overwrite`, and opens a
 * temporary file beside it; the caller write()s the body to u->fd; then
 * ds_upload_commit() fsyncs and renames it into place, or ds_upload_abort()
 * removes it.
 * After a failed begin, u holds no resources (abort is a harmless no-op).
 * Commit releases u whether it succeeds or not (a failed commit removes the
 * temporary file); abort after it is a no-op. `overwrite` is remembered in
 * the temporary file's name. Messages of write and commit name only the
 * file's last component (u has no room for its path). */
struct ds_upload {
	int fd;
	int dirfd;
	char tmpname[DS_NAME_MAX + 1];
	char name[DS_NAME_MAX + 1];
	uint64_t written;
};
int ds_upload_begin(const struct datastore *ds, const char *path, int overwrite,
		    struct ds_upload *u, char *err, size_t errlen);
int ds_upload_write(struct ds_upload *u, const void *buf, size_t len, char *err, size_t errlen);
/* A sparse upload instead: data written at `offset` (holes stay where
 * nothing is written; counted in u->written too), then the file's size set
 * before the commit (a file that ends in a hole). Nothing is written past
 * DS_DISK_MAX (-EFBIG), by either. */
int ds_upload_write_at(struct ds_upload *u, uint64_t offset, const void *buf, size_t len, char *err,
		       size_t errlen);
int ds_upload_set_size(struct ds_upload *u, uint64_t size, char *err, size_t errlen);
int ds_upload_commit(struct ds_upload *u, char *err, size_t errlen);
void ds_upload_abort(struct ds_upload *u);

/* Removes the temporary files a power cut or a crash left behind (an
 * upload, disk or copy that never finished): every regular file, in the
 * root or any folder beneath it, whose name is exactly a temporary name as
 * this module makes them (".keel-tmp-" + 16 lowercase hex digits, then
 * nothing or ".replace"). Nothing else is removed: not another name, not a
 * folder, fifo or symlink of that name; hidden folders and symlinks are not
 * entered, and nothing deeper than DS_PATH_MAX allows is visited. Call it
 * only when no operation can be under way (keel-hostd's start: it is the
 * only writer). Returns the number of files removed, or a negative errno
 * (the first failure; the walk goes on past it) with a message. */
int ds_remove_temporaries(const struct datastore *ds, char *err, size_t errlen);

/* Absolute host path of a checked datastore path, for keel-vmm's config:
 * root + "/" + path. The path must pass ds_path_check and must not reach a
 * symlink (checked with ds_stat). */
int ds_host_path(const struct datastore *ds, const char *path, char *out, size_t outlen, char *err,
		 size_t errlen);

#endif
