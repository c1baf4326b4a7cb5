#include "common/netlink.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <net/if.h> /* before <linux/if.h>, which then leaves out what libc has */
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>

#include <libmnl/libmnl.h>
#include <linux/if.h>
#include <linux/if_bridge.h>
#include <linux/if_link.h>
#include <linux/if_tun.h>
#include <linux/inet_diag.h>
#include <linux/neighbour.h>
#include <linux/rtnetlink.h>
#include <linux/sock_diag.h>

#include "common/util.h"

#define RECV_SIZE   65536 /* a port in all 4094 VLANs is one ~33 KiB dump message */
#define REQ_SIZE    512	  /* every request but nl_port_vlans' */
#define BITMAP_SIZE ((NL_VLAN_MAX + 1 + 7) / 8)
#define SYSFS_NET   "/sys/class/net/"

/* --- messages ------------------------------------------------------------ */

/* Formats err (if any) and returns r, a negative errno. */
__attribute__((format(printf, 4, 5))) static int fail(int r, char *err, size_t errlen,
						      const char *fmt, ...)
{
	if (err && errlen) {
		va_list ap;
		va_start(ap, fmt);
		vsnprintf(err, errlen, fmt, ap);
		va_end(ap);
	}
	return r;
}

/* The kernel's own rules (dev_valid_name), checked here so that a bad name
 * gets a clear message and can never walk out of a sysfs path. */
static int check_name(const char *name, char *err, size_t errlen)
{
	if (!name || !*name)
		return fail(-EINVAL, err, errlen, "missing interface name");
	if (strnlen(name, IFNAMSIZ) >= IFNAMSIZ)
		return fail(-EINVAL, err, errlen,
			    "interface name \"%.*s...\": longer than %d bytes", IFNAMSIZ - 1, name,
			    IFNAMSIZ - 1);
	if (!strcmp(name, ".") || !strcmp(name, "..") || strpbrk(name, "/: \t\n\v\f\r"))
		return fail(-EINVAL, err, errlen, "interface name \"%s\": not allowed", name);
	return 0;
}

/* --- talking to the kernel ----------------------------------------------- */

/* NLMSG_ERROR: the ACK (error 0) or the failure. */
static int error_cb(const struct nlmsghdr *nlh, void *arg)
{
	(void)arg;
	const struct nlmsgerr *e = mnl_nlmsg_get_payload(nlh);
	if (mnl_nlmsg_get_payload_len(nlh) < sizeof(*e)) {
		errno = EBADMSG;
		return MNL_CB_ERROR;
	}
	if (e->error == 0)
		return MNL_CB_STOP;
	errno = e->error < 0 ? -e->error : e->error;
	return MNL_CB_ERROR;
}

/* NLMSG_DONE ends a dump; one that failed part-way carries the error. */
static int done_cb(const struct nlmsghdr *nlh, void *arg)
{
	(void)arg;
	int e = 0;
	if (mnl_nlmsg_get_payload_len(nlh) >= sizeof(e))
		memcpy(&e, mnl_nlmsg_get_payload(nlh), sizeof(e));
	if (e >= 0)
		return MNL_CB_STOP;
	errno = -e;
	return MNL_CB_ERROR;
}

/* Sends one request on a socket of its own and reads the replies until
 * the ACK or the end of the dump. Returns 0 or a negative errno. */
static int talk(int proto, struct nlmsghdr *nlh, mnl_cb_t cb, void *data)
{
	mnl_cb_t ctl[NLMSG_DONE + 1] = {[NLMSG_ERROR] = error_cb, [NLMSG_DONE] = done_cb};
	int one = 1, r = MNL_CB_ERROR;
	char *buf = malloc(RECV_SIZE);
	struct mnl_socket *nl = buf ? mnl_socket_open2(proto, SOCK_CLOEXEC) : NULL;
	if (!nl)
		goto out;
	/* An error need not echo a large request back (ignored where unknown). */
	mnl_socket_setsockopt(nl, NETLINK_CAP_ACK, &one, sizeof(one));
	if (mnl_socket_bind(nl, 0, MNL_SOCKET_AUTOPID) < 0)
		goto out;
	unsigned seq = (unsigned)time(NULL), portid = mnl_socket_get_portid(nl);
	nlh->nlmsg_seq = seq;
	if (mnl_socket_sendto(nl, nlh, nlh->nlmsg_len) < 0)
		goto out;
	do {
		ssize_t len = mnl_socket_recvfrom(nl, buf, RECV_SIZE);
		if (len < 0)
			break;
		r = mnl_cb_run2(buf, (size_t)len, seq, portid, cb, data, ctl, ARRAY_SIZE(ctl));
	} while (r > MNL_CB_STOP);
out:;
	int e = errno > 0 ? errno : EIO;
	if (nl)
		mnl_socket_close(nl);
	free(buf);
	return r == MNL_CB_STOP ? 0 : -e;
}

/* talk(), and on failure err = "<fmt>: <strerror>". */
__attribute__((format(printf, 7, 8))) static int request(int proto, struct nlmsghdr *nlh,
							 mnl_cb_t cb, void *data, char *err,
							 size_t errlen, const char *fmt, ...)
{
	int r = talk(proto, nlh, cb, data);
	if (r < 0 && err && errlen) {
		va_list ap;
		va_start(ap, fmt);
		int n = vsnprintf(err, errlen, fmt, ap);
		va_end(ap);
		size_t used = n < 0 ? 0 : (size_t)n >= errlen ? errlen - 1 : (size_t)n;
		snprintf(err + used, errlen - used, ": %s", strerror(-r));
	}
	return r;
}

