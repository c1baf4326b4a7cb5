/* libFuzzer target: the clear header of a configuration backup
 * (src/hostd/backup.c: backup_describe), on hostile files: one it accepts
 * is described by an object whose size is the file's, one it refuses gets
 * a message. backup_restore is not fuzzed: its parsing of the payload
 * comes after the passphrase's key (PBKDF2, 1000 iterations at least) and
 * the GCM tag, and it stages into RESTORE_DIR, a fixed path under /config,
 * and reads the host's build and UUID from /etc/keel and /config. Seeds:
 * fuzz/corpus/backup, headers as backup_make writes them. */
#include <errno.h>
#include <jansson.h>
#include <stdint.h>
#include <stdlib.h>

#include "hostd/backup.h"
#include "hostd/db.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* backup_make's copy of the inventory, never reached from here: the
 * inventory (db.c, SQLite) is left out */
int db_copy(const char *path)
{
	(void)path;
	errno = ENOSYS;
	return -1;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	json_t *info = (json_t *)1;
	char err[256] = "";
	if (backup_describe(data, size, &info, err, sizeof(err)) == 0) {
		json_t *n = json_object_get(info, "size");
		if (!json_is_object(info) || !json_is_integer(n) ||
		    (uint64_t)json_integer_value(n) != size)
			abort();
		json_decref(info);
	} else if (info || !err[0]) {
		abort();
	}
	return 0;
}
