#include "hostd/vmmjail.h"

#include "common/log.h"
#include "common/tap.h"
#include "common/util.h"
#include "hostd/error.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <unistd.h>

/* the configuration, /dev/kvm, kernel or firmware and nvram, initrd, console, control,
 * disks, NICs */
#define MAX_FDS (6 + VM_MAX_DISKS + VM_MAX_NICS)

static char jail_root[512];

/* Writes a cgroup file (no O_CREAT, O_TRUNC or fsync: cgroupfs has none). */
static int cg_write(const char *path, const char *text)
{
	int fd = open(path, O_WRONLY | O_CLOEXEC);
	ssize_t n = fd < 0 ? -1 : write(fd, text, strlen(text));
	int e = errno;
	if (fd >= 0)
		close(fd);
	errno = e;
	return n == (ssize_t)strlen(text) ? 0 : -1;
}

void vmmjail_init(const char *rundir)
{
	snprintf(jail_root, sizeof(jail_root), "%s/.jail", rundir);
	if (mkdir(jail_root, 0555) < 0 && errno != EEXIST)
		log_errno("jail: cannot make %s", jail_root);
	if (mkdir(VMM_CGROUPS, 0755) < 0 && errno != EEXIST)
		log_errno("jail: cannot make %s", VMM_CGROUPS);
	if (cg_write("/sys/fs/cgroup/cgroup.subtree_control", "+memory +pids") < 0 ||
	    cg_write(VMM_CGROUPS "/cgroup.subtree_control", "+memory +pids") < 0)
		log_errno("jail: cannot enable the memory and pids controllers");
}

static void cgroup_dir(char *out, size_t n, int64_t id)
{
	snprintf(out, n, "%s/vm-%lld", VMM_CGROUPS, (long long)id);
}

/* The VM's cgroup, with its limits; its descriptor, or -1 (err set). */
static int cgroup_make(int64_t id, const struct vmm_config *c, char *err, size_t errlen)
{
	char dir[128], path[160], mem[32], pids[32];
	cgroup_dir(dir, sizeof(dir), id);
	snprintf(mem, sizeof(mem), "%llu",
		 (unsigned long long)vmm_memory_limit_mib(c->memory_mib, c->vcpus) << 20);
	snprintf(pids, sizeof(pids), "%u", vmm_pids_limit(c->vcpus));
	int fd = -1;
	if (mkdir(dir, 0755) < 0 && errno != EEXIST)
		goto fail;
	snprintf(path, sizeof(path), "%s/memory.max", dir);
	if (cg_write(path, mem) < 0)
		goto fail;
	snprintf(path, sizeof(path), "%s/pids.max", dir);
	if (cg_write(path, pids) < 0)
		goto fail;
	fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd >= 0)
		return fd;
fail:
	error_set(err, errlen, -EIO, "%s: cannot set up its cgroup %s: %s", c->name, dir,
		  strerror(errno));
	return -1;
}

void vmmjail_cleanup(int64_t id)
{
	char dir[128];
	cgroup_dir(dir, sizeof(dir), id);
	if (rmdir(dir) < 0 && errno != ENOENT)
		log_errno("jail: cannot remove %s", dir);
}

/* The control socket: bound at path (only root may connect: 0600 in a
 * folder of root's), listening. */
static int control_socket(const char *path)
{
	struct sockaddr_un a = {.sun_family = AF_UNIX};
	if (str_copy(a.sun_path, sizeof(a.sun_path), path) < 0) {
		errno = ENAMETOOLONG;
		return -1;
	}
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -1;
	unlink(path);
	if (bind(fd, (struct sockaddr *)&a, sizeof(a)) < 0 || chmod(path, 0600) < 0 ||
	    listen(fd, 8) < 0) {
		int e = errno;
		close(fd);
		errno = e;
		return -1;
	}
	return fd;
}

/* The descriptors to pass: src[i] becomes VMM_CONFIG_FD + i in keel-vmm. */
struct passing {
	int n;
	int src[MAX_FDS];
};

/* Adds fd (when it is one) and returns the number keel-vmm will see it as. */
static int pass(struct passing *p, int fd)
{
	if (fd < 0)
		return -1;
	p->src[p->n] = fd;
	return VMM_CONFIG_FD + p->n++;
}

static int opened(struct passing *p, int *target, int fd, const char *what, const char *path,
		  char *err, size_t errlen)
{
	if (fd < 0)
		return error_set(err, errlen, -EBUSY, "%s: cannot open %s: %s", what, path,
				 strerror(errno));
	*target = pass(p, fd);
	return 0;
}

