/* keel-bundle's work (main.c has its arguments): a signing key pair, and
 * an update bundle (common/bundlefmt.h) made and signed. The unit tests
 * make their bundles with it. Errors are returned with a message, nothing
 * is printed. */
#ifndef KEEL_BUNDLETOOL_BUNDLEMAKE_H
#define KEEL_BUNDLETOOL_BUNDLEMAKE_H

#include "common/bundlefmt.h"

#include <stddef.h>

/* the key pair's files in its directory */
#define KEY_PRIVATE "private.pem" /* PKCS #8, mode 0600 */
#define KEY_PUBLIC  "public.pem"  /* what a host trusts (BUNDLE_TRUSTED_DIR) */

/* A new Ed25519 key pair in `dir` (made, mode 0700, if it does not
 * exist). A key already there is never replaced. 0, or -1 with a message. */
int bundle_keygen(const char *dir, char *err, size_t errlen);

struct bundle_make {
	int kind;	     /* enum bundle_kind */
	const char *key;     /* the private key's PEM file */
	const char *name;    /* an extension's */
	const char *kernel;  /* an extension's: the kernel release */
	const char *version; /* MAJOR.MINOR.PATCH; an image's manifest.txt's
			      * keel-version too */
	const char *build;
	const char *arch;
	int acceptance; /* enum bundle_acceptance */
	/* an image's vmlinuz, initramfs.img, manifest.txt; an extension's
	 * modules (their file names are the members'), in load order */
	size_t nfiles;
	const char *files[BUNDLE_FILES_MAX];
	const char *out; /* written through OUT.tmp, renamed when whole */
};

/* bundle.sig's line for the text `json`, signed with the private key of
 * the PEM file `key` (Ed25519): 0, or -1 with a message. */
int bundle_sign(const char *key, const char *json, char sig[BUNDLE_SIG_LEN + 1], char *err,
		size_t errlen);

/* Makes and signs the bundle: 0, or -1 with a message (then `out` is not
 * there). */
int bundle_make(const struct bundle_make *m, char *err, size_t errlen);

#endif
