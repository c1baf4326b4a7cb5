/* Layer: domain. Includes: db.h, extensions.h and src/common's
 * bundlefmt.h; never http.h or api.h.
 *
 * The host's acceptance level: the lowest level (common/bundlefmt.h:
 * certified > partner > community) of the bundles it takes, images and
 * extensions alike. A setting kept in the inventory; partner until it is
 * set (VMware's default is the same). It cannot be raised above an
 * installed extension's level: that extension is removed first. */
#ifndef KEEL_HOSTD_ACCEPTANCE_H
#define KEEL_HOSTD_ACCEPTANCE_H

#include <stddef.h>

#define ACCEPTANCE_DEFAULT 2 /* BUNDLE_PARTNER */

/* The host's level (enum bundle_acceptance). */
int acceptance_get(void);

/* Sets it: 0, or -EINVAL (an extension installed under bank_dir is below
 * `level`) or -EIO with a message. */
int acceptance_set(const char *bank_dir, int level, char *err, size_t errlen);

#endif
