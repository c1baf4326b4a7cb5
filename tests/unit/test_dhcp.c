#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "init/dhcp.h"

#include <arpa/inet.h>
#include <string.h>

static const uint8_t mac[6] = {0x52, 0x54, 0x00, 0x12, 0x34, 0x56};
#define XID 0xdeadbeefu

/* finds option `code` in a built message; returns a pointer to its length
 * byte or NULL */
static const uint8_t *find_opt(const uint8_t *p, int len, uint8_t code)
{
	int i = DHCP_OFF_OPTIONS;
	while (i < len && p[i] != 255) {
		if (p[i] == 0) {
			i++;
			continue;
		}
		assert_true(i + 1 < len);
		if (p[i] == code)
			return p + i + 1;
		i += 2 + p[i + 1];
	}
	return NULL;
}

static void check_header(const uint8_t *p, int n)
{
	assert_true(n >= DHCP_MIN_SEND);
	assert_true(n <= DHCP_MAX_SEND);
	assert_int_equal(p[0], 1); /* op BOOTREQUEST */
	assert_int_equal(p[1], 1); /* htype Ethernet */
	assert_int_equal(p[2], 6); /* hlen */
	assert_int_equal(p[3], 0); /* hops */
	const uint8_t xid[4] = {0xde, 0xad, 0xbe, 0xef};
	assert_memory_equal(p + 4, xid, 4);
	assert_int_equal(p[8], 0); /* secs */
	assert_int_equal(p[9], 0);
	assert_int_equal(p[10], 0x80); /* broadcast flag */
	assert_int_equal(p[11], 0x00);
	for (int i = 12; i < 28; i++) /* ciaddr yiaddr siaddr giaddr */
		assert_int_equal(p[i], 0);
	assert_memory_equal(p + 28, mac, 6);
	for (int i = 34; i < 236; i++) /* rest of chaddr, sname, file */
		assert_int_equal(p[i], 0);
	const uint8_t cookie[4] = {99, 130, 83, 99};
	assert_memory_equal(p + 236, cookie, 4);

	const uint8_t *o = find_opt(p, n, 61);
	assert_non_null(o);
	assert_int_equal(o[0], 7);
	assert_int_equal(o[1], 1);
	assert_memory_equal(o + 2, mac, 6);
	o = find_opt(p, n, 55);
	assert_non_null(o);
	const uint8_t prl[] = {1, 3, 6, 51, 54, 58, 59};
	assert_int_equal(o[0], sizeof(prl));
	assert_memory_equal(o + 1, prl, sizeof(prl));
}

static void test_discover(void **state)
{
	(void)state;
	uint8_t p[DHCP_MAX_SEND];
	memset(p, 0xaa, sizeof(p));
	int n = dhcp_build_discover(p, sizeof(p), XID, mac, "keel1");
	check_header(p, n);
	/* message type is the first option */
	assert_int_equal(p[240], 53);
	assert_int_equal(p[241], 1);
	assert_int_equal(p[242], 1);
	const uint8_t *o = find_opt(p, n, 12);
	assert_non_null(o);
	assert_int_equal(o[0], 5);
	assert_memory_equal(o + 1, "keel1", 5);
	assert_null(find_opt(p, n, 50));
	assert_null(find_opt(p, n, 54));
	/* end option present, and everything after it is zero padding */
	int i = DHCP_OFF_OPTIONS;
	while (p[i] != 255)
		i += p[i] == 0 ? 1 : 2 + p[i + 1];
	for (i++; i < n; i++)
		assert_int_equal(p[i], 0);

	/* no host name: option 12 left out */
	n = dhcp_build_discover(p, sizeof(p), XID, mac, NULL);
	check_header(p, n);
	assert_null(find_opt(p, n, 12));
	n = dhcp_build_discover(p, sizeof(p), XID, mac, "");
	assert_null(find_opt(p, n, 12));
}

