#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "hostd/throttle.h"

static int setup(void **state)
{
	(void)state;
	throttle_reset();
	return 0;
}

/* Failures of root from one address make that address wait, with a
 * growing delay; root from another address is not affected. */
static void test_pair_waits_other_sources_do_not(void **state)
{
	(void)state;
	int64_t t = 1000;
	assert_int_equal(throttle_fail("root", "192.0.2.1", t, 3, 900), 0);
	assert_int_equal(throttle_fail("root", "192.0.2.1", t, 3, 900), 0);
	assert_int_equal(throttle_fail("root", "192.0.2.1", t, 3, 900), THROTTLE_FIRST_WAIT);
	assert_int_equal(throttle_wait("root", "192.0.2.1", t), THROTTLE_FIRST_WAIT);
	assert_int_equal(throttle_wait("root", "192.0.2.2", t), 0);
	assert_int_equal(throttle_wait("alice", "192.0.2.1", t), 0);
	t += THROTTLE_FIRST_WAIT;
	assert_int_equal(throttle_wait("root", "192.0.2.1", t), 0);
	assert_int_equal(throttle_fail("root", "192.0.2.1", t, 3, 900), 2 * THROTTLE_FIRST_WAIT);
	t += 2 * THROTTLE_FIRST_WAIT;
	assert_int_equal(throttle_fail("root", "192.0.2.1", t, 3, 900), 4 * THROTTLE_FIRST_WAIT);
	for (int i = 0; i < 10; i++)
		throttle_fail("root", "192.0.2.1", t, 3, 900);
	assert_int_equal(throttle_wait("root", "192.0.2.1", t), 900); /* capped */
	long failed;
	int64_t until;
	throttle_status("root", t, &failed, &until);
	assert_int_equal(failed, 15);
	assert_int_equal(until, t + 900);
	/* forgotten lockout_seconds after the end of the wait */
	t += 900 + 900;
	assert_int_equal(throttle_fail("root", "192.0.2.1", t, 3, 900), 0);
	/* a success (clear) of the pair */
	throttle_clear("root", "192.0.2.1");
	throttle_status("root", t, &failed, &until);
	assert_int_equal(failed, 0);
	/* 0 failures allowed: never waits */
	for (int i = 0; i < 20; i++)
		assert_int_equal(throttle_fail("bob", "192.0.2.1", t, 0, 900), 0);
}

/* An IPv6 source counts by its /64 (source.h), an IPv4-mapped address as
 * its IPv4 one. */
static void test_ipv6_per_64(void **state)
{
	(void)state;
	throttle_fail("root", "::ffff:192.0.2.7", 0, 1, 900);
	assert_int_equal(throttle_wait("root", "192.0.2.7", 0), THROTTLE_FIRST_WAIT);
	throttle_fail("root", "2001:db8:1:2::1", 0, 1, 900);
	assert_int_equal(throttle_wait("root", "2001:db8:1:2::ffff", 0), THROTTLE_FIRST_WAIT);
	assert_int_equal(throttle_wait("root", "2001:db8:1:3::1", 0), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup(test_pair_waits_other_sources_do_not, setup),
	    cmocka_unit_test_setup(test_ipv6_per_64, setup),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