static struct nlmsghdr *msg_start(void *buf, uint16_t type, uint16_t flags)
{
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);
	nlh->nlmsg_type = type;
	nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK | flags;
	return nlh;
}

/* An RTM_*LINK request for `family`, about the link called `name` (if not
 * NULL; found by name, so no ifindex lookup can race a rename). */
static struct nlmsghdr *link_msg(void *buf, uint16_t type, uint16_t flags, uint8_t family,
				 const char *name)
{
	struct nlmsghdr *nlh = msg_start(buf, type, flags);
	struct ifinfomsg *ifi = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifi));
	ifi->ifi_family = family;
	if (name)
		mnl_attr_put_strz(nlh, IFLA_IFNAME, name);
	return nlh;
}

/* --- parsing replies ------------------------------------------------------ */

/* The attributes of interest and the libmnl type each must validate as
 * (MNL_TYPE_UNSPEC: not of interest). One that fails validation is left
 * out, as if the kernel had not sent it. */
struct attrs {
	const enum mnl_attr_data_type *types;
	unsigned max;
	const struct nlattr **tb;
};

static int attr_cb(const struct nlattr *a, void *arg)
{
	const struct attrs *p = arg;
	uint16_t type = mnl_attr_get_type(a);
	if (type <= p->max && p->types[type] != MNL_TYPE_UNSPEC &&
	    mnl_attr_validate(a, p->types[type]) == 0)
		p->tb[type] = a;
	return MNL_CB_OK;
}

static void parse_payload(const void *p, size_t len, const enum mnl_attr_data_type *types,
			  unsigned max, const struct nlattr **tb)
{
	struct attrs a = {types, max, tb};
	memset(tb, 0, (max + 1) * sizeof(*tb));
	mnl_attr_parse_payload(p, len, attr_cb, &a);
}

/* Parses the attributes after a `hdr`-byte fixed header; false if the
 * message is too short to hold that header. */
static bool parse_msg(const struct nlmsghdr *nlh, size_t hdr, const enum mnl_attr_data_type *types,
		      unsigned max, const struct nlattr **tb)
{
	size_t len = mnl_nlmsg_get_payload_len(nlh);
	if (len < MNL_ALIGN(hdr))
		return false;
	parse_payload(mnl_nlmsg_get_payload_offset(nlh, hdr), len - MNL_ALIGN(hdr), types, max, tb);
	return true;
}

/* A growing array of `size`-byte items for the dumps. */
struct vec {
	void *v;
	size_t n, cap, size;
};

/* A new zeroed item, or NULL with errno ENOMEM. */
static void *vec_add(struct vec *v)
{
	if (v->n == v->cap) {
		size_t cap = v->cap ? v->cap * 2 : 16;
		void *nv = reallocarray(v->v, cap, v->size);
		if (!nv) {
			errno = ENOMEM;
			return NULL;
		}
		v->v = nv;
		v->cap = cap;
	}
	void *item = (char *)v->v + v->n++ * v->size;
	memset(item, 0, v->size);
	return item;
}

/* The items for the caller (malloc'ed), or NULL when r says the dump
 * failed (they are freed). */
static void *vec_take(struct vec *v, int r, size_t *n)
{
	if (r < 0) {
		free(v->v);
		*v = (struct vec){0};
	}
	*n = v->n;
	return v->v;
}

/* --- links ---------------------------------------------------------------- */

static const enum mnl_attr_data_type link_types[IFLA_MAX + 1] = {
    [IFLA_IFNAME] = MNL_TYPE_NUL_STRING, [IFLA_MTU] = MNL_TYPE_U32,
    [IFLA_MASTER] = MNL_TYPE_U32,	 [IFLA_ADDRESS] = MNL_TYPE_BINARY,
    [IFLA_LINKINFO] = MNL_TYPE_NESTED,	 [IFLA_AF_SPEC] = MNL_TYPE_NESTED,
};
static const enum mnl_attr_data_type info_types[IFLA_INFO_MAX + 1] = {
    [IFLA_INFO_KIND] = MNL_TYPE_NUL_STRING,
};

static int link_cb(const struct nlmsghdr *nlh, void *arg)
{
	const struct nlattr *tb[IFLA_MAX + 1], *info[IFLA_INFO_MAX + 1];
	const struct ifinfomsg *ifi = mnl_nlmsg_get_payload(nlh);
	char master[IF_NAMESIZE];
	if (nlh->nlmsg_type != RTM_NEWLINK ||
	    !parse_msg(nlh, sizeof(*ifi), link_types, IFLA_MAX, tb) || !tb[IFLA_IFNAME])
		return MNL_CB_OK;
	struct nl_link *l = vec_add(arg);
	if (!l)
		return MNL_CB_ERROR;
	str_copy(l->name, sizeof(l->name), mnl_attr_get_str(tb[IFLA_IFNAME]));
	l->ifindex = ifi->ifi_index;
	l->up = ifi->ifi_flags & IFF_UP;
	l->carrier = ifi->ifi_flags & IFF_LOWER_UP;
	if (tb[IFLA_MTU])
		l->mtu = mnl_attr_get_u32(tb[IFLA_MTU]);
	if (tb[IFLA_MASTER] && if_indextoname(mnl_attr_get_u32(tb[IFLA_MASTER]), master))
		str_copy(l->master, sizeof(l->master), master);
	if (tb[IFLA_ADDRESS] && mnl_attr_get_payload_len(tb[IFLA_ADDRESS]) == sizeof(l->mac))
		memcpy(l->mac, mnl_attr_get_payload(tb[IFLA_ADDRESS]), sizeof(l->mac));
	if (tb[IFLA_LINKINFO]) {
		parse_payload(mnl_attr_get_payload(tb[IFLA_LINKINFO]),
			      mnl_attr_get_payload_len(tb[IFLA_LINKINFO]), info_types,
			      IFLA_INFO_MAX, info);
		if (info[IFLA_INFO_KIND])
			str_copy(l->kind, sizeof(l->kind), mnl_attr_get_str(info[IFLA_INFO_KIND]));
	}
	return MNL_CB_OK;
}

