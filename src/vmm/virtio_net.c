#include "vmm/virtio_net.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/if_tun.h>
#include <net/if.h>
#include <sys/ioctl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/log.h"
#include "vmm/bytes.h"

#define VIRTIO_ID_NET 1
#define QUEUE_SIZE    256

/* Queue 0 receives, queue 1 transmits. The TAP carries
 * the 12-byte virtio-net header before each frame (IFF_VNET_HDR), so the
 * checksum and TCP segmentation offloads pass between the guest and the
 * host's network stack: a guest sends 64 KiB TCP segments with their
 * checksums left to do, and the kernel finishes them only where a frame
 * leaves for a port (a physical NIC, a guest) that cannot take them as they
 * are. The offloads are offered when the TAP can do them; those the guest
 * takes are set on the TAP (TUNSETOFFLOAD), so nothing reaches it that it
 * did not ask for. A header from the guest that uses an offload it did not
 * take is dropped with its frame (the kernel checks the rest).
 *
 * A received frame is read from the TAP only when the guest has given at
 * least one buffer, and then stays in n->rx until it is delivered whole:
 * into one chain, or with VIRTIO_NET_F_MRG_RXBUF into as many chains as it
 * takes, all returned to the guest at once (Linux reads num_buffers from
 * the first and expects the others in the used ring already). If the
 * available chains do not hold the frame, none is used: they go back to
 * the ring, the TAP is no longer polled, and the guest's next notification
 * (it adds buffers) tries again. A frame that can never fit (larger than
 * one chain without MRG_RXBUF, or than all the ring's chains) is dropped. */
#define NET_F_CSUM	 (1u << 0) /* the guest sends partial checksums */
#define NET_F_GUEST_CSUM (1u << 1) /* and takes them */
#define NET_F_MTU	 (1u << 3)
#define NET_F_MAC	 (1u << 5)
#define NET_F_GUEST_TSO4 (1u << 7)
#define NET_F_GUEST_TSO6 (1u << 8)
#define NET_F_GUEST_ECN	 (1u << 9)
#define NET_F_HOST_TSO4	 (1u << 11)
#define NET_F_HOST_TSO6	 (1u << 12)
#define NET_F_HOST_ECN	 (1u << 13)
#define NET_F_MRG_RXBUF	 (1u << 15)
#define NET_F_STATUS	 (1u << 16)
#define NET_OFFLOADS                                                                               \
	(NET_F_CSUM | NET_F_GUEST_CSUM | NET_F_GUEST_TSO4 | NET_F_GUEST_TSO6 | NET_F_GUEST_ECN |   \
	 NET_F_HOST_TSO4 | NET_F_HOST_TSO6 | NET_F_HOST_ECN)
#define HDR_F_NEEDS_CSUM     1 /* virtio_net_hdr flags */
#define HDR_GSO_TCPV4	     1 /* gso_type */
#define HDR_GSO_TCPV6	     4
#define HDR_GSO_ECN	     0x80
#define NET_RX		     0
#define NET_TX		     1
#define NET_DROPS_LOG_PERIOD 1000

static void vnet_drop(struct vnet *n)
{
	if (n->drops++ % NET_DROPS_LOG_PERIOD == 0)
		log_msg("virtio-net %s: %lu received frame(s) dropped so far, larger than the "
			"guest's receive buffers",
			n->name, n->drops);
}

/* Delivers n->rx. Returns 1 if it is done with (delivered or dropped), 0 if
 * it waits for buffers (none was used), -1 if the guest broke the queue. */
