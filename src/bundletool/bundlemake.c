#include "bundletool/bundlemake.h"

#include "common/bundlefmt.h"
#include "common/util.h"

#include <errno.h>
#include <fcntl.h>
#include <gnutls/abstract.h>
#include <gnutls/x509.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* a new file (never one that exists) holding data */
static int write_new(const char *dir, const char *name, const gnutls_datum_t *data, mode_t mode,
		     char *err, size_t errlen)
{
	char path[4096];
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode);
	if (fd < 0)
		return errorf(err, errlen, "%s: %s%s", path, strerror(errno),
			      errno == EEXIST ? " (a key is never replaced)" : "");
	int e = write_all(fd, data->data, data->size) < 0 || fsync(fd) < 0 ? errno : 0;
	if (close(fd) < 0 && !e)
		e = errno;
	if (e) {
		unlink(path);
		return errorf(err, errlen, "%s: %s", path, strerror(e));
	}
	return 0;
}

int bundle_keygen(const char *dir, char *err, size_t errlen)
{
	gnutls_x509_privkey_t x509 = NULL;
	gnutls_privkey_t priv = NULL;
	gnutls_pubkey_t pub = NULL;
	gnutls_datum_t priv_pem = {0}, pub_pem = {0};
	int rc = -1;
	if (mkdir(dir, 0700) < 0 && errno != EEXIST)
		return errorf(err, errlen, "%s: %s", dir, strerror(errno));
	if (gnutls_x509_privkey_init(&x509) < 0 || gnutls_privkey_init(&priv) < 0 ||
	    gnutls_pubkey_init(&pub) < 0 ||
	    gnutls_x509_privkey_generate2(x509, GNUTLS_PK_EDDSA_ED25519,
					  GNUTLS_CURVE_TO_BITS(GNUTLS_ECC_CURVE_ED25519), 0, NULL,
					  0) < 0 ||
	    gnutls_x509_privkey_export2_pkcs8(x509, GNUTLS_X509_FMT_PEM, NULL, GNUTLS_PKCS_PLAIN,
					      &priv_pem) < 0 ||
	    gnutls_privkey_import_x509(priv, x509, 0) < 0 ||
	    gnutls_pubkey_import_privkey(pub, priv, 0, 0) < 0 ||
	    gnutls_pubkey_export2(pub, GNUTLS_X509_FMT_PEM, &pub_pem) < 0)
		errorf(err, errlen, "GnuTLS cannot make an Ed25519 key");
	else if (write_new(dir, KEY_PRIVATE, &priv_pem, 0600, err, errlen) == 0)
		rc = write_new(dir, KEY_PUBLIC, &pub_pem, 0644, err, errlen);
	gnutls_free(priv_pem.data);
	gnutls_free(pub_pem.data);
	gnutls_pubkey_deinit(pub);
	gnutls_privkey_deinit(priv); /* not the x509 key: imported without ownership */
	gnutls_x509_privkey_deinit(x509);
	return rc;
}

/* The private key of a PEM file, Ed25519 only; NULL with a message. */
static gnutls_privkey_t load_key(const char *path, char *err, size_t errlen)
{
	size_t len = 0;
	char *pem = read_file(path, 65536, &len);
	if (!pem) {
		errorf(err, errlen, "%s: %s", path, strerror(errno));
		return NULL;
	}
	gnutls_privkey_t key = NULL;
	gnutls_datum_t d = {(unsigned char *)pem, (unsigned)len};
	if (gnutls_privkey_init(&key) < 0 ||
	    gnutls_privkey_import_x509_raw(key, &d, GNUTLS_X509_FMT_PEM, NULL, 0) < 0 ||
	    gnutls_privkey_get_pk_algorithm(key, NULL) != GNUTLS_PK_EDDSA_ED25519) {
		errorf(err, errlen, "%s: not an Ed25519 private key in PEM", path);
		gnutls_privkey_deinit(key);
		key = NULL;
	}
	gnutls_memset(pem, 0, len);
	free(pem);
	return key;
}

