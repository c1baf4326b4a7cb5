#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "common/chrony.h"
#include "common/hostconf.h"
#include "common/logfiles.h"
#include "common/util.h"

static void assert_defaults(const struct hostconf *hc)
{
	assert_string_equal(hc->hostname, "keel");
	assert_string_equal(hc->mgmt_if, "");
	assert_int_equal(hc->vlan, 0);
	assert_int_equal(hc->mode, NET_DHCP);
	assert_string_equal(hc->address, "");
	assert_int_equal(hc->prefix, -1);
	assert_string_equal(hc->gateway, "");
	for (int i = 0; i < 3; i++)
		assert_string_equal(hc->dns[i], "");
}

static void test_defaults(void **state)
{
	(void)state;
	struct hostconf hc;
	memset(&hc, 0x5a, sizeof(hc));
	hostconf_defaults(&hc);
	assert_defaults(&hc);

	char errs[256] = "junk";
	assert_int_equal(hostconf_parse(&hc, "", errs, sizeof(errs)), 0);
	assert_string_equal(errs, "");
	assert_int_equal(hostconf_parse(&hc, "# only comments\n\n   \n", errs, sizeof(errs)), 0);
	assert_defaults(&hc);
}

static void test_full_file(void **state)
{
	(void)state;
	struct hostconf hc;
	hostconf_defaults(&hc);
	const char *text = "# host.conf written by an operator\n"
			   "hostname = esx-01.lab\n"
			   "\n"
			   "mgmt.interface=eno1   # onboard\n"
			   "mgmt.vlan = 20\n"
			   "  mgmt.mode   =   static\n"
			   "mgmt.address = 192.0.2.10/24\r\n"
			   "mgmt.gateway = 192.0.2.1\n"
			   "mgmt.dns = 192.0.2.53, 198.51.100.53";
	char errs[256];
	assert_int_equal(hostconf_parse(&hc, text, errs, sizeof(errs)), 0);
	assert_string_equal(errs, "");
	assert_string_equal(hc.hostname, "esx-01.lab");
	assert_string_equal(hc.mgmt_if, "eno1");
	assert_int_equal(hc.vlan, 20);
	assert_int_equal(hc.mode, NET_STATIC);
	assert_string_equal(hc.address, "192.0.2.10");
	assert_int_equal(hc.prefix, 24);
	assert_string_equal(hc.gateway, "192.0.2.1");
	assert_string_equal(hc.dns[0], "192.0.2.53");
	assert_string_equal(hc.dns[1], "198.51.100.53");
	assert_string_equal(hc.dns[2], "");
}

static void test_unknown_key(void **state)
{
	(void)state;
	struct hostconf hc;
	hostconf_defaults(&hc);
	char errs[256];
	assert_int_equal(hostconf_parse(&hc, "colour = blue\nhostname = ok\n", errs, sizeof(errs)),
			 1);
	assert_non_null(strstr(errs, "line 1"));
	assert_non_null(strstr(errs, "unknown key"));
	assert_string_equal(hc.hostname, "ok");
}

static void test_bad_values(void **state)
{
	(void)state;
	struct hostconf hc;
	hostconf_defaults(&hc);
	char errs[512];
	const char *text = "hostname = -bad\n"				  /* 1 */
			   "mgmt.address = 192.0.2.10/33\n"		  /* 2 */
			   "mgmt.address = 192.0.2.10\n"		  /* 3 */
			   "mgmt.dns = 1.1.1.1,2.2.2.2,3.3.3.3,4.4.4.4\n" /* 4 */
			   "mgmt.gateway = 300.1.1.1\n"			  /* 5 */
			   "mgmt.mode = bridge\n"			  /* 6 */
			   "no equals sign here\n"			  /* 7 */
			   "mgmt.vlan = 4095\n"				  /* 8 */
			   "mgmt.vlan = -1\n"				  /* 9 */
			   "mgmt.vlan = 20x\n";				  /* 10 */
	assert_int_equal(hostconf_parse(&hc, text, errs, sizeof(errs)), 10);
	assert_defaults(&hc);
	for (int i = 1; i <= 10; i++) {
		char want[16];
		snprintf(want, sizeof(want), "line %d:", i);
		assert_non_null(strstr(errs, want));
	}
	assert_non_null(strstr(errs, "invalid value"));
	assert_non_null(strstr(errs, "expected key = value"));

	/* errs may be NULL */
	hostconf_defaults(&hc);
	assert_int_equal(hostconf_parse(&hc, text, NULL, 0), 10);
	assert_defaults(&hc);
}

