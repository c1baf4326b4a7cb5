/* Dispatch of x86 port I/O: devices register ranges of ports, each with a
 * handler, and a vCPU's port access goes to the handler whose range holds
 * the access's first port (a wide access that runs past the end of a range
 * is the handler's to cut short). Ranges never overlap: registering one
 * that would is refused. An access no range claims goes to the table's
 * `unclaimed` handler if it has one; else it reads as all ones and its
 * writes are dropped.
 *
 * The table is filled while the VM is built and only read afterwards;
 * dispatch takes no lock of its own: the caller holds the VM lock, which
 * every handler expects. The port, size and data come from the guest. */
#ifndef KEEL_VMM_PORTIO_H
#define KEEL_VMM_PORTIO_H

#include <stdbool.h>
#include <stdint.h>

#define PORTIO_MAX_RANGES 16

/* One access of size 1, 2 or 4 at `port`; data holds the guest's
 * (little-endian) value for a write, and is the buffer to fill for a
 * read. */
typedef void (*portio_fn)(void *opaque, uint16_t port, unsigned size, bool write, uint8_t *data);

struct portio_range {
	uint16_t base;
	uint16_t len; /* ports base .. base + len - 1 */
	portio_fn handler;
	void *opaque;
};

struct portio_table {
	struct portio_range ranges[PORTIO_MAX_RANGES];
	unsigned nranges;
	/* the accesses no range claims, or NULL: they read as all ones and
	 * their writes are dropped */
	portio_fn unclaimed;
	void *unclaimed_opaque;
};

/* Adds ports base .. base + len - 1; -1 if the range is empty, runs past
 * port 0xffff, overlaps one already there, or the table is full. */
int portio_register(struct portio_table *table, uint16_t base, uint16_t len, portio_fn handler,
		    void *opaque);
void portio_dispatch(const struct portio_table *table, uint16_t port, unsigned size, bool write,
		     uint8_t *data);

#endif