/* Links into `links`: one by name, or (name NULL) all of them. The statistics
 * are left out: they are most of a link message and nobody here reads them. */
static int links_read(const char *name, struct vec *links, char *err, size_t errlen)
{
	char buf[REQ_SIZE];
	struct nlmsghdr *nlh = link_msg(buf, RTM_GETLINK, name ? 0 : NLM_F_DUMP, AF_UNSPEC, name);
	mnl_attr_put_u32(nlh, IFLA_EXT_MASK, RTEXT_FILTER_SKIP_STATS);
	links->size = sizeof(struct nl_link);
	return request(NETLINK_ROUTE, nlh, link_cb, links, err, errlen, "%s: read link",
		       name ? name : "all links");
}

/* 1 if link `name` exists and is of `kind`, 0 if there is none, -EEXIST
 * if a link of another kind has the name. Checked before creating, as the
 * kernel's answers to that case are unclear. */
static int check_kind(const char *label, const char *name, const char *kind, char *err,
		      size_t errlen)
{
	struct vec links = {0};
	int r = links_read(name, &links, err, errlen);
	const struct nl_link *l = links.v;
	if (r == -ENODEV)
		r = 0;
	else if (r == 0 && links.n != 1)
		r = fail(-EPROTO, err, errlen, "%s: read link: no answer", label);
	else if (r == 0 && strcmp(l->kind, kind) != 0)
		r = fail(-EEXIST, err, errlen, "%s: a link of kind \"%s\" has that name", label,
			 l->kind);
	else if (r == 0)
		r = 1;
	free(links.v);
	return r;
}

static int by_ifindex(const void *a, const void *b)
{
	const struct nl_link *x = a, *y = b;
	return (x->ifindex > y->ifindex) - (x->ifindex < y->ifindex);
}

int nl_links(struct nl_link **out, size_t *n, char *err, size_t errlen)
{
	struct vec v = {0};
	int r = links_read(NULL, &v, err, errlen);
	if (r == 0)
		qsort(v.v, v.n, v.size, by_ifindex);
	*out = vec_take(&v, r, n);
	return r;
}

static int set_mtu(const char *label, const char *name, unsigned mtu, char *err, size_t errlen)
{
	char buf[REQ_SIZE];
	struct nlmsghdr *nlh = link_msg(buf, RTM_SETLINK, 0, AF_UNSPEC, name);
	mnl_attr_put_u32(nlh, IFLA_MTU, mtu);
	return request(NETLINK_ROUTE, nlh, NULL, NULL, err, errlen, "%s: set MTU %u", label, mtu);
}

static int set_up(const char *label, const char *name, bool up, char *err, size_t errlen)
{
	char buf[REQ_SIZE];
	struct nlmsghdr *nlh = link_msg(buf, RTM_SETLINK, 0, AF_UNSPEC, name);
	struct ifinfomsg *ifi = mnl_nlmsg_get_payload(nlh);
	ifi->ifi_change = IFF_UP;
	ifi->ifi_flags = up ? IFF_UP : 0;
	return request(NETLINK_ROUTE, nlh, NULL, NULL, err, errlen, "%s: set %s", label,
		       up ? "up" : "down");
}

int nl_link_set_mtu(const char *name, unsigned mtu, char *err, size_t errlen)
{
	int r = check_name(name, err, errlen);
	return r < 0 ? r : set_mtu(name, name, mtu, err, errlen);
}

int nl_link_set_up(const char *name, bool up, char *err, size_t errlen)
{
	int r = check_name(name, err, errlen);
	return r < 0 ? r : set_up(name, name, up, err, errlen);
}

int nl_link_del(const char *name, char *err, size_t errlen)
{
	int r = check_name(name, err, errlen);
	if (r < 0)
		return r;
	char buf[REQ_SIZE];
	struct nlmsghdr *nlh = link_msg(buf, RTM_DELLINK, 0, AF_UNSPEC, name);
	return request(NETLINK_ROUTE, nlh, NULL, NULL, err, errlen, "%s: delete", name);
}

int nl_link_set_master(const char *name, const char *master, char *err, size_t errlen)
{
	int r = check_name(name, err, errlen);
	if (r < 0 || (master && (r = check_name(master, err, errlen)) < 0))
		return r;
	unsigned idx = master ? if_nametoindex(master) : 0;
	if (master && !idx)
		return fail(-ENODEV, err, errlen, "%s: join bridge %s: no such bridge", name,
			    master);
	char buf[REQ_SIZE];
	struct nlmsghdr *nlh = link_msg(buf, RTM_SETLINK, 0, AF_UNSPEC, name);
	mnl_attr_put_u32(nlh, IFLA_MASTER, idx);
	return request(NETLINK_ROUTE, nlh, NULL, NULL, err, errlen, "%s: %s%s", name,
		       master ? "join bridge " : "leave its bridge", master ? master : "");
}

