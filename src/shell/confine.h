/* The files tech support mode may show: those under /config, /scratch and
 * /datastores, judged by where a path leads once every "..", "." and
 * symbolic link in it is resolved (realpath), never by how it is spelled.
 * Under /config, the host's secrets are listed but never read:
 *   - the TLS private key: /config/tls/ files whose name holds "key";
 *   - the SSH host keys: everything under /config/ssh/;
 *   - the inventory: files whose name starts with "keel.db" (the SQLite
 *     database with its -wal and -shm files holds the password hashes).
 * A file is then opened by its resolved path with openat2's
 * RESOLVE_NO_SYMLINKS (O_NOFOLLOW where the kernel lacks openat2), so a
 * link put in its way after the check makes the open fail rather than
 * lead elsewhere.
 *
 * `root` prefixes every path (the unit tests' fake root; "" on the host)
 * and must itself be a resolved path without a trailing '/'. */
#ifndef KEEL_SHELL_CONFINE_H
#define KEEL_SHELL_CONFINE_H

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>

enum confine_verdict {
	CONFINE_OK,
	CONFINE_OUTSIDE, /* not under /config, /scratch or /datastores */
	CONFINE_SECRET,	 /* under /config, and a secret */
	CONFINE_ERROR,	 /* cannot be resolved (errno) */
};

#define CONFINE_ALLOWED "/config, /scratch and /datastores"

/* Resolves root + path (path must be absolute) into resolved[PATH_MAX] and
 * judges it. With CONFINE_ERROR, errno says why. */
enum confine_verdict confine_resolve(const char *root, const char *path, char resolved[PATH_MAX]);
/* Whether `resolved` (a resolved path under root) is a secret. */
bool confine_is_secret(const char *root, const char *resolved);
/* Opens a resolved path (for reading, or O_DIRECTORY), refusing symlinks
 * in it; returns a descriptor or -1 with errno set. */
int confine_open(const char *resolved, int flags);
/* A verdict's reason, for messages: "outside /config, ...", "hidden:
 * holds secrets", or strerror(err) */
const char *confine_reason(enum confine_verdict v, int err);

#endif
