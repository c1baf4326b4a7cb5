#include "common/control.h"

#include <jansson.h>
#include <stdio.h>
#include <string.h>

static const char *const names[CONTROL_CMDS] = {
    [CONTROL_STATE] = "state", [CONTROL_PAUSE] = "pause",	[CONTROL_RESUME] = "resume",
    [CONTROL_STOP] = "stop",   [CONTROL_SHUTDOWN] = "shutdown", [CONTROL_STATS] = "stats",
    [CONTROL_PROBE] = "probe",
};

const char *control_cmd_name(enum control_cmd cmd)
{
	return (unsigned)cmd < CONTROL_CMDS ? names[cmd] : "?";
}

int control_request_format(enum control_cmd cmd, char *buf, size_t n)
{
	int len = snprintf(buf, n, "{\"cmd\": \"%s\"}\n", control_cmd_name(cmd));
	return len < 0 || (size_t)len >= n ? -1 : len;
}

int control_request_parse(const char *line, enum control_cmd *cmd)
{
	json_t *req = json_loads(line, JSON_REJECT_DUPLICATES, NULL);
	const char *name = json_string_value(json_object_get(req, "cmd"));
	int rc = -1;
	for (int i = 0; name && i < CONTROL_CMDS; i++)
		if (strcmp(name, names[i]) == 0) {
			*cmd = (enum control_cmd)i;
			rc = 0;
		}
	json_decref(req);
	return rc;
}