int nl_bridge_add(const char *name, unsigned mtu, char *err, size_t errlen)
{
	char label[32], buf[REQ_SIZE];
	int r = check_name(name, err, errlen);
	if (r < 0)
		return r;
	snprintf(label, sizeof(label), "bridge %s", name);
	if ((r = check_kind(label, name, "bridge", err, errlen)) < 0)
		return r;
	bool exists = r;
	struct nlmsghdr *nlh = link_msg(buf, RTM_NEWLINK, NLM_F_CREATE, AF_UNSPEC, name);
	struct nlattr *info = mnl_attr_nest_start(nlh, IFLA_LINKINFO);
	mnl_attr_put_strz(nlh, IFLA_INFO_KIND, "bridge");
	struct nlattr *data = mnl_attr_nest_start(nlh, IFLA_INFO_DATA);
	mnl_attr_put_u8(nlh, IFLA_BR_VLAN_FILTERING, 1);
	mnl_attr_put_u16(nlh, IFLA_BR_VLAN_DEFAULT_PVID, 0);
	mnl_attr_put_u32(nlh, IFLA_BR_STP_STATE, 0);
	mnl_attr_put_u32(nlh, IFLA_BR_FORWARD_DELAY, 0);
	mnl_attr_nest_end(nlh, data);
	mnl_attr_nest_end(nlh, info);
	r = request(NETLINK_ROUTE, nlh, NULL, NULL, err, errlen, "%s: %s", label,
		    exists ? "set options" : "create");
	/* The kind was checked above, so this is the VLAN options. */
	if (r == -EOPNOTSUPP && err && errlen) {
		size_t used = strlen(err);
		snprintf(err + used, errlen - used,
			 "; the kernel lacks VLAN filtering (CONFIG_BRIDGE_VLAN_FILTERING)");
	}
	if (r == 0)
		r = set_mtu(label, name, mtu, err, errlen);
	return r < 0 ? r : set_up(label, name, true, err, errlen);
}

/* Makes the TAP persistent. EBUSY: a VM has it open, so it exists. */
static int tap_persist(const char *label, const char *name, char *err, size_t errlen)
{
	int fd = open("/dev/net/tun", O_RDWR | O_CLOEXEC);
	if (fd < 0)
		return fail(-errno, err, errlen, "%s: open /dev/net/tun: %s", label,
			    strerror(errno));
	struct ifreq ifr = {.ifr_flags = IFF_TAP | IFF_NO_PI};
	memcpy(ifr.ifr_name, name, strlen(name) + 1);
	int r = 0;
	if (ioctl(fd, TUNSETIFF, &ifr) < 0) {
		if (errno != EBUSY)
			r = fail(-errno, err, errlen, "%s: TUNSETIFF: %s", label, strerror(errno));
	} else if (ioctl(fd, TUNSETPERSIST, 1) < 0) {
		r = fail(-errno, err, errlen, "%s: TUNSETPERSIST: %s", label, strerror(errno));
	}
	close(fd);
	return r;
}

int nl_tap_create(const char *name, unsigned mtu, char *err, size_t errlen)
{
	char label[32];
	int r = check_name(name, err, errlen);
	if (r < 0)
		return r;
	snprintf(label, sizeof(label), "tap %s", name);
	if ((r = check_kind(label, name, "tun", err, errlen)) < 0 ||
	    (r = tap_persist(label, name, err, errlen)) < 0)
		return r;
	return set_mtu(label, name, mtu, err, errlen);
}

int nl_vlan_add(const char *name, const char *parent, unsigned vid, char *err, size_t errlen)
{
	char label[32], buf[REQ_SIZE];
	int r = check_name(name, err, errlen);
	if (r < 0 || (r = check_name(parent, err, errlen)) < 0)
		return r;
	snprintf(label, sizeof(label), "vlan %s", name);
	if (vid < 1 || vid > NL_VLAN_MAX)
		return fail(-EINVAL, err, errlen, "%s: VLAN ID %u is not 1..%d", label, vid,
			    NL_VLAN_MAX);
	unsigned idx = if_nametoindex(parent);
	if (!idx)
		return fail(-ENODEV, err, errlen, "%s: no such NIC %s", label, parent);
	if ((r = check_kind(label, name, "vlan", err, errlen)) < 0)
		return r;
	if (r == 0) {
		struct nlmsghdr *nlh =
		    link_msg(buf, RTM_NEWLINK, NLM_F_CREATE | NLM_F_EXCL, AF_UNSPEC, name);
		mnl_attr_put_u32(nlh, IFLA_LINK, idx);
		struct nlattr *info = mnl_attr_nest_start(nlh, IFLA_LINKINFO);
		mnl_attr_put_strz(nlh, IFLA_INFO_KIND, "vlan");
		struct nlattr *data = mnl_attr_nest_start(nlh, IFLA_INFO_DATA);
		mnl_attr_put_u16(nlh, IFLA_VLAN_ID, (uint16_t)vid);
		mnl_attr_nest_end(nlh, data);
		mnl_attr_nest_end(nlh, info);
		r = request(NETLINK_ROUTE, nlh, NULL, NULL, err, errlen, "%s: create on %s id %u",
			    label, parent, vid);
		if (r == -EOPNOTSUPP && err && errlen) {
			size_t used = strlen(err);
			snprintf(err + used, errlen - used, " (is the 8021q module loaded?)");
		}
	}
	return r < 0 ? r : set_up(label, name, true, err, errlen);
}

/* --- VLANs of bridge ports ----------------------------------------------- */

struct vlans {
	int ifindex; /* the port's, to pick it out of the dump */
	bool found;
	uint16_t pvid;
	uint8_t member[BITMAP_SIZE];
	uint8_t untagged[BITMAP_SIZE];
};

static bool bit(const uint8_t *map, unsigned v)
{
	return map[v / 8] & (1u << (v % 8));
}

