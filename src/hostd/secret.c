#include "hostd/secret.h"

#include <crypt.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <gnutls/gnutls.h>
#include <gnutls/crypto.h>
#include <gnutls/x509.h>

#include "common/util.h"

#define YESCRYPT_PREFIX "$y$"
#define PEM_MAX		(64 * 1024)
#define CERT_DAYS	3653 /* ten years, leap days included */
#define HOSTNAME_MAX	64   /* ub-common-name */

/* Fills buf with len bytes from the kernel's CSPRNG (blocking until it is
 * seeded). Returns 0 or -1 with errno set. */
static int random_bytes(void *buf, size_t len)
{
	unsigned char *p = buf;
	while (len > 0) {
		ssize_t n = getrandom(p, len, 0);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -1;
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

static void hex_lower(const unsigned char *in, size_t n, char *out)
{
	static const char digits[] = "0123456789abcdef";
	for (size_t i = 0; i < n; i++) {
		out[2 * i] = digits[in[i] >> 4];
		out[2 * i + 1] = digits[in[i] & 15];
	}
	out[2 * n] = '\0';
}

/* --- passwords ---------------------------------------------------------- */

int secret_hash_password(const char *password, char *out, size_t outlen, char *err, size_t errlen)
{
	if (!password || !out || outlen == 0)
		return errorf(err, errlen, "password hash: invalid arguments");
	out[0] = '\0';

	char setting[CRYPT_GENSALT_OUTPUT_SIZE];
	/* NULL random bytes: libxcrypt draws the salt from the OS itself. */
	if (!crypt_gensalt_rn(YESCRYPT_PREFIX, 0, NULL, 0, setting, sizeof(setting)) ||
	    setting[0] == '*')
		return errorf(err, errlen, "password hash: cannot make a yescrypt salt: %s",
			      strerror(errno));

	struct crypt_data *cd = calloc(1, sizeof(*cd));
	if (!cd)
		return errorf(err, errlen, "password hash: out of memory");
	int ret = 0;
	const char *h = crypt_rn(password, setting, cd, sizeof(*cd));
	if (!h || h[0] == '*' || strncmp(h, YESCRYPT_PREFIX, 3) != 0)
		ret = errorf(err, errlen, "password hash: yescrypt failed: %s", strerror(errno));
	else if (str_copy(out, outlen, h) < 0) {
		out[0] = '\0';
		ret = errorf(err, errlen, "password hash: output buffer too small");
	}
	explicit_bzero(cd, sizeof(*cd));
	free(cd);
	return ret;
}

/* Equal-length comparison whose time does not depend on where the strings
 * differ. */
static int ct_equal(const char *a, const char *b, size_t n)
{
	volatile unsigned char diff = 0;
	for (size_t i = 0; i < n; i++)
		diff |= (unsigned char)a[i] ^ (unsigned char)b[i];
	return diff == 0;
}

static atomic_ulong password_checks;

unsigned long secret_password_checks(void)
{
	return atomic_load(&password_checks);
}

int secret_check_password(const char *password, const char *hash)
{
	atomic_fetch_add(&password_checks, 1);
	if (!password || !hash || strncmp(hash, YESCRYPT_PREFIX, 3) != 0)
		return 0;
	size_t hlen = strnlen(hash, CRYPT_OUTPUT_SIZE);
	if (hlen >= CRYPT_OUTPUT_SIZE)
		return 0;

	struct crypt_data *cd = calloc(1, sizeof(*cd));
	if (!cd)
		return 0;
	int ok = 0;
	const char *h = crypt_rn(password, hash, cd, sizeof(*cd));
	if (h && h[0] != '*' && strlen(h) == hlen)
		ok = ct_equal(h, hash, hlen);
	explicit_bzero(cd, sizeof(*cd));
	free(cd);
	return ok;
}

/* --- random passwords and tokens ---------------------------------------- */

/* No 0/O, 1/l/I: 25 + 24 + 8 = 57 characters. */
static const char password_alphabet[] = "abcdefghijkmnopqrstuvwxyz"
					"ABCDEFGHJKLMNPQRSTUVWXYZ"
					"23456789";

int secret_random_password(char *out, size_t outlen, size_t len)
{
	if (!out || len >= outlen)
		return -1;
	const unsigned n = sizeof(password_alphabet) - 1;
	/* Bytes at or above the largest multiple of n are rejected, so every
	 * character is equally likely. */
	const unsigned limit = 256 - 256 % n;
	unsigned char buf[64];
	size_t avail = 0, pos = 0;
	for (size_t i = 0; i < len;) {
		if (pos == avail) {
			if (random_bytes(buf, sizeof(buf)) < 0) {
				explicit_bzero(out, outlen);
				explicit_bzero(buf, sizeof(buf));
				return -1;
			}
			avail = sizeof(buf);
			pos = 0;
		}
		unsigned char b = buf[pos++];
		if (b >= limit)
			continue;
		out[i++] = password_alphabet[b % n];
	}
	out[len] = '\0';
	explicit_bzero(buf, sizeof(buf));
	return 0;
}

int secret_token(char out[65])
{
	unsigned char raw[32];
	if (random_bytes(raw, sizeof(raw)) < 0) {
		out[0] = '\0';
		return -1;
	}
	hex_lower(raw, sizeof(raw), out);
	explicit_bzero(raw, sizeof(raw));
	return 0;
}

void secret_sha256_hex(const void *data, size_t len, char out[65])
{
	unsigned char md[32];
	if (gnutls_hash_fast(GNUTLS_DIG_SHA256, data ? data : "", data ? len : 0, md) < 0) {
		/* Cannot happen with a working GnuTLS; never matches a real hash. */
		out[0] = '\0';
		return;
	}
	hex_lower(md, sizeof(md), out);
}

/* --- TLS identity --------------------------------------------------------- */

static int fingerprint_of(gnutls_x509_crt_t crt, char fingerprint[96])
{
	unsigned char md[32];
	size_t n = sizeof(md);
	if (gnutls_x509_crt_get_fingerprint(crt, GNUTLS_DIG_SHA256, md, &n) < 0 || n != 32)
		return -1;
	static const char digits[] = "0123456789ABCDEF";
	for (size_t i = 0; i < 32; i++) {
		fingerprint[3 * i] = digits[md[i] >> 4];
		fingerprint[3 * i + 1] = digits[md[i] & 15];
		fingerprint[3 * i + 2] = i == 31 ? '\0' : ':';
	}
	return 0;
}

int secret_cert_fingerprint(const char *cert_pem, char fingerprint[96], char *err, size_t errlen)
{
	fingerprint[0] = '\0';
	if (!cert_pem)
		return errorf(err, errlen, "certificate: missing");
	gnutls_x509_crt_t crt;
	if (gnutls_x509_crt_init(&crt) < 0)
		return errorf(err, errlen, "certificate: out of memory");
	gnutls_datum_t d = {(unsigned char *)cert_pem, (unsigned)strlen(cert_pem)};
	int r = gnutls_x509_crt_import(crt, &d, GNUTLS_X509_FMT_PEM);
	int ret = 0;
	if (r < 0)
		ret = errorf(err, errlen, "certificate: %s", gnutls_strerror(r));
	else if (fingerprint_of(crt, fingerprint) < 0)
		ret = errorf(err, errlen, "certificate: cannot compute the fingerprint");
	gnutls_x509_crt_deinit(crt);
	return ret;
}

static int hostname_ok(const char *h)
{
	size_t n = h ? strlen(h) : 0;
	if (n == 0 || n > HOSTNAME_MAX)
		return 0;
	for (size_t i = 0; i < n; i++) {
		char c = h[i];
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		      c == '-' || c == '.'))
			return 0;
	}
	return 1;
}

