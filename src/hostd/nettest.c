#include "hostd/nettest.h"

#include "common/resolvconf.h"
#include "common/util.h"
#include "hostd/mgmt.h"

#include <arpa/inet.h>
#include <netdb.h>
#include <netinet/ip.h>
#include <netinet/ip_icmp.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

static double now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1000.0 + (double)ts.tv_nsec / 1e6;
}

/* The round trip of the first of NETTEST_PINGS echoes answered, in ms, or
 * -1. The answer must come from `to` and carry our identifier and
 * sequence: anything else on the raw socket is ignored. */
static double ping(struct in_addr to)
{
	int fd = socket(AF_INET, SOCK_RAW | SOCK_CLOEXEC, IPPROTO_ICMP);
	if (fd < 0)
		return -1;
	struct sockaddr_in sa = {.sin_family = AF_INET, .sin_addr = to};
	uint16_t id = (uint16_t)(getpid() ^ (uintptr_t)&sa);
	double rtt = -1;
	for (uint16_t seq = 1; seq <= NETTEST_PINGS && rtt < 0; seq++) {
		struct icmphdr echo = {.type = ICMP_ECHO};
		echo.un.echo.id = htons(id);
		echo.un.echo.sequence = htons(seq);
		echo.checksum = inet_checksum(&echo, sizeof(echo));
		double sent = now_ms();
		if (sendto(fd, &echo, sizeof(echo), 0, (struct sockaddr *)&sa, sizeof(sa)) < 0)
			break;
		for (double left = 1000; left > 0 && rtt < 0; left = 1000 - (now_ms() - sent)) {
			struct pollfd p = {.fd = fd, .events = POLLIN};
			if (poll(&p, 1, (int)left + 1) <= 0)
				break;
			uint8_t buf[1500];
			struct sockaddr_in from;
			socklen_t fl = sizeof(from);
			ssize_t n =
			    recvfrom(fd, buf, sizeof(buf), 0, (struct sockaddr *)&from, &fl);
			if (n < (ssize_t)sizeof(struct iphdr))
				continue;
			size_t ihl = (size_t)(buf[0] & 0x0f) * 4;
			if (ihl < sizeof(struct iphdr) || (size_t)n < ihl ||
			    (size_t)n - ihl < sizeof(struct icmphdr) ||
			    from.sin_addr.s_addr != to.s_addr)
				continue;
			struct icmphdr reply;
			memcpy(&reply, buf + ihl, sizeof(reply));
			if (reply.type == ICMP_ECHOREPLY && ntohs(reply.un.echo.id) == id &&
			    ntohs(reply.un.echo.sequence) == seq)
				rtt = now_ms() - sent;
		}
	}
	close(fd);
	return rtt;
}

static json_t *ping_json(const char *address, int *all_ok)
{
	struct in_addr a;
	double rtt = inet_pton(AF_INET, address, &a) == 1 ? ping(a) : -1;
	*all_ok &= rtt >= 0;
	return json_pack("{s:s,s:b,s:o}", "address", address, "ok", rtt >= 0, "ms",
			 rtt >= 0 ? json_real((double)(long)(rtt * 10) / 10) : json_null());
}

json_t *nettest_run(void)
{
	int ok = 1;
	json_t *mgmt = mgmt_describe();
	const char *gw =
	    json_string_value(json_object_get(json_object_get(mgmt, "current"), "gateway"));
	json_t *gateway = gw ? ping_json(gw, &ok) : json_null();
	json_decref(mgmt);

	json_t *dns = json_array();
	char *conf = read_file(RESOLV_CONF_FILE, 65536, NULL);
	char *save = NULL;
	for (char *line = conf ? strtok_r(conf, "\n", &save) : NULL;
	     line && json_array_size(dns) < NETTEST_DNS_MAX; line = strtok_r(NULL, "\n", &save)) {
		char server[INET_ADDRSTRLEN];
		if (sscanf(line, "nameserver %15s", server) == 1)
			json_array_append_new(dns, ping_json(server, &ok));
	}
	free(conf);

	char name[256] = "";
	gethostname(name, sizeof(name) - 1);
	json_t *addrs = json_array();
	struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM}, *res = NULL;
	if (getaddrinfo(name, NULL, &hints, &res) == 0)
		for (struct addrinfo *i = res; i && json_array_size(addrs) < 8; i = i->ai_next) {
			char a[INET6_ADDRSTRLEN];
			if (getnameinfo(i->ai_addr, i->ai_addrlen, a, sizeof(a), NULL, 0,
					NI_NUMERICHOST) == 0)
				json_array_append_new(addrs, json_string(a));
		}
	if (res)
		freeaddrinfo(res);
	int resolved = json_array_size(addrs) > 0;
	ok &= resolved && gw;
	return json_pack("{s:o,s:o,s:{s:s,s:b,s:o},s:b}", "gateway", gateway, "dns", dns,
			 "hostname", "name", name, "ok", resolved, "addresses", addrs, "ok", ok);
}
