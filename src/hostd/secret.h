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
#include <time.h>

/* Hashes `password` with yescrypt and a fresh random salt ("$y$..."). */
int secret_hash_password(const char *password, char *out, size_t outlen, char *err, size_t errlen);

/* 1 when `password` matches the stored hash, 0 otherwise (also for a
 * malformed or non-yescrypt hash). Compares in constant time. */
int secret_check_password(const char *password, const char *hash);

/* How many times secret_check_password ran (one yescrypt each), ever. */
unsigned long secret_password_checks(void);

/* Makes, once, a dummy yescrypt hash (of a random password, with the
 * parameters of secret_hash_password): -1 when it cannot. Call it at start
 * (else the first use makes it). secret_check_dummy costs what a check of
 * a real password costs and matches nothing: for an unknown user, so that
 * the time taken does not tell whether a user exists. */
int secret_dummy_init(void);
void secret_check_dummy(const char *password);

/* A random password of `len` characters (len < outlen) from an alphabet
 * with no look-alikes (no 0/O, 1/l/I), for the first-boot root password. */
int secret_random_password(char *out, size_t outlen, size_t len);

/* A session token: 32 random bytes as 64 lowercase hex digits. */
int secret_token(char out[65]);

/* SHA-256 of `data` as 64 lowercase hex digits (tokens are stored only as
 * this hash). */
void secret_sha256_hex(const void *data, size_t len, char out[65]);

/* What to do with the TLS identity found in the directory (key_pem and
 * cert_pem NULL when their file is missing), judged at `now`:
 *  - SECRET_TLS_KEEP: a usable pair, valid now: served.
 *  - SECRET_TLS_KEEP_WARN: a usable pair (both parse, the key is the
 *    certificate's, GnuTLS accepts them), but the certificate has expired
 *    or is not valid yet (5 minutes of skew allowed): served as it is, with
 *    a warning; an operator installs a new one (secret_tls_install). It is
 *    never replaced because of a date: a wrong clock must not cost the key
 *    clients have pinned.
 *  - SECRET_TLS_CREATE: both files missing: a new pair is made.
 *  - SECRET_TLS_REPLACE: something is there that cannot be served (one file
 *    missing, a file that does not parse or is over 64 KiB, a key that is
 *    not the certificate's): the files are kept under another name and a new
 *    pair is made, so the host can still be reached.
 * why (whylen bytes) says what is wrong, "" for KEEP and CREATE. */
enum secret_tls_verdict {
	SECRET_TLS_KEEP,
	SECRET_TLS_KEEP_WARN,
	SECRET_TLS_CREATE,
	SECRET_TLS_REPLACE,
};
enum secret_tls_verdict secret_tls_judge(const char *key_pem, const char *cert_pem, time_t now,
					 char *why, size_t whylen);

/* The host's TLS identity in `dir` (created 0700 if missing): host.key
 * (0600, ECDSA P-256) and host.crt (self-signed, CN and subjectAltName =
 * hostname, valid 10 years), as secret_tls_judge decides: kept (even with
 * an expired or not yet valid certificate), made when missing, and when
 * unusable made after the old files are renamed to
 * host.{key,crt}.unusable-SECONDS (an installed key is never overwritten or
 * removed). A file that cannot be read (other than missing) is an error,
 * and nothing is written. On success *key_pem and *cert_pem are malloc'ed
 * PEM strings, and fingerprint holds the certificate's SHA-256 as 32
 * colon-separated upper-case hex bytes (95 characters + NUL); *created is 1
 * when a new pair was made; warning (warnlen bytes) is "" or a line for the
 * console and log: the certificate served is out of its dates, or an
 * unusable pair was set aside. */
int secret_tls_identity(const char *dir, const char *hostname, char **key_pem, char **cert_pem,
			char fingerprint[96], int *created, char *warning, size_t warnlen,
			char *err, size_t errlen);

/* Replaces the TLS identity in `dir` with the given PEM key and certificate,
 * once they are checked: both parse, the key is the certificate's, and the
 * certificate is valid now. Nothing is written otherwise (err says why). */
int secret_tls_install(const char *dir, const char *key_pem, const char *cert_pem,
		       char fingerprint[96], char *err, size_t errlen);

/* SHA-256 fingerprint (format as above) of a PEM certificate. */
int secret_cert_fingerprint(const char *cert_pem, char fingerprint[96], char *err, size_t errlen);

#endif
