#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <string.h>

#include "vmm/portio.h"

/* What the last handler call saw. */
static struct {
	void *opaque;
	uint16_t port;
	unsigned size;
	bool write;
	unsigned calls;
} seen;

static void record(void *opaque, uint16_t port, unsigned size, bool write, uint8_t *data)
{
	seen.opaque = opaque;
	seen.port = port;
	seen.size = size;
	seen.write = write;
	seen.calls++;
	if (!write)
		memset(data, 0x5a, size);
}

static int clear(void **state)
{
	(void)state;
	memset(&seen, 0, sizeof(seen));
	return 0;
}

static void test_dispatch_by_first_port(void **state)
{
	(void)state;
	struct portio_table t = {0};
	int a, b;
	assert_int_equal(portio_register(&t, 0x3f8, 8, record, &a), 0);
	assert_int_equal(portio_register(&t, 0x60, 1, record, &b), 0);
	uint8_t data[4] = {0};
	portio_dispatch(&t, 0x3ff, 4, false, data); /* last port, wide: the handler's */
	assert_int_equal(seen.calls, 1);
	assert_ptr_equal(seen.opaque, &a);
	assert_int_equal(seen.port, 0x3ff);
	assert_int_equal(seen.size, 4);
	assert_false(seen.write);
	assert_memory_equal(data, "\x5a\x5a\x5a\x5a", 4);
	portio_dispatch(&t, 0x60, 1, true, data);
	assert_int_equal(seen.calls, 2);
	assert_ptr_equal(seen.opaque, &b);
	assert_true(seen.write);
}

static void test_unclaimed(void **state)
{
	(void)state;
	struct portio_table t = {0};
	assert_int_equal(portio_register(&t, 0x3f8, 8, record, NULL), 0);
	uint8_t data[4] = {1, 2, 3, 4};
	portio_dispatch(&t, 0x3f7, 2, false, data); /* runs into the range: not its */
	assert_int_equal(seen.calls, 0);
	assert_memory_equal(data, "\xff\xff\x03\x04", 4);
	portio_dispatch(&t, 0x400, 1, true, data); /* a write to nothing: dropped */
	assert_int_equal(seen.calls, 0);
	assert_memory_equal(data, "\xff\xff\x03\x04", 4);
}

static void test_unclaimed_handler(void **state)
{
	(void)state;
	int claimed, rest;
	struct portio_table t = {.unclaimed = record, .unclaimed_opaque = &rest};
	assert_int_equal(portio_register(&t, 0x3f8, 8, record, &claimed), 0);
	uint8_t data[4] = {0};
	portio_dispatch(&t, 0x3f8, 1, false, data);
	assert_ptr_equal(seen.opaque, &claimed);
	portio_dispatch(&t, 0xb008, 4, false, data); /* nothing registered there */
	assert_int_equal(seen.calls, 2);
	assert_ptr_equal(seen.opaque, &rest);
	assert_int_equal(seen.port, 0xb008);
	assert_int_equal(seen.size, 4);
	assert_memory_equal(data, "\x5a\x5a\x5a\x5a", 4);
	portio_dispatch(&t, 0x2f8, 1, true, data);
	assert_true(seen.write && seen.port == 0x2f8 && seen.calls == 3);
}

static void test_register_refuses(void **state)
{
	(void)state;
	struct portio_table t = {0};
	assert_int_equal(portio_register(&t, 0x600, 6, record, NULL), 0);
	assert_int_equal(portio_register(&t, 0x605, 1, record, NULL), -1); /* overlaps */
	assert_int_equal(portio_register(&t, 0x5ff, 2, record, NULL), -1);
	assert_int_equal(portio_register(&t, 0x5f0, 0x20, record, NULL), -1);  /* covers it */
	assert_int_equal(portio_register(&t, 0x700, 0, record, NULL), -1);     /* empty */
	assert_int_equal(portio_register(&t, 0xfff0, 0x11, record, NULL), -1); /* past 0xffff */
	assert_int_equal(portio_register(&t, 0xfff0, 0x10, record, NULL), 0);
	assert_int_equal(portio_register(&t, 0x5ff, 1, record, NULL), 0); /* adjacent */
	assert_int_equal(portio_register(&t, 0x606, 1, record, NULL), 0);
	for (unsigned i = t.nranges; i < PORTIO_MAX_RANGES; i++)
		assert_int_equal(portio_register(&t, (uint16_t)(0x1000 + i), 1, record, NULL), 0);
	assert_int_equal(portio_register(&t, 0x2000, 1, record, NULL), -1); /* full */
	uint8_t data = 0;
	portio_dispatch(&t, 0xffff, 1, false, &data);
	assert_int_equal(seen.calls, 1);
	assert_int_equal(seen.port, 0xffff);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup(test_dispatch_by_first_port, clear),
	    cmocka_unit_test_setup(test_unclaimed, clear),
	    cmocka_unit_test_setup(test_unclaimed_handler, clear),
	    cmocka_unit_test_setup(test_register_refuses, clear),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