static void test_request(void **state)
{
	(void)state;
	uint8_t p[DHCP_MAX_SEND];
	struct in_addr req = {inet_addr("10.0.2.15")}, srv = {inet_addr("10.0.2.2")};
	int n = dhcp_build_request(p, sizeof(p), XID, mac, NULL, req, srv);
	check_header(p, n);
	assert_int_equal(p[240], 53);
	assert_int_equal(p[241], 1);
	assert_int_equal(p[242], 3);
	const uint8_t *o = find_opt(p, n, 50);
	assert_non_null(o);
	assert_int_equal(o[0], 4);
	const uint8_t want_req[4] = {10, 0, 2, 15};
	assert_memory_equal(o + 1, want_req, 4);
	o = find_opt(p, n, 54);
	assert_non_null(o);
	assert_int_equal(o[0], 4);
	const uint8_t want_srv[4] = {10, 0, 2, 2};
	assert_memory_equal(o + 1, want_srv, 4);
}

static void test_release(void **state)
{
	(void)state;
	uint8_t p[DHCP_MAX_SEND];
	memset(p, 0xaa, sizeof(p));
	struct in_addr addr = {inet_addr("10.0.2.15")}, srv = {inet_addr("10.0.2.2")};
	int n = dhcp_build_release(p, sizeof(p), XID, mac, addr, srv);
	assert_true(n >= DHCP_MIN_SEND && n <= DHCP_MAX_SEND);
	assert_int_equal(p[0], 1);
	const uint8_t xid[4] = {0xde, 0xad, 0xbe, 0xef};
	assert_memory_equal(p + 4, xid, 4);
	assert_int_equal(p[10], 0); /* no broadcast flag: no reply is expected */
	assert_int_equal(p[11], 0);
	const uint8_t ciaddr[4] = {10, 0, 2, 15};
	assert_memory_equal(p + 12, ciaddr, 4);
	for (int i = 16; i < 28; i++) /* yiaddr siaddr giaddr */
		assert_int_equal(p[i], 0);
	assert_memory_equal(p + 28, mac, 6);
	assert_int_equal(p[240], 53);
	assert_int_equal(p[241], 1);
	assert_int_equal(p[242], 7);
	const uint8_t *o = find_opt(p, n, 54);
	assert_non_null(o);
	const uint8_t want_srv[4] = {10, 0, 2, 2};
	assert_int_equal(o[0], 4);
	assert_memory_equal(o + 1, want_srv, 4);
	assert_non_null(find_opt(p, n, 61));
	assert_null(find_opt(p, n, 50));
	assert_null(find_opt(p, n, 55));
	assert_null(find_opt(p, n, 12));
	assert_int_equal(dhcp_build_release(p, 100, XID, mac, addr, srv), DHCP_E_NOSPACE);
}

static void test_build_limits(void **state)
{
	(void)state;
	uint8_t p[DHCP_MAX_SEND];
	char longname[300];
	memset(longname, 'a', sizeof(longname) - 1);
	longname[sizeof(longname) - 1] = '\0';
	assert_int_equal(dhcp_build_discover(p, sizeof(p), XID, mac, longname), DHCP_E_ARG);
	longname[255] = '\0'; /* longest name that fits in an option */
	struct in_addr a = {inet_addr("10.0.0.1")};
	int n = dhcp_build_request(p, sizeof(p), XID, mac, longname, a, a);
	assert_true(n > 0 && n <= DHCP_MAX_SEND);
	assert_int_equal(dhcp_build_discover(p, 100, XID, mac, NULL), DHCP_E_NOSPACE);
}

/* a well-formed ACK: 10.0.2.15/24, gw 10.0.2.2, DNS 10.0.2.3 and 1.1.1.1,
 * lease 86400 s, no T1/T2 */
static size_t make_ack(uint8_t *p, size_t cap)
{
	memset(p, 0, cap);
	p[0] = 2;
	p[1] = 1;
	p[2] = 6;
	p[4] = 0xde;
	p[5] = 0xad;
	p[6] = 0xbe;
	p[7] = 0xef;
	p[16] = 10;
	p[17] = 0;
	p[18] = 2;
	p[19] = 15;
	memcpy(p + 28, mac, 6);
	p[236] = 99;
	p[237] = 130;
	p[238] = 83;
	p[239] = 99;
	static const uint8_t opts[] = {
	    53,	 1,  5,								/* ACK */
	    0,	 0,								/* pads */
	    54,	 4,  10,  0,   2,    2,						/* server id */
	    1,	 4,  255, 255, 255,  0,						/* mask */
	    3,	 8,  10,  0,   2,    2,	   10, 0, 2, 1,				/* routers */
	    6,	 16, 10,  0,   2,    3,	   1,  1, 1, 1, 8, 8, 8, 8, 9, 9, 9, 9, /* DNS x4 */
	    200, 3,  1,	  2,   3,						/* unknown option */
	    51,	 4,  0,	  1,   0x51, 0x80,					/* lease 86400 */
	    255,
	};
	memcpy(p + 240, opts, sizeof(opts));
	assert_true(240 + sizeof(opts) <= cap);
	return 240 + sizeof(opts);
}

