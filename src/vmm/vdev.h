/* The virtio devices keel-vmm offers on PCI: block (a raw image file),
 * network (a TAP interface, checksum and TSO offloads, mergeable receive
 * buffers) and
 * entropy (getrandom). */
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

/* The largest Ethernet frame carried: the largest MTU (65535) plus the
 * Ethernet header and a VLAN tag. */
#define VNET_FRAME_MAX (65535 + 18)
#define VNET_HDR       12 /* struct virtio_net_hdr_v1, before each frame */

struct vnet {
	struct vpci_dev pci;
	int tap;
	char name[16];	    /* the TAP's, for the log */
	uint8_t config[12]; /* struct virtio_net_config: mac, status, max_virtqueue_pairs, mtu */
	/* the chain being handled; a received frame that spans several (with
	 * VIRTIO_NET_F_MRG_RXBUF) starts in `elem` and goes on in `more` */
	struct virtq_elem elem, more;
	size_t rx_len; /* header and frame in rx, read from the TAP and not yet
			  delivered (0: none); it waits there for buffers */
	unsigned long drops;
	uint8_t rx[VNET_HDR + VNET_FRAME_MAX + 1]; /* + 1: to see a frame cut short */
	uint8_t tx[VNET_HDR + VNET_FRAME_MAX];
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
 * -1 with errno set on failure. mtu (68..65535) is offered to the guest
 * (VIRTIO_NET_F_MTU); 0 offers none. */
int vnet_init(struct vnet *n, const char *tap, const uint8_t mac[6], unsigned mtu);
/* The device on an open descriptor that reads and writes one frame per
 * call, each after its virtio-net header, as a TAP with IFF_VNET_HDR does
 * (vnet_init's second half, which offers no offloads; the tests pass a
 * socket). */
void vnet_attach(struct vnet *n, int fd, const char *name, const uint8_t mac[6], unsigned mtu);
void vnet_close(struct vnet *n);

#endif
