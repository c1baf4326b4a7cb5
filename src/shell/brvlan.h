/* A bridge port's VLANs as `bridges` shows them, from the IFLA_AF_SPEC
 * attribute of the kernel's AF_BRIDGE link dump (RTEXT_FILTER_BRVLAN):
 * IFLA_BRIDGE_VLAN_INFO entries, singly or as RANGE_BEGIN + RANGE_END
 * pairs. Text: "10PU 20 30-35", P marking the port's PVID and U a VLAN
 * sent untagged. The attribute is the kernel's, checked all the same:
 * entries of the wrong size or a VID outside 1..4094 are skipped, a range
 * end without its beginning stands alone. */
#ifndef KEEL_SHELL_BRVLAN_H
#define KEEL_SHELL_BRVLAN_H

#include <libmnl/libmnl.h>
#include <stddef.h>

/* Writes the text into out (n bytes, cut with "..." when longer); returns
 * the number of entries shown (0: none). */
size_t brvlan_format(const struct nlattr *af_spec, char *out, size_t n);

#endif
