#include "hostd/mgmt.h"

#include "common/hostconf.h"
#include "common/log.h"
#include "common/resolvconf.h"
#include "common/runstate.h"
#include "common/util.h"
#include "hostd/audit.h"
#include "hostd/error.h"
#include "common/netlink.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <ifaddrs.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define PENDING	      KEEL_RUN_DIR "/mgmt.pending" /* a change waits: see mgmt_init */
#define APPLY_DELAY_S 1				   /* lets the API's answer go out first */
#define TIMEOUT_MIN   10
#define TIMEOUT_MAX   600
#define TIMEOUT_DEF   60

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static char nic[16];	       /* the management NIC */
static char applied_if[16];    /* the interface that has the address now */
static struct hostconf saved;  /* in host.conf */
static struct hostconf active; /* applied, or to be applied at apply_at */
static time_t apply_at;	       /* 0: nothing to apply */
static time_t confirm_by;      /* 0: nothing waits for confirmation */
static char changed_by[64], changed_from[64];

const char *mgmt_ifname(void)
{
	return nic;
}

/* The same addressing: VLAN, mode, and for static the same settings. */
static int same_net(const struct hostconf *a, const struct hostconf *b)
{
	return a->vlan == b->vlan && a->mode == b->mode &&
	       (a->mode == NET_DHCP ||
		(strcmp(a->address, b->address) == 0 && a->prefix == b->prefix &&
		 strcmp(a->gateway, b->gateway) == 0 &&
		 memcmp(a->dns, b->dns, sizeof(a->dns)) == 0));
}

/* keel-dhcpc follows the mode file (the mode, and the interface to work
 * on); SIGHUP makes it read it again. Into static mode, it lets go of its
 * lease first: waits until it is idle. */
static void dhcpc_mode(enum net_mode mode, const char *ifname)
{
	if (mgmt_mode_write(MGMT_MODE_FILE, mode, ifname) < 0)
		log_errno("mgmt: cannot write " MGMT_MODE_FILE);
	char pidfile[64];
	snprintf(pidfile, sizeof(pidfile), SERVICE_PID_FORMAT, DHCPC_SERVICE);
	char *pid = read_file(pidfile, 32, NULL);
	int p = pid ? atoi(pid) : 0;
	free(pid);
	if (p <= 1 || kill(p, SIGHUP) < 0)
		return; /* not running: it reads the file when it starts */
	for (int i = 0; mode == NET_STATIC && i < 50; i++) {
		struct dhcpc_state st;
		if (dhcpc_state_read(DHCPC_STATE_FILE, &st) == 0 && st.phase == DHCPC_IDLE)
			return;
		usleep(100 * 1000);
	}
	if (mode == NET_STATIC)
		log_msg("mgmt: keel-dhcpc did not become idle in 5 s");
}

/* The static address, gateway and DNS servers of hc on `ifname`. */
static void apply_static(const struct hostconf *hc, const char *ifname)
{
	char err[256];
	struct in_addr addr, gw, dns[3];
	int ndns = 0;
	inet_pton(AF_INET, hc->address, &addr);
	if (nl_ipv4_set(ifname, addr, (unsigned)hc->prefix, err, sizeof(err)) < 0 ||
	    (hc->gateway[0] && inet_pton(AF_INET, hc->gateway, &gw) == 1 &&
	     nl_default_route(ifname, gw, true, err, sizeof(err)) < 0)) {
		log_msg("mgmt: %s", err);
		return;
	}
	for (int i = 0; i < 3 && hc->dns[i][0]; i++)
		if (inet_pton(AF_INET, hc->dns[i], &dns[ndns]) == 1)
			ndns++;
	if (resolvconf_write(RESOLV_CONF_FILE, dns, ndns) < 0)
		log_errno("mgmt: cannot write " RESOLV_CONF_FILE);
	log_notice("mgmt: %s static %s/%d gw %s", ifname, hc->address, hc->prefix,
		   hc->gateway[0] ? hc->gateway : "none");
}

/* After a restart of hostd in an unconfirmed change, what the host has is
 * not known: the VLAN interfaces of other management VLANs go, and the
 * NIC's own address when the management network is on a VLAN. */
