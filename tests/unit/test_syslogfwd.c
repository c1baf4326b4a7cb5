/* Remote forwarding: the target URL grammar and fingerprints
 * (common/syslogfwd.h) against hostile input, host.conf's syslog.* keys,
 * keel-syslogd's RFC 5424 / RFC 3164 formatting and octet-counting
 * framing (fwdfmt.h), and the per-target queue (fwdqueue.h): oldest
 * dropped, a count of the lost before the next one sent, nothing released
 * before it is delivered. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "common/hostconf.h"
#include "common/syslogfwd.h"
#include "syslogd/fwdfmt.h"
#include "syslogd/fwdqueue.h"
#include "syslogd/msg.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>

static void test_url_good(void **state)
{
	(void)state;
	static const struct {
		const char *url;
		enum syslog_proto proto;
		const char *host;
		unsigned port;
	} good[] = {
	    {"udp://10.0.2.2", SYSLOG_UDP, "10.0.2.2", 514},
	    {"tcp://10.0.2.2", SYSLOG_TCP, "10.0.2.2", 1514},
	    {"tls://10.0.2.2", SYSLOG_TLS, "10.0.2.2", 6514},
	    {"tls://logs.example.com:10514", SYSLOG_TLS, "logs.example.com", 10514},
	    {"udp://[2001:db8::1]:65535", SYSLOG_UDP, "2001:db8::1", 65535},
	    {"tcp://[::1]", SYSLOG_TCP, "::1", 1514},
	    {"udp://loghost:1", SYSLOG_UDP, "loghost", 1},
	};
	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		struct syslog_target t;
		assert_int_equal(syslog_url_parse(good[i].url, &t), 0);
		assert_int_equal(t.proto, good[i].proto);
		assert_string_equal(t.host, good[i].host);
		assert_int_equal(t.port, good[i].port);
	}
}

static void test_url_hostile(void **state)
{
	(void)state;
	char longname[200];
	memset(longname, 'a', sizeof(longname));
	memcpy(longname, "udp://", 6);
	longname[sizeof(longname) - 1] = '\0';
	const char *const bad[] = {"",
				   "udp://",
				   "udp:/10.0.2.2",
				   "UDP://10.0.2.2",
				   "http://10.0.2.2",
				   "udp:10.0.2.2",
				   "udp://10.0.2.2:",
				   "udp://10.0.2.2:0",
				   "udp://10.0.2.2:65536",
				   "udp://10.0.2.2:99999",
				   "udp://10.0.2.2:0514",
				   "udp://10.0.2.2:123456",
				   "udp://10.0.2.2:-1",
				   "udp://10.0.2.2:+1",
				   "udp://10.0.2.2:1a",
				   "udp://10.0.2.2:4294967810",
				   "udp://10.0.2.2/x",
				   "udp://10.0.2.999",
				   "udp://1.2.3",
				   "udp://10.0.2.2 ",
				   " udp://10.0.2.2",
				   "udp://user@10.0.2.2",
				   "udp://-lead.example",
				   "udp://a..b",
				   "udp://a_b.example",
				   "udp://2001:db8::1",
				   "udp://[2001:db8::1",
				   "udp://[]",
				   "udp://[zz::1]",
				   "udp://[::1]x",
				   "udp://[::1]:",
				   "udp://[10.0.2.2]",
				   "tcp://h:1:2",
				   "tls://x.example;rm",
				   "udp://host\n",
				   "udp://%31.2.3.4",
				   longname};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct syslog_target t = {.port = 7};
		if (syslog_url_parse(bad[i], &t) != -1)
			fail_msg("accepted \"%s\"", bad[i]);
	}
	/* every cut of a good URL is either good or refused, never read past */
	const char *url = "tls://[2001:db8::1]:6514";
	for (size_t n = 0; n <= strlen(url); n++) {
		char *cut = malloc(n + 1); /* ASan: exactly n bytes and the NUL */
		memcpy(cut, url, n);
		cut[n] = '\0';
		struct syslog_target t;
		(void)syslog_url_parse(cut, &t);
		free(cut);
	}
}