static void test_bad_values_keep_earlier(void **state)
{
	(void)state;
	struct hostconf hc;
	hostconf_defaults(&hc);
	const char *text = "hostname = good\n"
			   "mgmt.mode = static\n"
			   "mgmt.address = 10.0.0.5/16\n"
			   "mgmt.gateway = 10.0.0.1\n"
			   "mgmt.dns = 10.0.0.53\n"
			   "hostname = -bad\n"
			   "mgmt.address = 10.0.0.6/33\n"
			   "mgmt.address = 300.1.1.1/8\n"
			   "mgmt.address = 10.0.0.7\n"
			   "mgmt.address = 10.0.0.8/\n"
			   "mgmt.address = 10.0.0.9/2x\n"
			   "mgmt.gateway = 300.1.1.1\n"
			   "mgmt.dns = 1.1.1.1,2.2.2.2,3.3.3.3,4.4.4.4\n"
			   "mgmt.dns = 1.1.1.1,300.1.1.1\n"
			   "mgmt.mode = bridge\n";
	assert_int_equal(hostconf_parse(&hc, text, NULL, 0), 10);
	assert_string_equal(hc.hostname, "good");
	assert_int_equal(hc.mode, NET_STATIC);
	assert_string_equal(hc.address, "10.0.0.5");
	assert_int_equal(hc.prefix, 16);
	assert_string_equal(hc.gateway, "10.0.0.1");
	assert_string_equal(hc.dns[0], "10.0.0.53");
	assert_string_equal(hc.dns[1], "");
}

static void test_dns_three(void **state)
{
	(void)state;
	struct hostconf hc;
	hostconf_defaults(&hc);
	assert_int_equal(hostconf_parse(&hc, "mgmt.dns = 1.1.1.1,2.2.2.2 3.3.3.3\n", NULL, 0), 0);
	assert_string_equal(hc.dns[0], "1.1.1.1");
	assert_string_equal(hc.dns[1], "2.2.2.2");
	assert_string_equal(hc.dns[2], "3.3.3.3");
}

static void test_prefix_bounds(void **state)
{
	(void)state;
	struct hostconf hc;
	hostconf_defaults(&hc);
	assert_int_equal(hostconf_parse(&hc, "mgmt.address = 192.0.2.10/0\n", NULL, 0), 0);
	assert_int_equal(hc.prefix, 0);
	assert_int_equal(hostconf_parse(&hc, "mgmt.address = 192.0.2.10/32\n", NULL, 0), 0);
	assert_int_equal(hc.prefix, 32);
	assert_int_equal(hostconf_parse(&hc, "mgmt.address = 192.0.2.10/-1\n", NULL, 0), 1);
	assert_int_equal(hc.prefix, 32);
}

static void test_static_without_address(void **state)
{
	(void)state;
	struct hostconf hc;
	hostconf_defaults(&hc);
	char errs[256];
	assert_int_equal(hostconf_parse(&hc, "mgmt.mode = static\nmgmt.gateway = 192.0.2.1\n", errs,
					sizeof(errs)),
			 1);
	assert_int_equal(hc.mode, NET_DHCP);
	assert_non_null(strstr(errs, "static without mgmt.address"));

	/* a rejected address does not count as an address */
	hostconf_defaults(&hc);
	assert_int_equal(
	    hostconf_parse(&hc, "mgmt.mode = static\nmgmt.address = 192.0.2.10/33\n", NULL, 0), 2);
	assert_int_equal(hc.mode, NET_DHCP);
}

static void test_errs_small_buffer(void **state)
{
	(void)state;
	struct hostconf hc;
	hostconf_defaults(&hc);
	char errs[8];
	assert_int_equal(
	    hostconf_parse(&hc, "a = 1\nb = 2\nc = 3\nmgmt.mode = static\n", errs, sizeof(errs)),
	    4);
	assert_true(strlen(errs) < sizeof(errs));
}