static void drop_stale(const char *keep)
{
	char err[256];
	struct nl_link *links = NULL;
	size_t n = 0;
	if (nl_links(&links, &n, err, sizeof(err)) < 0)
		log_msg("mgmt: %s", err);
	for (size_t i = 0; i < n; i++)
		if (strcmp(links[i].kind, "vlan") == 0 && strncmp(links[i].name, "mgmt.", 5) == 0 &&
		    strcmp(links[i].name, keep) != 0 &&
		    nl_link_del(links[i].name, err, sizeof(err)) < 0)
			log_msg("mgmt: %s", err);
	free(links);
	if (strcmp(keep, nic) != 0 &&
	    nl_ipv4_set(nic, (struct in_addr){INADDR_ANY}, 0, err, sizeof(err)) < 0)
		log_msg("mgmt: %s", err);
}

/* Moves the management network from `from` (NULL: unknown, all is set
 * again) to `to`: the host name, the VLAN interface, the address. */
static void apply(const struct hostconf *from, const struct hostconf *to)
{
	if ((!from || strcmp(from->hostname, to->hostname) != 0) &&
	    sethostname(to->hostname, strlen(to->hostname)) < 0)
		log_errno("mgmt: cannot set the host name");
	if (!*nic || (from && same_net(from, to)))
		return;
	char err[256], oldif[16], newif[16];
	hostconf_ip_ifname(nic, to->vlan, newif, sizeof(newif));
	hostconf_ip_ifname(nic, from ? from->vlan : to->vlan, oldif, sizeof(oldif));
	int move = strcmp(oldif, newif) != 0;
	if (to->vlan && nl_vlan_add(newif, nic, (unsigned)to->vlan, err, sizeof(err)) < 0)
		log_msg("mgmt: %s", err);
	if (!from)
		drop_stale(newif);
	/* the old interface lets go: its address and routes, or its lease */
	if ((!from || from->mode == NET_STATIC) &&
	    nl_ipv4_set(oldif, (struct in_addr){INADDR_ANY}, 0, err, sizeof(err)) < 0)
		log_msg("mgmt: %s", err);
	if (move && from->mode == NET_DHCP)
		dhcpc_mode(NET_STATIC, oldif);
	if (move && from->vlan && nl_link_del(oldif, err, sizeof(err)) < 0)
		log_msg("mgmt: %s", err);
	if (to->mode == NET_DHCP) {
		dhcpc_mode(NET_DHCP, newif);
		log_notice("mgmt: %s: DHCP", newif);
	} else {
		if (move || !from || from->mode == NET_DHCP)
			dhcpc_mode(NET_STATIC, newif);
		apply_static(to, newif);
	}
	pthread_mutex_lock(&lock);
	str_copy(applied_if, sizeof(applied_if), newif);
	pthread_mutex_unlock(&lock);
}

static int save(const struct hostconf *hc)
{
	char text[2048];
	int n = hostconf_format(hc, text, sizeof(text));
	if (n < 0 || write_file_atomic(HOSTCONF_FILE, text, (size_t)n, 0600) < 0) {
		log_errno("mgmt: cannot write " HOSTCONF_FILE);
		return -1;
	}
	int dir = open("/config", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dir >= 0) {
		fsync(dir);
		close(dir);
	}
	saved = *hc;
	return 0;
}

/* Applies a change when its time comes; rolls back an unconfirmed one. */
static void *worker(void *arg)
{
	(void)arg;
	struct hostconf now = saved; /* what the interface has */
	for (;;) {
		usleep(200 * 1000);
		pthread_mutex_lock(&lock);
		time_t t = time(NULL);
		if (confirm_by && t >= confirm_by) {
			log_notice("mgmt: the change was not confirmed in time: rolling back");
			audit_write(changed_by, changed_from, "rollback", "network/management",
				    "rolledback", 0);
			active = saved;
			confirm_by = 0;
			apply_at = t;
			unlink(PENDING);
		}
		struct hostconf to = active;
		int due = apply_at && t >= apply_at;
		if (due)
			apply_at = 0;
		pthread_mutex_unlock(&lock);
		if (due) {
			apply(&now, &to);
			now = to;
		}
	}
	return NULL;
}

