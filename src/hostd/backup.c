#include "hostd/backup.h"

#include "common/hostconf.h"
#include "common/log.h"
#include "common/util.h"
#include "hostd/db.h"
#include "hostd/error.h"
#include "hostd/tar.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <gnutls/crypto.h>
#include <gnutls/gnutls.h>
#include <jansson.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define CONFIG	   "/config"
#define UUID_FILE  CONFIG "/host-uuid"
#define BUILD_FILE "/etc/keel/build"
#define MAGIC	   "KEELBKP1"
#define HEADER_MAX 4096
#define ITERATIONS 100000
#define TAG_LEN	   16
#define NONCE_LEN  12
#define SALT_LEN   16
#define MEMBER_MAX (32u << 20) /* one file of the payload */
#define TMP_DB	   "/run/keel/backup.db"

/* --- the host's identity ---------------------------------------------------- */

static pthread_once_t uuid_once = PTHREAD_ONCE_INIT;
static char uuid[37];

static int uuid_valid(const char *s)
{
	if (strlen(s) != 36)
		return 0;
	int nonzero = 0;
	for (int i = 0; i < 36; i++) {
		int dash = i == 8 || i == 13 || i == 18 || i == 23;
		if (dash ? s[i] != '-' : !strchr("0123456789abcdef", s[i]))
			return 0;
		nonzero |= !dash && s[i] != '0' && s[i] != 'f';
	}
	return nonzero; /* all zeros or all ones: firmware that set none */
}

/* the UUID in file `path` (case folded), if it holds a valid one */
static int uuid_from(const char *path)
{
	char *text = read_file(path, 64, NULL);
	for (char *p = text; p && *p; p++)
		*p = (char)(*p >= 'A' && *p <= 'F' ? *p - 'A' + 'a' : *p);
	int ok =
	    text && uuid_valid(str_trim(text)) && str_copy(uuid, sizeof(uuid), str_trim(text)) == 0;
	free(text);
	return ok;
}

static void uuid_init(void)
{
	if (uuid_from("/sys/class/dmi/id/product_uuid") || uuid_from(UUID_FILE))
		return;
	unsigned char b[16];
	if (getrandom(b, sizeof(b), 0) != (ssize_t)sizeof(b))
		return;
	b[6] = (unsigned char)((b[6] & 0x0f) | 0x40); /* version 4 */
	b[8] = (unsigned char)((b[8] & 0x3f) | 0x80);
	snprintf(uuid, sizeof(uuid),
		 "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x", b[0], b[1],
		 b[2], b[3], b[4], b[5], b[6], b[7], b[8], b[9], b[10], b[11], b[12], b[13], b[14],
		 b[15]);
	char line[40];
	int k = snprintf(line, sizeof(line), "%s\n", uuid);
	if (write_file_atomic(UUID_FILE, line, (size_t)k, 0644) < 0)
		log_errno("cannot write " UUID_FILE);
}

const char *backup_host_uuid(void)
{
	pthread_once(&uuid_once, uuid_init);
	return uuid;
}

/* "keel-commit: ..." of the image's build file */
static void build_id(char *out, size_t n)
{
	char *text = read_file(BUILD_FILE, 4096, NULL),
	     *p = text ? strstr(text, "keel-commit: ") : NULL;
	str_copy(out, n, "unknown");
	if (p) {
		p += 13;
		p[strcspn(p, "\n")] = '\0';
		str_copy(out, n, p);
	}
	free(text);
}

/* --- a growing buffer --------------------------------------------------------- */

struct buf {
	unsigned char *p;
	size_t len, cap;
};

static int buf_add(struct buf *b, const void *data, size_t len)
{
	if (len > BACKUP_MAX - b->len)
		return -1;
	if (b->len + len > b->cap) {
		size_t cap = b->cap ? b->cap : 65536;
		while (cap < b->len + len)
			cap *= 2;
		unsigned char *p = realloc(b->p, cap);
		if (!p)
			return -1;
		b->p = p;
		b->cap = cap;
	}
	memcpy(b->p + b->len, data, len);
	b->len += len;
	return 0;
}

