#include "vmm/cmos.h"

#include <string.h>

/* the clock's registers */
enum {
	R_SEC = 0x00,
	R_MIN = 0x02,
	R_HOUR = 0x04,
	R_WDAY = 0x06,
	R_MDAY = 0x07,
	R_MON = 0x08,
	R_YEAR = 0x09,
	R_A = 0x0a,
	R_B = 0x0b,
	R_C = 0x0c,
	R_D = 0x0d,
	R_CENTURY = 0x32,
};

#define A_UIP	0x80
#define B_SET	0x80
#define B_BIN	0x04 /* binary, not BCD */
#define B_24H	0x02
#define D_VRT	0x80 /* the battery is good */
#define HOUR_PM 0x80
#define UIP_NS	(1000000000L - 244000L)

static void host_now(struct timespec *ts)
{
	clock_gettime(CLOCK_REALTIME, ts);
}

void cmos_init(struct cmos *c)
{
	memset(c, 0, sizeof(*c));
	c->now = host_now;
	c->ram[R_A] = 0x26; /* 32.768 kHz time base, 1024 Hz rate */
	c->ram[R_B] = B_24H;
	c->ram[R_D] = D_VRT;
}

static void put16(uint8_t *p, uint64_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
}

void cmos_set_memory(struct cmos *c, uint64_t below_4g, uint64_t above_4g, unsigned vcpus)
{
	const uint64_t k = 1024, m = 1024 * k;
	uint64_t ext_kib = (below_4g - m) / k;				     /* above 1 MiB */
	uint64_t over16 = below_4g > 16 * m ? (below_4g - 16 * m) >> 16 : 0; /* 64 KiB units */
	uint64_t high = above_4g >> 16;
	put16(c->ram + 0x15, 640);
	put16(c->ram + 0x17, ext_kib > 0xffff ? 0xffff : ext_kib);
	put16(c->ram + 0x30, ext_kib > 0xffff ? 0xffff : ext_kib);
	put16(c->ram + 0x34, over16 > 0xffff ? 0xffff : over16);
	c->ram[0x5b] = (uint8_t)high;
	c->ram[0x5c] = (uint8_t)(high >> 8);
	c->ram[0x5d] = (uint8_t)(high >> 16);
	c->ram[0x5f] = (uint8_t)(vcpus - 1);
}

static uint8_t encode(const struct cmos *c, unsigned v)
{
	return (c->ram[R_B] & B_BIN) ? (uint8_t)v : (uint8_t)((v / 10) << 4 | v % 10);
}

/* the value of a register as the guest wrote it, or -1 if it is not one */
static int decode(const struct cmos *c, uint8_t v)
{
	if (c->ram[R_B] & B_BIN)
		return v;
	return (v >> 4) > 9 || (v & 15) > 9 ? -1 : (v >> 4) * 10 + (v & 15);
}

/* the guest's time into the clock registers */
static void show_time(struct cmos *c, time_t t)
{
	struct tm tm;
	gmtime_r(&t, &tm);
	c->ram[R_SEC] = encode(c, (unsigned)tm.tm_sec);
	c->ram[R_MIN] = encode(c, (unsigned)tm.tm_min);
	if (c->ram[R_B] & B_24H) {
		c->ram[R_HOUR] = encode(c, (unsigned)tm.tm_hour);
	} else {
		unsigned h = (unsigned)tm.tm_hour % 12;
		c->ram[R_HOUR] =
		    (uint8_t)(encode(c, h ? h : 12) | (tm.tm_hour >= 12 ? HOUR_PM : 0));
	}
	c->ram[R_WDAY] = encode(c, (unsigned)tm.tm_wday + 1);
	c->ram[R_MDAY] = encode(c, (unsigned)tm.tm_mday);
	c->ram[R_MON] = encode(c, (unsigned)tm.tm_mon + 1);
	c->ram[R_YEAR] = encode(c, (unsigned)(tm.tm_year + 1900) % 100);
	c->ram[R_CENTURY] = encode(c, (unsigned)(tm.tm_year + 1900) / 100);
}

