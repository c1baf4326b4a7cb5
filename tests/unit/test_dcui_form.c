#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "dcui/form.h"
#include "dcui/netform.h"

#include <stdlib.h>
#include <string.h>

static void test_ipv4(void **state)
{
	(void)state;
	const char *good[] = {"0.0.0.0", "192.0.2.1", "255.255.255.255", "10.0.0.10"};
	const char *bad[] = {"",	 "1.2.3",      "1.2.3.4.5", "256.1.1.1",
			     "01.2.3.4", "1.2.3.4 ",   " 1.2.3.4",  "1..2.3",
			     "1.2.3.-4", "1.2.3.4/24", "a.b.c.d",   "1.2.3.1000"};
	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++)
		assert_true(form_ipv4_valid(good[i]));
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_false(form_ipv4_valid(bad[i]));
}

static void test_cidr(void **state)
{
	(void)state;
	assert_true(form_cidr_valid("192.0.2.10/24"));
	assert_true(form_cidr_valid("10.0.0.1/32"));
	assert_true(form_cidr_valid("10.0.0.1/1"));
	assert_false(form_cidr_valid("10.0.0.1"));
	assert_false(form_cidr_valid("10.0.0.1/"));
	assert_false(form_cidr_valid("10.0.0.1/0"));
	assert_false(form_cidr_valid("10.0.0.1/33"));
	assert_false(form_cidr_valid("10.0.0.1/024"));
	assert_false(form_cidr_valid("10.0.0.1/24x"));
	assert_false(form_cidr_valid("10.0.0.300/24"));
}

static void test_hostname(void **state)
{
	(void)state;
	assert_true(form_hostname_valid("esx-lab-01"));
	assert_true(form_hostname_valid("a"));
	assert_true(form_hostname_valid("host.example.org"));
	char longest[64];
	memset(longest, 'a', 63);
	longest[63] = '\0';
	assert_true(form_hostname_valid(longest));
	char too_long[65];
	memset(too_long, 'a', 64);
	too_long[64] = '\0';
	assert_false(form_hostname_valid(too_long));
	const char *bad[] = {"",     ".a",   "a.",  "a..b", "-a",	"a-",
			     "a-.b", "a.-b", "a_b", "a b",  "h\xc3\xa9"};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_false(form_hostname_valid(bad[i]));
}

static void test_number_and_yes(void **state)
{
	(void)state;
	long n = -1;
	assert_true(form_number("0", 0, 10, &n));
	assert_int_equal(n, 0);
	assert_true(form_number("900", 0, 86400, &n));
	assert_int_equal(n, 900);
	assert_false(form_number("", 0, 10, &n));
	assert_false(form_number("-1", 0, 10, &n));
	assert_false(form_number("11", 0, 10, &n));
	assert_false(form_number("1 ", 0, 10, &n));
	assert_false(form_number("9999999999", 0, 86400, &n));
	assert_true(form_is_yes("yes"));
	assert_true(form_is_yes("YES"));
	assert_false(form_is_yes("y"));
	assert_false(form_is_yes("yes "));
	assert_false(form_is_yes(""));
}

static struct netform from(const char *json)
{
	json_t *m = json_loads(json, 0, NULL);
	assert_non_null(m);
	struct netform f;
	netform_from_json(&f, m);
	json_decref(m);
	return f;
}

static void assert_body(const struct netform *was, const struct netform *now, const char *want)
{
	char err[256] = "";
	json_t *body = netform_body(was, now, err, sizeof(err));
	if (!body)
		fail_msg("refused: %s", err);
	json_t *expect = json_loads(want, 0, NULL);
	assert_non_null(expect);
	if (!json_equal(body, expect)) {
		char *got = json_dumps(body, JSON_SORT_KEYS);
		fail_msg("body %s, want %s", got, want);
	}
	json_decref(body);
	json_decref(expect);
}

static const char *STATIC =
    "{\"hostname\": \"esx\", \"interface\": \"eth0\", \"vlan\": 20, \"mode\": \"static\", "
    "\"address\": \"192.0.2.10/24\", \"gateway\": \"192.0.2.1\", \"dns\": [\"192.0.2.53\"], "
    "\"current\": {\"addresses\": [\"192.0.2.10/24\"]}, \"pending\": null}";

