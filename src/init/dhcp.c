#include "init/dhcp.h"

#include <string.h>

#define OPT_PAD	       0
#define OPT_MASK       1
#define OPT_ROUTER     3
#define OPT_DNS	       6
#define OPT_HOSTNAME   12
#define OPT_REQ_IP     50
#define OPT_LEASE      51
#define OPT_MSG_TYPE   53
#define OPT_SERVER_ID  54
#define OPT_PARAM_REQ  55
#define OPT_T1	       58
#define OPT_T2	       59
#define OPT_CLIENT_ID  61
#define OPT_END	       255
#define LEASE_INFINITE 0xffffffffu

static const uint8_t cookie[4] = {99, 130, 83, 99};
static const uint8_t param_req[] = {OPT_MASK,	   OPT_ROUTER, OPT_DNS, OPT_LEASE,
				    OPT_SERVER_ID, OPT_T1,     OPT_T2};

static uint32_t get_be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static void put_be32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

/* appends option code/len/data at *pos; returns -1 if it does not fit
 * (one byte is always kept for the end option) */
static int put_opt(uint8_t *buf, size_t cap, size_t *pos, uint8_t code, const void *data,
		   size_t len)
{
	if (len > 255 || *pos + 2 + len + 1 > cap)
		return -1;
	buf[(*pos)++] = code;
	buf[(*pos)++] = (uint8_t)len;
	memcpy(buf + *pos, data, len);
	*pos += len;
	return 0;
}

static int build(uint8_t *buf, size_t cap, uint8_t type, uint32_t xid, const uint8_t mac[6],
		 const char *hostname, const struct in_addr *requested,
		 const struct in_addr *server)
{
	size_t hlen = hostname ? strlen(hostname) : 0;
	/* a release expects no reply and asks for no parameters */
	bool release = type == DHCPRELEASE;
	if (hlen > 255)
		return DHCP_E_ARG;
	if (cap < DHCP_MIN_SEND)
		return DHCP_E_NOSPACE;
	memset(buf, 0, DHCP_MIN_SEND);
	buf[DHCP_OFF_OP] = 1;	 /* BOOTREQUEST */
	buf[DHCP_OFF_HTYPE] = 1; /* Ethernet */
	buf[DHCP_OFF_HLEN] = 6;
	put_be32(buf + DHCP_OFF_XID, xid);
	if (!release) {
		buf[DHCP_OFF_FLAGS] = DHCP_FLAG_BCAST >> 8;
		buf[DHCP_OFF_FLAGS + 1] = DHCP_FLAG_BCAST & 0xff;
	}
	memcpy(buf + DHCP_OFF_CHADDR, mac, 6);
	memcpy(buf + DHCP_OFF_COOKIE, cookie, sizeof(cookie));

	size_t pos = DHCP_OFF_OPTIONS;
	uint8_t cid[7] = {1}; /* hardware type 1 (Ethernet) + MAC */
	memcpy(cid + 1, mac, 6);
	if (put_opt(buf, cap, &pos, OPT_MSG_TYPE, &type, 1) < 0 ||
	    put_opt(buf, cap, &pos, OPT_CLIENT_ID, cid, sizeof(cid)) < 0)
		return DHCP_E_NOSPACE;
	if (requested && put_opt(buf, cap, &pos, OPT_REQ_IP, &requested->s_addr, 4) < 0)
		return DHCP_E_NOSPACE;
	if (server && server->s_addr != 0 &&
	    put_opt(buf, cap, &pos, OPT_SERVER_ID, &server->s_addr, 4) < 0)
		return DHCP_E_NOSPACE;
	if (hlen > 0 && put_opt(buf, cap, &pos, OPT_HOSTNAME, hostname, hlen) < 0)
		return DHCP_E_NOSPACE;
	if (!release && put_opt(buf, cap, &pos, OPT_PARAM_REQ, param_req, sizeof(param_req)) < 0)
		return DHCP_E_NOSPACE;
	buf[pos++] = OPT_END;
	if (pos < DHCP_MIN_SEND)
		pos = DHCP_MIN_SEND; /* already zeroed: pad options */
	return (int)pos;
}

int dhcp_build_discover(uint8_t *buf, size_t cap, uint32_t xid, const uint8_t mac[6],
			const char *hostname)
{
	return build(buf, cap, DHCPDISCOVER, xid, mac, hostname, NULL, NULL);
}