int mgmt_init(void)
{
	hostconf_defaults(&saved);
	char *text = read_file(HOSTCONF_FILE, 65536, NULL);
	if (text)
		hostconf_parse(&saved, text, NULL, 0);
	free(text);
	active = saved;
	if (saved.mgmt_if[0])
		str_copy(nic, sizeof(nic), saved.mgmt_if);
	else if (hostconf_find_nic(nic, sizeof(nic)) < 0)
		log_msg("mgmt: no management interface");
	hostconf_ip_ifname(nic, saved.vlan, applied_if, sizeof(applied_if));
	if (*nic && access(PENDING, F_OK) == 0) {
		log_notice("mgmt: hostd restarted during an unconfirmed change: rolling back");
		apply(NULL, &saved);
		unlink(PENDING);
	}
	pthread_t t;
	if (pthread_create(&t, NULL, worker, NULL) != 0) {
		log_msg("mgmt: cannot start the worker");
		return -1;
	}
	pthread_detach(t);
	return 0;
}

/* --- what the API reads and changes ------------------------------------- */

/* What the host has now: the interface with the management address, its
 * IPv4 addresses and default gateway; lock held. */
static json_t *current(void)
{
	json_t *addrs = json_array();
	struct ifaddrs *ifa = NULL, *i;
	if (getifaddrs(&ifa) == 0)
		for (i = ifa; i; i = i->ifa_next) {
			if (!i->ifa_addr || i->ifa_addr->sa_family != AF_INET ||
			    strcmp(i->ifa_name, applied_if) != 0)
				continue;
			char a[INET_ADDRSTRLEN];
			struct sockaddr_in *sin = (struct sockaddr_in *)i->ifa_addr;
			struct sockaddr_in *mask = (struct sockaddr_in *)i->ifa_netmask;
			inet_ntop(AF_INET, &sin->sin_addr, a, sizeof(a));
			int prefix = mask ? __builtin_popcount(mask->sin_addr.s_addr) : 32;
			json_array_append_new(addrs, json_sprintf("%s/%d", a, prefix));
		}
	freeifaddrs(ifa);
	json_t *gw = json_null();
	char *routes = read_file("/proc/net/route", 65536, NULL);
	char *save = NULL;
	for (char *line = routes ? strtok_r(routes, "\n", &save) : NULL; line;
	     line = strtok_r(NULL, "\n", &save)) {
		char dev[32];
		unsigned dst, via;
		if (sscanf(line, "%31s %x %x", dev, &dst, &via) == 3 && dst == 0 &&
		    strcmp(dev, applied_if) == 0) {
			char a[INET_ADDRSTRLEN];
			inet_ntop(AF_INET, &via, a, sizeof(a));
			json_decref(gw);
			gw = json_string(a);
		}
	}
	free(routes);
	return json_pack("{s:s,s:o,s:o}", "interface", applied_if, "addresses", addrs, "gateway",
			 gw);
}

static json_t *str_or_null(const char *s)
{
	return *s ? json_string(s) : json_null();
}

/* GET's shape; lock held. */
static json_t *describe(void)
{
	const struct hostconf *c = &active;
	json_t *dns = json_array();
	for (int i = 0; i < 3 && c->dns[i][0]; i++)
		json_array_append_new(dns, json_string(c->dns[i]));
	json_t *addr =
	    c->mode == NET_STATIC ? json_sprintf("%s/%d", c->address, c->prefix) : json_null();
	time_t t = time(NULL);
	json_t *pending = confirm_by ? json_pack("{s:I,s:I}", "confirm_by", (json_int_t)confirm_by,
						 "seconds_left",
						 (json_int_t)(confirm_by > t ? confirm_by - t : 0))
				     : json_null();
	return json_pack("{s:s,s:s,s:i,s:s,s:o,s:o,s:o,s:o,s:o}", "hostname", c->hostname,
			 "interface", nic, "vlan", c->vlan, "mode",
			 c->mode == NET_STATIC ? "static" : "dhcp", "address", addr, "gateway",
			 c->mode == NET_STATIC ? str_or_null(c->gateway) : json_null(), "dns", dns,
			 "current", current(), "pending", pending);
}

