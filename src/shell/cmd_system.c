/* disks, mounts, df, dmesg: the host's block devices (/sys/block), its
 * mounts (/proc/self/mountinfo), their usage (statvfs) and the kernel's
 * ring buffer (klogctl, read without clearing it). */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/klog.h>
#include <sys/statvfs.h>

#include "common/util.h"
#include "shell/cmd.h"
#include "shell/out.h"
#include "shell/procfs.h"

#define MOUNT_LINE_MAX 8192
#define KLOG_MAX       (4 << 20)
#define DISKS_MAX      1024

static void fmt_bytes(char *out, size_t n, unsigned long long v)
{
	static const char *const units[] = {"B", "KiB", "MiB", "GiB", "TiB", "PiB"};
	double x = (double)v;
	size_t u = 0;
	while (x >= 1024 && u + 1 < ARRAY_SIZE(units)) {
		x /= 1024;
		u++;
	}
	snprintf(out, n, u ? "%.1f %s" : "%.0f %s", x, units[u]);
}

int sysfs_line(const char *path, char *out, size_t n)
{
	FILE *f = fopen(path, "re");
	if (!f)
		return -1;
	int rc = fgets(out, (int)n, f) ? 0 : -1;
	fclose(f);
	out[strcspn(out, "\n")] = '\0';
	text_printable_name(out);
	return rc;
}

