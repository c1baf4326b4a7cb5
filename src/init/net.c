#include "init/net.h"

#include "common/log.h"
#include "common/util.h"

#include <arpa/inet.h>
#include <dirent.h>
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

int net_find_mgmt(char *ifname, size_t n)
{
	struct dirent **list;
	int cnt = scandir("/sys/class/net", &list, NULL, alphasort);
	if (cnt < 0)
		return -1;
	int found = -1;
	for (int i = 0; i < cnt; i++) {
		char path[300];
		snprintf(path, sizeof(path), "/sys/class/net/%s/type", list[i]->d_name);
		char *type = read_file(path, 64, NULL);
		snprintf(path, sizeof(path), "/sys/class/net/%s/device", list[i]->d_name);
		int physical = access(path, F_OK) == 0;
		if (found < 0 && type && atoi(type) == 1 && physical &&
		    str_copy(ifname, n, list[i]->d_name) == 0)
			found = 0;
		free(type);
	}
	for (int i = 0; i < cnt; i++)
		free(list[i]);
	free(list);
	return found;
}

static void set_sin(struct sockaddr *sa, in_addr_t a)
{
	struct sockaddr_in sin = {.sin_family = AF_INET, .sin_addr.s_addr = a};
	memcpy(sa, &sin, sizeof(sin));
}

int net_apply_static(const char *ifname, const struct hostconf *hc)
{
	struct ifreq ifr;
	int s = ifreq_sock(&ifr, ifname);
	if (s < 0)
		return -1;
	in_addr_t addr = inet_addr(hc->address);
	in_addr_t mask = hc->prefix == 0 ? 0 : htonl(0xffffffffu << (32 - hc->prefix));
	int rc = 0;
	set_sin(&ifr.ifr_addr, addr);
	if (ioctl(s, SIOCSIFADDR, &ifr) < 0) {
		log_errno("net: %s: cannot set address %s", ifname, hc->address);
		rc = -1;
	}
	set_sin(&ifr.ifr_netmask, mask);
	if (rc == 0 && ioctl(s, SIOCSIFNETMASK, &ifr) < 0) {
		log_errno("net: %s: cannot set netmask /%d", ifname, hc->prefix);
		rc = -1;
	}
	if (rc == 0 && hc->gateway[0]) {
		struct rtentry rt;
		memset(&rt, 0, sizeof(rt));
		set_sin(&rt.rt_dst, INADDR_ANY);
		set_sin(&rt.rt_genmask, INADDR_ANY);
		set_sin(&rt.rt_gateway, inet_addr(hc->gateway));
		rt.rt_flags = RTF_UP | RTF_GATEWAY;
		rt.rt_dev = (char *)ifname;
		if (ioctl(s, SIOCADDRT, &rt) < 0 && errno != EEXIST) {
			log_errno("net: cannot add default route via %s", hc->gateway);
			rc = -1;
		}
	}
	close(s);
	char resolv[128] = "";
	size_t used = 0;
	for (int i = 0; i < 3 && hc->dns[i][0]; i++)
		used += (size_t)snprintf(resolv + used, sizeof(resolv) - used, "nameserver %s\n",
					 hc->dns[i]);
	if (used && write_file("/etc/resolv.conf", resolv, used, 0644) < 0)
		log_errno("net: cannot write /etc/resolv.conf");
	if (rc == 0)
		log_msg("net: %s static %s/%d gw %s", ifname, hc->address, hc->prefix,
			hc->gateway[0] ? hc->gateway : "none");
	return rc;
}
