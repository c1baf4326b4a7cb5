/* ip link | addr | route | neigh: the kernel's view of the host's
 * network, read through rtnetlink (netdump.h). Read only. */
#include <arpa/inet.h>
#include <linux/if_link.h>
#include <linux/neighbour.h>
#include <linux/rtnetlink.h>
#include <net/if.h>
#include <stdio.h>
#include <string.h>

#include "common/util.h"
#include "shell/cmd.h"
#include "shell/netdump.h"
#include "shell/out.h"

#ifndef IFF_LOWER_UP /* <linux/if.h>'s, which clashes with <net/if.h> */
#define IFF_LOWER_UP 0x10000
#endif

static void ifname(unsigned index, char out[IF_NAMESIZE + 8])
{
	if (!if_indextoname(index, out))
		snprintf(out, IF_NAMESIZE + 8, "if%u", index);
	text_printable_name(out);
}

static void fmt_mac(const struct nlattr *a, char *out, size_t n)
{
	const unsigned char *m = mnl_attr_get_payload(a);
	size_t len = mnl_attr_get_payload_len(a), o = 0;
	out[0] = '\0';
	for (size_t i = 0; i < len && i < 32 && o + 4 < n; i++)
		o += (size_t)snprintf(out + o, n - o, "%s%02x", i ? ":" : "", m[i]);
}

/* an address attribute of `family` as text; "?" when its size is wrong */
static void fmt_addr(int family, const struct nlattr *a, char *out, size_t n)
{
	size_t want = family == AF_INET ? 4 : family == AF_INET6 ? 16 : 0;
	if (!a || !want || mnl_attr_get_payload_len(a) != want ||
	    !inet_ntop(family, mnl_attr_get_payload(a), out, (socklen_t)n))
		snprintf(out, n, "?");
}

static const enum mnl_attr_data_type link_types[IFLA_MAX + 1] = {
    [IFLA_IFNAME] = MNL_TYPE_NUL_STRING, [IFLA_MTU] = MNL_TYPE_U32,
    [IFLA_MASTER] = MNL_TYPE_U32,	 [IFLA_OPERSTATE] = MNL_TYPE_U8,
    [IFLA_LINKINFO] = MNL_TYPE_NESTED,	 [IFLA_LINK] = MNL_TYPE_U32,
};

static const char *operstate(const struct nlattr *a)
{
	static const char *const names[] = {"UNKNOWN", "NOTPRESENT", "DOWN", "LOWERLAYERDOWN",
					    "TESTING", "DORMANT",    "UP"};
	unsigned v = a ? mnl_attr_get_u8(a) : 0;
	return v < ARRAY_SIZE(names) ? names[v] : "?";
}

static int kind_cb(const struct nlattr *a, void *data)
{
	const char **kind = data;
	if (mnl_attr_get_type(a) == IFLA_INFO_KIND && mnl_attr_validate(a, MNL_TYPE_STRING) == 0)
		*kind = mnl_attr_get_str(a);
	return MNL_CB_OK;
}

static int link_cb(const struct nlmsghdr *nlh, void *ctx)
{
	(void)ctx;
	const struct nlattr *tb[IFLA_MAX + 1];
	if (netdump_attrs(nlh, sizeof(struct ifinfomsg), tb, IFLA_MAX, link_types) < 0 ||
	    !tb[IFLA_IFNAME])
		return MNL_CB_OK;
	const struct ifinfomsg *ifi = mnl_nlmsg_get_payload(nlh);
	char name[IF_NAMESIZE + 8], mac[100] = "", master[IF_NAMESIZE + 8] = "";
	char kind_text[32] = "";
	str_copy(name, sizeof(name), mnl_attr_get_str(tb[IFLA_IFNAME]));
	text_printable_name(name);
	if (tb[IFLA_ADDRESS])
		fmt_mac(tb[IFLA_ADDRESS], mac, sizeof(mac));
	if (tb[IFLA_MASTER])
		ifname(mnl_attr_get_u32(tb[IFLA_MASTER]), master);
	if (tb[IFLA_LINKINFO]) {
		const char *kind = NULL;
		mnl_attr_parse_nested(tb[IFLA_LINKINFO], kind_cb, &kind);
		if (kind) {
			str_copy(kind_text, sizeof(kind_text), kind);
			text_printable_name(kind_text);
		}
	}
	printf("%d: %s: <%s%s%s> mtu %u state %s", ifi->ifi_index, name,
	       ifi->ifi_flags & IFF_UP ? "UP" : "DOWN",
	       ifi->ifi_flags & IFF_LOWER_UP ? ",LOWER_UP" : "",
	       ifi->ifi_flags & IFF_LOOPBACK ? ",LOOPBACK" : "",
	       tb[IFLA_MTU] ? mnl_attr_get_u32(tb[IFLA_MTU]) : 0, operstate(tb[IFLA_OPERSTATE]));
	if (master[0])
		printf(" master %s", master);
	if (kind_text[0])
		printf(" type %s", kind_text);
	printf("\n    link %s\n", mac[0] ? mac : "none");
	return MNL_CB_OK;
}

static const enum mnl_attr_data_type addr_types[IFA_MAX + 1] = {
    [IFA_LABEL] = MNL_TYPE_NUL_STRING,
};

static const char *scope_name(unsigned char scope)
{
	return scope == RT_SCOPE_UNIVERSE ? "global"
	       : scope == RT_SCOPE_LINK	  ? "link"
	       : scope == RT_SCOPE_HOST	  ? "host"
					  : "site";
}

