/* keel-dhcpc: minimal DHCPv4 client for the management network.
 *
 * Runs as a keel-init service in both management modes. At start and on
 * every SIGHUP it reads the mode file (/run/keel/mgmt.mode, see
 * common/runstate.h; an unknown mode means "dhcp"). It names the interface
 * to work on: when that changes (the management VLAN did), the lease held
 * on the old one is given back and removed first. Then, by mode:
 *  - "static": gives back the lease it holds, if any (a DHCPRELEASE to the
 *    server, then its default route and address are removed; resolv.conf
 *    stays), and idles until the next signal. Without a lease it touches
 *    nothing, so a static address set by keel-init or keel-hostd stays.
 *  - "dhcp": starts from DISCOVER, even if bound: a SIGHUP is a renewal from
 *    scratch. A lease still held stays configured until the new one replaces
 *    it (the same address: nothing changes) or it expires.
 * DISCOVER/OFFER/REQUEST/ACK go over a UDP socket bound to IFNAME (replies
 * are broadcast: we set the broadcast flag); address, netmask, default route
 * and resolv.conf are set with ioctls; the lease is renewed at T1 and given
 * up when it expires or is refused. Replies are checked by dhcp_parse (an
 * unusable address is ignored, an unusable router left out, the lease and
 * T1 clamped), and every failed attempt is followed by a growing pause
 * (retry_pause). Every transition is written to
 * DHCPC_STATE_FILE (common/runstate.h): "idle" (once the lease is removed), "discovering",
 * or "bound ADDR/PREFIX gw GW lease SECONDS".
 *
 * Signals are blocked except while waiting (wait_readable): SIGTERM exits 0
 * there; SIGHUP sets `reload`, which makes every wait return at once and
 * the state machine go back to the mode file. Bad usage exits 2; set-up
 * failures exit 1 (the supervisor restarts us). */
#include "init/backoff.h"
#include "init/dhcp.h"
#include "init/net.h"

#include "common/log.h"
#include "common/logfiles.h"
#include "common/resolvconf.h"
#include "common/runstate.h"
#include "common/util.h"

#include <arpa/inet.h>
#include <errno.h>
#include <net/if.h>
#include <net/if_arp.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define RETRY_MIN_MS 1000
#define RETRY_MAX_MS 32000
/* a REQUEST after an OFFER is sent this many times before starting over */
#define REQUEST_TRIES  4
#define MAX_BAD_LOGS   10
#define LEASE_INFINITE 0xffffffffu

static volatile sig_atomic_t stop, reload;
static sigset_t wait_mask; /* signal mask while waiting: ours unblocked */

/* pause before starting over after a failed attempt (no ACK, a NAK, an
 * address that could not be set): 1 s doubling to 60 s (init/backoff.h),
 * back to none once a lease is configured, so neither a confused nor a
 * hostile server can make us loop hot */
static long retry_pause_ms;

static char ifname[IFNAMSIZ];
static uint8_t mac[6];
static char hostname[256];
static int sock = -1;

/* what we configured; addr 0 when we hold no lease */
static struct {
	struct in_addr addr, gw, server; /* gw 0: no default route installed */
	int64_t end;			 /* expiry on the now_ms clock */
} held;

static void on_signal(int sig)
{
	if (sig == SIGHUP)
		reload = 1;
	else
		stop = 1;
}

static int64_t now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_BOOTTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static const char *ntoa(struct in_addr a, char *buf)
{
	return inet_ntop(AF_INET, &a, buf, INET_ADDRSTRLEN);
}

static uint32_t new_xid(void)
{
	uint32_t x;
	if (getrandom(&x, sizeof(x), GRND_NONBLOCK) == (ssize_t)sizeof(x))
		return x;
	return (uint32_t)now_ms() ^ ((uint32_t)getpid() << 16) ^ mac[5];
}

/* Waits up to timeout_ms (-1: forever) for the socket to become readable;
 * the only place signals are delivered. Returns 1 if readable, else 0 (a
 * timeout, or a SIGHUP: then `reload` is set, and stays set until the
 * state machine is back at its top; until then this returns 0 at once). */
