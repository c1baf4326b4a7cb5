/* keel-init: PID 1 of a Keel host.
 *
 * Boot: mount the kernel filesystems, load the curated kernel modules, report
 * KVM, mount the Keel disk's partitions (or RAM scratch), set the host name,
 * bring up the network (write /run/keel/mgmt.mode, apply a static address;
 * keel-dhcpc is a service in both modes), start the services (chronyd too
 * when host.conf names NTP servers; keel-syslogd first) and print "ready".
 * SIGHUP: host.conf changed: the NTP servers (common/chrony.h), and
 * keel-syslogd gets the SIGHUP (log rotation). Then supervise the services until a poweroff or
 * reboot is asked for (ACPI power button, Ctrl-Alt-Del, or a signal: SIGUSR2 powers off, SIGTERM
 * reboots), and shut down cleanly: stop services, kill what is left, sync, unmount, power off.
 * Every step is logged to the console; no recoverable error stops the boot. */
#include "common/log.h"
#include "common/netlink.h"
#include "common/util.h"
#include "init/disk.h"
#include "common/chrony.h"
#include "common/bootenv.h"
#include "common/extension.h"
#include "common/hostconf.h"
#include "common/logfiles.h"
#include "common/runstate.h"
#include "init/extload.h"
#include "init/modlist.h"
#include "init/net.h"
#include "init/bootbank.h"
#include "init/consoles.h"
#include "init/services.h"

#include <dirent.h>
#include <ftw.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/input.h>
#include <poll.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/klog.h>
#include <sys/mount.h>
#include <sys/reboot.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <unistd.h>

#define MODULE_LIST	   "/etc/keel/modules"
#define SERVICES_FILE	   "/etc/keel/services"
#define KLOG_CONSOLE_LEVEL 8 /* klogctl: SYSLOG_ACTION_CONSOLE_LEVEL */
#define MAX_INPUTS	   8

struct part {
	const char *label;
	const char *dir;
	int mounted;
};

static struct part parts[] = {
    {LABEL_CONFIG, "/config", 0},
    {LABEL_SCRATCH, "/scratch", 0},
    {LABEL_DATASTORE, "/datastores/local", 0},
};

static struct svctab services;

static void mkdir_p(const char *path)
{
	char tmp[256];
	if (str_copy(tmp, sizeof(tmp), path) < 0)
		return;
	for (char *p = tmp + 1; *p; p++)
		if (*p == '/') {
			*p = '\0';
			mkdir(tmp, 0755);
			*p = '/';
		}
	mkdir(tmp, 0755);
}

static int mount_at(const char *src, const char *dir, const char *type, unsigned long flags,
		    const char *opts)
{
	mkdir_p(dir);
	if (mount(src, dir, type, flags, opts) < 0 && errno != EBUSY) {
		log_errno("cannot mount %s on %s", type, dir);
		return -1;
	}
	return 0;
}

static void mount_kernel_fs(void)
{
	const unsigned long nosuid = MS_NOSUID | MS_NODEV | MS_NOEXEC;
	mount_at("proc", "/proc", "proc", nosuid, NULL);
	mount_at("sysfs", "/sys", "sysfs", nosuid, NULL);
	/* keel-hostd gives each keel-vmm a group of its own (memory, tasks) */
	mount_at("cgroup2", "/sys/fs/cgroup", "cgroup2", nosuid, "nsdelegate");
	mount_at("devtmpfs", "/dev", "devtmpfs", MS_NOSUID, "mode=0755");
	mount_at("devpts", "/dev/pts", "devpts", MS_NOSUID | MS_NOEXEC, "mode=0620,ptmxmode=0666");
	mount_at("tmpfs", "/run", "tmpfs", MS_NOSUID | MS_NODEV, "mode=0755,size=64m");
	mount_at("tmpfs", "/tmp", "tmpfs", MS_NOSUID | MS_NODEV, "mode=1777,size=256m");
}