static void test_parse_ack(void **state)
{
	(void)state;
	uint8_t p[400];
	size_t n = make_ack(p, sizeof(p));
	struct dhcp_reply r;
	assert_int_equal(dhcp_parse(p, n, XID, mac, &r), DHCP_OK);
	assert_int_equal(r.type, DHCPACK);
	assert_int_equal(r.yiaddr.s_addr, inet_addr("10.0.2.15"));
	assert_true(r.has_server_id);
	assert_int_equal(r.server_id.s_addr, inet_addr("10.0.2.2"));
	assert_true(r.has_mask);
	assert_int_equal(r.prefix, 24);
	assert_true(r.has_router);
	assert_int_equal(r.router.s_addr, inet_addr("10.0.2.2"));
	assert_int_equal(r.n_dns, 3);
	assert_int_equal(r.dns[0].s_addr, inet_addr("10.0.2.3"));
	assert_int_equal(r.dns[1].s_addr, inet_addr("1.1.1.1"));
	assert_int_equal(r.dns[2].s_addr, inet_addr("8.8.8.8"));
	assert_true(r.has_lease);
	assert_int_equal(r.lease_s, 86400);
	assert_int_equal(r.t1_s, 43200);
	assert_int_equal(r.t2_s, 75600);

	/* the padding after the end option (full 300-byte packet) is ignored */
	assert_int_equal(dhcp_parse(p, sizeof(p), XID, mac, &r), DHCP_OK);
	/* a missing end option is tolerated */
	assert_int_equal(dhcp_parse(p, n - 1, XID, mac, &r), DHCP_OK);
	assert_int_equal(r.lease_s, 86400);
}

static void test_parse_t1_t2(void **state)
{
	(void)state;
	uint8_t p[400];
	size_t n = make_ack(p, sizeof(p)) - 1; /* drop the end option */
	static const uint8_t t[] = {58, 4, 0, 0, 0, 100, 59, 4, 0, 0, 0, 200, 255};
	memcpy(p + n, t, sizeof(t));
	struct dhcp_reply r;
	assert_int_equal(dhcp_parse(p, n + sizeof(t), XID, mac, &r), DHCP_OK);
	assert_int_equal(r.t1_s, 100);
	assert_int_equal(r.t2_s, 200);
}

static void test_parse_no_mask_is_classful(void **state)
{
	(void)state;
	uint8_t p[300] = {2, 1, 6, 0, 0xde, 0xad, 0xbe, 0xef};
	p[16] = 192;
	p[17] = 168;
	p[18] = 1;
	p[19] = 9;
	memcpy(p + 28, mac, 6);
	const uint8_t tail[] = {99, 130, 83, 99, 53, 1, 2, 255};
	memcpy(p + 236, tail, sizeof(tail));
	struct dhcp_reply r;
	assert_int_equal(dhcp_parse(p, sizeof(p), XID, mac, &r), DHCP_OK);
	assert_int_equal(r.type, DHCPOFFER);
	assert_false(r.has_mask);
	assert_int_equal(r.prefix, 24);
	assert_false(r.has_router);
	assert_false(r.has_lease);
	assert_int_equal(r.n_dns, 0);
}

/* An OFFER or ACK built from text: addresses as dotted quads (router NULL:
 * none), lease_s/t1_s/t2_s of -1 leave the option out. */