/* Copies a GnuTLS datum into a malloc'ed NUL-terminated string, then wipes
 * and frees the datum. */
static char *datum_to_string(gnutls_datum_t *d)
{
	char *s = malloc((size_t)d->size + 1);
	if (s) {
		memcpy(s, d->data, d->size);
		s[d->size] = '\0';
	}
	explicit_bzero(d->data, d->size);
	gnutls_free(d->data);
	d->data = NULL;
	d->size = 0;
	return s;
}

/* Writes data to dir/name through a temporary file in dir that is fsync'ed
 * and renamed into place, so the file is either the old or the new one. The
 * directory is fsync'ed afterwards. Returns 0 or -1 with errno set. */
static int write_atomic(const char *dir, const char *name, const char *data, mode_t mode)
{
	char path[4096], tmp[4096];
	if ((size_t)snprintf(path, sizeof(path), "%s/%s", dir, name) >= sizeof(path) ||
	    (size_t)snprintf(tmp, sizeof(tmp), "%s/.%s.tmp-XXXXXX", dir, name) >= sizeof(tmp)) {
		errno = ENAMETOOLONG;
		return -1;
	}
	int fd = mkostemp(tmp, O_CLOEXEC);
	if (fd < 0)
		return -1;
	size_t len = strlen(data);
	const char *p = data;
	int e = 0;
	if (fchmod(fd, mode) < 0)
		e = errno;
	while (!e && len > 0) {
		ssize_t n = write(fd, p, len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			e = errno;
			break;
		}
		p += n;
		len -= (size_t)n;
	}
	if (!e && fsync(fd) < 0)
		e = errno;
	if (close(fd) < 0 && !e)
		e = errno;
	if (!e && rename(tmp, path) < 0)
		e = errno;
	if (e) {
		unlink(tmp);
		errno = e;
		return -1;
	}
	int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd >= 0) {
		fsync(dfd);
		close(dfd);
	}
	return 0;
}