static void test_netform_read(void **state)
{
	(void)state;
	struct netform f = from(STATIC);
	assert_string_equal(f.vlan, "20");
	assert_string_equal(f.mode, "static");
	assert_string_equal(f.address, "192.0.2.10/24");
	assert_string_equal(f.gateway, "192.0.2.1");
	assert_string_equal(f.dns[0], "192.0.2.53");
	assert_string_equal(f.dns[1], "");
	assert_string_equal(f.hostname, "esx");
	/* DHCP: nulls are empty fields */
	f = from("{\"hostname\": \"keel\", \"mode\": \"dhcp\", \"address\": null, "
		 "\"gateway\": null, \"dns\": []}");
	assert_string_equal(f.mode, "dhcp");
	assert_string_equal(f.vlan, "");
	assert_string_equal(f.address, "");
	assert_string_equal(f.gateway, "");
}

static void test_netform_only_changes(void **state)
{
	(void)state;
	struct netform was = from(STATIC), now = was;
	assert_body(&was, &now, "{}");
	/* the host name alone: no IP field, so no confirmation */
	strcpy(now.hostname, "esx2");
	assert_body(&was, &now, "{\"hostname\": \"esx2\"}");
	now = was;
	strcpy(now.dns[1], "192.0.2.54");
	assert_body(&was, &now, "{\"dns\": [\"192.0.2.53\", \"192.0.2.54\"]}");
	now = was;
	now.gateway[0] = '\0';
	assert_body(&was, &now, "{\"gateway\": null}");
	/* the VLAN: another one, or none (empty or 0) */
	now = was;
	strcpy(now.vlan, "30");
	assert_body(&was, &now, "{\"vlan\": 30}");
	now.vlan[0] = '\0';
	assert_body(&was, &now, "{\"vlan\": 0}");
	strcpy(now.vlan, "0");
	assert_body(&was, &now, "{\"vlan\": 0}");
	/* to DHCP: the static fields are not sent (hostd drops them) */
	now = was;
	strcpy(now.mode, "dhcp");
	assert_body(&was, &now, "{\"mode\": \"dhcp\"}");
	/* from DHCP to static: all the static fields */
	struct netform dhcp = from("{\"hostname\": \"keel\", \"mode\": \"dhcp\"}");
	now = dhcp;
	strcpy(now.mode, "static");
	strcpy(now.address, "10.0.0.5/8");
	assert_body(&dhcp, &now,
		    "{\"mode\": \"static\", \"address\": \"10.0.0.5/8\", \"gateway\": null, "
		    "\"dns\": []}");
}

static void test_netform_refuses(void **state)
{
	(void)state;
	struct netform was = from(STATIC);
	char err[256];
	struct netform now = was;
	strcpy(now.mode, "manual");
	assert_null(netform_body(&was, &now, err, sizeof(err)));
	assert_non_null(strstr(err, "DHCP or static"));
	now = was;
	strcpy(now.address, "192.0.2.10");
	assert_null(netform_body(&was, &now, err, sizeof(err)));
	assert_non_null(strstr(err, "IPv4 address"));
	now = was;
	strcpy(now.gateway, "192.0.2");
	assert_null(netform_body(&was, &now, err, sizeof(err)));
	assert_non_null(strstr(err, "gateway"));
	now = was;
	strcpy(now.dns[2], "dns.example");
	assert_null(netform_body(&was, &now, err, sizeof(err)));
	assert_non_null(strstr(err, "DNS"));
	now = was;
	strcpy(now.hostname, "bad_name");
	assert_null(netform_body(&was, &now, err, sizeof(err)));
	assert_non_null(strstr(err, "Host name"));
	const char *vlans[] = {"4095", "-1", "x", "20 "};
	for (size_t i = 0; i < sizeof(vlans) / sizeof(vlans[0]); i++) {
		now = was;
		strcpy(now.vlan, vlans[i]);
		assert_null(netform_body(&was, &now, err, sizeof(err)));
		assert_non_null(strstr(err, "VLAN ID"));
	}
	/* in DHCP mode the static fields are not looked at */
	now = was;
	strcpy(now.mode, "dhcp");
	strcpy(now.address, "junk");
	assert_body(&was, &now, "{\"mode\": \"dhcp\"}");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_ipv4),
	    cmocka_unit_test(test_cidr),
	    cmocka_unit_test(test_hostname),
	    cmocka_unit_test(test_number_and_yes),
	    cmocka_unit_test(test_netform_read),
	    cmocka_unit_test(test_netform_only_changes),
	    cmocka_unit_test(test_netform_refuses),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
