#include "init/net.h"

#include "common/log.h"
#include "common/resolvconf.h"
#include "common/util.h"

#include <arpa/inet.h>
#include <errno.h>
#include <net/if.h>
#include <net/route.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

static int ifreq_sock(struct ifreq *ifr, const char *ifname)
{
	memset(ifr, 0, sizeof(*ifr));
	if (str_copy(ifr->ifr_name, sizeof(ifr->ifr_name), ifname) < 0) {
		errno = EINVAL;
		return -1;
	}
	return socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
}

int net_link_up(const char *ifname)
{
	struct ifreq ifr;
	int s = ifreq_sock(&ifr, ifname);
	if (s < 0)
		return -1;
	int rc = ioctl(s, SIOCGIFFLAGS, &ifr);
	if (rc == 0) {
		ifr.ifr_flags |= IFF_UP;
		rc = ioctl(s, SIOCSIFFLAGS, &ifr);
	}
	int e = errno;
	close(s);
	errno = e;
	return rc;
}

static void set_sin(struct sockaddr *sa, in_addr_t a)
{
	struct sockaddr_in sin = {.sin_family = AF_INET, .sin_addr.s_addr = a};
	memcpy(sa, &sin, sizeof(sin));
}

int net_set_address(const char *ifname, struct in_addr addr, int prefix)
{
	struct ifreq ifr;
	int s = ifreq_sock(&ifr, ifname);
	if (s < 0)
		return -1;
	char a[INET_ADDRSTRLEN];
	inet_ntop(AF_INET, &addr, a, sizeof(a));
	int rc = 0;
	set_sin(&ifr.ifr_addr, addr.s_addr);
	if (ioctl(s, SIOCSIFADDR, &ifr) < 0) {
		log_errno("net: %s: cannot set address %s", ifname, a);
		rc = -1;
	} else if (addr.s_addr != INADDR_ANY) {
		set_sin(&ifr.ifr_netmask, prefix == 0 ? 0 : htonl(0xffffffffu << (32 - prefix)));
		if (ioctl(s, SIOCSIFNETMASK, &ifr) < 0) {
			log_errno("net: %s: cannot set netmask /%d", ifname, prefix);
			rc = -1;
		}
	}
	close(s);
	return rc;
}

int net_default_route(const char *ifname, struct in_addr gw, int add)
{
	struct ifreq ifr;
	int s = ifreq_sock(&ifr, ifname);
	if (s < 0)
		return -1;
	struct rtentry rt;
	memset(&rt, 0, sizeof(rt));
	set_sin(&rt.rt_dst, INADDR_ANY);
	set_sin(&rt.rt_genmask, INADDR_ANY);
	set_sin(&rt.rt_gateway, gw.s_addr);
	rt.rt_flags = RTF_UP | RTF_GATEWAY;
	rt.rt_dev = ifr.ifr_name;
	int rc = ioctl(s, add ? SIOCADDRT : SIOCDELRT, &rt);
	if (rc < 0 && errno != (add ? EEXIST : ESRCH)) {
		char a[INET_ADDRSTRLEN];
		inet_ntop(AF_INET, &gw, a, sizeof(a));
		log_errno("net: %s: cannot %s default route via %s", ifname, add ? "add" : "delete",
			  a);
	} else {
		rc = 0;
	}
	close(s);
	return rc;
}

int net_apply_static(const char *ifname, const struct hostconf *hc)
{
	struct in_addr addr, gw, dns[3];
	int ndns = 0;
	inet_pton(AF_INET, hc->address, &addr);
	if (net_set_address(ifname, addr, hc->prefix) < 0)
		return -1;
	if (hc->gateway[0] &&
	    (inet_pton(AF_INET, hc->gateway, &gw) != 1 || net_default_route(ifname, gw, 1) < 0))
		return -1;
	for (int i = 0; i < 3 && hc->dns[i][0]; i++)
		if (inet_pton(AF_INET, hc->dns[i], &dns[ndns]) == 1)
			ndns++;
	if (ndns && resolvconf_write(RESOLV_CONF_FILE, dns, ndns) < 0) {
		log_errno("net: cannot write " RESOLV_CONF_FILE);
		return -1;
	}
	log_msg("net: %s static %s/%d gw %s", ifname, hc->address, hc->prefix,
		hc->gateway[0] ? hc->gateway : "none");
	return 0;
}
