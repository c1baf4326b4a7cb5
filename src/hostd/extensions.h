/* Layer: domain. Includes: error.h, verify.h and src/common's bootenv.h,
 * bundlefmt.h, extension.h; never http.h or api.h.
 *
 * Extensions (common/extension.h): signed bundles of kernel modules
 * (common/bundlefmt.h, kind "extension") installed into the booted bank,
 * loaded by keel-init at the next boot, listed and removed.
 *
 * An extension bundle is verified as an update bundle is (verify_bundle:
 * every byte, the signature by a trusted key, the architecture, the
 * host's acceptance level, a version newer than the one installed unless a
 * downgrade is asked for), and then for what the host runs: the bundle is
 * for the running kernel release, and each module is an ELF object whose
 * vermagic names that release and which carries a module signature (the
 * kernel, booted with module.sig_enforce=1, then checks that signature at
 * load). Refusals are -EINVAL with the reason, and nothing is written.
 *
 * The install writes the extension's folder under a temporary name
 * (".NAME.new"), each file fsync'ed, EXT_ORDER last, then renames it into
 * place (an older version of it first out of the way, as ".NAME.old",
 * then removed). One install or removal at a time (-EBUSY). */
#ifndef KEEL_HOSTD_EXTENSIONS_H
#define KEEL_HOSTD_EXTENSIONS_H

#include "common/extension.h"

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

/* the host, as the extensions see it (BOOT_BANK_DIR, BUNDLE_TRUSTED_DIR,
 * EXT_STATUS, uname's release, acceptance_get(); others in tests) */
struct ext_host {
	const char *bank_dir;	 /* the booted bank: EXT_DIR is under it */
	const char *trusted_dir; /* the trusted keys */
	const char *status;	 /* keel-init's EXT_STATUS */
	const char *kernel;	 /* the kernel release running */
	int acceptance;		 /* the host's level */
};

/* {"extensions": [{name, version, build, acceptance, kernel, modules:
 * [names], state: "loaded"|"failed"|"installed", error (when failed)}],
 * "acceptance": the host's level}: 0, or -EIO with a message. */
int ext_list(const struct ext_host *h, json_t **out, char *err, size_t errlen);

/* Verifies the bundle in fd and installs it: 0 with *out the extension's
 * {name, version, build, acceptance, kernel, modules, signed_by,
 * reboot_needed}, or a negative errno with a message. */
int ext_install(const struct ext_host *h, int fd, bool allow_downgrade, json_t **out, char *err,
		size_t errlen);

/* Removes the extension `name`: its modules stay loaded until the host
 * reboots. 0, -ENOENT, -EBUSY or -EIO with a message. */
int ext_remove(const struct ext_host *h, const char *name, char *err, size_t errlen);

/* The lowest acceptance level of the extensions installed under
 * bank_dir; 0 if there are none. */
int ext_lowest_acceptance(const char *bank_dir);

/* Copies the extensions of from_dir (the booted bank) built for kernel
 * release `kernel` into to_dir (a bank an update wrote), and leaves out
 * the others: `kept` and `dropped` get their names. 0, or -EIO with a
 * message. */
int ext_carry_over(const char *from_dir, const char *to_dir, const char *kernel, json_t *kept,
		   json_t *dropped, char *err, size_t errlen);

#endif
