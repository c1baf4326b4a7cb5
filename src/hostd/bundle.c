#include "hostd/bundle.h"

#include "common/extension.h"
#include "common/hostconf.h"
#include "common/util.h"
#include "hostd/db.h"
#include "hostd/logs.h"
#include "hostd/network.h"
#include "hostd/tar.h"
#include "hostd/vmconf.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>

#define RAW_BUF	  (64 * 1024)
#define SMALL_MAX (4 * 1024 * 1024) /* a /proc or /sys file, or a made member */
#define NAME_MAX_ 256

enum kind {
	M_STREAM, /* a file read while the archive is made (a log) */
	M_SMALL,  /* a file read whole when its turn comes (/proc, /sys) */
	M_MADE,	  /* text made here when its turn comes */
};

struct bundle;
typedef void (*make_fn)(struct bundle *b, const char *arg, FILE *f);

struct member {
	char name[NAME_MAX_]; /* below the top folder */
	enum kind kind;
	char path[512]; /* M_STREAM, M_SMALL; for M_MADE its argument */
	uint64_t tail;	/* M_STREAM: only the last `tail` bytes (0: all) */
	make_fn make;	/* M_MADE */
};

enum phase { NEXT, HEADER, DATA, PAD, TRAILER, DONE };

struct bundle {
	struct bundle_opts o;
	/* copies: the request that gave them ends before the bundle does */
	char user[64], mgmt_if[64];
	char top[128];
	char filename[160];
	time_t when;
	struct member *plan; /* grown as it is made */
	size_t n, cap, next;
	/* the member being written */
	enum phase phase;
	unsigned char hdr[TAR_BLOCK];
	size_t hdr_off;
	int fd;
	uint64_t off, left; /* M_STREAM: where the data is read, what is left */
	char *mem;	    /* M_SMALL, M_MADE */
	size_t mem_len, mem_off;
	size_t pad_left;
	size_t trailer_left;
	/* raw tar bytes waiting for the compressor */
	char raw[RAW_BUF];
	size_t raw_len, raw_off;
	struct gz gz;
	int gz_ok;
	int failed;
	/* what could not be read (skipped.txt, the last member) */
	FILE *skipped;
	char *skipped_text;
	size_t skipped_len;
};

static void rooted(const struct bundle *b, char *out, size_t n, const char *path)
{
	snprintf(out, n, "%s%s", b->o.root ? b->o.root : "", path);
}

static struct member *add(struct bundle *b, const char *name, enum kind kind, const char *path)
{
	if (b->n == b->cap) {
		size_t cap = b->cap ? 2 * b->cap : 64;
		struct member *p = realloc(b->plan, cap * sizeof(*p));
		if (!p)
			return NULL;
		b->plan = p;
		b->cap = cap;
	}
	struct member *m = &b->plan[b->n];
	memset(m, 0, sizeof(*m));
	if (str_copy(m->name, sizeof(m->name), name) < 0 ||
	    str_copy(m->path, sizeof(m->path), path ? path : "") < 0)
		return NULL;
	m->kind = kind;
	b->n++;
	return m;
}

static void add_made(struct bundle *b, const char *name, make_fn make, const char *arg)
{
	struct member *m = add(b, name, M_MADE, arg);
	if (m)
		m->make = make;
}

static void add_small(struct bundle *b, const char *name, const char *path)
{
	char p[512];
	rooted(b, p, sizeof(p), path);
	add(b, name, M_SMALL, p);
}

/* --- made members ----------------------------------------------------------- */

static void make_readme(struct bundle *b, const char *arg, FILE *f)
{
	(void)arg;
	char when[32];
	utc_iso_time(when, b->when);
	fprintf(f,
		"Keel support bundle\n"
		"host: %s\nmade: %s\nfor: %s\nkeel: %s\n"
		"audit trail: %s\n\n"
		"Secrets are left out: no password or password hash, no session token or\n"
		"its hash, no private key. The inventory and host.conf are given by an\n"
		"allow-list of tables, columns and keys; inventory.json names what it\n"
		"left out. Files that could not be read are listed in skipped.txt.\n\n"
		"Members:\n",
		b->o.hostname, when, b->o.user, b->o.version,
		b->o.audit ? "included (the user holds System.Audit)"
			   : "not included (the user lacks System.Audit)");
	for (size_t i = 0; i < b->n; i++)
		fprintf(f, "  %s\n", b->plan[i].name);
}

