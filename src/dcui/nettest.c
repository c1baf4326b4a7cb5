/* Test Management Network (actions.h): POST
 * /api/v1/network/management/test, each check's result on a line. */
#include "dcui/actions.h"

#include "dcui/screen.h"

#include <stdio.h>
#include <string.h>

#define TITLE "Test Management Network"

static void add(char *out, size_t size, const char *fmt, const char *a, const char *b)
{
	size_t len = strlen(out);
	if (len < size)
		snprintf(out + len, size - len, fmt, a, b);
}

static const char *verdict(const json_t *check)
{
	return json_is_true(json_object_get(check, "ok")) ? "OK" : "FAILED";
}

int nettest_run(struct lapi *a)
{
	screen_status(TITLE, "Testing the management network...");
	struct lapi_reply r;
	if (lapi_request(a, "POST", "/network/management/test", NULL, &r) < 0) {
		int rc = action_failed(TITLE, &r);
		lapi_reply_free(&r);
		return rc;
	}
	char out[2048] = "", what[160];
	json_t *gateway = json_object_get(r.json, "gateway");
	if (json_is_object(gateway)) {
		const char *address = json_string_value(json_object_get(gateway, "address"));
		json_t *ms = json_object_get(gateway, "ms");
		snprintf(what, sizeof(what), "Pinging the default gateway %s", address ?: "(none)");
		if (json_is_number(ms))
			snprintf(what + strlen(what), sizeof(what) - strlen(what), " (%.0f ms)",
				 json_number_value(ms));
		add(out, sizeof(out), "%-60s %s\n", what, verdict(gateway));
	}
	size_t i;
	json_t *dns;
	json_array_foreach(json_object_get(r.json, "dns"), i, dns)
	{
		snprintf(what, sizeof(what), "Asking the DNS server %s",
			 json_string_value(json_object_get(dns, "address")) ?: "?");
		add(out, sizeof(out), "%-60s %s\n", what, verdict(dns));
	}
	json_t *name = json_object_get(r.json, "hostname");
	if (json_is_object(name)) {
		snprintf(what, sizeof(what), "Resolving the host name %s",
			 json_string_value(json_object_get(name, "name")) ?: "?");
		add(out, sizeof(out), "%-60s %s\n", what, verdict(name));
		json_t *address;
		json_array_foreach(json_object_get(name, "addresses"), i, address)
		    add(out, sizeof(out), "    %s%s\n", json_string_value(address) ?: "?", "");
	}
	if (!out[0])
		snprintf(out, sizeof(out), "The host agent gave no result.");
	lapi_reply_free(&r);
	return screen_message(TITLE, out);
}
