#include "hostd/vms.h"

#include "common/control.h"
#include "common/log.h"
#include "common/util.h"
#include "hostd/db.h"
#include "hostd/error.h"
#include "hostd/network.h"
#include "hostd/vmfiles.h"
#include "hostd/vmmjail.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define MAX_VMS	     256
#define STOP_GRACE_S 10.0 /* after "stop" or SIGTERM, before SIGKILL */

enum vm_state { OFF, RUNNING, STOPPING };

static struct vmrt {
	char name[65];
	int64_t id;		  /* in the inventory: names its TAPs */
	pid_t pid;		  /* 0: free slot */
	unsigned long long start; /* the process's start time (/proc/PID/stat) */
	int child;		  /* ours to reap */
	enum vm_state state;
	double since;	    /* monotonic time of power-on */
	double shutdown_at; /* a guest shutdown times out: then "stop" */
	double kill_at;	    /* a stop times out: then SIGKILL */
} vms[MAX_VMS];

static struct autostart {
	char name[65];
	int delay_s;
} queue[MAX_VMS];
static int queue_len, queue_next;
static double queue_at;

/* maintenance mode (vms.h); while entering, the VMs shut down until then */
static enum vms_maintenance maint;
static double maint_deadline;
static char maint_by[64];
#define MAINT_SETTING "maintenance"

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static const char *vmm_path, *rundir, *logdir;
static vmconf_resolve_fn resolve;

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

void vms_init(const char *vmm, const char *run, const char *log, vmconf_resolve_fn fn)
{
	vmm_path = vmm;
	rundir = run;
	logdir = log;
	resolve = fn;
	mkdir(run, 0700);
	mkdir(log, 0750);
	vmmjail_init(run);
}

void vms_lock(void)
{
	pthread_mutex_lock(&lock);
}

void vms_unlock(void)
{
	pthread_mutex_unlock(&lock);
}

static struct vmrt *find(const char *name)
{
	for (int i = 0; i < MAX_VMS; i++)
		if (vms[i].pid && strcmp(vms[i].name, name) == 0)
			return &vms[i];
	return NULL;
}

int vms_running_locked(const char *name)
{
	return find(name) != NULL;
}

static void vm_file(char *out, size_t n, const char *dir, const char *name, const char *file)
{
	snprintf(out, n, "%s/%s%s%s", dir, name, file ? "/" : "", file ? file : "");
}

/* Field 22 of /proc/PID/stat (after the parenthesised command name), or 0
 * when the process is gone or a zombie. */
static unsigned long long proc_start(pid_t pid)
{
	char path[64];
	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	char *text = read_file(path, 4096, NULL);
	unsigned long long start = 0;
	char *p = text ? strrchr(text, ')') : NULL;
	if (p && p[1] == ' ' && p[2] != 'Z') {
		int field = 3; /* the state */
		for (p += 2; *p && field < 22; p++)
			if (*p == ' ')
				field++;
		start = strtoull(p, NULL, 10);
	}
	free(text);
	return start;
}

/* One request to a VM's control socket; the reply, or NULL. */
static json_t *control(const char *name, enum control_cmd cmd)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	vm_file(sa.sun_path, sizeof(sa.sun_path), rundir, name, "control.sock");
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	struct timeval tv = {.tv_sec = 3};
	json_t *reply = NULL;
	if (fd < 0)
		return NULL;
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	char line[CONTROL_REQUEST_MAX], *buf = malloc(CONTROL_REPLY_MAX);
	int n = control_request_format(cmd, line, sizeof(line));
	size_t got = 0;
	if (buf && n > 0 && connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0 &&
	    write(fd, line, (size_t)n) == n) {
		ssize_t r;
		while (got < CONTROL_REPLY_MAX &&
		       (r = read(fd, buf + got, CONTROL_REPLY_MAX - got)) > 0) {
			got += (size_t)r;
			if (memchr(buf, '\n', got))
				break;
		}
		reply = json_loadb(buf, got, JSON_DISABLE_EOF_CHECK, NULL);
	}
	free(buf);
	close(fd);
	if (reply && !json_is_true(json_object_get(reply, "ok"))) {
		json_decref(reply);
		reply = NULL;
	}
	return reply;
}