static void test_long_line(void **state)
{
	(void)state;
	struct hostconf hc;
	hostconf_defaults(&hc);
	char text[600]; /* over the 512 of a line */
	memset(text, 'x', sizeof(text));
	memcpy(text, "hostname = ", 11);
	text[sizeof(text) - 2] = '\n';
	text[sizeof(text) - 1] = '\0';
	char errs[128];
	assert_int_equal(hostconf_parse(&hc, text, errs, sizeof(errs)), 1);
	assert_non_null(strstr(errs, "line too long"));
	assert_string_equal(hc.hostname, "keel");
}

static void test_valid_hostname(void **state)
{
	(void)state;
	assert_true(valid_hostname("keel"));
	assert_true(valid_hostname("a"));
	assert_true(valid_hostname("7"));
	assert_true(valid_hostname("esx-01"));
	assert_true(valid_hostname("host.example.com"));
	assert_true(valid_hostname("a-b-c.d-e"));

	char max[64];
	memset(max, 'a', 63);
	max[63] = '\0';
	assert_true(valid_hostname(max));
	char over[65];
	memset(over, 'a', 64);
	over[64] = '\0';
	assert_false(valid_hostname(over));

	assert_false(valid_hostname(""));
	assert_false(valid_hostname("-bad"));
	assert_false(valid_hostname("bad-"));
	assert_false(valid_hostname("a.-b"));
	assert_false(valid_hostname("a-.b"));
	assert_false(valid_hostname(".a"));
	assert_false(valid_hostname("a."));
	assert_false(valid_hostname("a..b"));
	assert_false(valid_hostname("a_b"));
	assert_false(valid_hostname("a b"));
	assert_false(valid_hostname("h\xc3\xa9te"));
}

static void test_valid_ipv4(void **state)
{
	(void)state;
	assert_true(valid_ipv4("0.0.0.0"));
	assert_true(valid_ipv4("192.0.2.10"));
	assert_true(valid_ipv4("255.255.255.255"));
	assert_false(valid_ipv4(""));
	assert_false(valid_ipv4("300.1.1.1"));
	assert_false(valid_ipv4("256.0.0.1"));
	assert_false(valid_ipv4("1.2.3"));
	assert_false(valid_ipv4("1.2.3.4.5"));
	assert_false(valid_ipv4("1.2.3.4/24"));
	assert_false(valid_ipv4(" 1.2.3.4"));
	assert_false(valid_ipv4("1.2.3.4 "));
	assert_false(valid_ipv4("a.b.c.d"));
	assert_false(valid_ipv4("::1"));
	assert_false(valid_ipv4("0255.255.255.255"));
}

/* formats hc, checks the text, and parses it back into an identical struct */
static void assert_round_trip(const struct hostconf *hc)
{
	char text[512];
	int n = hostconf_format(hc, text, sizeof(text));
	assert_true(n > 0);
	assert_int_equal(strlen(text), n);
	assert_int_equal(strncmp(text, "# written by keel-hostd\n", 24), 0);
	struct hostconf back;
	hostconf_defaults(&back);
	char errs[256];
	assert_int_equal(hostconf_parse(&back, text, errs, sizeof(errs)), 0);
	assert_memory_equal(&back, hc, sizeof(back));

	/* the exact size is enough, one byte less is not */
	char exact[512];
	assert_int_equal(hostconf_format(hc, exact, (size_t)n + 1), n);
	assert_string_equal(exact, text);
	assert_int_equal(hostconf_format(hc, exact, (size_t)n), -1);
}

static void test_format_round_trip(void **state)
{
	(void)state;
	struct hostconf hc;
	hostconf_defaults(&hc);
	assert_round_trip(&hc); /* DHCP, default host name */

	strcpy(hc.hostname, "esx-01.lab");
	strcpy(hc.mgmt_if, "eno1");
	assert_round_trip(&hc);
	hc.vlan = 4094;
	assert_round_trip(&hc);

	hc.mode = NET_STATIC;
	strcpy(hc.address, "192.0.2.10");
	hc.prefix = 24;
	assert_round_trip(&hc); /* no gateway, no DNS */
	strcpy(hc.gateway, "192.0.2.1");
	const char *dns[3] = {"192.0.2.53", "198.51.100.53", "203.0.113.53"};
	for (int i = 0; i < 3; i++) {
		strcpy(hc.dns[i], dns[i]);
		assert_round_trip(&hc);
	}

	/* DHCP with a remembered static address is kept as it is */
	hc.mode = NET_DHCP;
	assert_round_trip(&hc);

	hostconf_defaults(&hc);
	hc.mode = NET_STATIC;
	strcpy(hc.address, "10.0.0.5");
	hc.prefix = 0;
	assert_round_trip(&hc);
	hc.prefix = 32;
	assert_round_trip(&hc);
}

