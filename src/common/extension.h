/* Extensions: kernel modules that are not in the base image (drivers, the
 * seeds' VIBs), the contract between keel-hostd, which installs them from
 * signed bundles (common/bundlefmt.h, kind "extension"), and keel-init,
 * which loads them at boot.
 *
 * An extension lives in the boot bank of the image it was installed on
 * (its modules are built for that image's kernel), a folder per
 * extension:
 *
 *   BOOT_BANK_DIR/EXT_DIR/NAME/
 *     EXT_INFO      the bundle's bundle.json, as it was signed and
 *                   verified (what the extension is: version, build,
 *                   acceptance level, kernel release, each module's
 *                   size and SHA-256)
 *     MODULE.ko...  the modules
 *     EXT_ORDER     their file names in the order they load (a module
 *                   after those it needs), one a line; written last, so
 *                   a folder without it is not an extension (an install
 *                   cut short) and is passed over
 *
 * NAME: 1 to EXT_NAME_MAX of [a-z0-9_-], starting with a letter or digit.
 * A module's file name: 1 to EXT_MODULE_STEM_MAX of [a-z0-9_-], then ".ko".
 *
 * keel-init loads the extensions once the banks are mounted (after the
 * base image's modules, before the network is set up, so that a NIC
 * driver's NICs are there for it): extensions in NAME order, each one's
 * modules in EXT_ORDER's order, through finit_module. The kernel is booted
 * with module.sig_enforce=1: a module not signed by the kernel's builder
 * does not load. It writes EXT_STATUS, a line for each extension:
 *
 *   NAME loaded
 *   NAME failed MODULE.ko: REASON
 *
 * (an extension stops at its first module that fails). */
#ifndef KEEL_EXTENSION_H
#define KEEL_EXTENSION_H

#include <stdbool.h>

#define EXT_DIR		    "ext"
#define EXT_INFO	    "extension.json"
#define EXT_ORDER	    "modules"
#define EXT_STATUS	    "/run/keel/extensions"
#define EXT_NAME_MAX	    32
#define EXT_MODULE_STEM_MAX 60
#define EXT_MODULES_MAX	    32 /* in one extension (a driver and what it needs) */
#define EXT_MAX		    64 /* extensions on a host */

/* NAME is an extension's name */
bool ext_name_ok(const char *name);
/* NAME is a module's file name (STEM.ko) */
bool ext_module_ok(const char *name);

struct dirent;
/* The entries of bank_dir/EXT_DIR whose names are extensions' names, in
 * name order (scandir's: *names and each entry malloc'ed): their count, or
 * -1 (no such folder). */
int ext_scan(const char *bank_dir, struct dirent ***names);

#endif