static void write_pidfile(const struct vmrt *v)
{
	char path[512], buf[64];
	vm_file(path, sizeof(path), rundir, v->name, "pid");
	int n = snprintf(buf, sizeof(buf), "%d %llu\n", (int)v->pid, v->start);
	write_file(path, buf, (size_t)n, 0600);
}

/* Why each VM that did not end cleanly ended, until its next power-on:
 * what the API shows as "last_error". */
static struct ending {
	char name[65];
	char why[256];
} endings[MAX_VMS];

static struct ending *ending_of(const char *name, bool make)
{
	struct ending *free_one = NULL;
	if (!*name)
		return NULL;
	for (int i = 0; i < MAX_VMS; i++) {
		if (endings[i].name[0] && strcmp(endings[i].name, name) == 0)
			return &endings[i];
		if (!endings[i].name[0] && !free_one)
			free_one = &endings[i];
	}
	if (make && free_one)
		str_copy(free_one->name, sizeof(free_one->name), name);
	return make ? free_one : NULL;
}

static void forget_ending(const char *name)
{
	struct ending *e = ending_of(name, false);
	if (e)
		memset(e, 0, sizeof(*e));
}

/* The last line keel-vmm logged (its own reason for ending), without its
 * time and name. */
static void last_vmm_line(const char *name, char *out, size_t outlen)
{
	char path[512], tail[1024] = "";
	vm_file(path, sizeof(path), logdir, name, "vmm.log");
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	struct stat st;
	ssize_t n = 0;
	if (fd >= 0 && fstat(fd, &st) == 0)
		n = pread(fd, tail, sizeof(tail) - 1, st.st_size > 1023 ? st.st_size - 1023 : 0);
	if (fd >= 0)
		close(fd);
	tail[n > 0 ? n : 0] = 0;
	size_t len = strlen(tail);
	while (len && (tail[len - 1] == '\n' || tail[len - 1] == '\r'))
		tail[--len] = 0;
	char *line = strrchr(tail, '\n');
	line = line ? line + 1 : tail;
	char *msg = strstr(line, "]: ");
	str_copy(out, outlen, msg ? msg + 3 : line);
}

static void gone(struct vmrt *v, const char *how)
{
	char path[512];
	log_msg("vm %s: keel-vmm pid %d %s", v->name, (int)v->pid, how);
	struct ending *e;
	if (strcmp(how, "exited with status 0") != 0 && v->state != STOPPING &&
	    (e = ending_of(v->name, true))) {
		char line[200];
		last_vmm_line(v->name, line, sizeof(line));
		snprintf(e->why, sizeof(e->why), "keel-vmm %s: %s", how, line);
	}
	network_ports_down(v->id);
	vmmjail_cleanup(v->id);
	vm_file(path, sizeof(path), rundir, v->name, "pid");
	unlink(path);
	vm_file(path, sizeof(path), rundir, v->name, "control.sock");
	unlink(path);
	memset(v, 0, sizeof(*v));
}

static struct vmrt *free_slot(void)
{
	for (int i = 0; i < MAX_VMS; i++)
		if (!vms[i].pid)
			return &vms[i];
	return NULL;
}

/* Puts each NIC's TAP on its port group; fills in each one's MTU. */
static int ports_up(const struct vm_config *c, int64_t id, unsigned mtu[], char *err, size_t errlen)
{
	for (unsigned i = 0; i < c->nnics; i++) {
		char tap[VM_TAP_NAME_LEN];
		vm_tap_name(tap, id, i);
		if (network_port_up(tap, c->nics[i].portgroup, &mtu[i], err, errlen) < 0)
			return -1;
	}
	return 0;
}