/* name (tar member) with `len` bytes of data into the archive */
static int tar_add(struct buf *b, const char *name, const void *data, size_t len)
{
	unsigned char h[TAR_BLOCK], zero[TAR_BLOCK] = {0};
	if (tar_header(h, name, len, time(NULL), 0600) < 0 || buf_add(b, h, sizeof(h)) < 0 ||
	    buf_add(b, data, len) < 0 || buf_add(b, zero, tar_padding(len)) < 0)
		return -1;
	return 0;
}

static int tar_add_file(struct buf *b, const char *name, const char *path)
{
	size_t len;
	char *data = read_file(path, MEMBER_MAX, &len);
	if (!data)
		return errno == ENOENT ? 0 : -1;
	int rc = tar_add(b, name, data, len);
	free(data);
	return rc;
}

/* every regular file of /config/DIR as DIR/NAME */
static int tar_add_dir(struct buf *b, const char *dir)
{
	char path[512], name[300];
	snprintf(path, sizeof(path), CONFIG "/%s", dir);
	DIR *d = opendir(path);
	if (!d)
		return errno == ENOENT ? 0 : -1;
	int rc = 0;
	struct dirent *e;
	while (rc == 0 && (e = readdir(d)))
		if (e->d_type == DT_REG) {
			snprintf(name, sizeof(name), "%s/%s", dir, e->d_name);
			snprintf(path, sizeof(path), CONFIG "/%s/%s", dir, e->d_name);
			rc = tar_add_file(b, name, path);
		}
	closedir(d);
	return rc;
}

/* A consistent copy of the inventory (SQLite's online backup), without
 * its sessions: a restored host starts with none. */
static int tar_add_db(struct buf *b)
{
	int rc = db_copy(TMP_DB);
	if (rc == 0)
		rc = tar_add_file(b, "keel.db", TMP_DB);
	unlink(TMP_DB);
	return rc;
}

/* --- encryption ------------------------------------------------------------------ */

static int derive(const char *passphrase, const unsigned char *salt, unsigned iterations,
		  unsigned char key[32])
{
	gnutls_datum_t pw = {(unsigned char *)passphrase, (unsigned)strlen(passphrase)};
	gnutls_datum_t s = {(unsigned char *)salt, SALT_LEN};
	return gnutls_pbkdf2(GNUTLS_MAC_SHA256, &pw, &s, iterations, key, 32) == 0 ? 0 : -1;
}

/* AES-256-GCM of in (len) into out (len + TAG_LEN), `ad` authenticated;
 * decrypt: the other way, -1 if the tag does not match. */
static int gcm(int decrypt, const unsigned char key[32], const unsigned char *nonce, const void *ad,
	       size_t adlen, const unsigned char *in, size_t len, unsigned char *out,
	       size_t *outlen)
{
	gnutls_aead_cipher_hd_t h;
	gnutls_datum_t k = {(unsigned char *)key, 32};
	if (gnutls_aead_cipher_init(&h, GNUTLS_CIPHER_AES_256_GCM, &k) < 0)
		return -1;
	int rc = decrypt ? gnutls_aead_cipher_decrypt(h, nonce, NONCE_LEN, ad, adlen, TAG_LEN, in,
						      len, out, outlen)
			 : gnutls_aead_cipher_encrypt(h, nonce, NONCE_LEN, ad, adlen, TAG_LEN, in,
						      len, out, outlen);
	gnutls_aead_cipher_deinit(h);
	return rc < 0 ? -1 : 0;
}

static json_t *b64(const unsigned char *p, size_t n)
{
	gnutls_datum_t in = {(unsigned char *)p, (unsigned)n}, out;
	if (gnutls_base64_encode2(&in, &out) < 0)
		return NULL;
	json_t *s = json_stringn((const char *)out.data, out.size);
	gnutls_free(out.data);
	return s;
}