/* 1 when the certificate's public key is the private key's. */
static int key_matches(gnutls_x509_crt_t crt, gnutls_x509_privkey_t key)
{
	unsigned char a[64], b[64];
	size_t na = sizeof(a), nb = sizeof(b);
	if (gnutls_x509_crt_get_key_id(crt, GNUTLS_KEYID_USE_SHA256, a, &na) < 0 ||
	    gnutls_x509_privkey_get_key_id(key, GNUTLS_KEYID_USE_SHA256, b, &nb) < 0)
		return 0;
	return na == nb && memcmp(a, b, na) == 0;
}

/* Parses a PEM certificate and key into crt and key; NULL when they are a
 * pair the TLS server can use (both parse, the key is the certificate's),
 * whatever the certificate's dates; else what is wrong. */
static const char *pair_unusable(gnutls_x509_crt_t crt, gnutls_x509_privkey_t key,
				 const gnutls_datum_t *cd, const gnutls_datum_t *kd)
{
	if (gnutls_x509_crt_import(crt, cd, GNUTLS_X509_FMT_PEM) < 0)
		return "the certificate is not a PEM X.509 certificate";
	if (gnutls_x509_privkey_import(key, kd, GNUTLS_X509_FMT_PEM) < 0)
		return "the key is not a PEM private key";
	if (!key_matches(crt, key))
		return "the key is not the certificate's";
	/* and what the TLS server will do with them */
	gnutls_certificate_credentials_t cred;
	if (gnutls_certificate_allocate_credentials(&cred) < 0)
		return "out of memory";
	int rc = gnutls_certificate_set_x509_key_mem(cred, cd, kd, GNUTLS_X509_FMT_PEM);
	gnutls_certificate_free_credentials(cred);
	return rc < 0 ? "GnuTLS cannot use this certificate and key as a server's" : NULL;
}

/* NULL when the certificate is valid at `now` (5 minutes of clock skew
 * allowed for its start), else why not. */
