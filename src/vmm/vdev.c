#include "vmm/vdev.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/if_tun.h>
#include <net/if.h>
#include <sys/ioctl.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/log.h"
#include "vmm/bytes.h"

#define BLK_F_SEG_MAX  (1u << 2)
#define BLK_F_RO       (1u << 5)
#define BLK_F_BLK_SIZE (1u << 6)
#define BLK_F_FLUSH    (1u << 9)
#define BLK_F_DISCARD  (1u << 13)
#define QUEUE_SIZE     256
#define RNG_MAX_BYTES  4096 /* per buffer: a greedy guest waits for more */

static void vblk_process(struct vpci_dev *d, unsigned qi)
{
	struct vblk *b = (struct vblk *)d;
	struct virtq *q = &d->queues[qi];
	int r;
	bool done = false;
	while ((r = virtq_pop(q, d->mem, &b->elem)) == 1) {
		struct blk_req req;
		uint32_t written = 0;
		if (blk_parse(&b->disk, &b->elem, &req) == 0)
			blk_execute(&b->disk, &req, &written);
		virtq_push(q, b->elem.head, written);
		done = true;
	}
	if (r < 0)
		log_msg("virtio-blk %s: the guest broke its queue; the disk stops until reset",
			b->disk.id);
	if (done)
		vpci_notify_queue(d, qi);
}

int vblk_init(struct vblk *b, const char *path, bool readonly, const char *serial)
{
	memset(b, 0, sizeof(*b));
	b->disk.fd = open(path, (readonly ? O_RDONLY : O_RDWR) | O_CLOEXEC);
	struct stat st;
	if (b->disk.fd < 0 || fstat(b->disk.fd, &st) < 0)
		return -1;
	if (!S_ISREG(st.st_mode) || st.st_size % BLK_SECTOR) {
		close(b->disk.fd);
		errno = S_ISREG(st.st_mode) ? EINVAL : EISDIR;
		return -1;
	}
	b->disk.sectors = (uint64_t)st.st_size / BLK_SECTOR;
	b->disk.readonly = readonly;
	memcpy(b->disk.id, serial, strnlen(serial, sizeof(b->disk.id)));
	uint8_t *c = b->config;
	memcpy(c, &b->disk.sectors, 8);
	put32(c + 12, QUEUE_SIZE - 2); /* seg_max */
	put32(c + 20, BLK_SECTOR);     /* blk_size */
	put32(c + 36, 1u << 22);       /* max_discard_sectors: 2 GiB */
	put32(c + 40, BLK_MAX_DISCARD_SEGS);
	put32(c + 44, 8); /* discard alignment: 4 KiB */
	struct vpci_dev *d = &b->pci;
	d->type = VIRTIO_ID_BLOCK;
	d->class_code = 0x018000; /* mass storage, other */
	d->features =
	    BLK_F_SEG_MAX | BLK_F_BLK_SIZE | BLK_F_FLUSH | (readonly ? BLK_F_RO : BLK_F_DISCARD);
	d->nqueues = 1;
	d->max_queue_size = QUEUE_SIZE;
	d->devcfg = b->config;
	d->devcfg_len = sizeof(b->config);
	d->process = vblk_process;
	d->backend_fd = -1;
	return 0;
}

void vblk_close(struct vblk *b)
{
	if (b->disk.fd >= 0)
		close(b->disk.fd);
	b->disk.fd = -1;
}

static void vrng_process(struct vpci_dev *d, unsigned qi)
{
	struct vrng *g = (struct vrng *)d;
	struct virtq *q = &d->queues[qi];
	bool done = false;
	while (virtq_pop(q, d->mem, &g->elem) == 1) {
		uint8_t buf[RNG_MAX_BYTES];
		size_t want = iov_size(g->elem.in, g->elem.nin);
		if (want > sizeof(buf))
			want = sizeof(buf);
		ssize_t got = getrandom(buf, want, 0);
		size_t n = got > 0 ? iov_from_buf(g->elem.in, g->elem.nin, 0, buf, (size_t)got) : 0;
		virtq_push(q, g->elem.head, (uint32_t)n);
		done = true;
	}
	if (done)
		vpci_notify_queue(d, qi);
}

