#include "common/chrony.h"

#include <stdio.h>

int chrony_conf_format(const struct hostconf *hc, char *buf, size_t n)
{
	int used = snprintf(buf, n,
			    "# written by keel-init from " HOSTCONF_FILE "\n"
			    "makestep 1 3\n"
			    "rtcsync\n"
			    "driftfile " CHRONY_DRIFT_DIR "/drift\n"
			    "pidfile " CHRONY_SOCKET_DIR "/chronyd.pid\n"
			    "port 0\n"
			    "cmdport 0\n"
			    "bindcmdaddress " CHRONY_SOCKET "\n");
	if (!hc->ntp[0][0])
		return -1;
	for (int i = 0; i < HOSTCONF_NTP_MAX && hc->ntp[i][0] && used >= 0; i++) {
		int k = snprintf((size_t)used < n ? buf + used : NULL,
				 (size_t)used < n ? n - (size_t)used : 0, "server %s iburst\n",
				 hc->ntp[i]);
		used = k < 0 ? -1 : used + k;
	}
	return used < 0 || (size_t)used >= n ? -1 : used;
}