/* Starts keel-vmm for `name`; returns 0 or a negative errno. Lock held. */
static int power_on(const char *name, char *err, size_t errlen)
{
	int64_t id;
	struct vm_config c;
	if (db_vm_get(name, &c, &id) < 0)
		return error_set(err, errlen, -ENOENT, "%s: no such VM", name);
	if (maint != VMS_MAINT_OFF)
		return error_set(err, errlen, -EBUSY,
				 "%s: the host is %s maintenance mode: no VM powers on until it "
				 "leaves it",
				 name, maint == VMS_MAINT_ON ? "in" : "entering");
	if (find(name))
		return error_set(err, errlen, -EBUSY, "%s: already powered on", name);
	forget_ending(name);
	struct vmrt *v = free_slot();
	if (!v)
		return error_set(err, errlen, -EBUSY, "at most %d VMs can run", MAX_VMS);
	char dir[512], console[512], ctl[512], cfgpath[512], vmmlog[512];
	vm_file(dir, sizeof(dir), rundir, name, NULL);
	mkdir(dir, 0700);
	vm_file(dir, sizeof(dir), logdir, name, NULL);
	mkdir(dir, 0750);
	vm_file(console, sizeof(console), logdir, name, "console.log");
	vm_file(vmmlog, sizeof(vmmlog), logdir, name, "vmm.log");
	vm_file(ctl, sizeof(ctl), rundir, name, "control.sock");
	vm_file(cfgpath, sizeof(cfgpath), rundir, name, "vmm.json");
	unsigned mtu[VM_MAX_NICS] = {0};
	if (ports_up(&c, id, mtu, err, errlen) < 0) {
		network_ports_down(id);
		return -EBUSY;
	}
	struct vmconf_host host = {
	    .id = id, .mtu = mtu, .console_path = console, .control_path = ctl, .resolve = resolve};
	char nvram[VM_DSPATH_MAX + 1], nvram_path[512];
	if (c.firmware == VM_FIRMWARE_BIOS)
		host.firmware = FIRMWARE_BIOS_IMAGE;
	if (c.firmware == VM_FIRMWARE_UEFI) {
		host.firmware = FIRMWARE_UEFI_CODE;
		host.nvram = nvram_path;
		if (vmfiles_nvram(&c, FIRMWARE_UEFI_VARS, nvram, err, errlen) < 0 ||
		    resolve(nvram, nvram_path, sizeof(nvram_path), err, errlen) < 0) {
			network_ports_down(id);
			return -EBUSY;
		}
	}
	char seed[VM_DSPATH_MAX + 1], seed_path[512];
	int has_seed = vmfiles_seed(&c, id, seed, err, errlen);
	if (has_seed < 0 ||
	    (has_seed && resolve(seed, seed_path, sizeof(seed_path), err, errlen) < 0)) {
		network_ports_down(id);
		return -EBUSY;
	}
	host.seed = has_seed ? seed_path : NULL;
	struct vmm_config vc;
	if (vmconf_vmm(&c, &host, &vc, err, errlen) < 0) {
		network_ports_down(id);
		return -EBUSY; /* a file of the VM is gone: err says which */
	}
	const struct vmmjail_files files = {.config_path = cfgpath, .log_path = vmmlog};
	pid_t pid = vmmjail_spawn(vmm_path, &vc, id, &files, err, errlen);
	vmmconf_free(&vc);
	if (pid < 0) {
		network_ports_down(id);
		return pid;
	}
	memset(v, 0, sizeof(*v));
	str_copy(v->name, sizeof(v->name), name);
	v->id = id;
	v->pid = pid;
	v->child = 1;
	v->state = RUNNING;
	v->since = now_s();
	for (int i = 0; i < 100 && !(v->start = proc_start(pid)); i++)
		usleep(1000);
	write_pidfile(v);
	log_msg("vm %s: powered on, keel-vmm pid %d", name, (int)pid);
	return 0;
}

