/* Layer: domain. Includes: datastore_registry.h, vmconf.h; never http.h or
 * api.h.
 *
 * The files keel-hostd makes for a VM in its folder (vmconf_home), each
 * named after the VM: NAME.nvram, its UEFI variable store, made from the
 * firmware's empty store at its first UEFI power-on and kept from then on
 * (boot entries survive power cycles). They go with the VM when it is
 * deleted; its disks only when asked. */
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

/* Removes the VM's own files (a deleted VM's); logs what fails. */
void vmfiles_remove(const struct vm_config *c);

#endif