/* value of keel.NAME= on the kernel command line, or NULL */
static char *cmdline_opt(const char *name, char *out, size_t n)
{
	char *cl = read_file("/proc/cmdline", 4096, NULL);
	if (!cl)
		return NULL;
	char key[64];
	snprintf(key, sizeof(key), "keel.%s=", name);
	char *res = NULL, *save = NULL;
	for (char *w = strtok_r(cl, " \n", &save); w; w = strtok_r(NULL, " \n", &save))
		if (strncmp(w, key, strlen(key)) == 0 && str_copy(out, n, w + strlen(key)) == 0)
			res = out;
	free(cl);
	return res;
}

/* whether the module of this path is loaded (e.g. by an earlier line) */
static int module_present(const char *path)
{
	char name[64], sys[96];
	int e = errno;
	modname_from_path(path, name, sizeof(name));
	snprintf(sys, sizeof(sys), "/sys/module/%s/initstate", name);
	int present = access(sys, F_OK) == 0;
	errno = e;
	return present;
}

static void load_modules(void)
{
	struct utsname u;
	uname(&u);
	char path[256];
	snprintf(path, sizeof(path), "/lib/modules/%s/modules.dep", u.release);
	char *list = read_file(MODULE_LIST, 65536, NULL);
	char *dep = read_file(path, 4 << 20, NULL);
	if (!list || !dep) {
		log_errno("modules: cannot read %s", list ? path : MODULE_LIST);
		goto out;
	}
	struct modlist ml;
	int bad;
	if (modlist_parse(&ml, list, &bad) < 0) {
		log_msg("modules: %s line %d is malformed; loading none", MODULE_LIST, bad);
		goto out;
	}
	char *order[MODLIST_MAX * 2];
	const char *missing[MODLIST_MAX];
	size_t nmissing;
	int n = modlist_order(&ml, dep, order, ARRAY_SIZE(order), missing, &nmissing);
	if (n < 0) {
		log_msg("modules: dependency resolution failed; loading none");
		modlist_free(&ml);
		goto out;
	}
	for (size_t i = 0; i < nmissing; i++)
		log_msg("modules: %s is not in this kernel", missing[i]);
	int loaded = 0;
	char skipped[512] = "";
	for (int i = 0; i < n; i++) {
		snprintf(path, sizeof(path), "/lib/modules/%s/%s", u.release, order[i]);
		int fd = open(path, O_RDONLY | O_CLOEXEC);
		if (fd < 0) {
			log_errno("modules: %s", path);
		} else if (syscall(SYS_finit_module, fd, "", 0) == 0 || module_present(order[i])) {
			loaded++;
		} else if (errno == ENODEV || errno == EIO || errno == EEXIST) {
			/* e.g. kvm_intel on an AMD machine: not for this hardware
			 * (KVM says EEXIST when another vendor module has it) */
			char name[64];
			modname_from_path(order[i], name, sizeof(name));
			size_t l = strlen(skipped);
			snprintf(skipped + l, sizeof(skipped) - l, "%s%s", l ? " " : "", name);
		} else {
			log_errno("modules: cannot load %s", order[i]);
		}
		if (fd >= 0)
			close(fd);
		free(order[i]);
	}
	log_msg("modules: %d loaded%s%s%s", loaded, skipped[0] ? " (no such hardware: " : "",
		skipped, skipped[0] ? ")" : "");
	char *enforce = read_file("/sys/module/module/parameters/sig_enforce", 8, NULL);
	log_msg("modules: %s", enforce && enforce[0] == 'Y'
				   ? "only modules signed by the kernel's builder load "
				     "(module.sig_enforce)"
				   : "unsigned modules would load too (no module.sig_enforce=1)");
	free(enforce);
	modlist_free(&ml);
out:
	free(list);
	free(dep);
}

static int finit_module_fd(int fd)
{
	return syscall(SYS_finit_module, fd, "", 0) == 0 ? 0 : -errno;
}

