/* The idle screen (idle.h). */
#include "dcui/idle.h"

#include "common/localapi.h"
#include "dcui/screen.h"

#include <curses.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

static void copy(char *dst, size_t size, const json_t *value)
{
	const char *s = json_string_value(value);
	snprintf(dst, size, "%s", s ? s : "");
}

/* GET path into *json; false when it did not answer 200 with JSON. */
static bool get(struct lapi *a, const char *path, struct lapi_reply *r)
{
	return lapi_request(a, "GET", path, NULL, r) == 0 && r->json;
}

/* The first boot's password, if hostd keeps one: its first line. */
static void read_first_boot_password(char *out, size_t size)
{
	out[0] = '\0';
	int fd = open(FIRST_BOOT_PASSWORD_FILE, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0)
		return;
	ssize_t n = read(fd, out, size - 1);
	close(fd);
	out[n > 0 ? n : 0] = '\0';
	out[strcspn(out, "\r\n")] = '\0';
}

void idle_fetch(struct lapi *a, struct idle_info *info)
{
	struct lapi_reply r;
	memset(info, 0, sizeof(*info));
	read_first_boot_password(info->first_boot_password, sizeof(info->first_boot_password));
	if (get(a, "", &r)) {
		info->agent_answers = true;
		copy(info->version, sizeof(info->version), json_object_get(r.json, "version"));
	} else {
		snprintf(info->error, sizeof(info->error), "%s", r.message);
	}
	lapi_reply_free(&r);
	if (!info->agent_answers)
		return;
	if (get(a, "/host", &r)) {
		info->have_host = true;
		copy(info->hostname, sizeof(info->hostname), json_object_get(r.json, "hostname"));
		copy(info->fingerprint, sizeof(info->fingerprint),
		     json_object_get(r.json, "certificate_sha256"));
		info->cpus = (int)json_integer_value(json_object_get(r.json, "cpus"));
		info->memory_mib = (long)json_integer_value(json_object_get(r.json, "memory_mib"));
		info->vms_running =
		    (long)json_integer_value(json_object_get(r.json, "vms_running"));
	}
	lapi_reply_free(&r);
	if (get(a, "/network/management", &r)) {
		info->have_network = true;
		json_t *addresses =
		    json_object_get(json_object_get(r.json, "current"), "addresses");
		size_t i;
		json_t *address;
		json_array_foreach(addresses, i, address)
		{
			if (info->naddresses == IDLE_ADDRESSES_MAX || !json_is_string(address))
				break;
			char *slot = info->addresses[info->naddresses++];
			copy(slot, sizeof(info->addresses[0]), address);
			slot[strcspn(slot, "/")] = '\0';
		}
	}
	lapi_reply_free(&r);
	if (get(a, "/security/lockdown", &r))
		copy(info->lockdown, sizeof(info->lockdown), json_object_get(r.json, "mode"));
	lapi_reply_free(&r);
}

static void row(int y, const char *label, const char *value)
{
	screen_put(y, 4, false, label);
	screen_put(y, 24, true, value);
}

void idle_draw(const struct idle_info *info)
{
	char line[160];
	screen_frame("Keel Direct Console", NULL);
	snprintf(line, sizeof(line), "Keel %s", info->version[0] ? info->version : "");
	screen_put(2, 4, true, line);
	screen_put(3, 4, false, "Bare-metal hypervisor");
	if (!info->agent_answers) {
		screen_put(5, 4, true, "The host agent (keel-hostd) does not answer:");
		screen_wrap(6, 4, info->error);
		screen_put(8, 4, false, "It is restarted by itself; this screen tries again.");
	} else {
		row(5, "Host name:", info->have_host ? info->hostname : "(unknown)");
		if (info->have_host)
			snprintf(line, sizeof(line), "%d CPUs, %ld MiB of memory", info->cpus,
				 info->memory_mib);
		row(6, "Hardware:", info->have_host ? line : "(unknown)");
		if (info->have_host)
			snprintf(line, sizeof(line), "%ld", info->vms_running);
		row(7, "VMs running:", info->have_host ? line : "(unknown)");
		row(8, "Lockdown mode:", info->lockdown[0] ? info->lockdown : "(unknown)");
		int y = 10;
		if (!info->have_network) {
			screen_put(y++, 4, false, "Management address: (unknown)");
		} else if (info->naddresses == 0) {
			screen_put(y++, 4, true,
				   "No management address: press F2 to configure the");
			screen_put(y++, 4, true, "management network");
		} else {
			screen_put(y++, 4, false, "To manage this host, go to:");
			for (int i = 0; i < info->naddresses; i++) {
				bool v6 = strchr(info->addresses[i], ':') != NULL;
				snprintf(line, sizeof(line), "https://%s%s%s/", v6 ? "[" : "",
					 info->addresses[i], v6 ? "]" : "");
				screen_put(y++, 6, true, line);
			}
		}
		y++;
		if (info->fingerprint[0]) {
			/* 95 characters: two lines of 16 bytes (47 and 47) */
			screen_put(y++, 4, false, "TLS certificate SHA-256 fingerprint:");
			snprintf(line, sizeof(line), "%.48s", info->fingerprint);
			screen_put(y++, 6, false, line);
			if (strlen(info->fingerprint) > 48)
				screen_put(y++, 6, false, info->fingerprint + 48);
		}
	}
	if (info->first_boot_password[0]) {
		snprintf(line, sizeof(line), "Root password (first boot): %s",
			 info->first_boot_password);
		screen_put(LINES - 4, 4, true, line);
		screen_put(LINES - 3, 4, false,
			   "Write it down, or change it: F2, then Change Root Password.");
	}
	attron(A_REVERSE);
	mvhline(LINES - 1, 0, ' ', COLS);
	screen_put(LINES - 1, 1, false, "<F2 or 2> Customize System/View Logs");
	screen_put(LINES - 1, COLS - 37, false, "<F12 or 9> Shut Down/Restart");
	attroff(A_REVERSE);
	refresh();
}
