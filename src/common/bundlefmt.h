/* The update bundle: the contract between keel-bundle (src/bundletool, the
 * build machine's tool that makes and signs one) and keel-hostd, which
 * verifies one and installs it: a system image into a boot bank
 * (hostd/update.h), or an extension, kernel modules the base image leaves
 * out, into the booted bank (hostd/extensions.h, common/extension.h).
 *
 * A bundle is an uncompressed POSIX ustar archive (common/ustar.h) of
 * exactly these members, in this order:
 *
 *   bundle.json   what the bundle is (below): at most BUNDLE_JSON_MAX bytes
 *   bundle.sig    its signature: one line of BUNDLE_SIG_LEN bytes,
 *                   "ed25519 KEYID SIGNATURE\n"
 *                 KEYID: the SHA-256 of the signing key's public key, its
 *                 DER SubjectPublicKeyInfo (GnuTLS's gnutls_pubkey_get_key_id
 *                 with GNUTLS_KEYID_USE_SHA256; certtool --pubkey-info's
 *                 "Public Key ID" sha256; openssl pkey -pubin -outform DER |
 *                 sha256sum); SIGNATURE: the Ed25519 signature (RFC 8032) of
 *                 bundle.json's exact bytes; both in lowercase hex. One
 *                 signature, by one key.
 *   FILE...       the files bundle.json lists, in its order:
 *                 kind "image": a boot bank's image (common/bootenv.h),
 *                 vmlinuz, initramfs.img and manifest.txt, each once, at
 *                 most BUNDLE_FILE_MAX bytes;
 *                 kind "extension": 1 to EXT_MODULES_MAX kernel modules
 *                 (MODULE.ko, common/extension.h), each once, at most
 *                 BUNDLE_MODULE_MAX bytes, in the order they load
 *
 * then the two zero blocks that end an archive, and nothing after them.
 * Every member's header is the one bundle_member_header makes (a regular
 * file, mode 0644, owner root, mtime 0): a reader compares it whole, and
 * the padding and the end with zeros, so that no byte of a bundle goes
 * unchecked (the data by the signature and the files' hashes).
 *
 * bundle.json: one JSON object with exactly these fields, none twice:
 *   "format": 1
 *   "product": "keel"
 *   "kind": "image" or "extension"
 *   "name": (extensions only) the extension's name (common/extension.h)
 *   "kernel": (extensions only) the kernel release its modules are built
 *              for (uname -r): 1 to 64 of [0-9A-Za-z._+-]
 *   "version": "MAJOR.MINOR.PATCH" (Keel's, or the extension's): numbers
 *              of 1 to 9 digits, no leading zeros, compared numerically
 *   "build": the build's commit: 1 to 40 of [0-9A-Za-z._-]
 *   "arch": the machine it runs on: 1 to 16 of [a-z0-9_] (BUNDLE_ARCH)
 *   "acceptance": "certified", "partner" or "community": who vouches for
 *              the image; a host takes a level at or above its own
 *   "files": [{"name": NAME, "size": BYTES, "sha256": "64 lowercase hex"},
 *             ...], each object with exactly these three fields
 *
 * A host trusts the public keys (PEM, "BEGIN PUBLIC KEY", Ed25519) of
 * BUNDLE_TRUSTED_DIR/ *.pem, put into its image when it is built
 * (image/mkimage.sh). */
#ifndef KEEL_BUNDLEFMT_H
#define KEEL_BUNDLEFMT_H

#include <gnutls/abstract.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "common/extension.h"
#include "common/ustar.h"

#define BUNDLE_FORMAT	     1
#define BUNDLE_PRODUCT	     "keel"
#define BUNDLE_ARCH	     "x86_64" /* the machines Keel is built for */
#define BUNDLE_JSON_NAME     "bundle.json"
#define BUNDLE_SIG_NAME	     "bundle.sig"
#define BUNDLE_FILES	     3		     /* an image's members after bundle.sig */
#define BUNDLE_FILES_MAX     EXT_MODULES_MAX /* any bundle's */
#define BUNDLE_NAME_MAX	     64		     /* a member's name and its NUL */
#define BUNDLE_JSON_MAX	     (64 * 1024)
#define BUNDLE_FILE_MAX	     (256ull * 1024 * 1024)
#define BUNDLE_MODULE_MAX    (32ull * 1024 * 1024)
#define BUNDLE_KEYID_LEN     32 /* SHA-256 */
#define BUNDLE_SIGNATURE_LEN 64 /* Ed25519 */
#define BUNDLE_SIG_LEN	     (8 + 2 * BUNDLE_KEYID_LEN + 1 + 2 * BUNDLE_SIGNATURE_LEN + 1)
#define BUNDLE_MEMBER_MODE   0644
#define BUNDLE_TRUSTED_DIR   "/etc/keel/trusted-keys"
/* the largest bundle there can be: an image's five headers, the members
 * padded, the end (an extension's modules are bounded by it too) */