static void make_version(struct bundle *b, const char *arg, FILE *f)
{
	(void)arg;
	struct utsname u;
	fprintf(f, "keel-version: %s\n", b->o.version);
	if (uname(&u) == 0)
		fprintf(f, "uname: %s %s %s %s %s\n", u.sysname, u.nodename, u.release, u.version,
			u.machine);
}

/* host.conf, its lines by an allow-list of keys */
static void make_hostconf(struct bundle *b, const char *arg, FILE *f)
{
	static const char *const keys[] = {"hostname",	   "mgmt.interface", "mgmt.mode",
					   "mgmt.address", "mgmt.gateway",   "mgmt.dns",
					   "ntp.servers",  "log.size_kib",   "log.keep"};
	char path[512];
	rooted(b, path, sizeof(path), arg);
	char *text = read_file(path, SMALL_MAX, NULL);
	if (!text) {
		fprintf(f, "# %s: %s\n", arg, strerror(errno));
		return;
	}
	fprintf(f, "# %s, keys by an allow-list (others: \"(not included)\")\n", arg);
	for (char *line = text, *next; line && *line; line = next) {
		next = strchr(line, '\n');
		if (next)
			*next++ = '\0';
		const char *p = line + strspn(line, " \t");
		if (*p == '#' || *p == '\0') {
			fprintf(f, "%s\n", line);
			continue;
		}
		size_t klen = strcspn(p, " \t=");
		int ok = 0;
		for (size_t i = 0; i < ARRAY_SIZE(keys) && !ok; i++)
			ok = strlen(keys[i]) == klen && strncmp(p, keys[i], klen) == 0;
		if (ok)
			fprintf(f, "%s\n", line);
		else
			fprintf(f, "%.*s = (not included)\n", (int)(klen > 64 ? 64 : klen), p);
	}
	free(text);
}

/* names and sizes only */
static void list_dir(FILE *f, const char *path, const char *shown, int depth)
{
	DIR *d = opendir(path);
	struct dirent *e;
	while (d && (e = readdir(d))) {
		if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
			continue;
		char p[1024], s[1024];
		struct stat st;
		snprintf(p, sizeof(p), "%s/%s", path, e->d_name);
		snprintf(s, sizeof(s), "%s/%s", shown, e->d_name);
		if (lstat(p, &st) < 0)
			continue;
		fprintf(f, "%10lld %s%s\n", (long long)st.st_size, s,
			S_ISDIR(st.st_mode) ? "/" : "");
		if (S_ISDIR(st.st_mode) && depth < 3)
			list_dir(f, p, s, depth + 1);
	}
	if (d)
		closedir(d);
}

static void make_config_files(struct bundle *b, const char *arg, FILE *f)
{
	char path[512];
	rooted(b, path, sizeof(path), arg);
	fprintf(f, "# the files of %s (names and sizes, not contents)\n", arg);
	list_dir(f, path, arg, 0);
}

static void make_inventory(struct bundle *b, const char *arg, FILE *f)
{
	(void)b;
	(void)arg;
	json_t *j = db_dump_json();
	json_dumpf(j, f, JSON_INDENT(1) | JSON_PRESERVE_ORDER);
	fputc('\n', f);
	json_decref(j);
}

static void make_dmesg(struct bundle *b, const char *arg, FILE *f)
{
	(void)arg;
	char path[512], rec[8192];
	rooted(b, path, sizeof(path), "/dev/kmsg");
	int fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
	if (fd < 0) {
		fprintf(f, "# /dev/kmsg: %s\n", strerror(errno));
		return;
	}
	size_t total = 0;
	for (;;) {
		ssize_t n = read(fd, rec, sizeof(rec));
		if (n < 0 && errno == EPIPE)
			continue; /* records were overwritten while read */
		if (n <= 0 || total + (size_t)n > SMALL_MAX)
			break;
		fwrite(rec, 1, (size_t)n, f);
		total += (size_t)n;
	}
	close(fd);
}

static void make_json(FILE *f, json_t *j)
{
	json_dumpf(j, f, JSON_INDENT(1) | JSON_PRESERVE_ORDER);
	fputc('\n', f);
	json_decref(j);
}