static int wait_readable(int64_t timeout_ms)
{
	if (reload)
		return 0;
	struct timespec ts, *tp = NULL;
	if (timeout_ms >= 0) {
		ts.tv_sec = timeout_ms / 1000;
		ts.tv_nsec = (long)(timeout_ms % 1000) * 1000000;
		tp = &ts;
	}
	struct pollfd pfd = {.fd = sock, .events = POLLIN};
	int n = ppoll(&pfd, 1, tp, &wait_mask);
	if (stop) {
		log_msg("%s: terminated", ifname);
		exit(0);
	}
	if (n < 0 && errno != EINTR) {
		log_errno("%s: poll", ifname);
		exit(1);
	}
	return n > 0;
}

/* Reads one datagram; returns 1 with *r filled if it is a valid reply to
 * xid. Other clients' replies are dropped silently, malformed ones with a
 * (bounded) log line. */
static int recv_reply(uint32_t xid, struct dhcp_reply *r)
{
	static unsigned bad_logged;
	uint8_t buf[2048];
	struct sockaddr_in from;
	socklen_t fl = sizeof(from);
	ssize_t n = recvfrom(sock, buf, sizeof(buf), MSG_DONTWAIT, (struct sockaddr *)&from, &fl);
	if (n < 0) {
		if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)
			log_errno("%s: recv", ifname);
		return 0;
	}
	int rc = dhcp_parse(buf, (size_t)n, xid, mac, r);
	if (rc == DHCP_OK)
		return 1;
	if (rc != DHCP_E_XID && rc != DHCP_E_CHADDR && bad_logged < MAX_BAD_LOGS) {
		char a[INET_ADDRSTRLEN];
		bad_logged++;
		log_msg("%s: ignoring reply from %s: %s", ifname, ntoa(from.sin_addr, a),
			dhcp_strerror(rc));
	}
	return 0;
}

static int acceptable(const struct dhcp_reply *r, bool want_offer)
{
	if (want_offer)
		return r->type == DHCPOFFER && r->yiaddr.s_addr != 0 && r->has_server_id;
	if (r->type == DHCPNAK)
		return 1;
	return r->type == DHCPACK && r->yiaddr.s_addr != 0 && r->has_lease;
}

/* Sleeps until `deadline` (now_ms clock) or a SIGHUP, discarding anything
 * received. */
static void sleep_until(int64_t deadline)
{
	for (;;) {
		int64_t left = deadline - now_ms();
		if (left <= 0 || reload)
			return;
		if (wait_readable(left)) {
			uint8_t junk[64];
			ssize_t n = recv(sock, junk, sizeof(junk), MSG_DONTWAIT);
			(void)n;
		}
	}
}

/* Pauses before the next attempt, longer each time since the last lease
 * was configured (or until a SIGHUP). */
static void retry_pause(void)
{
	retry_pause_ms = backoff_next(retry_pause_ms, 0);
	log_msg("%s: next attempt in %ld s", ifname, retry_pause_ms / 1000);
	sleep_until(now_ms() + retry_pause_ms);
}

/* Broadcasts pkt to the servers, retransmitting with back-off 1, 2, 4 ...
 * 32 s, until an acceptable reply to xid arrives (returns 1, *r filled:
 * an OFFER if want_offer, else an ACK or a NAK). Returns 0 once `deadline`
 * passes (0: none), after max_tries transmissions (0: no limit), or on a
 * SIGHUP. */
static int exchange(const uint8_t *pkt, size_t len, uint32_t xid, bool want_offer, int64_t deadline,
		    int max_tries, struct dhcp_reply *r)
{
	struct sockaddr_in to = {.sin_family = AF_INET,
				 .sin_port = htons(DHCP_SERVER_PORT),
				 .sin_addr.s_addr = htonl(INADDR_BROADCAST)};
	int64_t timeout = RETRY_MIN_MS;
	for (int tries = 1;; tries++) {
		if (sendto(sock, pkt, len, 0, (struct sockaddr *)&to, sizeof(to)) < 0)
			log_errno("%s: send", ifname);
		int64_t end = now_ms() + timeout;
		if (deadline && end > deadline)
			end = deadline;
		for (;;) {
			int64_t left = end - now_ms();
			if (left <= 0)
				break;
			if (wait_readable(left) && recv_reply(xid, r) && acceptable(r, want_offer))
				return 1;
			if (reload)
				return 0;
		}
		if ((deadline && now_ms() >= deadline) || (max_tries && tries >= max_tries))
			return 0;
		timeout = timeout * 2 > RETRY_MAX_MS ? RETRY_MAX_MS : timeout * 2;
	}
}