static void test_format_small_buffer(void **state)
{
	(void)state;
	struct hostconf hc;
	hostconf_defaults(&hc);
	char buf[16];
	memset(buf, 'x', sizeof(buf));
	assert_int_equal(hostconf_format(&hc, buf, sizeof(buf)), -1);
	assert_true(memchr(buf, '\0', sizeof(buf)) != NULL);
	assert_int_equal(hostconf_format(&hc, NULL, 0), -1);
}

static void test_format_invalid(void **state)
{
	(void)state;
	struct hostconf hc;
	char buf[512];
	/* values hostconf_parse would refuse or change are not written */
	hostconf_defaults(&hc);
	strcpy(hc.hostname, "bad\nmgmt.mode = static");
	assert_int_equal(hostconf_format(&hc, buf, sizeof(buf)), -1);
	hostconf_defaults(&hc);
	hc.mode = NET_STATIC; /* without an address */
	assert_int_equal(hostconf_format(&hc, buf, sizeof(buf)), -1);
	hostconf_defaults(&hc);
	strcpy(hc.gateway, "300.1.1.1");
	assert_int_equal(hostconf_format(&hc, buf, sizeof(buf)), -1);
	hostconf_defaults(&hc);
	strcpy(hc.dns[1], "192.0.2.53"); /* after an empty one */
	assert_int_equal(hostconf_format(&hc, buf, sizeof(buf)), -1);
	hostconf_defaults(&hc);
	hc.vlan = 4095;
	assert_int_equal(hostconf_format(&hc, buf, sizeof(buf)), -1);
}

static void test_ip_ifname(void **state)
{
	(void)state;
	char name[16];
	assert_int_equal(hostconf_ip_ifname("enp129s0f0np0", 0, name, sizeof(name)), 0);
	assert_string_equal(name, "enp129s0f0np0");
	/* whatever the NIC's name, the VLAN interface's fits */
	assert_int_equal(hostconf_ip_ifname("enp129s0f0np0", 4094, name, sizeof(name)), 0);
	assert_string_equal(name, "mgmt.4094");
	assert_int_equal(hostconf_ip_ifname("eth0", 20, name, 8), 0);
	assert_string_equal(name, "mgmt.20");
	assert_int_equal(hostconf_ip_ifname("eth0", 20, name, 7), -1);
}

static void test_valid_ntp_server(void **state)
{
	(void)state;
	const char *good[] = {
	    "10.0.2.2",	       "pool.ntp.org",	       "ntp1", "2001:db8::1", "::1",
	    "a-b.example.com", "0.debian.pool.ntp.org"};
	const char *bad[] = {"",
			     "bad name",
			     "-lead.example",
			     "trail-.example",
			     "a..b",
			     "1.2.3.999",
			     "1.2.3",
			     "x.example;rm",
			     "[::1]",
			     "10.0.2.2:123",
			     "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"};
	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++)
		assert_true(valid_ntp_server(good[i]));
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_false(valid_ntp_server(bad[i]));
}