/* Has the process ended? Reaps our own children. Lock held. */
static int ended(struct vmrt *v)
{
	if (v->child) {
		int status;
		pid_t r = waitpid(v->pid, &status, WNOHANG);
		if (r == v->pid) {
			char how[64];
			if (WIFSIGNALED(status))
				snprintf(how, sizeof(how), "killed by signal %d", WTERMSIG(status));
			else
				snprintf(how, sizeof(how), "exited with status %d",
					 WEXITSTATUS(status));
			gone(v, how);
			return 1;
		}
		return r < 0 && errno == ECHILD ? (gone(v, "vanished"), 1) : 0;
	}
	if (proc_start(v->pid) != v->start) {
		gone(v, "ended");
		return 1;
	}
	return 0;
}

/* Asks keel-vmm to stop (or SIGTERM if its socket does not answer), and
 * SIGKILL after STOP_GRACE_S. Lock held. */
static void hard_stop(struct vmrt *v)
{
	json_t *r = control(v->name, CONTROL_STOP);
	if (!r)
		kill(v->pid, SIGTERM);
	json_decref(r);
	v->state = STOPPING;
	v->shutdown_at = 0;
	v->kill_at = now_s() + STOP_GRACE_S;
}

/* Waits (lock dropped while sleeping) until `name` is off, at most `secs`. */
static int wait_off(const char *name, double secs)
{
	double deadline = now_s() + secs;
	for (;;) {
		struct vmrt *v = find(name);
		if (!v || ended(v))
			return 0;
		if (now_s() > deadline)
			return -1;
		pthread_mutex_unlock(&lock);
		usleep(50 * 1000);
		pthread_mutex_lock(&lock);
	}
}

/* The guest's power button (lock held); after timeout_s, vms_tick powers
 * it off. -1 if keel-vmm does not answer. */
static int guest_shutdown(struct vmrt *v, int timeout_s)
{
	json_t *r = control(v->name, CONTROL_SHUTDOWN);
	if (!r)
		return -1;
	json_decref(r);
	v->state = STOPPING;
	v->shutdown_at = now_s() + timeout_s;
	log_msg("vm %s: guest shutdown requested (%d s)", v->name, timeout_s);
	return 0;
}

int vms_power(const char *name, const char *action, int timeout_s, char *err, size_t errlen)
{
	int status = 0;
	pthread_mutex_lock(&lock);
	struct vmrt *v = find(name);
	if (v && ended(v))
		v = NULL;
	if (strcmp(action, "on") == 0) {
		status = power_on(name, err, errlen);
		goto out;
	}
	if (strcmp(action, "shutdown") && strcmp(action, "off") && strcmp(action, "reset") &&
	    strcmp(action, "kill")) {
		status =
		    error_set(err, errlen, -ENOENT,
			      "%s: no such power action (on, shutdown, off, reset, kill)", action);
		goto out;
	}
	if (!v) {
		status = db_vm_get(name, NULL, NULL) == 0
			     ? error_set(err, errlen, -EBUSY, "%s: powered off", name)
			     : error_set(err, errlen, -ENOENT, "%s: no such VM", name);
		goto out;
	}
	if (strcmp(action, "shutdown") == 0) {
		if (guest_shutdown(v, timeout_s) < 0) {
			status = error_set(err, errlen, -EIO,
					   "%s: keel-vmm does not answer; use off or kill", name);
			goto out;
		}
	} else if (strcmp(action, "kill") == 0) {
		log_msg("vm %s: killing keel-vmm pid %d", name, (int)v->pid);
		kill(v->pid, SIGKILL);
		if (wait_off(name, 5) < 0) {
			status = error_set(err, errlen, -EIO, "%s: keel-vmm pid %d did not die",
					   name, (int)v->pid);
		}
	} else { /* off, reset */
		hard_stop(v);
		if (wait_off(name, STOP_GRACE_S + 1) < 0) {
			status = error_set(err, errlen, -EIO, "%s: keel-vmm did not stop", name);
		} else if (strcmp(action, "reset") == 0) {
			status = power_on(name, err, errlen);
		}
	}
out:
	pthread_mutex_unlock(&lock);
	return status;
}