static void make_network(struct bundle *b, const char *arg, FILE *f)
{
	(void)arg;
	make_json(f,
		  json_pack("{s:o,s:o,s:o,s:o,s:o}", "nics", network_nics(b->o.mgmt_if), "switches",
			    network_switches(), "portgroups", network_portgroups(), "connections",
			    network_connections(), "neighbours", network_neighbours()));
}

/* every link's attributes in /sys/class/net, its master, bridge and VLAN
 * settings */
static void make_links(struct bundle *b, const char *arg, FILE *f)
{
	(void)arg;
	static const char *const attrs[] = {"ifindex",
					    "address",
					    "mtu",
					    "operstate",
					    "carrier",
					    "speed",
					    "duplex",
					    "type",
					    "flags",
					    "tx_queue_len",
					    "bridge/vlan_filtering",
					    "bridge/default_pvid",
					    "bridge/stp_state",
					    "brport/pvid",
					    "statistics/rx_bytes",
					    "statistics/tx_bytes",
					    "statistics/rx_errors",
					    "statistics/tx_errors",
					    "statistics/rx_dropped",
					    "statistics/tx_dropped"};
	char dir[512];
	rooted(b, dir, sizeof(dir), "/sys/class/net");
	DIR *d = opendir(dir);
	struct dirent *e;
	while (d && (e = readdir(d))) {
		if (e->d_name[0] == '.')
			continue;
		fprintf(f, "%s:\n", e->d_name);
		char p[1024], link[512];
		for (size_t i = 0; i < ARRAY_SIZE(attrs); i++) {
			snprintf(p, sizeof(p), "%s/%s/%s", dir, e->d_name, attrs[i]);
			char *v = read_file(p, 4096, NULL);
			if (v) {
				fprintf(f, "  %s: %s\n", attrs[i], str_trim(v));
				free(v);
			}
		}
		snprintf(p, sizeof(p), "%s/%s/master", dir, e->d_name);
		ssize_t n = readlink(p, link, sizeof(link) - 1);
		if (n > 0) {
			link[n] = '\0';
			const char *base = strrchr(link, '/');
			fprintf(f, "  master: %s\n", base ? base + 1 : link);
		}
	}
	if (d)
		closedir(d);
}

static void make_processes(struct bundle *b, const char *arg, FILE *f)
{
	(void)arg;
	char dir[512];
	rooted(b, dir, sizeof(dir), "/proc");
	DIR *d = opendir(dir);
	struct dirent *e;
	while (d && (e = readdir(d))) {
		if (e->d_name[0] < '1' || e->d_name[0] > '9' ||
		    strspn(e->d_name, "0123456789") != strlen(e->d_name))
			continue;
		char p[1024];
		size_t len;
		fprintf(f, "=== %s\n", e->d_name);
		snprintf(p, sizeof(p), "%s/%s/stat", dir, e->d_name);
		char *v = read_file(p, 65536, NULL);
		if (v)
			fprintf(f, "stat: %s", v);
		free(v);
		snprintf(p, sizeof(p), "%s/%s/cmdline", dir, e->d_name);
		v = read_file(p, 4096, &len);
		if (v) {
			for (size_t i = 0; i < len; i++)
				if (v[i] == '\0' || v[i] == '\n')
					v[i] = ' ';
			fprintf(f, "cmdline: %s\n", v);
		}
		free(v);
		snprintf(p, sizeof(p), "%s/%s/status", dir, e->d_name);
		v = read_file(p, 65536, NULL);
		if (v)
			fprintf(f, "%s", v);
		free(v);
	}
	if (d)
		closedir(d);
}

static void make_disks(struct bundle *b, const char *arg, FILE *f)
{
	(void)arg;
	char path[512];
	rooted(b, path, sizeof(path), "/proc/self/mounts");
	char *text = read_file(path, SMALL_MAX, NULL);
	fprintf(f, "%-40s %12s %12s %12s %10s %10s\n", "mount", "size_kib", "used_kib", "avail_kib",
		"inodes", "ifree");
	for (char *line = text, *next; line && *line; line = next) {
		next = strchr(line, '\n');
		if (next)
			*next++ = '\0';
		char dev[256], mnt[256];
		struct statvfs sv;
		if (sscanf(line, "%255s %255s", dev, mnt) != 2 || statvfs(mnt, &sv) < 0)
			continue;
		unsigned long long k = sv.f_frsize / 1024 ? sv.f_frsize / 1024 : 1;
		fprintf(f, "%-40s %12llu %12llu %12llu %10llu %10llu\n", mnt,
			(unsigned long long)sv.f_blocks * k,
			(unsigned long long)(sv.f_blocks - sv.f_bfree) * k,
			(unsigned long long)sv.f_bavail * k, (unsigned long long)sv.f_files,
			(unsigned long long)sv.f_ffree);
	}
	free(text);
}

