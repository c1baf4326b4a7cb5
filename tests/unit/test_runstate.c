/* The run-state files that keel-init, keel-dhcpc and keel-hostd share
 * (common/runstate.h), and /etc/resolv.conf (common/resolvconf.h): what one
 * program writes, the other reads back the same. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/resolvconf.h"
#include "common/runstate.h"
#include "common/util.h"

static char dir[] = "/tmp/keel-runstate-XXXXXX";

static int setup(void **state)
{
	(void)state;
	return mkdtemp(dir) ? 0 : -1;
}

static int teardown(void **state)
{
	(void)state;
	char cmd[64];
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	return system(cmd);
}

static const char *path(const char *name)
{
	static char p[128];
	snprintf(p, sizeof(p), "%s/%s", dir, name);
	return p;
}

static void test_mode_file(void **state)
{
	(void)state;
	enum net_mode mode = NET_STATIC;
	char ifname[16] = "x";
	assert_int_equal(mgmt_mode_read(path("none"), &mode, ifname), -1);
	assert_int_equal(errno, ENOENT);

	assert_int_equal(mgmt_mode_write(path("mode"), NET_STATIC, "mgmt.20"), 0);
	char *text = read_file(path("mode"), 64, NULL);
	assert_string_equal(text, "static mgmt.20\n");
	free(text);
	assert_int_equal(mgmt_mode_read(path("mode"), &mode, ifname), 0);
	assert_int_equal(mode, NET_STATIC);
	assert_string_equal(ifname, "mgmt.20");

	assert_int_equal(mgmt_mode_write(path("mode"), NET_DHCP, "eth0"), 0);
	assert_int_equal(mgmt_mode_read(path("mode"), &mode, ifname), 0);
	assert_int_equal(mode, NET_DHCP);
	assert_string_equal(ifname, "eth0");
	/* a name the kernel could not have is not written */
	assert_int_equal(mgmt_mode_write(path("mode"), NET_DHCP, "a-name-too-long0"), -1);
	assert_int_equal(errno, EINVAL);

	/* written by hand: whitespace is fine; an unknown word means DHCP */
	assert_int_equal(write_file(path("mode"), "  static\teno1 \n", 15, 0644), 0);
	assert_int_equal(mgmt_mode_read(path("mode"), &mode, ifname), 0);
	assert_int_equal(mode, NET_STATIC);
	assert_string_equal(ifname, "eno1");
	assert_int_equal(write_file(path("mode"), "manual eth1\n", 12, 0644), 0);
	assert_int_equal(mgmt_mode_read(path("mode"), &mode, ifname), 1);
	assert_int_equal(mode, NET_DHCP);
	assert_string_equal(ifname, "eth1");
	/* no interface, two, or one too long: none, and DHCP */
	const char *bad[] = {"static\n", "static eth0 eth1\n", "static a-name-too-long0\n",
			     "static ../x\n"};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		assert_int_equal(write_file(path("mode"), bad[i], strlen(bad[i]), 0644), 0);
		assert_int_equal(mgmt_mode_read(path("mode"), &mode, ifname), 1);
		assert_int_equal(mode, NET_DHCP);
		assert_string_equal(ifname, "");
	}
}

static void test_dhcpc_state_lines(void **state)
{
	(void)state;
	char buf[128];
	struct dhcpc_state st = {.phase = DHCPC_IDLE}, back;
	assert_int_equal(dhcpc_state_format(&st, buf, sizeof(buf)), 5);
	assert_string_equal(buf, "idle\n");
	st.phase = DHCPC_DISCOVERING;
	dhcpc_state_format(&st, buf, sizeof(buf));
	assert_string_equal(buf, "discovering\n");
	assert_int_equal(dhcpc_state_parse(buf, &back), 0);
	assert_int_equal(back.phase, DHCPC_DISCOVERING);

	st.phase = DHCPC_BOUND;
	inet_pton(AF_INET, "10.0.2.15", &st.addr);
	st.prefix = 24;
	inet_pton(AF_INET, "10.0.2.2", &st.gateway);
	st.lease_s = 86400;
	dhcpc_state_format(&st, buf, sizeof(buf));
	assert_string_equal(buf, "bound 10.0.2.15/24 gw 10.0.2.2 lease 86400\n");
	assert_int_equal(dhcpc_state_parse(buf, &back), 0);
	assert_memory_equal(&back, &st, sizeof(st));

	st.gateway.s_addr = 0; /* no default route */
	dhcpc_state_format(&st, buf, sizeof(buf));
	assert_string_equal(buf, "bound 10.0.2.15/24 gw - lease 86400\n");
	assert_int_equal(dhcpc_state_parse(buf, &back), 0);
	assert_int_equal(back.gateway.s_addr, 0);

	assert_int_equal(dhcpc_state_format(&st, buf, 10), -1); /* does not fit */

	static const char *const bad[] = {
	    "",
	    "idle",
	    "busy\n",
	    "bound 10.0.2.15/33 gw - lease 1\n",
	    "bound 10.0.2.300/24 gw - lease 1\n",
	    "bound 10.0.2.15/24 gw x lease 1\n",
	    "bound 10.0.2.15/24 gw - lease 1",
	    "bound 10.0.2.15/24 gw - lease 1\nmore",
	    "bound 10.0.2.15 gw - lease 1\n",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		if (dhcpc_state_parse(bad[i], &back) == 0)
			fail_msg("accepted \"%s\"", bad[i]);
}

static void test_dhcpc_state_file(void **state)
{
	(void)state;
	struct dhcpc_state st = {.phase = DHCPC_BOUND, .prefix = 8, .lease_s = 60}, back;
	inet_pton(AF_INET, "10.1.2.3", &st.addr);
	assert_int_equal(dhcpc_state_write(path("state"), &st), 0);
	assert_int_equal(dhcpc_state_read(path("state"), &back), 0);
	assert_memory_equal(&back, &st, sizeof(st));
	assert_int_equal(write_file(path("state"), "garbage\n", 8, 0644), 0);
	assert_int_equal(dhcpc_state_read(path("state"), &back), -1);
	assert_int_equal(errno, EINVAL);
}

static void test_resolv_conf(void **state)
{
	(void)state;
	struct in_addr dns[3];
	inet_pton(AF_INET, "1.1.1.1", &dns[0]);
	inet_pton(AF_INET, "192.168.100.200", &dns[1]);
	inet_pton(AF_INET, "8.8.8.8", &dns[2]);
	assert_int_equal(resolvconf_write(path("resolv"), dns, 3), 0);
	char *text = read_file(path("resolv"), 4096, NULL);
	assert_string_equal(text, "nameserver 1.1.1.1\nnameserver 192.168.100.200\n"
				  "nameserver 8.8.8.8\n");
	free(text);
	assert_int_equal(resolvconf_write(path("resolv"), NULL, 0), 0);
	text = read_file(path("resolv"), 4096, NULL);
	assert_string_equal(text, "");
	free(text);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_mode_file),
	    cmocka_unit_test(test_dhcpc_state_lines),
	    cmocka_unit_test(test_dhcpc_state_file),
	    cmocka_unit_test(test_resolv_conf),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