static const char *date_problem(gnutls_x509_crt_t crt, time_t now)
{
	time_t exp = gnutls_x509_crt_get_expiration_time(crt);
	if (exp == (time_t)-1 || exp <= now)
		return "the certificate has expired";
	if (gnutls_x509_crt_get_activation_time(crt) > now + 300)
		return "the certificate is not valid yet";
	return NULL;
}

/* pair_unusable, and the certificate valid now */
static const char *pair_problem(gnutls_x509_crt_t crt, gnutls_x509_privkey_t key,
				const gnutls_datum_t *cd, const gnutls_datum_t *kd)
{
	const char *why = pair_unusable(crt, key, cd, kd);
	return why ? why : date_problem(crt, time(NULL));
}

enum secret_tls_verdict secret_tls_judge(const char *key_pem, const char *cert_pem, time_t now,
					 char *why, size_t whylen)
{
	snprintf(why, whylen, "%s", "");
	if (!key_pem && !cert_pem)
		return SECRET_TLS_CREATE;
	if (!key_pem || !cert_pem) {
		snprintf(why, whylen, "%s",
			 key_pem ? "host.crt is missing" : "host.key is missing");
		return SECRET_TLS_REPLACE;
	}
	gnutls_x509_crt_t crt = NULL;
	gnutls_x509_privkey_t key = NULL;
	gnutls_datum_t kd = {(unsigned char *)key_pem, (unsigned)strnlen(key_pem, PEM_MAX)};
	gnutls_datum_t cd = {(unsigned char *)cert_pem, (unsigned)strnlen(cert_pem, PEM_MAX)};
	enum secret_tls_verdict v = SECRET_TLS_KEEP;
	const char *problem = "out of memory";
	if (kd.size >= PEM_MAX || cd.size >= PEM_MAX)
		problem = "the key or the certificate is over 64 KiB";
	else if (gnutls_x509_crt_init(&crt) >= 0 && gnutls_x509_privkey_init(&key) >= 0)
		problem = pair_unusable(crt, key, &cd, &kd);
	if (problem) {
		v = SECRET_TLS_REPLACE;
	} else if ((problem = date_problem(crt, now))) {
		v = SECRET_TLS_KEEP_WARN;
	}
	if (problem)
		snprintf(why, whylen, "%s", problem);
	if (key)
		gnutls_x509_privkey_deinit(key);
	if (crt)
		gnutls_x509_crt_deinit(crt);
	return v;
}

int secret_tls_install(const char *dir, const char *key_pem, const char *cert_pem,
		       char fingerprint[96], char *err, size_t errlen)
{
	gnutls_x509_crt_t crt = NULL;
	gnutls_x509_privkey_t key = NULL;
	gnutls_datum_t kd = {(unsigned char *)key_pem, (unsigned)strnlen(key_pem, PEM_MAX)};
	gnutls_datum_t cd = {(unsigned char *)cert_pem, (unsigned)strnlen(cert_pem, PEM_MAX)};
	int ret = -1;
	const char *why = "out of memory";
	if (kd.size >= PEM_MAX || cd.size >= PEM_MAX) /* load_identity reads no more */
		why = "the key or the certificate is over 64 KiB";
	else if (gnutls_x509_crt_init(&crt) >= 0 && gnutls_x509_privkey_init(&key) >= 0)
		why = pair_problem(crt, key, &cd, &kd);
	if (!why && fingerprint_of(crt, fingerprint) < 0)
		why = "cannot compute the fingerprint";
	if (why)
		errorf(err, errlen, "%s", why);
	else if (write_atomic(dir, "host.key", key_pem, 0600) < 0 ||
		 write_atomic(dir, "host.crt", cert_pem, 0644) < 0)
		errorf(err, errlen, "%s: cannot write the TLS identity: %s", dir, strerror(errno));
	else
		ret = 0;
	if (key)
		gnutls_x509_privkey_deinit(key);
	if (crt)
		gnutls_x509_crt_deinit(crt);
	return ret;
}