struct hostile {
	const char *what;
	uint8_t type;
	const char *yiaddr, *mask, *router;
	long lease_s, t1_s, t2_s;
	/* expected: DHCP_OK or DHCP_E_ADDR; then the router kept or refused
	 * and the times after clamping */
	int rc;
	bool router_kept;
	uint32_t lease, t1, t2;
};

static size_t make_reply(uint8_t *p, size_t cap, const struct hostile *h)
{
	memset(p, 0, cap);
	const uint8_t head[8] = {2, 1, 6, 0, 0xde, 0xad, 0xbe, 0xef};
	memcpy(p, head, sizeof(head));
	in_addr_t y = inet_addr(h->yiaddr);
	memcpy(p + 16, &y, 4);
	memcpy(p + 28, mac, 6);
	const uint8_t cookie[4] = {99, 130, 83, 99};
	memcpy(p + 236, cookie, 4);
	size_t i = 240;
	p[i++] = 53;
	p[i++] = 1;
	p[i++] = h->type;
	in_addr_t a = inet_addr("10.0.2.2");
	p[i++] = 54;
	p[i++] = 4;
	memcpy(p + i, &a, 4);
	i += 4;
	if (h->mask) {
		a = inet_addr(h->mask);
		p[i++] = 1;
		p[i++] = 4;
		memcpy(p + i, &a, 4);
		i += 4;
	}
	if (h->router) {
		a = inet_addr(h->router);
		p[i++] = 3;
		p[i++] = 4;
		memcpy(p + i, &a, 4);
		i += 4;
	}
	const long times[3] = {h->lease_s, h->t1_s, h->t2_s};
	const uint8_t codes[3] = {51, 58, 59};
	for (int k = 0; k < 3; k++) {
		if (times[k] < 0)
			continue;
		uint32_t v = (uint32_t)times[k];
		p[i++] = codes[k];
		p[i++] = 4;
		p[i++] = (uint8_t)(v >> 24);
		p[i++] = (uint8_t)(v >> 16);
		p[i++] = (uint8_t)(v >> 8);
		p[i++] = (uint8_t)v;
	}
	p[i++] = 255;
	assert_true(i <= cap);
	return i < 300 ? 300 : i;
}

