/* Shut Down/Restart (F12; actions.h): a login first, as on ESXi, then
 * POST /api/v1/host/shutdown or /api/v1/host/reboot {"timeout_s"}: the
 * VMs get that long to shut down. */
#include "dcui/actions.h"

#include "dcui/screen.h"

#include <stdio.h>

#define TITLE	     "Shut Down/Restart"
#define VM_TIMEOUT_S 60

/* What hostd answered: {"state", "vms_running", "timeout_s"} */
static int done(const struct lapi_reply *r, bool reboot)
{
	char text[160];
	snprintf(text, sizeof(text), "The host is %s: %lld VM(s) running get %lld s to shut down.",
		 reboot ? "restarting" : "shutting down",
		 (long long)json_integer_value(json_object_get(r->json, "vms_running")),
		 (long long)json_integer_value(json_object_get(r->json, "timeout_s")));
	return screen_message(TITLE, text);
}

int power_run(struct lapi *a)
{
	int rc = login_ask(a, TITLE ": Authentication Required");
	if (rc < 0)
		return rc;
	static const struct menu_item items[] = {
	    {'1', "Shut down the host", "The VMs are shut down first."},
	    {'2', "Restart the host", "The VMs are shut down first."},
	};
	int selected = 0;
	int chosen = screen_menu(TITLE, NULL, items, 2, &selected);
	if (chosen >= 0) {
		bool reboot = chosen == 1;
		char question[128];
		snprintf(question, sizeof(question), "%s the host now? VMs have %d s to shut down.",
			 reboot ? "Restart" : "Shut down", VM_TIMEOUT_S);
		rc = screen_yesno(TITLE, question);
		if (rc == 1) {
			struct lapi_reply r;
			json_t *body = json_pack("{s:i}", "timeout_s", VM_TIMEOUT_S);
			if (lapi_request(a, "POST", reboot ? "/host/reboot" : "/host/shutdown",
					 body, &r) < 0)
				rc = action_failed(TITLE, &r);
			else
				rc = done(&r, reboot);
			json_decref(body);
			lapi_reply_free(&r);
		}
	}
	lapi_logout(a);
	return rc == SCREEN_IDLE ? SCREEN_IDLE : 0;
}