/* the booted bank's extensions (common/extension.h), and their status */
static void load_extensions(void)
{
	static char status[EXT_MAX * 256];
	int n = extload_all(BOOT_BANK_DIR, finit_module_fd, status, sizeof(status));
	mkdir_p(KEEL_RUN_DIR);
	if (write_file_atomic(EXT_STATUS, status, strlen(status), 0644) < 0)
		log_errno("extensions: cannot write %s", EXT_STATUS);
	if (n > 0)
		log_msg("extensions: %d loaded", n);
}

static void report_kvm(void)
{
	char *mods = read_file("/proc/modules", 1 << 20, NULL);
	const char *vendor = NULL;
	if (mods && strstr(mods, "kvm_amd "))
		vendor = "kvm_amd";
	else if (mods && strstr(mods, "kvm_intel "))
		vendor = "kvm_intel";
	free(mods);
	int dev = access("/dev/kvm", F_OK) == 0;
	if (dev && vendor)
		log_msg("kvm: /dev/kvm ready (%s loaded)", vendor);
	else
		log_msg("kvm: NOT available (/dev/kvm %s, no kvm_amd or kvm_intel loaded); "
			"virtual machines cannot run",
			dev ? "present" : "missing");
}

static int remove_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	if (ftw->level > 0 && strcmp(path, FACTORY_RESET_FILE) != 0 && remove(path) < 0)
		log_errno("factory reset: cannot remove %s", path);
	return 0;
}

/* A factory reset keel-hostd asked for (common/hostconf.h): /config
 * emptied, its marker last, so that a power cut midway resets again. */
static void factory_reset_if_asked(void)
{
	if (access(FACTORY_RESET_FILE, F_OK) < 0)
		return;
	log_msg("factory reset: removing the settings, users, inventory and identities");
	nftw("/config", remove_entry, 16, FTW_DEPTH | FTW_PHYS);
	sync();
	if (unlink(FACTORY_RESET_FILE) < 0)
		log_errno("factory reset: cannot remove %s", FACTORY_RESET_FILE);
	sync();
	log_msg("factory reset: done; the datastores are as they were");
}

/* each file staged for a restore into its place under /config */
static int restore_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)ftw;
	char to[512];
	snprintf(to, sizeof(to), "/config%s", path + strlen(RESTORE_DIR));
	if (flag == FTW_D && ftw->level > 0)
		mkdir(to, 0700);
	else if (flag == FTW_F && rename(path, to) < 0)
		log_errno("restore: cannot move %s to %s", path, to);
	return 0;
}

static int remove_dir(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(path);
}

/* A restore keel-hostd staged (common/hostconf.h): its files moved into
 * /config, the marker last, so that a power cut midway moves the rest at
 * the next boot. */
static void restore_if_asked(void)
{
	if (access(RESTORE_FILE, F_OK) < 0)
		return;
	log_msg("restore: applying the configuration backup staged in " RESTORE_DIR);
	unlink("/config/keel.db-wal"); /* the old inventory's: it goes */
	unlink("/config/keel.db-shm");
	nftw(RESTORE_DIR, restore_entry, 16, FTW_PHYS);
	sync();
	nftw(RESTORE_DIR, remove_dir, 16, FTW_DEPTH | FTW_PHYS);
	if (unlink(RESTORE_FILE) < 0)
		log_errno("restore: cannot remove %s", RESTORE_FILE);
	sync();
	log_msg("restore: done");
}