/* Opens what c names into p and sets c->fd to the numbers keel-vmm gets. */
static int open_all(struct vmm_config *c, struct passing *p, char *err, size_t errlen)
{
	const int ro = O_RDONLY | O_CLOEXEC;
	int r = opened(p, &c->fd.kvm, open("/dev/kvm", O_RDWR | O_CLOEXEC), "kvm", "/dev/kvm", err,
		       errlen);
	if (!r && c->kernel)
		r = opened(p, &c->fd.kernel, open(c->kernel, ro), "kernel", c->kernel, err, errlen);
	if (!r && c->firmware)
		r = opened(p, &c->fd.firmware, open(c->firmware, ro), "firmware", c->firmware, err,
			   errlen);
	if (!r && c->nvram)
		r = opened(p, &c->fd.nvram, open(c->nvram, O_RDWR | O_CLOEXEC), "nvram", c->nvram,
			   err, errlen);
	if (!r && c->initrd)
		r = opened(p, &c->fd.initrd, open(c->initrd, ro), "initrd", c->initrd, err, errlen);
	if (!r && c->console == CONSOLE_FILE)
		r = opened(p, &c->fd.console,
			   open(c->console_path, O_WRONLY | O_CREAT | O_CLOEXEC, 0640), "console",
			   c->console_path, err, errlen);
	if (!r && c->control)
		r = opened(p, &c->fd.control, control_socket(c->control), "control", c->control,
			   err, errlen);
	for (unsigned i = 0; !r && i < c->ndisks; i++) {
		int flags = (c->disks[i].readonly ? O_RDONLY : O_RDWR) | O_CLOEXEC;
		r = opened(p, &c->fd.disks[i], open(c->disks[i].path, flags), "disk",
			   c->disks[i].path, err, errlen);
	}
	for (unsigned i = 0; !r && i < c->nnics; i++)
		r = opened(p, &c->fd.nics[i], tap_open(c->nics[i].tap), "nic", c->nics[i].tap, err,
			   errlen);
	c->has_fds = true;
	return r;
}

/* Starts vmm with p's descriptors, in cgroup `cg` and a PID namespace of
 * its own; its pid or a negative errno. */
static pid_t start(const char *vmm, const struct passing *p, int cg, int logfd)
{
	int high[MAX_FDS], n = 0;
	pid_t pid = -EMFILE;
	/* above every number the child gives them, so that no dup2 there
	 * overwrites one still to be moved */
	for (; n < p->n; n++)
		if ((high[n] = fcntl(p->src[n], F_DUPFD_CLOEXEC, VMM_CONFIG_FD + p->n)) < 0)
			goto out;
	char fdarg[16];
	snprintf(fdarg, sizeof(fdarg), "%d", VMM_CONFIG_FD);
	char *const argv[] = {"keel-vmm", "--config-fd", fdarg, NULL};
	struct clone_args ca = {.flags = CLONE_NEWPID | CLONE_INTO_CGROUP,
				.exit_signal = SIGCHLD,
				.cgroup = (uint64_t)cg};
	pid = (pid_t)syscall(SYS_clone3, &ca, sizeof(ca));
	if (pid == 0) { /* only async-signal-safe calls from here */
		sigset_t none;
		sigemptyset(&none);
		sigprocmask(SIG_SETMASK, &none, NULL);
		setsid(); /* its own session: it outlives keel-hostd */
		int null = open("/dev/null", O_RDONLY | O_CLOEXEC);
		dup2(null, 0);
		dup2(logfd >= 0 ? logfd : null, 1);
		dup2(logfd >= 0 ? logfd : null, 2);
		for (int i = 0; i < p->n; i++)
			if (dup2(high[i], VMM_CONFIG_FD + i) < 0)
				_exit(127);
		closefrom(VMM_CONFIG_FD + p->n);
		execv(vmm, argv);
		static const char msg[] = "keel-hostd: cannot run keel-vmm\n";
		ssize_t w = write(2, msg, sizeof(msg) - 1);
		(void)w;
		_exit(127);
	}
	if (pid < 0)
		pid = -errno;
out:
	while (n > 0)
		close(high[--n]);
	return pid;
}

pid_t vmmjail_spawn(const char *vmm, struct vmm_config *c, int64_t id,
		    const struct vmmjail_files *files, char *err, size_t errlen)
{
	if (id < 1 || (uint64_t)id > VMM_JAIL_ID_MAX - VMM_JAIL_ID_BASE)
		return error_set(err, errlen, -EINVAL, "%s: no uid for VM id %lld", c->name,
				 (long long)id);
	struct passing p = {.n = 1, .src = {-1}}; /* 0: the configuration, below */
	int cfd = -1, cg = -1, logfd = -1;
	char *out = NULL;
	pid_t pid = open_all(c, &p, err, errlen);
	c->jailed = true;
	c->jail.uid = c->jail.gid = VMM_JAIL_ID_BASE + (unsigned)id;
	c->jail.root = strdup(jail_root);
	if (pid == 0 && !(out = vmmconf_format(c, err, errlen)))
		pid = -EINVAL;
	if (pid == 0 && (write_file(files->config_path, out, strlen(out), 0600) < 0 ||
			 (cfd = open(files->config_path, O_RDONLY | O_CLOEXEC)) < 0))
		pid = error_set(err, errlen, -EIO, "%s: cannot write %s: %s", c->name,
				files->config_path, strerror(errno));
	p.src[0] = cfd;
	if (pid == 0 && (cg = cgroup_make(id, c, err, errlen)) < 0)
		pid = -EIO;
	if (pid == 0) {
		logfd = open(files->log_path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0640);
		pid = start(vmm, &p, cg, logfd);
		if (pid < 0)
			error_set(err, errlen, pid, "%s: cannot start keel-vmm: %s", c->name,
				  strerror(-pid));
	}
	for (int i = 0; i < p.n; i++)
		if (p.src[i] >= 0)
			close(p.src[i]);
	if (cg >= 0)
		close(cg);
	if (logfd >= 0)
		close(logfd);
	if (pid < 0 && c->control)
		unlink(c->control);
	if (pid < 0)
		vmmjail_cleanup(id);
	free(out);
	return pid;
}
