/* Guest memory as the devices see it, and the virtio split virtqueue
 * (virtio 1.2, section 2.7), read with the guest as an adversary: every
 * address, length and index comes from the guest and is checked before
 * use; a chain that loops, is too long, points outside guest memory or
 * puts device-readable buffers after device-writable ones breaks the queue
 * (the guest hurts only its own device), never keel-vmm. */
#ifndef KEEL_VMM_VIRTQ_H
#define KEEL_VMM_VIRTQ_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/uio.h>

/* Guest RAM: [0, low) at host, and [4 GiB, 4 GiB + size - low) after it. */
struct gmem {
	uint8_t *host;
	uint64_t size;
	uint64_t low;
};

/* The host address of guest range [gpa, gpa + len), or NULL if any of it
 * is not RAM. len 0 is valid anywhere in RAM. */
void *gmem_ptr(const struct gmem *m, uint64_t gpa, uint64_t len);

#define VIRTQ_MAX_SIZE 256
#define VIRTQ_MAX_SEGS 258 /* header + 256 data segments + status */

struct virtq {
	/* set by the driver through the transport */
	uint16_t size;
	bool ready;
	uint64_t desc_gpa, avail_gpa, used_gpa;
	uint16_t msix_vector;
	bool event_idx; /* VIRTIO_F_RING_EVENT_IDX was negotiated */
	/* set by virtq_enable() */
	struct virtq_desc *desc;
	struct virtq_avail *avail;
	struct virtq_used *used;
	uint16_t last_avail;
	uint16_t used_idx;	 /* ours: the guest can scribble on the ring's copy */
	uint16_t signalled_used; /* used_idx when the driver was last considered
				    for an interrupt (event_idx) */
	bool broken;
};

/* One chain taken from the queue: the device-readable buffers ("out"),
 * then the device-writable ones ("in"). */
struct virtq_elem {
	uint16_t head;
	unsigned nout, nin;
	struct iovec out[VIRTQ_MAX_SEGS];
	struct iovec in[VIRTQ_MAX_SEGS];
};

/* Checks the driver's queue setup and maps the rings. Returns -1 (and the
 * queue stays off) if the size is not a power of two up to max_size, or
 * the rings are misaligned or not in guest memory. */
int virtq_enable(struct virtq *q, const struct gmem *m, uint16_t max_size);
void virtq_reset(struct virtq *q);

/* Takes the next available chain. Returns 1 with e filled, 0 if there is
 * none, -1 if the guest broke the queue (it then stays broken until reset).
 *
 * With event_idx the driver notifies the device only for chains it makes
 * available after the index the device published (avail_event), and the
 * device publishes it only when it finds the queue empty: a driver adding
 * chains while the device is still busy with earlier ones does not notify.
 * The same goes for virtq_has_avail. */
int virtq_pop(struct virtq *q, const struct gmem *m, struct virtq_elem *e);
/* Whether the driver has made a chain available that is not taken yet. */
bool virtq_has_avail(struct virtq *q);
/* Puts back the last n chains taken (the device could not use them yet). */
void virtq_unpop(struct virtq *q, uint16_t n);
/* Returns a chain to the driver with the number of bytes written. */
void virtq_push(struct virtq *q, uint16_t head, uint32_t written);
/* The same in two steps, for chains the driver must see together (a frame
 * spread over several receive buffers): virtq_fill writes a used element
 * the driver cannot see yet, virtq_flush shows all those filled since the
 * last one at once. */
void virtq_fill(struct virtq *q, uint16_t head, uint32_t written);
void virtq_flush(struct virtq *q);
/* Whether the driver wants an interrupt for the chains returned since the
 * last call: it did not suppress them (AVAIL_F_NO_INTERRUPT) or, with
 * event_idx, they include the one it asked to be told of (used_event). */
bool virtq_should_notify(struct virtq *q);

/* Copies from/to an iovec list starting at byte offset off; returns the
 * bytes copied. */
size_t iov_to_buf(const struct iovec *iov, unsigned n, size_t off, void *buf, size_t len);
size_t iov_from_buf(const struct iovec *iov, unsigned n, size_t off, const void *buf, size_t len);
size_t iov_size(const struct iovec *iov, unsigned n);

#endif