static void make_vm_config(struct bundle *b, const char *arg, FILE *f)
{
	(void)b;
	struct vm_config c;
	if (db_vm_get(arg, &c, NULL) < 0) {
		fprintf(f, "{}\n");
		return;
	}
	json_t *conf = vmconf_json(&c);
	vmconf_redact(conf);
	make_json(f, conf);
}

static void make_skipped(struct bundle *b, const char *arg, FILE *f)
{
	(void)arg;
	fflush(b->skipped);
	if (b->skipped_len)
		fwrite(b->skipped_text, 1, b->skipped_len, f);
	else
		fprintf(f, "(nothing)\n");
}

/* --- the plan ---------------------------------------------------------------- */

static void plan_logs(struct bundle *b)
{
	char dir[512];
	rooted(b, dir, sizeof(dir), b->o.log_dir);
	for (size_t i = 0; i < logs_count(); i++) {
		if (logs_is_audit(i) && !b->o.audit)
			continue;
		for (int k = 0; k <= logs_keep_max(i); k++) {
			char path[1024], name[NAME_MAX_];
			if (k == 0) {
				snprintf(path, sizeof(path), "%s/%s", dir, logs_file(i));
				snprintf(name, sizeof(name), "logs/%s", logs_file(i));
			} else {
				snprintf(path, sizeof(path), "%s/%s.%d", dir, logs_file(i), k);
				snprintf(name, sizeof(name), "logs/%s.%d", logs_file(i), k);
			}
			if (access(path, F_OK) == 0)
				add(b, name, M_STREAM, path);
		}
	}
}

static void plan_vms(struct bundle *b)
{
	size_t n = 0;
	struct vm_config *vms = db_vm_list(&n);
	char dir[512];
	rooted(b, dir, sizeof(dir), b->o.vm_dir);
	for (size_t i = 0; i < n; i++) {
		char name[NAME_MAX_], path[1024];
		const char *vm = vms[i].name;
		snprintf(name, sizeof(name), "vms/%s/config.json", vm);
		add_made(b, name, make_vm_config, vm);
		snprintf(name, sizeof(name), "vms/%s/vmm.log", vm);
		snprintf(path, sizeof(path), "%s/%s/vmm.log", dir, vm);
		add(b, name, M_STREAM, path);
		snprintf(name, sizeof(name), "vms/%s/console.log", vm);
		snprintf(path, sizeof(path), "%s/%s/console.log", dir, vm);
		struct member *m = add(b, name, M_STREAM, path);
		if (m)
			m->tail = BUNDLE_CONSOLE_TAIL;
	}
	free(vms);
}