static void mount_disk(void)
{
	char opt[16];
	double wait = 3.0;
	if (cmdline_opt("diskwait", opt, sizeof(opt)))
		wait = atof(opt);
	double deadline = log_uptime() + wait;
	char dev[80];
	int any = 0;
	/* storage drivers may probe asynchronously: wait a little for the disk */
	while (!(any = disk_find("/sys/class/block", LABEL_CONFIG, dev, sizeof(dev))) &&
	       log_uptime() < deadline)
		usleep(100 * 1000);
	for (size_t i = 0; i < ARRAY_SIZE(parts); i++) {
		struct part *p = &parts[i];
		int found = disk_find("/sys/class/block", p->label, dev, sizeof(dev));
		if (!found) {
			if (any)
				log_msg("disk: no partition labelled %s", p->label);
			continue;
		}
		if (found > 1)
			log_msg("disk: %d partitions labelled %s; using %s", found, p->label, dev);
		enum ext4_state st = ext4_dev_state(dev);
		if (st == EXT4_NOT_EXT4) {
			log_msg("disk: %s (%s) holds no ext4 filesystem; not mounted", p->label,
				dev);
			continue;
		}
		mkdir_p(p->dir);
		if (mount(dev, p->dir, "ext4", MS_NOSUID | MS_NODEV, "") < 0) {
			log_errno("disk: cannot mount %s (%s) on %s", p->label, dev, p->dir);
			continue;
		}
		p->mounted = 1;
		log_msg("disk: %s (%s) mounted on %s, %s", p->label, dev, p->dir,
			st == EXT4_CLEAN ? "clean"
					 : "was not cleanly unmounted (journal replayed)");
	}
	int on_disk = parts[0].mounted || parts[1].mounted || parts[2].mounted;
	if (!on_disk) {
		log_msg("disk: no Keel disk found: running on RAM scratch; "
			"configuration and logs will not persist");
	}
	/* what is not on disk lives in RAM, and the console says so */
	if (!parts[1].mounted) {
		mount_at("tmpfs", "/scratch", "tmpfs", MS_NOSUID | MS_NODEV, "mode=0755");
		if (on_disk)
			log_msg("disk: /scratch is in RAM: logs will not persist");
	}
	if (!parts[0].mounted) {
		mount_at("tmpfs", "/config", "tmpfs", MS_NOSUID | MS_NODEV, "mode=0700");
		if (on_disk)
			log_msg("disk: /config is in RAM: configuration will not persist");
	}
}

/* In both modes the management network gets the dhcpc service: idle in
 * static mode, it is there for keel-hostd to switch to DHCP without a
 * reboot. On a VLAN, the address is on a VLAN interface over the NIC. */
static void setup_network(const struct hostconf *hc)
{
	if (net_link_up("lo") < 0)
		log_errno("net: cannot bring up lo");
	char nic[16], ifname[16], err[256];
	if (hc->mgmt_if[0])
		str_copy(nic, sizeof(nic), hc->mgmt_if);
	else if (hostconf_find_nic(nic, sizeof(nic)) < 0) {
		log_msg("net: no physical network interface found; host is not reachable");
		return;
	}
	if (net_link_up(nic) < 0) {
		log_errno("net: cannot bring up %s", nic);
		return;
	}
	hostconf_ip_ifname(nic, hc->vlan, ifname, sizeof(ifname));
	if (hc->vlan && nl_vlan_add(ifname, nic, (unsigned)hc->vlan, err, sizeof(err)) < 0) {
		log_msg("net: %s; host is not reachable", err);
		return;
	}
	mkdir_p(KEEL_RUN_DIR);
	if (mgmt_mode_write(MGMT_MODE_FILE, hc->mode, ifname) < 0)
		log_errno("net: cannot write %s", MGMT_MODE_FILE);
	if (hc->mode == NET_STATIC)
		net_apply_static(ifname, hc);
	else if (hc->vlan)
		log_msg("net: %s up (VLAN %d on %s), DHCP", ifname, hc->vlan, nic);
	else
		log_msg("net: %s up, DHCP", ifname);
	char *argv[] = {"/sbin/keel-dhcpc", NULL};
	svctab_add(&services, "dhcpc", argv);
}

static void read_hostconf(struct hostconf *hc)
{
	hostconf_defaults(hc);
	char *text = read_file(HOSTCONF_FILE, 65536, NULL);
	if (text) {
		char errs[512];
		if (hostconf_parse(hc, text, errs, sizeof(errs)) > 0)
			log_msg("config: %s: %s(defaults kept for those)", HOSTCONF_FILE, errs);
		free(text);
	} else if (errno != ENOENT) {
		log_errno("config: cannot read %s", HOSTCONF_FILE);
	}
}

