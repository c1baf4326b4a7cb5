#include "common/bundlefmt.h"

#include "common/util.h"

#include <errno.h>
#include <gnutls/crypto.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

const char *const bundle_file_names[BUNDLE_FILES] = {"vmlinuz", "initramfs.img", "manifest.txt"};

static const char *const levels[] = {NULL, "community", "partner", "certified"};
static const char *const kinds[] = {NULL, "image", "extension"};

const char *bundle_kind_name(int kind)
{
	return kind == BUNDLE_IMAGE || kind == BUNDLE_EXTENSION ? kinds[kind] : "?";
}

int bundle_acceptance_parse(const char *name)
{
	for (int i = BUNDLE_COMMUNITY; i <= BUNDLE_CERTIFIED; i++)
		if (strcmp(name, levels[i]) == 0)
			return i;
	return -1;
}

const char *bundle_acceptance_name(int level)
{
	return level >= BUNDLE_COMMUNITY && level <= BUNDLE_CERTIFIED ? levels[level] : "?";
}

int bundle_version_parse(const char *s, unsigned v[3])
{
	for (int i = 0; i < 3; i++) {
		size_t n = strspn(s, "0123456789");
		if (n == 0 || n > 9 || (n > 1 && *s == '0') || s[n] != (i < 2 ? '.' : '\0'))
			return -1;
		v[i] = (unsigned)strtoul(s, NULL, 10); /* 9 digits: no overflow */
		s += n + 1;
	}
	return 0;
}

int bundle_version_compare(const unsigned a[3], const unsigned b[3])
{
	for (int i = 0; i < 3; i++)
		if (a[i] != b[i])
			return a[i] < b[i] ? -1 : 1;
	return 0;
}

/* 1 to max bytes, each of `set` */
static int word_of(const char *s, size_t max, const char *set)
{
	size_t n = strlen(s);
	return n >= 1 && n <= max && strspn(s, set) == n;
}

#define BUILD_CHARS  "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz._-"
#define ARCH_CHARS   "0123456789abcdefghijklmnopqrstuvwxyz_"
#define KERNEL_CHARS BUILD_CHARS "+"

/* one of an image's files */
static int image_file(const char *name)
{
	for (size_t k = 0; k < BUNDLE_FILES; k++)
		if (strcmp(name, bundle_file_names[k]) == 0)
			return 1;
	return 0;
}

/* lowercase only: one spelling of a hash */
static int lower_hex(char c)
{
	return c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

static int hex_decode(const char *hex, unsigned char *out, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		int hi = lower_hex(hex[2 * i]), lo = hi < 0 ? -1 : lower_hex(hex[2 * i + 1]);
		if (lo < 0)
			return -1;
		out[i] = (unsigned char)(hi << 4 | lo);
	}
	return 0;
}

static void hex_encode(const unsigned char *in, size_t n, char *out)
{
	for (size_t i = 0; i < n; i++)
		snprintf(out + 2 * i, 3, "%02x", in[i]);
}

/* obj's fields are exactly `names` (NULL-terminated); else a message,
 * after `what` (the object's name; "" for none) */
static int only_fields(json_t *obj, const char *what, const char *const names[], char *err,
		       size_t errlen)
{
	const char *key, *sep = *what ? ": " : "";
	json_t *v;
	json_object_foreach(obj, key, v)
	{
		size_t i = 0;
		while (names[i] && strcmp(names[i], key) != 0)
			i++;
		if (!names[i])
			return errorf(err, errlen, "%s%sunknown field \"%.40s\"", what, sep, key);
	}
	for (size_t i = 0; names[i]; i++)
		if (!json_object_get(obj, names[i]))
			return errorf(err, errlen, "%s%sno field \"%s\"", what, sep, names[i]);
	return 0;
}

/* a string field of at most max bytes into out; else a message */
static int string_field(json_t *obj, const char *name, char *out, size_t max, char *err,
			size_t errlen)
{
	const char *s = json_string_value(json_object_get(obj, name));
	if (!s || str_copy(out, max, s) < 0)
		return errorf(err, errlen, "%s: not a string of at most %zu bytes", name, max - 1);
	return 0;
}

