#include "vmm/jail.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <linux/capability.h>
#include <sched.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "common/log.h"
#include "common/tap.h"

/* Checks that fd is open and of `type` (S_IFREG, S_IFCHR, 0: any), and
 * makes it close-on-exec. */
static int check_fd(int fd, mode_t type, const char *field, const char *path)
{
	struct stat st;
	if (fstat(fd, &st) < 0 || fcntl(fd, F_SETFD, FD_CLOEXEC) < 0) {
		log_errno("%s: %s: descriptor %d", field, path, fd);
		return -1;
	}
	if (type && (st.st_mode & S_IFMT) != type) {
		errno = S_ISDIR(st.st_mode) ? EISDIR : EINVAL;
		if (errno == EISDIR)
			log_errno("%s: %s", field, path);
		else
			log_msg("%s: %s: not a %s", field, path,
				type == S_IFREG ? "regular file" : "device");
		return -1;
	}
	return 0;
}

/* Opens path (when *fd is none) and checks the descriptor. */
static int get(int *fd, const char *path, int flags, mode_t type, const char *field)
{
	if (*fd < 0 && (*fd = open(path, flags | O_CLOEXEC)) < 0) {
		log_errno("%s: %s", field, path);
		return -1;
	}
	return check_fd(*fd, type, field, path);
}

int jail_open(struct vmm_config *c)
{
	if (get(&c->fd.kvm, "/dev/kvm", O_RDWR, S_IFCHR, "kvm") < 0)
		return -2;
	if ((c->kernel && get(&c->fd.kernel, c->kernel, O_RDONLY, S_IFREG, "kernel") < 0) ||
	    (c->firmware && get(&c->fd.firmware, c->firmware, O_RDONLY, S_IFREG, "firmware") < 0) ||
	    (c->nvram && get(&c->fd.nvram, c->nvram, O_RDWR, S_IFREG, "nvram") < 0) ||
	    (c->initrd && get(&c->fd.initrd, c->initrd, O_RDONLY, S_IFREG, "initrd") < 0))
		return -1;
	for (unsigned i = 0; i < c->ndisks; i++) {
		struct vmm_disk *d = &c->disks[i];
		char field[32];
		snprintf(field, sizeof(field), "disks[%u].path", i);
		if (get(&c->fd.disks[i], d->path, d->readonly ? O_RDONLY : O_RDWR, S_IFREG, field) <
		    0)
			return -1;
		/* open file description locks: any other process's lock on the
		 * image conflicts, and they go when keel-vmm ends */
		struct flock fl = {.l_type = d->readonly ? F_RDLCK : F_WRLCK, .l_whence = SEEK_SET};
		if (fcntl(c->fd.disks[i], F_OFD_SETLK, &fl) < 0) {
			log_msg("%s: %s: in use by another VM (%s)", field, d->path,
				strerror(errno));
			return -1;
		}
	}
	for (unsigned i = 0; i < c->nnics; i++) {
		char field[32];
		snprintf(field, sizeof(field), "nics[%u].tap", i);
		if (c->fd.nics[i] < 0 && (c->fd.nics[i] = tap_open(c->nics[i].tap)) < 0) {
			log_errno("%s: %s", field, c->nics[i].tap);
			return -1;
		}
		if (check_fd(c->fd.nics[i], S_IFCHR, field, c->nics[i].tap) < 0 ||
		    fcntl(c->fd.nics[i], F_SETFL, O_RDWR | O_NONBLOCK) < 0)
			return -1;
	}
	return 0;
}

static int fail(const char *what)
{
	log_errno("jail: cannot %s", what);
	return -1;
}

/* An empty, read-only root: a tmpfs on jail.root, made the root with
 * pivot_root and the old root detached; where the host's root is the
 * initramfs itself (rootfs, which pivot_root cannot move: the appliance),
 * moved over "/" and entered with chroot, switch_root's way, the old root
 * then hidden under it (with no capability left, nothing gets back out). */
