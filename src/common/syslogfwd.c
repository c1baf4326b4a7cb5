#include "common/syslogfwd.h"

#include "common/hostconf.h"
#include "common/util.h"

#include <arpa/inet.h>
#include <stdlib.h>
#include <string.h>

static const char *const protos[] = {
    [SYSLOG_UDP] = "udp", [SYSLOG_TCP] = "tcp", [SYSLOG_TLS] = "tls"};
static const unsigned default_ports[] = {
    [SYSLOG_UDP] = 514, [SYSLOG_TCP] = 1514, [SYSLOG_TLS] = 6514};

const char *syslog_proto_name(enum syslog_proto p)
{
	return protos[p];
}

/* the host part [s, end): an address or a name, into t->host */
static int parse_host(const char *s, size_t len, struct syslog_target *t)
{
	if (len == 0 || len >= SYSLOG_HOST_MAX)
		return -1;
	char host[SYSLOG_HOST_MAX];
	memcpy(host, s, len);
	host[len] = '\0';
	if (host[0] == '[') {
		struct in6_addr a6;
		if (len < 3 || host[len - 1] != ']')
			return -1;
		host[len - 1] = '\0';
		if (inet_pton(AF_INET6, host + 1, &a6) != 1)
			return -1;
		memmove(host, host + 1, len - 1);
	} else if (!valid_ipv4(host)) {
		const char *last = strrchr(host, '.');
		last = last ? last + 1 : host;
		if (!valid_hostname(host) || strspn(last, "0123456789") == strlen(last))
			return -1;
	}
	memcpy(t->host, host, sizeof(host));
	return 0;
}

int syslog_url_parse(const char *url, struct syslog_target *t)
{
	size_t len = strnlen(url, SYSLOG_URL_MAX);
	if (len == SYSLOG_URL_MAX || len < 7 || memcmp(url + 3, "://", 3) != 0)
		return -1;
	int proto = -1;
	for (int i = 0; i < 3; i++)
		if (memcmp(url, protos[i], 3) == 0)
			proto = i;
	if (proto < 0)
		return -1;
	const char *host = url + 6, *end = url + len;
	/* the port's colon: after a bracketed address, or the last one */
	const char *colon;
	if (*host == '[') {
		const char *close = memchr(host, ']', (size_t)(end - host));
		if (!close)
			return -1;
		colon = close + 1 < end ? close + 1 : NULL;
		if (colon && *colon != ':')
			return -1;
	} else {
		colon = memchr(host, ':', (size_t)(end - host));
	}
	unsigned port = default_ports[proto];
	if (colon) {
		const char *p = colon + 1;
		size_t digits = (size_t)(end - p);
		if (digits == 0 || digits > 5 || *p == '0')
			return -1;
		port = 0;
		for (; p < end; p++) {
			if (*p < '0' || *p > '9')
				return -1;
			port = port * 10 + (unsigned)(*p - '0');
		}
		if (port > 65535)
			return -1;
	}
	struct syslog_target out = {.proto = (enum syslog_proto)proto, .port = port};
	if (parse_host(host, (size_t)((colon ? colon : end) - host), &out) < 0)
		return -1;
	*t = out;
	return 0;
}

int syslog_format_parse(const char *s, enum syslog_format *f)
{
	if (strcmp(s, "rfc5424") == 0)
		*f = SYSLOG_RFC5424;
	else if (strcmp(s, "rfc3164") == 0)
		*f = SYSLOG_RFC3164;
	else
		return -1;
	return 0;
}

const char *syslog_format_name(enum syslog_format f)
{
	return f == SYSLOG_RFC3164 ? "rfc3164" : "rfc5424";
}

int syslog_fingerprint_parse(const char *s, char *out)
{
	size_t len = strnlen(s, 3 * SYSLOG_FP_LEN);
	int colons = len == SYSLOG_FP_LEN / 2 * 3 - 1;
	if (len != SYSLOG_FP_LEN && !colons)
		return -1;
	char fp[SYSLOG_FP_LEN + 1];
	size_t n = 0;
	for (size_t i = 0; i < len; i++) {
		if (colons && i % 3 == 2) {
			if (s[i] != ':')
				return -1;
			continue;
		}
		int v = hex_digit(s[i]);
		if (v < 0)
			return -1;
		fp[n++] = "0123456789abcdef"[v];
	}
	fp[n] = '\0';
	memcpy(out, fp, sizeof(fp));
	return 0;
}

const char *syslog_state_name(enum syslog_state s)
{
	return s == SYSLOG_CONNECTED ? "connected" : s == SYSLOG_CONNECTING ? "connecting" : "down";
}

/* a decimal count of 1 to 19 digits at *p, then a space or the end */
static int count(const char **p, unsigned long *out)
{
	const char *s = *p;
	unsigned long v = 0;
	int n = 0;
	while (*s >= '0' && *s <= '9' && n < 19)
		v = v * 10 + (unsigned long)(*s++ - '0'), n++;
	if (n == 0 || (*s && *s != ' '))
		return -1;
	*p = s;
	*out = v;
	return 0;
}

int syslog_status_parse(const char *line, struct syslog_status *st)
{
	struct syslog_status out = {0};
	const char *sp = strchr(line, ' ');
	if (!sp || (size_t)(sp - line) >= SYSLOG_URL_MAX)
		return -1;
	memcpy(out.url, line, (size_t)(sp - line));
	struct syslog_target t;
	if (syslog_url_parse(out.url, &t) < 0)
		return -1;
	const char *p = sp + 1;
	int found = 0;
	for (int i = SYSLOG_DOWN; i <= SYSLOG_CONNECTED && !found; i++) {
		const char *name = syslog_state_name((enum syslog_state)i);
		size_t n = strlen(name);
		if (strncmp(p, name, n) == 0 && p[n] == ' ') {
			out.state = (enum syslog_state)i;
			p += n + 1;
			found = 1;
		}
	}
	if (!found || count(&p, &out.queued) < 0 || *p++ != ' ' || count(&p, &out.lost) < 0)
		return -1;
	if (*p == ' ') {
		p++;
		size_t n = strnlen(p, SYSLOG_WHY_MAX - 1);
		memcpy(out.why, p, n);
		out.why[n] = '\0';
	}
	*st = out;
	return 0;
}
