#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "init/backoff.h"

static void test_first_delay(void **state)
{
	(void)state;
	assert_int_equal(backoff_next(0, 0), BACKOFF_MIN_MS);
	assert_int_equal(backoff_next(0, 500), BACKOFF_MIN_MS);
	assert_int_equal(backoff_next(-5, 0), BACKOFF_MIN_MS);
}

static void test_doubling(void **state)
{
	(void)state;
	assert_int_equal(backoff_next(BACKOFF_MIN_MS, 0), 2 * BACKOFF_MIN_MS);
	assert_int_equal(backoff_next(2000, 100), 4000);
	assert_int_equal(backoff_next(4000, 100), 8000);
	assert_int_equal(backoff_next(8000, BACKOFF_STABLE_MS - 1), 16000);
}

static void test_capped(void **state)
{
	(void)state;
	long d = 0;
	long prev = -1;
	for (int i = 0; i < 20; i++) {
		d = backoff_next(d, 0);
		assert_true(d >= BACKOFF_MIN_MS);
		assert_true(d <= BACKOFF_MAX_MS);
		assert_true(d >= prev);
		prev = d;
	}
	assert_int_equal(d, BACKOFF_MAX_MS);
	assert_int_equal(backoff_next(BACKOFF_MAX_MS, 0), BACKOFF_MAX_MS);
	assert_int_equal(backoff_next(BACKOFF_MAX_MS / 2, 0), BACKOFF_MAX_MS);
	assert_int_equal(backoff_next(BACKOFF_MAX_MS / 2 + 1, 0), BACKOFF_MAX_MS);
	assert_int_equal(backoff_next(BACKOFF_MAX_MS / 2 - 1000, 0), BACKOFF_MAX_MS - 2000);
}

static void test_reset_after_stable_run(void **state)
{
	(void)state;
	assert_int_equal(backoff_next(BACKOFF_MAX_MS, BACKOFF_STABLE_MS), BACKOFF_MIN_MS);
	assert_int_equal(backoff_next(16000, BACKOFF_STABLE_MS + 1), BACKOFF_MIN_MS);
	assert_int_equal(backoff_next(16000, BACKOFF_STABLE_MS - 1), 32000);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_first_delay),
	    cmocka_unit_test(test_doubling),
	    cmocka_unit_test(test_capped),
	    cmocka_unit_test(test_reset_after_stable_run),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