/* base64 of `v` into exactly n bytes */
static int unb64(const json_t *v, unsigned char *p, size_t n)
{
	const char *s = json_string_value(v);
	gnutls_datum_t in = {(unsigned char *)s, s ? (unsigned)strlen(s) : 0}, out = {0};
	int ok = s && gnutls_base64_decode2(&in, &out) == 0 && out.size == n;
	if (ok)
		memcpy(p, out.data, n);
	gnutls_free(out.data);
	return ok ? 0 : -1;
}

/* --- backup ------------------------------------------------------------------------- */

int backup_make(const char *passphrase, int *fd, uint64_t *size, char *err, size_t errlen)
{
	if (strlen(passphrase) < BACKUP_PASSPHRASE_MIN)
		return error_set(err, errlen, -EINVAL, "passphrase: at least %d characters",
				 BACKUP_PASSPHRASE_MIN);
	struct buf tar = {0}, out = {0};
	unsigned char salt[SALT_LEN], nonce[NONCE_LEN], key[32], zero[TAR_TRAILER] = {0};
	char build[64], host[256] = "";
	build_id(build, sizeof(build));
	gethostname(host, sizeof(host) - 1);
	int rc = -EIO;
	json_t *hdr = NULL;
	char *text = NULL;
	if (tar_add_file(&tar, "host.conf", HOSTCONF_FILE) < 0 || tar_add_db(&tar) < 0 ||
	    tar_add_dir(&tar, "tls") < 0 || tar_add_dir(&tar, "ssh") < 0 ||
	    buf_add(&tar, zero, sizeof(zero)) < 0) {
		rc = error_set(err, errlen, -EIO, "cannot read the configuration: %s",
			       strerror(errno));
		goto out;
	}
	if (getrandom(salt, sizeof(salt), 0) != SALT_LEN ||
	    getrandom(nonce, sizeof(nonce), 0) != NONCE_LEN ||
	    derive(passphrase, salt, ITERATIONS, key) < 0) {
		rc = error_set(err, errlen, -EIO, "cannot make the key");
		goto out;
	}
	hdr = json_pack("{s:i,s:s,s:s,s:s,s:s,s:s,s:I,s:{s:s,s:i,s:o},s:s,s:o}", "format", 1,
			"product", "keel", "version", KEEL_VERSION, "build", build, "host_uuid",
			backup_host_uuid(), "hostname", host, "created", (json_int_t)time(NULL),
			"kdf", "name", "pbkdf2-sha256", "iterations", ITERATIONS, "salt",
			b64(salt, sizeof(salt)), "cipher", "aes-256-gcm", "nonce",
			b64(nonce, sizeof(nonce)));
	text = hdr ? json_dumps(hdr, JSON_COMPACT | JSON_SORT_KEYS) : NULL;
	size_t hlen = text ? strlen(text) : 0, clen = tar.len + TAG_LEN;
	unsigned char be[4] = {(unsigned char)(hlen >> 24), (unsigned char)(hlen >> 16),
			       (unsigned char)(hlen >> 8), (unsigned char)hlen};
	if (!text || hlen > HEADER_MAX || buf_add(&out, MAGIC, 8) < 0 || buf_add(&out, be, 4) < 0 ||
	    buf_add(&out, text, hlen) < 0 || buf_add(&out, tar.p, tar.len) < 0 ||
	    buf_add(&out, zero, TAG_LEN) < 0 ||
	    gcm(0, key, nonce, text, hlen, tar.p, tar.len, out.p + 12 + hlen, &clen) < 0) {
		rc = error_set(err, errlen, -EIO, "cannot encrypt the backup");
		goto out;
	}
	int f = open("/run/keel", O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
	size_t done = 0;
	ssize_t k = 0;
	while (f >= 0 && done < out.len && (k = write(f, out.p + done, out.len - done)) > 0)
		done += (size_t)k;
	if (f < 0 || done < out.len || lseek(f, 0, SEEK_SET) != 0) {
		rc = error_set(err, errlen, -EIO, "cannot write the backup: %s", strerror(errno));
		if (f >= 0)
			close(f);
		goto out;
	}
	*fd = f;
	*size = out.len;
	rc = 0;
out:
	gnutls_memset(key, 0, sizeof(key));
	if (tar.p)
		gnutls_memset(tar.p, 0, tar.len);
	free(tar.p);
	free(out.p);
	free(text);
	json_decref(hdr);
	return rc;
}

/* --- restore ------------------------------------------------------------------------ */

/* A member name of the payload: host.conf, keel.db, or tls/ or ssh/ and a
 * plain file name. */
static int member_ok(const char *name)
{
	if (strcmp(name, "host.conf") == 0 || strcmp(name, "keel.db") == 0)
		return 1;
	if (strncmp(name, "tls/", 4) && strncmp(name, "ssh/", 4))
		return 0;
	const char *f = name + 4;
	size_t n = strlen(f);
	return n > 0 && n <= 64 && f[0] != '.' &&
	       strspn(f, "abcdefghijklmnopqrstuvwxyz"
			 "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-") == n;
}

static int remove_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(path);
}