static void load_hostconf(struct hostconf *hc)
{
	read_hostconf(hc);
	if (sethostname(hc->hostname, strlen(hc->hostname)) < 0)
		log_errno("cannot set host name");
	else
		log_msg("host name: %s", hc->hostname);
}

/* chronyd runs while host.conf names NTP servers (common/chrony.h): at
 * boot, and again on keel-hostd's SIGHUP after it changed them. */
static void apply_ntp(const struct hostconf *hc)
{
	struct service *s = svctab_find(&services, CHRONY_SERVICE);
	char conf[2048];
	int n = chrony_conf_format(hc, conf, sizeof(conf));
	if (n < 0) {
		if (s && !s->off) {
			svc_stop(s);
			log_msg("ntp: off");
		}
		return;
	}
	struct passwd *pw = getpwnam(CHRONY_USER);
	mkdir_p(CHRONY_DRIFT_DIR);
	if (!pw || chown(CHRONY_DRIFT_DIR, pw->pw_uid, pw->pw_gid) < 0)
		log_errno("ntp: cannot give %s to %s", CHRONY_DRIFT_DIR, CHRONY_USER);
	if (write_file_atomic(CHRONY_CONF_FILE, conf, (size_t)n, 0644) < 0) {
		log_errno("ntp: cannot write %s", CHRONY_CONF_FILE);
		return;
	}
	char *argv[] = CHRONYD_ARGV;
	if (!s && svctab_add(&services, CHRONY_SERVICE, argv) == 0)
		s = &services.svc[services.n - 1];
	if (!s) {
		log_msg("ntp: no room for the %s service", CHRONY_SERVICE);
		return;
	}
	char list[HOSTCONF_NTP_MAX * (HOSTCONF_NTP_LEN + 2)] = "";
	for (int i = 0; i < HOSTCONF_NTP_MAX && hc->ntp[i][0]; i++)
		snprintf(list + strlen(list), sizeof(list) - strlen(list), "%s%s", i ? ", " : "",
			 hc->ntp[i]);
	log_msg("ntp: servers %s", list);
	svc_restart(s);
}

/* keel-syslogd first of all services, so that theirs reach the log files
 * (what keel-init said before it runs is on the console only); a second
 * at most for it to listen on /dev/log */
static void start_syslogd(void)
{
	char *argv[] = {"/sbin/keel-syslogd", NULL};
	if (svctab_add(&services, LOG_SERVICE, argv) < 0)
		return;
	svc_start(&services.svc[services.n - 1]);
	for (int i = 0; i < 100 && access(LOG_SOCKET, F_OK) < 0; i++)
		usleep(10 * 1000);
}

static int open_power_buttons(int *fds)
{
	int n = 0;
	DIR *d = opendir("/dev/input");
	struct dirent *e;
	while (d && (e = readdir(d)) && n < MAX_INPUTS) {
		if (strncmp(e->d_name, "event", 5) != 0)
			continue;
		char path[300];
		snprintf(path, sizeof(path), "/dev/input/%s", e->d_name);
		int fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
		unsigned long keys[KEY_MAX / (8 * sizeof(long)) + 1] = {0};
		if (fd >= 0 && ioctl(fd, EVIOCGBIT(EV_KEY, sizeof(keys)), keys) >= 0 &&
		    (keys[KEY_POWER / (8 * sizeof(long))] >> (KEY_POWER % (8 * sizeof(long))) & 1))
			fds[n++] = fd;
		else if (fd >= 0)
			close(fd);
	}
	if (d)
		closedir(d);
	return n;
}

static int power_pressed(int fd)
{
	struct input_event ev[16];
	ssize_t r = read(fd, ev, sizeof(ev));
	for (ssize_t i = 0; r > 0 && i < r / (ssize_t)sizeof(ev[0]); i++)
		if (ev[i].type == EV_KEY && ev[i].code == KEY_POWER && ev[i].value == 1)
			return 1;
	return 0;
}

static int console_fd(void);

/* the read end of the services' output (svc_set_output) */
static int services_out = -1;