/* Reads dir/name (at most PEM_MAX bytes) into *out (NULL when it does not
 * exist). A file too big is read as "" (present, and not PEM). Returns 0,
 * or -1 with err filled on any other error. */
static int read_pem(const char *path, char **out, char *err, size_t errlen)
{
	size_t len = 0;
	*out = read_file(path, PEM_MAX, &len);
	if (*out)
		return 0;
	if (errno == ENOENT)
		return 0;
	if (errno == EFBIG) {
		*out = strdup("");
		return *out ? 0 : errorf(err, errlen, "TLS identity: out of memory");
	}
	return errorf(err, errlen, "%s: %s", path, strerror(errno));
}

static void free_pem(char **pem)
{
	if (*pem) {
		explicit_bzero(*pem, strlen(*pem));
		free(*pem);
		*pem = NULL;
	}
}

/* Renames dir/name, if it exists, to dir/name.unusable-SECONDS[-N] (never
 * over another file). Returns 0, or -1 with errno set. */
static int set_aside(const char *dir, const char *name, time_t now, char *kept, size_t keptlen)
{
	char from[4096], to[4096];
	kept[0] = '\0';
	if ((size_t)snprintf(from, sizeof(from), "%s/%s", dir, name) >= sizeof(from)) {
		errno = ENAMETOOLONG;
		return -1;
	}
	for (int n = 0; n < 100; n++) {
		int len =
		    n ? snprintf(to, sizeof(to), "%s.unusable-%lld-%d", from, (long long)now, n)
		      : snprintf(to, sizeof(to), "%s.unusable-%lld", from, (long long)now);
		if (len < 0 || (size_t)len >= sizeof(to)) {
			errno = ENAMETOOLONG;
			return -1;
		}
		if (renameat2(AT_FDCWD, from, AT_FDCWD, to, RENAME_NOREPLACE) == 0) {
			snprintf(kept, keptlen, "%s", strrchr(to, '/') + 1);
			return 0;
		}
		if (errno == ENOENT)
			return 0;
		if (errno != EEXIST)
			return -1;
	}
	errno = EEXIST;
	return -1;
}

#define GT(call, what)                                                                             \
	do {                                                                                       \
		int r_ = (call);                                                                   \
		if (r_ < 0) {                                                                      \
			ret = errorf(err, errlen, "TLS identity: %s: %s", what,                    \
				     gnutls_strerror(r_));                                         \
			goto out;                                                                  \
		}                                                                                  \
	} while (0)

/* Makes a new key and self-signed certificate (PEM, in *key_pem and
 * *cert_pem). */
