#include "hostd/verify.h"

#include "common/util.h"
#include "hostd/error.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <gnutls/abstract.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define KEY_FILE_MAX 65536

/* The bundle as it is read: its size, and where the next member starts. */
struct reader {
	int fd;
	uint64_t size, off;
};

/* len bytes at off are in the bundle (no overflow: off <= size first) */
static int need(const struct reader *r, uint64_t off, uint64_t len, const char *what, char *err,
		size_t errlen)
{
	if (off > r->size || len > r->size - off)
		return error_set(err, errlen, -EINVAL,
				 "the bundle is truncated: it ends inside %s (at byte %llu)", what,
				 (unsigned long long)r->size);
	return 0;
}

static int read_at(const struct reader *r, void *buf, size_t len, uint64_t off, char *err,
		   size_t errlen)
{
	ssize_t n = pread(r->fd, buf, len, (off_t)off);
	if (n != (ssize_t)len)
		return error_set(err, errlen, -EIO, "cannot read the bundle: %s",
				 n < 0 ? strerror(errno) : "it shrank");
	return 0;
}

/* `len` bytes at off are zeros (the padding, the end of the archive) */
static int zeros_at(const struct reader *r, uint64_t off, size_t len, const char *what, char *err,
		    size_t errlen)
{
	unsigned char buf[TAR_TRAILER];
	int rc = need(r, off, len, what, err, errlen);
	if (rc == 0)
		rc = read_at(r, buf, len, off, err, errlen);
	for (size_t i = 0; rc == 0 && i < len; i++)
		if (buf[i])
			rc = error_set(err, errlen, -EINVAL, "%s is not zeros (a changed byte)",
				       what);
	return rc;
}

/* The next member, which must be `want`: its data's offset and size (at
 * most max bytes; exactly *exact, unless NULL); r->off moves past it and
 * its padding, which is checked. */
static int member(struct reader *r, int index, const char *want, uint64_t max,
		  const uint64_t *exact, uint64_t *data, uint64_t *size, char *err, size_t errlen)
{
	unsigned char h[TAR_BLOCK];
	char name[BUNDLE_NAME_MAX], what[96], why[200];
	snprintf(what, sizeof(what), "member %d's header (%s)", index, want);
	int rc = need(r, r->off, TAR_BLOCK, what, err, errlen);
	if (rc == 0)
		rc = read_at(r, h, TAR_BLOCK, r->off, err, errlen);
	if (rc < 0)
		return rc;
	if (bundle_member_parse(h, name, size, why, sizeof(why)) < 0)
		return error_set(err, errlen, -EINVAL, "member %d: %s", index, why);
	if (strcmp(name, want) != 0)
		return error_set(err, errlen, -EINVAL, "member %d is %s, where the bundle has %s",
				 index, name, want);
	if (exact && *size != *exact)
		return error_set(err, errlen, -EINVAL, "%s: its header says %llu bytes, %s %llu",
				 name, (unsigned long long)*size, BUNDLE_JSON_NAME,
				 (unsigned long long)*exact);
	if (*size > max)
		return error_set(err, errlen, -EINVAL, "%s: %llu bytes, more than its %llu", name,
				 (unsigned long long)*size, (unsigned long long)max);
	*data = r->off + TAR_BLOCK;
	snprintf(what, sizeof(what), "%s", name);
	if ((rc = need(r, *data, *size, what, err, errlen)) < 0)
		return rc;
	snprintf(what, sizeof(what), "%s's padding", name);
	if ((rc = zeros_at(r, *data + *size, tar_padding(*size), what, err, errlen)) < 0)
		return rc;
	r->off = *data + *size + tar_padding(*size);
	return 0;
}

/* A member read whole (bundle.json, bundle.sig): malloc'ed into *buf. */
static int small_member(struct reader *r, int index, const char *want, uint64_t max, char **buf,
			size_t *len, char *err, size_t errlen)
{
	uint64_t data, size;
	int rc = member(r, index, want, max, NULL, &data, &size, err, errlen);
	if (rc < 0)
		return rc;
	if (!(*buf = malloc(size + 1)))
		return error_set(err, errlen, -ENOMEM, "out of memory");
	*len = (size_t)size;
	(*buf)[size] = '\0';
	return read_at(r, *buf, (size_t)size, data, err, errlen);
}

/* The trusted key whose KEYID is `id` from the PEM files of `dir`, with
 * its file's name; NULL if none is (a file that is not an Ed25519 public
 * key is passed over: it can sign nothing). */