/* manifest.txt says keel-version: VERSION (GET /host/image shows it) */
static int manifest_check(const char *path, const char *version, char *err, size_t errlen)
{
	char *text = read_file(path, 65536, NULL), *save = NULL;
	if (!text)
		return errorf(err, errlen, "%s: %s", path, strerror(errno));
	int found = 0;
	for (char *l = strtok_r(text, "\n", &save); l; l = strtok_r(NULL, "\n", &save))
		if (strncmp(l, "keel-version: ", 14) == 0)
			found = strcmp(l + 14, version) == 0 ? 1 : -1;
	free(text);
	if (found <= 0)
		return errorf(err, errlen, "%s: its keel-version is not %s", path, version);
	return 0;
}

/* a member's header, then (unless data is NULL: the caller copies it) its
 * data and padding */
static int put_member(int fd, const char *name, const void *data, uint64_t size)
{
	static const char zeros[TAR_BLOCK];
	unsigned char h[TAR_BLOCK];
	bundle_member_header(h, name, size);
	return write_all(fd, h, TAR_BLOCK) < 0 ||
		       (data && (write_all(fd, data, size) < 0 ||
				 write_all(fd, zeros, tar_padding(size)) < 0))
		   ? -1
		   : 0;
}

/* the files: opened, sized and hashed into info */
static int open_files(const struct bundle_make *m, int fds[BUNDLE_FILES_MAX],
		      struct bundle_info *info, char *err, size_t errlen)
{
	int image = m->kind == BUNDLE_IMAGE;
	uint64_t max = image ? BUNDLE_FILE_MAX : BUNDLE_MODULE_MAX;
	if (m->nfiles < 1 || m->nfiles > (image ? BUNDLE_FILES : BUNDLE_FILES_MAX))
		return errorf(err, errlen, "%zu files: an image has %d, an extension 1 to %d",
			      m->nfiles, BUNDLE_FILES, BUNDLE_FILES_MAX);
	for (size_t i = 0; i < m->nfiles; i++) {
		struct bundle_file *f = &info->files[i];
		const char *base = strrchr(m->files[i], '/');
		struct stat st;
		base = base ? base + 1 : m->files[i];
		if (image)
			strcpy(f->name, bundle_file_names[i]);
		else if (!ext_module_ok(base) || str_copy(f->name, sizeof(f->name), base) < 0)
			return errorf(err, errlen, "%s: not a kernel module's file name (NAME.ko)",
				      m->files[i]);
		info->nfiles = i + 1;
		fds[i] = open(m->files[i], O_RDONLY | O_CLOEXEC);
		if (fds[i] < 0 || fstat(fds[i], &st) < 0)
			return errorf(err, errlen, "%s: %s", m->files[i], strerror(errno));
		if (!S_ISREG(st.st_mode) || st.st_size < 1 || (uint64_t)st.st_size > max)
			return errorf(err, errlen, "%s: not a file of 1 byte to %llu MiB",
				      m->files[i], (unsigned long long)(max >> 20));
		f->size = (uint64_t)st.st_size;
		int rc = bundle_copy_hash(fds[i], 0, f->size, -1, f->sha256);
		if (rc < 0)
			return errorf(err, errlen, "%s: %s", m->files[i], strerror(-rc));
	}
	return 0;
}

/* the archive into fd; the files copied are hashed again, so that one that
 * changed since it was hashed is not signed for */
static int write_bundle(int fd, const char *json, const char *sig, const struct bundle_make *m,
			const int fds[BUNDLE_FILES_MAX], const struct bundle_info *info, char *err,
			size_t errlen)
{
	static const char trailer[TAR_TRAILER];
	if (put_member(fd, BUNDLE_JSON_NAME, json, strlen(json)) < 0 ||
	    put_member(fd, BUNDLE_SIG_NAME, sig, BUNDLE_SIG_LEN) < 0)
		return errorf(err, errlen, "%s: %s", m->out, strerror(errno));
	for (size_t i = 0; i < info->nfiles; i++) {
		unsigned char again[32];
		if (put_member(fd, info->files[i].name, NULL, info->files[i].size) < 0)
			return errorf(err, errlen, "%s: %s", m->out, strerror(errno));
		int rc = bundle_copy_hash(fds[i], 0, info->files[i].size, fd, again);
		if (rc < 0)
			return errorf(err, errlen, "%s: %s", m->out, strerror(-rc));
		if (memcmp(again, info->files[i].sha256, 32) != 0)
			return errorf(err, errlen, "%s: changed while the bundle was made",
				      m->files[i]);
		if (write_all(fd, trailer, tar_padding(info->files[i].size)) < 0)
			return errorf(err, errlen, "%s: %s", m->out, strerror(errno));
	}
	if (write_all(fd, trailer, TAR_TRAILER) < 0 || fsync(fd) < 0)
		return errorf(err, errlen, "%s: %s", m->out, strerror(errno));
	return 0;
}

