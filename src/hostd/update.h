/* Layer: domain. Includes: bootbanks.h, error.h, extensions.h, verify.h
 * and src/common's bootenv.h, bundlefmt.h; never http.h or api.h.
 *
 * Signed offline updates: an update bundle (common/bundlefmt.h) uploaded
 * to the host is verified whole before anything is written; then its
 * image goes into the boot bank that did not boot, and the loader's next
 * boot is that bank, on trial (common/bootenv.h: BOOT_TRIES boots to be
 * declared good, else the loader falls back to the image running now).
 *
 * The bundle is verified whole first (hostd/verify.h).
 *
 * The install never writes the bank that booted, and a failure at any point
 * before its last step leaves the host booting the image it runs: the
 * loader's next boot is first made the booted bank (a rollback asked for
 * earlier pointed it at the bank about to be rewritten); the bank's
 * manifest.txt goes first (a bank half written shows as empty, and no
 * rollback goes to it), each file is written under a temporary name,
 * hashed again as it is written, fsync'ed and renamed into place,
 * manifest.txt last, with boot.cfg copied from the booted bank (the host
 * keeps its kernel command line), the directory fsync'ed; the bank is
 * read-only again; the extensions follow (hostd/extensions.h); only then
 * the switch (keel_bank that bank, keel_tries
 * BOOT_TRIES, keel_reason "updated"). One update at a time (-EBUSY). */
#ifndef KEEL_HOSTD_UPDATE_H
#define KEEL_HOSTD_UPDATE_H

#include "common/bundlefmt.h"
#include "hostd/verify.h"

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

/* where an uploaded bundle is kept while it is checked (never in RAM) */
#define UPDATE_SCRATCH_DIR "/scratch"

/* where an image goes: the host's boot banks as keel-init mounted them */
struct update_target {
	const char *esp;	/* BOOT_ESP_DIR */
	const char *booted_dir; /* BOOT_BANK_DIR: boot.cfg comes from there */
	const char *bank_dir;	/* BOOT_ALTBANK_DIR: the bank written */
	char booted;		/* 'a' or 'b' */
};

/* Installs the verified bundle `b` of `fd` into t->bank_dir, with the
 * booted bank's extensions built for the new image's kernel (their names
 * appended to `kept`; the others' to `dropped`: ext_carry_over), and
 * switches the next boot to it: 0, or a negative errno with a message. */
int update_install(int fd, const struct verified_bundle *b, const struct update_target *t,
		   json_t *kept, json_t *dropped, char *err, size_t errlen);

/* A file for an upload on UPDATE_SCRATCH_DIR, nameless (O_TMPFILE): it is
 * gone once closed, whatever happens. The descriptor, or a negative errno
 * with a message. */
int update_scratch_file(char *err, size_t errlen);

/* verify_bundle and update_install on this host (its trusted keys, the
 * banks keel-init mounted, running `version`, taking `acceptance` or
 * above): 0 with *out = {bank, version, build, acceptance, signed_by,
 * reboot_needed, extensions_kept, extensions_dropped}, or a negative
 * errno with a message (-EBUSY: not booted from a bank, the other bank not
 * mounted, or an update under way). */
int update_apply(int fd, const char *version, int acceptance, bool allow_downgrade, json_t **out,
		 char *err, size_t errlen);

#endif
