#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "rm_rf.h"

#include <crypt.h>
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <gnutls/gnutls.h>
#include <gnutls/crypto.h>
#include <gnutls/x509.h>

#include "common/util.h"
#include "hostd/secret.h"

#define ALPHABET "abcdefghijkmnopqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789"

/* --- helpers -------------------------------------------------------------- */

struct tmp {
	char root[64];
	char dir[128];
};

static void tmp_make(struct tmp *t)
{
	strcpy(t->root, "/tmp/keel-secret-XXXXXX");
	assert_non_null(mkdtemp(t->root));
	snprintf(t->dir, sizeof(t->dir), "%s/tls", t->root);
}

static void tmp_free(struct tmp *t)
{
	rm_rf(t->root);
}

static void path_in(char *out, size_t n, const char *dir, const char *name)
{
	snprintf(out, n, "%s/%s", dir, name);
}

static mode_t mode_of(const char *dir, const char *name)
{
	char p[256];
	path_in(p, sizeof(p), dir, name);
	struct stat st;
	assert_int_equal(stat(p, &st), 0);
	return st.st_mode & 07777;
}

static char *slurp(const char *dir, const char *name)
{
	char p[256];
	path_in(p, sizeof(p), dir, name);
	char *s = read_file(p, 1 << 20, NULL);
	assert_non_null(s);
	return s;
}

static void put(const char *dir, const char *name, const char *data)
{
	char p[256];
	path_in(p, sizeof(p), dir, name);
	assert_int_equal(write_file(p, data, strlen(data), 0600), 0);
}

static int is_fingerprint(const char *f)
{
	if (strlen(f) != 95)
		return 0;
	for (int i = 0; i < 95; i++) {
		if (i % 3 == 2) {
			if (f[i] != ':')
				return 0;
		} else if (!strchr("0123456789ABCDEF", f[i])) {
			return 0;
		}
	}
	return 1;
}

/* The fingerprint computed without the module: DER of the PEM, SHA-256. */
static void independent_fingerprint(const char *pem, char out[96])
{
	gnutls_x509_crt_t crt;
	assert_int_equal(gnutls_x509_crt_init(&crt), 0);
	gnutls_datum_t in = {(unsigned char *)pem, (unsigned)strlen(pem)};
	assert_int_equal(gnutls_x509_crt_import(crt, &in, GNUTLS_X509_FMT_PEM), 0);
	gnutls_datum_t der;
	assert_int_equal(gnutls_x509_crt_export2(crt, GNUTLS_X509_FMT_DER, &der), 0);
	unsigned char md[32];
	assert_int_equal(gnutls_hash_fast(GNUTLS_DIG_SHA256, der.data, der.size, md), 0);
	gnutls_free(der.data);
	gnutls_x509_crt_deinit(crt);
	for (int i = 0; i < 32; i++)
		sprintf(out + 3 * i, i == 31 ? "%02X" : "%02X:", md[i]);
}

static gnutls_x509_crt_t load_crt(const char *pem)
{
	gnutls_x509_crt_t crt;
	assert_int_equal(gnutls_x509_crt_init(&crt), 0);
	gnutls_datum_t in = {(unsigned char *)pem, (unsigned)strlen(pem)};
	assert_int_equal(gnutls_x509_crt_import(crt, &in, GNUTLS_X509_FMT_PEM), 0);
	return crt;
}

/* 1 when the PEM key is the PEM certificate's. */
static int pair_matches(const char *key_pem, const char *cert_pem)
{
	gnutls_x509_crt_t crt = load_crt(cert_pem);
	gnutls_x509_privkey_t key;
	assert_int_equal(gnutls_x509_privkey_init(&key), 0);
	gnutls_datum_t in = {(unsigned char *)key_pem, (unsigned)strlen(key_pem)};
	assert_int_equal(gnutls_x509_privkey_import(key, &in, GNUTLS_X509_FMT_PEM), 0);
	unsigned char a[64], b[64];
	size_t na = sizeof(a), nb = sizeof(b);
	assert_int_equal(gnutls_x509_crt_get_key_id(crt, 0, a, &na), 0);
	assert_int_equal(gnutls_x509_privkey_get_key_id(key, 0, b, &nb), 0);
	gnutls_x509_privkey_deinit(key);
	gnutls_x509_crt_deinit(crt);
	return na == nb && memcmp(a, b, na) == 0;
}

struct ident {
	char *key, *cert;
	char fp[96];
	int created;
	char warning[512];
};

static int ident_get(const char *dir, const char *host, struct ident *id)
{
	char err[256] = "";
	memset(id->fp, 'x', sizeof(id->fp));
	id->created = -1;
	memset(id->warning, 'x', sizeof(id->warning));
	int r = secret_tls_identity(dir, host, &id->key, &id->cert, id->fp, &id->created,
				    id->warning, sizeof(id->warning), err, sizeof(err));
	if (r == 0) {
		assert_non_null(id->key);
		assert_non_null(id->cert);
		assert_true(is_fingerprint(id->fp));
	} else {
		assert_int_equal(r, -1);
		assert_true(err[0] != '\0');
		assert_null(id->key);
		assert_null(id->cert);
	}
	return r;
}

/* The number of files in dir whose name starts with `prefix`. */
static int count_files(const char *dir, const char *prefix)
{
	DIR *d = opendir(dir);
	assert_non_null(d);
	int n = 0;
	struct dirent *e;
	while ((e = readdir(d)))
		n += strncmp(e->d_name, prefix, strlen(prefix)) == 0;
	closedir(d);
	return n;
}

static void ident_free(struct ident *id)
{
	free(id->key);
	free(id->cert);
	id->key = id->cert = NULL;
}

/* --- passwords ------------------------------------------------------------ */

static void test_hash_and_check(void **state)
{
	(void)state;
	char h[256], err[128] = "";
	assert_int_equal(secret_hash_password("correct horse", h, sizeof(h), err, sizeof(err)), 0);
	assert_int_equal(strncmp(h, "$y$", 3), 0);
	assert_int_equal(secret_check_password("correct horse", h), 1);
	assert_int_equal(secret_check_password("correct horsf", h), 0);
	assert_int_equal(secret_check_password("correct hors", h), 0);
	assert_int_equal(secret_check_password("correct horse ", h), 0);
	assert_int_equal(secret_check_password("", h), 0);
	assert_int_equal(secret_check_password(NULL, h), 0);
	assert_int_equal(secret_check_password("correct horse", NULL), 0);
}