static void test_fingerprint(void **state)
{
	(void)state;
	char fp[SYSLOG_FP_LEN + 1];
	const char *hex = "0123456789ABCDEF0123456789abcdef0123456789abcdef0123456789ABCDEF";
	assert_int_equal(syslog_fingerprint_parse(hex, fp), 0);
	assert_string_equal(fp, "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef");
	char colons[3 * 32];
	for (int i = 0; i < 32; i++)
		snprintf(colons + 3 * i, 4, "%.2s%s", hex + 2 * i, i < 31 ? ":" : "");
	assert_int_equal(syslog_fingerprint_parse(colons, fp), 0);
	assert_string_equal(fp, "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef");
	static const char *const bad[] = {
	    "",
	    "0123",
	    "g123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
	    "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef0",
	    "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcde",
	    "01:23:45:67:89:ab:cd:ef:01:23:45:67:89:ab:cd:ef:01:23:45:67:89:ab:cd:ef:01:23:45:67:"
	    "89:ab:cd:e",
	    "01-23-45-67-89-ab-cd-ef-01-23-45-67-89-ab-cd-ef-01-23-45-67-89-ab-cd-ef-01-23-45-67-"
	    "89-ab-cd-ef",
	    "0:123:45:67:89:ab:cd:ef:01:23:45:67:89:ab:cd:ef:01:23:45:67:89:ab:cd:ef:01:23:45:67:"
	    "89:ab:cd:ef"};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		strcpy(fp, "unchanged");
		if (syslog_fingerprint_parse(bad[i], fp) != -1)
			fail_msg("accepted \"%s\"", bad[i]);
		assert_string_equal(fp, "unchanged");
	}
}

static void test_hostconf_keys(void **state)
{
	(void)state;
	struct hostconf hc;
	hostconf_defaults(&hc);
	assert_int_equal(hostconf_parse(&hc,
					"syslog.targets = udp://10.0.2.2, tls://[::1]:6514,"
					"tcp://logs.example\nsyslog.format = rfc3164\n"
					"syslog.fingerprint = " /* 32 pairs */
					"AA:BB:CC:DD:EE:FF:00:11:22:33:44:55:66:77:88:99:"
					"AA:BB:CC:DD:EE:FF:00:11:22:33:44:55:66:77:88:99\n",
					NULL, 0),
			 0);
	assert_string_equal(hc.syslog_targets[0], "udp://10.0.2.2");
	assert_string_equal(hc.syslog_targets[1], "tls://[::1]:6514");
	assert_string_equal(hc.syslog_targets[2], "tcp://logs.example");
	assert_int_equal(hc.syslog_format, SYSLOG_RFC3164);
	assert_string_equal(hc.syslog_fingerprint,
			    "aabbccddeeff00112233445566778899aabbccddeeff00112233445566778899");
	/* written and read back the same */
	char text[2048];
	assert_true(hostconf_format(&hc, text, sizeof(text)) > 0);
	struct hostconf back;
	hostconf_defaults(&back);
	assert_int_equal(hostconf_parse(&back, text, NULL, 0), 0);
	assert_memory_equal(back.syslog_targets, hc.syslog_targets, sizeof(hc.syslog_targets));
	/* a bad line changes nothing: four targets, one bad one, a bad format */
	assert_int_equal(hostconf_parse(&hc,
					"syslog.targets = udp://a, udp://b, udp://c, udp://d\n"
					"syslog.targets = udp://a, ftp://b\nsyslog.format = json\n",
					NULL, 0),
			 3);
	assert_string_equal(hc.syslog_targets[0], "udp://10.0.2.2");
	assert_int_equal(hc.syslog_format, SYSLOG_RFC3164);
}

