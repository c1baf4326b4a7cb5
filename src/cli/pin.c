#include "cli/pin.h"

#include <ctype.h>
#include <gnutls/abstract.h>
#include <gnutls/crypto.h>
#include <gnutls/gnutls.h>
#include <gnutls/x509.h>
#include <stdio.h>
#include <string.h>

static int hexval(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	c = tolower(c);
	return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

int fp_parse(const char *text, unsigned char fp[FP_LEN])
{
	size_t n = 0;
	int hi = -1;
	for (const char *p = text; *p; p++) {
		if (*p == ':') {
			if (hi >= 0)
				return -1; /* a colon in the middle of a byte */
			continue;
		}
		int v = hexval((unsigned char)*p);
		if (v < 0 || n == FP_LEN)
			return -1;
		if (hi < 0) {
			hi = v;
		} else {
			fp[n++] = (unsigned char)(hi << 4 | v);
			hi = -1;
		}
	}
	return n == FP_LEN && hi < 0 ? 0 : -1;
}

void fp_format(const unsigned char fp[FP_LEN], char out[FP_TEXT_LEN])
{
	for (size_t i = 0; i < FP_LEN; i++)
		snprintf(out + 3 * i, 4, i + 1 < FP_LEN ? "%02X:" : "%02X", fp[i]);
}

int pin_from_pem(const char *pem, unsigned char fp[FP_LEN], char pin[PIN_LEN])
{
	gnutls_x509_crt_t crt = NULL;
	gnutls_pubkey_t key = NULL;
	gnutls_datum_t in = {(unsigned char *)pem, (unsigned int)strlen(pem)};
	gnutls_datum_t spki = {NULL, 0}, b64 = {NULL, 0};
	unsigned char digest[32];
	size_t fplen = FP_LEN;
	int ret = -1;

	if (gnutls_x509_crt_init(&crt) < 0)
		return -1;
	if (gnutls_x509_crt_import(crt, &in, GNUTLS_X509_FMT_PEM) < 0 ||
	    gnutls_x509_crt_get_fingerprint(crt, GNUTLS_DIG_SHA256, fp, &fplen) < 0 ||
	    fplen != FP_LEN)
		goto out;
	if (gnutls_pubkey_init(&key) < 0 || gnutls_pubkey_import_x509(key, crt, 0) < 0 ||
	    gnutls_pubkey_export2(key, GNUTLS_X509_FMT_DER, &spki) < 0)
		goto out;
	if (gnutls_hash_fast(GNUTLS_DIG_SHA256, spki.data, spki.size, digest) < 0)
		goto out;
	gnutls_datum_t d = {digest, sizeof(digest)};
	if (gnutls_base64_encode2(&d, &b64) < 0)
		goto out;
	size_t n = 0;
	for (unsigned int i = 0; i < b64.size; i++) /* it may end with a newline */
		if (!isspace(b64.data[i]) && n + 1 < PIN_LEN - 8)
			pin[8 + n++] = (char)b64.data[i];
	memcpy(pin, "sha256//", 8);
	pin[8 + n] = '\0';
	ret = n == 44 ? 0 : -1;
out:
	gnutls_free(spki.data);
	gnutls_free(b64.data);
	if (key)
		gnutls_pubkey_deinit(key);
	gnutls_x509_crt_deinit(crt);
	return ret;
}