static int generate_identity(const char *hostname, char **key_pem, char **cert_pem,
			     char fingerprint[96], char *err, size_t errlen)
{
	int ret = -1;
	gnutls_x509_crt_t crt = NULL;
	gnutls_x509_privkey_t key = NULL;
	gnutls_datum_t kout = {NULL, 0}, cout = {NULL, 0};
	unsigned char serial[16], keyid[64];
	size_t keyid_len = sizeof(keyid);
	time_t now = time(NULL);

	GT(gnutls_x509_privkey_init(&key), "key");
	GT(gnutls_x509_privkey_generate(key, GNUTLS_PK_ECDSA,
					GNUTLS_CURVE_TO_BITS(GNUTLS_ECC_CURVE_SECP256R1), 0),
	   "key generation");
	GT(gnutls_x509_crt_init(&crt), "certificate");
	GT(gnutls_x509_crt_set_version(crt, 3), "version");
	if (random_bytes(serial, sizeof(serial)) < 0) {
		ret = errorf(err, errlen, "TLS identity: getrandom: %s", strerror(errno));
		goto out;
	}
	/* Positive, and 16 bytes long in DER (no leading zero byte). */
	serial[0] = (unsigned char)((serial[0] & 0x7f) | 0x40);
	GT(gnutls_x509_crt_set_serial(crt, serial, sizeof(serial)), "serial");
	GT(gnutls_x509_crt_set_key(crt, key), "public key");
	GT(gnutls_x509_crt_set_dn_by_oid(crt, GNUTLS_OID_X520_COMMON_NAME, 0, hostname,
					 (unsigned)strlen(hostname)),
	   "common name");
	GT(gnutls_x509_crt_set_subject_alt_name(crt, GNUTLS_SAN_DNSNAME, hostname,
						(unsigned)strlen(hostname), GNUTLS_FSAN_SET),
	   "subjectAltName");
	GT(gnutls_x509_crt_set_basic_constraints(crt, 0, -1), "basicConstraints");
	GT(gnutls_x509_crt_set_key_usage(crt, GNUTLS_KEY_DIGITAL_SIGNATURE), "keyUsage");
	GT(gnutls_x509_crt_set_key_purpose_oid(crt, GNUTLS_KP_TLS_WWW_SERVER, 0),
	   "extendedKeyUsage");
	GT(gnutls_x509_privkey_get_key_id(key, 0, keyid, &keyid_len), "key id");
	GT(gnutls_x509_crt_set_subject_key_id(crt, keyid, keyid_len), "subjectKeyIdentifier");
	GT(gnutls_x509_crt_set_activation_time(crt, now - 3600), "activation time");
	GT(gnutls_x509_crt_set_expiration_time(crt, now + (time_t)CERT_DAYS * 24 * 3600),
	   "expiration time");
	GT(gnutls_x509_crt_sign2(crt, crt, key, GNUTLS_DIG_SHA256, 0), "signature");
	GT(gnutls_x509_privkey_export2(key, GNUTLS_X509_FMT_PEM, &kout), "key export");
	GT(gnutls_x509_crt_export2(crt, GNUTLS_X509_FMT_PEM, &cout), "certificate export");
	if (fingerprint_of(crt, fingerprint) < 0) {
		ret = errorf(err, errlen, "TLS identity: cannot compute the fingerprint");
		goto out;
	}
	*key_pem = datum_to_string(&kout);
	*cert_pem = datum_to_string(&cout);
	if (!*key_pem || !*cert_pem) {
		free(*key_pem);
		free(*cert_pem);
		*key_pem = *cert_pem = NULL;
		ret = errorf(err, errlen, "TLS identity: out of memory");
		goto out;
	}
	ret = 0;
out:
	if (kout.data) {
		explicit_bzero(kout.data, kout.size);
		gnutls_free(kout.data);
	}
	gnutls_free(cout.data);
	if (crt)
		gnutls_x509_crt_deinit(crt);
	if (key)
		gnutls_x509_privkey_deinit(key);
	return ret;
}