/* Writes the payload's members into RESTORE_DIR (made anew), each checked. */
static int stage(const unsigned char *tar, size_t len, char *err, size_t errlen)
{
	if ((nftw(RESTORE_DIR, remove_entry, 8, FTW_DEPTH | FTW_PHYS) < 0 && errno != ENOENT) ||
	    mkdir(RESTORE_DIR, 0700) < 0 || mkdir(RESTORE_DIR "/tls", 0700) < 0 ||
	    mkdir(RESTORE_DIR "/ssh", 0700) < 0)
		return error_set(err, errlen, -EIO, "cannot make " RESTORE_DIR);
	int db = 0;
	for (size_t off = 0; len >= TAR_BLOCK && off <= len - TAR_BLOCK;) {
		const unsigned char *h = tar + off;
		if (h[0] == '\0')
			break; /* the trailer */
		char name[101], sz[13];
		memcpy(name, h, 100);
		name[100] = '\0';
		memcpy(sz, h + 124, 12);
		sz[12] = '\0';
		char *end;
		unsigned long long size = strtoull(sz, &end, 8);
		off += TAR_BLOCK;
		if (memcmp(h + 257, "ustar", 5) != 0 || (h[156] != '0' && h[156] != '\0') ||
		    h[345] != '\0' || end == sz || (*end != '\0' && *end != ' ') ||
		    !member_ok(name) || size > MEMBER_MAX || size > len - off)
			return error_set(err, errlen, -EINVAL,
					 "the backup holds an unexpected "
					 "member");
		char path[160];
		snprintf(path, sizeof(path), RESTORE_DIR "/%s", name);
		if (write_file(path, (const char *)tar + off, (size_t)size, 0600) < 0)
			return error_set(err, errlen, -EIO, "cannot write %s", path);
		db |= strcmp(name, "keel.db") == 0;
		size_t skip = (size_t)size + tar_padding(size);
		off += skip <= len - off ? skip : len - off;
	}
	if (!db)
		return error_set(err, errlen, -EINVAL, "the backup holds no inventory");
	sync();
	return 0;
}

/* The header of a backup (its length into *hlen), or NULL: not a backup,
 * or one damaged there. */
static json_t *header(const unsigned char *data, size_t len, size_t *hlen)
{
	if (len < 12 + TAG_LEN || memcmp(data, MAGIC, 8) != 0)
		return NULL;
	*hlen = (size_t)data[8] << 24 | (size_t)data[9] << 16 | (size_t)data[10] << 8 | data[11];
	if (*hlen > HEADER_MAX || *hlen > len - 12 - TAG_LEN)
		return NULL;
	json_error_t jerr;
	json_t *hdr = json_loadb((const char *)data + 12, *hlen, JSON_REJECT_DUPLICATES, &jerr);
	if (json_is_object(hdr) && json_integer_value(json_object_get(hdr, "format")) == 1 &&
	    strcmp(json_string_value(json_object_get(hdr, "product")) ?: "", "keel") == 0 &&
	    json_is_string(json_object_get(hdr, "build")) &&
	    json_is_string(json_object_get(hdr, "host_uuid")))
		return hdr;
	json_decref(hdr);
	return NULL;
}