static int setup_link(void)
{
	struct ifreq ifr;
	memset(&ifr, 0, sizeof(ifr));
	str_copy(ifr.ifr_name, sizeof(ifr.ifr_name), ifname);
	if (ioctl(sock, SIOCGIFHWADDR, &ifr) < 0) {
		log_errno("%s: cannot read hardware address", ifname);
		return -1;
	}
	if (ifr.ifr_hwaddr.sa_family != ARPHRD_ETHER) {
		log_msg("%s: not an Ethernet interface", ifname);
		return -1;
	}
	memcpy(mac, ifr.ifr_hwaddr.sa_data, 6);
	if (net_link_up(ifname) < 0) {
		log_errno("%s: cannot bring link up", ifname);
		return -1;
	}
	return 0;
}

static int open_socket(void)
{
	sock = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (sock < 0) {
		log_errno("socket");
		return -1;
	}
	int on = 1;
	struct sockaddr_in addr = {.sin_family = AF_INET,
				   .sin_port = htons(DHCP_CLIENT_PORT),
				   .sin_addr.s_addr = htonl(INADDR_ANY)};
	if (setsockopt(sock, SOL_SOCKET, SO_BROADCAST, &on, sizeof(on)) < 0 ||
	    setsockopt(sock, SOL_SOCKET, SO_REUSEADDR, &on, sizeof(on)) < 0 ||
	    setsockopt(sock, SOL_SOCKET, SO_BINDTODEVICE, ifname, (socklen_t)strlen(ifname) + 1) <
		0) {
		log_errno("%s: setsockopt", ifname);
		return -1;
	}
	if (bind(sock, (struct sockaddr *)&addr, sizeof(addr)) < 0) {
		log_errno("%s: bind to port %d", ifname, DHCP_CLIENT_PORT);
		return -1;
	}
	return 0;
}

/* Exits if a message cannot be built (they always fit: that is a bug). */
static size_t built(int n, const char *what)
{
	if (n < 0) {
		log_msg("%s: cannot build %s: %s", ifname, what, dhcp_strerror(n));
		exit(1);
	}
	return (size_t)n;
}

/* Replaces the state file (common/runstate.h). */
static void write_state(enum dhcpc_phase phase, const struct dhcp_reply *lease)
{
	struct dhcpc_state st = {.phase = phase};
	if (lease) {
		st.addr = lease->yiaddr;
		st.prefix = lease->prefix;
		st.gateway = held.gw; /* the route actually installed */
		st.lease_s = lease->lease_s;
	}
	if (dhcpc_state_write(DHCPC_STATE_FILE, &st) < 0)
		log_errno("%s: cannot write %s", ifname, DHCPC_STATE_FILE);
}

/* The mode file: an unknown mode means DHCP (a host left idle without an
 * address could not be reached to fix it). Without an interface in it
 * (`want` is then ""), there is nothing to work on. */
static enum net_mode read_mode(char want[IFNAMSIZ])
{
	enum net_mode mode = NET_DHCP;
	int r = mgmt_mode_read(MGMT_MODE_FILE, &mode, want);
	if (r < 0)
		log_errno("cannot read %s", MGMT_MODE_FILE);
	else if (r > 0 && *want)
		log_msg("%s: unknown mode in %s, using dhcp", want, MGMT_MODE_FILE);
	else if (r > 0)
		log_msg("no valid interface in %s", MGMT_MODE_FILE);
	return mode;
}

/* Removes the default route and the address of the lease we hold, if any;
 * with `release`, first gives the lease back to its server (best effort:
 * nothing is expected in return). resolv.conf stays as it is. */
static void unconfigure(bool release)
{
	char a[INET_ADDRSTRLEN];
	if (held.addr.s_addr == 0)
		return;
	if (release && held.server.s_addr) {
		uint8_t pkt[DHCP_MAX_SEND];
		size_t n = built(
		    dhcp_build_release(pkt, sizeof(pkt), new_xid(), mac, held.addr, held.server),
		    "release");
		struct sockaddr_in to = {.sin_family = AF_INET,
					 .sin_port = htons(DHCP_SERVER_PORT),
					 .sin_addr = held.server};
		if (sendto(sock, pkt, n, 0, (struct sockaddr *)&to, sizeof(to)) < 0)
			log_errno("%s: cannot send release to %s", ifname, ntoa(held.server, a));
	}
	if (held.gw.s_addr)
		net_default_route(ifname, held.gw, 0);
	struct in_addr none = {.s_addr = INADDR_ANY};
	net_set_address(ifname, none, 0);
	log_msg("%s: %s %s", ifname, release ? "released" : "removed", ntoa(held.addr, a));
	memset(&held, 0, sizeof(held));
}

