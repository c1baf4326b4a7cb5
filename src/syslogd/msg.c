#include "syslogd/msg.h"

#include "common/log.h"
#include "common/logfiles.h"

#include <stdio.h>
#include <string.h>

static int is_digit(char c)
{
	return c >= '0' && c <= '9';
}

/* a decimal number of 1 to `max` digits, no leading zero, at *p */
static int number(const char **p, const char *end, int max, long *out)
{
	const char *s = *p;
	long v = 0;
	int n = 0;
	while (s < end && is_digit(*s) && n < max) {
		v = v * 10 + (*s++ - '0');
		n++;
	}
	if (n == 0 || (s < end && is_digit(*s)) || (n > 1 && **p == '0'))
		return -1;
	*p = s;
	*out = v;
	return 0;
}

/* "Mmm dd hh:mm:ss " (dd may start with a space) */
static int timestamp_len(const char *s, const char *end)
{
	static const char months[] = "JanFebMarAprMayJunJulAugSepOctNovDec";
	static const char shape[] = "Mmm dd hh:mm:ss ";
	if (end - s < 16)
		return 0;
	int month = 0;
	for (int i = 0; i < 12 && !month; i++)
		month = memcmp(s, months + 3 * i, 3) == 0;
	if (!month)
		return 0;
	for (int i = 3; i < 16; i++) {
		char want = shape[i];
		int ok = want == 'd' || want == 'h' || want == 'm' || want == 's' ? is_digit(s[i])
										  : s[i] == want;
		if (i == 4 && s[i] == ' ')
			ok = 1;
		if (!ok)
			return 0;
	}
	return 16;
}

static int tag_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || is_digit(c) || c == '.' ||
	       c == '_' || c == '-' || c == '/';
}

void msg_parse_syslog(const char *buf, size_t len, struct logmsg *m)
{
	const char *p = buf, *end = buf + (len > LOG_MSG_MAX ? LOG_MSG_MAX : len);
	long v;
	*m = (struct logmsg){
	    .pri = MSG_PRI_DEFAULT, .pid = -1, .text = buf, .len = (size_t)(end - buf)};
	while (m->len > 0 && m->text[m->len - 1] == '\n')
		m->len--;
	if (p == end || *p++ != '<' || number(&p, end, 3, &v) < 0 || v > 191 || p == end ||
	    *p++ != '>')
		return;
	m->pri = (int)v;
	p += timestamp_len(p, end);
	const char *tag = p;
	while (p < end && p - tag < MSG_APP_MAX && tag_char(*p))
		p++;
	const char *tag_end = p;
	long pid = -1;
	if (p > tag && p < end && *p == '[') {
		p++;
		if (number(&p, end, 10, &pid) < 0 || p == end || *p++ != ']')
			p = tag_end, pid = -1;
	}
	if (p > tag && p < end && *p == ':') {
		memcpy(m->app, tag, (size_t)(tag_end - tag));
		m->app[tag_end - tag] = '\0';
		m->pid = pid;
		p++;
		if (p < end && *p == ' ')
			p++;
	} else {
		p = tag; /* no tag: the rest is the message */
	}
	m->text = p;
	m->len = (size_t)(end - p);
	while (m->len > 0 && m->text[m->len - 1] == '\n')
		m->len--;
}

/* up to 20 digits, without overflow */
static int u64(const char **p, const char *end, uint64_t *out)
{
	const char *s = *p;
	uint64_t v = 0;
	while (s < end && is_digit(*s)) {
		if (v > (UINT64_MAX - 9) / 10)
			return -1;
		v = v * 10 + (uint64_t)(*s++ - '0');
	}
	if (s == *p)
		return -1;
	*p = s;
	*out = v;
	return 0;
}

int msg_parse_kmsg(const char *buf, size_t len, struct logmsg *m, uint64_t *seq, uint64_t *ts_us)
{
	const char *p = buf, *end = buf + len;
	const char *semi = memchr(buf, ';', len);
	long pri;
	if (!semi || number(&p, semi, 4, &pri) < 0 || pri > 1023 || p == semi || *p++ != ',')
		return -1;
	uint64_t s = 0, t = 0;
	if (u64(&p, semi, &s) < 0 || p == semi || *p++ != ',' || u64(&p, semi, &t) < 0 ||
	    p == semi || *p != ',')
		return -1;
	const char *text = semi + 1, *nl = memchr(text, '\n', (size_t)(end - text));
	/* the kernel's facility is 0; what programs wrote there has theirs */
	*m = (struct logmsg){.pri = pri > 191 ? (int)(pri & 7) : (int)pri,
			     .pid = -1,
			     .text = text,
			     .len = (size_t)((nl ? nl : end) - text)};
	if (m->len > LOG_MSG_MAX)
		m->len = LOG_MSG_MAX;
	strcpy(m->app, "kernel");
	*seq = s;
	*ts_us = t;
	return 0;
}

const char *msg_severity(int pri)
{
	static const char *const names[] = {"emerg",   "alert",	 "crit", "err",
					    "warning", "notice", "info", "debug"};
	return names[pri & 7];
}

size_t msg_format(char *out, size_t cap, const struct timespec *when, const char *host,
		  const struct logmsg *m)
{
	struct tm tm;
	gmtime_r(&when->tv_sec, &tm);
	char pid[24] = "";
	if (m->pid >= 0)
		snprintf(pid, sizeof(pid), "[%ld]", m->pid);
	int n = snprintf(
	    out, cap, "%04d-%02d-%02dT%02d:%02d:%02d.%03ldZ %s %s%s %s: ", tm.tm_year + 1900,
	    tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, when->tv_nsec / 1000000,
	    host, m->app[0] ? m->app : "-", pid, msg_severity(m->pri));
	size_t len = n < 0 ? 0 : (size_t)n >= cap - 1 ? cap - 2 : (size_t)n;
	len += log_escape(out + len, cap - 1 - len, m->text, m->len);
	out[len++] = '\n';
	out[len] = '\0';
	return len;
}
