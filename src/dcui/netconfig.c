/* Configure Management Network and its confirm-or-roll-back rule
 * (actions.h; docs/api.md, "Management network"). */
#include "dcui/actions.h"

#include "dcui/netform.h"
#include "dcui/screen.h"

#include <stdio.h>
#include <string.h>
#include <unistd.h>

#define TITLE		"Configure Management Network"
#define PATH		"/network/management"
#define APPLY_WAIT_S	2 /* hostd applies a change a second after its 202 */
#define ROLLBACK_WAIT_S 5 /* and rolls one back within a moment */

/* Whether a change still waits (GET's pending); false when it cannot tell. */
static bool still_pending(struct lapi *a)
{
	struct lapi_reply r;
	bool pending = lapi_request(a, "GET", PATH, NULL, &r) == 0 &&
		       json_is_object(json_object_get(r.json, "pending"));
	lapi_reply_free(&r);
	return pending;
}

/* Waits until hostd's worker has rolled the change back (it does so a
 * moment after the rollback is asked for, or at the time-out). */
static int rolled_back(struct lapi *a, const char *text)
{
	screen_status(TITLE, "Rolling back...");
	for (int i = 0; i < ROLLBACK_WAIT_S * 5 && still_pending(a); i++)
		usleep(200 * 1000);
	return screen_message(TITLE, text);
}

/* POST .../confirm or .../rollback, and what came of it. */
static int settle(struct lapi *a, bool keep)
{
	struct lapi_reply r;
	int rc;
	if (lapi_request(a, "POST", keep ? PATH "/confirm" : PATH "/rollback", NULL, &r) < 0)
		rc = action_failed(TITLE, &r);
	else if (keep)
		rc = screen_message(TITLE, "The new configuration is kept.");
	else
		rc = rolled_back(a, "The previous configuration is back.");
	lapi_reply_free(&r);
	return rc;
}

/* A change applied but not confirmed yet: ask, with the time left. */
static int ask_to_keep(struct lapi *a, long seconds)
{
	int answer = screen_countdown(TITLE,
				      "The management network was changed. Keep this "
				      "configuration? If you do not answer, it is rolled back.",
				      (int)(seconds > 0 ? seconds : 1));
	if (answer < 0)
		return rolled_back(a, "Not confirmed in time: the previous configuration is back.");
	return settle(a, answer == 1);
}

/* After a 202: hostd applies the change a moment later (APPLY_WAIT_S);
 * then the question, with the time hostd gives for the answer. */
static int applied(struct lapi *a)
{
	screen_status(TITLE, "Applying the new configuration...");
	sleep(APPLY_WAIT_S);
	struct lapi_reply r;
	if (lapi_request(a, "GET", PATH, NULL, &r) < 0) {
		int rc = action_failed(TITLE, &r);
		lapi_reply_free(&r);
		return rc;
	}
	json_t *pending = json_object_get(r.json, "pending");
	bool waiting = json_is_object(pending);
	long left = (long)json_integer_value(json_object_get(pending, "seconds_left"));
	lapi_reply_free(&r); /* pending with it */
	if (!waiting)
		return screen_message(TITLE, "The change is no longer waiting for a confirmation.");
	return ask_to_keep(a, left);
}

int netconfig_run(struct lapi *a)
{
	struct lapi_reply r;
	if (lapi_request(a, "GET", PATH, NULL, &r) < 0) {
		int rc = action_failed(TITLE, &r);
		lapi_reply_free(&r);
		return rc;
	}
	json_t *pending = json_object_get(r.json, "pending");
	if (json_is_object(pending)) {
		long left = (long)json_integer_value(json_object_get(pending, "seconds_left"));
		lapi_reply_free(&r);
		return ask_to_keep(a, left);
	}
	struct netform was, now;
	netform_from_json(&was, r.json);
	lapi_reply_free(&r);
	now = was;
	if (!now.mode[0])
		snprintf(now.mode, sizeof(now.mode), "dhcp");
	struct field fields[] = {
	    {"VLAN ID (empty: none):", now.vlan, sizeof(now.vlan), false},
	    {"IPv4 (dhcp or static):", now.mode, sizeof(now.mode), false},
	    {"IPv4 address/prefix:", now.address, sizeof(now.address), false},
	    {"Default gateway:", now.gateway, sizeof(now.gateway), false},
	    {"DNS server 1:", now.dns[0], sizeof(now.dns[0]), false},
	    {"DNS server 2:", now.dns[1], sizeof(now.dns[1]), false},
	    {"DNS server 3:", now.dns[2], sizeof(now.dns[2]), false},
	    {"Host name:", now.hostname, sizeof(now.hostname), false},
	};
	char err[LAPI_MESSAGE_MAX] = "";
	json_t *body;
	for (;;) {
		int rc = screen_form(
		    TITLE,
		    "The management network's VLAN and IPv4 settings (the address, "
		    "gateway and DNS servers count in static mode only) and the "
		    "host name.",
		    fields, (int)(sizeof(fields) / sizeof(fields[0])), err[0] ? err : NULL);
		if (rc < 0)
			return rc;
		body = netform_body(&was, &now, err, sizeof(err));
		if (body)
			break;
	}
	if (json_object_size(body) == 0) {
		json_decref(body);
		return screen_message(TITLE, "Nothing was changed.");
	}
	int rc = lapi_request(a, "PUT", PATH, body, &r);
	json_decref(body);
	if (rc < 0)
		rc = action_failed(TITLE, &r);
	else if (r.status == 202)
		rc = applied(a);
	else
		rc = screen_message(TITLE, "Saved.");
	lapi_reply_free(&r);
	return rc;
}