#define MASK24 "255.255.255.0"
static const struct hostile hostile[] = {
    {"sane", DHCPACK, "10.0.2.15", MASK24, "10.0.2.2", 86400, -1, -1, DHCP_OK, true, 86400, 43200,
     75600},
    {"sane offer", DHCPOFFER, "10.0.2.15", MASK24, "10.0.2.2", -1, -1, -1, DHCP_OK, true, 0, 0, 0},
    /* addresses no host may use */
    {"yiaddr 0.0.0.0", DHCPACK, "0.0.0.0", MASK24, NULL, 86400, -1, -1, DHCP_E_ADDR, false, 0, 0,
     0},
    {"yiaddr 0.1.2.3", DHCPACK, "0.1.2.3", MASK24, NULL, 86400, -1, -1, DHCP_E_ADDR, false, 0, 0,
     0},
    {"yiaddr loopback", DHCPACK, "127.0.0.1", "255.0.0.0", NULL, 86400, -1, -1, DHCP_E_ADDR, false,
     0, 0, 0},
    {"offer loopback", DHCPOFFER, "127.1.2.3", MASK24, NULL, -1, -1, -1, DHCP_E_ADDR, false, 0, 0,
     0},
    {"yiaddr multicast", DHCPACK, "224.0.0.1", MASK24, NULL, 86400, -1, -1, DHCP_E_ADDR, false, 0,
     0, 0},
    {"yiaddr class E", DHCPACK, "240.1.2.3", MASK24, NULL, 86400, -1, -1, DHCP_E_ADDR, false, 0, 0,
     0},
    {"yiaddr broadcast", DHCPOFFER, "255.255.255.255", MASK24, NULL, 86400, -1, -1, DHCP_E_ADDR,
     false, 0, 0, 0},
    {"yiaddr network", DHCPACK, "10.0.2.0", MASK24, NULL, 86400, -1, -1, DHCP_E_ADDR, false, 0, 0,
     0},
    {"yiaddr subnet broadcast", DHCPACK, "10.0.2.255", MASK24, NULL, 86400, -1, -1, DHCP_E_ADDR,
     false, 0, 0, 0},
    {"yiaddr subnet broadcast /30", DHCPACK, "10.0.2.7", "255.255.255.252", NULL, 86400, -1, -1,
     DHCP_E_ADDR, false, 0, 0, 0},
    {"classful network", DHCPOFFER, "192.168.1.0", NULL, NULL, -1, -1, -1, DHCP_E_ADDR, false, 0, 0,
     0},
    /* a /31 has no network or broadcast address (RFC 3021) */
    {"/31", DHCPACK, "10.0.2.0", "255.255.255.254", "10.0.2.1", 86400, -1, -1, DHCP_OK, true, 86400,
     43200, 75600},
    /* routers that are refused, the lease kept */
    {"router loopback", DHCPACK, "10.0.2.15", MASK24, "127.0.0.1", 86400, -1, -1, DHCP_OK, false,
     86400, 43200, 75600},
    {"router multicast", DHCPACK, "10.0.2.15", MASK24, "224.0.0.5", 86400, -1, -1, DHCP_OK, false,
     86400, 43200, 75600},
    {"router broadcast", DHCPACK, "10.0.2.15", MASK24, "255.255.255.255", 86400, -1, -1, DHCP_OK,
     false, 86400, 43200, 75600},
    {"router 0.0.0.0", DHCPACK, "10.0.2.15", MASK24, "0.0.0.0", 86400, -1, -1, DHCP_OK, false,
     86400, 43200, 75600},
    {"router off subnet", DHCPACK, "10.0.2.15", MASK24, "10.0.3.1", 86400, -1, -1, DHCP_OK, false,
     86400, 43200, 75600},
    {"router elsewhere", DHCPACK, "10.0.2.15", MASK24, "8.8.8.8", 86400, -1, -1, DHCP_OK, false,
     86400, 43200, 75600},
    {"router subnet broadcast", DHCPACK, "10.0.2.15", MASK24, "10.0.2.255", 86400, -1, -1, DHCP_OK,
     false, 86400, 43200, 75600},
    {"router network", DHCPACK, "10.0.2.15", MASK24, "10.0.2.0", 86400, -1, -1, DHCP_OK, false,
     86400, 43200, 75600},
    {"router is us", DHCPACK, "10.0.2.15", MASK24, "10.0.2.15", 86400, -1, -1, DHCP_OK, false,
     86400, 43200, 75600},
    /* times: a lease of 0 (the busy loop) and its kin */
    {"lease 0", DHCPACK, "10.0.2.15", MASK24, "10.0.2.2", 0, -1, -1, DHCP_OK, true,
     DHCP_MIN_LEASE_S, 30, 52},
    {"lease 1", DHCPACK, "10.0.2.15", MASK24, "10.0.2.2", 1, -1, -1, DHCP_OK, true,
     DHCP_MIN_LEASE_S, 30, 52},
    {"lease 0, T1 0, T2 0", DHCPACK, "10.0.2.15", MASK24, "10.0.2.2", 0, 0, 0, DHCP_OK, true,
     DHCP_MIN_LEASE_S, 30, 52},
    {"T1 0", DHCPACK, "10.0.2.15", MASK24, "10.0.2.2", 3600, 0, -1, DHCP_OK, true, 3600, 1800,
     3150},
    {"T1 = lease", DHCPACK, "10.0.2.15", MASK24, "10.0.2.2", 3600, 3600, -1, DHCP_OK, true, 3600,
     1800, 3150},
    {"T1 past lease", DHCPACK, "10.0.2.15", MASK24, "10.0.2.2", 3600, 100000, 100000, DHCP_OK, true,
     3600, 1800, 3150},
    {"T2 = lease", DHCPACK, "10.0.2.15", MASK24, "10.0.2.2", 3600, 600, 3600, DHCP_OK, true, 3600,
     600, 3150},
    {"early T2, no T1", DHCPACK, "10.0.2.15", MASK24, "10.0.2.2", 3600, -1, 100, DHCP_OK, true,
     3600, 100, 100},
    {"server's T1, T2", DHCPACK, "10.0.2.15", MASK24, "10.0.2.2", 3600, 60, 120, DHCP_OK, true,
     3600, 60, 120},
    {"infinite", DHCPACK, "10.0.2.15", MASK24, "10.0.2.2", 0xffffffffL, 5, 0, DHCP_OK, true,
     0xffffffffu, 0xffffffffu, 0xffffffffu},
};