static int not_backup(char *err, size_t errlen)
{
	return error_set(err, errlen, -EINVAL, "not a Keel configuration backup, or a damaged one");
}

int backup_describe(const unsigned char *data, size_t len, json_t **info, char *err, size_t errlen)
{
	size_t hlen;
	json_t *hdr = header(data, len, &hlen);
	*info = NULL;
	if (!hdr)
		return not_backup(err, errlen);
	*info = json_pack("{s:O?,s:O?,s:O?,s:O?,s:O?,s:I}", "version",
			  json_object_get(hdr, "version"), "build", json_object_get(hdr, "build"),
			  "host_uuid", json_object_get(hdr, "host_uuid"), "hostname",
			  json_object_get(hdr, "hostname"), "created",
			  json_object_get(hdr, "created"), "size", (json_int_t)len);
	json_decref(hdr);
	return *info ? 0 : error_set(err, errlen, -ENOMEM, "out of memory");
}

int backup_restore(const unsigned char *data, size_t len, const char *passphrase, bool force,
		   char *err, size_t errlen)
{
	size_t hlen;
	json_t *hdr = header(data, len, &hlen);
	if (!hdr)
		return not_backup(err, errlen);
	unsigned char salt[SALT_LEN], nonce[NONCE_LEN], key[32];
	json_t *kdf = json_object_get(hdr, "kdf");
	json_int_t iter = json_integer_value(json_object_get(kdf, "iterations"));
	const char *build = json_string_value(json_object_get(hdr, "build")),
		   *host = json_string_value(json_object_get(hdr, "host_uuid"));
	char mine[64];
	build_id(mine, sizeof(mine));
	int rc = 0;
	if (strcmp(json_string_value(json_object_get(kdf, "name")) ?: "", "pbkdf2-sha256") != 0 ||
	    strcmp(json_string_value(json_object_get(hdr, "cipher")) ?: "", "aes-256-gcm") != 0 ||
	    iter < 1000 || iter > 10000000 ||
	    unb64(json_object_get(kdf, "salt"), salt, sizeof(salt)) < 0 ||
	    unb64(json_object_get(hdr, "nonce"), nonce, sizeof(nonce)) < 0)
		rc = error_set(err, errlen, -EINVAL, "the backup is damaged (its header)");
	else if (!force && strcmp(build, mine) != 0)
		rc = error_set(err, errlen, -EBUSY,
			       "the backup is of build %s, this host runs %s (force to restore "
			       "anyway)",
			       build, mine);
	else if (!force && strcmp(host, backup_host_uuid()) != 0)
		rc = error_set(err, errlen, -EBUSY,
			       "the backup is of host %s, this is %s (force to restore anyway)",
			       host, backup_host_uuid());
	else if (derive(passphrase, salt, (unsigned)iter, key) < 0)
		rc = error_set(err, errlen, -EIO, "cannot make the key");
	if (rc < 0) {
		json_decref(hdr);
		return rc;
	}
	size_t clen = len - 12 - hlen, plen = clen;
	unsigned char *plain = malloc(clen);
	if (!plain)
		rc = error_set(err, errlen, -ENOMEM, "out of memory");
	else if (gcm(1, key, nonce, data + 12, hlen, data + 12 + hlen, clen, plain, &plen) < 0)
		rc = error_set(err, errlen, -EINVAL,
			       "the passphrase is wrong, or the backup was changed");
	else if ((rc = stage(plain, plen, err, errlen)) == 0 &&
		 write_file(RESTORE_FILE, "", 0, 0600) < 0)
		rc = error_set(err, errlen, -EIO, "cannot write " RESTORE_FILE);
	if (plain)
		gnutls_memset(plain, 0, clen);
	gnutls_memset(key, 0, sizeof(key));
	free(plain);
	if (rc == 0)
		log_notice("configuration restore staged: build %s, host %s; applied at the next "
			   "boot",
			   build, host);
	json_decref(hdr);
	return rc;
}