static void test_ntp_servers(void **state)
{
	(void)state;
	struct hostconf hc;
	hostconf_defaults(&hc);
	assert_string_equal(hc.ntp[0], "");
	assert_int_equal(
	    hostconf_parse(&hc, "ntp.servers = 10.0.2.2, pool.ntp.org,2001:db8::1\n", NULL, 0), 0);
	assert_string_equal(hc.ntp[0], "10.0.2.2");
	assert_string_equal(hc.ntp[1], "pool.ntp.org");
	assert_string_equal(hc.ntp[2], "2001:db8::1");
	assert_string_equal(hc.ntp[3], "");
	/* five, or one bad name: the line is refused and the servers stay */
	assert_int_equal(hostconf_parse(&hc, "ntp.servers = a, b, c, d, e\n", NULL, 0), 1);
	assert_int_equal(hostconf_parse(&hc, "ntp.servers = a, b c!\n", NULL, 0), 1);
	assert_string_equal(hc.ntp[1], "pool.ntp.org");
	/* four long names fit on one line and come back */
	char out[1024];
	struct hostconf four;
	hostconf_defaults(&four);
	for (int i = 0; i < HOSTCONF_NTP_MAX; i++) {
		memset(four.ntp[i], 'a' + i, HOSTCONF_NTP_LEN - 1);
		four.ntp[i][HOSTCONF_NTP_LEN - 1] = '\0';
	}
	int n = hostconf_format(&four, out, sizeof(out));
	assert_true(n > 0);
	struct hostconf back;
	hostconf_defaults(&back);
	assert_int_equal(hostconf_parse(&back, out, NULL, 0), 0);
	for (int i = 0; i < HOSTCONF_NTP_MAX; i++)
		assert_string_equal(back.ntp[i], four.ntp[i]);
	/* none: no line, and an empty line clears them */
	hostconf_defaults(&back);
	assert_true(hostconf_format(&back, out, sizeof(out)) > 0);
	assert_null(strstr(out, "ntp"));
	assert_int_equal(hostconf_parse(&hc, "ntp.servers =\n", NULL, 0), 0);
	assert_string_equal(hc.ntp[0], "");
	/* a name that is not one cannot be written */
	str_copy(four.ntp[1], HOSTCONF_NTP_LEN, "bad name");
	assert_int_equal(hostconf_format(&four, out, sizeof(out)), -1);
}

static void test_chrony_conf(void **state)
{
	(void)state;
	struct hostconf hc;
	hostconf_defaults(&hc);
	char buf[1024];
	assert_int_equal(chrony_conf_format(&hc, buf, sizeof(buf)), -1); /* NTP off */
	str_copy(hc.ntp[0], HOSTCONF_NTP_LEN, "10.0.2.2");
	str_copy(hc.ntp[1], HOSTCONF_NTP_LEN, "pool.ntp.org");
	int n = chrony_conf_format(&hc, buf, sizeof(buf));
	assert_int_equal(n, (int)strlen(buf));
	assert_non_null(strstr(buf, "\nserver 10.0.2.2 iburst\nserver pool.ntp.org iburst\n"));
	assert_non_null(strstr(buf, "\nmakestep 1 3\n"));
	assert_non_null(strstr(buf, "\nrtcsync\n"));
	assert_non_null(strstr(buf, "\nbindcmdaddress " CHRONY_SOCKET "\n"));
	assert_int_equal(chrony_conf_format(&hc, buf, (size_t)n), -1); /* no room for the NUL */
}

/* log.size_kib and log.keep: ranges checked, written back only when set */
static void test_log_rotation_keys(void **state)
{
	(void)state;
	struct hostconf hc;
	hostconf_defaults(&hc);
	assert_int_equal(hc.log_size_kib, LOG_SIZE_KIB_DEFAULT);
	assert_int_equal(hc.log_keep, LOG_KEEP_DEFAULT);
	assert_int_equal(hostconf_parse(&hc, "log.size_kib = 256\nlog.keep = 3\n", NULL, 0), 0);
	assert_int_equal(hc.log_size_kib, 256);
	assert_int_equal(hc.log_keep, 3);
	char buf[1024];
	assert_true(hostconf_format(&hc, buf, sizeof(buf)) > 0);
	assert_non_null(strstr(buf, "log.size_kib = 256\n"));
	assert_non_null(strstr(buf, "log.keep = 3\n"));
	static const char *const bad[] = {
	    "log.size_kib = 63", "log.size_kib = 1048577", "log.size_kib = -1",
	    "log.size_kib = 1k", "log.size_kib =",	   "log.size_kib = +100",
	    "log.keep = 0",	 "log.keep = 21",	   "log.keep = 99999999999999999999",
	    "log.keep =  2 3",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		assert_int_equal(hostconf_parse(&hc, bad[i], NULL, 0), 1);
		assert_int_equal(hc.log_size_kib, 256);
		assert_int_equal(hc.log_keep, 3);
	}
	hostconf_defaults(&hc);
	assert_true(hostconf_format(&hc, buf, sizeof(buf)) > 0);
	assert_null(strstr(buf, "log."));
}

