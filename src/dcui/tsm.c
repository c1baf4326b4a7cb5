/* Troubleshooting Options (actions.h): tech support mode, GET/PUT
 * /api/v1/host/tech-support {"local", "ssh", "availability_timeout_s",
 * "idle_timeout_s"}. Each choice is one PUT of the one field it changes;
 * the screen then shows what the API answers. */
#include "common/hostconf.h"
#include "common/localapi.h"
#include "dcui/actions.h"

#include "dcui/form.h"
#include "dcui/screen.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

#define TITLE	    "Troubleshooting Options"
#define PATH	    "/host/tech-support"
#define TIMEOUT_MAX ((long)TSM_TIMEOUT_MAX)

/* "enabled until 12:34 UTC", "enabled", "disabled" */
static void state(char *out, size_t size, bool on, const json_t *until)
{
	time_t t = (time_t)json_integer_value(until);
	struct tm tm;
	if (on && json_is_integer(until) && t > 0 && gmtime_r(&t, &tm))
		strftime(out, size, "enabled until %H:%M UTC", &tm);
	else
		snprintf(out, size, "%s", on ? "enabled" : "disabled");
}

static int put(struct lapi *a, json_t *body)
{
	struct lapi_reply r;
	int rc = lapi_request(a, "PUT", PATH, body, &r) < 0 ? action_failed(TITLE, &r) : 0;
	json_decref(body);
	lapi_reply_free(&r);
	return rc;
}

/* Asks for a number of seconds (0: none) and PUTs it as `key`. */
static int ask_timeout(struct lapi *a, const char *key, const char *label, long now)
{
	char value[16], err[96] = "";
	snprintf(value, sizeof(value), "%ld", now);
	struct field field = {label, value, sizeof(value), false};
	long seconds;
	for (;;) {
		int rc =
		    screen_form(TITLE, "In seconds; 0 for none.", &field, 1, err[0] ? err : NULL);
		if (rc < 0)
			return rc;
		if (form_number(value, 0, TIMEOUT_MAX, &seconds))
			break;
		snprintf(err, sizeof(err), "A number of seconds from 0 to %ld.", TIMEOUT_MAX);
	}
	return put(a, json_pack("{s:I}", key, (json_int_t)seconds));
}

int tsm_run(struct lapi *a)
{
	int selected = 0;
	for (;;) {
		struct lapi_reply r;
		if (lapi_request(a, "GET", PATH, NULL, &r) < 0) {
			int rc = action_failed(TITLE, &r);
			lapi_reply_free(&r);
			return rc;
		}
		bool local = json_is_true(json_object_get(r.json, "local"));
		bool ssh = json_is_true(json_object_get(r.json, "ssh"));
		long avail =
		    (long)json_integer_value(json_object_get(r.json, "availability_timeout_s"));
		long idle = (long)json_integer_value(json_object_get(r.json, "idle_timeout_s"));
		char local_state[40], ssh_state[40], l1[96], l2[96], l3[80], l4[80];
		state(local_state, sizeof(local_state), local,
		      json_object_get(r.json, "local_until"));
		state(ssh_state, sizeof(ssh_state), ssh, json_object_get(r.json, "ssh_until"));
		lapi_reply_free(&r);
		snprintf(l1, sizeof(l1), "Local tech support: %s (Enter: %s)", local_state,
			 local ? "disable" : "enable");
		snprintf(l2, sizeof(l2), "SSH tech support: %s (Enter: %s)", ssh_state,
			 ssh ? "disable" : "enable");
		snprintf(l3, sizeof(l3), "Availability time-out: %ld s%s", avail,
			 avail ? "" : " (none)");
		snprintf(l4, sizeof(l4), "Idle time-out: %ld s%s", idle, idle ? "" : " (none)");
		const struct menu_item items[] = {
		    {'1', l1,
		     "keel-shell's login on the host's second console (Alt-F2), for root and "
		     "Administrators while lockdown is off."},
		    {'2', l2,
		     "keel-shell over SSH (port 22), for root and Administrators while lockdown "
		     "is off."},
		    {'3', l3,
		     "Tech support mode turns itself off this long after it is enabled "
		     "(0: never)."},
		    {'4', l4, "A tech support shell idle this long is logged out (0: never)."},
		    {'5', "Open a tech support shell here",
		     "keel-shell on this console (where there is no second screen, as on a "
		     "serial line), with a login of its own; exit comes back here."},
		};
		/* the shell while local tech support mode is on */
		int chosen = screen_menu(TITLE, NULL, items, local ? 5 : 4, &selected);
		int rc = 0;
		if (chosen == SCREEN_CANCEL)
			return 0;
		if (chosen == SCREEN_IDLE)
			return SCREEN_IDLE;
		if (chosen == 0)
			rc = put(a, json_pack("{s:b}", "local", !local));
		else if (chosen == 1)
			rc = put(a, json_pack("{s:b}", "ssh", !ssh));
		else if (chosen == 4)
			screen_run((char *const[]){KEEL_SHELL_PATH, "--login-here", NULL});
		else if (chosen == 2)
			rc = ask_timeout(a, "availability_timeout_s",
					 "Availability time-out:", avail);
		else
			rc = ask_timeout(a, "idle_timeout_s", "Idle time-out:", idle);
		if (rc == SCREEN_IDLE)
			return SCREEN_IDLE;
	}
}