#define BUNDLE_SIZE_MAX                                                                            \
	((2 + BUNDLE_FILES) * 2ull * TAR_BLOCK + BUNDLE_JSON_MAX + BUNDLE_SIG_LEN +                \
	 BUNDLE_FILES * BUNDLE_FILE_MAX + TAR_TRAILER)

/* the files of an image's bundle, the names a boot bank's image has */
extern const char *const bundle_file_names[BUNDLE_FILES];

enum bundle_kind { BUNDLE_IMAGE = 1, BUNDLE_EXTENSION };
/* "image", "extension" (or "?") */
const char *bundle_kind_name(int kind);

enum bundle_acceptance { BUNDLE_COMMUNITY = 1, BUNDLE_PARTNER, BUNDLE_CERTIFIED };
/* The level of "certified", "partner", "community", or -1. */
int bundle_acceptance_parse(const char *name);
const char *bundle_acceptance_name(int level);

/* MAJOR.MINOR.PATCH into v: 0, or -1 if it is not one. */
int bundle_version_parse(const char *s, unsigned v[3]);
/* <0, 0, >0 as a is older than, the same as, newer than b */
int bundle_version_compare(const unsigned a[3], const unsigned b[3]);

struct bundle_file {
	char name[BUNDLE_NAME_MAX];
	uint64_t size;
	unsigned char sha256[32];
};

/* bundle.json */
struct bundle_info {
	int kind;		     /* enum bundle_kind */
	char name[EXT_NAME_MAX + 1]; /* an extension's; else "" */
	char kernel[65];	     /* an extension's; else "" */
	char version[32];
	unsigned version_num[3];
	char build[41];
	char arch[17];
	int acceptance; /* enum bundle_acceptance */
	size_t nfiles;
	struct bundle_file files[BUNDLE_FILES_MAX];
};

/* Parses bundle.json's `len` bytes strictly (the rules above): 0, or -1
 * with a message. */
int bundle_info_parse(const char *json, size_t len, struct bundle_info *info, char *err,
		      size_t errlen);
/* bundle.json's text for `info` (malloc'ed, NUL-terminated), or NULL if a
 * field is invalid or memory ran out. */
char *bundle_info_format(const struct bundle_info *info);

/* A member's header: `name` (one of a bundle's), `size` bytes. */
void bundle_member_header(unsigned char h[TAR_BLOCK], const char *name, uint64_t size);
/* Reads a member's header: its name (one a bundle can have) and size. 0,
 * or -1 with a message if it is not a header bundle_member_header makes
 * for that name and size. */
int bundle_member_parse(const unsigned char h[TAR_BLOCK], char name[BUNDLE_NAME_MAX],
			uint64_t *size, char *err, size_t errlen);

/* bundle.sig's line (BUNDLE_SIG_LEN bytes and a NUL) */
void bundle_sig_format(char out[BUNDLE_SIG_LEN + 1], const unsigned char keyid[BUNDLE_KEYID_LEN],
		       const unsigned char sig[BUNDLE_SIGNATURE_LEN]);
/* 0, or -1 with a message if buf (len bytes) is not such a line */
int bundle_sig_parse(const char *buf, size_t len, unsigned char keyid[BUNDLE_KEYID_LEN],
		     unsigned char sig[BUNDLE_SIGNATURE_LEN], char *err, size_t errlen);
/* The KEYID of a public key: 0, or -1 (not a key GnuTLS can encode). */
int bundle_key_id(gnutls_pubkey_t key, unsigned char id[BUNDLE_KEYID_LEN]);

/* Copies `len` bytes of `in` from offset `off` (pread: its file offset is
 * not used) to `out` (-1: nowhere) while hashing them: 0 with the SHA-256
 * in digest, or a negative errno (-EIO: `in` ended first). */
int bundle_copy_hash(int in, off_t off, uint64_t len, int out, unsigned char digest[32]);

#endif
