#include "vmm/portio.h"

#include <string.h>

int portio_register(struct portio_table *table, uint16_t base, uint16_t len, portio_fn handler,
		    void *opaque)
{
	const unsigned end = (unsigned)base + len; /* no wrap: 32-bit */
	if (len == 0 || end > 0x10000u || table->nranges == PORTIO_MAX_RANGES)
		return -1;
	for (unsigned i = 0; i < table->nranges; i++) {
		const struct portio_range *r = &table->ranges[i];
		if (base < (unsigned)r->base + r->len && r->base < end)
			return -1;
	}
	table->ranges[table->nranges++] =
	    (struct portio_range){.base = base, .len = len, .handler = handler, .opaque = opaque};
	return 0;
}

void portio_dispatch(const struct portio_table *table, uint16_t port, unsigned size, bool write,
		     uint8_t *data)
{
	for (unsigned i = 0; i < table->nranges; i++) {
		const struct portio_range *r = &table->ranges[i];
		if (port >= r->base && port - r->base < r->len) {
			r->handler(r->opaque, port, size, write, data);
			return;
		}
	}
	if (table->unclaimed)
		table->unclaimed(table->unclaimed_opaque, port, size, write, data);
	else if (!write)
		memset(data, 0xff, size); /* nothing there */
}