static void test_hash_empty_password(void **state)
{
	(void)state;
	char h[256], err[128] = "";
	assert_int_equal(secret_hash_password("", h, sizeof(h), err, sizeof(err)), 0);
	assert_int_equal(strncmp(h, "$y$", 3), 0);
	assert_int_equal(secret_check_password("", h), 1);
	assert_int_equal(secret_check_password("x", h), 0);
}

static void test_hash_salted(void **state)
{
	(void)state;
	char a[256], b[256], err[128] = "";
	assert_int_equal(secret_hash_password("same", a, sizeof(a), err, sizeof(err)), 0);
	assert_int_equal(secret_hash_password("same", b, sizeof(b), err, sizeof(err)), 0);
	assert_string_not_equal(a, b);
	assert_int_equal(secret_check_password("same", a), 1);
	assert_int_equal(secret_check_password("same", b), 1);
}

static void test_hash_errors(void **state)
{
	(void)state;
	char h[16], err[128] = "";
	assert_int_equal(secret_hash_password("pw", h, sizeof(h), err, sizeof(err)), -1);
	assert_true(err[0] != '\0');
	assert_string_equal(h, "");
	err[0] = '\0';
	assert_int_equal(secret_hash_password(NULL, h, sizeof(h), err, sizeof(err)), -1);
	assert_true(err[0] != '\0');
}

/* A hash of another scheme that crypt(3) itself would accept. */
static void other_scheme(const char *prefix, const char *pw, char *out, size_t n)
{
	char setting[CRYPT_GENSALT_OUTPUT_SIZE];
	assert_non_null(crypt_gensalt_rn(prefix, 0, NULL, 0, setting, sizeof(setting)));
	struct crypt_data *cd = calloc(1, sizeof(*cd));
	assert_non_null(cd);
	const char *h = crypt_rn(pw, setting, cd, sizeof(*cd));
	assert_non_null(h);
	assert_int_equal(strncmp(h, prefix, strlen(prefix)), 0);
	assert_int_equal(str_copy(out, n, h), 0);
	free(cd);
}

static void test_check_rejects_other_schemes(void **state)
{
	(void)state;
	char h[256];
	other_scheme("$1$", "secret", h, sizeof(h));
	assert_int_equal(secret_check_password("secret", h), 0);
	other_scheme("$6$", "secret", h, sizeof(h));
	assert_int_equal(secret_check_password("secret", h), 0);
	/* Leading whitespace does not sneak an md5 hash past the prefix check. */
	other_scheme("$1$", "secret", h + 1, sizeof(h) - 1);
	h[0] = ' ';
	assert_int_equal(secret_check_password("secret", h), 0);
}

static void test_check_rejects_garbage(void **state)
{
	(void)state;
	static const char *bad[] = {
	    "",
	    "*",
	    "*0",
	    "$y$",
	    "$y$$",
	    "$y$j9T$",
	    "$y$garbage",
	    "not a hash",
	    "secret",
	    "$y$j9T$$",
	    "$y$zzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzz$abc",
	};
	for (size_t i = 0; i < ARRAY_SIZE(bad); i++)
		assert_int_equal(secret_check_password("secret", bad[i]), 0);

	/* A real hash, truncated, extended or with one character changed. */
	char h[256], err[128] = "";
	assert_int_equal(secret_hash_password("secret", h, sizeof(h), err, sizeof(err)), 0);
	size_t n = strlen(h);
	char m[300];
	strcpy(m, h);
	m[n - 1] = m[n - 1] == 'A' ? 'B' : 'A';
	assert_int_equal(secret_check_password("secret", m), 0);
	strcpy(m, h);
	m[n - 1] = '\0';
	assert_int_equal(secret_check_password("secret", m), 0);
	snprintf(m, sizeof(m), "%sA", h);
	assert_int_equal(secret_check_password("secret", m), 0);
	/* The setting alone (no hash part) is no hash. */
	strcpy(m, h);
	*strrchr(m, '$') = '\0';
	assert_int_equal(secret_check_password("secret", m), 0);

	char huge[1000];
	memset(huge, 'a', sizeof(huge) - 1);
	huge[sizeof(huge) - 1] = '\0';
	memcpy(huge, h, n);
	assert_int_equal(secret_check_password("secret", huge), 0);
}

/* --- random passwords and tokens -------------------------------------------- */

static void test_random_password(void **state)
{
	(void)state;
	char a[33], b[33];
	memset(a, 'x', sizeof(a));
	assert_int_equal(secret_random_password(a, sizeof(a), 20), 0);
	assert_int_equal(strlen(a), 20);
	assert_int_equal(strspn(a, ALPHABET), 20);
	assert_null(strpbrk(a, "0O1lI"));
	assert_int_equal(secret_random_password(b, sizeof(b), 20), 0);
	assert_string_not_equal(a, b);

	assert_int_equal(secret_random_password(a, sizeof(a), 32), 0);
	assert_int_equal(strlen(a), 32);
	assert_int_equal(secret_random_password(a, sizeof(a), 0), 0);
	assert_string_equal(a, "");
	assert_int_equal(secret_random_password(a, sizeof(a), 33), -1);
	assert_int_equal(secret_random_password(a, 0, 0), -1);
}

static void test_random_password_alphabet(void **state)
{
	(void)state;
	/* Every character of the alphabet shows up, nothing else does, and
	 * the counts are uniform: a chi-square statistic (56 degrees of
	 * freedom, mean 56) above 150 happens by chance with a probability
	 * near 1e-11, while taking a byte modulo 57 gives about 700. */
	static char buf[57 * 1000 + 1];
	const size_t len = sizeof(buf) - 1;
	assert_int_equal(secret_random_password(buf, sizeof(buf), len), 0);
	assert_int_equal(strlen(buf), len);
	assert_int_equal(strspn(buf, ALPHABET), len);
	size_t count[256] = {0};
	for (size_t i = 0; i < len; i++)
		count[(unsigned char)buf[i]]++;
	double expected = (double)len / 57, chi2 = 0;
	for (const char *p = ALPHABET; *p; p++) {
		double d = (double)count[(unsigned char)*p] - expected;
		chi2 += d * d / expected;
	}
	assert_true(chi2 < 150);
}

static void test_token(void **state)
{
	(void)state;
	char a[65], b[65];
	assert_int_equal(secret_token(a), 0);
	assert_int_equal(strlen(a), 64);
	assert_int_equal(strspn(a, "0123456789abcdef"), 64);
	assert_int_equal(secret_token(b), 0);
	assert_string_not_equal(a, b);
}