/* console.* and tsm.*: read, refused when bad (defaults kept), written
 * back the same */
static void test_console_keys(void **state)
{
	(void)state;
	struct hostconf hc;
	hostconf_defaults(&hc);
	assert_int_equal(hc.console.dcui, 1);
	assert_int_equal(hc.console.tsm_ssh, 0);
	const char *good = "console.dcui = off\ntsm.ssh = on\ntsm.ssh.until = 1796000000\n"
			   "tsm.local = on\ntsm.timeout_s = 600\ntsm.idle_s = 300\n";
	assert_int_equal(hostconf_parse(&hc, good, NULL, 0), 0);
	assert_int_equal(hc.console.dcui, 0);
	assert_int_equal(hc.console.tsm_ssh, 1);
	assert_true(hc.console.tsm_ssh_until == 1796000000LL);
	assert_int_equal(hc.console.tsm_local, 1);
	assert_true(hc.console.tsm_local_until == 0);
	assert_int_equal(hc.console.tsm_timeout_s, 600);
	assert_int_equal(hc.console.tsm_idle_s, 300);
	char text[2048];
	assert_true(hostconf_format(&hc, text, sizeof(text)) > 0);
	struct hostconf back;
	hostconf_defaults(&back);
	assert_int_equal(hostconf_parse(&back, text, NULL, 0), 0);
	assert_memory_equal(&back.console, &hc.console, sizeof(hc.console));
	static const char *const bad[] = {
	    "tsm.ssh = yes\n",		"console.dcui = 1\n",
	    "tsm.ssh.until = -5\n",	"tsm.ssh.until = 99999999999999999999\n",
	    "tsm.timeout_s = 604801\n", "tsm.idle_s = x\n",
	    "tsm.other = on\n",		"tsm.local.until = 12a\n",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		hostconf_defaults(&hc);
		assert_int_equal(hostconf_parse(&hc, bad[i], NULL, 0), 1);
		struct hostconf def;
		hostconf_defaults(&def);
		assert_memory_equal(&hc.console, &def.console, sizeof(def.console));
	}
}

/* RFC 1071's example: 00 01 f2 03 f4 f5 f6 f7 sums to ddf2 */
static void test_inet_checksum(void **state)
{
	(void)state;
	const unsigned char data[] = {0x00, 0x01, 0xf2, 0x03, 0xf4, 0xf5, 0xf6, 0xf7};
	unsigned short c = inet_checksum(data, sizeof(data));
	const unsigned char *b = (const unsigned char *)&c; /* network order */
	assert_int_equal(b[0], 0x22);
	assert_int_equal(b[1], 0x0d);
	/* a buffer that holds its checksum sums to zero */
	unsigned char with[10];
	memcpy(with, data, sizeof(data));
	memcpy(with + 8, &c, 2);
	assert_int_equal(inet_checksum(with, sizeof(with)), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_defaults),
	    cmocka_unit_test(test_full_file),
	    cmocka_unit_test(test_unknown_key),
	    cmocka_unit_test(test_bad_values),
	    cmocka_unit_test(test_bad_values_keep_earlier),
	    cmocka_unit_test(test_dns_three),
	    cmocka_unit_test(test_prefix_bounds),
	    cmocka_unit_test(test_static_without_address),
	    cmocka_unit_test(test_errs_small_buffer),
	    cmocka_unit_test(test_long_line),
	    cmocka_unit_test(test_valid_hostname),
	    cmocka_unit_test(test_valid_ipv4),
	    cmocka_unit_test(test_format_round_trip),
	    cmocka_unit_test(test_format_small_buffer),
	    cmocka_unit_test(test_format_invalid),
	    cmocka_unit_test(test_ip_ifname),
	    cmocka_unit_test(test_valid_ntp_server),
	    cmocka_unit_test(test_ntp_servers),
	    cmocka_unit_test(test_chrony_conf),
	    cmocka_unit_test(test_log_rotation_keys),
	    cmocka_unit_test(test_console_keys),
	    cmocka_unit_test(test_inet_checksum),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
