#include "common/hostconf.h"

#include "common/logfiles.h"
#include "common/util.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <dirent.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

void hostconf_defaults(struct hostconf *hc)
{
	memset(hc, 0, sizeof(*hc));
	str_copy(hc->hostname, sizeof(hc->hostname), "keel");
	hc->mode = NET_DHCP;
	hc->prefix = -1;
	hc->log_size_kib = LOG_SIZE_KIB_DEFAULT;
	hc->log_keep = LOG_KEEP_DEFAULT;
	hc->console.dcui = 1;
}

/* a decimal integer in [min, max] into *out */
static int set_int(int *out, const char *val, long min, long max)
{
	char *end;
	long v = strtol(val, &end, 10);
	if (!*val || *end || !isdigit((unsigned char)*val) || v < min || v > max)
		return -1;
	*out = (int)v;
	return 0;
}

int valid_hostname(const char *s)
{
	/* RFC 1123 label(s): letters, digits, '-', dots between labels */
	size_t len = strlen(s), lab = 0;
	if (len == 0 || len > 63)
		return 0;
	for (size_t i = 0; i < len; i++) {
		char c = s[i];
		if (c == '.') {
			if (lab == 0 || s[i - 1] == '-')
				return 0;
			lab = 0;
			continue;
		}
		if (!isalnum((unsigned char)c) && c != '-')
			return 0;
		if (c == '-' && lab == 0)
			return 0;
		lab++;
	}
	return lab > 0 && s[len - 1] != '-';
}

int valid_ipv4(const char *s)
{
	struct in_addr a;
	return strlen(s) < 16 && inet_pton(AF_INET, s, &a) == 1;
}

int valid_ntp_server(const char *s)
{
	struct in6_addr a6;
	if (valid_ipv4(s) || (strlen(s) < HOSTCONF_NTP_LEN && inet_pton(AF_INET6, s, &a6) == 1))
		return 1;
	const char *last = strrchr(s, '.');
	last = last ? last + 1 : s;
	return valid_hostname(s) && strspn(last, "0123456789") < strlen(last);
}

static int valid_syslog_url(const char *s)
{
	struct syslog_target t;
	return syslog_url_parse(s, &t) == 0;
}

/* a comma-separated list of up to `max` words, each `valid`, into
 * out[max][len] ("" after the last); out is changed only when all are */
static int set_list(char *out, size_t max, size_t len, char *val, int (*valid)(const char *))
{
	char tmp[512] = {0};
	size_t n = 0;
	if (max * len > sizeof(tmp))
		return -1;
	char *save = NULL;
	for (char *w = strtok_r(val, ", ", &save); w; w = strtok_r(NULL, ", ", &save)) {
		if (n == max || !valid(w) || str_copy(tmp + n * len, len, w) < 0)
			return -1;
		n++;
	}
	memcpy(out, tmp, max * len);
	return 0;
}

/* "on" or "off" into *out */
static int set_bool(int *out, const char *val)
{
	if (strcmp(val, "on") && strcmp(val, "off"))
		return -1;
	*out = strcmp(val, "on") == 0;
	return 0;
}

/* seconds since the epoch (0: never) into *out */
static int set_time(long long *out, const char *val)
{
	char *end;
	errno = 0;
	long long v = strtoll(val, &end, 10);
	if (!*val || *end || !isdigit((unsigned char)*val) || errno || v > 1LL << 40)
		return -1;
	*out = v;
	return 0;
}

static int set_console(struct hostconf_console *c, const char *key, char *val)
{
	if (strcmp(key, "console.dcui") == 0)
		return set_bool(&c->dcui, val);
	if (strcmp(key, "tsm.local") == 0)
		return set_bool(&c->tsm_local, val);
	if (strcmp(key, "tsm.ssh") == 0)
		return set_bool(&c->tsm_ssh, val);
	if (strcmp(key, "tsm.local.until") == 0)
		return set_time(&c->tsm_local_until, val);
	if (strcmp(key, "tsm.ssh.until") == 0)
		return set_time(&c->tsm_ssh_until, val);
	if (strcmp(key, "tsm.timeout_s") == 0)
		return set_int(&c->tsm_timeout_s, val, 0, TSM_TIMEOUT_MAX);
	if (strcmp(key, "tsm.idle_s") == 0)
		return set_int(&c->tsm_idle_s, val, 0, TSM_TIMEOUT_MAX);
	return -1;
}