/* Configures the lease in r, which replaces the one held (the same address
 * is left as it is, so renewing it changes nothing on the interface), and
 * reports it. Returns 0, or -1 if the address could not be set. */
static int configure(const struct dhcp_reply *r, int64_t start)
{
	char a[INET_ADDRSTRLEN], b[INET_ADDRSTRLEN];
	held.addr = r->yiaddr; /* may be set even on failure (the netmask failed) */
	held.server = r->server_id;
	held.end = r->lease_s == LEASE_INFINITE ? INT64_MAX : start + (int64_t)r->lease_s * 1000;
	if (net_set_address(ifname, r->yiaddr, (int)r->prefix) < 0)
		return -1;
	if (held.gw.s_addr && (!r->has_router || held.gw.s_addr != r->router.s_addr))
		net_default_route(ifname, held.gw, 0);
	held.gw.s_addr = 0;
	if (r->has_router && net_default_route(ifname, r->router, 1) == 0)
		held.gw = r->router;
	if (r->router_refused)
		log_msg("%s: ignoring router %s: not a usable address in %s/%u", ifname,
			ntoa(r->router, a), ntoa(r->yiaddr, b), r->prefix);
	if (r->n_dns > 0 && resolvconf_write(RESOLV_CONF_FILE, r->dns, (int)r->n_dns) < 0)
		log_errno("%s: cannot write " RESOLV_CONF_FILE, ifname);

	char addr[INET_ADDRSTRLEN], gw[INET_ADDRSTRLEN] = "none";
	ntoa(r->yiaddr, addr);
	if (r->has_router)
		ntoa(r->router, gw);
	char dns[DHCP_MAX_DNS * INET_ADDRSTRLEN] = "none";
	size_t used = 0;
	for (unsigned i = 0; i < r->n_dns; i++)
		used += (size_t)snprintf(dns + used, sizeof(dns) - used, "%s%s", i ? "," : "",
					 ntoa(r->dns[i], a));
	log_msg("lease %s %s/%u gw %s dns %s for %us", ifname, addr, r->prefix, gw, dns,
		r->lease_s);
	write_state(DHCPC_BOUND, r);
	retry_pause_ms = 0;
	return 0;
}

/* Holds the lease in *ack, renewing it at T1, until a SIGHUP (the lease is
 * kept), a NAK (it is removed), or the server's silence until the lease
 * expires (the caller removes it). */
static void bound(struct dhcp_reply *ack)
{
	uint8_t pkt[DHCP_MAX_SEND];
	char a[INET_ADDRSTRLEN];
	for (;;) {
		int64_t start = now_ms();
		if (configure(ack, start) < 0) {
			unconfigure(false);
			retry_pause();
			return;
		}
		sleep_until(ack->lease_s == LEASE_INFINITE ? INT64_MAX
							   : start + (int64_t)ack->t1_s * 1000);
		if (reload)
			return;
		uint32_t xid = new_xid();
		size_t n = built(dhcp_build_request(pkt, sizeof(pkt), xid, mac, hostname,
						    ack->yiaddr, ack->server_id),
				 "request");
		struct dhcp_reply r;
		if (!exchange(pkt, n, xid, false, held.end, 0, &r))
			return;
		if (r.type == DHCPNAK) {
			log_msg("%s: renewal of %s refused (NAK)", ifname, ntoa(ack->yiaddr, a));
			unconfigure(false);
			return;
		}
		if (!r.has_server_id)
			r.server_id = ack->server_id;
		*ack = r;
	}
}

/* Mode "static": no lease (given back if held), nothing else to do until
 * the next signal. */
static void static_mode(void)
{
	unconfigure(true);
	write_state(DHCPC_IDLE, NULL);
	sleep_until(INT64_MAX);
}