static void test_status_line(void **state)
{
	(void)state;
	struct syslog_status st;
	assert_int_equal(syslog_status_parse("tcp://10.0.2.2:1514 connected 12 3", &st), 0);
	assert_string_equal(st.url, "tcp://10.0.2.2:1514");
	assert_int_equal(st.state, SYSLOG_CONNECTED);
	assert_int_equal(st.queued, 12);
	assert_int_equal(st.lost, 3);
	assert_string_equal(st.why, "");
	assert_int_equal(
	    syslog_status_parse("tls://h down 0 0 cannot connect (Connection refused)", &st), 0);
	assert_int_equal(st.state, SYSLOG_DOWN);
	assert_string_equal(st.why, "cannot connect (Connection refused)");
	static const char *const bad[] = {"",
					  "tcp://h",
					  "tcp://h connected",
					  "tcp://h connected 1",
					  "tcp://h up 1 2",
					  "tcp://h connected 1x 2",
					  "tcp://h connected 1 2x",
					  "ftp://h connected 1 2",
					  "tcp://h connected -1 2",
					  "tcp://h connected 99999999999999999999 2",
					  "tcp://h  connected 1 2"};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		if (syslog_status_parse(bad[i], &st) != -1)
			fail_msg("accepted \"%s\"", bad[i]);
	/* the state names round-trip */
	for (int i = SYSLOG_DOWN; i <= SYSLOG_CONNECTED; i++) {
		char line[128];
		snprintf(line, sizeof(line), "udp://h %s 1 2", syslog_state_name(i));
		assert_int_equal(syslog_status_parse(line, &st), 0);
		assert_int_equal(st.state, i);
	}
}

static const struct timespec WHEN = {.tv_sec = 1796292000, .tv_nsec = 123456789};

static void test_format_5424(void **state)
{
	(void)state;
	char out[FWD_MSG_MAX + 1];
	struct logmsg m = {.pri = LOG_DAEMON | LOG_INFO,
			   .app = "keel-hostd",
			   .pid = 412,
			   .text = "login of 'root'\n\x1b[2J",
			   .len = 20};
	size_t n = fwd_format(out, SYSLOG_RFC5424, &WHEN, "esx1", &m, NULL);
	assert_string_equal(out, "<30>1 2026-12-03T10:00:00.123456Z esx1 keel-hostd 412 - - "
				 "login of 'root'\\x0a\\x1b[2J");
	assert_int_equal(n, strlen(out));
	/* no app, no pid, a MSGID; the facility as given */
	struct logmsg k = {.pri = LOG_KERN | LOG_ERR, .pid = -1, .text = "oops", .len = 4};
	fwd_format(out, SYSLOG_RFC5424, &WHEN, "esx1", &k, "audit");
	assert_string_equal(out, "<3>1 2026-12-03T10:00:00.123456Z esx1 - - audit - oops");
}

static void test_format_3164(void **state)
{
	(void)state;
	char out[FWD_MSG_MAX + 1];
	struct logmsg m = {
	    .pri = LOG_AUTHPRIV | LOG_INFO, .app = "keel-hostd", .pid = 7, .text = "{}", .len = 2};
	fwd_format(out, SYSLOG_RFC3164, &WHEN, "esx1", &m, "audit");
	assert_string_equal(out, "<86>Dec  3 10:00:00 esx1 keel-hostd[7]: {}");
	struct logmsg k = {.pri = 0, .app = "kernel", .pid = -1, .text = "x", .len = 1};
	fwd_format(out, SYSLOG_RFC3164, &WHEN, "h", &k, NULL);
	assert_string_equal(out, "<0>Dec  3 10:00:00 h kernel: x");
}

static void test_format_long(void **state)
{
	(void)state;
	/* 8 KiB of text goes whole; 8 KiB of control bytes is cut to fit */
	char *text = malloc(LOG_MSG_MAX);
	memset(text, 'x', LOG_MSG_MAX);
	char out[FWD_MSG_MAX + 1];
	struct logmsg m = {.pri = 13, .app = "a", .pid = -1, .text = text, .len = LOG_MSG_MAX};
	size_t n = fwd_format(out, SYSLOG_RFC5424, &WHEN, "h", &m, NULL);
	assert_int_equal(n, strlen(out));
	assert_non_null(strstr(out, " - - - x"));
	assert_int_equal(n - (size_t)(strstr(out, " - - - x") + 7 - out), LOG_MSG_MAX);
	memset(text, '\n', LOG_MSG_MAX);
	n = fwd_format(out, SYSLOG_RFC5424, &WHEN, "h", &m, NULL);
	assert_true(n <= FWD_MSG_MAX);
	assert_int_equal(n, strlen(out));
	assert_int_equal(memcmp(out + n - 4, "\\x0a", 4), 0); /* no escape cut */
	/* framing: "LEN SP MSG" */
	char frame[FWD_FRAME_MAX];
	size_t f = fwd_frame(frame, out, n);
	char want[16];
	int k = snprintf(want, sizeof(want), "%zu ", n);
	assert_int_equal(f, (size_t)k + n);
	assert_memory_equal(frame, want, (size_t)k);
	assert_memory_equal(frame + k, out, n);
	assert_int_equal(fwd_frame(frame, "ab", 2), 4);
	assert_memory_equal(frame, "2 ab", 4);
	free(text);
}