json_t *mgmt_describe(void)
{
	pthread_mutex_lock(&lock);
	json_t *out = describe();
	pthread_mutex_unlock(&lock);
	return out;
}

static int bad(char *err, size_t errlen, const char *field, const char *want)
{
	return error_set(err, errlen, -EINVAL, "%s: %s", field, want);
}

/* "a.b.c.d/N" into the static fields */
static int set_address(struct hostconf *c, const json_t *v, char *err, size_t errlen)
{
	const char *s = json_string_value(v);
	const char *slash = s ? strchr(s, '/') : NULL;
	char a[20];
	char *end;
	long prefix = slash ? strtol(slash + 1, &end, 10) : -1;
	if (!slash || (size_t)(slash - s) >= sizeof(a) || *end || prefix < 1 || prefix > 32 ||
	    slash[1] == '\0')
		return bad(err, errlen, "address", "want a.b.c.d/prefix, e.g. 192.168.1.20/24");
	memcpy(a, s, (size_t)(slash - s));
	a[slash - s] = '\0';
	struct in_addr in;
	if (!valid_ipv4(a) || inet_pton(AF_INET, a, &in) != 1 || in.s_addr == 0 ||
	    (ntohl(in.s_addr) >> 24) == 127 || (ntohl(in.s_addr) >> 28) >= 14)
		return bad(err, errlen, "address", "not a usable unicast IPv4 address");
	str_copy(c->address, sizeof(c->address), a);
	c->prefix = (int)prefix;
	return 0;
}

static int set_dns(struct hostconf *c, const json_t *v, char *err, size_t errlen)
{
	if (!json_is_array(v) || json_array_size(v) > 3)
		return bad(err, errlen, "dns", "a list of at most 3 IPv4 addresses");
	memset(c->dns, 0, sizeof(c->dns));
	size_t i;
	json_t *d;
	json_array_foreach(v, i, d)
	{
		if (!json_is_string(d) || !valid_ipv4(json_string_value(d)))
			return bad(err, errlen, "dns", "a list of at most 3 IPv4 addresses");
		str_copy(c->dns[i], sizeof(c->dns[i]), json_string_value(d));
	}
	return 0;
}

static int in_subnet(const char *a, const char *b, int prefix)
{
	struct in_addr x, y;
	uint32_t mask = prefix ? 0xffffffffu << (32 - prefix) : 0;
	return inet_pton(AF_INET, a, &x) == 1 && inet_pton(AF_INET, b, &y) == 1 &&
	       (ntohl(x.s_addr) & mask) == (ntohl(y.s_addr) & mask);
}