static int file_parse(json_t *f, size_t i, struct bundle_info *info, char *err, size_t errlen)
{
	static const char *const fields[] = {"name", "size", "sha256", NULL};
	struct bundle_file *bf = &info->files[i];
	int image = info->kind == BUNDLE_IMAGE;
	uint64_t max = image ? BUNDLE_FILE_MAX : BUNDLE_MODULE_MAX;
	char sha[65], what[32];
	snprintf(what, sizeof(what), "files[%zu]", i);
	if (!json_is_object(f))
		return errorf(err, errlen, "%s: not an object", what);
	if (only_fields(f, what, fields, err, errlen) < 0 ||
	    string_field(f, "name", bf->name, sizeof(bf->name), err, errlen) < 0 ||
	    string_field(f, "sha256", sha, sizeof(sha), err, errlen) < 0)
		return -1;
	if (image && !image_file(bf->name))
		return errorf(err, errlen,
			      "%s: not a file of an image (vmlinuz, initramfs.img, manifest.txt)",
			      what);
	if (!image && !ext_module_ok(bf->name))
		return errorf(err, errlen,
			      "%s: not a kernel module's name (1 to %d of a-z, 0-9, '_', '-', "
			      "then .ko)",
			      what, EXT_MODULE_STEM_MAX);
	for (size_t j = 0; j < i; j++)
		if (strcmp(info->files[j].name, bf->name) == 0)
			return errorf(err, errlen, "%s: %s listed twice", what, bf->name);
	json_t *size = json_object_get(f, "size");
	if (!json_is_integer(size) || json_integer_value(size) < 1 ||
	    (uint64_t)json_integer_value(size) > max)
		return errorf(err, errlen, "%s: size: not a number of bytes from 1 to %llu", what,
			      (unsigned long long)max);
	bf->size = (uint64_t)json_integer_value(size);
	if (strlen(sha) != 64 || hex_decode(sha, bf->sha256, 32) < 0)
		return errorf(err, errlen, "%s: sha256: not 64 lowercase hexadecimal digits", what);
	return 0;
}

/* the kind, and the fields of that kind */
static int kind_parse(json_t *j, struct bundle_info *info, char *err, size_t errlen)
{
	static const char *const image[] = {"format", "product",    "kind",  "version", "build",
					    "arch",   "acceptance", "files", NULL};
	static const char *const extension[] = {"format",     "product", "kind",  "name",
						"kernel",     "version", "build", "arch",
						"acceptance", "files",	 NULL};
	char kind[16];
	if (string_field(j, "kind", kind, sizeof(kind), err, errlen) < 0)
		return -1;
	if (strcmp(kind, kinds[BUNDLE_IMAGE]) == 0)
		info->kind = BUNDLE_IMAGE;
	else if (strcmp(kind, kinds[BUNDLE_EXTENSION]) == 0)
		info->kind = BUNDLE_EXTENSION;
	else
		return errorf(err, errlen, "kind: not image or extension");
	if (only_fields(j, "", info->kind == BUNDLE_IMAGE ? image : extension, err, errlen) < 0)
		return -1;
	if (info->kind == BUNDLE_IMAGE)
		return 0;
	if (string_field(j, "name", info->name, sizeof(info->name), err, errlen) < 0 ||
	    string_field(j, "kernel", info->kernel, sizeof(info->kernel), err, errlen) < 0)
		return -1;
	if (!ext_name_ok(info->name))
		return errorf(err, errlen,
			      "name: not 1 to %d of a-z, 0-9, '_', '-' (a letter or digit first)",
			      EXT_NAME_MAX);
	if (!word_of(info->kernel, sizeof(info->kernel) - 1, KERNEL_CHARS))
		return errorf(err, errlen,
			      "kernel: not a kernel release (1 to 64 of 0-9, A-Z, "
			      "a-z, '.', '_', '-', '+')");
	return 0;
}

static int info_parse(json_t *j, struct bundle_info *info, char *err, size_t errlen)
{
	char product[16], acceptance[16];
	if (!json_is_object(j))
		return errorf(err, errlen, "not a JSON object");
	if (kind_parse(j, info, err, errlen) < 0)
		return -1;
	json_t *format = json_object_get(j, "format");
	if (!json_is_integer(format) || json_integer_value(format) != BUNDLE_FORMAT)
		return errorf(err, errlen, "format: not %d, the one this host reads",
			      BUNDLE_FORMAT);
	if (string_field(j, "product", product, sizeof(product), err, errlen) < 0 ||
	    string_field(j, "version", info->version, sizeof(info->version), err, errlen) < 0 ||
	    string_field(j, "build", info->build, sizeof(info->build), err, errlen) < 0 ||
	    string_field(j, "arch", info->arch, sizeof(info->arch), err, errlen) < 0 ||
	    string_field(j, "acceptance", acceptance, sizeof(acceptance), err, errlen) < 0)
		return -1;
	if (strcmp(product, BUNDLE_PRODUCT) != 0)
		return errorf(err, errlen, "product: not \"%s\"", BUNDLE_PRODUCT);
	if (bundle_version_parse(info->version, info->version_num) < 0)
		return errorf(err, errlen, "version: not MAJOR.MINOR.PATCH");
	if (!word_of(info->build, sizeof(info->build) - 1, BUILD_CHARS))
		return errorf(err, errlen, "build: not 1 to 40 of 0-9, A-Z, a-z, '.', '_', '-'");
	if (!word_of(info->arch, sizeof(info->arch) - 1, ARCH_CHARS))
		return errorf(err, errlen, "arch: not 1 to 16 of a-z, 0-9, '_'");
	if ((info->acceptance = bundle_acceptance_parse(acceptance)) < 0)
		return errorf(err, errlen, "acceptance: not certified, partner or community");
	json_t *files = json_object_get(j, "files");
	size_t n = json_array_size(files);
	if (info->kind == BUNDLE_IMAGE && (!json_is_array(files) || n != BUNDLE_FILES))
		return errorf(err, errlen, "files: not a list of %d files", BUNDLE_FILES);
	if (info->kind == BUNDLE_EXTENSION &&
	    (!json_is_array(files) || n < 1 || n > BUNDLE_FILES_MAX))
		return errorf(err, errlen, "files: not a list of 1 to %d modules",
			      BUNDLE_FILES_MAX);
	for (info->nfiles = 0; info->nfiles < n; info->nfiles++)
		if (file_parse(json_array_get(files, info->nfiles), info->nfiles, info, err,
			       errlen) < 0)
			return -1;
	return 0;
}

