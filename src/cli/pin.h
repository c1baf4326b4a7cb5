/* Certificate fingerprints and public-key pins, with GnuTLS.
 *
 * The fingerprint is the SHA-256 of the certificate's DER, as keel-hostd
 * prints it on the host's console (32 colon-separated hex bytes). The pin
 * is what libcurl's CURLOPT_PINNEDPUBLICKEY takes: "sha256//" and the
 * base64 of the SHA-256 of the certificate's SubjectPublicKeyInfo. */
#ifndef KEEL_CLI_PIN_H
#define KEEL_CLI_PIN_H

#include <stddef.h>

#define FP_LEN	    32
#define FP_TEXT_LEN (FP_LEN * 3) /* "AB:CD:...:EF" and its NUL */
#define PIN_LEN	    64		 /* "sha256//" + 44 base64 characters, NUL */

/* 64 hex digits, any case, colons optional. Returns -1 if malformed. */
int fp_parse(const char *text, unsigned char fp[FP_LEN]);
/* "AB:CD:...": upper case, colons */
void fp_format(const unsigned char fp[FP_LEN], char out[FP_TEXT_LEN]);
/* From a PEM certificate: its fingerprint and its pin. Returns -1 if the
 * certificate cannot be read. */
int pin_from_pem(const char *pem, unsigned char fp[FP_LEN], char pin[PIN_LEN]);

#endif
