/* The OVF descriptor of an appliance (DMTF DSP0243, as VMware ESXi/ovftool
 * and VirtualBox write it), read with libxml2 into what a Keel VM can be:
 * its name, vCPUs (ResourceType 3), memory (4, with its AllocationUnits),
 * disks (17, through DiskSection and References to their files; a disk
 * without a file is an empty one of its capacity), NICs (10, with their
 * network's name) and firmware (VMware's vmw:Config key "firmware",
 * VirtualBox's Firmware element). Disk controllers (ResourceType 5, 6, 20)
 * are replaced by the VM's virtio disks and need no report; every other
 * item, and disks or NICs over the VM's limits, go to `unmapped`, one call
 * each with a line of text. Only the first VirtualSystem is read (others
 * are reported).
 *
 * The descriptor is untrusted: parsed without network access, entity
 * substitution or DTD loading, and refused if it has a DOCTYPE at all (so
 * no entity can be declared); file references must be plain names. */
#ifndef KEEL_CLI_OVF_H
#define KEEL_CLI_OVF_H

#include <stddef.h>
#include <stdint.h>

#include "common/vmspec.h"

#define OVF_MAX (4u << 20) /* the largest descriptor read */

struct ovf_disk {
	char file[256];	   /* the References' href: a plain name; "" for an empty disk */
	uint64_t capacity; /* bytes */
};

struct ovf_vm {
	char name[256]; /* VirtualSystem's Name, else its ovf:id ("" if none) */
	long long vcpus;
	long long memory_mib;
	enum vm_firmware firmware; /* VM_FIRMWARE_UEFI or VM_FIRMWARE_BIOS */
	struct ovf_disk disks[VM_MAX_DISKS];
	size_t ndisks;
	char networks[VM_MAX_NICS][128]; /* each NIC's network ("" if none) */
	size_t nnics;
};

/* Returns 0, or -1 with err set (not XML, no VirtualSystem, a disk whose
 * file or capacity cannot be found, ...). */
int ovf_parse(const char *xml, size_t len, struct ovf_vm *vm,
	      void (*unmapped)(const char *what, void *ctx), void *ctx, char *err, size_t errlen);

#endif
