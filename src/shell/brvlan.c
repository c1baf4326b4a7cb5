#include "shell/brvlan.h"

#include <linux/if_bridge.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

/* appends text to out, or "..." once it no longer fits; false then */
static bool append(char *out, size_t n, size_t *used, const char *text)
{
	size_t len = strlen(text);
	if (*used + len + 4 > n) {
		if (*used + 4 <= n) {
			memcpy(out + *used, "...", 4);
			*used += 3;
		}
		return false;
	}
	memcpy(out + *used, text, len + 1);
	*used += len;
	return true;
}

size_t brvlan_format(const struct nlattr *af_spec, char *out, size_t n)
{
	const struct nlattr *a;
	unsigned begin = 0;
	size_t used = 0, shown = 0;
	if (n == 0)
		return 0;
	out[0] = '\0';
	mnl_attr_for_each_nested(a, af_spec)
	{
		const struct bridge_vlan_info *vi = mnl_attr_get_payload(a);
		if (mnl_attr_get_type(a) != IFLA_BRIDGE_VLAN_INFO ||
		    mnl_attr_validate2(a, MNL_TYPE_BINARY, sizeof(*vi)) < 0 || vi->vid < 1 ||
		    vi->vid > 4094)
			continue;
		if (vi->flags & BRIDGE_VLAN_INFO_RANGE_BEGIN) {
			begin = vi->vid;
			continue;
		}
		char item[32];
		const char *pvid = vi->flags & BRIDGE_VLAN_INFO_PVID ? "P" : "";
		const char *untagged = vi->flags & BRIDGE_VLAN_INFO_UNTAGGED ? "U" : "";
		if ((vi->flags & BRIDGE_VLAN_INFO_RANGE_END) && begin && begin < vi->vid)
			snprintf(item, sizeof(item), "%s%u-%u%s%s", shown ? " " : "", begin,
				 vi->vid, pvid, untagged);
		else
			snprintf(item, sizeof(item), "%s%u%s%s", shown ? " " : "", vi->vid, pvid,
				 untagged);
		begin = 0;
		if (!append(out, n, &used, item))
			break;
		shown++;
	}
	return shown;
}
