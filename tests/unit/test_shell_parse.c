/* keel-shell's parsers of what the kernel and files give it: pcap headers
 * (shell/pcap.h), /proc/net/tcp lines (shell/netproc.h), /proc/PID/stat,
 * cmdline and mountinfo (shell/procfs.h), and the line reader
 * (shell/lineread.h), and a bridge port's VLANs from netlink (shell/brvlan.h). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <arpa/inet.h>
#include <linux/if_bridge.h>
#include <linux/if_link.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "shell/brvlan.h"
#include "shell/lineread.h"
#include "shell/netproc.h"
#include "shell/pcap.h"
#include "shell/procfs.h"

static void test_pcap_headers(void **state)
{
	(void)state;
	uint8_t g[PCAP_GLOBAL_LEN];
	static const uint8_t want[PCAP_GLOBAL_LEN] = {0xd4, 0xc3, 0xb2, 0xa1, 2, 0, 4, 0,
						      0,    0,	  0,	0,    0, 0, 0, 0,
						      0xff, 0xff, 0,	0,    1, 0, 0, 0};
	pcap_global_header(g, 65535, PCAP_LINKTYPE_ETHERNET);
	assert_memory_equal(g, want, sizeof(want));
	uint8_t r[PCAP_RECORD_LEN];
	static const uint8_t rec[PCAP_RECORD_LEN] = {0x78, 0x56, 0x34, 0x12, 0x40, 0x42, 0x0f, 0,
						     60,   0,	 0,    0,    0xdc, 0x05, 0,    0};
	pcap_record_header(r, 0x12345678, 999999 + 1, 60, 1500);
	assert_memory_equal(r, rec, sizeof(rec));
	/* caplen is never more than the packet */
	pcap_record_header(r, 0, 0, 9000, 100);
	assert_int_equal(r[8], 100);
	assert_int_equal(r[12], 100);
}

static void test_capture_names(void **state)
{
	(void)state;
	assert_true(pcap_file_name_valid("eth0.pcap"));
	assert_true(pcap_file_name_valid("a-b_c.1"));
	assert_false(pcap_file_name_valid(""));
	assert_false(pcap_file_name_valid(".pcap"));
	assert_false(pcap_file_name_valid(".."));
	assert_false(pcap_file_name_valid("../x"));
	assert_false(pcap_file_name_valid("a/b"));
	assert_false(pcap_file_name_valid("a b"));
	char longname[CAPTURE_NAME_MAX + 2];
	memset(longname, 'a', sizeof(longname) - 1);
	longname[CAPTURE_NAME_MAX] = '\0';
	assert_true(pcap_file_name_valid(longname));
	longname[CAPTURE_NAME_MAX] = 'a';
	longname[CAPTURE_NAME_MAX + 1] = '\0';
	assert_false(pcap_file_name_valid(longname));
}

static void test_tcp4(void **state)
{
	(void)state;
	struct netproc_sock s;
	const char *line = "   0: 0100007F:01BB 00000000:0000 0A 00000000:00000000 00:00000000 "
			   "00000000     0        0 123456 1 0000000000000000 100 0 0 10 0\n";
	assert_int_equal(netproc_parse(line, false, &s), 0);
	char a[80];
	netproc_format(&s, true, a, sizeof(a));
	assert_string_equal(a, "127.0.0.1:443");
	netproc_format(&s, false, a, sizeof(a));
	assert_string_equal(a, "0.0.0.0:0");
	assert_string_equal(netproc_tcp_state(s.state), "LISTEN");
	assert_int_equal(s.uid, 0);
	assert_int_equal(s.inode, 123456);
	line = "  12: 0201E70A:D431 0101E70A:01BB 01 00000000:00000000 02:000AFB7E 00000000  "
	       "1000        0 99 2 0000000000000000 20 4 30 10 -1";
	assert_int_equal(netproc_parse(line, false, &s), 0);
	netproc_format(&s, true, a, sizeof(a));
	assert_string_equal(a, "10.231.1.2:54321");
	netproc_format(&s, false, a, sizeof(a));
	assert_string_equal(a, "10.231.1.1:443");
	assert_string_equal(netproc_tcp_state(s.state), "ESTABLISHED");
	assert_int_equal(s.uid, 1000);
}