static gnutls_pubkey_t trusted_key(const char *dir, const unsigned char id[BUNDLE_KEYID_LEN],
				   char *name, size_t namelen)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	gnutls_pubkey_t found = NULL;
	while (d && !found && (e = readdir(d))) {
		size_t n = strlen(e->d_name);
		char path[4096];
		if (n < 5 || strcmp(e->d_name + n - 4, ".pem") != 0)
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
		size_t len = 0;
		char *pem = read_file(path, KEY_FILE_MAX, &len);
		gnutls_datum_t datum = {(unsigned char *)pem, (unsigned)len};
		unsigned char kid[BUNDLE_KEYID_LEN];
		gnutls_pubkey_t key = NULL;
		if (pem && gnutls_pubkey_init(&key) == 0 &&
		    gnutls_pubkey_import(key, &datum, GNUTLS_X509_FMT_PEM) == 0 &&
		    gnutls_pubkey_get_pk_algorithm(key, NULL) == GNUTLS_PK_EDDSA_ED25519 &&
		    bundle_key_id(key, kid) == 0 && memcmp(kid, id, BUNDLE_KEYID_LEN) == 0) {
			found = key;
			str_copy(name, namelen, e->d_name);
		} else if (key) {
			gnutls_pubkey_deinit(key);
		}
		free(pem);
	}
	if (d)
		closedir(d);
	return found;
}

/* bundle.json's bytes signed (bundle.sig) by a trusted key */
static int check_signature(const char *json, size_t json_len, const char *sig, size_t sig_len,
			   const char *trusted_dir, struct verified_bundle *b, char *err,
			   size_t errlen)
{
	unsigned char id[BUNDLE_KEYID_LEN], s[BUNDLE_SIGNATURE_LEN];
	char why[200];
	if (bundle_sig_parse(sig, sig_len, id, s, why, sizeof(why)) < 0)
		return error_set(err, errlen, -EINVAL, "%s", why);
	gnutls_pubkey_t key = trusted_key(trusted_dir, id, b->key, sizeof(b->key));
	if (!key)
		return error_set(err, errlen, -EINVAL,
				 "signed by a key this host does not trust (key ID sha256:%.64s)",
				 sig + 8);
	gnutls_datum_t data = {(unsigned char *)json, (unsigned)json_len};
	gnutls_datum_t signature = {s, sizeof(s)};
	int rc = gnutls_pubkey_verify_data2(key, GNUTLS_SIGN_EDDSA_ED25519, 0, &data, &signature);
	gnutls_pubkey_deinit(key);
	if (rc < 0)
		return error_set(err, errlen, -EINVAL,
				 "%s does not match its signature by %s (a changed byte)",
				 BUNDLE_JSON_NAME, b->key);
	return 0;
}

int verify_version(const struct bundle_info *info, const char *running, bool allow_downgrade,
		   char *err, size_t errlen)
{
	unsigned v[3];
	if (bundle_version_parse(running, v) < 0)
		return error_set(err, errlen, -EIO, "the version %s here is not MAJOR.MINOR.PATCH",
				 running);
	int cmp = bundle_version_compare(info->version_num, v);
	if (cmp <= 0 && !allow_downgrade)
		return error_set(err, errlen, -EINVAL,
				 "%s %s is %s the %s %s: a downgrade is asked for "
				 "with allow_downgrade",
				 info->kind == BUNDLE_IMAGE ? "Keel" : info->name, info->version,
				 cmp < 0 ? "older than" : "the same as",
				 info->kind == BUNDLE_IMAGE ? "running" : "installed", running);
	return 0;
}

/* the host's rules for what it runs */
static int check_policy(const struct bundle_info *info, const struct verify_policy *p, char *err,
			size_t errlen)
{
	static const char *const how[] = {NULL, "keel host update apply",
					  "keel host extension install"};
	if (info->kind != p->kind)
		return error_set(
		    err, errlen, -EINVAL, "this is an %s bundle, not an %s one: it goes in with %s",
		    bundle_kind_name(info->kind), bundle_kind_name(p->kind), how[info->kind]);
	if (strcmp(info->arch, BUNDLE_ARCH) != 0)
		return error_set(err, errlen, -EINVAL, "the bundle is for %s, this host is %s",
				 info->arch, BUNDLE_ARCH);
	if (p->kernel && strcmp(info->kernel, p->kernel) != 0)
		return error_set(err, errlen, -EINVAL,
				 "its modules are built for kernel %s; this host runs %s",
				 info->kernel, p->kernel);
	if (p->running_version &&
	    verify_version(info, p->running_version, p->allow_downgrade, err, errlen) < 0)
		return -EINVAL;
	if (info->acceptance < p->acceptance)
		return error_set(err, errlen, -EINVAL,
				 "the bundle's acceptance level is %s; this host takes %s "
				 "or above",
				 bundle_acceptance_name(info->acceptance),
				 bundle_acceptance_name(p->acceptance));
	return 0;
}