static const char *state_name(const struct vmrt *v)
{
	if (!v)
		return "poweredOff";
	if (v->state == STOPPING)
		return "stopping";
	json_t *r = control(v->name, CONTROL_STATE);
	const char *s =
	    r && strcmp(json_string_value(json_object_get(r, "state")) ?: "", "paused") == 0
		? "paused"
		: "running";
	json_decref(r);
	return s;
}

void vms_describe(json_t *vm)
{
	pthread_mutex_lock(&lock);
	struct vmrt *v = find(json_string_value(json_object_get(vm, "name")) ?: "");
	if (v && ended(v))
		v = NULL;
	json_object_set_new(vm, "state", json_string(state_name(v)));
	struct ending *e;
	if (v) {
		json_object_set_new(vm, "pid", json_integer(v->pid));
		if (v->since > 0)
			json_object_set_new(vm, "uptime_s", json_real(now_s() - v->since));
	} else if ((e = ending_of(json_string_value(json_object_get(vm, "name")) ?: "", false))) {
		json_object_set_new(vm, "last_error", json_string(e->why));
	}
	pthread_mutex_unlock(&lock);
}

static int running_locked(void)
{
	int n = 0;
	for (int i = 0; i < MAX_VMS; i++)
		n += vms[i].pid != 0;
	return n;
}

int vms_count_running(void)
{
	pthread_mutex_lock(&lock);
	int n = running_locked();
	pthread_mutex_unlock(&lock);
	return n;
}

/* --- maintenance mode ------------------------------------------------------ */

/* Now in maintenance mode (lock held): kept in the inventory. */
static void maint_reached(void)
{
	char err[256];
	maint = VMS_MAINT_ON;
	if (db_setting_put(MAINT_SETTING, "on", err, sizeof(err)) < 0)
		log_msg("maintenance mode: cannot keep it in the inventory: %s", err);
	log_notice("the host is in maintenance mode (asked for by %s)", maint_by);
}

enum vms_maintenance vms_maintenance(void)
{
	pthread_mutex_lock(&lock);
	enum vms_maintenance m = maint;
	pthread_mutex_unlock(&lock);
	return m;
}

int vms_maintenance_enter(const char *user, bool shutdown_vms, int timeout_s, char *err,
			  size_t errlen)
{
	int rc = 0;
	pthread_mutex_lock(&lock);
	int n = running_locked();
	if (maint != VMS_MAINT_OFF) {
		rc = maint == VMS_MAINT_ON ? 0 : 1;
	} else if (n && !shutdown_vms) {
		rc = error_set(err, errlen, -EBUSY,
			       "%d VM%s running: power %s off first, or ask for shutdown_vms", n,
			       n == 1 ? " is" : "s are", n == 1 ? "it" : "them");
	} else {
		str_copy(maint_by, sizeof(maint_by), user);
		queue_len = queue_next = 0; /* autostart: what is left of it stops */
		if (!n) {
			maint_reached();
		} else {
			maint = VMS_MAINT_ENTERING;
			maint_deadline = now_s() + timeout_s + 10;
			log_notice(
			    "entering maintenance mode (%s): %d VM%s shutting down (up to %d s)",
			    user, n, n == 1 ? "" : "s", timeout_s);
			for (int i = 0; i < MAX_VMS; i++) {
				struct vmrt *v = &vms[i];
				if (v->pid && !ended(v) && v->state != STOPPING &&
				    guest_shutdown(v, timeout_s) < 0) {
					log_msg("vm %s: keel-vmm does not answer; powering off",
						v->name);
					hard_stop(v);
				}
			}
			rc = 1;
		}
	}
	pthread_mutex_unlock(&lock);
	return rc;
}

int vms_maintenance_exit(const char *user, char *err, size_t errlen)
{
	int rc = 0;
	pthread_mutex_lock(&lock);
	if (maint != VMS_MAINT_OFF) {
		if (db_setting_put(MAINT_SETTING, "off", err, errlen) < 0) {
			rc = -EIO;
		} else {
			maint = VMS_MAINT_OFF;
			log_notice("the host left maintenance mode (%s)", user);
		}
	}
	pthread_mutex_unlock(&lock);
	return rc;
}

