/* virtio-net: a NIC on a TAP interface, one instance per entry of the
 * configuration's "nics": checksum and TSO offloads passed through to the
 * TAP, mergeable receive buffers, the MTU offered to the guest. Frames
 * from the guest are hostile input: each header is checked against the
 * offloads the guest took before the frame reaches the TAP. */
#ifndef KEEL_VMM_VIRTIO_NET_H
#define KEEL_VMM_VIRTIO_NET_H

#include <stdint.h>

#include "vmm/vdev.h"

/* The largest Ethernet frame carried: the largest MTU (65535) plus the
 * Ethernet header and a VLAN tag. */
#define VNET_FRAME_MAX (65535 + 18)
#define VNET_HDR       12 /* struct virtio_net_hdr_v1, before each frame */

struct vnet {
	struct vpci_dev pci; /* first: the transport hands it back */
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

extern const struct vdev_type virtio_net_type;

/* The device on an open descriptor that reads and writes one frame per
 * call, each after its virtio-net header, as a TAP with IFF_VNET_HDR does
 * (the second half of what `create` does, offering no offloads; the tests
 * pass a socket). mtu (68..65535) is offered to the guest
 * (VIRTIO_NET_F_MTU); 0 offers none. */
void vnet_attach(struct vnet *n, int fd, const char *name, const uint8_t mac[6], unsigned mtu);

#endif
