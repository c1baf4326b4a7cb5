/* The management network's form (netform.h). */
#include "dcui/netform.h"

#include "dcui/form.h"

#include <stdbool.h>
#include <stdio.h>
#include <string.h>

static void copy(char *dst, size_t size, const json_t *value)
{
	const char *s = json_string_value(value);
	snprintf(dst, size, "%s", s ? s : "");
}

void netform_from_json(struct netform *f, const json_t *m)
{
	memset(f, 0, sizeof(*f));
	json_int_t vlan = json_integer_value(json_object_get(m, "vlan"));
	if (vlan > 0 && vlan <= 4094)
		snprintf(f->vlan, sizeof(f->vlan), "%d", (int)vlan);
	copy(f->mode, sizeof(f->mode), json_object_get(m, "mode"));
	copy(f->address, sizeof(f->address), json_object_get(m, "address"));
	copy(f->gateway, sizeof(f->gateway), json_object_get(m, "gateway"));
	copy(f->hostname, sizeof(f->hostname), json_object_get(m, "hostname"));
	const json_t *dns = json_object_get(m, "dns");
	for (size_t i = 0; i < NETFORM_DNS_MAX && i < json_array_size(dns); i++)
		copy(f->dns[i], sizeof(f->dns[i]), json_array_get(dns, i));
}

static bool same_dns(const struct netform *a, const struct netform *b)
{
	for (int i = 0; i < NETFORM_DNS_MAX; i++)
		if (strcmp(a->dns[i], b->dns[i]) != 0)
			return false;
	return true;
}

static json_t *fail(char *err, size_t errlen, const char *what)
{
	snprintf(err, errlen, "%s", what);
	return NULL;
}

json_t *netform_body(const struct netform *was, const struct netform *now, char *err, size_t errlen)
{
	bool is_static = strcmp(now->mode, "static") == 0;
	long vlan = 0, vlan_was = 0;
	if (now->vlan[0] && !form_number(now->vlan, 0, 4094, &vlan))
		return fail(err, errlen, "VLAN ID: 1 to 4094, or empty for none");
	if (was->vlan[0])
		form_number(was->vlan, 0, 4094, &vlan_was);
	if (!is_static && strcmp(now->mode, "dhcp") != 0)
		return fail(err, errlen, "IPv4 configuration: DHCP or static");
	if (!form_hostname_valid(now->hostname))
		return fail(err, errlen,
			    "Host name: 1 to 63 letters, digits, '-' and dots between labels");
	if (is_static) {
		if (!form_cidr_valid(now->address))
			return fail(err, errlen,
				    "IPv4 address: a.b.c.d/prefix, e.g. 192.0.2.10/24");
		if (now->gateway[0] && !form_ipv4_valid(now->gateway))
			return fail(err, errlen, "Default gateway: an IPv4 address, or empty");
		for (int i = 0; i < NETFORM_DNS_MAX; i++)
			if (now->dns[i][0] && !form_ipv4_valid(now->dns[i]))
				return fail(err, errlen, "DNS servers: IPv4 addresses, or empty");
	}
	json_t *body = json_object();
	if (!body)
		return fail(err, errlen, "out of memory");
	if (vlan != vlan_was)
		json_object_set_new(body, "vlan", json_integer(vlan));
	if (strcmp(was->mode, now->mode) != 0)
		json_object_set_new(body, "mode", json_string(now->mode));
	if (is_static) {
		/* what DHCP had is no static setting: all of it is sent */
		bool from_dhcp = strcmp(was->mode, "static") != 0;
		if (from_dhcp || strcmp(was->address, now->address) != 0)
			json_object_set_new(body, "address", json_string(now->address));
		if (from_dhcp || strcmp(was->gateway, now->gateway) != 0)
			json_object_set_new(body, "gateway",
					    now->gateway[0] ? json_string(now->gateway)
							    : json_null());
		if (from_dhcp || !same_dns(was, now)) {
			json_t *dns = json_array();
			for (int i = 0; i < NETFORM_DNS_MAX; i++)
				if (now->dns[i][0])
					json_array_append_new(dns, json_string(now->dns[i]));
			json_object_set_new(body, "dns", dns);
		}
	}
	if (strcmp(was->hostname, now->hostname) != 0)
		json_object_set_new(body, "hostname", json_string(now->hostname));
	return body;
}