static void test_tcp6(void **state)
{
	(void)state;
	struct netproc_sock s;
	/* ::1 port 22, and fd00:1::2 (each 32-bit word in host order) */
	const char *line = "   0: 00000000000000000000000001000000:0016 "
			   "0000000000000000000000000000000:0000 0A 00000000:00000000 "
			   "00:00000000 00000000     0        0 5 1 0 100 0 0 10 0";
	assert_int_equal(netproc_parse(line, true, &s), -1); /* 31 digits */
	line = "   0: 00000000000000000000000001000000:0016 "
	       "000000000000000000000000000000000:0000 0A 00000000:00000000 "
	       "00:00000000 00000000     0        0 5 1 0 100 0 0 10 0";
	assert_int_equal(netproc_parse(line, true, &s), -1); /* 33 digits */
	line = "   0: 00000000000000000000000001000000:0016 "
	       "010000FD000000000000000002000000:C350 01 00000000:00000000 "
	       "00:00000000 00000000     0        0 5 1 0 100 0 0 10 0";
	assert_int_equal(netproc_parse(line, true, &s), 0);
	char a[80];
	netproc_format(&s, true, a, sizeof(a));
	assert_string_equal(a, "[::1]:22");
	netproc_format(&s, false, a, sizeof(a));
	assert_string_equal(a, "[fd00:1::2]:50000");
}

