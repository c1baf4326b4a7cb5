#include "vmm/virtio_blk.h"

#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/log.h"
#include "vmm/blk.h"
#include "vmm/bytes.h"

#define VIRTIO_ID_BLOCK 2
#define BLK_F_SEG_MAX	(1u << 2)
#define BLK_F_RO	(1u << 5)
#define BLK_F_BLK_SIZE	(1u << 6)
#define BLK_F_FLUSH	(1u << 9)
#define BLK_F_DISCARD	(1u << 13)
#define QUEUE_SIZE	256

struct vblk {
	struct vpci_dev pci; /* first: the transport hands it back */
	struct blk_disk disk;
	uint8_t config[60]; /* struct virtio_blk_config */
	struct virtq_elem elem;
};

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

/* Describes the disk of image fd (which stays the VM's: the device uses
 * it, never closes it); -1 with errno set if the image is not a whole
 * number of sectors. */
static int vblk_init(struct vblk *b, int fd, bool readonly, const char *serial)
{
	memset(b, 0, sizeof(*b));
	struct stat st;
	if (fstat(fd, &st) < 0)
		return -1;
	if (!S_ISREG(st.st_mode) || st.st_size % BLK_SECTOR) {
		errno = S_ISREG(st.st_mode) ? EINVAL : EISDIR;
		return -1;
	}
	b->disk.fd = fd;
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

static unsigned vblk_count(const struct vmm_config *cfg)
{
	return cfg->ndisks;
}

static int vblk_create(const struct vmm_config *cfg, unsigned index, const struct vdev_host *host,
		       struct vpci_dev **dev)
{
	const struct vmm_disk *disk = &cfg->disks[index];
	struct vblk *b = calloc(1, sizeof(*b));
	if (!b)
		return 1;
	*dev = &b->pci;
	if (vblk_init(b, cfg->fd.disks[index], disk->readonly, disk->serial) < 0) {
		log_errno("disks[%u].path: %s", index, disk->path);
		return 2;
	}
	if (vpci_add(host->pci, &b->pci, host->mem, host->vmfd) < 0)
		return 1;
	log_msg("disk %s: %s, %llu MiB%s", disk->serial, disk->path,
		(unsigned long long)(b->disk.sectors >> 11), disk->readonly ? ", read-only" : "");
	return 0;
}

static void vblk_destroy(struct vpci_dev *dev)
{
	free(dev);
}

const struct vdev_type virtio_blk_type = {
    .name = "virtio-blk",
    .count = vblk_count,
    .create = vblk_create,
    .destroy = vblk_destroy,
};
