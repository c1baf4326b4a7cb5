#include "syslogd/fwdqueue.h"

#include <stdlib.h>
#include <string.h>

int fwd_queue_init(struct fwd_queue *q, size_t max_count, size_t max_bytes)
{
	*q = (struct fwd_queue){.max_count = max_count, .max_bytes = max_bytes};
	q->ring = calloc(max_count, sizeof(*q->ring));
	return q->ring ? 0 : -1;
}

static struct fwd_entry *at(struct fwd_queue *q, uint64_t seq)
{
	if (seq < q->head_seq || seq - q->head_seq >= q->count)
		return NULL;
	return &q->ring[(q->head + (size_t)(seq - q->head_seq)) % q->max_count];
}

static void pop(struct fwd_queue *q)
{
	struct fwd_entry *e = &q->ring[q->head];
	q->bytes -= e->len;
	free(e->msg);
	*e = (struct fwd_entry){0};
	q->head = (q->head + 1) % q->max_count;
	q->count--;
	q->head_seq++;
	if (q->next_seq < q->head_seq)
		q->next_seq = q->head_seq;
}

void fwd_queue_free(struct fwd_queue *q)
{
	while (q->count)
		pop(q);
	free(q->ring);
	q->ring = NULL;
}

/* `lost` more before the first entry not yet written (there is one: the
 * newest, at least, when called after a push) */
static void add_lost(struct fwd_queue *q, unsigned long lost)
{
	struct fwd_entry *e = at(q, q->next_seq);
	if (e)
		e->lost += lost;
	else
		q->lost_unplaced += lost;
}

int fwd_queue_push(struct fwd_queue *q, const char *msg, size_t len)
{
	char *copy = len <= q->max_bytes ? malloc(len ? len : 1) : NULL;
	if (!copy) {
		q->dropped++;
		add_lost(q, 1); /* said before the next one, if any is queued */
		return -1;
	}
	memcpy(copy, msg, len);
	int dropped = 0; /* lost or not */
	unsigned long lost = 0, carried = 0;
	while (q->count && (q->count == q->max_count || q->bytes + len > q->max_bytes)) {
		/* delivered: not lost; the count it carried, if not written
		 * with it, goes on */
		const struct fwd_entry *e = &q->ring[q->head];
		lost += e->acked_ms ? 0 : 1;
		carried += q->head_seq >= q->next_seq ? e->lost : 0;
		pop(q);
		dropped++;
	}
	q->ring[(q->head + q->count) % q->max_count] = (struct fwd_entry){.msg = copy, .len = len};
	q->count++;
	q->bytes += len;
	q->dropped += lost;
	lost += carried + q->lost_unplaced;
	q->lost_unplaced = 0;
	if (lost)
		add_lost(q, lost);
	return dropped;
}

struct fwd_entry *fwd_queue_next(struct fwd_queue *q, uint64_t *seq)
{
	*seq = q->next_seq;
	return at(q, q->next_seq);
}

void fwd_queue_sent(struct fwd_queue *q, uint64_t seq, unsigned long lost, uint64_t wire_end)
{
	struct fwd_entry *e = at(q, seq);
	if (e) {
		e->wire_end = wire_end;
		if (e->lost > lost) { /* more were dropped while it was written */
			unsigned long later = e->lost - lost;
			e->lost = lost;
			struct fwd_entry *after = at(q, seq + 1);
			if (after)
				after->lost += later;
		}
	}
	if (q->next_seq <= seq)
		q->next_seq = seq + 1;
}

void fwd_queue_delivered(struct fwd_queue *q, uint64_t wire, int64_t now_ms, int64_t hold_ms)
{
	if (now_ms <= 0)
		now_ms = 1; /* 0 means "not yet" */
	for (uint64_t seq = q->head_seq; seq < q->next_seq; seq++) {
		struct fwd_entry *e = at(q, seq);
		if (e->wire_end > wire)
			break;
		if (!e->acked_ms)
			e->acked_ms = now_ms;
	}
	while (q->count && q->head_seq < q->next_seq && q->ring[q->head].acked_ms &&
	       now_ms - q->ring[q->head].acked_ms >= hold_ms)
		pop(q);
}

void fwd_queue_rewind(struct fwd_queue *q)
{
	for (uint64_t seq = q->head_seq; seq < q->next_seq; seq++)
		at(q, seq)->acked_ms = 0;
	q->next_seq = q->head_seq;
}

size_t fwd_queue_in_flight(const struct fwd_queue *q)
{
	return (size_t)(q->next_seq - q->head_seq);
}

int fwd_queue_settled(const struct fwd_queue *q)
{
	if (q->next_seq - q->head_seq < q->count)
		return 0; /* some not written */
	/* delivery is in order: the newest delivered means all are */
	return q->count == 0 || q->ring[(q->head + q->count - 1) % q->max_count].acked_ms != 0;
}
