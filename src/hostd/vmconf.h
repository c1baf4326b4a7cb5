/* Layer: domain. Includes: datastore.h and src/common; never http.h or
 * api.h.
 *
 * A VM's configuration in keel-hostd: one struct, checked once where the
 * API hands it in (create and update) and where the inventory hands it back,
 * shown and stored as its canonical JSON, and turned into keel-vmm's
 * configuration in one function. Pure: no files are looked at here (the
 * API checks that kernels and disks exist). Limits and grammars are the VM
 * specification's (common/vmspec.h).
 *
 * The canonical JSON, as stored in the inventory and shown by the API:
 * name, vcpus, memory_mib, firmware, kernel, initrd ("" for none), cmdline,
 * disks [{path, readonly}], boot_order [disk index...], nics [{mac,
 * portgroup}], autostart, autostart_order, autostart_delay_s, cloud_init
 * (null, or {user_data, meta_data, network_config}: "" for one not given).
 * Datastore paths are "DATASTORE/PATH". A stored configuration without a
 * field that came later (cloud_init) reads as the field's default.
 *
 * cloud_init's texts: no NUL and no control characters but tab, CR and
 * LF; meta_data a block-style YAML mapping (not "{...}"). The seed made
 * from them (cidata.h) is one more disk: a VM with cloud_init has at most
 * VM_MAX_DISKS - 1 disks of its own, and a folder (a disk or a kernel).
 *
 * firmware (vmspec.h's names) is "none" when a kernel is given (keel-vmm
 * boots it: the fastest), else "uefi" unless the body says "bios". Only
 * "none" has a kernel, an initrd and a command line; boot_order (the
 * firmware's, disks by index; [] for the firmware's own order) only the
 * others. */
#ifndef KEEL_HOSTD_VMCONF_H
#define KEEL_HOSTD_VMCONF_H

#include "common/names.h"
#include "common/vmspec.h"
#include "hostd/datastore.h"

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* A NIC's port group when none is given (the inventory's first one). */
#define VM_DEFAULT_PORTGROUP "VM Network"

#define VM_DSPATH_MAX (DATASTORE_NAME_MAX + 1 + DS_PATH_MAX) /* "DATASTORE/PATH" */

struct vm_disk {
	char path[VM_DSPATH_MAX + 1];
	bool readonly;
	uint64_t create_mib; /* > 0: a disk to create (the API's "size_mib"); never stored */
};

struct vm_nic {
	uint8_t mac[6];
	char portgroup[PORTGROUP_NAME_MAX + 1];
};

struct vm_cloud_init {
	bool on; /* false: none (null) */
	char user_data[VM_USER_DATA_MAX + 1];
	char meta_data[VM_META_DATA_MAX + 1];		/* "": keel-hostd's */
	char network_config[VM_NETWORK_CONFIG_MAX + 1]; /* "": none */
};

struct vm_config {
	char name[VM_NAME_MAX + 1];
	unsigned vcpus;
	uint64_t memory_mib;
	enum vm_firmware firmware;
	char kernel[VM_DSPATH_MAX + 1]; /* "": none (firmware boots the disks) */
	char initrd[VM_DSPATH_MAX + 1]; /* "": none */
	char cmdline[VM_CMDLINE_MAX + 1];
	unsigned ndisks;
	struct vm_disk disks[VM_MAX_DISKS];
	unsigned nboot;
	unsigned boot_order[VM_MAX_DISKS]; /* disk indexes */
	unsigned nnics;
	struct vm_nic nics[VM_MAX_NICS];
	bool autostart;
	unsigned autostart_order;
	unsigned autostart_delay_s;
	struct vm_cloud_init cloud_init;
};

/* Checks an API body and fills `out`: a whole VM when base is NULL
 * (create), or base with the fields of `body` changed (update; the name
 * cannot change). Returns 0, or -EINVAL with a message naming the field. */
int vmconf_build(const json_t *body, const struct vm_config *base, int64_t host_memory_mib,
		 struct vm_config *out, char *err, size_t errlen);
/* The canonical JSON (a new reference). */
json_t *vmconf_json(const struct vm_config *c);
/* The canonical JSON read back from the inventory, checked as a create is
 * (but for the host's memory). Returns 0 or -EINVAL with a message. */
int vmconf_from_json(const json_t *stored, struct vm_config *out, char *err, size_t errlen);
/* The canonical JSON `conf` made fit for the support bundle, in place:
 * cloud_init's texts (user data carries passwords and keys) become
 * "(N bytes, not included)". */
void vmconf_redact(json_t *conf);
/* Whether the VM uses "DS/PATH" as its kernel, initrd or a disk. */
bool vmconf_uses(const struct vm_config *c, const char *dspath);

/* The VM's folder, "DATASTORE/NAME", on the datastore of its first disk
 * (or of its kernel), where keel-hostd keeps the files it makes for the
 * VM (its UEFI variable store, its cloud-init seed), each named after it.
 * Returns -1 when it has neither. */
int vmconf_home(const struct vm_config *c, char out[VM_DSPATH_MAX + 1]);

/* Maps a datastore path to a file on the host; returns -1 with a message. */
typedef int (*vmconf_resolve_fn)(const char *dspath, char *out, size_t outlen, char *err,
				 size_t errlen);

/* What the host adds to a VM's configuration to run it. */
struct vmconf_host {
	int64_t id;		  /* the inventory's: names the TAPs (vm_tap_name) */
	const unsigned *mtu;	  /* of each NIC's port group */
	const char *console_path; /* the console log */
	const char *firmware;	  /* the firmware image (not for "none") */
	const char *nvram;	  /* "uefi": the VM's variable store */
	const char *control_path; /* the control socket */
	const char *seed;	  /* cloud_init: the seed image, attached last, read-only */
	vmconf_resolve_fn resolve;
};

struct vmm_config; /* common/vmmconf.h */

/* Fills v with keel-vmm's configuration (common/vmmconf.h; the caller
 * frees it with vmmconf_free). Returns 0, or -1 with a message (a file is
 * gone) and nothing to free. */
int vmconf_vmm(const struct vm_config *c, const struct vmconf_host *host, struct vmm_config *v,
	       char *err, size_t errlen);

#endif