int bundle_info_parse(const char *json, size_t len, struct bundle_info *info, char *err,
		      size_t errlen)
{
	json_error_t jerr;
	memset(info, 0, sizeof(*info));
	if (len > BUNDLE_JSON_MAX)
		return errorf(err, errlen, "%s: larger than %d bytes", BUNDLE_JSON_NAME,
			      BUNDLE_JSON_MAX);
	json_t *j = json_loadb(json, len, JSON_REJECT_DUPLICATES, &jerr);
	if (!j)
		return errorf(err, errlen, "%s: not JSON: %s (line %d)", BUNDLE_JSON_NAME,
			      jerr.text, jerr.line);
	char why[200];
	int rc = info_parse(j, info, why, sizeof(why));
	json_decref(j);
	if (rc < 0)
		return errorf(err, errlen, "%s: %s", BUNDLE_JSON_NAME, why);
	return 0;
}

char *bundle_info_format(const struct bundle_info *info)
{
	unsigned v[3];
	if (bundle_version_parse(info->version, v) < 0 ||
	    !word_of(info->build, sizeof(info->build) - 1, BUILD_CHARS) ||
	    !word_of(info->arch, sizeof(info->arch) - 1, ARCH_CHARS) ||
	    bundle_acceptance_parse(bundle_acceptance_name(info->acceptance)) < 0 ||
	    (info->kind != BUNDLE_IMAGE && info->kind != BUNDLE_EXTENSION) ||
	    info->nfiles > BUNDLE_FILES_MAX ||
	    (info->kind == BUNDLE_EXTENSION &&
	     (!ext_name_ok(info->name) ||
	      !word_of(info->kernel, sizeof(info->kernel) - 1, KERNEL_CHARS))))
		return NULL;
	json_t *files = json_array();
	for (size_t i = 0; i < info->nfiles; i++) {
		char sha[65];
		hex_encode(info->files[i].sha256, 32, sha);
		json_array_append_new(files, json_pack("{s:s,s:I,s:s}", "name", info->files[i].name,
						       "size", (json_int_t)info->files[i].size,
						       "sha256", sha));
	}
	json_t *j = json_pack("{s:i,s:s,s:s}", "format", BUNDLE_FORMAT, "product", BUNDLE_PRODUCT,
			      "kind", bundle_kind_name(info->kind));
	if (j && info->kind == BUNDLE_EXTENSION) {
		json_object_set_new(j, "name", json_string(info->name));
		json_object_set_new(j, "kernel", json_string(info->kernel));
	}
	if (j) {
		json_object_set_new(j, "version", json_string(info->version));
		json_object_set_new(j, "build", json_string(info->build));
		json_object_set_new(j, "arch", json_string(info->arch));
		json_object_set_new(j, "acceptance",
				    json_string(bundle_acceptance_name(info->acceptance)));
		json_object_set(j, "files", files);
	}
	json_decref(files);
	char *text = j ? json_dumps(j, JSON_INDENT(2) | JSON_PRESERVE_ORDER) : NULL;
	json_decref(j);
	return text;
}

void bundle_member_header(unsigned char h[TAR_BLOCK], const char *name, uint64_t size)
{
	tar_header(h, name, size, 0, BUNDLE_MEMBER_MODE); /* a short name: cannot fail */
}