/* Mode "dhcp": DISCOVER, OFFER, REQUEST, ACK, then holds the lease, over
 * again, until a SIGHUP. A lease held when this starts (a SIGHUP while
 * bound) stays until it is replaced or expires. */
static void dhcp_mode(void)
{
	uint8_t pkt[DHCP_MAX_SEND];
	char a[INET_ADDRSTRLEN], b[INET_ADDRSTRLEN];
	while (!reload) {
		if (held.addr.s_addr && now_ms() >= held.end) {
			log_msg("%s: lease on %s expired", ifname, ntoa(held.addr, a));
			unconfigure(false);
		}
		write_state(DHCPC_DISCOVERING, NULL);
		int64_t deadline = held.addr.s_addr ? held.end : 0;
		uint32_t xid = new_xid();
		size_t n =
		    built(dhcp_build_discover(pkt, sizeof(pkt), xid, mac, hostname), "discover");
		struct dhcp_reply offer, ack;
		if (!exchange(pkt, n, xid, true, deadline, 0, &offer))
			continue; /* a SIGHUP, or the lease held expired */
		log_msg("%s: offer %s from %s", ifname, ntoa(offer.yiaddr, a),
			ntoa(offer.server_id, b));

		n = built(dhcp_build_request(pkt, sizeof(pkt), xid, mac, hostname, offer.yiaddr,
					     offer.server_id),
			  "request");
		if (!exchange(pkt, n, xid, false, deadline, REQUEST_TRIES, &ack)) {
			if (!reload) {
				log_msg("%s: no answer to request for %s, starting over", ifname,
					ntoa(offer.yiaddr, a));
				retry_pause();
			}
			continue;
		}
		if (ack.type == DHCPNAK) {
			log_msg("%s: request for %s refused (NAK), starting over", ifname,
				ntoa(offer.yiaddr, a));
			retry_pause();
			continue;
		}
		if (!ack.has_server_id)
			ack.server_id = offer.server_id;
		bound(&ack);
	}
}

/* Moves to interface `want`: the lease held on the old one is given back
 * first. Exits if the socket or the link cannot be set up (keel-init
 * starts us again, and we read the mode file again). */
static void use_interface(const char *want)
{
	if (sock >= 0) {
		log_msg("%s: moving to %s", ifname, want);
		unconfigure(true);
		write_state(DHCPC_IDLE, NULL);
		close(sock);
		sock = -1;
	}
	str_copy(ifname, sizeof(ifname), want);
	if (open_socket() < 0 || setup_link() < 0)
		exit(1);
	log_msg("%s: starting, hwaddr %02x:%02x:%02x:%02x:%02x:%02x", ifname, mac[0], mac[1],
		mac[2], mac[3], mac[4], mac[5]);
}

int main(int argc, char **argv)
{
	/* first: a SIGHUP must not kill us, even this early */
	struct sigaction sa;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal; /* no SA_RESTART: ppoll returns EINTR */
	sigemptyset(&sa.sa_mask);
	const int sigs[] = {SIGTERM, SIGINT, SIGHUP};
	sigset_t block;
	sigemptyset(&block);
	for (size_t i = 0; i < ARRAY_SIZE(sigs); i++) {
		sigaction(sigs[i], &sa, NULL);
		sigaddset(&block, sigs[i]);
	}
	sigprocmask(SIG_BLOCK, &block, &wait_mask);
	for (size_t i = 0; i < ARRAY_SIZE(sigs); i++)
		sigdelset(&wait_mask, sigs[i]);

	log_init("keel-dhcpc", 2, LOG_SOCKET);
	(void)argv;
	if (argc != 1) {
		fprintf(stderr, "usage: keel-dhcpc (the interface is in %s)\n", MGMT_MODE_FILE);
		return 2;
	}

	if (gethostname(hostname, sizeof(hostname)) < 0 || strcmp(hostname, "(none)") == 0)
		hostname[0] = '\0';
	hostname[sizeof(hostname) - 1] = '\0';

	for (;;) {
		reload = 0;
		char want[IFNAMSIZ];
		enum net_mode mode = read_mode(want);
		if (!*want)
			return 1;
		if (strcmp(want, ifname) != 0)
			use_interface(want);
		log_msg("%s: mode %s", ifname, mode == NET_STATIC ? "static" : "dhcp");
		if (mode == NET_STATIC)
			static_mode();
		else
			dhcp_mode();
	}
}
