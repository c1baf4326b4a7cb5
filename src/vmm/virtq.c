#include "vmm/virtq.h"

#include <string.h>

#define DESC_F_NEXT	     1
#define DESC_F_WRITE	     2
#define DESC_F_INDIRECT	     4
#define AVAIL_F_NO_INTERRUPT 1

struct virtq_desc {
	uint64_t addr;
	uint32_t len;
	uint16_t flags;
	uint16_t next;
};

struct virtq_avail {
	uint16_t flags;
	uint16_t idx;
	uint16_t ring[];
};

struct virtq_used_elem {
	uint32_t id;
	uint32_t len;
};

struct virtq_used {
	uint16_t flags;
	uint16_t idx;
	struct virtq_used_elem ring[];
};

#define G4 0x100000000ull

void *gmem_ptr(const struct gmem *m, uint64_t gpa, uint64_t len)
{
	if (gpa < m->low) {
		if (len > m->low - gpa)
			return NULL;
		return m->host + gpa;
	}
	uint64_t high = m->size - m->low;
	if (gpa < G4 || gpa - G4 > high || len > high - (gpa - G4))
		return NULL;
	return m->host + m->low + (gpa - G4);
}

void virtq_reset(struct virtq *q)
{
	memset(q, 0, sizeof(*q));
	q->msix_vector = 0xffff;
}

int virtq_enable(struct virtq *q, const struct gmem *m, uint16_t max_size)
{
	uint64_t n = q->size;
	if (n == 0 || n > max_size || (n & (n - 1)) || (q->desc_gpa & 15) || (q->avail_gpa & 1) ||
	    (q->used_gpa & 3))
		return -1;
	q->desc = gmem_ptr(m, q->desc_gpa, 16 * n);
	q->avail = gmem_ptr(m, q->avail_gpa, 6 + 2 * n);
	q->used = gmem_ptr(m, q->used_gpa, 6 + 8 * n);
	if (!q->desc || !q->avail || !q->used)
		return -1;
	q->last_avail = q->used_idx = q->signalled_used = 0;
	q->broken = false;
	q->ready = true;
	return 0;
}

static int broken(struct virtq *q)
{
	q->broken = true;
	return -1;
}

/* avail_event and used_event follow the rings (virtio 1.2, 2.7.10) */
static uint16_t *avail_event(const struct virtq *q)
{
	return (uint16_t *)&q->used->ring[q->size];
}

static uint16_t *used_event(const struct virtq *q)
{
	return &q->avail->ring[q->size];
}

/* The driver's available index; when it shows nothing new, with event_idx
 * the driver is first asked to notify for the next chain (then the index
 * is read again, so that a chain added meanwhile is not missed). */
static uint16_t driver_avail(const struct virtq *q)
{
	uint16_t idx = __atomic_load_n(&q->avail->idx, __ATOMIC_ACQUIRE);
	if (idx != q->last_avail || !q->event_idx)
		return idx;
	__atomic_store_n(avail_event(q), idx, __ATOMIC_RELAXED);
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	return __atomic_load_n(&q->avail->idx, __ATOMIC_ACQUIRE);
}

int virtq_pop(struct virtq *q, const struct gmem *m, struct virtq_elem *e)
{
	if (!q->ready || q->broken)
		return 0;
	uint16_t avail_idx = driver_avail(q);
	if (avail_idx == q->last_avail)
		return 0;
	if ((uint16_t)(avail_idx - q->last_avail) > q->size)
		return broken(q); /* more entries than the ring holds */
	uint16_t head = __atomic_load_n(&q->avail->ring[q->last_avail % q->size], __ATOMIC_RELAXED);
	if (head >= q->size)
		return broken(q);
	q->last_avail++;
	e->head = head;
	e->nout = e->nin = 0;
	uint16_t i = head;
	/* a chain visits each descriptor at most once, so it has at most
	 * `size` links; more means it loops */
	for (unsigned count = 0;; count++) {
		if (count >= q->size)
			return broken(q);
		struct virtq_desc d;
		memcpy(&d, &q->desc[i], sizeof(d)); /* one snapshot: the guest may change it */
		if (d.flags & DESC_F_INDIRECT)
			return broken(q); /* not offered */
		void *p = gmem_ptr(m, d.addr, d.len);
		if (!p)
			return broken(q);
		if (d.flags & DESC_F_WRITE) {
			e->in[e->nin++] = (struct iovec){p, d.len};
		} else {
			if (e->nin)
				return broken(q); /* readable after writable */
			e->out[e->nout++] = (struct iovec){p, d.len};
		}
		if (!(d.flags & DESC_F_NEXT))
			break;
		if (d.next >= q->size || e->nin == VIRTQ_MAX_SEGS || e->nout == VIRTQ_MAX_SEGS)
			return broken(q);
		i = d.next;
	}
	return 1;
}

bool virtq_has_avail(struct virtq *q)
{
	return q->ready && !q->broken && driver_avail(q) != q->last_avail;
}

void virtq_unpop(struct virtq *q, uint16_t n)
{
	q->last_avail = (uint16_t)(q->last_avail - n);
}

void virtq_fill(struct virtq *q, uint16_t head, uint32_t written)
{
	struct virtq_used_elem *u = &q->used->ring[q->used_idx % q->size];
	u->id = head;
	u->len = written;
	q->used_idx++;
}

/* the release store orders the elements before the index that shows them */
void virtq_flush(struct virtq *q)
{
	__atomic_store_n(&q->used->idx, q->used_idx, __ATOMIC_RELEASE);
}

void virtq_push(struct virtq *q, uint16_t head, uint32_t written)
{
	virtq_fill(q, head, written);
	virtq_flush(q);
}

bool virtq_should_notify(struct virtq *q)
{
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	if (!q->event_idx)
		return !(__atomic_load_n(&q->avail->flags, __ATOMIC_RELAXED) &
			 AVAIL_F_NO_INTERRUPT);
	/* whether used_event is among the entries used since the last call */
	uint16_t event = __atomic_load_n(used_event(q), __ATOMIC_RELAXED);
	uint16_t old = q->signalled_used;
	q->signalled_used = q->used_idx;
	return (uint16_t)(q->used_idx - event - 1) < (uint16_t)(q->used_idx - old);
}

size_t iov_size(const struct iovec *iov, unsigned n)
{
	size_t s = 0;
	for (unsigned i = 0; i < n; i++)
		s += iov[i].iov_len;
	return s;
}

static size_t iov_copy(const struct iovec *iov, unsigned n, size_t off, void *buf, size_t len,
		       int to_iov)
{
	size_t done = 0;
	for (unsigned i = 0; i < n && done < len; i++) {
		if (off >= iov[i].iov_len) {
			off -= iov[i].iov_len;
			continue;
		}
		size_t k = iov[i].iov_len - off;
		if (k > len - done)
			k = len - done;
		uint8_t *p = (uint8_t *)iov[i].iov_base + off;
		if (to_iov)
			memcpy(p, (const uint8_t *)buf + done, k);
		else
			memcpy((uint8_t *)buf + done, p, k);
		done += k;
		off = 0;
	}
	return done;
}

size_t iov_to_buf(const struct iovec *iov, unsigned n, size_t off, void *buf, size_t len)
{
	return iov_copy(iov, n, off, buf, len, 0);
}

size_t iov_from_buf(const struct iovec *iov, unsigned n, size_t off, const void *buf, size_t len)
{
	return iov_copy(iov, n, off, (void *)buf, len, 1);
}
