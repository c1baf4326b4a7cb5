/* rtnetlink dumps (libmnl) for the read-only network commands: a request
 * of `type` (RTM_GETLINK, RTM_GETADDR, RTM_GETROUTE, RTM_GETNEIGH) for
 * `family` (AF_UNSPEC: all), and each reply message given to cb. The
 * kernel's replies are checked for their header's size and their
 * attributes' types before use (netdump_attrs). */
#ifndef KEEL_SHELL_NETDUMP_H
#define KEEL_SHELL_NETDUMP_H

#include <libmnl/libmnl.h>
#include <stddef.h>
#include <stdint.h>

/* 0, or -1 with err set. ext_mask (RTM_GETLINK only; 0: none) is sent as
 * IFLA_EXT_MASK (RTEXT_FILTER_BRVLAN: the bridge ports' VLANs). */
int netdump(uint16_t type, unsigned char family, uint32_t ext_mask, mnl_cb_t cb, void *ctx,
	    char *err, size_t errlen);

/* The attributes after a family header of hdrlen bytes into tb[0..max]
 * (each NULL or an attribute that passed mnl_attr_validate with
 * types[type], when types gives one). -1 if the message is shorter than
 * its header. */
int netdump_attrs(const struct nlmsghdr *nlh, size_t hdrlen, const struct nlattr **tb, uint16_t max,
		  const enum mnl_attr_data_type *types);

#endif