static void push(struct fwd_queue *q, int i)
{
	char msg[32];
	int n = snprintf(msg, sizeof(msg), "m%d", i);
	fwd_queue_push(q, msg, (size_t)n);
}

/* the next entry's text and lost count, then sends it at wire byte `wire` */
static void expect_send(struct fwd_queue *q, const char *want, unsigned long lost, uint64_t wire)
{
	uint64_t seq;
	struct fwd_entry *e = fwd_queue_next(q, &seq);
	assert_non_null(e);
	assert_int_equal(e->len, strlen(want));
	assert_memory_equal(e->msg, want, e->len);
	assert_int_equal(e->lost, lost);
	fwd_queue_sent(q, seq, e->lost, wire);
}

static void test_queue_drop_oldest(void **state)
{
	(void)state;
	struct fwd_queue q;
	assert_int_equal(fwd_queue_init(&q, 4, 1000), 0);
	for (int i = 0; i < 7; i++)
		push(&q, i);
	/* 0, 1, 2 dropped: m3 carries the count */
	assert_int_equal(q.count, 4);
	assert_int_equal(q.dropped, 3);
	expect_send(&q, "m3", 3, 10);
	expect_send(&q, "m4", 0, 20);
	uint64_t seq;
	/* the connection died before anything was acknowledged: all again,
	 * the lost count too */
	fwd_queue_delivered(&q, 0, 1000, 0);
	assert_int_equal(q.count, 4);
	fwd_queue_rewind(&q);
	expect_send(&q, "m3", 3, 10);
	/* delivered up to byte 10: m3 leaves; m4 is not written yet */
	fwd_queue_delivered(&q, 15, 1000, 0);
	assert_int_equal(q.count, 3);
	expect_send(&q, "m4", 0, 20);
	expect_send(&q, "m5", 0, 30);
	/* more come while m4, m5 are in flight: what is dropped is counted
	 * before the first not written */
	push(&q, 7); /* 4 entries: m4 m5 m6 m7, none dropped */
	push(&q, 8); /* drops m4 */
	push(&q, 9); /* drops m5 */
	assert_int_equal(q.count, 4);
	expect_send(&q, "m6", 2, 40);
	expect_send(&q, "m7", 0, 50);
	fwd_queue_delivered(&q, 1000, 1000, 0);
	assert_int_equal(q.count, 2); /* m8, m9: not written */
	expect_send(&q, "m8", 0, 60);
	expect_send(&q, "m9", 0, 70);
	assert_null(fwd_queue_next(&q, &seq));
	fwd_queue_delivered(&q, 70, 1000, 0);
	assert_int_equal(q.count, 0);
	assert_int_equal(q.bytes, 0);
	fwd_queue_free(&q);
}