static int addr_cb(const struct nlmsghdr *nlh, void *ctx)
{
	(void)ctx;
	const struct nlattr *tb[IFA_MAX + 1];
	if (netdump_attrs(nlh, sizeof(struct ifaddrmsg), tb, IFA_MAX, addr_types) < 0)
		return MNL_CB_OK;
	const struct ifaddrmsg *ifa = mnl_nlmsg_get_payload(nlh);
	char dev[IF_NAMESIZE + 8], addr[INET6_ADDRSTRLEN];
	ifname(ifa->ifa_index, dev);
	fmt_addr(ifa->ifa_family, tb[IFA_LOCAL] ? tb[IFA_LOCAL] : tb[IFA_ADDRESS], addr,
		 sizeof(addr));
	printf("%-12s %-5s %s/%u scope %s\n", dev, ifa->ifa_family == AF_INET ? "inet" : "inet6",
	       addr, ifa->ifa_prefixlen, scope_name(ifa->ifa_scope));
	return MNL_CB_OK;
}

static const enum mnl_attr_data_type route_types[RTA_MAX + 1] = {
    [RTA_OIF] = MNL_TYPE_U32,
    [RTA_TABLE] = MNL_TYPE_U32,
    [RTA_PRIORITY] = MNL_TYPE_U32,
};

static int route_cb(const struct nlmsghdr *nlh, void *ctx)
{
	(void)ctx;
	const struct nlattr *tb[RTA_MAX + 1];
	if (netdump_attrs(nlh, sizeof(struct rtmsg), tb, RTA_MAX, route_types) < 0)
		return MNL_CB_OK;
	const struct rtmsg *rt = mnl_nlmsg_get_payload(nlh);
	unsigned table = tb[RTA_TABLE] ? mnl_attr_get_u32(tb[RTA_TABLE]) : rt->rtm_table;
	if (table == RT_TABLE_LOCAL || rt->rtm_type != RTN_UNICAST)
		return MNL_CB_OK;
	char dst[INET6_ADDRSTRLEN + 8] = "default", via[INET6_ADDRSTRLEN], dev[IF_NAMESIZE + 8];
	if (tb[RTA_DST]) {
		char a[INET6_ADDRSTRLEN];
		fmt_addr(rt->rtm_family, tb[RTA_DST], a, sizeof(a));
		snprintf(dst, sizeof(dst), "%s/%u", a, rt->rtm_dst_len);
	}
	printf("%-5s %s", rt->rtm_family == AF_INET ? "inet" : "inet6", dst);
	if (tb[RTA_GATEWAY]) {
		fmt_addr(rt->rtm_family, tb[RTA_GATEWAY], via, sizeof(via));
		printf(" via %s", via);
	}
	if (tb[RTA_OIF]) {
		ifname(mnl_attr_get_u32(tb[RTA_OIF]), dev);
		printf(" dev %s", dev);
	}
	if (tb[RTA_PRIORITY])
		printf(" metric %u", mnl_attr_get_u32(tb[RTA_PRIORITY]));
	if (table != RT_TABLE_MAIN)
		printf(" table %u", table);
	putchar('\n');
	return MNL_CB_OK;
}

static const char *neigh_state(uint16_t s)
{
	return s & NUD_PERMANENT    ? "PERMANENT"
	       : s & NUD_REACHABLE  ? "REACHABLE"
	       : s & NUD_STALE	    ? "STALE"
	       : s & NUD_DELAY	    ? "DELAY"
	       : s & NUD_PROBE	    ? "PROBE"
	       : s & NUD_FAILED	    ? "FAILED"
	       : s & NUD_INCOMPLETE ? "INCOMPLETE"
	       : s & NUD_NOARP	    ? "NOARP"
				    : "NONE";
}

static int neigh_cb(const struct nlmsghdr *nlh, void *ctx)
{
	(void)ctx;
	const struct nlattr *tb[NDA_MAX + 1];
	if (netdump_attrs(nlh, sizeof(struct ndmsg), tb, NDA_MAX, NULL) < 0)
		return MNL_CB_OK;
	const struct ndmsg *nd = mnl_nlmsg_get_payload(nlh);
	if (nd->ndm_family != AF_INET && nd->ndm_family != AF_INET6)
		return MNL_CB_OK;
	char addr[INET6_ADDRSTRLEN], dev[IF_NAMESIZE + 8], mac[100] = "";
	fmt_addr(nd->ndm_family, tb[NDA_DST], addr, sizeof(addr));
	ifname((unsigned)nd->ndm_ifindex, dev);
	if (tb[NDA_LLADDR])
		fmt_mac(tb[NDA_LLADDR], mac, sizeof(mac));
	printf("%-40s dev %-12s lladdr %-17s %s\n", addr, dev, mac[0] ? mac : "-",
	       neigh_state(nd->ndm_state));
	return MNL_CB_OK;
}

int cmd_ip(struct shell *sh, int argc, char **argv)
{
	(void)sh;
	static const struct {
		const char *name;
		uint16_t type;
		mnl_cb_t cb;
	} views[] = {
	    {"link", RTM_GETLINK, link_cb},
	    {"addr", RTM_GETADDR, addr_cb},
	    {"route", RTM_GETROUTE, route_cb},
	    {"neigh", RTM_GETNEIGH, neigh_cb},
	};
	char err[256];
	if (argc != 2) {
		say_error("ip", "usage: ip link|addr|route|neigh");
		return 1;
	}
	for (size_t i = 0; i < ARRAY_SIZE(views); i++) {
		if (strcmp(argv[1], views[i].name) != 0)
			continue;
		if (netdump(views[i].type, AF_UNSPEC, 0, views[i].cb, NULL, err, sizeof(err)) < 0) {
			say_error("ip", "%s", err);
			return 1;
		}
		return 0;
	}
	say_error("ip", "usage: ip link|addr|route|neigh");
	return 1;
}
