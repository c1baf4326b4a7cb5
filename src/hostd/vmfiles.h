/* Layer: domain. Includes: datastore_registry.h, vmconf.h; never http.h or
 * api.h.
 *
 * The files keel-hostd makes for a VM in its folder (vmconf_home), each
 * named after the VM: NAME.nvram, its UEFI variable store, made from the
 * firmware's empty store at its first UEFI power-on and kept from then on
 * (boot entries survive power cycles); NAME.cidata.iso, its cloud-init
 * seed (cidata.h), made when the VM is created or its cloud_init changes
 * and again at each power-on, removed when cloud_init is. They go with the
 * VM when it is deleted; its disks only when asked. Each is written whole
 * or not at all (a temporary file renamed into place). */
#ifndef KEEL_HOSTD_VMFILES_H
#define KEEL_HOSTD_VMFILES_H

#include "hostd/vmconf.h"

#include <stddef.h>

/* Where the product image keeps the firmware (image/mkimage.sh installs
 * Debian's files under these names). */
#define FIRMWARE_DIR	    "/usr/share/keel/firmware"
#define FIRMWARE_BIOS_IMAGE FIRMWARE_DIR "/bios-256k.bin"   /* seabios */
#define FIRMWARE_UEFI_CODE  FIRMWARE_DIR "/OVMF_CODE_4M.fd" /* ovmf */
#define FIRMWARE_UEFI_VARS  FIRMWARE_DIR "/OVMF_VARS_4M.fd" /* the empty store */

/* "DATASTORE/NAME/NAME.suffix"; -1 when the VM has no folder. */
int vmfiles_path(const struct vm_config *c, const char *suffix, char out[VM_DSPATH_MAX + 1]);

/* The VM's variable store as a datastore path (made from `empty` when it
 * is not there yet). Returns 0, or -1 with a message. */
int vmfiles_nvram(const struct vm_config *c, const char *empty, char out[VM_DSPATH_MAX + 1],
		  char *err, size_t errlen);

/* Makes the VM's seed anew from its cloud_init (inventory id `id`) into
 * out, or removes it when the VM has none. A running VM keeps the seed it
 * opened. Returns 1 when made, 0 when the VM has none, or -1 with a
 * message. */
int vmfiles_seed(const struct vm_config *c, int64_t id, char out[VM_DSPATH_MAX + 1], char *err,
		 size_t errlen);
/* The same for an update from `old` to c, only when its seed changes (its
 * cloud_init, or its folder: the seed in the old one is removed). */
int vmfiles_seed_update(const struct vm_config *old, const struct vm_config *c, int64_t id,
			char *err, size_t errlen);

/* Removes the VM's own files (a deleted VM's); logs what fails. */
void vmfiles_remove(const struct vm_config *c);

#endif
