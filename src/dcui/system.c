/* The menu's short screens (actions.h): root's password, restarting the
 * management agents, leaving lockdown, the factory reset. */
#include "dcui/actions.h"

#include "dcui/form.h"
#include "dcui/screen.h"

#include <stdio.h>
#include <string.h>

/* POST/PUT/PATCH path with body (taken), then `done` or the API's message. */
static int call(struct lapi *a, const char *title, const char *method, const char *path,
		json_t *body, const char *done)
{
	struct lapi_reply r;
	int rc = lapi_request(a, method, path, body, &r) < 0 ? action_failed(title, &r)
							     : screen_message(title, done);
	json_decref(body);
	lapi_reply_free(&r);
	return rc;
}

int password_run(struct lapi *a)
{
	const char *title = "Change Root Password";
	char first[257] = "", second[257] = "";
	struct field fields[] = {{"New password:", first, sizeof(first), true},
				 {"Confirm password:", second, sizeof(second), true}};
	const char *err = NULL;
	int rc;
	for (;;) {
		rc = screen_form(title, "Type root's new password twice (it is not shown).", fields,
				 2, err);
		if (rc < 0)
			break;
		if (!first[0])
			err = "The password is empty.";
		else if (strcmp(first, second) != 0)
			err = "The two passwords differ: type them again.";
		else {
			rc = call(a, title, "PATCH", "/users/root",
				  json_pack("{s:s}", "password", first),
				  "Root's password is changed.");
			break;
		}
		first[0] = second[0] = '\0';
	}
	explicit_bzero(first, sizeof(first));
	explicit_bzero(second, sizeof(second));
	return rc;
}

int agents_run(struct lapi *a)
{
	const char *title = "Restart Management Agents";
	int yes = screen_yesno(title, "Restart the management agents? Connections to the host's "
				      "API are cut for a moment; running VMs keep running.");
	if (yes != 1)
		return yes == SCREEN_IDLE ? SCREEN_IDLE : 0;
	return call(a, title, "POST", "/host/agents/restart", NULL,
		    "The management agents are restarting.");
}

int lockdown_off_run(struct lapi *a)
{
	const char *title = "Disable Lockdown Mode";
	int yes = screen_yesno(title, "Turn lockdown mode off? Users with the privileges may then "
				      "log in to the host's API again.");
	if (yes != 1)
		return yes == SCREEN_IDLE ? SCREEN_IDLE : 0;
	return call(a, title, "PUT", "/security/lockdown", json_pack("{s:s}", "mode", "off"),
		    "Lockdown mode is off.");
}

int reset_run(struct lapi *a)
{
	const char *title = "Reset System Configuration";
	char typed[8] = "";
	struct field field = {"Type yes to go on:", typed, sizeof(typed), false};
	int rc = screen_form(title,
			     "This resets the host's configuration to the factory defaults: "
			     "users and passwords, the network, the registered VMs. The files on "
			     "the datastores are kept. The host then restarts.",
			     &field, 1, NULL);
	if (rc < 0)
		return rc;
	if (!form_is_yes(typed))
		return screen_message(title, "Nothing was reset.");
	int yes = screen_yesno(title, "Reset the system configuration now? This cannot be undone.");
	if (yes != 1)
		return yes == SCREEN_IDLE ? SCREEN_IDLE
					  : screen_message(title, "Nothing was reset.");
	struct lapi_reply r;
	if (lapi_request(a, "POST", "/host/factory-reset", NULL, &r) < 0) {
		rc = action_failed(title, &r);
	} else {
		lapi_logout(a); /* the configuration goes, with the session's user */
		rc = screen_message(title, "The host restarts now and comes back with the "
					   "factory defaults, as on its first boot.");
	}
	lapi_reply_free(&r);
	return rc;
}
