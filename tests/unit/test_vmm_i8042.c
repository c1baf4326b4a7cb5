#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "vmm/i8042.h"

static struct i8042 k;
static int resets;

static void on_reset(void *opaque)
{
	(void)opaque;
	resets++;
}

static int setup(void **state)
{
	(void)state;
	i8042_init(&k);
	k.reset = on_reset;
	resets = 0;
	return 0;
}

static uint8_t in(uint16_t port)
{
	uint8_t v = 0;
	i8042_io(&k, port, 1, false, &v);
	return v;
}

static void out(uint16_t port, uint8_t v)
{
	i8042_io(&k, port, 1, true, &v);
}

static uint8_t status(void)
{
	return in(I8042_PORT_CMD);
}

/* a command and its one answer byte, as firmware and Linux poll for it */
static uint8_t ask(uint8_t cmd)
{
	out(I8042_PORT_CMD, cmd);
	assert_true(status() & 0x01); /* the answer is there at once */
	uint8_t v = in(I8042_PORT_DATA);
	assert_false(status() & 0x01);
	return v;
}

static void test_empty_and_ready(void **state)
{
	(void)state;
	uint8_t st = status();
	assert_int_equal(st & 0x03, 0); /* nothing to read, ready for input */
	assert_true(st & 0x04);		/* the system flag: POST passed */
	assert_true(st & 0x10);		/* no key lock */
}

static void test_seabios_gives_up_on_the_keyboard(void **state)
{
	(void)state;
	/* SeaBIOS's keyboard_init: ports off, self-test, then the keyboard
	 * interface test, which must fail for it to stop there */
	out(I8042_PORT_CMD, 0xad);
	out(I8042_PORT_CMD, 0xa7);
	assert_false(status() & 0x01);
	assert_int_equal(ask(0xaa), 0x55);
	assert_int_not_equal(ask(0xab), 0x00);
	assert_int_not_equal(ask(0xa9), 0x00);
}

static void test_linux_probe_answers(void **state)
{
	(void)state;
	/* the command byte: read, written, read back */
	uint8_t cb = ask(0x20);
	out(I8042_PORT_CMD, 0x60);
	out(I8042_PORT_DATA, (uint8_t)(cb | 0x02));
	assert_int_equal(ask(0x20), cb | 0x02);
	/* the mouse loop: the byte comes back flagged as the mouse's */
	out(I8042_PORT_CMD, 0xd3);
	out(I8042_PORT_DATA, 0x5a);
	assert_int_equal(status() & 0x21, 0x21);
	assert_int_equal(in(I8042_PORT_DATA), 0x5a);
	assert_int_equal(status() & 0x21, 0);
	out(I8042_PORT_CMD, 0xd2);
	out(I8042_PORT_DATA, 0xa5);
	assert_int_equal(status() & 0x21, 0x01);
	assert_int_equal(in(I8042_PORT_DATA), 0xa5);
	/* the ports' disable bits in the command byte */
	out(I8042_PORT_CMD, 0xa7);
	assert_true(ask(0x20) & 0x20);
	out(I8042_PORT_CMD, 0xa8);
	assert_false(ask(0x20) & 0x20);
	out(I8042_PORT_CMD, 0xad);
	assert_true(ask(0x20) & 0x10);
	out(I8042_PORT_CMD, 0xae);
	assert_false(ask(0x20) & 0x10);
	/* a byte for the keyboard: nobody answers */
	out(I8042_PORT_DATA, 0xf2);
	assert_false(status() & 0x01);
	assert_int_equal(resets, 0);
}

static void test_reset_line(void **state)
{
	(void)state;
	out(I8042_PORT_CMD, 0xfe); /* Linux's keyboard-controller reset */
	assert_int_equal(resets, 1);
	out(I8042_PORT_CMD, 0xff); /* pulses no line */
	assert_int_equal(resets, 1);
	/* the output port, its bit 0 cleared */
	assert_int_equal(ask(0xd0) & 0x01, 0x01);
	out(I8042_PORT_CMD, 0xd1);
	out(I8042_PORT_DATA, 0x02);
	assert_int_equal(resets, 2);
	/* a 0xfe after 0x60 is the command byte's, not a command */
	out(I8042_PORT_CMD, 0x60);
	out(I8042_PORT_DATA, 0xfe);
	assert_int_equal(resets, 2);
}

static void test_wide_access(void **state)
{
	(void)state;
	uint8_t v[4] = {0};
	i8042_io(&k, I8042_PORT_CMD, 4, false, v);
	assert_int_equal(v[0], 0xff);
	assert_int_equal(v[3], 0xff);
	uint8_t w[2] = {0xfe, 0xfe};
	i8042_io(&k, I8042_PORT_CMD, 2, true, w);
	assert_int_equal(resets, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup(test_empty_and_ready, setup),
	    cmocka_unit_test_setup(test_seabios_gives_up_on_the_keyboard, setup),
	    cmocka_unit_test_setup(test_linux_probe_answers, setup),
	    cmocka_unit_test_setup(test_reset_line, setup),
	    cmocka_unit_test_setup(test_wide_access, setup),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