int secret_tls_identity(const char *dir, const char *hostname, char **key_pem, char **cert_pem,
			char fingerprint[96], int *created, char *warning, size_t warnlen,
			char *err, size_t errlen)
{
	*key_pem = *cert_pem = NULL;
	fingerprint[0] = '\0';
	*created = 0;
	snprintf(warning, warnlen, "%s", "");
	if (!dir || !*dir)
		return errorf(err, errlen, "TLS identity: no directory");
	if (!hostname_ok(hostname))
		return errorf(err, errlen, "TLS identity: invalid host name");

	if (mkdir(dir, 0700) < 0 && errno != EEXIST)
		return errorf(err, errlen, "%s: %s", dir, strerror(errno));
	struct stat st;
	if (stat(dir, &st) < 0)
		return errorf(err, errlen, "%s: %s", dir, strerror(errno));
	if (!S_ISDIR(st.st_mode))
		return errorf(err, errlen, "%s: not a directory", dir);

	char kpath[4096], cpath[4096];
	if ((size_t)snprintf(kpath, sizeof(kpath), "%s/host.key", dir) >= sizeof(kpath) ||
	    (size_t)snprintf(cpath, sizeof(cpath), "%s/host.crt", dir) >= sizeof(cpath))
		return errorf(err, errlen, "%s: path too long", dir);

	char *kbuf = NULL, *cbuf = NULL;
	if (read_pem(kpath, &kbuf, err, errlen) < 0 || read_pem(cpath, &cbuf, err, errlen) < 0) {
		free_pem(&kbuf);
		return -1;
	}
	char why[128];
	time_t now = time(NULL);
	enum secret_tls_verdict v = secret_tls_judge(kbuf, cbuf, now, why, sizeof(why));
	if (v == SECRET_TLS_KEEP || v == SECRET_TLS_KEEP_WARN) {
		if (secret_cert_fingerprint(cbuf, fingerprint, err, errlen) < 0) {
			free_pem(&kbuf);
			free_pem(&cbuf);
			return -1;
		}
		/* The files as they are: a key re-exported by GnuTLS from PKCS#8
		 * can lose its curve (then nothing reads it back); the judge
		 * checked them with the same call as the TLS server. */
		*key_pem = kbuf;
		*cert_pem = cbuf;
		if (v == SECRET_TLS_KEEP_WARN)
			snprintf(warning, warnlen,
				 "%s: %s; served as it is until a new one is installed", cpath,
				 why);
		return 0;
	}
	free_pem(&kbuf);
	free_pem(&cbuf);

	/* Something is there but cannot be served: kept under another name,
	 * never overwritten (an installed key is never destroyed). */
	char kept_key[300] = "", kept_crt[300] = "";
	if (v == SECRET_TLS_REPLACE &&
	    (set_aside(dir, "host.key", now, kept_key, sizeof(kept_key)) < 0 ||
	     set_aside(dir, "host.crt", now, kept_crt, sizeof(kept_crt)) < 0))
		return errorf(err, errlen, "%s: %s, and it cannot be set aside: %s", dir, why,
			      strerror(errno));
	if (generate_identity(hostname, key_pem, cert_pem, fingerprint, err, errlen) < 0)
		return -1;
	/* The key first: a crash between the two renames leaves a new key with
	 * the old certificate, which do not match, so the pair is made again
	 * (the new key set aside). */
	if (write_atomic(dir, "host.key", *key_pem, 0600) < 0 ||
	    write_atomic(dir, "host.crt", *cert_pem, 0644) < 0) {
		int e = errno;
		free_pem(key_pem);
		free_pem(cert_pem);
		fingerprint[0] = '\0';
		return errorf(err, errlen, "%s: cannot write the TLS identity: %s", dir,
			      strerror(e));
	}
	if (v == SECRET_TLS_REPLACE)
		snprintf(warning, warnlen, "%s: %s; a new pair was made, the old kept as %s%s%s",
			 dir, why, kept_key[0] ? kept_key : "",
			 kept_key[0] && kept_crt[0] ? " and " : "", kept_crt);
	*created = 1;
	return 0;
}

/* --- the dummy hash ------------------------------------------------------- */

static char dummy_hash[CRYPT_OUTPUT_SIZE];
static pthread_once_t dummy_once = PTHREAD_ONCE_INIT;

static void dummy_make(void)
{
	char pw[32], err[128];
	if (secret_random_password(pw, sizeof(pw), 24) < 0 ||
	    secret_hash_password(pw, dummy_hash, sizeof(dummy_hash), err, sizeof(err)) < 0)
		dummy_hash[0] = '\0';
	explicit_bzero(pw, sizeof(pw));
}

int secret_dummy_init(void)
{
	pthread_once(&dummy_once, dummy_make);
	return dummy_hash[0] ? 0 : -1;
}

void secret_check_dummy(const char *password)
{
	secret_dummy_init();
	secret_check_password(password, dummy_hash);
}