static int vnet_rx_frame(struct vnet *n, struct virtq *q)
{
	const bool mrg = n->pci.driver_features & NET_F_MRG_RXBUF;
	uint16_t heads[VIRTQ_MAX_SIZE];
	uint32_t lens[VIRTQ_MAX_SIZE];
	uint16_t k = 0;
	for (size_t off = 0; off < n->rx_len; k++) {
		if (k == q->size || (k == 1 && !mrg)) { /* it will never fit */
			virtq_unpop(q, k);
			vnet_drop(n);
			return 1;
		}
		struct virtq_elem *e = k ? &n->more : &n->elem;
		int r = virtq_pop(q, n->pci.mem, e);
		if (r != 1) {
			virtq_unpop(q, k);
			return r;
		}
		heads[k] = e->head;
		lens[k] = (uint32_t)iov_from_buf(e->in, e->nin, 0, n->rx + off, n->rx_len - off);
		off += lens[k];
	}
	/* num_buffers, in the header at the start of the first chain */
	uint8_t num[2];
	put16(num, k);
	iov_from_buf(n->elem.in, n->elem.nin, 10, num, sizeof(num));
	for (uint16_t i = 0; i < k; i++)
		virtq_fill(q, heads[i], lens[i]);
	virtq_flush(q);
	return 1;
}

static void vnet_rx(struct vnet *n)
{
	struct vpci_dev *d = &n->pci;
	struct virtq *q = &d->queues[NET_RX];
	bool done = false;
	for (;;) {
		if (!n->rx_len) {
			if (!virtq_has_avail(q)) {
				vpci_poll_backend(d, false); /* until the guest gives buffers */
				break;
			}
			ssize_t len = read(n->tap, n->rx, sizeof(n->rx));
			if (len <= 0) {
				vpci_poll_backend(d, true);
				break;
			}
			/* cut short (too big for rx), or no frame after the header */
			if (len > VNET_HDR + VNET_FRAME_MAX || len <= VNET_HDR) {
				vnet_drop(n);
				continue;
			}
			if (!(d->driver_features & NET_F_GUEST_CSUM))
				n->rx[0] = 0; /* no DATA_VALID for a guest that did not ask */
			n->rx_len = (size_t)len;
		}
		int r = vnet_rx_frame(n, q);
		if (r <= 0) {
			if (r < 0)
				log_msg("virtio-net %s: the guest broke its receive queue; no "
					"frames reach it until reset",
					n->name);
			vpci_poll_backend(d, false); /* until the guest gives buffers */
			break;
		}
		n->rx_len = 0;
		done = true;
	}
	if (done)
		vpci_notify_queue(d, NET_RX);
}

/* Whether a transmitted frame's header uses only the offloads the guest
 * took (and no flag a driver never sends). */
static bool vnet_tx_header_ok(const struct vnet *n, const uint8_t *h)
{
	uint64_t f = n->pci.driver_features;
	if ((h[0] & ~HDR_F_NEEDS_CSUM) || ((h[0] & HDR_F_NEEDS_CSUM) && !(f & NET_F_CSUM)) ||
	    ((h[1] & HDR_GSO_ECN) && !(f & NET_F_HOST_ECN)))
		return false;
	switch (h[1] & ~HDR_GSO_ECN) {
	case 0:
		return !(h[1] & HDR_GSO_ECN);
	case HDR_GSO_TCPV4:
		return f & NET_F_HOST_TSO4;
	case HDR_GSO_TCPV6:
		return f & NET_F_HOST_TSO6;
	default:
		return false;
	}
}

static void vnet_tx(struct vnet *n)
{
	struct vpci_dev *d = &n->pci;
	struct virtq *q = &d->queues[NET_TX];
	bool done = false;
	while (virtq_pop(q, d->mem, &n->elem) == 1) {
		size_t size = iov_size(n->elem.out, n->elem.nout);
		/* a frame the TAP refuses (too short, too long, a bad header) is
		 * dropped; copied first, so that the guest cannot change the
		 * header once it is checked */
		if (size > VNET_HDR && size <= sizeof(n->tx)) {
			iov_to_buf(n->elem.out, n->elem.nout, 0, n->tx, size);
			if (vnet_tx_header_ok(n, n->tx) && write(n->tap, n->tx, size) < 0 &&
			    errno != EAGAIN && errno != EINVAL)
				log_errno("virtio-net %s: tap", n->name);
		}
		virtq_push(q, n->elem.head, 0);
		done = true;
	}
	if (done)
		vpci_notify_queue(d, NET_TX);
}

/* The TAP's offloads: those the guest takes, so that the kernel completes
 * the rest before a frame reaches it. */
