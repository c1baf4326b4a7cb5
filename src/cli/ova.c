#include "cli/ova.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include <gnutls/crypto.h>

#include "cli/mem.h"
#include "cli/output.h"
#include "common/util.h"

#define BLOCK	 512
#define COPY_BUF (1 << 20)

/* a numeric field: octal digits (spaces and NULs around them), or GNU's
 * base-256 (the first byte's top bit set) */
static int field_number(const unsigned char *f, size_t len, uint64_t *out)
{
	uint64_t v = 0;
	if (f[0] & 0x80) {
		if (f[0] != 0x80)
			return -1; /* negative, or more than 8 bytes */
		for (size_t i = 1; i < len; i++) {
			if (v >> 56)
				return -1;
			v = v << 8 | f[i];
		}
		*out = v;
		return 0;
	}
	size_t i = 0;
	while (i < len && f[i] == ' ')
		i++;
	bool digits = false;
	for (; i < len && f[i] >= '0' && f[i] <= '7'; i++, digits = true) {
		if (v >> 60)
			return -1;
		v = v << 3 | (uint64_t)(f[i] - '0');
	}
	for (; i < len; i++)
		if (f[i] != ' ' && f[i] != '\0')
			return -1;
	*out = v;
	return digits ? 0 : -1;
}

static bool checksum_ok(const unsigned char *h)
{
	uint64_t want;
	if (field_number(h + 148, 8, &want) < 0)
		return false;
	uint64_t sum = 0;
	for (int i = 0; i < BLOCK; i++)
		sum += i >= 148 && i < 156 ? ' ' : h[i];
	return sum == want;
}

static int read_at(int fd, void *buf, size_t len, uint64_t off)
{
	size_t done = 0;
	while (done < len) {
		ssize_t n = pread(fd, (char *)buf + done, len - done, (off_t)(off + done));
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			errno = n == 0 ? EIO : errno;
			return -1;
		}
		done += (size_t)n;
	}
	return 0;
}

/* a pax extended header's "path" and "size" records (others ignored) */
static int pax_records(const char *data, size_t len, char *path, size_t pathlen, uint64_t *size,
		       bool *has_size)
{
	size_t at = 0;
	while (at < len) {
		char *end;
		unsigned long n = strtoul(data + at, &end, 10);
		if (end == data + at || *end != ' ' || n == 0 || n > len - at ||
		    data[at + n - 1] != '\n')
			return -1;
		const char *kv = end + 1;
		size_t kvlen = (size_t)(data + at + n - 1 - kv);
		if (kvlen > 5 && strncmp(kv, "path=", 5) == 0 && kvlen - 5 < pathlen) {
			memcpy(path, kv + 5, kvlen - 5);
			path[kvlen - 5] = '\0';
		} else if (kvlen > 5 && strncmp(kv, "size=", 5) == 0) {
			char num[24];
			if (kvlen - 5 >= sizeof(num))
				return -1;
			memcpy(num, kv + 5, kvlen - 5);
			num[kvlen - 5] = '\0';
			*size = strtoull(num, &end, 10);
			if (*end)
				return -1;
			*has_size = true;
		}
		at += n;
	}
	return 0;
}

int ova_list(int fd, const char *label, struct ova_member **members, size_t *count)
{
	*members = NULL;
	*count = 0;
	size_t cap = 0;
	uint64_t off = 0;
	char next_name[256] = ""; /* from a GNU long name or pax header */
	uint64_t next_size = 0;
	bool has_next_size = false;
	for (;;) {
		unsigned char h[BLOCK];
		if (read_at(fd, h, BLOCK, off) < 0) {
			if (*count > 0 && errno == EIO)
				return 0; /* no end-of-archive blocks: tolerated */
			error_msg("%s: not an OVA (%s)", label,
				  *count ? "cut short" : "no tar header");
			goto bad;
		}
		static const unsigned char zeros[BLOCK];
		if (memcmp(h, zeros, BLOCK) == 0)
			return 0;
		uint64_t size;
		if (!checksum_ok(h) || field_number(h + 124, 12, &size) < 0) {
			error_msg("%s: not an OVA (a tar header is damaged)", label);
			goto bad;
		}
		if (has_next_size)
			size = next_size;
		uint64_t data = off + BLOCK;
		if (size > UINT64_MAX - data - BLOCK) {
			error_msg("%s: a tar member is too large", label);
			goto bad;
		}
		char type = (char)h[156];
		if (type == 'L' || type == 'x') { /* describes the next member */
			if (size >= 64 * 1024) {
				error_msg("%s: a tar extended header is too large", label);
				goto bad;
			}
			char *text = xmalloc(size + 1);
			int r = read_at(fd, text, size, data);
			text[size] = '\0';
			if (r == 0 && type == 'L')
				str_copy(next_name, sizeof(next_name), text);
			else if (r == 0)
				r = pax_records(text, size, next_name, sizeof(next_name),
						&next_size, &has_next_size);
			free(text);
			if (r < 0) {
				error_msg("%s: a tar extended header is damaged", label);
				goto bad;
			}
		} else {
			if (type == '0' || type == '\0' || type == '7') {
				if (*count == cap) {
					cap = cap ? cap * 2 : 16;
					*members = xrealloc(*members, cap * sizeof(**members));
				}
				struct ova_member *m = &(*members)[(*count)++];
				if (next_name[0]) {
					str_copy(m->name, sizeof(m->name), next_name);
				} else { /* ustar: prefix "/" name */
					char name[101], prefix[156];
					memcpy(name, h, 100);
					name[100] = '\0';
					memcpy(prefix, h + 345, 155);
					prefix[155] = '\0';
					bool ustar = memcmp(h + 257, "ustar", 5) == 0;
					snprintf(m->name, sizeof(m->name), "%s%s%s",
						 ustar ? prefix : "", ustar && *prefix ? "/" : "",
						 name);
				}
				m->offset = data;
				m->size = size;
			}
			next_name[0] = '\0';
			has_next_size = false;
		}
		off = data + (size + BLOCK - 1) / BLOCK * BLOCK;
	}
bad:
	free(*members);
	*members = NULL;
	*count = 0;
	return -1;
}

