/* Layer: domain. Includes: db.h, tar.h, error.h and src/common's
 * hostconf.h; never http.h or api.h.
 *
 * The configuration backup: one small file with what makes this host
 * itself (host.conf, the inventory: users, roles, permissions, settings,
 * networks, VMs; the TLS and SSH identities), for a restore on this host
 * after a factory reset or a lost disk. Its format:
 *
 *   "KEELBKP1", a 4-byte big-endian length, a JSON header (format,
 *   product, version, build, host_uuid, hostname, created, kdf {name
 *   "pbkdf2-sha256", iterations, salt}, cipher "aes-256-gcm", nonce), then
 *   the payload: a ustar archive (host.conf, keel.db, tls/..., ssh/...)
 *   encrypted with AES-256-GCM under a key derived from the operator's
 *   passphrase (PBKDF2-SHA256), the header as associated data, and the
 *   16-byte tag last.
 *
 * So the password hashes and the private keys are never in the clear, and
 * a changed byte anywhere (header included) or a wrong passphrase makes
 * the whole file refused. A restore is staged in RESTORE_DIR and applied
 * by keel-init at the next boot (common/hostconf.h). */
#ifndef KEEL_HOSTD_BACKUP_H
#define KEEL_HOSTD_BACKUP_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define BACKUP_MAX	      (64u << 20) /* a backup file at most */
#define BACKUP_PASSPHRASE_MIN 8

/* The host's UUID: the machine's (SMBIOS product_uuid), which outlasts a
 * factory reset, or when the firmware gives none, one made once and kept
 * in /config. */
const char *backup_host_uuid(void);

/* Makes a backup encrypted under `passphrase`: 0 with *fd (an unlinked
 * temporary file, at offset 0) and *size, or a negative errno with a
 * message (-EINVAL: a passphrase too short). */
int backup_make(const char *passphrase, int *fd, uint64_t *size, char *err, size_t errlen);

/* What a backup says of itself in the clear (its header): 0 with *info =
 * {version, build, host_uuid, hostname, created, size}, or -EINVAL. */
int backup_describe(const unsigned char *data, size_t len, json_t **info, char *err, size_t errlen);

/* Checks `len` bytes of a backup (refused: -EINVAL, a damaged file or a
 * wrong passphrase; -EXDEV, another build or host, unless `force`) and
 * stages it for keel-init to apply at the next boot: 0, or a negative
 * errno with a message. */
int backup_restore(const unsigned char *data, size_t len, const char *passphrase, bool force,
		   char *err, size_t errlen);

#endif
