/* The PC's CMOS: an MC146818 real-time clock and its 128 bytes of RAM, on
 * I/O ports CMOS_PORT_INDEX (the register to use; bit 7 is the NMI mask,
 * ignored) and CMOS_PORT_DATA.
 *
 * The clock runs from the host's (UTC) plus the guest's own offset: a
 * guest that sets the time (registers 0-9 and the century, with or without
 * register B's SET bit held) moves only its own clock. It reads in BCD or
 * binary and in 24 or 12 hours as register B says, with register A's
 * update-in-progress bit set in the last 244 us of each second, as on the
 * chip. No interrupt is ever raised yet (register C reads 0): until the
 * update, alarm and periodic interrupts are there, a direct-boot guest is
 * told there is no CMOS clock (acpi.c's FADT), since Linux's rtc-cmos (and
 * hwclock with it) would wait for them; firmware only polls.
 *
 * The RAM holds what firmware reads at power-on (cmos_set_memory): the
 * memory sizes (0x15-0x18, 0x30-0x31, 0x34-0x35, 0x5b-0x5d) and the CPU
 * count (0x5f), as SeaBIOS and OVMF expect them on QEMU's PC; the guest
 * may write any of it. Everything the guest writes is only stored or
 * decoded with its ranges checked: a time that makes no sense is ignored.
 * Called with the VM lock held (portio.h). */
#ifndef KEEL_VMM_CMOS_H
#define KEEL_VMM_CMOS_H

#include <stdbool.h>
#include <stdint.h>
#include <time.h>

#define CMOS_PORT_INDEX 0x70
#define CMOS_PORT_DATA	0x71
#define CMOS_IRQ	8

struct cmos {
	uint8_t ram[128];
	uint8_t index;
	int64_t offset; /* the guest's clock minus the host's, seconds */
	/* the host's clock (CLOCK_REALTIME unless a test sets another) */
	void (*now)(struct timespec *ts);
};

void cmos_init(struct cmos *c);
/* RAM below 4 GiB (bytes, at least 1 MiB) and above it, and the vCPUs. */
void cmos_set_memory(struct cmos *c, uint64_t below_4g, uint64_t above_4g, unsigned vcpus);

/* The port handler for CMOS_PORT_INDEX .. CMOS_PORT_DATA (portio.h). */
void cmos_io(void *opaque, uint16_t port, unsigned size, bool write, uint8_t *data);

#endif