static int empty_root(const char *dir)
{
	if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0)
		return fail("make the mounts private");
	if (mount("keel-jail", dir, "tmpfs", MS_NOSUID | MS_NODEV | MS_NOEXEC,
		  "size=4k,nr_inodes=2,mode=0555") < 0)
		return fail("mount the empty root");
	if (chdir(dir) < 0)
		return fail("enter the empty root");
	if (syscall(SYS_pivot_root, ".", ".") == 0) {
		if (umount2(".", MNT_DETACH) < 0)
			return fail("detach the host's root");
	} else if (errno != EINVAL || mount(".", "/", NULL, MS_MOVE, NULL) < 0 || chroot(".") < 0) {
		return fail("make the empty root its root");
	}
	if (chdir("/") < 0 ||
	    mount(NULL, "/", NULL,
		  MS_REMOUNT | MS_BIND | MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL) < 0)
		return fail("make the root read-only");
	return 0;
}

static int drop_privileges(unsigned uid, unsigned gid)
{
	for (int cap = 0; prctl(PR_CAPBSET_READ, cap) >= 0; cap++)
		if (prctl(PR_CAPBSET_DROP, cap) < 0)
			return fail("drop the capability bounding set");
	if (setgroups(0, NULL) < 0 || setresgid(gid, gid, gid) < 0 || setresuid(uid, uid, uid) < 0)
		return fail("switch to the VM's uid and gid");
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
		return fail("set no_new_privs");
	struct __user_cap_header_struct h = {.version = _LINUX_CAPABILITY_VERSION_3};
	struct __user_cap_data_struct d[2];
	if (syscall(SYS_capget, &h, d) < 0)
		return fail("read the capabilities");
	for (int i = 0; i < 2; i++)
		if (d[i].effective || d[i].permitted || d[i].inheritable) {
			errno = EPERM;
			return fail("drop every capability");
		}
	return 0;
}

int jail_enter(const struct vmm_config *c)
{
	if (unshare(CLONE_NEWNS | CLONE_NEWIPC | CLONE_NEWNET | CLONE_NEWUTS) < 0)
		return fail("enter namespaces of its own");
	if (empty_root(c->jail.root) < 0)
		return -1;
	uint64_t as = vmm_address_space_limit(c->memory_mib, c->vcpus);
	struct rlimit limit = {as, as}, none = {0, 0};
	if (setrlimit(RLIMIT_AS, &limit) < 0 || setrlimit(RLIMIT_CORE, &none) < 0)
		return fail("limit its address space");
	if (drop_privileges(c->jail.uid, c->jail.gid) < 0)
		return -1;
	log_msg("jailed: uid %u, gid %u, no capabilities, an empty root", c->jail.uid, c->jail.gid);
	return 0;
}

/* One attempt's outcome: r < 0 is a refusal (errno says why). */
static void outcome(json_t *o, const char *what, long r)
{
	char text[64];
	if (r < 0)
		snprintf(text, sizeof(text), "refused (%s)", strerrorname_np(errno) ?: "?");
	json_object_set_new(o, what, json_string(r < 0 ? text : "SUCCEEDED"));
}

static long try_open(const char *path, int flags)
{
	int fd = open(path, flags | O_RDONLY | O_CLOEXEC);
	if (fd >= 0)
		close(fd);
	return fd;
}

static long try_socket(int domain)
{
	int fd = socket(domain, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd >= 0)
		close(fd);
	return fd;
}

json_t *jail_probe(const struct vmm_config *c)
{
	json_t *o = json_object();
	outcome(o, "open /config/keel.db", try_open("/config/keel.db", 0));
	outcome(o, "open /datastores", try_open("/datastores", O_DIRECTORY));
	outcome(o, "list /proc/1", try_open("/proc/1", O_DIRECTORY));
	outcome(o, "make an IPv4 socket", try_socket(AF_INET));
	outcome(o, "make a unix socket", try_socket(AF_UNIX));
	outcome(o, "signal every process it can see", kill(-1, 0));
	size_t size = (size_t)vmm_address_space_limit(c->memory_mib, c->vcpus);
	void *p = mmap(NULL, size, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (p != MAP_FAILED)
		munmap(p, size);
	outcome(o, "map more memory than its limit", p == MAP_FAILED ? -1 : 0);
	return o;
}
