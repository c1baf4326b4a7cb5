/* Layer: domain (pure: no files, no clock). Includes: vmconf.h.
 *
 * A VM's cloud-init NoCloud seed: an ISO 9660 volume (isoimage.h) labelled
 * "cidata" holding user-data (the VM's cloud_init.user_data as given),
 * meta-data and, when given, network-config. meta-data is the VM's
 * cloud_init.meta_data with the lines keel-hostd guarantees appended, each
 * only when no line of it starts with that key already:
 *
 *     instance-id: keel-ID        (ID: the VM's inventory id; stable for
 *                                  the VM's life, so cloud-init's
 *                                  once-per-instance steps run once)
 *     local-hostname: NAME        (the VM's name)
 *
 * vmfiles.h keeps the image in the VM's folder as NAME.cidata.iso. */
#ifndef KEEL_HOSTD_CIDATA_H
#define KEEL_HOSTD_CIDATA_H

#include "hostd/vmconf.h"

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#define CIDATA_LABEL  "cidata"
#define CIDATA_SUFFIX "cidata.iso" /* of the file in the VM's folder */

/* The meta-data file of VM c (inventory id `id`), malloc'ed; NULL when
 * out of memory. */
char *cidata_meta_data(const struct vm_config *c, int64_t id);

/* The seed image of c (which has cloud_init), dated `when`, malloc'ed into
 * *out (*len bytes). Returns 0, or -1 with a message. */
int cidata_image(const struct vm_config *c, int64_t id, time_t when, uint8_t **out, size_t *len,
		 char *err, size_t errlen);

#endif
