#include "common/logfiles.h"

#include <string.h>

static const char *const names[LOGFILE_COUNT] = {
    [LOGFILE_INIT] = "init.log",   [LOGFILE_HOSTD] = "hostd.log",   [LOGFILE_VMM] = "vmm.log",
    [LOGFILE_DCUI] = "dcui.log",   [LOGFILE_KERNEL] = "kernel.log", [LOGFILE_CHRONY] = "chrony.log",
    [LOGFILE_OTHER] = "other.log",
};

static const struct {
	const char *app;
	enum logfile_id id;
} apps[] = {
    {"keel-init", LOGFILE_INIT},   {"keel-dhcpc", LOGFILE_INIT}, {"keel-syslogd", LOGFILE_INIT},
    {"keel-hostd", LOGFILE_HOSTD}, {"keel-vmm", LOGFILE_VMM},	 {"keel-dcui", LOGFILE_DCUI},
    {"keel-shell", LOGFILE_DCUI},  {"kernel", LOGFILE_KERNEL},	 {"chronyd", LOGFILE_CHRONY},
    {"chronyc", LOGFILE_CHRONY},
};

const char *logfile_name(enum logfile_id id)
{
	return id < LOGFILE_COUNT ? names[id] : names[LOGFILE_OTHER];
}

enum logfile_id logfile_for_app(const char *app)
{
	for (size_t i = 0; i < sizeof(apps) / sizeof(apps[0]); i++)
		if (strcmp(app, apps[i].app) == 0)
			return apps[i].id;
	return LOGFILE_OTHER;
}

void logfile_limits(int size_kib, int keep, int in_ram, long *size_out, int *keep_out)
{
	if (in_ram) {
		keep = 1;
		size_kib = LOG_RAM_CAP_KIB / (LOGFILE_COUNT * (keep + 1));
	}
	*size_out = (long)size_kib * 1024;
	*keep_out = keep;
}
