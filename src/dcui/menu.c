/* The System Customization menu (actions.h). */
#include "dcui/actions.h"

#include "dcui/screen.h"

#include <stdbool.h>
#include <stdio.h>
#include <string.h>

struct entry {
	struct menu_item item;
	int (*run)(struct lapi *a);
};

static const struct entry entries[] = {
    {{'1', "Configure Management Network",
      "DHCP or a static IPv4 address, gateway, DNS servers and host name; a change of "
      "address must be confirmed or it is rolled back."},
     netconfig_run},
    {{'2', "Change Root Password", "Sets root's password (asked twice)."}, password_run},
    {{'3', "Restart Management Agents",
      "Restarts keel-hostd, the API agent. Running VMs keep running."},
     agents_run},
    {{'4', "View System Logs", "The host's logs, a page at a time."}, logs_run},
    {{'5', "Test Management Network",
      "Pings the default gateway, asks the DNS servers, and resolves the host name."},
     nettest_run},
    {{'6', "Troubleshooting Options",
      "Tech support mode: the local shell and SSH, and their time-outs."},
     tsm_run},
    {{'7', "Disable Lockdown Mode",
      "Turns normal lockdown mode off (root only). Strict lockdown cannot be ended here."},
     lockdown_off_run},
    {{'8', "Reset System Configuration",
      "Resets the host's configuration to the factory defaults: users, network, "
      "VM registrations. Asked twice."},
     reset_run},
};
#define NENTRIES (int)(sizeof(entries) / sizeof(entries[0]))

/* Whether the host is in normal lockdown (the only one the console ends). */
static bool in_normal_lockdown(struct lapi *a)
{
	struct lapi_reply r;
	bool normal =
	    lapi_request(a, "GET", "/security/lockdown", NULL, &r) == 0 &&
	    strcmp(json_string_value(json_object_get(r.json, "mode")) ?: "", "normal") == 0;
	lapi_reply_free(&r);
	return normal;
}

void menu_run(struct lapi *a)
{
	int selected = 0;
	for (;;) {
		struct menu_item items[NENTRIES];
		const struct entry *shown[NENTRIES];
		int n = 0;
		bool lockdown = in_normal_lockdown(a);
		for (int i = 0; i < NENTRIES; i++) {
			if (entries[i].run == lockdown_off_run && !lockdown)
				continue;
			shown[n] = &entries[i];
			items[n++] = entries[i].item;
		}
		char intro[128];
		snprintf(intro, sizeof(intro), "Logged in as %s.", lapi_user(a) ?: "?");
		int chosen = screen_menu("System Customization", intro, items, n, &selected);
		if (chosen < 0 || shown[chosen]->run(a) == SCREEN_IDLE)
			break;
		if (!lapi_user(a))
			break; /* the screen ended the session (a reset, say) */
	}
	lapi_logout(a);
}