static int set_value(struct hostconf *hc, const char *key, char *val)
{
	if (strncmp(key, "console.", 8) == 0 || strncmp(key, "tsm.", 4) == 0)
		return set_console(&hc->console, key, val);
	if (strcmp(key, "hostname") == 0) {
		if (!valid_hostname(val))
			return -1;
		return str_copy(hc->hostname, sizeof(hc->hostname), val);
	}
	if (strcmp(key, "mgmt.interface") == 0) {
		if (!*val || strlen(val) >= sizeof(hc->mgmt_if) || strpbrk(val, "/ \t"))
			return -1;
		return str_copy(hc->mgmt_if, sizeof(hc->mgmt_if), val);
	}
	if (strcmp(key, "mgmt.vlan") == 0)
		return set_int(&hc->vlan, val, 0, HOSTCONF_VLAN_MAX);
	if (strcmp(key, "mgmt.mode") == 0) {
		if (strcmp(val, "dhcp") == 0)
			hc->mode = NET_DHCP;
		else if (strcmp(val, "static") == 0)
			hc->mode = NET_STATIC;
		else
			return -1;
		return 0;
	}
	if (strcmp(key, "mgmt.address") == 0) {
		/* a.b.c.d/prefix */
		char *slash = strchr(val, '/');
		if (!slash)
			return -1;
		*slash = '\0';
		char *end;
		long p = strtol(slash + 1, &end, 10);
		if (!valid_ipv4(val) || *end || end == slash + 1 || p < 0 || p > 32)
			return -1;
		hc->prefix = (int)p;
		return str_copy(hc->address, sizeof(hc->address), val);
	}
	if (strcmp(key, "mgmt.gateway") == 0) {
		if (!valid_ipv4(val))
			return -1;
		return str_copy(hc->gateway, sizeof(hc->gateway), val);
	}
	if (strcmp(key, "mgmt.dns") == 0) {
		/* up to three, comma-separated */
		return set_list(hc->dns[0], 3, sizeof(hc->dns[0]), val, valid_ipv4);
	}
	if (strcmp(key, "ntp.servers") == 0)
		return set_list(hc->ntp[0], HOSTCONF_NTP_MAX, HOSTCONF_NTP_LEN, val,
				valid_ntp_server);
	if (strcmp(key, "syslog.targets") == 0)
		return set_list(hc->syslog_targets[0], SYSLOG_TARGETS_MAX, SYSLOG_URL_MAX, val,
				valid_syslog_url);
	if (strcmp(key, "syslog.format") == 0)
		return syslog_format_parse(val, &hc->syslog_format);
	if (strcmp(key, "syslog.fingerprint") == 0)
		return syslog_fingerprint_parse(val, hc->syslog_fingerprint);
	if (strcmp(key, "log.size_kib") == 0)
		return set_int(&hc->log_size_kib, val, LOG_SIZE_KIB_MIN, LOG_SIZE_KIB_MAX);
	if (strcmp(key, "log.keep") == 0)
		return set_int(&hc->log_keep, val, LOG_KEEP_MIN, LOG_KEEP_MAX);
	return -2;
}

int hostconf_parse(struct hostconf *hc, const char *text, char *errs, size_t errs_len)
{
	int bad = 0, lineno = 0;
	size_t used = 0;
	if (errs && errs_len)
		errs[0] = '\0';
	char line[512];
	int got;
	while ((got = next_config_line(&text, line, sizeof(line))) != 0) {
		lineno++;
		int rc = 0;
		const char *why = NULL;
		if (got < 0) {
			why = "line too long";
		} else {
			char *l = str_trim(line);
			if (*l) {
				char *eq = strchr(l, '=');
				if (!eq) {
					why = "expected key = value";
				} else {
					*eq = '\0';
					char *key = str_trim(l), *val = str_trim(eq + 1);
					rc = set_value(hc, key, val);
					if (rc == -2)
						why = "unknown key";
					else if (rc < 0)
						why = "invalid value";
				}
			}
		}
		if (why) {
			bad++;
			if (errs && used < errs_len) {
				int k = snprintf(errs + used, errs_len - used, "line %d: %s; ",
						 lineno, why);
				if (k > 0)
					used += (size_t)k;
			}
		}
	}
	if (hc->mode == NET_STATIC && hc->prefix < 0) {
		hc->mode = NET_DHCP;
		bad++;
		if (errs && used < errs_len)
			snprintf(errs + used, errs_len - used,
				 "mgmt.mode static without mgmt.address: using dhcp; ");
	}
	return bad;
}

