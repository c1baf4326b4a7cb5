/* View System Logs (actions.h): the list of GET /api/v1/logs, then the
 * last lines of the one chosen (GET /api/v1/logs/NAME?lines=N) in the
 * pager. */
#include "dcui/actions.h"

#include "dcui/screen.h"

#include <stdio.h>
#include <string.h>

#define TITLE	   "View System Logs"
#define LOGS_MAX   16
#define TAIL_LINES 2000

/* A name as the API's catalogue spells them (logs.h): put in a URL as is. */
static bool name_plain(const char *name)
{
	return name && *name && strlen(name) < 32 &&
	       strspn(name, "abcdefghijklmnopqrstuvwxyz0123456789-") == strlen(name);
}

static int show(struct lapi *a, const char *name)
{
	char path[96], title[96];
	snprintf(path, sizeof(path), "/logs/%s?lines=%d", name, TAIL_LINES);
	snprintf(title, sizeof(title), TITLE ": %s", name);
	screen_status(title, "Reading the log...");
	struct lapi_reply r;
	int rc = lapi_request(a, "GET", path, NULL, &r) < 0 ? action_failed(title, &r)
							    : screen_pager(title, r.text);
	lapi_reply_free(&r);
	return rc;
}

int logs_run(struct lapi *a)
{
	struct lapi_reply r;
	if (lapi_request(a, "GET", "/logs", NULL, &r) < 0) {
		int rc = action_failed(TITLE, &r);
		lapi_reply_free(&r);
		return rc;
	}
	char names[LOGS_MAX][32], labels[LOGS_MAX][80];
	struct menu_item items[LOGS_MAX];
	int n = 0;
	size_t i;
	json_t *log;
	json_array_foreach(json_object_get(r.json, "logs"), i, log)
	{
		const char *name = json_string_value(json_object_get(log, "name"));
		if (n == LOGS_MAX || !name_plain(name))
			continue;
		snprintf(names[n], sizeof(names[n]), "%s", name);
		snprintf(labels[n], sizeof(labels[n]), "%-16s %10lld bytes", name,
			 (long long)json_integer_value(json_object_get(log, "size")));
		items[n] = (struct menu_item){n < 9 ? (char)('1' + n) : 0, labels[n], NULL};
		n++;
	}
	lapi_reply_free(&r);
	if (n == 0)
		return screen_message(TITLE, "There is no log you may read.");
	int selected = 0;
	for (;;) {
		int chosen = screen_menu(TITLE, "Choose a log:", items, n, &selected);
		if (chosen == SCREEN_CANCEL)
			return 0;
		if (chosen == SCREEN_IDLE || show(a, names[chosen]) == SCREEN_IDLE)
			return SCREEN_IDLE;
	}
}
