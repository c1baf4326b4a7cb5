#include "hostd/hosttime.h"

#include "common/chrony.h"
#include "common/log.h"
#include "common/util.h"
#include "hostd/chronyc.h"
#include "hostd/error.h"
#include "hostd/mgmt.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/rtc.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define CHRONYC_TIMEOUT_MS 5000
#define RTC_DEVICE	   "/dev/rtc0"

/* chronyc's answer to `cmd` (CSV), or NULL if it gave none in time */
static char *chronyc(const char *cmd)
{
	char *argv[] = {CHRONYC, "-h", CHRONY_SOCKET, "-c", "-n", (char *)cmd, NULL};
	char *envp[] = {"PATH=/sbin", NULL};
	int fd[2];
	if (pipe2(fd, O_CLOEXEC) < 0)
		return NULL;
	posix_spawn_file_actions_t fa;
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_adddup2(&fa, fd[1], 1);
	posix_spawn_file_actions_addopen(&fa, 2, "/dev/null", O_WRONLY, 0);
	pid_t pid;
	int rc = posix_spawn(&pid, CHRONYC, &fa, NULL, argv, envp);
	posix_spawn_file_actions_destroy(&fa);
	close(fd[1]);
	size_t len = 0, cap = 65536;
	char *out = rc == 0 ? malloc(cap) : NULL;
	struct timespec t0;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	while (out) {
		struct timespec t;
		clock_gettime(CLOCK_MONOTONIC, &t);
		long left = CHRONYC_TIMEOUT_MS -
			    ((t.tv_sec - t0.tv_sec) * 1000 + (t.tv_nsec - t0.tv_nsec) / 1000000);
		struct pollfd p = {.fd = fd[0], .events = POLLIN};
		ssize_t n = -1; /* failed, or too late */
		if (left > 0 && poll(&p, 1, (int)left) > 0)
			n = read(fd[0], out + len, cap - 1 - len);
		if (n > 0 && len + (size_t)n < cap - 1) {
			len += (size_t)n;
			continue;
		}
		if (n != 0) { /* not the end of its output */
			free(out);
			out = NULL;
		}
		break;
	}
	close(fd[0]);
	if (rc == 0) {
		int status;
		kill(pid, SIGKILL); /* it has ended, or is too slow */
		waitpid(pid, &status, 0);
	}
	if (out)
		out[len] = '\0';
	return out;
}

json_t *hosttime_describe(void)
{
	char servers[HOSTCONF_NTP_MAX][HOSTCONF_NTP_LEN];
	mgmt_ntp(servers);
	json_t *list = json_array();
	for (int i = 0; i < HOSTCONF_NTP_MAX && servers[i][0]; i++)
		json_array_append_new(list, json_string(servers[i]));
	json_t *tracking = NULL, *sources = NULL;
	if (servers[0][0]) {
		char *t = chronyc("tracking"), *s = t ? chronyc("sources") : NULL;
		tracking = t ? chronyc_tracking(t) : NULL;
		sources = s ? chronyc_sources(s) : NULL;
		free(t);
		free(s);
	}
	int synced = tracking && json_is_true(json_object_get(tracking, "synchronized"));
	char now[32];
	utc_iso_time(now, time(NULL));
	return json_pack("{s:s,s:b,s:o,s:b,s:o,s:o}", "time", now, "ntp", servers[0][0] != 0,
			 "servers", list, "synchronized", synced, "tracking",
			 tracking ? tracking : json_null(), "sources",
			 sources ? sources : json_array());
}

static int parse_servers(const json_t *v, char out[HOSTCONF_NTP_MAX][HOSTCONF_NTP_LEN], char *err,
			 size_t errlen)
{
	memset(out, 0, HOSTCONF_NTP_MAX * HOSTCONF_NTP_LEN);
	if (!json_is_array(v) || json_array_size(v) > HOSTCONF_NTP_MAX)
		return error_set(err, errlen, -EINVAL, "ntp_servers: a list of at most %d servers",
				 HOSTCONF_NTP_MAX);
	size_t i;
	json_t *s;
	json_array_foreach(v, i, s)
	{
		const char *name = json_string_value(s);
		if (!name || !valid_ntp_server(name))
			return error_set(err, errlen, -EINVAL,
					 "ntp_servers: an IPv4 or IPv6 address or a host name "
					 "(letters, digits, '-', dots; at most 63)");
		memcpy(out[i], name, strlen(name) + 1);
	}
	return 0;
}

static int parse_time(const json_t *v, struct tm *tm, char *err, size_t errlen)
{
	const char *iso = json_string_value(v);
	const char *end = iso ? strptime(iso, "%Y-%m-%dT%H:%M:%SZ", tm) : NULL;
	if (!end || *end || tm->tm_year < 100)
		return error_set(err, errlen, -EINVAL,
				 "time: want UTC as \"YYYY-MM-DDTHH:MM:SSZ\", 2000 or later");
	return 0;
}

/* The clock, then the RTC (the kernel also writes it while NTP keeps it). */
static int set_time(struct tm tm, char *err, size_t errlen)
{
	struct timespec ts = {.tv_sec = timegm(&tm)};
	if (clock_settime(CLOCK_REALTIME, &ts) < 0)
		return error_set(err, errlen, -errno, "cannot set the clock: %s", strerror(errno));
	char iso[32];
	utc_iso_time(iso, ts.tv_sec);
	log_msg("time: clock set to %s", iso);
	int fd = open(RTC_DEVICE, O_RDONLY | O_CLOEXEC);
	struct rtc_time rt = {.tm_sec = tm.tm_sec,
			      .tm_min = tm.tm_min,
			      .tm_hour = tm.tm_hour,
			      .tm_mday = tm.tm_mday,
			      .tm_mon = tm.tm_mon,
			      .tm_year = tm.tm_year};
	if (fd < 0 || ioctl(fd, RTC_SET_TIME, &rt) < 0)
		log_errno("time: cannot write " RTC_DEVICE);
	if (fd >= 0)
		close(fd);
	return 0;
}

int hosttime_change(const json_t *body, char *err, size_t errlen)
{
	char servers[HOSTCONF_NTP_MAX][HOSTCONF_NTP_LEN];
	mgmt_ntp(servers);
	const json_t *list = json_object_get(body, "ntp_servers");
	const json_t *when = json_object_get(body, "time");
	if (!list && !when)
		return error_set(err, errlen, -EINVAL, "want ntp_servers or time");
	if (list && parse_servers(list, servers, err, errlen) < 0)
		return -EINVAL;
	struct tm tm = {0};
	if (when && parse_time(when, &tm, err, errlen) < 0)
		return -EINVAL;
	if (when && servers[0][0])
		return error_set(
		    err, errlen, -EBUSY,
		    "NTP is on: turn it off (ntp_servers: []) to set the time by hand");
	int rc = list ? mgmt_set_ntp(servers, err, errlen) : 0;
	if (rc == 0 && when)
		rc = set_time(tm, err, errlen);
	return rc;
}