/* The body on top of `c`; returns 0 or -EINVAL with a message. */
static int parse(struct hostconf *c, const json_t *body, long *timeout, char *err, size_t errlen)
{
	const char *k;
	json_t *v;
	json_object_foreach((json_t *)body, k, v)
	{
		const char *s = json_string_value(v);
		if (strcmp(k, "mode") == 0) {
			if (!s || (strcmp(s, "dhcp") && strcmp(s, "static")))
				return bad(err, errlen, k, "\"dhcp\" or \"static\"");
			c->mode = strcmp(s, "dhcp") == 0 ? NET_DHCP : NET_STATIC;
		} else if (strcmp(k, "vlan") == 0) {
			if (!json_is_null(v) && (!json_is_integer(v) || json_integer_value(v) < 0 ||
						 json_integer_value(v) > HOSTCONF_VLAN_MAX))
				return error_set(
				    err, errlen, -EINVAL,
				    "%s: a VLAN ID from 1 to %d, or 0 or null for none", k,
				    HOSTCONF_VLAN_MAX);
			c->vlan = json_is_null(v) ? 0 : (int)json_integer_value(v);
		} else if (strcmp(k, "address") == 0) {
			if (set_address(c, v, err, errlen) < 0)
				return -EINVAL;
		} else if (strcmp(k, "gateway") == 0) {
			if (!json_is_null(v) && (!s || !valid_ipv4(s)))
				return bad(err, errlen, k, "an IPv4 address, or null for none");
			str_copy(c->gateway, sizeof(c->gateway), s ? s : "");
		} else if (strcmp(k, "dns") == 0) {
			if (set_dns(c, v, err, errlen) < 0)
				return -EINVAL;
		} else if (strcmp(k, "hostname") == 0) {
			if (!s || !valid_hostname(s))
				return bad(err, errlen, k,
					   "1 to 63 characters: letters, digits, '-' and dots "
					   "between labels");
			str_copy(c->hostname, sizeof(c->hostname), s);
		} else if (strcmp(k, "confirm_timeout_s") == 0) {
			if (!json_is_integer(v) || json_integer_value(v) < TIMEOUT_MIN ||
			    json_integer_value(v) > TIMEOUT_MAX)
				return error_set(err, errlen, -EINVAL,
						 "%s: an integer from %d to %d", k, TIMEOUT_MIN,
						 TIMEOUT_MAX);
			*timeout = (long)json_integer_value(v);
		} else {
			return error_set(err, errlen, -EINVAL, "%s: unknown field", k);
		}
	}
	if (c->mode == NET_DHCP) {
		c->address[0] = c->gateway[0] = '\0';
		c->prefix = -1;
		memset(c->dns, 0, sizeof(c->dns));
	} else if (!c->address[0]) {
		return bad(err, errlen, "address", "needed for a static address (a.b.c.d/prefix)");
	} else if (c->gateway[0] && (!in_subnet(c->address, c->gateway, c->prefix) ||
				     strcmp(c->address, c->gateway) == 0)) {
		return error_set(err, errlen, -EINVAL,
				 "gateway: %s is not another address of %s/%d", c->gateway,
				 c->address, c->prefix);
	}
	return 0;
}

int mgmt_change(const json_t *body, const char *user, const char *source, json_t **out, char *err,
		size_t errlen)
{
	long timeout = TIMEOUT_DEF;
	int rc;
	*out = NULL;
	pthread_mutex_lock(&lock);
	struct hostconf next = active;
	if (confirm_by) {
		rc = error_set(err, errlen, -EBUSY,
			       "a change waits for confirmation (or its rollback) until %lld",
			       (long long)confirm_by);
	} else if ((rc = parse(&next, body, &timeout, err, errlen)) < 0) {
		/* err says which field */
	} else if (same_net(&next, &active)) {
		/* the host name alone cannot cut the host off: no confirmation */
		if (save(&next) < 0) {
			rc = error_set(err, errlen, -EIO, "cannot write " HOSTCONF_FILE);
		} else {
			active = next;
			apply_at = time(NULL); /* keeps the worker's view in step */
			if (sethostname(next.hostname, strlen(next.hostname)) < 0)
				log_errno("mgmt: cannot set the host name");
			*out = json_pack("{s:o}", "management", describe());
			rc = 0;
		}
	} else {
		active = next;
		apply_at = time(NULL) + APPLY_DELAY_S;
		confirm_by = apply_at + timeout;
		str_copy(changed_by, sizeof(changed_by), user);
		str_copy(changed_from, sizeof(changed_from), source);
		write_file(PENDING, "", 0, 0600);
		log_notice("mgmt: new settings from %s, to be confirmed within %ld s", user,
			   timeout);
		*out = json_pack("{s:o,s:I,s:i}", "management", describe(), "confirm_by",
				 (json_int_t)confirm_by, "confirm_timeout_s", (int)timeout);
		rc = 1;
	}
	pthread_mutex_unlock(&lock);
	return rc;
}

void mgmt_ntp(char servers[HOSTCONF_NTP_MAX][HOSTCONF_NTP_LEN])
{
	pthread_mutex_lock(&lock);
	memcpy(servers, saved.ntp, sizeof(saved.ntp));
	pthread_mutex_unlock(&lock);
}

int mgmt_signal_init(int sig)
{
	char init[256] = "";
	ssize_t n = readlink("/proc/1/exe", init, sizeof(init) - 1);
	const char *base = n > 0 ? strrchr(init, '/') : NULL;
	if (!base || strcmp(base, "/keel-init") != 0) {
		log_msg("PID 1 is not keel-init: signal %d not sent", sig);
		return -1;
	}
	if (kill(1, sig) < 0) {
		log_errno("cannot send keel-init signal %d", sig);
		return -1;
	}
	return 0;
}

