#include "syslogd/fwdfmt.h"

#include "common/log.h"

#include <stdio.h>
#include <string.h>

size_t fwd_format(char *out, enum syslog_format f, const struct timespec *when, const char *host,
		  const struct logmsg *m, const char *msgid)
{
	struct tm tm;
	gmtime_r(&when->tv_sec, &tm);
	const char *app = m->app[0] ? m->app : "-";
	int pri = m->pri >= 0 && m->pri <= 191 ? m->pri : MSG_PRI_DEFAULT;
	int n;
	if (f == SYSLOG_RFC3164) {
		static const char months[12][4] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
						   "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
		char pid[24] = "";
		if (m->pid >= 0)
			snprintf(pid, sizeof(pid), "[%ld]", m->pid);
		n = snprintf(out, FWD_MSG_MAX + 1, "<%d>%s %2d %02d:%02d:%02d %s %s%s: ", pri,
			     months[tm.tm_mon % 12], tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
			     host, app, pid);
	} else {
		char pid[24] = "-";
		if (m->pid >= 0)
			snprintf(pid, sizeof(pid), "%ld", m->pid);
		n = snprintf(out, FWD_MSG_MAX + 1,
			     "<%d>1 %04d-%02d-%02dT%02d:%02d:%02d.%06ldZ %s %s %s %s - ", pri,
			     tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min,
			     tm.tm_sec, when->tv_nsec / 1000, host, app, pid,
			     msgid && msgid[0] ? msgid : "-");
	}
	/* the header is far shorter than FWD_MSG_MAX: host <= 64, app <= 48 */
	size_t len = n < 0 ? 0 : (size_t)n;
	if (len > FWD_MSG_MAX)
		len = FWD_MSG_MAX;
	len += log_escape(out + len, FWD_MSG_MAX + 1 - len, m->text, m->len);
	return len;
}

size_t fwd_frame(char *out, const char *msg, size_t len)
{
	int n = snprintf(out, 8, "%zu ", len);
	memcpy(out + n, msg, len);
	return (size_t)n + len;
}