static void test_queue_bytes(void **state)
{
	(void)state;
	struct fwd_queue q;
	assert_int_equal(fwd_queue_init(&q, 100, 10), 0);
	assert_int_equal(fwd_queue_push(&q, "aaaa", 4), 0);
	assert_int_equal(fwd_queue_push(&q, "bbbb", 4), 0);
	assert_int_equal(fwd_queue_push(&q, "cccc", 4), 1); /* 12 > 10: a goes */
	assert_int_equal(q.bytes, 8);
	/* one alone over the limit is the one lost; said before the next */
	assert_int_equal(fwd_queue_push(&q, "0123456789x", 11), -1);
	expect_send(&q, "bbbb", 2, 4);
	expect_send(&q, "cccc", 0, 8);
	assert_int_equal(fwd_queue_push(&q, "toolongforit", 12), -1);
	assert_int_equal(fwd_queue_push(&q, "dd", 2), 0);
	expect_send(&q, "dd", 1, 10);
	/* full: bbbb goes (written, so its own count went with it) */
	assert_int_equal(fwd_queue_push(&q, "ee", 2), 1);
	/* lost while an entry was being written: moved to the next one */
	uint64_t seq;
	struct fwd_entry *e = fwd_queue_next(&q, &seq);
	unsigned long lost_then = e->lost;
	assert_int_equal(lost_then, 1);
	assert_int_equal(fwd_queue_push(&q, "fffffff", 7), 2); /* drops cccc dd */
	assert_int_equal(fwd_queue_push(&q, "g", 1), 0);
	fwd_queue_sent(&q, seq, lost_then, 12); /* "ee", written with its 1 only */
	expect_send(&q, "fffffff", 2, 19);
	expect_send(&q, "g", 0, 20);
	/* in flight and dropped: counted before the first not written */
	assert_int_equal(fwd_queue_push(&q, "hh", 2), 1);      /* drops ee */
	assert_int_equal(fwd_queue_push(&q, "iiiiiii", 7), 1); /* drops fffffff */
	expect_send(&q, "hh", 2, 21);
	expect_send(&q, "iiiiiii", 0, 28);
	/* never written, dropped: its own count goes on with it */
	fwd_queue_rewind(&q);
	assert_int_equal(fwd_queue_push(&q, "jjjjjjjjjj", 10), 3); /* g, hh, iiiiiii */
	expect_send(&q, "jjjjjjjjjj", 5, 38);
	fwd_queue_free(&q);
}

static void test_queue_hold(void **state)
{
	(void)state;
	struct fwd_queue q;
	uint64_t seq;
	assert_int_equal(fwd_queue_init(&q, 2, 1000), 0);
	assert_true(fwd_queue_settled(&q));
	push(&q, 0);
	push(&q, 1);
	assert_false(fwd_queue_settled(&q)); /* not written */
	expect_send(&q, "m0", 0, 10);
	expect_send(&q, "m1", 0, 20);
	/* acknowledged, and held: a connection found dead soon after sends
	 * them again */
	assert_false(fwd_queue_settled(&q)); /* written, not known delivered */
	fwd_queue_delivered(&q, 20, 1000, 5000);
	fwd_queue_delivered(&q, 20, 5999, 5000);
	assert_int_equal(q.count, 2);
	assert_true(fwd_queue_settled(&q)); /* held, delivered */
	fwd_queue_rewind(&q);
	assert_false(fwd_queue_settled(&q));
	expect_send(&q, "m0", 0, 10);
	fwd_queue_delivered(&q, 10, 7000, 5000); /* the new connection */
	fwd_queue_delivered(&q, 10, 11999, 5000);
	assert_int_equal(q.count, 2);
	fwd_queue_delivered(&q, 10, 12000, 5000);
	assert_int_equal(q.count, 1);
	/* a held one dropped for room was delivered: not lost */
	expect_send(&q, "m1", 0, 20);
	fwd_queue_delivered(&q, 20, 13000, 5000);
	push(&q, 2);
	push(&q, 3); /* drops m1, delivered */
	assert_int_equal(q.dropped, 0);
	expect_send(&q, "m2", 0, 30);
	push(&q, 4); /* drops m2, in flight: lost */
	assert_int_equal(q.dropped, 1);
	expect_send(&q, "m3", 1, 40);
	expect_send(&q, "m4", 0, 50);
	assert_null(fwd_queue_next(&q, &seq));
	fwd_queue_free(&q);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_url_good),	cmocka_unit_test(test_url_hostile),
	    cmocka_unit_test(test_fingerprint), cmocka_unit_test(test_hostconf_keys),
	    cmocka_unit_test(test_format_5424), cmocka_unit_test(test_format_3164),
	    cmocka_unit_test(test_format_long), cmocka_unit_test(test_queue_drop_oldest),
	    cmocka_unit_test(test_status_line), cmocka_unit_test(test_queue_bytes),
	    cmocka_unit_test(test_queue_hold),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
