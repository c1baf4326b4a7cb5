/* ping [-c N] HOST and lookup NAME: reachability and name resolution from
 * the host. ping sends ICMP (or ICMPv6) echo requests, one a second, on
 * an ICMP datagram socket, else (where ping_group_range does not allow
 * one) a raw socket, and matches each reply by identifier and sequence. */
#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <netinet/icmp6.h>
#include <netinet/ip.h>
#include <netinet/ip_icmp.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "common/util.h"
#include "shell/cmd.h"
#include "shell/intr.h"
#include "shell/out.h"

#define PING_MAX      100
#define PING_DEFAULT  4
#define PING_PAYLOAD  56
#define HOST_NAME_LEN 253

static double now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

static int name_ok(const char *cmd, const char *name)
{
	size_t n = strlen(name);
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)name[i] <= 0x20 || name[i] == 0x7f) {
			say_error(cmd, "not a host name or address");
			return -1;
		}
	if (n == 0 || n > HOST_NAME_LEN || name[0] == '-') {
		say_error(cmd, "not a host name or address");
		return -1;
	}
	return 0;
}

struct pinger {
	int fd, family;
	bool raw;
	uint16_t id;
	struct sockaddr_storage to;
	socklen_t tolen;
};

static int open_socket(struct pinger *p)
{
	int proto = p->family == AF_INET ? IPPROTO_ICMP : IPPROTO_ICMPV6;
	p->raw = false;
	p->fd = socket(p->family, SOCK_DGRAM | SOCK_CLOEXEC, proto);
	if (p->fd < 0) {
		p->raw = true;
		p->fd = socket(p->family, SOCK_RAW | SOCK_CLOEXEC, proto);
	}
	if (p->fd >= 0 && p->raw && p->family == AF_INET6) {
		struct icmp6_filter f;
		ICMP6_FILTER_SETBLOCKALL(&f);
		ICMP6_FILTER_SETPASS(ICMP6_ECHO_REPLY, &f);
		setsockopt(p->fd, IPPROTO_ICMPV6, ICMP6_FILTER, &f, sizeof(f));
	}
	return p->fd;
}

static int send_echo(struct pinger *p, uint16_t seq)
{
	uint8_t pkt[8 + PING_PAYLOAD];
	memset(pkt, 0, sizeof(pkt));
	pkt[0] = p->family == AF_INET ? ICMP_ECHO : ICMP6_ECHO_REQUEST;
	uint16_t id = htons(p->id), s = htons(seq);
	memcpy(pkt + 4, &id, 2);
	memcpy(pkt + 6, &s, 2);
	for (size_t i = 8; i < sizeof(pkt); i++)
		pkt[i] = (uint8_t)i;
	if (p->family == AF_INET) { /* ICMPv6's is the kernel's */
		uint16_t c = inet_checksum(pkt, sizeof(pkt));
		memcpy(pkt + 2, &c, 2);
	}
	return sendto(p->fd, pkt, sizeof(pkt), 0, (struct sockaddr *)&p->to, p->tolen) < 0 ? -1 : 0;
}

/* waits until deadline for the reply to seq: 1 got it, 0 none, -1 error */
static int wait_reply(struct pinger *p, uint16_t seq, double deadline, int *ttl)
{
	uint8_t buf[2048];
	for (;;) {
		double left = deadline - now_ms();
		if (left <= 0 || intr_pending())
			return 0;
		struct pollfd pfd = {.fd = p->fd, .events = POLLIN};
		int n = poll(&pfd, 1, (int)left + 1);
		if (n < 0 && errno == EINTR)
			return 0;
		if (n <= 0)
			continue;
		ssize_t len = recv(p->fd, buf, sizeof(buf), 0);
		if (len <= 0)
			continue;
		const uint8_t *icmp = buf;
		size_t ilen = (size_t)len;
		*ttl = -1;
		if (p->raw && p->family == AF_INET) { /* a raw IPv4 socket gives the IP header */
			size_t hl = (size_t)(buf[0] & 0x0f) * 4;
			if (hl < 20 || hl > ilen)
				continue;
			*ttl = buf[8];
			icmp += hl;
			ilen -= hl;
		}
		if (ilen < 8)
			continue;
		uint8_t want = p->family == AF_INET ? ICMP_ECHOREPLY : ICMP6_ECHO_REPLY;
		uint16_t id, s;
		memcpy(&id, icmp + 4, 2);
		memcpy(&s, icmp + 6, 2);
		/* a datagram socket's identifier is the kernel's: it matched it already */
		if (icmp[0] == want && ntohs(s) == seq && (!p->raw || ntohs(id) == p->id))
			return 1;
	}
}