/* What the services wrote, to the console unless the console UI has it
 * (`quiet`): as much as is there, without waiting. */
static void forward_output(int quiet)
{
	static int console = -1;
	if (console < 0)
		console = console_fd();
	char text[4096];
	ssize_t n;
	while (services_out >= 0 && (n = read(services_out, text, sizeof(text))) > 0) {
		if (quiet)
			continue;
		ssize_t w = write(console, text, (size_t)n);
		(void)w; /* a console that takes nothing: nothing to do */
	}
}

static void shutdown_host(int cmd)
{
	const char *what = cmd == RB_AUTOBOOT ? "reboot" : "poweroff";
	log_msg("%s: stopping services", what);
	svctab_stop_all(&services, 10.0);
	log_init("keel-init", console_fd(), NULL); /* the console UI is gone */
	forward_output(0);			   /* what the services said last */
	klogctl(KLOG_CONSOLE_LEVEL, NULL, 7);
	kill(-1, SIGTERM);
	sleep(1);
	kill(-1, SIGKILL);
	while (waitpid(-1, NULL, WNOHANG) > 0)
		;
	sync();
	for (size_t i = ARRAY_SIZE(parts); i-- > 0;) {
		struct part *p = &parts[i];
		if (!p->mounted)
			continue;
		if (umount2(p->dir, 0) == 0) {
			log_msg("%s: unmounted %s", what, p->dir);
		} else {
			log_errno("%s: cannot unmount %s; remounting read-only", what, p->dir);
			if (mount(NULL, p->dir, NULL, MS_REMOUNT | MS_RDONLY, NULL) < 0)
				log_errno("%s: cannot remount %s read-only", what, p->dir);
		}
	}
	sync();
	log_msg("%s: done", what);
	reboot(cmd);
	log_errno("%s: reboot() failed", what);
	for (;;)
		pause();
}

static int console_fd(void)
{
	int fd = open("/dev/console", O_RDWR | O_NOCTTY | O_CLOEXEC);
	return fd >= 0 ? fd : 2;
}