/* the clock registers as the guest set them: its new offset, if they
 * hold a time */
static void take_time(struct cmos *c)
{
	int sec = decode(c, c->ram[R_SEC]), min = decode(c, c->ram[R_MIN]);
	int hour = decode(c, c->ram[R_HOUR] & (uint8_t)~HOUR_PM);
	int mday = decode(c, c->ram[R_MDAY]), mon = decode(c, c->ram[R_MON]);
	int year = decode(c, c->ram[R_YEAR]), century = decode(c, c->ram[R_CENTURY]);
	if (!(c->ram[R_B] & B_24H) && hour >= 1 && hour <= 12)
		hour = hour % 12 + ((c->ram[R_HOUR] & HOUR_PM) ? 12 : 0);
	if (sec < 0 || sec > 59 || min < 0 || min > 59 || hour < 0 || hour > 23 || mday < 1 ||
	    mday > 31 || mon < 1 || mon > 12 || year < 0 || year > 99 || century < 19 ||
	    century > 99)
		return; /* not a time: the clock keeps its own */
	struct tm tm = {.tm_sec = sec,
			.tm_min = min,
			.tm_hour = hour,
			.tm_mday = mday,
			.tm_mon = mon - 1,
			.tm_year = century * 100 + year - 1900};
	struct timespec now;
	c->now(&now);
	c->offset = (int64_t)timegm(&tm) - (int64_t)now.tv_sec;
}

/* the time's registers (not the alarm's, 1, 3 and 5) */
static bool is_clock(uint8_t r)
{
	return (r <= R_YEAR && r != 1 && r != 3 && r != 5) || r == R_CENTURY;
}

/* the clock registers from the guest's time, unless it holds them (SET) */
static void refresh(struct cmos *c)
{
	struct timespec now;
	if (c->ram[R_B] & B_SET)
		return;
	c->now(&now);
	show_time(c, (time_t)(now.tv_sec + c->offset));
}

static uint8_t reg_read(struct cmos *c, uint8_t r)
{
	struct timespec now;
	if (is_clock(r)) {
		refresh(c);
		return c->ram[r];
	}
	switch (r) {
	case R_A:
		c->now(&now);
		return (uint8_t)((c->ram[R_A] & ~A_UIP) | (now.tv_nsec >= UIP_NS ? A_UIP : 0));
	case R_C:
		return 0; /* no interrupt is pending, ever */
	case R_D:
		return D_VRT;
	default:
		return c->ram[r];
	}
}

static void reg_write(struct cmos *c, uint8_t r, uint8_t v)
{
	if (is_clock(r)) { /* one register of the time as it is now */
		bool held = c->ram[R_B] & B_SET;
		refresh(c);
		c->ram[r] = v;
		if (!held)
			take_time(c);
		return;
	}
	switch (r) {
	case R_C:
	case R_D:
		return; /* read-only */
	case R_A:
		c->ram[R_A] = v & (uint8_t)~A_UIP;
		return;
	case R_B: {
		bool was_set = c->ram[R_B] & B_SET;
		refresh(c); /* what the guest will change, if it sets SET */
		c->ram[R_B] = v;
		if (was_set && !(v & B_SET))
			take_time(c);
		return;
	}
	default:
		c->ram[r] = v;
	}
}

void cmos_io(void *opaque, uint16_t port, unsigned size, bool write, uint8_t *data)
{
	struct cmos *c = opaque;
	for (unsigned i = 0; i < size; i++) {
		uint16_t p = (uint16_t)(port + i);
		if (p == CMOS_PORT_INDEX && write)
			c->index = data[i] & 0x7f;
		else if (p == CMOS_PORT_DATA && write)
			reg_write(c, c->index, data[i]);
		else if (p == CMOS_PORT_DATA)
			data[i] = reg_read(c, c->index);
		else if (!write)
			data[i] = 0xff; /* the index port reads as nothing */
	}
}
