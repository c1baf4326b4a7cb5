/* The idle screen: what the console shows while nobody is logged in
 * (like ESXi's yellow and grey screen). idle_fetch reads it through the
 * local API without a session: GET /api/v1 (the version), and GET
 * /api/v1/host, /api/v1/network/management and /api/v1/security/lockdown,
 * which keel-hostd answers on its local socket without a login; a part it
 * does not answer is shown as unknown. And a first boot's root password,
 * from the file hostd keeps for the console until the password is changed
 * (FIRST_BOOT_PASSWORD_FILE, common/localapi.h). idle_draw only draws. */
#ifndef KEEL_DCUI_IDLE_H
#define KEEL_DCUI_IDLE_H

#include <stdbool.h>

#include "dcui/lapi.h"

#define IDLE_ADDRESSES_MAX 4

struct idle_info {
	bool agent_answers; /* GET /api/v1 answered */
	char version[32];
	bool have_host; /* the fields of GET /api/v1/host */
	char hostname[256];
	int cpus;
	long memory_mib;
	long vms_running;
	char fingerprint[128];
	bool have_network;
	int naddresses;
	char addresses[IDLE_ADDRESSES_MAX][64]; /* without the prefix length */
	char lockdown[16];			/* "off", "normal", "strict"; "" unknown */
	char first_boot_password[128];		/* "" when there is none */
	char error[LAPI_MESSAGE_MAX];		/* why the agent does not answer */
};

void idle_fetch(struct lapi *a, struct idle_info *info);
void idle_draw(const struct idle_info *info);

#endif