int verify_bundle(int fd, const struct verify_policy *policy, struct verified_bundle *b, char *err,
		  size_t errlen)
{
	struct stat st;
	struct reader r = {.fd = fd};
	char *json = NULL, *sig = NULL;
	size_t json_len = 0, sig_len = 0;
	memset(b, 0, sizeof(*b));
	if (fstat(fd, &st) < 0)
		return error_set(err, errlen, -EIO, "cannot read the bundle: %s", strerror(errno));
	r.size = (uint64_t)st.st_size;
	if (r.size > BUNDLE_SIZE_MAX)
		return error_set(err, errlen, -EINVAL, "%llu bytes: larger than a bundle can be",
				 (unsigned long long)r.size);
	/* nothing of bundle.json is looked at before its signature is checked */
	int rc =
	    small_member(&r, 1, BUNDLE_JSON_NAME, BUNDLE_JSON_MAX, &json, &json_len, err, errlen);
	if (rc == 0)
		rc = small_member(&r, 2, BUNDLE_SIG_NAME, BUNDLE_SIG_LEN, &sig, &sig_len, err,
				  errlen);
	if (rc == 0)
		rc = check_signature(json, json_len, sig, sig_len, policy->trusted_dir, b, err,
				     errlen);
	if (rc == 0 && bundle_info_parse(json, json_len, &b->info, err, errlen) < 0)
		rc = -EINVAL;
	free(json);
	free(sig);
	if (rc == 0)
		rc = check_policy(&b->info, policy, err, errlen);
	for (size_t i = 0; rc == 0 && i < b->info.nfiles; i++) {
		const struct bundle_file *f = &b->info.files[i];
		uint64_t data = 0, size;
		unsigned char digest[32];
		rc = member(&r, 3 + (int)i, f->name,
			    b->info.kind == BUNDLE_IMAGE ? BUNDLE_FILE_MAX : BUNDLE_MODULE_MAX,
			    &f->size, &data, &size, err, errlen);
		if (rc == 0 && (rc = bundle_copy_hash(fd, (off_t)data, size, -1, digest)) < 0)
			rc =
			    error_set(err, errlen, rc, "cannot read the bundle: %s", strerror(-rc));
		if (rc == 0 && memcmp(digest, f->sha256, 32) != 0)
			rc = error_set(err, errlen, -EINVAL,
				       "%s: its SHA-256 is not the one %s lists (a "
				       "changed byte)",
				       f->name, BUNDLE_JSON_NAME);
		b->offset[i] = (off_t)data;
	}
	if (rc == 0)
		rc = zeros_at(&r, r.off, TAR_TRAILER, "the end of the archive", err, errlen);
	if (rc == 0 && r.off + TAR_TRAILER != r.size)
		rc = error_set(err, errlen, -EINVAL, "%llu bytes follow the end of the archive",
			       (unsigned long long)(r.size - r.off - TAR_TRAILER));
	return rc;
}

void verify_temp_name(char *out, size_t n, const char *name)
{
	snprintf(out, n, ".%s.new", name);
}

int verify_put_file(int dirfd, const char *name, int in, off_t off, uint64_t len,
		    const unsigned char *sha256, char *err, size_t errlen)
{
	char tmp[BUNDLE_NAME_MAX + 8];
	unsigned char digest[32];
	verify_temp_name(tmp, sizeof(tmp), name);
	int out = openat(dirfd, tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (out < 0)
		return error_set(err, errlen, -errno, "cannot write %s: %s", tmp, strerror(errno));
	int rc = bundle_copy_hash(in, off, len, out, digest);
	if (rc == 0 && fsync(out) < 0)
		rc = -errno;
	if (close(out) < 0 && rc == 0)
		rc = -errno;
	if (rc < 0)
		return error_set(err, errlen, rc, "cannot write %s: %s", tmp, strerror(-rc));
	if (sha256 && memcmp(digest, sha256, 32) != 0)
		return error_set(err, errlen, -EIO, "%s changed since it was verified", name);
	return 0;
}