int main(void)
{
	if (getpid() != 1) {
		fprintf(stderr, "keel-init: must run as PID 1\n");
		return 2;
	}
	umask(022);
	mount_kernel_fs();
	log_init("keel-init", console_fd(), LOG_SOCKET);
	log_msg("Keel %s starting", KEEL_VERSION);
	/* Ctrl-Alt-Del becomes SIGINT instead of an immediate reboot */
	reboot(RB_DISABLE_CAD);

	sigset_t mask;
	sigemptyset(&mask);
	sigaddset(&mask, SIGCHLD);
	sigaddset(&mask, SIGTERM);
	sigaddset(&mask, SIGINT);
	sigaddset(&mask, SIGUSR2);
	sigaddset(&mask, SIGHUP);
	sigprocmask(SIG_BLOCK, &mask, NULL);
	int sfd = signalfd(-1, &mask, SFD_CLOEXEC);

	load_modules();
	report_kvm();
	mount_disk();
	factory_reset_if_asked();
	restore_if_asked();
	struct hostconf hc;
	load_hostconf(&hc);
	char *cmdline = read_file("/proc/cmdline", 4096, NULL);
	bootbank_init(cmdline);
	load_extensions();
	consoles_init(cmdline);
	free(cmdline);
	/* the services write to the console through keel-init, which stops
	 * passing it on when the console UI takes the console */
	int out[2] = {-1, -1};
	if (pipe2(out, O_CLOEXEC) == 0) {
		fcntl(out[0], F_SETFL, O_NONBLOCK);
		svc_set_output(out[1]);
	} else {
		log_errno("cannot make the services' output pipe: they write to the console");
	}
	services_out = out[0];
	start_syslogd();

	setup_network(&hc);
	char *svc = read_file(SERVICES_FILE, 65536, NULL);
	if (svc) {
		svctab_parse(&services, svc);
		free(svc);
	} else {
		log_errno("services: cannot read %s", SERVICES_FILE);
	}
	for (int i = 0; i < services.n; i++)
		if (!services.svc[i].pid && !services.svc[i].restart_at) /* not keel-syslogd */
			svc_start(&services.svc[i]);
	apply_ntp(&hc);
	int consoles_pending = consoles_apply(&services, &hc), quiet = 0, boot_pending = 1;

	int inputs[MAX_INPUTS];
	int ninputs = open_power_buttons(inputs);
	log_msg("ready in %.2fs (%d service%s, %s)", log_uptime(), services.n,
		services.n == 1 ? "" : "s",
		ninputs ? "ACPI power button armed" : "no power button found");

	for (;;) {
		struct pollfd pfd[MAX_INPUTS + 3];
		pfd[0] = (struct pollfd){.fd = sfd, .events = POLLIN};
		pfd[ninputs + 1] = (struct pollfd){.fd = out[0], .events = POLLIN};
		pfd[ninputs + 2] = (struct pollfd){.fd = bootbank_events_fd(), .events = POLLIN};
		for (int i = 0; i < ninputs; i++)
			pfd[i + 1] = (struct pollfd){.fd = inputs[i], .events = POLLIN};
		if (consoles_pending)
			consoles_pending = consoles_apply(&services, &hc);
		if (!consoles_pending && !quiet && consoles_own_console(&services)) {
			/* the console is the console UI's: keel-init's lines and the
			 * kernel's (but emergencies) go to the log service only */
			log_msg("the console UI has the console: the rest is in the log service");
			klogctl(KLOG_CONSOLE_LEVEL, NULL, 1);
			int null = open("/dev/null", O_WRONLY | O_CLOEXEC);
			log_init("keel-init", null >= 0 ? null : console_fd(), LOG_SOCKET);
			quiet = 1;
		}
		if (boot_pending && (boot_pending = bootbank_tick(log_uptime())) < 0)
			shutdown_host(RB_AUTOBOOT);
		double next = svctab_tick(&services);
		int timeout = consoles_pending || boot_pending ? 500 : -1;
		if (next > 0) {
			double ms = (next - log_uptime()) * 1000.0;
			if (timeout < 0 || ms < timeout)
				timeout = ms < 0 ? 0 : (int)ms + 1;
		}
		if (poll(pfd, (nfds_t)ninputs + 3, timeout) < 0)
			continue;
		if (pfd[ninputs + 2].revents & POLLIN)
			bootbank_event();
		if (pfd[ninputs + 1].revents & POLLIN) {
			forward_output(quiet);
		}
		for (int i = 0; i < ninputs; i++)
			if ((pfd[i + 1].revents & POLLIN) && power_pressed(inputs[i])) {
				log_msg("ACPI power button pressed");
				shutdown_host(RB_POWER_OFF);
			}
		if (!(pfd[0].revents & POLLIN))
			continue;
		struct signalfd_siginfo si;
		if (read(sfd, &si, sizeof(si)) != (ssize_t)sizeof(si))
			continue;
		switch (si.ssi_signo) {
		case SIGCHLD: {
			int status;
			pid_t pid;
			while ((pid = waitpid(-1, &status, WNOHANG)) > 0)
				svctab_reaped(&services, pid, status, 0);
			break;
		}
		case SIGHUP: { /* host.conf changed: the NTP servers, log rotation */
			read_hostconf(&hc);
			apply_ntp(&hc);
			consoles_pending = consoles_apply(&services, &hc);
			struct service *s = svctab_find(&services, LOG_SERVICE);
			if (s && s->pid)
				kill(s->pid, SIGHUP);
			break;
		}
		case SIGUSR2:
			log_msg("poweroff requested (pid %u)", si.ssi_pid);
			shutdown_host(RB_POWER_OFF);
			break;
		case SIGTERM:
			log_msg("reboot requested (pid %u)", si.ssi_pid);
			shutdown_host(RB_AUTOBOOT);
			break;
		case SIGINT:
			log_msg("Ctrl-Alt-Del: rebooting");
			shutdown_host(RB_AUTOBOOT);
			break;
		}
	}
}