void vrng_init(struct vrng *r)
{
	memset(r, 0, sizeof(*r));
	r->pci.type = VIRTIO_ID_RNG;
	r->pci.class_code = 0x00ff00;
	r->pci.nqueues = 1;
	r->pci.max_queue_size = QUEUE_SIZE;
	r->pci.process = vrng_process;
	r->pci.backend_fd = -1;
}

/* --- virtio-net: queue 0 receives, queue 1 transmits. No offloads are
 * offered, so the 12-byte header is all zeros but for num_buffers. */
#define NET_F_MAC    (1u << 5)
#define NET_F_STATUS (1u << 16)
#define NET_HDR	     12
#define NET_RX	     0
#define NET_TX	     1

static void vnet_rx(struct vnet *n)
{
	struct vpci_dev *d = &n->pci;
	struct virtq *q = &d->queues[NET_RX];
	bool done = false;
	for (;;) {
		if (!q->ready || virtq_pop(q, d->mem, &n->elem) != 1) {
			vpci_poll_backend(d, false); /* until the guest gives buffers */
			break;
		}
		ssize_t len = read(n->tap, n->frame + NET_HDR, sizeof(n->frame) - NET_HDR);
		if (len <= 0) {
			virtq_unpop(q);
			vpci_poll_backend(d, true);
			break;
		}
		memset(n->frame, 0, NET_HDR);
		n->frame[10] = 1; /* num_buffers */
		size_t w =
		    iov_from_buf(n->elem.in, n->elem.nin, 0, n->frame, NET_HDR + (size_t)len);
		virtq_push(q, n->elem.head, (uint32_t)w);
		done = true;
	}
	if (done)
		vpci_notify_queue(d, NET_RX);
}

static void vnet_tx(struct vnet *n)
{
	struct vpci_dev *d = &n->pci;
	struct virtq *q = &d->queues[NET_TX];
	bool done = false;
	while (virtq_pop(q, d->mem, &n->elem) == 1) {
		size_t len =
		    iov_to_buf(n->elem.out, n->elem.nout, NET_HDR, n->frame, sizeof(n->frame));
		/* a frame the TAP refuses (too short, too long) is dropped */
		if (iov_size(n->elem.out, n->elem.nout) > NET_HDR &&
		    write(n->tap, n->frame, len) < 0 && errno != EAGAIN && errno != EINVAL)
			log_errno("virtio-net: tap");
		virtq_push(q, n->elem.head, 0);
		done = true;
	}
	if (done)
		vpci_notify_queue(d, NET_TX);
}

static void vnet_process(struct vpci_dev *d, unsigned qi)
{
	struct vnet *n = (struct vnet *)d;
	if (qi == NET_TX)
		vnet_tx(n);
	else
		vnet_rx(n); /* the guest gave buffers, or the TAP has frames */
}

int vnet_init(struct vnet *n, const char *tap, const uint8_t mac[6])
{
	memset(n, 0, sizeof(*n));
	n->tap = open("/dev/net/tun", O_RDWR | O_NONBLOCK | O_CLOEXEC);
	if (n->tap < 0)
		return -1;
	struct ifreq ifr = {.ifr_flags = IFF_TAP | IFF_NO_PI};
	memcpy(ifr.ifr_name, tap, strnlen(tap, IFNAMSIZ - 1));
	if (ioctl(n->tap, TUNSETIFF, &ifr) < 0) {
		int e = errno;
		close(n->tap);
		n->tap = -1;
		errno = e;
		return -1;
	}
	memcpy(n->config, mac, 6);
	n->config[6] = 1; /* status: link up */
	struct vpci_dev *d = &n->pci;
	d->type = VIRTIO_ID_NET;
	d->class_code = 0x020000; /* Ethernet */
	d->features = NET_F_MAC | NET_F_STATUS;
	d->nqueues = 2;
	d->max_queue_size = QUEUE_SIZE;
	d->devcfg = n->config;
	d->devcfg_len = sizeof(n->config);
	d->process = vnet_process;
	d->backend_fd = n->tap;
	return 0;
}

void vnet_close(struct vnet *n)
{
	if (n->tap >= 0)
		close(n->tap);
	n->tap = -1;
}