int bundle_member_parse(const unsigned char h[TAR_BLOCK], char name[BUNDLE_NAME_MAX],
			uint64_t *size, char *err, size_t errlen)
{
	size_t n = strnlen((const char *)h, 100);
	if (n >= BUNDLE_NAME_MAX)
		return errorf(err, errlen, "a member whose name is not one a bundle has");
	memcpy(name, h, n);
	name[n] = '\0';
	if (strcmp(name, BUNDLE_JSON_NAME) != 0 && strcmp(name, BUNDLE_SIG_NAME) != 0 &&
	    !image_file(name) && !ext_module_ok(name)) {
		/* the name is shown only when it is made of harmless characters */
		if (n > 0 && n <= 40 && strspn(name, BUILD_CHARS "/") == n)
			return errorf(err, errlen,
				      "a member named \"%.40s\": a bundle holds only bundle.json, "
				      "bundle.sig, and an image's files or kernel modules",
				      name);
		return errorf(err, errlen, "a member whose name is not one a bundle has");
	}
	/* the size: exactly 11 octal digits (anything else, base-256 included,
	 * is not a header of ours) */
	*size = 0;
	for (int i = 124; i < 135; i++) {
		if (h[i] < '0' || h[i] > '7')
			return errorf(err, errlen, "%s: its header's size is not a size", name);
		*size = *size << 3 | (uint64_t)(h[i] - '0');
	}
	unsigned char want[TAR_BLOCK];
	bundle_member_header(want, name, *size);
	if (memcmp(want, h, TAR_BLOCK) != 0)
		return errorf(err, errlen, "%s: its header is not a bundle's (a changed byte)",
			      name);
	return 0;
}

void bundle_sig_format(char out[BUNDLE_SIG_LEN + 1], const unsigned char keyid[BUNDLE_KEYID_LEN],
		       const unsigned char sig[BUNDLE_SIGNATURE_LEN])
{
	memcpy(out, "ed25519 ", 8);
	hex_encode(keyid, BUNDLE_KEYID_LEN, out + 8);
	out[8 + 2 * BUNDLE_KEYID_LEN] = ' ';
	hex_encode(sig, BUNDLE_SIGNATURE_LEN, out + 9 + 2 * BUNDLE_KEYID_LEN);
	out[BUNDLE_SIG_LEN - 1] = '\n';
	out[BUNDLE_SIG_LEN] = '\0';
}

int bundle_sig_parse(const char *buf, size_t len, unsigned char keyid[BUNDLE_KEYID_LEN],
		     unsigned char sig[BUNDLE_SIGNATURE_LEN], char *err, size_t errlen)
{
	const char *id = buf + 8, *s = id + 2 * BUNDLE_KEYID_LEN + 1;
	if (len != BUNDLE_SIG_LEN || memcmp(buf, "ed25519 ", 8) != 0 ||
	    hex_decode(id, keyid, BUNDLE_KEYID_LEN) < 0 || id[2 * BUNDLE_KEYID_LEN] != ' ' ||
	    hex_decode(s, sig, BUNDLE_SIGNATURE_LEN) < 0 || buf[len - 1] != '\n')
		return errorf(err, errlen,
			      "%s: not one line \"ed25519 KEYID SIGNATURE\" (%d bytes)",
			      BUNDLE_SIG_NAME, BUNDLE_SIG_LEN);
	return 0;
}

int bundle_key_id(gnutls_pubkey_t key, unsigned char id[BUNDLE_KEYID_LEN])
{
	size_t n = BUNDLE_KEYID_LEN;
	return gnutls_pubkey_get_key_id(key, GNUTLS_KEYID_USE_SHA256, id, &n) == 0 &&
		       n == BUNDLE_KEYID_LEN
		   ? 0
		   : -1;
}

int bundle_copy_hash(int in, off_t off, uint64_t len, int out, unsigned char digest[32])
{
	enum { CHUNK = 256 * 1024 };
	gnutls_hash_hd_t hash;
	char *buf = malloc(CHUNK);
	if (!buf || gnutls_hash_init(&hash, GNUTLS_DIG_SHA256) < 0) {
		free(buf);
		return -ENOMEM;
	}
	int rc = 0;
	while (len > 0 && rc == 0) {
		ssize_t n = pread(in, buf, len < CHUNK ? (size_t)len : CHUNK, off);
		if (n <= 0) {
			rc = n < 0 && errno != EINTR ? -errno : n == 0 ? -EIO : 0;
			continue;
		}
		gnutls_hash(hash, buf, (size_t)n);
		if (out >= 0 && write_all(out, buf, (size_t)n) < 0)
			rc = -errno;
		off += n;
		len -= (uint64_t)n;
	}
	gnutls_hash_deinit(hash, digest);
	free(buf);
	return rc;
}