static void test_hostile_replies(void **state)
{
	(void)state;
	for (size_t k = 0; k < sizeof(hostile) / sizeof(hostile[0]); k++) {
		const struct hostile *h = &hostile[k];
		uint8_t p[400];
		size_t n = make_reply(p, sizeof(p), h);
		struct dhcp_reply r;
		print_message("%s\n", h->what);
		assert_int_equal(dhcp_parse(p, n, XID, mac, &r), h->rc);
		if (h->rc != DHCP_OK)
			continue;
		assert_int_equal(r.yiaddr.s_addr, inet_addr(h->yiaddr));
		if (h->router) {
			assert_int_equal(r.has_router, h->router_kept);
			assert_int_equal(r.router_refused, !h->router_kept);
			assert_int_equal(r.router.s_addr, inet_addr(h->router));
		}
		assert_int_equal(r.has_lease, h->lease_s >= 0);
		if (h->lease_s < 0)
			continue;
		assert_int_equal(r.lease_s, h->lease);
		assert_int_equal(r.t1_s, h->t1);
		assert_int_equal(r.t2_s, h->t2);
		if (r.lease_s != 0xffffffffu) {
			assert_true(r.lease_s >= DHCP_MIN_LEASE_S);
			assert_true(r.t1_s > 0 && r.t1_s <= r.t2_s && r.t2_s < r.lease_s);
		}
	}
}

/* a NAK carries no lease: its yiaddr (0.0.0.0) is not checked */
static void test_nak_not_checked(void **state)
{
	(void)state;
	const struct hostile nak = {"nak", DHCPNAK, "0.0.0.0", NULL, NULL, -1, -1,
				    -1,	   DHCP_OK, false,     0,    0,	   0};
	uint8_t p[400];
	size_t n = make_reply(p, sizeof(p), &nak);
	struct dhcp_reply r;
	assert_int_equal(dhcp_parse(p, n, XID, mac, &r), DHCP_OK);
	assert_int_equal(r.type, DHCPNAK);
}

static void test_reject_short(void **state)
{
	(void)state;
	uint8_t p[400];
	make_ack(p, sizeof(p));
	struct dhcp_reply r;
	assert_int_equal(dhcp_parse(p, 239, XID, mac, &r), DHCP_E_SHORT);
	assert_int_equal(dhcp_parse(p, 0, XID, mac, &r), DHCP_E_SHORT);
}

static void test_reject_xid(void **state)
{
	(void)state;
	uint8_t p[400];
	size_t n = make_ack(p, sizeof(p));
	struct dhcp_reply r;
	assert_int_equal(dhcp_parse(p, n, XID + 1, mac, &r), DHCP_E_XID);
	const uint8_t other[6] = {0x52, 0x54, 0x00, 0x12, 0x34, 0x57};
	assert_int_equal(dhcp_parse(p, n, XID, other, &r), DHCP_E_CHADDR);
}

static void test_reject_op(void **state)
{
	(void)state;
	uint8_t p[400];
	size_t n = make_ack(p, sizeof(p));
	p[0] = 1; /* a BOOTREQUEST, e.g. another client's broadcast */
	struct dhcp_reply r;
	assert_int_equal(dhcp_parse(p, n, XID, mac, &r), DHCP_E_OP);
}

static void test_reject_cookie(void **state)
{
	(void)state;
	uint8_t p[400];
	size_t n = make_ack(p, sizeof(p));
	p[239] = 98;
	struct dhcp_reply r;
	assert_int_equal(dhcp_parse(p, n, XID, mac, &r), DHCP_E_COOKIE);
}