static void bit_set(uint8_t *map, unsigned v)
{
	map[v / 8] |= (uint8_t)(1u << (v % 8));
}

static uint16_t vlan_flags(const struct vlans *s, unsigned v)
{
	return (s->pvid == v ? BRIDGE_VLAN_INFO_PVID : 0) |
	       (bit(s->untagged, v) ? BRIDGE_VLAN_INFO_UNTAGGED : 0);
}

static void vlans_mark(struct vlans *s, unsigned first, unsigned last, uint16_t flags)
{
	for (unsigned v = first; v <= last; v++) {
		bit_set(s->member, v);
		if (flags & BRIDGE_VLAN_INFO_UNTAGGED)
			bit_set(s->untagged, v);
		if (flags & BRIDGE_VLAN_INFO_PVID)
			s->pvid = (uint16_t)v;
	}
}

static const enum mnl_attr_data_type port_types[IFLA_MAX + 1] = {
    [IFLA_MASTER] = MNL_TYPE_U32,
    [IFLA_AF_SPEC] = MNL_TYPE_NESTED,
};

/* One entry of the AF_BRIDGE dump: the port's VLAN infos, singly or as
 * RANGE_BEGIN + RANGE_END pairs (whose flags hold for the whole range).
 * Entries without a master are a bridge's own or a NIC driver's ("self"),
 * not a port's. */
static int vlans_cb(const struct nlmsghdr *nlh, void *arg)
{
	struct vlans *s = arg;
	const struct nlattr *tb[IFLA_MAX + 1], *a;
	const struct ifinfomsg *ifi = mnl_nlmsg_get_payload(nlh);
	if (nlh->nlmsg_type != RTM_NEWLINK ||
	    !parse_msg(nlh, sizeof(*ifi), port_types, IFLA_MAX, tb) ||
	    ifi->ifi_index != s->ifindex || !tb[IFLA_MASTER])
		return MNL_CB_OK;
	s->found = true;
	if (!tb[IFLA_AF_SPEC])
		return MNL_CB_OK;
	unsigned begin = 0;
	mnl_attr_for_each_nested(a, tb[IFLA_AF_SPEC])
	{
		const struct bridge_vlan_info *vi = mnl_attr_get_payload(a);
		if (mnl_attr_get_type(a) != IFLA_BRIDGE_VLAN_INFO ||
		    mnl_attr_validate2(a, MNL_TYPE_BINARY, sizeof(*vi)) < 0 || vi->vid < 1 ||
		    vi->vid > NL_VLAN_MAX)
			continue;
		if (vi->flags & BRIDGE_VLAN_INFO_RANGE_BEGIN) {
			begin = vi->vid;
			continue;
		}
		unsigned first =
		    (vi->flags & BRIDGE_VLAN_INFO_RANGE_END) && begin ? begin : vi->vid;
		if (first <= vi->vid)
			vlans_mark(s, first, vi->vid, vi->flags);
		begin = 0;
	}
	return MNL_CB_OK;
}

static int vlans_read(const char *port, struct vlans *s, char *err, size_t errlen)
{
	char buf[REQ_SIZE];
	memset(s, 0, sizeof(*s));
	s->ifindex = (int)if_nametoindex(port);
	if (!s->ifindex)
		return fail(-ENODEV, err, errlen, "port %s: no such interface", port);
	/* Only a dump lists ports with their VLANs (AF_BRIDGE has no GETLINK
	 * of one link); vlans_cb picks ours out. */
	struct nlmsghdr *nlh = link_msg(buf, RTM_GETLINK, NLM_F_DUMP, AF_BRIDGE, NULL);
	mnl_attr_put_u32(nlh, IFLA_EXT_MASK, RTEXT_FILTER_BRVLAN);
	int r = request(NETLINK_ROUTE, nlh, vlans_cb, s, err, errlen, "port %s: read VLANs", port);
	if (r == 0 && !s->found)
		r = fail(-EINVAL, err, errlen, "port %s: not in a bridge", port);
	return r;
}

/* One message that adds (or re-flags) what `want` has and `cur` lacks or
 * has with other flags, or that deletes what `cur` has and `want` lacks.
 * Nothing to change: nothing sent. */
static int vlans_change(const char *port, const struct vlans *cur, const struct vlans *want,
			bool add, char *err, size_t errlen)
{
	size_t size = MNL_NLMSG_HDRLEN + MNL_ALIGN(sizeof(struct ifinfomsg)) + MNL_ATTR_HDRLEN +
		      NL_VLAN_MAX * MNL_ALIGN(MNL_ATTR_HDRLEN + sizeof(struct bridge_vlan_info));
	char *buf = malloc(size);
	if (!buf)
		return fail(-ENOMEM, err, errlen, "port %s: out of memory", port);
	struct nlmsghdr *nlh = link_msg(buf, add ? RTM_SETLINK : RTM_DELLINK, 0, AF_BRIDGE, NULL);
	((struct ifinfomsg *)mnl_nlmsg_get_payload(nlh))->ifi_index = cur->ifindex;
	struct nlattr *spec = mnl_attr_nest_start(nlh, IFLA_AF_SPEC);
	size_t count = 0;
	for (unsigned v = 1; v <= NL_VLAN_MAX; v++) {
		struct bridge_vlan_info vi = {.vid = (uint16_t)v};
		if (add && bit(want->member, v) &&
		    (!bit(cur->member, v) || vlan_flags(cur, v) != vlan_flags(want, v)))
			vi.flags = vlan_flags(want, v);
		else if (add || !bit(cur->member, v) || bit(want->member, v))
			continue;
		mnl_attr_put(nlh, IFLA_BRIDGE_VLAN_INFO, sizeof(vi), &vi);
		count++;
	}
	mnl_attr_nest_end(nlh, spec);
	int r = count ? request(NETLINK_ROUTE, nlh, NULL, NULL, err, errlen, "port %s: %s VLANs",
				port, add ? "add" : "remove")
		      : 0;
	free(buf);
	return r;
}