static void plan(struct bundle *b)
{
	char path[512];
	add_made(b, "README.txt", make_readme, "");
	add_made(b, "version.txt", make_version, "");
	add_small(b, "proc/version", "/proc/version");
	add_small(b, "proc/cmdline", "/proc/cmdline");
	add_small(b, "etc/keel/build", "/etc/keel/build");
	add_small(b, "etc/keel/services", "/etc/keel/services");
	add_small(b, "etc/keel/modules", "/etc/keel/modules");
	add_small(b, "proc/uptime", "/proc/uptime");
	add_small(b, "proc/loadavg", "/proc/loadavg");
	add_small(b, "proc/meminfo", "/proc/meminfo");
	add_small(b, "proc/cpuinfo", "/proc/cpuinfo");
	add_small(b, "proc/modules", "/proc/modules");
	add_small(b, "run/keel/extensions", EXT_STATUS);
	add_small(b, "proc/mounts", "/proc/self/mounts");
	add_small(b, "proc/mountinfo", "/proc/self/mountinfo");
	add_made(b, "disks.txt", make_disks, "");
	plan_logs(b);
	add_made(b, "kernel/dmesg.txt", make_dmesg, "");
	add_made(b, "config/host.conf", make_hostconf, HOSTCONF_FILE);
	add_made(b, "config/files.txt", make_config_files, b->o.config_dir);
	snprintf(path, sizeof(path), "%s/tls/host.crt", b->o.config_dir);
	add_small(b, "config/tls/host.crt", path);
	add_made(b, "inventory.json", make_inventory, "");
	add_made(b, "network/links.txt", make_links, "");
	add_made(b, "network/api.json", make_network, "");
	static const char *const net[] = {"dev",  "route", "ipv6_route", "if_inet6",   "fib_trie",
					  "arp",  "tcp",   "tcp6",	 "udp",	       "udp6",
					  "unix", "snmp",  "netstat",	 "vlan/config"};
	for (size_t i = 0; i < ARRAY_SIZE(net); i++) {
		char name[NAME_MAX_];
		snprintf(name, sizeof(name), "network/proc/%s", net[i]);
		snprintf(path, sizeof(path), "/proc/net/%s", net[i]);
		add_small(b, name, path);
	}
	add_made(b, "processes.txt", make_processes, "");
	plan_vms(b);
	add_made(b, "skipped.txt", make_skipped, "");
}

struct bundle *bundle_new(const struct bundle_opts *o)
{
	struct bundle *b = calloc(1, sizeof(*b));
	if (!b)
		return NULL;
	b->o = *o;
	str_copy(b->user, sizeof(b->user), o->user ? o->user : "");
	b->o.user = b->user;
	if (o->mgmt_if) {
		str_copy(b->mgmt_if, sizeof(b->mgmt_if), o->mgmt_if);
		b->o.mgmt_if = b->mgmt_if;
	}
	b->fd = -1;
	b->when = time(NULL);
	b->skipped = open_memstream(&b->skipped_text, &b->skipped_len);
	b->gz_ok = gz_init(&b->gz) == 0;
	if (!b->skipped || !b->gz_ok) {
		bundle_free(b);
		return NULL;
	}
	struct tm tm;
	gmtime_r(&b->when, &tm);
	char stamp[32];
	strftime(stamp, sizeof(stamp), "%Y%m%dT%H%M%SZ", &tm);
	char host[64];
	str_copy(host, sizeof(host), o->hostname && *o->hostname ? o->hostname : "host");
	for (char *p = host; *p; p++) /* a file name, whatever the host name is */
		if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
		      (*p >= '0' && *p <= '9') || *p == '-' || *p == '.'))
			*p = '_';
	snprintf(b->top, sizeof(b->top), "keel-support-%s-%s", host, stamp);
	snprintf(b->filename, sizeof(b->filename), "%s.tgz", b->top);
	plan(b);
	b->phase = NEXT;
	return b;
}

const char *bundle_filename(const struct bundle *b)
{
	return b->filename;
}

void bundle_free(struct bundle *b)
{
	if (!b)
		return;
	if (b->fd >= 0)
		close(b->fd);
	free(b->mem);
	free(b->plan);
	if (b->skipped)
		fclose(b->skipped);
	free(b->skipped_text);
	if (b->gz_ok)
		gz_end(&b->gz);
	free(b);
}

/* --- making the tar ---------------------------------------------------------- */

static void skip(struct bundle *b, const struct member *m, const char *why)
{
	fprintf(b->skipped, "%s: %s\n", m->name, why);
}

/* Opens the next member of the plan: its header is ready, 0; -1 when the
 * plan is done. */
