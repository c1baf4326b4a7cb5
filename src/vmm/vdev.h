/* The device description every virtio device of keel-vmm fills in, and the
 * table that lists them (devices.c). The VM walks the table in order: for
 * each type it asks how many instances the configuration wants, creates
 * them one by one (each is plugged into the PCI bus, in table order, so
 * the guest always sees the same slots), and at the end destroys them once
 * the bus has stopped their I/O threads.
 *
 * A device never sees the VM: it gets the parsed configuration (and reads
 * only its own section of it) and the place to plug into. A device the
 * guest resets (status 0) is reset by the PCI transport, which tells the
 * device through its vpci_dev `set_features` (with 0); a VM reset (guest
 * reboot) destroys every device and creates it again. */
#ifndef KEEL_VMM_VDEV_H
#define KEEL_VMM_VDEV_H

#include <stddef.h>

#include "common/vmmconf.h"
#include "vmm/pci.h"

/* What a device's instances plug into: the VM's PCI bus, guest memory and
 * the KVM VM descriptor (for ioeventfds and irqfds). */
struct vdev_host {
	struct pci_bus *pci;
	const struct gmem *mem;
	int vmfd;
};

struct vdev_type {
	const char *name; /* "virtio-blk", for logs and readers */
	/* How many instances cfg asks for (0: none). */
	unsigned (*count)(const struct vmm_config *cfg);
	/* Creates instance `index` (< count(cfg)) from its section of cfg and
	 * plugs it into host->pci. Sets *dev as soon as there is something to
	 * destroy, failure or not: the caller owns it from then on. Returns 0,
	 * 2 for a configuration this host cannot use (logged, naming the
	 * field), or 1 for a host failure. */
	int (*create)(const struct vmm_config *cfg, unsigned index, const struct vdev_host *host,
		      struct vpci_dev **dev);
	/* Releases what create made (also after a failed create), once the
	 * device's I/O thread has stopped. */
	void (*destroy)(struct vpci_dev *dev);
};

/* Every device type, in PCI slot order (devices.c). */
extern const struct vdev_type *const vdev_types[];
extern const size_t vdev_ntypes;

#endif