/* A VLAN both tagged and the PVID (a trunk's native VLAN, also listed
 * among its allowed ones) is the PVID: egress untagged. Adds go first so
 * that a PVID that moves is never missing in between. */
int nl_port_vlans(const char *port, const uint16_t *tagged, size_t ntagged, uint16_t pvid,
		  char *err, size_t errlen)
{
	struct vlans want = {0}, cur;
	int r = check_name(port, err, errlen);
	if (r < 0)
		return r;
	for (size_t i = 0; i < ntagged; i++) {
		if (tagged[i] < 1 || tagged[i] > NL_VLAN_MAX)
			return fail(-EINVAL, err, errlen, "port %s: VLAN %u is not in 1..%d", port,
				    tagged[i], NL_VLAN_MAX);
		bit_set(want.member, tagged[i]);
	}
	if (pvid > NL_VLAN_MAX)
		return fail(-EINVAL, err, errlen, "port %s: PVID %u is not in 0..%d", port, pvid,
			    NL_VLAN_MAX);
	if (pvid)
		vlans_mark(&want, pvid, pvid, BRIDGE_VLAN_INFO_PVID | BRIDGE_VLAN_INFO_UNTAGGED);
	r = vlans_read(port, &cur, err, errlen);
	if (r == 0)
		r = vlans_change(port, &cur, &want, true, err, errlen);
	return r < 0 ? r : vlans_change(port, &cur, &want, false, err, errlen);
}

int nl_port_vlans_get(const char *port, uint16_t *vids, size_t cap, size_t *n, uint16_t *pvid,
		      uint8_t *untagged, char *err, size_t errlen)
{
	struct vlans cur;
	int r = check_name(port, err, errlen);
	if (r == 0)
		r = vlans_read(port, &cur, err, errlen);
	if (r < 0)
		return r;
	size_t k = 0;
	for (unsigned v = 1; v <= NL_VLAN_MAX && k < cap; v++)
		if (bit(cur.member, v))
			vids[k++] = (uint16_t)v;
	if (n)
		*n = k;
	if (pvid)
		*pvid = cur.pvid;
	if (untagged)
		memcpy(untagged, cur.untagged, BITMAP_SIZE);
	return 0;
}

/* --- diagnostics ---------------------------------------------------------- */

/* The first line of a sysfs attribute of `name`, trimmed, or -1. */
static int sysfs_attr(const char *name, const char *attr, char *out, size_t n)
{
	char path[96];
	snprintf(path, sizeof(path), SYSFS_NET "%s/%s", name, attr);
	char *s = read_file(path, 256, NULL);
	if (!s)
		return -1;
	s[strcspn(s, "\n")] = '\0';
	int r = str_copy(out, n, str_trim(s));
	free(s);
	return r;
}

int nl_nic_info(const char *name, struct nl_nic *out)
{
	char path[96], link[256], text[32];
	struct stat st;
	int r = check_name(name, NULL, 0);
	if (r < 0)
		return r;
	memset(out, 0, sizeof(*out));
	out->speed_mbps = -1;
	str_copy(out->duplex, sizeof(out->duplex), "unknown");
	snprintf(path, sizeof(path), SYSFS_NET "%s", name);
	if (stat(path, &st) < 0)
		return -ENODEV;
	snprintf(path, sizeof(path), SYSFS_NET "%s/device", name);
	if (stat(path, &st) < 0)
		return -ENOTSUP;
	snprintf(path, sizeof(path), SYSFS_NET "%s/device/driver", name);
	ssize_t len = readlink(path, link, sizeof(link) - 1);
	if (len > 0) {
		link[len] = '\0';
		const char *base = strrchr(link, '/');
		str_copy(out->driver, sizeof(out->driver), base ? base + 1 : link);
	}
	/* Reading speed fails (EINVAL) while the link is down: unknown. */
	char *end = text;
	long speed =
	    sysfs_attr(name, "speed", text, sizeof(text)) == 0 ? strtol(text, &end, 10) : -1;
	if (speed >= 0 && speed <= INT32_MAX && end != text && !*end)
		out->speed_mbps = (int)speed;
	if (sysfs_attr(name, "duplex", text, sizeof(text)) == 0 &&
	    (!strcmp(text, "full") || !strcmp(text, "half")))
		str_copy(out->duplex, sizeof(out->duplex), text);
	return 0;
}

/* --- IPv4 addresses and the default route (the management network) ------ */

struct ipv4_addr {
	struct in_addr addr;
	uint8_t prefix;
};

struct addr_dump {
	unsigned ifindex;
	struct vec v; /* struct ipv4_addr */
};

static const enum mnl_attr_data_type addr_types[IFA_MAX + 1] = {
    [IFA_LOCAL] = MNL_TYPE_U32,
};

static int addr_cb(const struct nlmsghdr *nlh, void *arg)
{
	struct addr_dump *d = arg;
	const struct nlattr *tb[IFA_MAX + 1];
	const struct ifaddrmsg *ifa = mnl_nlmsg_get_payload(nlh);
	if (nlh->nlmsg_type != RTM_NEWADDR ||
	    !parse_msg(nlh, sizeof(*ifa), addr_types, IFA_MAX, tb) || ifa->ifa_family != AF_INET ||
	    ifa->ifa_index != d->ifindex || !tb[IFA_LOCAL])
		return MNL_CB_OK;
	struct ipv4_addr *a = vec_add(&d->v);
	if (!a)
		return MNL_CB_ERROR;
	a->addr.s_addr = mnl_attr_get_u32(tb[IFA_LOCAL]);
	a->prefix = ifa->ifa_prefixlen;
	return MNL_CB_OK;
}