static int resolve(const char *cmd, const char *host, struct pinger *p, char *shown, size_t n)
{
	struct addrinfo hints = {.ai_socktype = SOCK_DGRAM}, *res = NULL;
	int rc = getaddrinfo(host, NULL, &hints, &res);
	if (rc != 0 || !res) {
		say_error(cmd, "%s: %s", host, rc ? gai_strerror(rc) : "no address");
		return -1;
	}
	p->family = res->ai_family;
	p->tolen = res->ai_addrlen <= sizeof(p->to) ? res->ai_addrlen : sizeof(p->to);
	memcpy(&p->to, res->ai_addr, p->tolen);
	const void *a = p->family == AF_INET
			    ? (const void *)&((struct sockaddr_in *)&p->to)->sin_addr
			    : (const void *)&((struct sockaddr_in6 *)&p->to)->sin6_addr;
	if (!inet_ntop(p->family, a, shown, (socklen_t)n))
		snprintf(shown, n, "?");
	freeaddrinfo(res);
	return 0;
}

int cmd_ping(struct shell *sh, int argc, char **argv)
{
	(void)sh;
	long count = PING_DEFAULT;
	const char *host = NULL;
	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "-c") && i + 1 < argc) {
			if (cmd_number("ping", "-c", argv[++i], 1, PING_MAX, &count) < 0)
				return 1;
		} else if (argv[i][0] != '-' && !host) {
			host = argv[i];
		} else {
			say_error("ping", "usage: ping [-c N] HOST");
			return 1;
		}
	}
	if (!host) {
		say_error("ping", "usage: ping [-c N] HOST");
		return 1;
	}
	if (name_ok("ping", host) < 0)
		return 1;
	struct pinger p = {.id = (uint16_t)getpid()};
	char shown[INET6_ADDRSTRLEN];
	if (resolve("ping", host, &p, shown, sizeof(shown)) < 0)
		return 1;
	if (open_socket(&p) < 0) {
		say_error("ping", "cannot open an ICMP socket: %s", strerror(errno));
		return 1;
	}
	printf("PING %s (%s): %d data bytes\n", host, shown, PING_PAYLOAD);
	long sent = 0, got = 0;
	for (long i = 0; i < count && !intr_pending(); i++) {
		double start = now_ms();
		int ttl = -1;
		if (send_echo(&p, (uint16_t)(i + 1)) < 0) {
			printf("icmp_seq=%ld: %s\n", i + 1, strerror(errno));
		} else {
			sent++;
			int r = wait_reply(&p, (uint16_t)(i + 1), start + 1000, &ttl);
			if (r == 1) {
				got++;
				printf("%d bytes from %s: icmp_seq=%ld", 8 + PING_PAYLOAD, shown,
				       i + 1);
				if (ttl >= 0)
					printf(" ttl=%d", ttl);
				printf(" time=%.3f ms\n", now_ms() - start);
			} else if (!intr_pending()) {
				printf("icmp_seq=%ld: no reply\n", i + 1);
			}
		}
		fflush(stdout);
		double left = start + 1000 - now_ms();
		if (i + 1 < count && left > 0 && !intr_pending())
			usleep((useconds_t)(left * 1000));
	}
	close(p.fd);
	printf("--- %s: %ld sent, %ld received, %ld%% lost\n", host, sent, got,
	       sent ? (sent - got) * 100 / sent : 0);
	return got > 0 ? 0 : 1;
}

int cmd_lookup(struct shell *sh, int argc, char **argv)
{
	(void)sh;
	if (argc != 2) {
		say_error("lookup", "usage: lookup NAME");
		return 1;
	}
	if (name_ok("lookup", argv[1]) < 0)
		return 1;
	struct addrinfo hints = {.ai_socktype = SOCK_STREAM, .ai_flags = AI_CANONNAME}, *res = NULL;
	int rc = getaddrinfo(argv[1], NULL, &hints, &res);
	if (rc != 0) {
		say_error("lookup", "%s: %s", argv[1], gai_strerror(rc));
		return 1;
	}
	if (res && res->ai_canonname && strcmp(res->ai_canonname, argv[1]) != 0) {
		char canon[HOST_NAME_LEN + 1];
		str_copy(canon, sizeof(canon), res->ai_canonname);
		text_printable_name(canon);
		printf("%s is an alias of %s\n", argv[1], canon);
	}
	for (struct addrinfo *a = res; a; a = a->ai_next) {
		char text[INET6_ADDRSTRLEN];
		const void *addr =
		    a->ai_family == AF_INET
			? (const void *)&((struct sockaddr_in *)a->ai_addr)->sin_addr
			: (const void *)&((struct sockaddr_in6 *)a->ai_addr)->sin6_addr;
		if ((a->ai_family == AF_INET || a->ai_family == AF_INET6) &&
		    inet_ntop(a->ai_family, addr, text, sizeof(text)))
			printf("%s has address %s\n", argv[1], text);
	}
	freeaddrinfo(res);
	return 0;
}