int bundle_sign(const char *key_path, const char *json, char sig[BUNDLE_SIG_LEN + 1], char *err,
		size_t errlen)
{
	gnutls_privkey_t key = load_key(key_path, err, errlen);
	gnutls_pubkey_t pub = NULL;
	unsigned char id[BUNDLE_KEYID_LEN];
	gnutls_datum_t data = {(unsigned char *)json, (unsigned)strlen(json)}, s = {0};
	int rc = -1;
	if (!key)
		return -1;
	if (gnutls_pubkey_init(&pub) < 0 || gnutls_pubkey_import_privkey(pub, key, 0, 0) < 0 ||
	    bundle_key_id(pub, id) < 0 ||
	    gnutls_privkey_sign_data2(key, GNUTLS_SIGN_EDDSA_ED25519, 0, &data, &s) < 0 ||
	    s.size != BUNDLE_SIGNATURE_LEN)
		errorf(err, errlen, "%s: GnuTLS cannot sign with this key", key_path);
	else {
		bundle_sig_format(sig, id, s.data);
		rc = 0;
	}
	gnutls_free(s.data);
	gnutls_pubkey_deinit(pub);
	gnutls_privkey_deinit(key);
	return rc;
}

int bundle_make(const struct bundle_make *m, char *err, size_t errlen)
{
	struct bundle_info info = {.kind = m->kind, .acceptance = m->acceptance};
	int fds[BUNDLE_FILES_MAX], out = -1, rc = -1;
	char *json = NULL, sig[BUNDLE_SIG_LEN + 1], tmp[4096];
	snprintf(tmp, sizeof(tmp), "%s.tmp", m->out);
	if (str_copy(info.version, sizeof(info.version), m->version) < 0 ||
	    bundle_version_parse(m->version, info.version_num) < 0)
		errorf(err, errlen, "--version %s: not MAJOR.MINOR.PATCH", m->version);
	else if (str_copy(info.build, sizeof(info.build), m->build) < 0 ||
		 str_copy(info.arch, sizeof(info.arch), m->arch) < 0 ||
		 (m->name && str_copy(info.name, sizeof(info.name), m->name) < 0) ||
		 (m->kernel && str_copy(info.kernel, sizeof(info.kernel), m->kernel) < 0))
		errorf(err, errlen, "--build, --arch, --name or --kernel: too long");
	else if ((m->kind != BUNDLE_IMAGE || m->nfiles != BUNDLE_FILES ||
		  manifest_check(m->files[2], m->version, err, errlen) == 0) &&
		 open_files(m, fds, &info, err, errlen) == 0) {
		if (!(json = bundle_info_format(&info)))
			errorf(err, errlen,
			       "--build, --arch, --name or --kernel: not of the grammar of "
			       "common/bundlefmt.h");
		else if (bundle_sign(m->key, json, sig, err, errlen) == 0) {
			out = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
			if (out < 0)
				errorf(err, errlen, "%s: %s", tmp, strerror(errno));
			else if (write_bundle(out, json, sig, m, fds, &info, err, errlen) == 0)
				rc = 0;
		}
	}
	if (out >= 0 && close(out) < 0 && rc == 0)
		rc = errorf(err, errlen, "%s: %s", tmp, strerror(errno));
	if (rc == 0 && rename(tmp, m->out) < 0)
		rc = errorf(err, errlen, "%s: %s", m->out, strerror(errno));
	if (rc < 0 && out >= 0)
		unlink(tmp);
	for (size_t i = 0; i < info.nfiles; i++)
		if (fds[i] >= 0)
			close(fds[i]);
	free(json);
	return rc;
}
