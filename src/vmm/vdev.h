/* The virtio devices keel-vmm offers on PCI: block (a raw image file),
 * network (a TAP interface, no offloads) and entropy (getrandom). */
#ifndef KEEL_VMM_VDEV_H
#define KEEL_VMM_VDEV_H

#include <stdbool.h>

#include "vmm/blk.h"
#include "vmm/pci.h"

struct vblk {
	struct vpci_dev pci; /* first: the transport hands it back */
	struct blk_disk disk;
	uint8_t config[60]; /* struct virtio_blk_config */
	struct virtq_elem elem;
};

struct vnet {
	struct vpci_dev pci;
	int tap;
	uint8_t config[12]; /* struct virtio_net_config: mac, status, ... */
	struct virtq_elem elem;
	uint8_t frame[12 + 65536]; /* virtio-net header, then the frame */
};

struct vrng {
	struct vpci_dev pci;
	struct virtq_elem elem;
};

/* Opens the image and describes the disk; -1 with errno set if the image
 * cannot be opened or is not a whole number of sectors. */
int vblk_init(struct vblk *b, const char *path, bool readonly, const char *serial);
void vblk_close(struct vblk *b);
void vrng_init(struct vrng *r);
/* Attaches to the TAP interface `tap` (created if it does not exist);
 * -1 with errno set on failure. */
int vnet_init(struct vnet *n, const char *tap, const uint8_t mac[6]);
void vnet_close(struct vnet *n);

#endif