/* lock held, from vms_tick */
static void maint_tick(double now)
{
	if (maint != VMS_MAINT_ENTERING)
		return;
	int n = running_locked();
	if (!n) {
		maint_reached();
	} else if (now >= maint_deadline) {
		maint = VMS_MAINT_OFF;
		log_notice("maintenance mode not entered: %d VM%s still running", n,
			   n == 1 ? " is" : "s are");
	}
}

static long rss_kib(pid_t pid)
{
	char path[64];
	snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
	char *text = read_file(path, 65536, NULL);
	char *p = text ? strstr(text, "\nVmRSS:") : NULL;
	long kib = p ? strtol(p + 7, NULL, 10) : -1;
	free(text);
	return kib;
}

json_t *vms_stats(const char *name, char *err, size_t errlen)
{
	pthread_mutex_lock(&lock);
	struct vmrt *v = find(name);
	json_t *out = NULL;
	if (!v || ended(v)) {
		errorf(err, errlen, "%s: powered off", name);
		goto done;
	}
	json_t *st = control(name, CONTROL_STATE), *stats = control(name, CONTROL_STATS);
	out = json_pack("{s:s,s:f,s:O?,s:I,s:O?}", "state", state_name(v), "uptime_s",
			now_s() - v->since, "boot_ms", st ? json_object_get(st, "boot_ms") : NULL,
			"rss_kib", (json_int_t)rss_kib(v->pid), "vcpus",
			stats ? json_object_get(stats, "vcpus") : NULL);
	json_decref(st);
	json_decref(stats);
done:
	pthread_mutex_unlock(&lock);
	return out;
}

char *vms_console_tail(const char *name, size_t max, size_t *len)
{
	char path[512];
	vm_file(path, sizeof(path), logdir, name, "console.log");
	*len = 0;
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	struct stat st;
	char *buf = malloc(max + 1);
	if (buf && fd >= 0 && fstat(fd, &st) == 0) {
		off_t from = st.st_size > (off_t)max ? st.st_size - (off_t)max : 0;
		ssize_t n = pread(fd, buf, max, from);
		*len = n > 0 ? (size_t)n : 0;
	}
	if (fd >= 0)
		close(fd);
	return buf;
}

const char *vms_file_user(const char *dspath, bool running_only, char *who, size_t wholen)
{
	size_t n;
	struct vm_config *all = db_vm_list(&n);
	const char *found = NULL;
	for (size_t i = 0; i < n && !found; i++) {
		int uses = vmconf_uses(&all[i], dspath);
		if (uses && running_only) {
			vms_lock();
			uses = vms_running_locked(all[i].name);
			vms_unlock();
		}
		if (uses) {
			str_copy(who, wholen, all[i].name);
			found = who;
		}
	}
	free(all);
	return found;
}

void vms_forget(const char *name)
{
	pthread_mutex_lock(&lock);
	forget_ending(name);
	pthread_mutex_unlock(&lock);
	const char *files[] = {"vmm.json", "control.sock", "pid", "console.log", "vmm.log"};
	char path[512];
	for (size_t i = 0; i < ARRAY_SIZE(files); i++) {
		vm_file(path, sizeof(path), i < 3 ? rundir : logdir, name, files[i]);
		unlink(path);
	}
	vm_file(path, sizeof(path), rundir, name, NULL);
	rmdir(path);
	vm_file(path, sizeof(path), logdir, name, NULL);
	rmdir(path);
}