static int vnet_tap_offloads(int tap, uint64_t features)
{
	unsigned tun = 0;
	if (features & NET_F_GUEST_CSUM) {
		tun = TUN_F_CSUM;
		if (features & NET_F_GUEST_TSO4)
			tun |= TUN_F_TSO4;
		if (features & NET_F_GUEST_TSO6)
			tun |= TUN_F_TSO6;
		if ((features & NET_F_GUEST_ECN) && (tun & (TUN_F_TSO4 | TUN_F_TSO6)))
			tun |= TUN_F_TSO_ECN;
	}
	return ioctl(tap, TUNSETOFFLOAD, tun);
}

static void vnet_set_features(struct vpci_dev *d, uint64_t features)
{
	struct vnet *n = (struct vnet *)d;
	if (vnet_tap_offloads(n->tap, features) < 0)
		log_errno("virtio-net %s: TUNSETOFFLOAD", n->name);
}

static void vnet_process(struct vpci_dev *d, unsigned qi)
{
	struct vnet *n = (struct vnet *)d;
	if (qi == NET_TX)
		vnet_tx(n);
	else
		vnet_rx(n); /* the guest gave buffers, or the TAP has frames */
}

void vnet_attach(struct vnet *n, int fd, const char *name, const uint8_t mac[6], unsigned mtu)
{
	memset(n, 0, sizeof(*n));
	n->tap = fd;
	memcpy(n->name, name, strnlen(name, sizeof(n->name) - 1));
	memcpy(n->config, mac, 6);
	n->config[6] = 1; /* status: link up */
	struct vpci_dev *d = &n->pci;
	d->features = NET_F_MAC | NET_F_STATUS | NET_F_MRG_RXBUF;
	if (mtu) {
		put16(n->config + 10, (uint16_t)mtu);
		d->features |= NET_F_MTU;
	}
	d->type = VIRTIO_ID_NET;
	d->class_code = 0x020000; /* Ethernet */
	d->nqueues = 2;
	d->max_queue_size = QUEUE_SIZE;
	d->devcfg = n->config;
	d->devcfg_len = sizeof(n->config);
	d->process = vnet_process;
	d->set_features = vnet_set_features;
	d->backend_fd = n->tap;
}

/* Uses fd, attached to the TAP interface `tap` (vmm_tap_open), which stays
 * the VM's: the device never closes it; -1 with errno set on failure. */
static int vnet_init(struct vnet *n, int fd, const char *tap, const uint8_t mac[6], unsigned mtu)
{
	int hdr = VNET_HDR;
	if (ioctl(fd, TUNSETVNETHDRSZ, &hdr) < 0)
		return -1;
	vnet_attach(n, fd, tap, mac, mtu);
	/* offered if the TAP can do them all; none until the guest says (a
	 * TAP that outlives its VM keeps the last one's) */
	if (vnet_tap_offloads(fd, NET_OFFLOADS) == 0)
		n->pci.features |= NET_OFFLOADS;
	vnet_tap_offloads(fd, 0);
	return 0;
}

static unsigned vnet_count(const struct vmm_config *cfg)
{
	return cfg->nnics;
}

static int vnet_create(const struct vmm_config *cfg, unsigned index, const struct vdev_host *host,
		       struct vpci_dev **dev)
{
	const struct vmm_nic *nic = &cfg->nics[index];
	struct vnet *n = calloc(1, sizeof(*n));
	if (!n)
		return 1;
	*dev = &n->pci;
	if (vnet_init(n, cfg->fd.nics[index], nic->tap, nic->mac, nic->mtu) < 0) {
		log_errno("nics[%u].tap: %s", index, nic->tap);
		return 2;
	}
	if (vpci_add(host->pci, &n->pci, host->mem, host->vmfd) < 0)
		return 1;
	log_msg("nic %s: %02x:%02x:%02x:%02x:%02x:%02x", nic->tap, nic->mac[0], nic->mac[1],
		nic->mac[2], nic->mac[3], nic->mac[4], nic->mac[5]);
	return 0;
}

static void vnet_destroy(struct vpci_dev *dev)
{
	free(dev);
}

const struct vdev_type virtio_net_type = {
    .name = "virtio-net",
    .count = vnet_count,
    .create = vnet_create,
    .destroy = vnet_destroy,
};
