/* Layer: domain. Includes: error.h and src/common's bundlefmt.h; never
 * http.h or api.h.
 *
 * A signed bundle (common/bundlefmt.h) checked before anything of it is
 * used: an update's image (update.h) or an extension (extensions.h).
 *
 * It is hostile until verified: every byte of it is checked (the
 * members' headers, padding and end against the ones the format allows,
 * bundle.json by its signature, each file by its size and SHA-256) and
 * nothing is trusted from it before its signature is: bundle.json is
 * parsed only once a trusted key (PEM files under the trusted-keys
 * directory, the image's own) has signed it. Then the host's rules: product
 * keel, this host's architecture, a version newer than the running one
 * (unless a downgrade is asked for), an acceptance level at or above the
 * host's; for an extension, the running kernel's release. A bundle that
 * breaks any of these is refused (-EINVAL) with a message saying which,
 * and changes nothing. */
#ifndef KEEL_HOSTD_VERIFY_H
#define KEEL_HOSTD_VERIFY_H

#include "common/bundlefmt.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

struct verify_policy {
	const char *trusted_dir;     /* BUNDLE_TRUSTED_DIR but in tests */
	int kind;		     /* enum bundle_kind: the one taken */
	const char *kernel;	     /* an extension's: the kernel release running */
	const char *running_version; /* MAJOR.MINOR.PATCH; NULL: none (any goes) */
	int acceptance;		     /* the host's level */
	bool allow_downgrade;	     /* an older or the same version too */
};

/* a verified bundle */
struct verified_bundle {
	struct bundle_info info;
	char key[64];			/* the trusted key's file name */
	off_t offset[BUNDLE_FILES_MAX]; /* each file's data in the bundle */
};

/* Verifies the bundle in `fd` (from its start; the offset is not used):
 * 0 with *b filled in, or -EINVAL (a refusal) / -EIO with a message. */
int verify_bundle(int fd, const struct verify_policy *policy, struct verified_bundle *b, char *err,
		  size_t errlen);

/* The rule on versions: `info`'s newer than `running` (MAJOR.MINOR.PATCH)
 * unless allow_downgrade. 0, or -EINVAL (-EIO: `running` is not a
 * version) with a message. verify_bundle applies it to running_version. */
int verify_version(const struct bundle_info *info, const char *running, bool allow_downgrade,
		   char *err, size_t errlen);

/* ".NAME.new": where NAME is written before it is renamed into place */
void verify_temp_name(char *out, size_t n, const char *name);

/* A file written whole in dirfd under a temporary name (".NAME.new") and
 * fsync'ed, not yet renamed: `len` bytes of `in` from off; its SHA-256
 * must be `sha256` (NULL: not checked). 0, or a negative errno with a
 * message. */
int verify_put_file(int dirfd, const char *name, int in, off_t off, uint64_t len,
		    const unsigned char *sha256, char *err, size_t errlen);

#endif