const struct ova_member *ova_find(const struct ova_member *members, size_t n, const char *name)
{
	for (size_t i = 0; i < n; i++) {
		const char *m = members[i].name;
		if (strncmp(m, "./", 2) == 0)
			m += 2;
		if (strcmp(m, name) == 0)
			return &members[i];
	}
	return NULL;
}

int ova_extract(int fd, const struct ova_member *m, int out, const char *label)
{
	char *buf = xmalloc(COPY_BUF);
	uint64_t done = 0;
	int rc = 0;
	while (done < m->size && rc == 0) {
		size_t n = m->size - done < COPY_BUF ? (size_t)(m->size - done) : COPY_BUF;
		if (read_at(fd, buf, n, m->offset + done) < 0) {
			error_msg("%s: %s: %s", label, m->name,
				  errno == EIO ? "the archive is cut short" : strerror(errno));
			rc = -1;
		}
		for (size_t w = 0; rc == 0 && w < n;) {
			ssize_t k = pwrite(out, buf + w, n - w, (off_t)(done + w));
			if (k < 0 && errno == EINTR)
				continue;
			if (k < 0) {
				error_msg("cannot extract %s: %s", m->name, strerror(errno));
				rc = -1;
			}
			w += k > 0 ? (size_t)k : 0;
		}
		done += n;
	}
	free(buf);
	return rc;
}

char *ova_read(int fd, const struct ova_member *m, size_t max, const char *label)
{
	if (m->size > max) {
		error_msg("%s: %s is larger than %zu bytes", label, m->name, max);
		return NULL;
	}
	char *text = xmalloc(m->size + 1);
	if (read_at(fd, text, m->size, m->offset) < 0) {
		error_msg("%s: %s: the archive is cut short", label, m->name);
		free(text);
		return NULL;
	}
	text[m->size] = '\0';
	return text;
}

/* the digest of a member's data as lowercase hex into hex (129 bytes) */
static int member_digest(int fd, const struct ova_member *m, gnutls_digest_algorithm_t algo,
			 char *hex)
{
	gnutls_hash_hd_t h;
	if (gnutls_hash_init(&h, algo) < 0)
		return -1;
	char *buf = xmalloc(COPY_BUF);
	int rc = 0;
	for (uint64_t done = 0; done < m->size && rc == 0;) {
		size_t n = m->size - done < COPY_BUF ? (size_t)(m->size - done) : COPY_BUF;
		rc = read_at(fd, buf, n, m->offset + done);
		if (rc == 0)
			gnutls_hash(h, buf, n);
		done += n;
	}
	unsigned char out[64];
	gnutls_hash_deinit(h, out);
	free(buf);
	unsigned len = gnutls_hash_get_len(algo);
	for (unsigned i = 0; i < len; i++)
		snprintf(hex + 2 * i, 3, "%02x", out[i]);
	return rc;
}

int ova_check_manifest(int fd, const struct ova_member *members, size_t n, const char *manifest,
		       const char *label)
{
	char line[512];
	const char *p = manifest;
	int r;
	while ((r = next_config_line(&p, line, sizeof(line))) != 0) {
		char *l = str_trim(line);
		if (r < 0) {
			error_msg("%s: a manifest line is too long", label);
			return -1;
		}
		if (!*l)
			continue;
		char *open = strchr(l, '('), *close = strrchr(l, ')');
		gnutls_digest_algorithm_t algo = GNUTLS_DIG_UNKNOWN;
		if (open && strncmp(l, "SHA256(", 7) == 0)
			algo = GNUTLS_DIG_SHA256;
		else if (open && strncmp(l, "SHA1(", 5) == 0)
			algo = GNUTLS_DIG_SHA1;
		else if (open && strncmp(l, "SHA512(", 7) == 0)
			algo = GNUTLS_DIG_SHA512;
		if (algo == GNUTLS_DIG_UNKNOWN || !close || close < open || close[1] != '=') {
			error_msg("%s: manifest line not understood: %s", label, l);
			return -1;
		}
		*close = '\0';
		const char *name = open + 1, *want = str_trim(close + 2);
		const struct ova_member *m = ova_find(members, n, name);
		char got[129];
		if (!m) {
			error_msg("%s: the manifest lists %s, which is not in the OVA", label,
				  name);
			return -1;
		}
		if (member_digest(fd, m, algo, got) < 0) {
			error_msg("%s: cannot read %s", label, name);
			return -1;
		}
		if (strcasecmp(got, want) != 0) {
			error_msg("%s: %s does not match its digest in the manifest", label, name);
			return -1;
		}
	}
	return 0;
}