/* An RTM_NEWADDR or RTM_DELADDR of addr/prefix on ifindex. */
static int addr_change(uint16_t type, const char *name, unsigned ifindex, struct in_addr addr,
		       uint8_t prefix, char *err, size_t errlen)
{
	char buf[REQ_SIZE], a[INET_ADDRSTRLEN];
	struct nlmsghdr *nlh =
	    msg_start(buf, type, type == RTM_NEWADDR ? NLM_F_CREATE | NLM_F_REPLACE : 0);
	struct ifaddrmsg *ifa = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifa));
	ifa->ifa_family = AF_INET;
	ifa->ifa_prefixlen = prefix;
	ifa->ifa_index = ifindex;
	mnl_attr_put_u32(nlh, IFA_LOCAL, addr.s_addr);
	mnl_attr_put_u32(nlh, IFA_ADDRESS, addr.s_addr);
	inet_ntop(AF_INET, &addr, a, sizeof(a));
	return request(NETLINK_ROUTE, nlh, NULL, NULL, err, errlen, "%s: %s address %s/%u", name,
		       type == RTM_NEWADDR ? "add" : "remove", a, prefix);
}

int nl_ipv4_set(const char *name, struct in_addr addr, unsigned prefix, char *err, size_t errlen)
{
	int r = check_name(name, err, errlen);
	if (r < 0)
		return r;
	if (prefix > 32)
		return fail(-EINVAL, err, errlen, "%s: prefix /%u is not in 0..32", name, prefix);
	unsigned ifindex = if_nametoindex(name);
	if (!ifindex)
		return fail(-errno, err, errlen, "%s: %s", name, strerror(errno));
	char buf[REQ_SIZE];
	struct addr_dump d = {.ifindex = ifindex, .v.size = sizeof(struct ipv4_addr)};
	struct nlmsghdr *nlh = msg_start(buf, RTM_GETADDR, NLM_F_DUMP);
	struct ifaddrmsg *ifa = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifa));
	ifa->ifa_family = AF_INET;
	r = request(NETLINK_ROUTE, nlh, addr_cb, &d, err, errlen, "%s: read addresses", name);
	size_t n;
	struct ipv4_addr *old = vec_take(&d.v, r, &n);
	for (size_t i = 0; r == 0 && i < n; i++) {
		r = addr_change(RTM_DELADDR, name, ifindex, old[i].addr, old[i].prefix, err,
				errlen);
		if (r == -EADDRNOTAVAIL)
			r = 0; /* a secondary that went with its primary */
	}
	free(old);
	if (r == 0 && addr.s_addr != INADDR_ANY)
		r = addr_change(RTM_NEWADDR, name, ifindex, addr, (uint8_t)prefix, err, errlen);
	return r;
}

int nl_default_route(const char *name, struct in_addr gw, bool add, char *err, size_t errlen)
{
	int r = check_name(name, err, errlen);
	if (r < 0)
		return r;
	unsigned ifindex = if_nametoindex(name);
	if (!ifindex)
		return fail(-errno, err, errlen, "%s: %s", name, strerror(errno));
	char buf[REQ_SIZE], a[INET_ADDRSTRLEN];
	struct nlmsghdr *nlh =
	    msg_start(buf, add ? RTM_NEWROUTE : RTM_DELROUTE, add ? NLM_F_CREATE | NLM_F_EXCL : 0);
	struct rtmsg *rtm = mnl_nlmsg_put_extra_header(nlh, sizeof(*rtm));
	rtm->rtm_family = AF_INET;
	rtm->rtm_dst_len = 0;
	rtm->rtm_table = RT_TABLE_MAIN;
	rtm->rtm_protocol = RTPROT_BOOT;
	rtm->rtm_scope = add ? RT_SCOPE_UNIVERSE : RT_SCOPE_NOWHERE;
	rtm->rtm_type = RTN_UNICAST;
	mnl_attr_put_u32(nlh, RTA_GATEWAY, gw.s_addr);
	mnl_attr_put_u32(nlh, RTA_OIF, ifindex);
	inet_ntop(AF_INET, &gw, a, sizeof(a));
	r = request(NETLINK_ROUTE, nlh, NULL, NULL, err, errlen, "%s: %s default route via %s",
		    name, add ? "add" : "delete", a);
	return r == (add ? -EEXIST : -ESRCH) ? 0 : r;
}

static const char *neigh_state(uint16_t state)
{
	static const struct {
		uint16_t bit;
		const char *name;
	} names[] = {
	    {NUD_PERMANENT, "permanent"}, {NUD_NOARP, "noarp"},
	    {NUD_REACHABLE, "reachable"}, {NUD_STALE, "stale"},
	    {NUD_DELAY, "delay"},	  {NUD_PROBE, "probe"},
	    {NUD_FAILED, "failed"},	  {NUD_INCOMPLETE, "incomplete"},
	};
	for (size_t i = 0; i < ARRAY_SIZE(names); i++)
		if (state & names[i].bit)
			return names[i].name;
	return NULL;
}

static const enum mnl_attr_data_type neigh_types[NDA_MAX + 1] = {
    [NDA_DST] = MNL_TYPE_BINARY,
    [NDA_LLADDR] = MNL_TYPE_BINARY,
};

