#include "shell/netdump.h"

#include <errno.h>
#include <linux/neighbour.h>
#include <linux/rtnetlink.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/util.h"

#define RECV_SIZE 32768

int netdump(uint16_t type, unsigned char family, uint32_t ext_mask, mnl_cb_t cb, void *ctx,
	    char *err, size_t errlen)
{
	char *buf = malloc(RECV_SIZE);
	struct mnl_socket *nl = buf ? mnl_socket_open2(NETLINK_ROUTE, SOCK_CLOEXEC) : NULL;
	if (!nl) {
		free(buf);
		return errorf(err, errlen, "netlink: %s", strerror(errno));
	}
	int rc = -1;
	if (mnl_socket_bind(nl, 0, MNL_SOCKET_AUTOPID) < 0) {
		errorf(err, errlen, "netlink: %s", strerror(errno));
		goto out;
	}
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);
	nlh->nlmsg_type = type;
	nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP;
	unsigned seq = (unsigned)time(NULL), portid = mnl_socket_get_portid(nl);
	nlh->nlmsg_seq = seq;
	size_t hdr = type == RTM_GETLINK    ? sizeof(struct ifinfomsg)
		     : type == RTM_GETADDR  ? sizeof(struct ifaddrmsg)
		     : type == RTM_GETNEIGH ? sizeof(struct ndmsg)
					    : sizeof(struct rtmsg);
	unsigned char *family_header = mnl_nlmsg_put_extra_header(nlh, hdr);
	family_header[0] = family; /* the first byte of every family header */
	if (ext_mask && type == RTM_GETLINK)
		mnl_attr_put_u32(nlh, IFLA_EXT_MASK, ext_mask);
	if (mnl_socket_sendto(nl, nlh, nlh->nlmsg_len) < 0) {
		errorf(err, errlen, "netlink: %s", strerror(errno));
		goto out;
	}
	for (;;) {
		ssize_t len = mnl_socket_recvfrom(nl, buf, RECV_SIZE);
		if (len < 0) {
			errorf(err, errlen, "netlink: %s", strerror(errno));
			break;
		}
		int r = mnl_cb_run(buf, (size_t)len, seq, portid, cb, ctx);
		if (r == MNL_CB_STOP) {
			rc = 0;
			break;
		}
		if (r < 0) {
			errorf(err, errlen, "netlink: %s", strerror(errno));
			break;
		}
	}
out:
	mnl_socket_close(nl);
	free(buf);
	return rc;
}

struct attrs {
	const struct nlattr **tb;
	uint16_t max;
	const enum mnl_attr_data_type *types;
};

static int attr_cb(const struct nlattr *a, void *data)
{
	struct attrs *p = data;
	uint16_t type = mnl_attr_get_type(a);
	if (type > p->max)
		return MNL_CB_OK;
	if (p->types && p->types[type] != MNL_TYPE_UNSPEC &&
	    mnl_attr_validate(a, p->types[type]) < 0)
		return MNL_CB_OK;
	p->tb[type] = a;
	return MNL_CB_OK;
}

int netdump_attrs(const struct nlmsghdr *nlh, size_t hdrlen, const struct nlattr **tb, uint16_t max,
		  const enum mnl_attr_data_type *types)
{
	memset(tb, 0, sizeof(*tb) * ((size_t)max + 1));
	if (mnl_nlmsg_get_payload_len(nlh) < MNL_ALIGN(hdrlen))
		return -1;
	struct attrs p = {tb, max, types};
	mnl_attr_parse(nlh, (unsigned)hdrlen, attr_cb, &p);
	return 0;
}
