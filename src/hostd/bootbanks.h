/* Layer: domain. Includes: error.h and src/common's bootenv.h; never http.h
 * or api.h.
 *
 * The host's system images: the two boot banks (common/bootenv.h) as
 * keel-init mounted them, which one booted and why, which one boots next,
 * and a rollback to the other. */
#ifndef KEEL_HOSTD_BOOTBANKS_H
#define KEEL_HOSTD_BOOTBANKS_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

struct bootenv;

/* {booted: "a"|"b"|null (not from a bank), next, reason, tries_left,
 *  banks: [{bank, version, commit, booted, next, state}],
 *  boot_device: {name, present}}, state being
 *  "good", "on trial" (a new image counting its boots), "failed" (a new
 *  image that did not boot: the loader fell back), "previous" (the image
 *  that ran before) or "empty". */
json_t *bootbanks_describe(void);

/* The next boot uses the other bank, whose image booted before: 0 with
 * *out = the description, or -EBUSY (not booted from a bank, the boot
 * device gone, the other bank empty or its image failed) / -EIO, with a
 * message. */
int bootbanks_rollback(json_t **out, char *err, size_t errlen);

/* The bank this host booted from ('a', 'b'; 0: not from a bank). */
char bootbanks_booted(void);

/* dir (BOOT_BANK_DIR, BOOT_ALTBANK_DIR) is a mount of its own (keel-init
 * mounted the bank there), not the initramfs's empty folder, which would
 * take what is written into it and lose it at the next boot. */
bool bootbanks_mounted(const char *dir);
/* Writes the loader's environment block under `esp` (BOOT_ESP_DIR but in
 * tests): bootenv_write, in turn with the rollback above. 0 or -1 with
 * errno set. */
int bootbanks_set_next(const char *esp, const struct bootenv *env);

#endif
