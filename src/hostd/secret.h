/* Layer: domain support (used by session.c, authz.c, api_host.c).
 * Includes: nothing of hostd; never http.h or api.h.
 *
 * Secrets for keel-hostd: passwords (yescrypt through libcrypt), random
 * passwords and session tokens (getrandom), and the host's TLS key and
 * self-signed certificate (GnuTLS). Nothing is printed; errors go to
 * err/errlen. */
#ifndef KEEL_HOSTD_SECRET_H
#define KEEL_HOSTD_SECRET_H

#include <stddef.h>

/* Hashes `password` with yescrypt and a fresh random salt ("$y$..."). */
int secret_hash_password(const char *password, char *out, size_t outlen, char *err, size_t errlen);

/* 1 when `password` matches the stored hash, 0 otherwise (also for a
 * malformed or non-yescrypt hash). Compares in constant time. */
int secret_check_password(const char *password, const char *hash);

/* A random password of `len` characters (len < outlen) from an alphabet
 * with no look-alikes (no 0/O, 1/l/I), for the first-boot root password. */
int secret_random_password(char *out, size_t outlen, size_t len);

/* A session token: 32 random bytes as 64 lowercase hex digits. */
int secret_token(char out[65]);

/* SHA-256 of `data` as 64 lowercase hex digits (tokens are stored only as
 * this hash). */
void secret_sha256_hex(const void *data, size_t len, char out[65]);

/* The host's TLS identity in `dir` (created 0700 if missing): host.key
 * (0600, ECDSA P-256) and host.crt (self-signed, CN and subjectAltName =
 * hostname, valid 10 years). Created when missing or unusable (the key must
 * match the certificate); kept otherwise. On success *key_pem and *cert_pem
 * are malloc'ed PEM strings, and fingerprint holds the certificate's SHA-256
 * as 32 colon-separated upper-case hex bytes (95 characters + NUL).
 * *created is 1 when a new pair was made. */
int secret_tls_identity(const char *dir, const char *hostname, char **key_pem, char **cert_pem,
			char fingerprint[96], int *created, char *err, size_t errlen);

/* Replaces the TLS identity in `dir` with the given PEM key and certificate,
 * once they are checked: both parse, the key is the certificate's, and the
 * certificate is valid now. Nothing is written otherwise (err says why). */
int secret_tls_install(const char *dir, const char *key_pem, const char *cert_pem,
		       char fingerprint[96], char *err, size_t errlen);

/* SHA-256 fingerprint (format as above) of a PEM certificate. */
int secret_cert_fingerprint(const char *cert_pem, char fingerprint[96], char *err, size_t errlen);

#endif
