/* Test Management Network (actions.h): POST
 * /api/v1/network/management/test, each check's result on a line:
 * {gateway: {address, ok, ms} | null, dns: [{address, ok, ms}],
 *  hostname: {name, ok, addresses}, ok}. */
#include "dcui/actions.h"

#include "dcui/screen.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#define TITLE "Test Management Network"

static void add(char *out, size_t size, const char *fmt, ...)
{
	size_t len = strlen(out);
	va_list ap;
	va_start(ap, fmt);
	if (len < size)
		vsnprintf(out + len, size - len, fmt, ap);
	va_end(ap);
}

/* "what ....... OK (3 ms)" or "FAILED" */
static void check_line(char *out, size_t size, const char *what, const json_t *check)
{
	char verdict[32];
	const json_t *ms = json_object_get(check, "ms");
	bool ok = json_is_true(json_object_get(check, "ok"));
	if (ok && json_is_number(ms))
		snprintf(verdict, sizeof(verdict), "OK (%.0f ms)", json_number_value(ms));
	else
		snprintf(verdict, sizeof(verdict), "%s", ok ? "OK" : "FAILED");
	add(out, size, "%-52.52s %s\n", what, verdict);
}

int nettest_run(struct lapi *a)
{
	screen_status(TITLE, "Testing the management network (a few seconds)...");
	struct lapi_reply r;
	if (lapi_request(a, "POST", "/network/management/test", NULL, &r) < 0) {
		int rc = action_failed(TITLE, &r);
		lapi_reply_free(&r);
		return rc;
	}
	char out[2048] = "", what[160];
	const json_t *gateway = json_object_get(r.json, "gateway");
	if (json_is_object(gateway)) {
		snprintf(what, sizeof(what), "Pinging the default gateway %s",
			 json_string_value(json_object_get(gateway, "address")) ?: "?");
		check_line(out, sizeof(out), what, gateway);
	} else {
		add(out, sizeof(out), "No default gateway is set.\n");
	}
	size_t i;
	json_t *dns;
	json_array_foreach(json_object_get(r.json, "dns"), i, dns)
	{
		snprintf(what, sizeof(what), "Pinging the DNS server %s",
			 json_string_value(json_object_get(dns, "address")) ?: "?");
		check_line(out, sizeof(out), what, dns);
	}
	if (json_array_size(json_object_get(r.json, "dns")) == 0)
		add(out, sizeof(out), "No DNS server is set.\n");
	const json_t *name = json_object_get(r.json, "hostname");
	if (json_is_object(name)) {
		snprintf(what, sizeof(what), "Resolving the host name %s",
			 json_string_value(json_object_get(name, "name")) ?: "?");
		check_line(out, sizeof(out), what, name);
		json_t *address;
		json_array_foreach(json_object_get(name, "addresses"), i, address)
		    add(out, sizeof(out), "    %s\n", json_string_value(address) ?: "?");
	}
	if (json_is_boolean(json_object_get(r.json, "ok")))
		add(out, sizeof(out), "\n%s\n",
		    json_is_true(json_object_get(r.json, "ok")) ? "All the tests passed."
								: "Some tests FAILED.");
	lapi_reply_free(&r);
	return screen_message(TITLE, out);
}
