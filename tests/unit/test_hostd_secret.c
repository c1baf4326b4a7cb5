#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

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

/* Removes the (flat) directory tree made by a test. */
static void rm_tree(const char *path)
{
	DIR *d = opendir(path);
	if (!d) {
		unlink(path);
		return;
	}
	struct dirent *e;
	while ((e = readdir(d))) {
		if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
			continue;
		char p[512];
		snprintf(p, sizeof(p), "%s/%s", path, e->d_name);
		rm_tree(p);
	}
	closedir(d);
	rmdir(path);
}

static void tmp_free(struct tmp *t)
{
	rm_tree(t->root);
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
};

static int ident_get(const char *dir, const char *host, struct ident *id)
{
	char err[256] = "";
	memset(id->fp, 'x', sizeof(id->fp));
	id->created = -1;
	int r = secret_tls_identity(dir, host, &id->key, &id->cert, id->fp, &id->created, err,
				    sizeof(err));
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

/* A certificate for the stored key, made here, that expired yesterday. */
static char *expired_cert(const char *key_pem)
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
	assert_int_equal(gnutls_x509_crt_set_activation_time(crt, now - 10 * 86400), 0);
	assert_int_equal(gnutls_x509_crt_set_expiration_time(crt, now - 86400), 0);
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

static void test_tls_expired_cert_regenerates(void **state)
{
	(void)state;
	struct tmp t;
	tmp_make(&t);
	struct ident a, b;
	assert_int_equal(ident_get(t.dir, "h", &a), 0);
	char *c = expired_cert(a.key);
	assert_true(pair_matches(a.key, c));
	put(t.dir, "host.crt", c);
	free(c);
	assert_int_equal(ident_get(t.dir, "h", &b), 0);
	assert_int_equal(b.created, 1);
	assert_string_not_equal(b.key, a.key);
	ident_free(&a);
	ident_free(&b);
	tmp_free(&t);
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
	    cmocka_unit_test(test_tls_expired_cert_regenerates),
	    cmocka_unit_test(test_tls_errors),
	    cmocka_unit_test(test_cert_fingerprint),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