/* An ARP or NDP entry; the dump of AF_UNSPEC also brings the bridges'
 * forwarding databases (AF_BRIDGE), which are left out, as are entries in
 * no state of the list (NUD_NONE: being created). */
static int neigh_cb(const struct nlmsghdr *nlh, void *arg)
{
	const struct nlattr *tb[NDA_MAX + 1];
	const struct ndmsg *nd = mnl_nlmsg_get_payload(nlh);
	if (nlh->nlmsg_type != RTM_NEWNEIGH ||
	    !parse_msg(nlh, sizeof(*nd), neigh_types, NDA_MAX, tb))
		return MNL_CB_OK;
	size_t alen = nd->ndm_family == AF_INET ? 4 : nd->ndm_family == AF_INET6 ? 16 : 0;
	const char *state = neigh_state(nd->ndm_state);
	if (!alen || !tb[NDA_DST] || mnl_attr_get_payload_len(tb[NDA_DST]) != alen || !state)
		return MNL_CB_OK;
	struct nl_neigh *e = vec_add(arg);
	if (!e)
		return MNL_CB_ERROR;
	inet_ntop(nd->ndm_family, mnl_attr_get_payload(tb[NDA_DST]), e->ip, sizeof(e->ip));
	str_copy(e->state, sizeof(e->state), state);
	char ifname[IF_NAMESIZE];
	if (if_indextoname((unsigned)nd->ndm_ifindex, ifname))
		str_copy(e->ifname, sizeof(e->ifname), ifname);
	if (tb[NDA_LLADDR] && mnl_attr_get_payload_len(tb[NDA_LLADDR]) == 6) {
		const uint8_t *m = mnl_attr_get_payload(tb[NDA_LLADDR]);
		snprintf(e->mac, sizeof(e->mac), "%02x:%02x:%02x:%02x:%02x:%02x", m[0], m[1], m[2],
			 m[3], m[4], m[5]);
	}
	return MNL_CB_OK;
}

int nl_neighbours(struct nl_neigh **out, size_t *n, char *err, size_t errlen)
{
	char buf[REQ_SIZE];
	struct vec v = {.size = sizeof(struct nl_neigh)};
	struct nlmsghdr *nlh = msg_start(buf, RTM_GETNEIGH, NLM_F_DUMP);
	struct ndmsg *nd = mnl_nlmsg_put_extra_header(nlh, sizeof(*nd));
	nd->ndm_family = AF_UNSPEC;
	int r = request(NETLINK_ROUTE, nlh, neigh_cb, &v, err, errlen, "neighbour table");
	*out = vec_take(&v, r, n);
	return r;
}

static const char *tcp_state(uint8_t s)
{
	static const char *const names[] = {
	    [1] = "ESTABLISHED", [2] = "SYN_SENT",  [3] = "SYN_RECV", [4] = "FIN_WAIT1",
	    [5] = "FIN_WAIT2",	 [6] = "TIME_WAIT", [7] = "CLOSE",    [8] = "CLOSE_WAIT",
	    [9] = "LAST_ACK",	 [10] = "LISTEN",   [11] = "CLOSING", [12] = "SYN_RECV",
	};
	return s < ARRAY_SIZE(names) && names[s] ? names[s] : "UNKNOWN";
}

static void endpoint(char *out, size_t n, uint8_t family, const uint32_t *addr, uint16_t port)
{
	char ip[INET6_ADDRSTRLEN] = "?";
	inet_ntop(family, addr, ip, sizeof(ip));
	snprintf(out, n, family == AF_INET6 ? "[%s]:%u" : "%s:%u", ip, ntohs(port));
}

static int tcp_cb(const struct nlmsghdr *nlh, void *arg)
{
	const struct inet_diag_msg *m = mnl_nlmsg_get_payload(nlh);
	if (nlh->nlmsg_type != SOCK_DIAG_BY_FAMILY || mnl_nlmsg_get_payload_len(nlh) < sizeof(*m) ||
	    (m->idiag_family != AF_INET && m->idiag_family != AF_INET6))
		return MNL_CB_OK;
	struct nl_tcp *t = vec_add(arg);
	if (!t)
		return MNL_CB_ERROR;
	endpoint(t->local, sizeof(t->local), m->idiag_family, m->id.idiag_src, m->id.idiag_sport);
	endpoint(t->remote, sizeof(t->remote), m->idiag_family, m->id.idiag_dst, m->id.idiag_dport);
	str_copy(t->state, sizeof(t->state), tcp_state(m->idiag_state));
	return MNL_CB_OK;
}

int nl_tcp_connections(struct nl_tcp **out, size_t *n, char *err, size_t errlen)
{
	static const uint8_t families[] = {AF_INET, AF_INET6};
	struct vec v = {.size = sizeof(struct nl_tcp)};
	int r = 0;
	for (size_t i = 0; i < ARRAY_SIZE(families) && r == 0; i++) {
		char buf[REQ_SIZE];
		struct nlmsghdr *nlh = msg_start(buf, SOCK_DIAG_BY_FAMILY, NLM_F_DUMP);
		struct inet_diag_req_v2 *req = mnl_nlmsg_put_extra_header(nlh, sizeof(*req));
		req->sdiag_family = families[i];
		req->sdiag_protocol = IPPROTO_TCP;
		req->idiag_states = ~0u;
		r = request(NETLINK_SOCK_DIAG, nlh, tcp_cb, &v, err, errlen, "TCP sockets (%s)",
			    families[i] == AF_INET ? "IPv4" : "IPv6");
	}
	*out = vec_take(&v, r, n);
	return r;
}
