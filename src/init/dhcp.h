/* DHCPv4 message building and parsing for keel-dhcpc (pure: no system
 * calls). RFC 2131 / RFC 2132, Ethernet only, no option overload.
 *
 * Replies are hostile input: dhcp_parse checks every length before reading
 * and rejects anything malformed with a negative DHCP_E_* code. Addresses
 * are kept in network byte order (struct in_addr). */
#ifndef KEEL_DHCP_H
#define KEEL_DHCP_H

#include <netinet/in.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define DHCP_SERVER_PORT 67
#define DHCP_CLIENT_PORT 68
/* fixed BOOTP header (236 bytes) plus the magic cookie */
#define DHCP_HDR_LEN 240
/* built messages are padded to the BOOTP minimum of 300 bytes and never
 * exceed 576 (the size every server must accept) */
#define DHCP_MIN_SEND	300
#define DHCP_MAX_SEND	576
#define DHCP_MAX_DNS	3
#define DHCP_FLAG_BCAST 0x8000

/* byte offsets in the message */
#define DHCP_OFF_OP	 0
#define DHCP_OFF_HTYPE	 1
#define DHCP_OFF_HLEN	 2
#define DHCP_OFF_XID	 4
#define DHCP_OFF_FLAGS	 10
#define DHCP_OFF_CIADDR	 12
#define DHCP_OFF_YIADDR	 16
#define DHCP_OFF_CHADDR	 28
#define DHCP_OFF_COOKIE	 236
#define DHCP_OFF_OPTIONS 240

enum dhcp_msg_type {
	DHCPDISCOVER = 1,
	DHCPOFFER = 2,
	DHCPREQUEST = 3,
	DHCPDECLINE = 4,
	DHCPACK = 5,
	DHCPNAK = 6,
	DHCPRELEASE = 7,
	DHCPINFORM = 8,
};

enum dhcp_err {
	DHCP_OK = 0,
	DHCP_E_SHORT = -1,    /* shorter than the 240-byte header */
	DHCP_E_OP = -2,	      /* not a BOOTREPLY */
	DHCP_E_XID = -3,      /* transaction id is not ours */
	DHCP_E_CHADDR = -4,   /* client hardware address is not ours */
	DHCP_E_COOKIE = -5,   /* missing magic cookie */
	DHCP_E_OPTLEN = -6,   /* an option runs past the end of the packet */
	DHCP_E_BADOPT = -7,   /* a known option has an invalid length */
	DHCP_E_MASK = -8,     /* subnet mask is not contiguous */
	DHCP_E_NOTYPE = -9,   /* no message type option */
	DHCP_E_NOSPACE = -10, /* build: caller buffer too small */
	DHCP_E_ARG = -11,     /* build: invalid argument (host name too long) */
	DHCP_E_ADDR = -12,    /* an OFFER or ACK of an address no host may use */
};

/* The shortest lease keel-dhcpc accepts: a shorter one (0 included) is
 * taken as this long, so a server cannot make it renew in a tight loop. */
#define DHCP_MIN_LEASE_S 60

struct dhcp_reply {
	uint8_t type; /* enum dhcp_msg_type */
	struct in_addr yiaddr;
	bool has_server_id;
	struct in_addr server_id;
	bool has_mask;
	/* from option 1, or the classful default when the server sent none */
	uint8_t prefix;
	bool has_router;
	struct in_addr router; /* first router listed */
	/* the router was sent but is unusable (see dhcp_parse): has_router is
	 * false and `router` holds the refused address, for the log */
	bool router_refused;
	unsigned n_dns;
	struct in_addr dns[DHCP_MAX_DNS];
	bool has_lease;
	/* 0xffffffff means infinite (then T1 and T2 are too); otherwise at
	 * least DHCP_MIN_LEASE_S, and 0 < t1_s <= t2_s < lease_s */
	uint32_t lease_s;
	uint32_t t1_s; /* renewal time; 0.5 * lease if absent or out of range */
	uint32_t t2_s; /* rebinding time; 0.875 * lease if absent or out of range */
};

/* Both builders write the message into buf (cap bytes; DHCP_MAX_SEND is
 * always enough) and return its length, or a negative DHCP_E_* code.
 * hostname may be NULL or empty to leave option 12 out. */
int dhcp_build_discover(uint8_t *buf, size_t cap, uint32_t xid, const uint8_t mac[6],
			const char *hostname);
/* DHCPREQUEST for `requested` (option 50) from `server` (option 54; left
 * out when server is 0.0.0.0). */
int dhcp_build_request(uint8_t *buf, size_t cap, uint32_t xid, const uint8_t mac[6],
		       const char *hostname, struct in_addr requested, struct in_addr server);

/* DHCPRELEASE of `addr` (ciaddr) to `server` (option 54): no broadcast
 * flag, host name or parameter list. */
int dhcp_build_release(uint8_t *buf, size_t cap, uint32_t xid, const uint8_t mac[6],
		       struct in_addr addr, struct in_addr server);

/* Parses a server reply of len bytes for transaction xid and hardware
 * address mac. Returns DHCP_OK with *out filled, or a negative DHCP_E_*.
 *
 * An OFFER or ACK is also checked as a lease (a NAK carries none):
 *  - its address (yiaddr) must be one a host may use: not in 0.0.0.0/8,
 *    loopback (127.0.0.0/8), multicast or reserved (224.0.0.0 and up,
 *    the limited broadcast included), nor the network or broadcast address
 *    of the offered subnet (for prefixes up to /30; a /31 or /32 has
 *    none). Otherwise DHCP_E_ADDR: the reply is to be ignored.
 *  - its router must be a usable address inside the offered subnet, other
 *    than the offered address itself; otherwise it is refused
 *    (router_refused; has_router false) and the lease kept without it.
 *  - the lease, T1 and T2 are clamped as struct dhcp_reply says. */
int dhcp_parse(const uint8_t *pkt, size_t len, uint32_t xid, const uint8_t mac[6],
	       struct dhcp_reply *out);

/* Prefix length of a netmask (network byte order), or -1 if the mask is
 * not contiguous. */
int dhcp_mask_prefix(struct in_addr mask);

const char *dhcp_strerror(int err);

#endif