int mgmt_set_ntp(const char servers[HOSTCONF_NTP_MAX][HOSTCONF_NTP_LEN], char *err, size_t errlen)
{
	int rc = 0;
	pthread_mutex_lock(&lock);
	struct hostconf next = saved;
	memcpy(next.ntp, servers, sizeof(next.ntp));
	if (save(&next) < 0)
		rc = error_set(err, errlen, -EIO, "cannot write " HOSTCONF_FILE);
	else /* a change waiting for confirmation keeps them too */
		memcpy(active.ntp, servers, sizeof(active.ntp));
	pthread_mutex_unlock(&lock);
	if (rc == 0)
		mgmt_signal_init(SIGHUP);
	return rc;
}

void mgmt_saved(struct hostconf *out)
{
	pthread_mutex_lock(&lock);
	*out = saved;
	pthread_mutex_unlock(&lock);
}

int mgmt_set_syslog(const struct hostconf *want, char *err, size_t errlen)
{
	int rc = 0;
	pthread_mutex_lock(&lock);
	struct hostconf next = saved;
	memcpy(next.syslog_targets, want->syslog_targets, sizeof(next.syslog_targets));
	next.syslog_format = want->syslog_format;
	memcpy(next.syslog_fingerprint, want->syslog_fingerprint, sizeof(next.syslog_fingerprint));
	if (save(&next) < 0) {
		rc = error_set(err, errlen, -EIO, "cannot write " HOSTCONF_FILE);
	} else { /* a change waiting for confirmation keeps them too */
		memcpy(active.syslog_targets, next.syslog_targets, sizeof(next.syslog_targets));
		active.syslog_format = next.syslog_format;
		memcpy(active.syslog_fingerprint, next.syslog_fingerprint,
		       sizeof(next.syslog_fingerprint));
	}
	pthread_mutex_unlock(&lock);
	if (rc == 0)
		mgmt_signal_init(SIGHUP);
	return rc;
}

int mgmt_set_console(const struct hostconf_console *want, char *err, size_t errlen)
{
	int rc = 0;
	pthread_mutex_lock(&lock);
	struct hostconf next = saved;
	next.console = *want;
	if (save(&next) < 0)
		rc = error_set(err, errlen, -EIO, "cannot write " HOSTCONF_FILE);
	else /* a change waiting for confirmation keeps them too */
		active.console = *want;
	pthread_mutex_unlock(&lock);
	if (rc == 0)
		mgmt_signal_init(SIGHUP);
	return rc;
}

int mgmt_confirm(const char *local_addr, const char *user, json_t **out, char *err, size_t errlen)
{
	int rc = 0;
	*out = NULL;
	pthread_mutex_lock(&lock);
	if (!confirm_by)
		rc = error_set(err, errlen, -EBUSY, "no change waits for confirmation");
	else if (apply_at)
		rc = error_set(err, errlen, -EBUSY,
			       "the change is not applied yet; try again in a second");
	else if (local_addr && active.mode == NET_STATIC && strcmp(local_addr, active.address) != 0)
		rc = error_set(err, errlen, -EBUSY,
			       "confirm over the new settings: this request came to %s, not to %s",
			       local_addr, active.address);
	else if (save(&active) < 0)
		rc = error_set(err, errlen, -EIO, "cannot write " HOSTCONF_FILE);
	else {
		confirm_by = 0;
		unlink(PENDING);
		log_notice("mgmt: change confirmed by %s", user);
		*out = json_pack("{s:o}", "management", describe());
	}
	pthread_mutex_unlock(&lock);
	return rc;
}

int mgmt_rollback(json_t **out, char *err, size_t errlen)
{
	int rc = 0;
	*out = NULL;
	pthread_mutex_lock(&lock);
	if (!confirm_by) {
		rc = error_set(err, errlen, -EBUSY, "no change waits for confirmation");
	} else {
		confirm_by = time(NULL); /* the worker rolls back */
		*out = json_pack("{s:o}", "management", describe());
	}
	pthread_mutex_unlock(&lock);
	return rc;
}