static void test_sha256_hex(void **state)
{
	(void)state;
	char h[65];
	secret_sha256_hex("abc", 3, h);
	assert_string_equal(h, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
	secret_sha256_hex("", 0, h);
	assert_string_equal(h, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
	secret_sha256_hex("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq", 56, h);
	assert_string_equal(h, "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
	/* Only `len` bytes count. */
	secret_sha256_hex("abcdef", 3, h);
	assert_string_equal(h, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

/* --- TLS identity ----------------------------------------------------------- */

static void test_tls_create_then_keep(void **state)
{
	(void)state;
	struct tmp t;
	tmp_make(&t);
	struct ident a, b;
	assert_int_equal(ident_get(t.dir, "keel-01.example.org", &a), 0);
	assert_int_equal(a.created, 1);
	assert_int_equal(mode_of(t.root, "tls"), 0700);
	assert_int_equal(mode_of(t.dir, "host.key"), 0600);
	assert_int_equal(mode_of(t.dir, "host.crt"), 0644);

	/* The files hold what was returned, and nothing else is left behind. */
	char *k = slurp(t.dir, "host.key"), *c = slurp(t.dir, "host.crt");
	assert_string_equal(k, a.key);
	assert_string_equal(c, a.cert);
	free(k);
	free(c);
	DIR *d = opendir(t.dir);
	assert_non_null(d);
	int n = 0;
	struct dirent *e;
	while ((e = readdir(d)))
		n += strcmp(e->d_name, ".") && strcmp(e->d_name, "..");
	closedir(d);
	assert_int_equal(n, 2);

	assert_non_null(strstr(a.key, "-----BEGIN "));
	assert_non_null(strstr(a.cert, "-----BEGIN CERTIFICATE-----"));
	assert_true(pair_matches(a.key, a.cert));
	char fp[96];
	independent_fingerprint(a.cert, fp);
	assert_string_equal(fp, a.fp);

	assert_int_equal(ident_get(t.dir, "keel-01.example.org", &b), 0);
	assert_int_equal(b.created, 0);
	assert_string_equal(b.fp, a.fp);
	assert_string_equal(b.key, a.key);
	assert_string_equal(b.cert, a.cert);
	ident_free(&b);

	/* Kept even when asked with another host name. */
	assert_int_equal(ident_get(t.dir, "other", &b), 0);
	assert_int_equal(b.created, 0);
	assert_string_equal(b.fp, a.fp);
	ident_free(&b);

	ident_free(&a);
	tmp_free(&t);
}

static void test_tls_certificate_contents(void **state)
{
	(void)state;
	struct tmp t;
	tmp_make(&t);
	struct ident a;
	const char *host = "keel-01.example.org";
	time_t now = time(NULL);
	assert_int_equal(ident_get(t.dir, host, &a), 0);
	gnutls_x509_crt_t crt = load_crt(a.cert);

	assert_int_equal(gnutls_x509_crt_get_version(crt), 3);

	char buf[256];
	size_t n = sizeof(buf);
	assert_int_equal(
	    gnutls_x509_crt_get_dn_by_oid(crt, GNUTLS_OID_X520_COMMON_NAME, 0, 0, buf, &n), 0);
	assert_string_equal(buf, host);
	n = sizeof(buf);
	assert_int_equal(
	    gnutls_x509_crt_get_issuer_dn_by_oid(crt, GNUTLS_OID_X520_COMMON_NAME, 0, 0, buf, &n),
	    0);
	assert_string_equal(buf, host);

	n = sizeof(buf);
	unsigned critical = 0;
	assert_int_equal(gnutls_x509_crt_get_subject_alt_name(crt, 0, buf, &n, &critical),
			 GNUTLS_SAN_DNSNAME);
	assert_int_equal(n, strlen(host));
	assert_memory_equal(buf, host, n);
	n = sizeof(buf);
	assert_int_equal(gnutls_x509_crt_get_subject_alt_name(crt, 1, buf, &n, &critical),
			 GNUTLS_E_REQUESTED_DATA_NOT_AVAILABLE);
	assert_int_equal(gnutls_x509_crt_check_hostname(crt, host), 1);
	assert_int_equal(gnutls_x509_crt_check_hostname(crt, "localhost"), 0);

	assert_int_equal(gnutls_x509_crt_get_ca_status(crt, &critical), 0);
	unsigned usage = 0;
	assert_true(gnutls_x509_crt_get_key_usage(crt, &usage, &critical) >= 0);
	assert_int_equal(usage, GNUTLS_KEY_DIGITAL_SIGNATURE);
	n = sizeof(buf);
	assert_int_equal(gnutls_x509_crt_get_key_purpose_oid(crt, 0, buf, &n, &critical), 0);
	assert_string_equal(buf, GNUTLS_KP_TLS_WWW_SERVER);
	n = sizeof(buf);
	assert_int_equal(gnutls_x509_crt_get_key_purpose_oid(crt, 1, buf, &n, &critical),
			 GNUTLS_E_REQUESTED_DATA_NOT_AVAILABLE);

	unsigned char serial[64];
	n = sizeof(serial);
	assert_int_equal(gnutls_x509_crt_get_serial(crt, serial, &n), 0);
	assert_int_equal(n, 16);
	assert_int_equal(serial[0] & 0x80, 0);

	unsigned bits = 0;
	assert_int_equal(gnutls_x509_crt_get_pk_algorithm(crt, &bits), GNUTLS_PK_ECDSA);
	gnutls_ecc_curve_t curve;
	gnutls_datum_t x, y;
	assert_int_equal(gnutls_x509_crt_get_pk_ecc_raw(crt, &curve, &x, &y), 0);
	assert_int_equal(curve, GNUTLS_ECC_CURVE_SECP256R1);
	gnutls_free(x.data);
	gnutls_free(y.data);
	assert_int_equal(gnutls_x509_crt_get_signature_algorithm(crt), GNUTLS_SIGN_ECDSA_SHA256);

	time_t act = gnutls_x509_crt_get_activation_time(crt);
	time_t exp = gnutls_x509_crt_get_expiration_time(crt);
	assert_true(act <= now - 3600 + 5 && act >= now - 3600 - 5);
	assert_true(exp >= now + (time_t)3650 * 86400);
	assert_true(exp <= now + (time_t)3653 * 86400 + 5);

	/* Self-signed: it verifies against itself. */
	unsigned status = 1;
	assert_int_equal(gnutls_x509_crt_verify(crt, &crt, 1, 0, &status), 0);
	assert_int_equal(status, 0);

	gnutls_x509_crt_deinit(crt);
	ident_free(&a);
	tmp_free(&t);
}

static void test_tls_corrupt_key_regenerates(void **state)
{
	(void)state;
	struct tmp t;
	tmp_make(&t);
	struct ident a, b;
	assert_int_equal(ident_get(t.dir, "h", &a), 0);
	put(t.dir, "host.key", "-----BEGIN EC PRIVATE KEY-----\ngarbage\n");
	assert_int_equal(ident_get(t.dir, "h", &b), 0);
	assert_int_equal(b.created, 1);
	assert_int_equal(count_files(t.dir, "host.key.unusable-"), 1);
	assert_string_not_equal(b.fp, a.fp);
	assert_true(pair_matches(b.key, b.cert));
	assert_int_equal(mode_of(t.dir, "host.key"), 0600);
	assert_int_equal(mode_of(t.dir, "host.crt"), 0644);
	ident_free(&a);
	ident_free(&b);

	/* An empty key file too. */
	put(t.dir, "host.key", "");
	assert_int_equal(ident_get(t.dir, "h", &a), 0);
	assert_int_equal(a.created, 1);
	ident_free(&a);
	tmp_free(&t);
}

static void test_tls_corrupt_or_missing_cert_regenerates(void **state)
{
	(void)state;
	struct tmp t;
	tmp_make(&t);
	struct ident a, b;
	assert_int_equal(ident_get(t.dir, "h", &a), 0);
	put(t.dir, "host.crt", "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n");
	assert_int_equal(ident_get(t.dir, "h", &b), 0);
	assert_int_equal(b.created, 1);
	assert_string_not_equal(b.fp, a.fp);
	ident_free(&a);

	char p[256];
	path_in(p, sizeof(p), t.dir, "host.crt");
	assert_int_equal(unlink(p), 0);
	assert_int_equal(ident_get(t.dir, "h", &a), 0);
	assert_int_equal(a.created, 1);
	assert_string_not_equal(b.fp, a.fp);
	assert_true(pair_matches(a.key, a.cert));
	ident_free(&a);
	ident_free(&b);
	tmp_free(&t);
}

static void test_tls_mismatched_key_regenerates(void **state)
{
	(void)state;
	struct tmp t, u;
	tmp_make(&t);
	tmp_make(&u);
	struct ident a, other, b;
	assert_int_equal(ident_get(t.dir, "h", &a), 0);
	assert_int_equal(ident_get(u.dir, "h", &other), 0);
	put(t.dir, "host.key", other.key);
	assert_false(pair_matches(other.key, a.cert));

	assert_int_equal(ident_get(t.dir, "h", &b), 0);
	assert_int_equal(b.created, 1);
	assert_string_not_equal(b.fp, a.fp);
	assert_string_not_equal(b.fp, other.fp);
	assert_true(pair_matches(b.key, b.cert));
	/* the installed key is kept aside, not destroyed */
	assert_int_equal(count_files(t.dir, "host.key.unusable-"), 1);
	assert_int_equal(count_files(t.dir, "host.crt.unusable-"), 1);
	assert_non_null(strstr(b.warning, "the key is not the certificate's"));
	char *k = slurp(t.dir, "host.key"), *c = slurp(t.dir, "host.crt");
	assert_string_equal(k, b.key);
	assert_string_equal(c, b.cert);
	free(k);
	free(c);
	ident_free(&a);
	ident_free(&b);
	ident_free(&other);
	tmp_free(&t);
	tmp_free(&u);
}

/* A certificate for the stored key, made here, valid from now + from_s to
 * now + to_s (yesterday, for one that has expired). */
static char *expired_cert(const char *key_pem, long from_s, long to_s)
{
	gnutls_x509_privkey_t key;
	assert_int_equal(gnutls_x509_privkey_init(&key), 0);
	gnutls_datum_t in = {(unsigned char *)key_pem, (unsigned)strlen(key_pem)};
	assert_int_equal(gnutls_x509_privkey_import(key, &in, GNUTLS_X509_FMT_PEM), 0);
	gnutls_x509_crt_t crt;
	assert_int_equal(gnutls_x509_crt_init(&crt), 0);
	time_t now = time(NULL);
	unsigned char serial[1] = {1};
	assert_int_equal(gnutls_x509_crt_set_version(crt, 3), 0);
	assert_int_equal(gnutls_x509_crt_set_serial(crt, serial, 1), 0);
	assert_int_equal(gnutls_x509_crt_set_key(crt, key), 0);
	assert_int_equal(gnutls_x509_crt_set_dn_by_oid(crt, GNUTLS_OID_X520_COMMON_NAME, 0, "h", 1),
			 0);
	assert_int_equal(gnutls_x509_crt_set_activation_time(crt, now + from_s), 0);
	assert_int_equal(gnutls_x509_crt_set_expiration_time(crt, now + to_s), 0);
	assert_int_equal(gnutls_x509_crt_sign2(crt, crt, key, GNUTLS_DIG_SHA256, 0), 0);
	gnutls_datum_t out;
	assert_int_equal(gnutls_x509_crt_export2(crt, GNUTLS_X509_FMT_PEM, &out), 0);
	char *s = malloc(out.size + 1);
	assert_non_null(s);
	memcpy(s, out.data, out.size);
	s[out.size] = '\0';
	gnutls_free(out.data);
	gnutls_x509_crt_deinit(crt);
	gnutls_x509_privkey_deinit(key);
	return s;
}

/* An expired certificate is served as it is, with a warning: the key (and
 * the fingerprint clients pinned) stays. */
static void test_tls_expired_cert_kept(void **state)
{
	(void)state;
	struct tmp t;
	tmp_make(&t);
	struct ident a, b;
	assert_int_equal(ident_get(t.dir, "h", &a), 0);
	assert_string_equal(a.warning, "");
	char *c = expired_cert(a.key, -10 * 86400, -86400);
	assert_true(pair_matches(a.key, c));
	put(t.dir, "host.crt", c);
	assert_int_equal(ident_get(t.dir, "h", &b), 0);
	assert_int_equal(b.created, 0);
	assert_string_equal(b.key, a.key);
	assert_string_equal(b.cert, c);
	assert_non_null(strstr(b.warning, "expired"));
	char *k = slurp(t.dir, "host.key");
	assert_string_equal(k, a.key);
	free(k);
	ident_free(&b);
	free(c);

	/* not valid for another day: the same */
	c = expired_cert(a.key, 86400, 10 * 86400);
	put(t.dir, "host.crt", c);
	assert_int_equal(ident_get(t.dir, "h", &b), 0);
	assert_int_equal(b.created, 0);
	assert_string_equal(b.key, a.key);
	assert_string_equal(b.cert, c);
	assert_non_null(strstr(b.warning, "not valid yet"));
	ident_free(&b);
	free(c);
	assert_int_equal(count_files(t.dir, "host."), 2);
	ident_free(&a);
	tmp_free(&t);
}

/* The decision alone, at a given time. */
static void test_tls_judge(void **state)
{
	(void)state;
	struct tmp t;
	tmp_make(&t);
	struct ident a, other;
	assert_int_equal(ident_get(t.dir, "h", &a), 0);
	struct tmp u;
	tmp_make(&u);
	assert_int_equal(ident_get(u.dir, "h", &other), 0);
	char why[128];
	time_t now = time(NULL);
	char *expired = expired_cert(a.key, -10 * 86400, -86400);
	char *future = expired_cert(a.key, 86400, 10 * 86400);
	char *skewed = expired_cert(a.key, 200, 86400); /* within 5 min of skew */

	assert_int_equal(secret_tls_judge(a.key, a.cert, now, why, sizeof why), SECRET_TLS_KEEP);
	assert_string_equal(why, "");
	assert_int_equal(secret_tls_judge(a.key, skewed, now, why, sizeof why), SECRET_TLS_KEEP);
	assert_int_equal(secret_tls_judge(a.key, expired, now, why, sizeof why),
			 SECRET_TLS_KEEP_WARN);
	assert_string_equal(why, "the certificate has expired");
	assert_int_equal(secret_tls_judge(a.key, future, now, why, sizeof why),
			 SECRET_TLS_KEEP_WARN);
	assert_string_equal(why, "the certificate is not valid yet");
	/* the good one, 11 years on, has expired; the future one, two days on,
	 * is fine */
	assert_int_equal(secret_tls_judge(a.key, a.cert, now + 11 * 366 * 86400, why, sizeof why),
			 SECRET_TLS_KEEP_WARN);
	assert_int_equal(secret_tls_judge(a.key, future, now + 2 * 86400, why, sizeof why),
			 SECRET_TLS_KEEP);

	assert_int_equal(secret_tls_judge(NULL, NULL, now, why, sizeof why), SECRET_TLS_CREATE);
	assert_int_equal(secret_tls_judge(a.key, NULL, now, why, sizeof why), SECRET_TLS_REPLACE);
	assert_int_equal(secret_tls_judge(NULL, a.cert, now, why, sizeof why), SECRET_TLS_REPLACE);
	assert_int_equal(secret_tls_judge("", a.cert, now, why, sizeof why), SECRET_TLS_REPLACE);
	assert_int_equal(secret_tls_judge(a.key, "garbage", now, why, sizeof why),
			 SECRET_TLS_REPLACE);
	assert_int_equal(secret_tls_judge(other.key, a.cert, now, why, sizeof why),
			 SECRET_TLS_REPLACE);
	assert_string_equal(why, "the key is not the certificate's");
	/* an expired certificate of another key: unusable, not merely expired */
	assert_int_equal(secret_tls_judge(other.key, expired, now, why, sizeof why),
			 SECRET_TLS_REPLACE);
	free(expired);
	free(future);
	free(skewed);
	ident_free(&a);
	ident_free(&other);
	tmp_free(&t);
	tmp_free(&u);
}

static void test_tls_errors(void **state)
{
	(void)state;
	struct tmp t;
	tmp_make(&t);
	struct ident a;
	/* Bad host names: nothing is created. */
	static const char *bad_hosts[] = {
	    "",
	    "a b",
	    "a/b",
	    "h\n",
	    "x12345678901234567890123456789012345678901234567890123456789012345",
	};
	for (size_t i = 0; i < ARRAY_SIZE(bad_hosts); i++)
		assert_int_equal(ident_get(t.dir, bad_hosts[i], &a), -1);
	assert_int_equal(ident_get(t.dir, NULL, &a), -1);
	struct stat st;
	assert_int_equal(stat(t.dir, &st), -1);

	/* The directory is a file, or its parent is missing. */
	put(t.root, "tls", "x");
	assert_int_equal(ident_get(t.dir, "h", &a), -1);
	char p[256];
	snprintf(p, sizeof(p), "%s/missing/tls", t.root);
	assert_int_equal(ident_get(p, "h", &a), -1);
	assert_int_equal(ident_get("", "h", &a), -1);
	tmp_free(&t);
}

static void test_cert_fingerprint(void **state)
{
	(void)state;
	struct tmp t;
	tmp_make(&t);
	struct ident a;
	assert_int_equal(ident_get(t.dir, "h", &a), 0);
	char fp[96], err[128] = "";
	assert_int_equal(secret_cert_fingerprint(a.cert, fp, err, sizeof(err)), 0);
	assert_string_equal(fp, a.fp);
	char mine[96];
	independent_fingerprint(a.cert, mine);
	assert_string_equal(fp, mine);
	ident_free(&a);
	tmp_free(&t);

	static const char *bad[] = {
	    "",
	    "garbage",
	    "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n",
	    "-----BEGIN CERTIFICATE-----\n",
	};
	for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
		err[0] = '\0';
		assert_int_equal(secret_cert_fingerprint(bad[i], fp, err, sizeof(err)), -1);
		assert_true(err[0] != '\0');
		assert_string_equal(fp, "");
	}
	assert_int_equal(secret_cert_fingerprint(NULL, fp, err, sizeof(err)), -1);
}

/* --- PKCS#8 keys and installing a pair -------------------------------------- */

/* A malloc'ed copy of a GnuTLS datum as a NUL-terminated string. */
static char *datum_str(gnutls_datum_t *d)
{
	char *s = malloc((size_t)d->size + 1);
	assert_non_null(s);
	memcpy(s, d->data, d->size);
	s[d->size] = '\0';
	gnutls_free(d->data);
	d->data = NULL;
	return s;
}

static gnutls_x509_privkey_t load_key(const char *pem)
{
	gnutls_x509_privkey_t key;
	assert_int_equal(gnutls_x509_privkey_init(&key), 0);
	gnutls_datum_t in = {(unsigned char *)pem, (unsigned)strlen(pem)};
	assert_int_equal(gnutls_x509_privkey_import(key, &in, GNUTLS_X509_FMT_PEM), 0);
	return key;
}

/* The PEM key re-encoded as unencrypted PKCS#8 ("BEGIN PRIVATE KEY"). */
static char *to_pkcs8(const char *key_pem)
{
	gnutls_x509_privkey_t key = load_key(key_pem);
	unsigned char buf[8192];
	size_t n = sizeof(buf) - 1;
	assert_int_equal(gnutls_x509_privkey_export_pkcs8(key, GNUTLS_X509_FMT_PEM, NULL,
							  GNUTLS_PKCS_PLAIN, buf, &n),
			 0);
	gnutls_x509_privkey_deinit(key);
	buf[n] = '\0';
	char *s = strdup((char *)buf);
	assert_non_null(s);
	assert_non_null(strstr(s, "-----BEGIN PRIVATE KEY-----"));
	return s;
}

/* The PEM key as password-protected PKCS#8 ("BEGIN ENCRYPTED PRIVATE KEY"). */
static char *to_encrypted_pkcs8(const char *key_pem)
{
	gnutls_x509_privkey_t key = load_key(key_pem);
	unsigned char buf[8192];
	size_t n = sizeof(buf) - 1;
	assert_int_equal(gnutls_x509_privkey_export_pkcs8(key, GNUTLS_X509_FMT_PEM, "pw",
							  GNUTLS_PKCS_PBES2_AES_256, buf, &n),
			 0);
	gnutls_x509_privkey_deinit(key);
	buf[n] = '\0';
	char *s = strdup((char *)buf);
	assert_non_null(s);
	assert_non_null(strstr(s, "ENCRYPTED PRIVATE KEY"));
	return s;
}

/* 1 when GnuTLS takes the pair as a server's credentials, as hostd will. */
static int server_accepts(const char *key_pem, const char *cert_pem)
{
	gnutls_certificate_credentials_t cred;
	assert_int_equal(gnutls_certificate_allocate_credentials(&cred), 0);
	gnutls_datum_t kd = {(unsigned char *)key_pem, (unsigned)strlen(key_pem)};
	gnutls_datum_t cd = {(unsigned char *)cert_pem, (unsigned)strlen(cert_pem)};
	int r = gnutls_certificate_set_x509_key_mem(cred, &cd, &kd, GNUTLS_X509_FMT_PEM);
	gnutls_certificate_free_credentials(cred);
	if (r < 0)
		print_error("gnutls_certificate_set_x509_key_mem: %s\n", gnutls_strerror(r));
	return r >= 0;
}

/* A self-signed certificate for key, valid from now + act to now + exp
 * (seconds), made here without the module. */
static char *make_cert(gnutls_x509_privkey_t key, time_t act, time_t exp)
{
	gnutls_x509_crt_t crt;
	assert_int_equal(gnutls_x509_crt_init(&crt), 0);
	time_t now = time(NULL);
	unsigned char serial[8];
	assert_int_equal(gnutls_rnd(GNUTLS_RND_NONCE, serial, sizeof(serial)), 0);
	serial[0] = (unsigned char)((serial[0] & 0x7f) | 0x01);
	const char *cn = "installed.example.org";
	assert_int_equal(gnutls_x509_crt_set_version(crt, 3), 0);
	assert_int_equal(gnutls_x509_crt_set_serial(crt, serial, sizeof(serial)), 0);
	assert_int_equal(gnutls_x509_crt_set_key(crt, key), 0);
	assert_int_equal(gnutls_x509_crt_set_dn_by_oid(crt, GNUTLS_OID_X520_COMMON_NAME, 0, cn,
						       (unsigned)strlen(cn)),
			 0);
	assert_int_equal(gnutls_x509_crt_set_subject_alt_name(
			     crt, GNUTLS_SAN_DNSNAME, cn, (unsigned)strlen(cn), GNUTLS_FSAN_SET),
			 0);
	assert_int_equal(gnutls_x509_crt_set_basic_constraints(crt, 0, -1), 0);
	assert_int_equal(gnutls_x509_crt_set_key_usage(crt, GNUTLS_KEY_DIGITAL_SIGNATURE), 0);
	assert_int_equal(gnutls_x509_crt_set_activation_time(crt, now + act), 0);
	assert_int_equal(gnutls_x509_crt_set_expiration_time(crt, now + exp), 0);
	assert_int_equal(gnutls_x509_crt_sign2(crt, crt, key, GNUTLS_DIG_SHA256, 0), 0);
	gnutls_datum_t out;
	assert_int_equal(gnutls_x509_crt_export2(crt, GNUTLS_X509_FMT_PEM, &out), 0);
	gnutls_x509_crt_deinit(crt);
	return datum_str(&out);
}

/* A fresh P-256 key and a self-signed certificate for it (see make_cert). */
static void make_pair(time_t act, time_t exp, char **key_pem, char **cert_pem)
{
	gnutls_x509_privkey_t key;
	assert_int_equal(gnutls_x509_privkey_init(&key), 0);
	assert_int_equal(
	    gnutls_x509_privkey_generate(key, GNUTLS_PK_ECDSA,
					 GNUTLS_CURVE_TO_BITS(GNUTLS_ECC_CURVE_SECP256R1), 0),
	    0);
	*cert_pem = make_cert(key, act, exp);
	gnutls_datum_t out;
	assert_int_equal(gnutls_x509_privkey_export2(key, GNUTLS_X509_FMT_PEM, &out), 0);
	*key_pem = datum_str(&out);
	gnutls_x509_privkey_deinit(key);
	assert_true(pair_matches(*key_pem, *cert_pem));
}

#define DAY ((time_t)86400)

static void valid_pair(char **key_pem, char **cert_pem)
{
	make_pair(-DAY, 365 * DAY, key_pem, cert_pem);
}

/* Everything in a (flat) directory: names, modes and contents, sorted by
 * name, as one malloc'ed buffer (*len bytes), to compare before and after. */
static char *dir_snapshot(const char *dir, size_t *len)
{
	struct dirent **names;
	int n = scandir(dir, &names, NULL, alphasort);
	assert_true(n >= 0);
	char *buf = NULL;
	size_t size = 0;
	FILE *f = open_memstream(&buf, &size);
	assert_non_null(f);
	for (int i = 0; i < n; i++) {
		const char *name = names[i]->d_name;
		if (strcmp(name, ".") && strcmp(name, "..")) {
			char p[512];
			path_in(p, sizeof(p), dir, name);
			struct stat st;
			assert_int_equal(stat(p, &st), 0);
			size_t flen = 0;
			char *data = read_file(p, 1 << 20, &flen);
			assert_non_null(data);
			fprintf(f, "%s %o %zu\n", name, (unsigned)st.st_mode, flen);
			fwrite(data, 1, flen, f);
			fputc('\0', f);
			free(data);
		}
		free(names[i]);
	}
	free(names);
	assert_int_equal(fclose(f), 0);
	*len = size;
	return buf;
}

static int count_entries(const char *dir)
{
	DIR *d = opendir(dir);
	assert_non_null(d);
	int n = 0;
	struct dirent *e;
	while ((e = readdir(d)))
		n += strcmp(e->d_name, ".") && strcmp(e->d_name, "..");
	closedir(d);
	return n;
}

/* Regression: a key stored as unencrypted PKCS#8 is kept, and what is
 * returned is usable by the TLS server (a GnuTLS re-export of such a key
 * lost its curve, and set_x509_key_mem then failed to parse it). */
static void test_tls_pkcs8_key_loaded(void **state)
{
	(void)state;
	struct tmp t;
	tmp_make(&t);
	struct ident a, b;
	assert_int_equal(ident_get(t.dir, "h", &a), 0);
	assert_int_equal(a.created, 1);
	assert_true(server_accepts(a.key, a.cert));
	char *p8 = to_pkcs8(a.key);
	put(t.dir, "host.key", p8);

	assert_int_equal(ident_get(t.dir, "h", &b), 0);
	assert_int_equal(b.created, 0);
	assert_string_equal(b.fp, a.fp);
	assert_string_equal(b.cert, a.cert);
	/* The file's own text, not a re-encoding. */
	assert_string_equal(b.key, p8);
	assert_true(pair_matches(b.key, b.cert));
	assert_true(server_accepts(b.key, b.cert));
	/* Nothing was rewritten. */
	char *k = slurp(t.dir, "host.key");
	assert_string_equal(k, p8);
	free(k);
	ident_free(&b);

	/* And again: still kept. */
	assert_int_equal(ident_get(t.dir, "h", &b), 0);
	assert_int_equal(b.created, 0);
	assert_string_equal(b.fp, a.fp);
	assert_true(server_accepts(b.key, b.cert));
	ident_free(&b);

	free(p8);
	ident_free(&a);
	tmp_free(&t);
}

/* Installs key/cert into dir; on success checks the files, the fingerprint
 * and that secret_tls_identity then loads exactly that pair. */
static void install_ok(const char *dir, const char *key_pem, const char *cert_pem)
{
	char fp[96], err[256] = "";
	memset(fp, 'x', sizeof(fp));
	int r = secret_tls_install(dir, key_pem, cert_pem, fp, err, sizeof(err));
	if (r != 0)
		print_error("secret_tls_install: %s\n", err);
	assert_int_equal(r, 0);
	char mine[96];
	independent_fingerprint(cert_pem, mine);
	assert_string_equal(fp, mine);
	assert_int_equal(mode_of(dir, "host.key"), 0600);
	char *k = slurp(dir, "host.key"), *c = slurp(dir, "host.crt");
	assert_string_equal(k, key_pem);
	assert_string_equal(c, cert_pem);
	free(k);
	free(c);
	/* No temporary file is left behind. */
	assert_int_equal(count_entries(dir), 2);

	struct ident b;
	assert_int_equal(ident_get(dir, "h", &b), 0);
	assert_int_equal(b.created, 0);
	assert_string_equal(b.fp, fp);
	assert_string_equal(b.key, key_pem);
	assert_string_equal(b.cert, cert_pem);
	assert_true(server_accepts(b.key, b.cert));
	ident_free(&b);
}

/* A P-256 key as OpenSSL writes PKCS#8 (openssl genpkey -algorithm EC
 * -pkeyopt ec_paramgen_curve:P-256): the curve is only in the
 * AlgorithmIdentifier, not in the inner ECPrivateKey, so a GnuTLS
 * re-export of it is an "EC PRIVATE KEY" without a curve that GnuTLS
 * cannot read back ("ASN1 parser: Error in DER parsing"). Test-only key. */
static const char openssl_pkcs8_key[] =
    "-----BEGIN PRIVATE KEY-----\n"
    "MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQgXOND04H7/ci+J597\n"
    "yvn4JhN9gMSdJEnQo2boemh1QxyhRANCAAQN+sXRGOQ/nTmeh3g8re+YGM+7ywdv\n"
    "r5LBeIlydnIfbS73KFaP6N7OO2V7C5f7VB7D+tNXGssy+SQz1psCoyRM\n"
    "-----END PRIVATE KEY-----\n";

/* The same regression with the key OpenSSL would have written: kept, and
 * returned as it is in the file, which the TLS server accepts. Installed
 * through secret_tls_install too. */
static void test_tls_openssl_pkcs8_key(void **state)
{
	(void)state;
	struct tmp t;
	tmp_make(&t);
	struct ident a, b;
	assert_int_equal(ident_get(t.dir, "h", &a), 0);

	/* What went wrong before: the re-export cannot be read back. */
	gnutls_x509_privkey_t key = load_key(openssl_pkcs8_key);
	gnutls_datum_t out;
	assert_int_equal(gnutls_x509_privkey_export2(key, GNUTLS_X509_FMT_PEM, &out), 0);
	char *reexport = datum_str(&out);
	gnutls_x509_privkey_t k2;
	assert_int_equal(gnutls_x509_privkey_init(&k2), 0);
	gnutls_datum_t in = {(unsigned char *)reexport, (unsigned)strlen(reexport)};
	int reimport = gnutls_x509_privkey_import(k2, &in, GNUTLS_X509_FMT_PEM);
	gnutls_x509_privkey_deinit(k2);
	if (reimport >= 0)
		print_message("note: this GnuTLS reads its re-export back\n");
	free(reexport);

	char *cert = make_cert(key, -DAY, 365 * DAY);
	gnutls_x509_privkey_deinit(key);
	assert_true(pair_matches(openssl_pkcs8_key, cert));
	char fp[96];
	independent_fingerprint(cert, fp);

	put(t.dir, "host.key", openssl_pkcs8_key);
	put(t.dir, "host.crt", cert);
	assert_int_equal(ident_get(t.dir, "h", &b), 0);
	assert_int_equal(b.created, 0);
	assert_string_equal(b.fp, fp);
	assert_string_equal(b.key, openssl_pkcs8_key);
	assert_string_equal(b.cert, cert);
	assert_true(server_accepts(b.key, b.cert));
	ident_free(&b);

	/* Installed over the module's own pair, then loaded back. */
	install_ok(t.dir, a.key, a.cert);
	install_ok(t.dir, openssl_pkcs8_key, cert);

	free(cert);
	ident_free(&a);
	tmp_free(&t);
}

static void test_tls_install(void **state)
{
	(void)state;
	struct tmp t;
	tmp_make(&t);
	struct ident a;
	assert_int_equal(ident_get(t.dir, "h", &a), 0);

	char *key, *cert;
	valid_pair(&key, &cert);
	install_ok(t.dir, key, cert);
	char mine[96];
	independent_fingerprint(cert, mine);
	assert_string_not_equal(mine, a.fp);

	/* Another pair replaces that one, its key as PKCS#8 this time. */
	char *key2, *cert2;
	valid_pair(&key2, &cert2);
	char *p8 = to_pkcs8(key2);
	install_ok(t.dir, p8, cert2);
	free(p8);

	/* The module's own pair can be put back. */
	install_ok(t.dir, a.key, a.cert);

	free(key);
	free(cert);
	free(key2);
	free(cert2);
	ident_free(&a);
	tmp_free(&t);
}

/* 5 minutes of clock skew are tolerated: a certificate that starts in
 * a minute is taken. */
static void test_tls_install_clock_skew(void **state)
{
	(void)state;
	struct tmp t;
	tmp_make(&t);
	struct ident a;
	assert_int_equal(ident_get(t.dir, "h", &a), 0);
	char *key, *cert;
	make_pair(60, 365 * DAY, &key, &cert);
	install_ok(t.dir, key, cert);
	free(key);
	free(cert);
	ident_free(&a);
	tmp_free(&t);
}

/* secret_tls_install fails with a message and leaves dir as it was. */
static void install_fails(const char *dir, const char *key_pem, const char *cert_pem)
{
	size_t n0, n1;
	char *before = dir_snapshot(dir, &n0);
	char fp[96], err[256] = "";
	assert_int_equal(secret_tls_install(dir, key_pem, cert_pem, fp, err, sizeof(err)), -1);
	assert_true(err[0] != '\0');
	char *after = dir_snapshot(dir, &n1);
	assert_int_equal(n0, n1);
	assert_memory_equal(before, after, n0);
	free(before);
	free(after);
}

static void test_tls_install_rejects(void **state)
{
	(void)state;
	struct tmp t;
	tmp_make(&t);
	struct ident a;
	assert_int_equal(ident_get(t.dir, "h", &a), 0);

	char *key, *cert, *okey, *ocert, *xkey, *xcert, *fkey, *fcert;
	valid_pair(&key, &cert);
	valid_pair(&okey, &ocert);
	make_pair(-10 * DAY, -DAY, &xkey, &xcert); /* expired yesterday */
	make_pair(DAY, 365 * DAY, &fkey, &fcert);  /* valid from tomorrow */

	/* A key from another pair, also as PKCS#8, and the dir's own key. */
	install_fails(t.dir, okey, cert);
	char *p8 = to_pkcs8(okey);
	install_fails(t.dir, p8, cert);
	free(p8);
	install_fails(t.dir, a.key, cert);
	install_fails(t.dir, key, a.cert);

	/* Garbage. */
	static const char *junk[] = {
	    "",
	    "garbage",
	    "-----BEGIN EC PRIVATE KEY-----\ngarbage\n-----END EC PRIVATE KEY-----\n",
	    "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n",
	    "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n",
	};
	for (size_t i = 0; i < ARRAY_SIZE(junk); i++) {
		install_fails(t.dir, junk[i], cert);
		install_fails(t.dir, key, junk[i]);
	}
	/* Swapped: the certificate as the key and the key as the certificate. */
	install_fails(t.dir, cert, key);
	/* A key behind a password cannot be used. */
	char *enc = to_encrypted_pkcs8(key);
	install_fails(t.dir, enc, cert);
	free(enc);

	/* Out of date, each with its own key. */
	install_fails(t.dir, xkey, xcert);
	install_fails(t.dir, fkey, fcert);

	/* Nothing was written: the identity is the one made first. */
	struct ident b;
	assert_int_equal(ident_get(t.dir, "h", &b), 0);
	assert_int_equal(b.created, 0);
	assert_string_equal(b.fp, a.fp);
	ident_free(&b);

	/* A directory that does not exist. */
	char p[256], fp[96], err[256] = "";
	snprintf(p, sizeof(p), "%s/missing", t.root);
	assert_int_equal(secret_tls_install(p, key, cert, fp, err, sizeof(err)), -1);
	assert_true(err[0] != '\0');

	free(key);
	free(cert);
	free(okey);
	free(ocert);
	free(xkey);
	free(xcert);
	free(fkey);
	free(fcert);
	ident_free(&a);
	tmp_free(&t);
}

/* A pair that secret_tls_install accepts must be the one found next time:
 * here a certificate followed by more than 64 KiB of text (as a chain or
 * an annotated bundle might be). Either install refuses it, or the
 * installed pair is loaded back. */
static void test_tls_install_large_pem(void **state)
{
	(void)state;
	struct tmp t;
	tmp_make(&t);
	struct ident a;
	assert_int_equal(ident_get(t.dir, "h", &a), 0);
	char *key, *cert;
	valid_pair(&key, &cert);
	size_t clen = strlen(cert), pad = 70 * 1024;
	char *big = malloc(clen + pad + 1);
	assert_non_null(big);
	memcpy(big, cert, clen);
	for (size_t i = 0; i < pad; i++)
		big[clen + i] = (i % 64 == 63) ? '\n' : '#';
	big[clen + pad] = '\0';

	char fp[96], err[256] = "";
	if (secret_tls_install(t.dir, key, big, fp, err, sizeof(err)) == 0) {
		struct ident b;
		assert_int_equal(ident_get(t.dir, "h", &b), 0);
		assert_int_equal(b.created, 0);
		assert_string_equal(b.fp, fp);
		ident_free(&b);
	} else {
		assert_true(err[0] != '\0');
	}
	free(big);
	free(key);
	free(cert);
	ident_free(&a);
	tmp_free(&t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_hash_and_check),
	    cmocka_unit_test(test_hash_empty_password),
	    cmocka_unit_test(test_hash_salted),
	    cmocka_unit_test(test_hash_errors),
	    cmocka_unit_test(test_check_rejects_other_schemes),
	    cmocka_unit_test(test_check_rejects_garbage),
	    cmocka_unit_test(test_random_password),
	    cmocka_unit_test(test_random_password_alphabet),
	    cmocka_unit_test(test_token),
	    cmocka_unit_test(test_sha256_hex),
	    cmocka_unit_test(test_tls_create_then_keep),
	    cmocka_unit_test(test_tls_certificate_contents),
	    cmocka_unit_test(test_tls_corrupt_key_regenerates),
	    cmocka_unit_test(test_tls_corrupt_or_missing_cert_regenerates),
	    cmocka_unit_test(test_tls_mismatched_key_regenerates),
	    cmocka_unit_test(test_tls_expired_cert_kept),
	    cmocka_unit_test(test_tls_judge),
	    cmocka_unit_test(test_tls_errors),
	    cmocka_unit_test(test_cert_fingerprint),
	    cmocka_unit_test(test_tls_pkcs8_key_loaded),
	    cmocka_unit_test(test_tls_openssl_pkcs8_key),
	    cmocka_unit_test(test_tls_install),
	    cmocka_unit_test(test_tls_install_clock_skew),
	    cmocka_unit_test(test_tls_install_rejects),
	    cmocka_unit_test(test_tls_install_large_pem),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