static int open_next(struct bundle *b)
{
	while (b->next < b->n) {
		const struct member *m = &b->plan[b->next++];
		uint64_t size = 0;
		time_t mtime = b->when;
		b->mem = NULL;
		b->mem_len = b->mem_off = 0;
		if (m->kind == M_STREAM) {
			struct stat st;
			int fd = open(m->path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK);
			if (fd < 0 || fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
				skip(b, m, fd < 0 ? strerror(errno) : "not a regular file");
				if (fd >= 0)
					close(fd);
				continue;
			}
			size = (uint64_t)st.st_size;
			b->off = 0;
			if (m->tail && size > m->tail) {
				b->off = size - m->tail;
				size = m->tail;
			}
			b->fd = fd;
			b->left = size;
			mtime = st.st_mtime;
		} else if (m->kind == M_SMALL) {
			b->mem = read_file(m->path, SMALL_MAX, &b->mem_len);
			if (!b->mem) {
				skip(b, m, strerror(errno));
				continue;
			}
			size = b->mem_len;
		} else {
			FILE *f = open_memstream(&b->mem, &b->mem_len);
			if (!f) {
				skip(b, m, "out of memory");
				continue;
			}
			m->make(b, m->path, f);
			if (fclose(f) != 0) {
				free(b->mem);
				b->mem = NULL;
				skip(b, m, "out of memory");
				continue;
			}
			size = b->mem_len;
		}
		char name[NAME_MAX_ + 160];
		snprintf(name, sizeof(name), "%s/%s", b->top, m->name);
		if (tar_header(b->hdr, name, size, mtime, 0644) < 0) {
			skip(b, m, "name too long for the archive");
			if (b->fd >= 0)
				close(b->fd);
			b->fd = -1;
			free(b->mem);
			b->mem = NULL;
			continue;
		}
		b->hdr_off = 0;
		b->pad_left = tar_padding(size);
		if (m->kind != M_STREAM)
			b->left = size;
		return 0;
	}
	return -1;
}

/* Fills out (cap bytes) with the archive's next raw bytes: how many. */
static size_t produce(struct bundle *b, char *out, size_t cap)
{
	size_t n = 0;
	while (n < cap && b->phase != DONE) {
		size_t room = cap - n, k;
		switch (b->phase) {
		case NEXT:
			if (open_next(b) < 0) {
				b->phase = TRAILER;
				b->trailer_left = TAR_TRAILER;
			} else {
				b->phase = HEADER;
			}
			break;
		case HEADER:
			k = TAR_BLOCK - b->hdr_off < room ? TAR_BLOCK - b->hdr_off : room;
			memcpy(out + n, b->hdr + b->hdr_off, k);
			b->hdr_off += k;
			n += k;
			if (b->hdr_off == TAR_BLOCK)
				b->phase = DATA;
			break;
		case DATA:
			k = b->left < room ? (size_t)b->left : room;
			if (b->fd >= 0) {
				ssize_t r = k ? pread(b->fd, out + n, k, (off_t)b->off) : 0;
				if (r < 0 && errno == EINTR)
					break;
				if (r <= 0) { /* it shrank: the size is kept */
					memset(out + n, '\n', k);
					r = (ssize_t)k;
				}
				k = (size_t)r;
				b->off += k;
			} else {
				memcpy(out + n, b->mem + b->mem_off, k);
				b->mem_off += k;
			}
			b->left -= k;
			n += k;
			if (b->left == 0) {
				if (b->fd >= 0)
					close(b->fd);
				b->fd = -1;
				free(b->mem);
				b->mem = NULL;
				b->phase = PAD;
			}
			break;
		case PAD:
			k = b->pad_left < room ? b->pad_left : room;
			memset(out + n, 0, k);
			b->pad_left -= k;
			n += k;
			if (b->pad_left == 0)
				b->phase = NEXT;
			break;
		case TRAILER:
			k = b->trailer_left < room ? b->trailer_left : room;
			memset(out + n, 0, k);
			b->trailer_left -= k;
			n += k;
			if (b->trailer_left == 0)
				b->phase = DONE;
			break;
		case DONE:
			break;
		}
	}
	return n;
}

long bundle_read(struct bundle *b, char *buf, size_t max)
{
	size_t out = 0;
	while (out < max && !b->gz.finished) {
		if (b->raw_off == b->raw_len && b->phase != DONE) {
			b->raw_len = produce(b, b->raw, sizeof(b->raw));
			b->raw_off = 0;
		}
		size_t used;
		int finish = b->phase == DONE;
		long w = gz_step(&b->gz, b->raw + b->raw_off, b->raw_len - b->raw_off, &used,
				 buf + out, max - out, finish);
		if (w < 0)
			return -1;
		b->raw_off += used;
		out += (size_t)w;
		if (w == 0 && used == 0 && !finish && b->raw_off < b->raw_len)
			return -1; /* no progress: cannot happen with room left */
	}
	return (long)out;
}
