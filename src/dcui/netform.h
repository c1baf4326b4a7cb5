/* The management network as the DCUI's form holds it (docs/api.md,
 * "Management network"): read from GET /api/v1/network/management, edited
 * as text, and turned into the body of PUT /api/v1/network/management
 * holding only what the person changed, so that a change of the host name
 * alone needs no confirmation. */
#ifndef KEEL_DCUI_NETFORM_H
#define KEEL_DCUI_NETFORM_H

#include <jansson.h>
#include <stddef.h>

#define NETFORM_DNS_MAX 3

struct netform {
	char vlan[8];	  /* the VLAN ID, 1..4094, or "" (or "0") for none */
	char mode[8];	  /* "dhcp" or "static" */
	char address[24]; /* a.b.c.d/prefix, or "" */
	char gateway[16]; /* a.b.c.d, or "" for none */
	char dns[NETFORM_DNS_MAX][16];
	char hostname[64];
};

/* Fills f from GET /api/v1/network/management's answer (missing fields
 * are ""). */
void netform_from_json(struct netform *f, const json_t *management);
/* The PUT body taking `was` to `now`: only the fields that differ (the
 * static ones only in static mode). Returns a new object, {} when nothing
 * changed, or NULL with why (the field and what it wants) in err. */
json_t *netform_body(const struct netform *was, const struct netform *now, char *err,
		     size_t errlen);

#endif
