#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "vmm/cmos.h"

#include <string.h>

/* the host's clock, as the test sets it */
static struct timespec host;

static void fake_now(struct timespec *ts)
{
	*ts = host;
}

static struct cmos c;

static int setup(void **state)
{
	(void)state;
	cmos_init(&c);
	c.now = fake_now;
	host = (struct timespec){.tv_sec = 1796304825}; /* 2026-12-03T13:33:45Z, a Thursday */
	return 0;
}

static uint8_t rd(uint8_t reg)
{
	uint8_t v = reg | 0x80; /* with the NMI mask bit, ignored */
	cmos_io(&c, CMOS_PORT_INDEX, 1, true, &v);
	cmos_io(&c, CMOS_PORT_DATA, 1, false, &v);
	return v;
}

static void wr(uint8_t reg, uint8_t v)
{
	cmos_io(&c, CMOS_PORT_INDEX, 1, true, &reg);
	cmos_io(&c, CMOS_PORT_DATA, 1, true, &v);
}

static void test_reads_the_host_time(void **state)
{
	(void)state;
	/* BCD, 24 hours: 2026-12-03 13:33:45, Thursday (5) */
	uint8_t want[][2] = {{0x00, 0x45}, {0x02, 0x33}, {0x04, 0x13}, {0x06, 0x05},
			     {0x07, 0x03}, {0x08, 0x12}, {0x09, 0x26}, {0x32, 0x20}};
	for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++)
		assert_int_equal(rd(want[i][0]), want[i][1]);
	/* binary, 12 hours: 1 PM */
	wr(0x0b, 0x04);
	assert_int_equal(rd(0x04), 0x80 | 1);
	assert_int_equal(rd(0x00), 45);
	assert_int_equal(rd(0x09), 26);
	/* the clock runs */
	host.tv_sec += 3600 * 11;
	assert_int_equal(rd(0x04), 12); /* midnight: 12 AM */
	/* update in progress: the last 244 us of a second */
	assert_int_equal(rd(0x0a), 0x26);
	host.tv_nsec = 999800000;
	assert_int_equal(rd(0x0a), 0xa6);
	/* the battery is good; no interrupt, ever */
	assert_int_equal(rd(0x0d), 0x80);
	assert_int_equal(rd(0x0c), 0);
}

static void test_guest_sets_its_own_time(void **state)
{
	(void)state;
	/* as Linux does: SET, the registers, SET off */
	wr(0x0b, 0x82);
	host.tv_sec += 5; /* held meanwhile */
	assert_int_equal(rd(0x00), 0x45);
	wr(0x09, 0x30);
	wr(0x32, 0x20);
	wr(0x08, 0x01);
	wr(0x07, 0x02);
	wr(0x04, 0x03);
	wr(0x02, 0x04);
	wr(0x00, 0x05);
	wr(0x0b, 0x02);
	assert_int_equal(c.offset, 1893553445 - (1796304825 + 5)); /* 2030-01-02T03:04:05Z */
	host.tv_sec += 10;
	assert_int_equal(rd(0x00), 0x15);
	assert_int_equal(rd(0x09), 0x30);
	/* one register alone, without SET: the minutes go to 10 */
	wr(0x02, 0x10);
	assert_int_equal(rd(0x02), 0x10);
	assert_int_equal(rd(0x04), 0x03);
	assert_int_equal(rd(0x00), 0x15);
	/* 12 hours: 11 PM */
	wr(0x0b, 0x80);
	wr(0x04, 0x80 | 0x11);
	wr(0x0b, 0x00);
	wr(0x0b, 0x02);
	assert_int_equal(rd(0x04), 0x23);
}

static void test_nonsense_time_ignored(void **state)
{
	(void)state;
	int64_t before = c.offset;
	uint8_t bad[][2] = {{0x00, 0x60}, {0x00, 0x5a}, {0x02, 0xff}, {0x04, 0x24}, {0x07, 0x00},
			    {0x07, 0x32}, {0x08, 0x13}, {0x08, 0x00}, {0x09, 0xa0}, {0x32, 0x00}};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		wr(0x0b, 0x82);
		wr(bad[i][0], bad[i][1]);
		wr(0x0b, 0x02);
		assert_int_equal(c.offset, before);
	}
	/* read-only registers stay; the UIP bit cannot be written */
	wr(0x0c, 0xff);
	wr(0x0d, 0x00);
	wr(0x0a, 0xff);
	assert_int_equal(rd(0x0c), 0);
	assert_int_equal(rd(0x0d), 0x80);
	assert_int_equal(rd(0x0a), 0x7f);
	/* the alarm is not the time */
	wr(0x01, 0x59);
	assert_int_equal(rd(0x01), 0x59);
	assert_int_equal(c.offset, before);
}

static void test_memory_for_firmware(void **state)
{
	(void)state;
	/* 3 GiB below 4 GiB, 5 GiB above, 4 vCPUs */
	cmos_set_memory(&c, 3ull << 30, 5ull << 30, 4);
	assert_int_equal(rd(0x15) | rd(0x16) << 8, 640);
	assert_int_equal(rd(0x17) | rd(0x18) << 8, 0xffff); /* capped */
	assert_int_equal(rd(0x34) | rd(0x35) << 8, ((3ull << 30) - (16 << 20)) >> 16);
	assert_int_equal(rd(0x5b) | rd(0x5c) << 8 | rd(0x5d) << 16, (5ull << 30) >> 16);
	assert_int_equal(rd(0x5f), 3);
	/* 8 MiB: below 16 MiB */
	cmos_set_memory(&c, 8 << 20, 0, 1);
	assert_int_equal(rd(0x17) | rd(0x18) << 8, 7 * 1024);
	assert_int_equal(rd(0x34) | rd(0x35) << 8, 0);
	/* a wide access; the index port reads as nothing */
	uint8_t two[2] = {0x5f, 0};
	cmos_io(&c, CMOS_PORT_INDEX, 2, true, two);
	assert_int_equal(rd(0x5f), 0);
	cmos_io(&c, CMOS_PORT_INDEX, 1, false, two);
	assert_int_equal(two[0], 0xff);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup(test_reads_the_host_time, setup),
	    cmocka_unit_test_setup(test_guest_sets_its_own_time, setup),
	    cmocka_unit_test_setup(test_nonsense_time_ignored, setup),
	    cmocka_unit_test_setup(test_memory_for_firmware, setup),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