/* appends to buf like snprintf; *used counts what did not fit too */
static void append(char *buf, size_t n, size_t *used, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static void append(char *buf, size_t n, size_t *used, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	char *at = *used < n ? buf + *used : NULL;
	int k = vsnprintf(at, at ? n - *used : 0, fmt, ap);
	va_end(ap);
	if (k > 0)
		*used += (size_t)k;
}

static int same(const struct hostconf *a, const struct hostconf *b)
{
	int eq = strcmp(a->hostname, b->hostname) == 0 && strcmp(a->mgmt_if, b->mgmt_if) == 0 &&
		 a->vlan == b->vlan && a->mode == b->mode && strcmp(a->address, b->address) == 0 &&
		 a->prefix == b->prefix && strcmp(a->gateway, b->gateway) == 0 &&
		 a->log_size_kib == b->log_size_kib && a->log_keep == b->log_keep &&
		 a->syslog_format == b->syslog_format &&
		 strcmp(a->syslog_fingerprint, b->syslog_fingerprint) == 0 &&
		 memcmp(&a->console, &b->console, sizeof(a->console)) == 0;
	for (int i = 0; i < SYSLOG_TARGETS_MAX; i++)
		eq = eq && strcmp(a->syslog_targets[i], b->syslog_targets[i]) == 0;
	for (int i = 0; i < 3; i++)
		eq = eq && strcmp(a->dns[i], b->dns[i]) == 0;
	for (int i = 0; i < HOSTCONF_NTP_MAX; i++)
		eq = eq && strcmp(a->ntp[i], b->ntp[i]) == 0;
	return eq;
}

int hostconf_format(const struct hostconf *hc, char *buf, size_t n)
{
	size_t used = 0;
	append(buf, n, &used, "# written by keel-hostd\nhostname = %s\n", hc->hostname);
	if (hc->mgmt_if[0])
		append(buf, n, &used, "mgmt.interface = %s\n", hc->mgmt_if);
	if (hc->vlan)
		append(buf, n, &used, "mgmt.vlan = %d\n", hc->vlan);
	append(buf, n, &used, "mgmt.mode = %s\n", hc->mode == NET_STATIC ? "static" : "dhcp");
	if (hc->address[0])
		append(buf, n, &used, "mgmt.address = %s/%d\n", hc->address, hc->prefix);
	if (hc->gateway[0])
		append(buf, n, &used, "mgmt.gateway = %s\n", hc->gateway);
	for (int i = 0; i < 3 && hc->dns[i][0]; i++)
		append(buf, n, &used, "%s%s", i ? ", " : "mgmt.dns = ", hc->dns[i]);
	if (hc->dns[0][0])
		append(buf, n, &used, "\n");
	for (int i = 0; i < HOSTCONF_NTP_MAX && hc->ntp[i][0]; i++)
		append(buf, n, &used, "%s%s", i ? ", " : "ntp.servers = ", hc->ntp[i]);
	if (hc->ntp[0][0])
		append(buf, n, &used, "\n");
	if (hc->log_size_kib != LOG_SIZE_KIB_DEFAULT)
		append(buf, n, &used, "log.size_kib = %d\n", hc->log_size_kib);
	if (hc->log_keep != LOG_KEEP_DEFAULT)
		append(buf, n, &used, "log.keep = %d\n", hc->log_keep);
	for (int i = 0; i < SYSLOG_TARGETS_MAX && hc->syslog_targets[i][0]; i++)
		append(buf, n, &used, "%s%s",
		       i ? ", " : "syslog.targets = ", hc->syslog_targets[i]);
	if (hc->syslog_targets[0][0])
		append(buf, n, &used, "\n");
	if (hc->syslog_format != SYSLOG_RFC5424)
		append(buf, n, &used, "syslog.format = %s\n",
		       syslog_format_name(hc->syslog_format));
	if (hc->syslog_fingerprint[0])
		append(buf, n, &used, "syslog.fingerprint = %s\n", hc->syslog_fingerprint);
	const struct hostconf_console *c = &hc->console;
	if (!c->dcui)
		append(buf, n, &used, "console.dcui = off\n");
	if (c->tsm_local)
		append(buf, n, &used, "tsm.local = on\n");
	if (c->tsm_local_until)
		append(buf, n, &used, "tsm.local.until = %lld\n", c->tsm_local_until);
	if (c->tsm_ssh)
		append(buf, n, &used, "tsm.ssh = on\n");
	if (c->tsm_ssh_until)
		append(buf, n, &used, "tsm.ssh.until = %lld\n", c->tsm_ssh_until);
	if (c->tsm_timeout_s)
		append(buf, n, &used, "tsm.timeout_s = %d\n", c->tsm_timeout_s);
	if (c->tsm_idle_s)
		append(buf, n, &used, "tsm.idle_s = %d\n", c->tsm_idle_s);
	if (used >= n)
		return -1;
	struct hostconf back;
	hostconf_defaults(&back);
	if (hostconf_parse(&back, buf, NULL, 0) != 0 || !same(hc, &back))
		return -1;
	return (int)used;
}

int hostconf_find_nic(char *ifname, size_t n)
{
	struct dirent **list;
	int cnt = scandir("/sys/class/net", &list, NULL, alphasort);
	if (cnt < 0)
		return -1;
	int found = -1;
	for (int i = 0; i < cnt; i++) {
		char path[300];
		snprintf(path, sizeof(path), "/sys/class/net/%s/type", list[i]->d_name);
		char *type = read_file(path, 64, NULL);
		snprintf(path, sizeof(path), "/sys/class/net/%s/device", list[i]->d_name);
		int physical = access(path, F_OK) == 0;
		if (found < 0 && type && atoi(type) == 1 && physical &&
		    str_copy(ifname, n, list[i]->d_name) == 0)
			found = 0;
		free(type);
	}
	for (int i = 0; i < cnt; i++)
		free(list[i]);
	free(list);
	return found;
}

int hostconf_ip_ifname(const char *nic, int vlan, char *out, size_t n)
{
	int k = vlan ? snprintf(out, n, MGMT_VLAN_IFNAME, vlan) : snprintf(out, n, "%s", nic);
	return k < 0 || (size_t)k >= n ? -1 : 0;
}
