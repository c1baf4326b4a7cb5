#include "vmm/virtio_rng.h"

#include <stdbool.h>
#include <stdlib.h>
#include <sys/random.h>

#define VIRTIO_ID_RNG 4
#define QUEUE_SIZE    256
#define RNG_MAX_BYTES 4096 /* per buffer: a greedy guest waits for more */

struct vrng {
	struct vpci_dev pci; /* first: the transport hands it back */
	struct virtq_elem elem;
};

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

static unsigned vrng_count(const struct vmm_config *cfg)
{
	return cfg->rng ? 1 : 0;
}

static int vrng_create(const struct vmm_config *cfg, unsigned index, const struct vdev_host *host,
		       struct vpci_dev **dev)
{
	(void)cfg;
	(void)index;
	struct vrng *r = calloc(1, sizeof(*r));
	if (!r)
		return 1;
	*dev = &r->pci;
	r->pci.type = VIRTIO_ID_RNG;
	r->pci.class_code = 0x00ff00;
	r->pci.nqueues = 1;
	r->pci.max_queue_size = QUEUE_SIZE;
	r->pci.process = vrng_process;
	r->pci.backend_fd = -1;
	return vpci_add(host->pci, &r->pci, host->mem, host->vmfd) < 0 ? 1 : 0;
}

static void vrng_destroy(struct vpci_dev *dev)
{
	free((struct vrng *)dev);
}

const struct vdev_type virtio_rng_type = {
    .name = "virtio-rng",
    .count = vrng_count,
    .create = vrng_create,
    .destroy = vrng_destroy,
};