int dhcp_build_request(uint8_t *buf, size_t cap, uint32_t xid, const uint8_t mac[6],
		       const char *hostname, struct in_addr requested, struct in_addr server)
{
	return build(buf, cap, DHCPREQUEST, xid, mac, hostname, &requested, &server);
}

int dhcp_build_release(uint8_t *buf, size_t cap, uint32_t xid, const uint8_t mac[6],
		       struct in_addr addr, struct in_addr server)
{
	int n = build(buf, cap, DHCPRELEASE, xid, mac, NULL, NULL, &server);
	if (n > 0)
		memcpy(buf + DHCP_OFF_CIADDR, &addr.s_addr, 4);
	return n;
}

int dhcp_mask_prefix(struct in_addr mask)
{
	uint32_t m = get_be32((const uint8_t *)&mask.s_addr);
	uint32_t inv = ~m;
	/* contiguous iff the host part is of the form 0...01...1 */
	if ((inv & (inv + 1)) != 0)
		return -1;
	int prefix = 0;
	while (m & 0x80000000u) {
		prefix++;
		m <<= 1;
	}
	return prefix;
}

static uint8_t classful_prefix(struct in_addr a)
{
	uint8_t first = ((const uint8_t *)&a.s_addr)[0];
	if (first < 128)
		return 8;
	if (first < 192)
		return 16;
	if (first < 224)
		return 24;
	return 32;
}

static int parse_option(struct dhcp_reply *r, uint8_t code, const uint8_t *d, size_t len,
			bool *has_t1, bool *has_t2)
{
	switch (code) {
	case OPT_MSG_TYPE:
		if (len != 1)
			return DHCP_E_BADOPT;
		r->type = d[0];
		break;
	case OPT_SERVER_ID:
		if (len != 4)
			return DHCP_E_BADOPT;
		memcpy(&r->server_id.s_addr, d, 4);
		r->has_server_id = true;
		break;
	case OPT_MASK: {
		if (len != 4)
			return DHCP_E_BADOPT;
		struct in_addr m;
		memcpy(&m.s_addr, d, 4);
		int p = dhcp_mask_prefix(m);
		if (p < 0)
			return DHCP_E_MASK;
		r->prefix = (uint8_t)p;
		r->has_mask = true;
		break;
	}
	case OPT_ROUTER:
		if (len < 4 || len % 4 != 0)
			return DHCP_E_BADOPT;
		memcpy(&r->router.s_addr, d, 4);
		r->has_router = true;
		break;
	case OPT_DNS:
		if (len < 4 || len % 4 != 0)
			return DHCP_E_BADOPT;
		r->n_dns = 0;
		for (size_t i = 0; i < len / 4 && i < DHCP_MAX_DNS; i++)
			memcpy(&r->dns[r->n_dns++].s_addr, d + 4 * i, 4);
		break;
	case OPT_LEASE:
	case OPT_T1:
	case OPT_T2:
		if (len != 4)
			return DHCP_E_BADOPT;
		if (code == OPT_LEASE) {
			r->lease_s = get_be32(d);
			r->has_lease = true;
		} else if (code == OPT_T1) {
			r->t1_s = get_be32(d);
			*has_t1 = true;
		} else {
			r->t2_s = get_be32(d);
			*has_t2 = true;
		}
		break;
	default:
		break; /* unknown: skipped */
	}
	return DHCP_OK;
}

static uint32_t host_order(struct in_addr a)
{
	return get_be32((const uint8_t *)&a.s_addr);
}

/* not 0.0.0.0/8, loopback, multicast, reserved or the limited broadcast */
static bool unicast_address(uint32_t a)
{
	uint8_t first = (uint8_t)(a >> 24);
	return first != 0 && first != 127 && first < 224;
}

/* a unicast address that is neither the network nor the broadcast address
 * of its subnet (a /31 or /32 has neither: RFC 3021) */
static bool usable_address(struct in_addr addr, uint8_t prefix)
{
	uint32_t a = host_order(addr);
	if (!unicast_address(a))
		return false;
	if (prefix > 30)
		return true;
	uint32_t host_mask = prefix == 0 ? 0xffffffffu : 0xffffffffu >> prefix;
	return (a & host_mask) != 0 && (a & host_mask) != host_mask;
}

