#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <string.h>

#include "hostd/chronyc.h"

static void test_tracking(void **state)
{
	(void)state;
	/* chronyc 4.3 -c tracking, synchronized to a stratum 8 server */
	json_t *t = chronyc_tracking(
	    "0A000202,10.0.2.2,9,1796309452.591769299,-0.000004351,-0.000001042,0.000000959,"
	    "0.252,-0.022,0.563,0.000010101,0.000002207,1.0,Normal\n");
	assert_non_null(t);
	assert_string_equal(json_string_value(json_object_get(t, "reference")), "10.0.2.2");
	assert_int_equal(json_integer_value(json_object_get(t, "stratum")), 9);
	assert_true(json_real_value(json_object_get(t, "offset_s")) == -0.000004351);
	assert_true(json_real_value(json_object_get(t, "last_offset_s")) == -0.000001042);
	assert_true(json_real_value(json_object_get(t, "update_interval_s")) == 1.0);
	assert_string_equal(json_string_value(json_object_get(t, "leap")), "Normal");
	assert_true(json_is_true(json_object_get(t, "synchronized")));
	json_decref(t);
	/* before the first sample */
	t = chronyc_tracking("00000000,,0,0.000000000,0.000000000,0.000000000,0.000000000,"
			     "0.000,0.000,0.000,1.000000000,1.000000000,0.0,Not synchronised\n");
	assert_non_null(t);
	assert_true(json_is_false(json_object_get(t, "synchronized")));
	json_decref(t);
	/* not a tracking line */
	assert_null(chronyc_tracking(""));
	assert_null(chronyc_tracking("506 Cannot talk to daemon\n"));
	assert_null(chronyc_tracking("0A000202,10.0.2.2,9,x,0,0,0,0,0,0,0,0,1.0,Normal"));
	assert_null(chronyc_tracking("0A000202,10.0.2.2,9,1,0,0,0,0,0,0,0,0,1.0,Normal,extra"));
}

static void test_sources(void **state)
{
	(void)state;
	json_t *s = chronyc_sources("^,*,10.0.2.2,8,6,377,37,-0.000012,-0.000013,0.000123\n"
				    "^,?,pool.example,0,6,0,-,0.0,0.0,0.0\n");
	assert_non_null(s);
	assert_int_equal(json_array_size(s), 2);
	json_t *a = json_array_get(s, 0), *b = json_array_get(s, 1);
	assert_string_equal(json_string_value(json_object_get(a, "mode")), "server");
	assert_string_equal(json_string_value(json_object_get(a, "state")), "selected");
	assert_string_equal(json_string_value(json_object_get(a, "name")), "10.0.2.2");
	assert_int_equal(json_integer_value(json_object_get(a, "reach")), 255);
	assert_int_equal(json_integer_value(json_object_get(a, "last_rx_s")), 37);
	assert_true(json_real_value(json_object_get(a, "offset_s")) == -0.000012);
	assert_string_equal(json_string_value(json_object_get(b, "state")), "unreachable");
	assert_true(json_is_null(json_object_get(b, "last_rx_s")));
	json_decref(s);
	s = chronyc_sources("");
	assert_int_equal(json_array_size(s), 0);
	json_decref(s);
	assert_null(chronyc_sources("^,!,10.0.2.2,8,6,377,37,0,0,0\n"));
	assert_null(chronyc_sources("506 Cannot talk to daemon\n"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_tracking),
	    cmocka_unit_test(test_sources),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