static int compare_names(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static void print_disk(const char *dir, const char *disk)
{
	char path[PATH_MAX], v[128], model[128] = "", size[32], name[72];
	char ro[8] = "?", rot[8] = "?";
	unsigned long long sectors = 0;
	snprintf(path, sizeof(path), "%s/%s/size", dir, disk);
	if (sysfs_line(path, v, sizeof(v)) == 0)
		sectors = strtoull(v, NULL, 10);
	fmt_bytes(size, sizeof(size), sectors > (~0ull >> 9) ? 0 : sectors << 9);
	snprintf(path, sizeof(path), "%s/%s/ro", dir, disk);
	sysfs_line(path, ro, sizeof(ro));
	snprintf(path, sizeof(path), "%s/%s/queue/rotational", dir, disk);
	sysfs_line(path, rot, sizeof(rot));
	snprintf(path, sizeof(path), "%s/%s/device/model", dir, disk);
	sysfs_line(path, model, sizeof(model));
	str_copy(name, sizeof(name), disk);
	text_printable_name(name);
	printf("%-12s %12s %4s %-3s %s\n", name, size, ro, rot, str_trim(model));
}

int cmd_disks(struct shell *sh, int argc, char **argv)
{
	(void)argv;
	char dir[1024];
	if (argc != 1) {
		say_error("disks", "usage: disks");
		return 1;
	}
	snprintf(dir, sizeof(dir), "%s/sys/block", sh->root);
	DIR *d = opendir(dir);
	if (!d) {
		say_error("disks", "%s: %s", dir, strerror(errno));
		return 1;
	}
	char *names[DISKS_MAX];
	size_t n = 0;
	for (struct dirent *e; (e = readdir(d)) && n < DISKS_MAX;)
		if (e->d_name[0] != '.' && strlen(e->d_name) <= 64 &&
		    (names[n] = strdup(e->d_name)))
			n++;
	closedir(d);
	qsort(names, n, sizeof(*names), compare_names);
	printf("%-12s %12s %4s %-3s %s\n", "NAME", "SIZE", "RO", "ROT", "MODEL");
	for (size_t i = 0; i < n; i++) {
		print_disk(dir, names[i]);
		free(names[i]);
	}
	return 0;
}

/* calls each(m, ctx) for every mount; -1 if mountinfo cannot be read */
static int each_mount(struct shell *sh, void (*each)(struct mountinfo *m, void *ctx), void *ctx)
{
	char path[PATH_MAX];
	snprintf(path, sizeof(path), "%s/proc/self/mountinfo", sh->root);
	FILE *f = fopen(path, "re");
	if (!f)
		return -1;
	static char line[MOUNT_LINE_MAX];
	while (fgets(line, sizeof(line), f)) {
		struct mountinfo m;
		if (!strchr(line, '\n')) { /* too long: skip the rest */
			int c;
			while ((c = fgetc(f)) != EOF && c != '\n')
				;
			continue;
		}
		if (mountinfo_parse(line, &m) == 0)
			each(&m, ctx);
	}
	fclose(f);
	return 0;
}

static void print_mount(struct mountinfo *m, void *ctx)
{
	(void)ctx;
	printf("%-24s %-32s %-10s %s\n", m->source, m->mount_point, m->fstype, m->options);
}

int cmd_mounts(struct shell *sh, int argc, char **argv)
{
	(void)argv;
	if (argc != 1) {
		say_error("mounts", "usage: mounts");
		return 1;
	}
	printf("%-24s %-32s %-10s %s\n", "SOURCE", "MOUNT POINT", "TYPE", "OPTIONS");
	if (each_mount(sh, print_mount, NULL) < 0) {
		say_error("mounts", "the mount table cannot be read");
		return 1;
	}
	return 0;
}

static void print_usage(struct mountinfo *m, void *ctx)
{
	struct shell *sh = ctx;
	static const char *const skip[] = {
	    "proc",    "sysfs",	      "devpts",	   "cgroup", "cgroup2",	 "securityfs",
	    "debugfs", "tracefs",     "bpf",	   "mqueue", "pstore",	 "configfs",
	    "fusectl", "binfmt_misc", "hugetlbfs", "nsfs",   "efivarfs", "autofs"};
	for (size_t i = 0; i < ARRAY_SIZE(skip); i++)
		if (!strcmp(m->fstype, skip[i]))
			return;
	char path[PATH_MAX];
	struct statvfs v;
	snprintf(path, sizeof(path), "%s%s", sh->root, m->mount_point);
	if (statvfs(path, &v) < 0 || v.f_blocks == 0)
		return;
	unsigned long long size = (unsigned long long)v.f_blocks * v.f_frsize,
			   avail = (unsigned long long)v.f_bavail * v.f_frsize,
			   used = (unsigned long long)(v.f_blocks - v.f_bfree) * v.f_frsize;
	char s[32], u[32], a[32];
	fmt_bytes(s, sizeof(s), size);
	fmt_bytes(u, sizeof(u), used);
	fmt_bytes(a, sizeof(a), avail);
	unsigned pct = used + avail ? (unsigned)(used * 100 / (used + avail)) : 0;
	printf("%-32s %-10s %11s %11s %11s %4u%%\n", m->mount_point, m->fstype, s, u, a, pct);
}

int cmd_df(struct shell *sh, int argc, char **argv)
{
	(void)argv;
	if (argc != 1) {
		say_error("df", "usage: df");
		return 1;
	}
	printf("%-32s %-10s %11s %11s %11s %5s\n", "MOUNT POINT", "TYPE", "SIZE", "USED", "AVAIL",
	       "USE");
	if (each_mount(sh, print_usage, sh) < 0) {
		say_error("df", "the mount table cannot be read");
		return 1;
	}
	return 0;
}

int cmd_dmesg(struct shell *sh, int argc, char **argv)
{
	(void)sh;
	(void)argv;
	if (argc != 1) {
		say_error("dmesg", "usage: dmesg");
		return 1;
	}
	int size = klogctl(10 /* SYSLOG_ACTION_SIZE_BUFFER */, NULL, 0);
	if (size <= 0 || size > KLOG_MAX)
		size = 1 << 20;
	char *buf = malloc((size_t)size);
	if (!buf) {
		say_error("dmesg", "out of memory");
		return 1;
	}
	int n = klogctl(3 /* SYSLOG_ACTION_READ_ALL: leaves the buffer as it is */, buf, size);
	if (n < 0) {
		say_error("dmesg", "cannot read the kernel's messages: %s", strerror(errno));
		free(buf);
		return 1;
	}
	/* each line without its "<PRIORITY>" */
	int rc = 0;
	for (int i = 0; i < n && rc == 0;) {
		char *nl = memchr(buf + i, '\n', (size_t)(n - i));
		int end = nl ? (int)(nl - buf) + 1 : n, start = i;
		if (buf[start] == '<') {
			int j = start + 1;
			while (j < end && j - start < 5 && buf[j] >= '0' && buf[j] <= '9')
				j++;
			if (j < end && buf[j] == '>')
				start = j + 1;
		}
		rc = write_text(stdout, buf + start, (size_t)(end - start));
		i = end;
	}
	free(buf);
	return rc < 0 ? 1 : 0;
}