/* a usable address in the subnet of addr/prefix, other than addr */
static bool usable_router(struct in_addr router, struct in_addr addr, uint8_t prefix)
{
	uint32_t r = host_order(router), a = host_order(addr);
	uint32_t net_mask = prefix == 0 ? 0 : 0xffffffffu << (32 - prefix);
	return usable_address(router, prefix) && r != a && (r & net_mask) == (a & net_mask);
}

/* The lease at least DHCP_MIN_LEASE_S; T2 the server's when 0 < T2 <
 * lease, else 7/8 of the lease; T1 the server's when 0 < T1 <= T2, else
 * half the lease, or T2 if that is earlier (RFC 2131's defaults). */
static void clamp_times(struct dhcp_reply *r, bool has_t1, bool has_t2)
{
	if (r->lease_s == LEASE_INFINITE) {
		r->t1_s = r->t2_s = LEASE_INFINITE;
		return;
	}
	if (r->lease_s < DHCP_MIN_LEASE_S)
		r->lease_s = DHCP_MIN_LEASE_S;
	uint64_t lease = r->lease_s;
	if (!has_t2 || r->t2_s == 0 || r->t2_s >= r->lease_s)
		r->t2_s = (uint32_t)(lease * 7 / 8);
	if (!has_t1 || r->t1_s == 0 || r->t1_s > r->t2_s) {
		r->t1_s = (uint32_t)(lease / 2);
		if (r->t1_s > r->t2_s) /* the server's T2 is early */
			r->t1_s = r->t2_s;
	}
}

int dhcp_parse(const uint8_t *pkt, size_t len, uint32_t xid, const uint8_t mac[6],
	       struct dhcp_reply *out)
{
	memset(out, 0, sizeof(*out));
	if (len < DHCP_HDR_LEN)
		return DHCP_E_SHORT;
	if (pkt[DHCP_OFF_OP] != 2)
		return DHCP_E_OP;
	if (get_be32(pkt + DHCP_OFF_XID) != xid)
		return DHCP_E_XID;
	if (memcmp(pkt + DHCP_OFF_CHADDR, mac, 6) != 0)
		return DHCP_E_CHADDR;
	if (memcmp(pkt + DHCP_OFF_COOKIE, cookie, sizeof(cookie)) != 0)
		return DHCP_E_COOKIE;
	memcpy(&out->yiaddr.s_addr, pkt + DHCP_OFF_YIADDR, 4);

	bool has_t1 = false, has_t2 = false;
	size_t i = DHCP_OFF_OPTIONS;
	while (i < len) {
		uint8_t code = pkt[i];
		if (code == OPT_PAD) {
			i++;
			continue;
		}
		if (code == OPT_END)
			break;
		if (len - i < 2 || len - i - 2 < pkt[i + 1])
			return DHCP_E_OPTLEN;
		size_t olen = pkt[i + 1];
		int rc = parse_option(out, code, pkt + i + 2, olen, &has_t1, &has_t2);
		if (rc != DHCP_OK)
			return rc;
		i += 2 + olen;
	}
	if (out->type == 0)
		return DHCP_E_NOTYPE;
	if (!out->has_mask)
		out->prefix = classful_prefix(out->yiaddr);
	if (out->type != DHCPOFFER && out->type != DHCPACK)
		return DHCP_OK;
	if (!usable_address(out->yiaddr, out->prefix))
		return DHCP_E_ADDR;
	if (out->has_router && !usable_router(out->router, out->yiaddr, out->prefix)) {
		out->has_router = false;
		out->router_refused = true;
	}
	if (out->has_lease)
		clamp_times(out, has_t1, has_t2);
	return DHCP_OK;
}

const char *dhcp_strerror(int err)
{
	switch (err) {
	case DHCP_OK:
		return "ok";
	case DHCP_E_SHORT:
		return "packet too short";
	case DHCP_E_OP:
		return "not a BOOTREPLY";
	case DHCP_E_XID:
		return "transaction id mismatch";
	case DHCP_E_CHADDR:
		return "hardware address mismatch";
	case DHCP_E_COOKIE:
		return "bad magic cookie";
	case DHCP_E_OPTLEN:
		return "option runs past end of packet";
	case DHCP_E_BADOPT:
		return "option with invalid length";
	case DHCP_E_MASK:
		return "non-contiguous subnet mask";
	case DHCP_E_NOTYPE:
		return "no message type";
	case DHCP_E_NOSPACE:
		return "buffer too small";
	case DHCP_E_ARG:
		return "invalid argument";
	case DHCP_E_ADDR:
		return "unusable address offered";
	default:
		return "unknown error";
	}
}