static void test_reject_option_overrun(void **state)
{
	(void)state;
	uint8_t p[400];
	size_t n = make_ack(p, sizeof(p)) - 1; /* drop the end option */
	struct dhcp_reply r;
	/* length byte says 10, only 3 bytes follow */
	const uint8_t bad[] = {12, 10, 'a', 'b', 'c'};
	memcpy(p + n, bad, sizeof(bad));
	assert_int_equal(dhcp_parse(p, n + sizeof(bad), XID, mac, &r), DHCP_E_OPTLEN);
	/* one byte short */
	assert_int_equal(dhcp_parse(p, n + 2 + 9, XID, mac, &r), DHCP_E_OPTLEN);
	assert_int_equal(dhcp_parse(p, n + 2 + 10, XID, mac, &r), DHCP_OK);
	/* code byte with no length byte */
	assert_int_equal(dhcp_parse(p, n + 1, XID, mac, &r), DHCP_E_OPTLEN);
	/* a known option with a wrong length */
	const uint8_t badlen[] = {51, 2, 0, 1, 255};
	memcpy(p + n, badlen, sizeof(badlen));
	assert_int_equal(dhcp_parse(p, n + sizeof(badlen), XID, mac, &r), DHCP_E_BADOPT);
}

static void test_reject_mask(void **state)
{
	(void)state;
	uint8_t p[400];
	size_t n = make_ack(p, sizeof(p));
	/* mask option value at 240 + 3 + 2 + 6 + 2 */
	uint8_t *m = p + 253;
	assert_int_equal(m[-2], 1);
	m[2] = 0; /* 255.255.0.0 */
	struct dhcp_reply r;
	assert_int_equal(dhcp_parse(p, n, XID, mac, &r), DHCP_OK);
	assert_int_equal(r.prefix, 16);
	m[2] = 0x0f; /* 255.255.15.0 */
	assert_int_equal(dhcp_parse(p, n, XID, mac, &r), DHCP_E_MASK);
	m[0] = 0;
	m[1] = m[2] = m[3] = 255; /* 0.255.255.255 */
	assert_int_equal(dhcp_parse(p, n, XID, mac, &r), DHCP_E_MASK);

	struct in_addr a;
	a.s_addr = inet_addr("0.0.0.0");
	assert_int_equal(dhcp_mask_prefix(a), 0);
	a.s_addr = inet_addr("255.255.255.255");
	assert_int_equal(dhcp_mask_prefix(a), 32);
	a.s_addr = inet_addr("255.255.255.254");
	assert_int_equal(dhcp_mask_prefix(a), 31);
	a.s_addr = inet_addr("128.0.0.0");
	assert_int_equal(dhcp_mask_prefix(a), 1);
	a.s_addr = inet_addr("255.255.255.253");
	assert_int_equal(dhcp_mask_prefix(a), -1);
}

static void test_reject_no_type(void **state)
{
	(void)state;
	uint8_t p[400];
	size_t n = make_ack(p, sizeof(p));
	p[240] = 0; /* turn the message type option into pads */
	p[241] = 0;
	p[242] = 0;
	struct dhcp_reply r;
	assert_int_equal(dhcp_parse(p, n, XID, mac, &r), DHCP_E_NOTYPE);
	/* no options at all */
	assert_int_equal(dhcp_parse(p, 240, XID, mac, &r), DHCP_E_NOTYPE);
}

static void test_strerror(void **state)
{
	(void)state;
	for (int e = DHCP_OK; e >= DHCP_E_ARG; e--)
		assert_string_not_equal(dhcp_strerror(e), "unknown error");
	assert_string_equal(dhcp_strerror(-100), "unknown error");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_discover),
	    cmocka_unit_test(test_request),
	    cmocka_unit_test(test_release),
	    cmocka_unit_test(test_build_limits),
	    cmocka_unit_test(test_parse_ack),
	    cmocka_unit_test(test_parse_t1_t2),
	    cmocka_unit_test(test_parse_no_mask_is_classful),
	    cmocka_unit_test(test_hostile_replies),
	    cmocka_unit_test(test_nak_not_checked),
	    cmocka_unit_test(test_reject_short),
	    cmocka_unit_test(test_reject_xid),
	    cmocka_unit_test(test_reject_op),
	    cmocka_unit_test(test_reject_cookie),
	    cmocka_unit_test(test_reject_option_overrun),
	    cmocka_unit_test(test_reject_mask),
	    cmocka_unit_test(test_reject_no_type),
	    cmocka_unit_test(test_strerror),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