int vms_reattach(void)
{
	size_t count;
	struct vm_config *all = db_vm_list(&count);
	char *mode = db_setting_get(MAINT_SETTING);
	int n = 0;
	pthread_mutex_lock(&lock);
	if (mode && strcmp(mode, "on") == 0) {
		maint = VMS_MAINT_ON;
		log_msg("the host is in maintenance mode: no VM powers on until it leaves it");
	}
	free(mode);
	for (size_t i = 0; i < count; i++) {
		const char *name = all[i].name;
		char path[512], exe[512];
		vm_file(path, sizeof(path), rundir, name, "pid");
		char *text = read_file(path, 64, NULL);
		int pid = 0;
		unsigned long long start = 0;
		if (!text || sscanf(text, "%d %llu", &pid, &start) != 2 || pid <= 1) {
			free(text);
			continue;
		}
		free(text);
		snprintf(path, sizeof(path), "/proc/%d/exe", pid);
		ssize_t e = readlink(path, exe, sizeof(exe) - 1);
		exe[e > 0 ? e : 0] = '\0';
		struct vmrt *v = free_slot();
		if (!v || proc_start(pid) != start || !strstr(exe, "keel-vmm")) {
			log_msg("vm %s: keel-vmm pid %d is gone", name, pid);
			vm_file(path, sizeof(path), rundir, name, "pid");
			unlink(path);
			continue;
		}
		str_copy(v->name, sizeof(v->name), name);
		db_vm_get(name, NULL, &v->id);
		v->pid = pid;
		v->start = start;
		v->state = RUNNING;
		json_t *st = control(name, CONTROL_STATE);
		double up = json_real_value(json_object_get(st, "uptime_ms"));
		v->since = now_s() - up / 1000.0;
		json_decref(st);
		log_msg("vm %s: re-attached to keel-vmm pid %d%s", name, pid,
			st ? "" : " (its control socket does not answer)");
		n++;
	}
	pthread_mutex_unlock(&lock);
	free(all);
	return n;
}

static int by_order(const void *a, const void *b)
{
	const struct vm_config *x = *(const struct vm_config *const *)a,
			       *y = *(const struct vm_config *const *)b;
	if (x->autostart_order != y->autostart_order)
		return x->autostart_order < y->autostart_order ? -1 : 1;
	return strcmp(x->name, y->name);
}

void vms_autostart(void)
{
	if (vms_maintenance() != VMS_MAINT_OFF) {
		log_msg("autostart: suspended (maintenance mode)");
		return;
	}
	size_t count, i, n = 0;
	struct vm_config *all = db_vm_list(&count);
	const struct vm_config *pick[MAX_VMS];
	for (i = 0; i < count; i++)
		if (n < MAX_VMS && all[i].autostart)
			pick[n++] = &all[i];
	qsort(pick, n, sizeof(pick[0]), by_order);
	pthread_mutex_lock(&lock);
	for (i = 0; i < n; i++) {
		str_copy(queue[i].name, sizeof(queue[i].name), pick[i]->name);
		queue[i].delay_s = (int)pick[i]->autostart_delay_s;
	}
	queue_len = (int)n;
	queue_next = 0;
	queue_at = now_s();
	pthread_mutex_unlock(&lock);
	if (n)
		log_msg("autostart: %zu VM%s", n, n == 1 ? "" : "s");
	free(all);
}

void vms_tick(void)
{
	pthread_mutex_lock(&lock);
	double now = now_s();
	for (int i = 0; i < MAX_VMS; i++) {
		struct vmrt *v = &vms[i];
		if (!v->pid || ended(v))
			continue;
		if (v->shutdown_at && now >= v->shutdown_at) {
			log_msg("vm %s: the guest did not shut down in time; powering off",
				v->name);
			hard_stop(v);
		} else if (v->kill_at && now >= v->kill_at) {
			log_msg("vm %s: keel-vmm did not stop; killing it", v->name);
			kill(v->pid, SIGKILL);
			v->kill_at = 0;
		}
	}
	maint_tick(now);
	if (queue_next < queue_len && now >= queue_at) {
		struct autostart *a = &queue[queue_next++];
		char err[256];
		if (find(a->name))
			log_msg("autostart: %s is already on", a->name);
		else if (power_on(a->name, err, sizeof(err)) < 0)
			log_msg("autostart: %s: %s", a->name, err);
		queue_at = now + a->delay_s;
	}
	pthread_mutex_unlock(&lock);
}
