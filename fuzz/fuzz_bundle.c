/* libFuzzer target: the update bundle's readers on hostile input: the
 * parsers of common/bundlefmt.c (bundle.json, a member's header, the
 * bundle.sig line), each checked by making again what it read, and
 * keel-hostd's whole verifier (hostd/verify.c: verify_bundle) on a memfd.
 *
 * The first byte picks how: bit 0 set, the rest is bundle.json's length
 * (2 bytes, big-endian), bundle.json, then what follows bundle.sig (the
 * files and the end), and the harness makes the two first members and
 * signs bundle.json with the key it trusts, so that the verifier goes past
 * the signature; clear, the rest is the bundle as it is. Bit 1: the policy
 * takes an extension (else an image); bit 2: a running version, bit 3: a
 * downgrade allowed; bits 4-7 (modulo 3): the host's acceptance level.
 * The trusted keys: a directory made once, with an Ed25519 key generated
 * for the run. Seeds: fuzz/corpus/bundle. */
#include <gnutls/abstract.h>
#include <gnutls/gnutls.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "common/bundlefmt.h"
#include "hostd/verify.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static char trusted[64];
static gnutls_privkey_t key;
static unsigned char key_id[BUNDLE_KEYID_LEN];
static int bundle_fd = -1;

/* the key pair, its public key the one PEM file of `trusted` */
static void init(void)
{
	gnutls_pubkey_t pub;
	gnutls_datum_t pem;
	char path[128];
	strcpy(trusted, "/tmp/keel-fuzz-bundle-XXXXXX");
	if (!mkdtemp(trusted) || gnutls_privkey_init(&key) < 0 ||
	    gnutls_privkey_generate2(key, GNUTLS_PK_EDDSA_ED25519, 256, 0, NULL, 0) < 0 ||
	    gnutls_pubkey_init(&pub) < 0 || gnutls_pubkey_import_privkey(pub, key, 0, 0) < 0 ||
	    bundle_key_id(pub, key_id) < 0 ||
	    gnutls_pubkey_export2(pub, GNUTLS_X509_FMT_PEM, &pem) < 0)
		abort();
	snprintf(path, sizeof(path), "%s/fuzz.pem", trusted);
	FILE *f = fopen(path, "w");
	if (!f || fwrite(pem.data, 1, pem.size, f) != pem.size || fclose(f) != 0)
		abort();
	gnutls_free(pem.data);
	gnutls_pubkey_deinit(pub);
	if ((bundle_fd = memfd_create("bundle", 0)) < 0)
		abort();
}

/* n bytes at *at, padded to a block */
static void put(const void *p, size_t n, off_t *at)
{
	static const unsigned char zero[TAR_BLOCK];
	if (n && pwrite(bundle_fd, p, n, *at) != (ssize_t)n)
		abort();
	*at += (off_t)n;
	if (n % TAR_BLOCK && pwrite(bundle_fd, zero, tar_padding(n), *at) < 0)
		abort();
	*at += (off_t)tar_padding(n);
}

/* bundle.json and its bundle.sig, signed with the trusted key, then `rest` */
static void write_signed(const uint8_t *json, size_t len, const uint8_t *rest, size_t restlen)
{
	unsigned char h[TAR_BLOCK];
	char sig[BUNDLE_SIG_LEN + 1];
	gnutls_datum_t text = {(unsigned char *)json, (unsigned)len}, s = {0};
	off_t at = 0;
	if (gnutls_privkey_sign_data2(key, GNUTLS_SIGN_EDDSA_ED25519, 0, &text, &s) < 0 ||
	    s.size != BUNDLE_SIGNATURE_LEN)
		abort();
	bundle_sig_format(sig, key_id, s.data);
	gnutls_free(s.data);
	bundle_member_header(h, BUNDLE_JSON_NAME, len);
	put(h, sizeof(h), &at);
	put(json, len, &at);
	bundle_member_header(h, BUNDLE_SIG_NAME, BUNDLE_SIG_LEN);
	put(h, sizeof(h), &at);
	put(sig, BUNDLE_SIG_LEN, &at);
	if (restlen && pwrite(bundle_fd, rest, restlen, at) != (ssize_t)restlen)
		abort();
}

/* the parsers alone: what each accepts, it makes again byte for byte */
static void parsers(const uint8_t *data, size_t size)
{
	struct bundle_info info, again;
	unsigned char h[TAR_BLOCK] = {0}, made[TAR_BLOCK], id[BUNDLE_KEYID_LEN],
		      sig[BUNDLE_SIGNATURE_LEN];
	char name[BUNDLE_NAME_MAX], line[BUNDLE_SIG_LEN + 1], err[256];
	uint64_t len;
	if (bundle_info_parse((const char *)data, size, &info, err, sizeof(err)) == 0) {
		char *text = bundle_info_format(&info);
		if (!text || bundle_info_parse(text, strlen(text), &again, err, sizeof(err)) < 0 ||
		    memcmp(&info, &again, sizeof(info)) != 0)
			abort();
		free(text);
	}
	memcpy(h, data, size < TAR_BLOCK ? size : TAR_BLOCK);
	if (bundle_member_parse(h, name, &len, err, sizeof(err)) == 0) {
		bundle_member_header(made, name, len);
		if (memcmp(made, h, TAR_BLOCK) != 0)
			abort();
	}
	if (bundle_sig_parse((const char *)data, size, id, sig, err, sizeof(err)) == 0) {
		bundle_sig_format(line, id, sig);
		if (memcmp(line, data, BUNDLE_SIG_LEN) != 0)
			abort();
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (bundle_fd < 0)
		init();
	if (size < 1)
		return 0;
	unsigned flags = data[0];
	data++, size--;
	parsers(data, size);
	if (ftruncate(bundle_fd, 0) < 0)
		abort();
	if (flags & 1 && size >= 2) {
		size_t len = (size_t)data[0] << 8 | data[1];
		len = len < size - 2 ? len : size - 2;
		write_signed(data + 2, len, data + 2 + len, size - 2 - len);
	} else if (size && pwrite(bundle_fd, data, size, 0) != (ssize_t)size) {
		abort();
	}
	struct verify_policy policy = {
	    .trusted_dir = trusted,
	    .kind = flags & 2 ? BUNDLE_EXTENSION : BUNDLE_IMAGE,
	    .kernel = flags & 2 ? "6.1.0-keel" : NULL,
	    .running_version = flags & 4 ? "1.2.3" : NULL,
	    .allow_downgrade = flags & 8,
	    .acceptance = (int)(flags >> 4) % 3 + BUNDLE_COMMUNITY,
	};
	struct verified_bundle b;
	char err[512];
	off_t end = lseek(bundle_fd, 0, SEEK_END);
	if (verify_bundle(bundle_fd, &policy, &b, err, sizeof(err)) == 0)
		for (size_t i = 0; i < b.info.nfiles; i++) /* within the bundle */
			if (b.offset[i] < 2 * TAR_BLOCK ||
			    (uint64_t)b.offset[i] + b.info.files[i].size > (uint64_t)end)
				abort();
	return 0;
}