static void test_tcp_hostile_lines(void **state)
{
	(void)state;
	struct netproc_sock s;
	static const char *const bad[] = {
	    "",
	    "  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid",
	    "   0: 0100007F:01BB",
	    "   0: 0100007G:01BB 00000000:0000 0A 00000000:00000000 00:00000000 00000000 0 0 1",
	    "   0: 0100007F-01BB 00000000:0000 0A 00000000:00000000 00:00000000 00000000 0 0 1",
	    "   0: 0100007F:01BB 00000000:0000 0A 00000000:00000000 00:00000000 00000000 x 0 1",
	    "   0: 0100007F:01BB 00000000:0000 0A 00000000:00000000 00:00000000 00000000 0 0",
	    "   0: 0100007F:01BB 00000000:0000 0A 00000000:00000000 00:00000000 00000000 0 0 "
	    "99999999999999999999999999",
	    "  x0: 0100007F:01BB 00000000:0000 0A 00000000:00000000 00:00000000 00000000 0 0 1",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_int_equal(netproc_parse(bad[i], false, &s), -1);
	assert_string_equal(netproc_tcp_state(0), "?");
	assert_string_equal(netproc_tcp_state(255), "?");
}

static void test_proc_stat(void **state)
{
	(void)state;
	struct procstat ps;
	const char *t =
	    "1234 (keel-hostd) S 1 1234 1234 0 -1 4194560 1000 0 0 0 250 50 0 0 20 0 "
	    "4 0 500 123456789 3000 18446744073709551615 1 1 0 0 0 0 0 0 0 0 0 0 17 1\n";
	assert_int_equal(procstat_parse(t, strlen(t), &ps), 0);
	assert_int_equal(ps.pid, 1234);
	assert_string_equal(ps.comm, "keel-hostd");
	assert_int_equal(ps.state, 'S');
	assert_int_equal(ps.ppid, 1);
	assert_int_equal(ps.utime, 250);
	assert_int_equal(ps.stime, 50);
	assert_int_equal(ps.rss_pages, 3000);
	/* a process names itself: ")", blanks and control characters */
	t = "7 (a) b\x1b[2J) (c) R 1 7 7 0 -1 0 0 0 0 0 1 2 0 0 20 0 1 0 5 100 8 0";
	assert_int_equal(procstat_parse(t, strlen(t), &ps), 0);
	assert_string_equal(ps.comm, "a) b?[2J) (c");
	assert_int_equal(ps.state, 'R');
	assert_int_equal(ps.rss_pages, 8);
	static const char *const bad[] = {
	    "",
	    "x (a) S 1",
	    "7 a) S 1 7 7 0 -1 0 0 0 0 0 1 2 0 0 20 0 1 0 5 100 8",
	    "7 (a) S 1 7",
	    "7 (a)S 1 7 7 0 -1 0 0 0 0 0 1 2 0 0 20 0 1 0 5 100 8",
	    "7 (a) S 1 7 7 0 -1 0 0 0 0 0 1 2 0 0 20 0 1 0 5 100 x8",
	    "-7 (a) S 1 7 7 0 -1 0 0 0 0 0 1 2 0 0 20 0 1 0 5 100 8",
	    "99999999999 (a) S 1 7 7 0 -1 0 0 0 0 0 1 2 0 0 20 0 1 0 5 100 8"};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_int_equal(procstat_parse(bad[i], strlen(bad[i]), &ps), -1);
	/* not NUL-terminated: only len bytes are read */
	char cut[16];
	memcpy(cut, "7 (a) S 1 7 7 0 ", 16);
	assert_int_equal(procstat_parse(cut, sizeof(cut), &ps), -1);
}

static void test_cmdline(void **state)
{
	(void)state;
	char out[32];
	static const char raw[] = "/sbin/keel-vmm\0--config\0/run/x\0";
	proc_cmdline(raw, sizeof(raw) - 1, out, sizeof(out));
	assert_string_equal(out, "/sbin/keel-vmm --config /run/x");
	proc_cmdline("a\x1b]0;x\x07", 7, out, sizeof(out));
	assert_string_equal(out, "a?]0;x?");
	char small[8];
	proc_cmdline(raw, sizeof(raw) - 1, small, sizeof(small));
	assert_string_equal(small, "/sbin/k");
}

static void test_mountinfo(void **state)
{
	(void)state;
	struct mountinfo m;
	char line[] = "36 35 98:0 / /data\\040store rw,noatime master:1 shared:2 - ext4 /dev/sda3 "
		      "rw,errors=continue\n";
	assert_int_equal(mountinfo_parse(line, &m), 0);
	assert_string_equal(m.mount_point, "/data store");
	assert_string_equal(m.fstype, "ext4");
	assert_string_equal(m.source, "/dev/sda3");
	assert_string_equal(m.options, "rw,noatime");
	char esc[] = "1 0 0:1 / /x\\012\\033 rw - tmpfs tmpfs rw";
	assert_int_equal(mountinfo_parse(esc, &m), 0);
	assert_string_equal(m.mount_point, "/x??");
	char no_sep[] = "1 0 0:1 / /x rw tmpfs tmpfs rw";
	assert_int_equal(mountinfo_parse(no_sep, &m), -1);
	char short_line[] = "1 0 0:1 /";
	assert_int_equal(mountinfo_parse(short_line, &m), -1);
	char no_source[] = "1 0 0:1 / /x rw - tmpfs";
	assert_int_equal(mountinfo_parse(no_source, &m), -1);
}

static void test_lineread(void **state)
{
	(void)state;
	int p[2];
	assert_int_equal(pipe(p), 0);
	struct lineread r;
	static char out[LINE_MAX_BYTES + 1];
	lineread_init(&r, p[0], -1);
	assert_int_equal(write(p[1], "ls /config\r\nps\npartial", 22), 22);
	assert_int_equal(lineread_next(&r, out, 0), LINE_OK);
	assert_string_equal(out, "ls /config");
	assert_int_equal(lineread_next(&r, out, 0), LINE_OK);
	assert_string_equal(out, "ps");
	/* a signal's wake-up, even one that came before the wait: LINE_INTR */
	int w[2];
	assert_int_equal(pipe(w), 0);
	r.wake = w[0];
	assert_int_equal(write(w[1], "", 1), 1);
	assert_int_equal(lineread_next(&r, out, 1), LINE_INTR);
	close(w[0]);
	close(w[1]);
	r.wake = -1;
	/* no newline yet: the idle limit */
	assert_int_equal(lineread_next(&r, out, 1), LINE_TIMEOUT);
	assert_int_equal(write(p[1], " line\n", 6), 6);
	assert_int_equal(lineread_next(&r, out, 1), LINE_OK);
	assert_string_equal(out, "partial line");
	/* a line too long is consumed to its end, its tail never a command */
	char *big = malloc(3 * LINE_MAX_BYTES);
	memset(big, 'x', 3 * LINE_MAX_BYTES);
	memcpy(big + 2 * LINE_MAX_BYTES, "; evil\nok\n", 10);
	size_t len = 2 * LINE_MAX_BYTES + 10;
	for (size_t off = 0; off < len;) {
		ssize_t n = write(p[1], big + off, len - off);
		assert_true(n > 0);
		off += (size_t)n;
	}
	free(big);
	assert_int_equal(lineread_next(&r, out, 1), LINE_TOO_LONG);
	assert_int_equal(lineread_next(&r, out, 1), LINE_OK);
	assert_string_equal(out, "ok");
	/* the last line without a newline, then the end */
	assert_int_equal(write(p[1], "exit", 4), 4);
	close(p[1]);
	assert_int_equal(lineread_next(&r, out, 1), LINE_OK);
	assert_string_equal(out, "exit");
	assert_int_equal(lineread_next(&r, out, 1), LINE_EOF);
	close(p[0]);
}

static char nlbuf[65536];

/* an IFLA_AF_SPEC nest of `n` VLAN infos (vid, flags), plus `junk` */
static struct nlattr *af_spec(const uint16_t (*infos)[2], size_t n, bool junk)
{
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(nlbuf);
	struct nlattr *nest = mnl_attr_nest_start(nlh, IFLA_AF_SPEC);
	for (size_t i = 0; i < n; i++) {
		struct bridge_vlan_info vi = {.flags = infos[i][1], .vid = infos[i][0]};
		mnl_attr_put(nlh, IFLA_BRIDGE_VLAN_INFO, sizeof(vi), &vi);
	}
	if (junk) {
		uint8_t shortinfo = 7;
		mnl_attr_put(nlh, IFLA_BRIDGE_VLAN_INFO, 1, &shortinfo); /* too short */
		mnl_attr_put_u32(nlh, IFLA_BRIDGE_FLAGS, 1);		 /* another attribute */
	}
	mnl_attr_nest_end(nlh, nest);
	return nest;
}

static void test_bridge_vlans(void **state)
{
	(void)state;
	char out[64];
	const uint16_t vlans[][2] = {
	    {1, BRIDGE_VLAN_INFO_UNTAGGED},
	    {10, BRIDGE_VLAN_INFO_PVID | BRIDGE_VLAN_INFO_UNTAGGED},
	    {20, BRIDGE_VLAN_INFO_RANGE_BEGIN},
	    {25, BRIDGE_VLAN_INFO_RANGE_END},
	    {0, 0},			      /* not a VID */
	    {4095, 0},			      /* nor this */
	    {30, BRIDGE_VLAN_INFO_RANGE_END}, /* an end without its beginning */
	};
	assert_int_equal(brvlan_format(af_spec(vlans, 7, true), out, sizeof(out)), 4);
	assert_string_equal(out, "1U 10PU 20-25 30");
	assert_int_equal(brvlan_format(af_spec(vlans, 0, true), out, sizeof(out)), 0);
	assert_string_equal(out, "");
	/* many: cut with "..." within the buffer */
	static uint16_t many[4094][2];
	for (int i = 0; i < 4094; i++)
		many[i][0] = (uint16_t)(i + 1);
	size_t shown =
	    brvlan_format(af_spec((const uint16_t(*)[2])many, 4094, false), out, sizeof(out));
	assert_true(shown > 10 && shown < 4094);
	assert_true(strlen(out) < sizeof(out));
	assert_non_null(strstr(out, "..."));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_pcap_headers),
	    cmocka_unit_test(test_capture_names),
	    cmocka_unit_test(test_tcp4),
	    cmocka_unit_test(test_tcp6),
	    cmocka_unit_test(test_tcp_hostile_lines),
	    cmocka_unit_test(test_proc_stat),
	    cmocka_unit_test(test_cmdline),
	    cmocka_unit_test(test_mountinfo),
	    cmocka_unit_test(test_lineread),
	    cmocka_unit_test(test_bridge_vlans),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
