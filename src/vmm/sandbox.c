#include "vmm/sandbox.h"

#include <errno.h>
#include <linux/if_tun.h>
#include <linux/kvm.h>
#include <seccomp.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sched.h>
#include <sys/prctl.h>
#include <unistd.h>

#include "common/log.h"
#include "common/util.h"

/* what every thread needs: memory (malloc), locks, signals, time, logging */
static const int common[] = {
    SCMP_SYS(read),
    SCMP_SYS(write),
    SCMP_SYS(futex),
    SCMP_SYS(mmap),
    SCMP_SYS(munmap),
    SCMP_SYS(mremap),
    SCMP_SYS(mprotect),
    SCMP_SYS(madvise),
    SCMP_SYS(brk),
    SCMP_SYS(rt_sigprocmask),
    SCMP_SYS(rt_sigreturn),
    SCMP_SYS(clock_gettime),
    SCMP_SYS(clock_nanosleep),
    SCMP_SYS(nanosleep),
    SCMP_SYS(getpid),
    SCMP_SYS(gettid),
    SCMP_SYS(sched_yield),
    SCMP_SYS(exit),
    SCMP_SYS(exit_group),
    SCMP_SYS(restart_syscall),
    SCMP_SYS(close),
};

/* the main thread once the VM's files are open: no openat, unlink,
 * execve, socket; threads only through clone with CLONE_THREAD (below) */
static const int main_only[] = {
    SCMP_SYS(newfstatat),    SCMP_SYS(fstat),	  SCMP_SYS(pread64),	  SCMP_SYS(eventfd2),
    SCMP_SYS(epoll_create1), SCMP_SYS(epoll_ctl), SCMP_SYS(epoll_wait),	  SCMP_SYS(epoll_pwait),
    SCMP_SYS(accept4),	     SCMP_SYS(sendto),	  SCMP_SYS(recvfrom),	  SCMP_SYS(set_robust_list),
    SCMP_SYS(rseq),	     SCMP_SYS(sysinfo),	  SCMP_SYS(getrandom),	  SCMP_SYS(fcntl),
    SCMP_SYS(prlimit64),     SCMP_SYS(preadv),	  SCMP_SYS(pwritev),	  SCMP_SYS(pwrite64),
    SCMP_SYS(fdatasync),     SCMP_SYS(fallocate), SCMP_SYS(rt_sigaction), SCMP_SYS(ftruncate),
};

/* what a library may try (a late file lookup, a log socket) gets an error
 * rather than ending the VM */
static const int main_refused[] = {
    SCMP_SYS(open), SCMP_SYS(openat), SCMP_SYS(openat2), SCMP_SYS(socket), SCMP_SYS(kill),
};

/* every KVM and TUN request keel-vmm makes: the main thread's (building the
 * VM, its devices and vCPUs) and the vCPU threads' below */
static const unsigned long main_ioctls[] = {
    KVM_CHECK_EXTENSION,
    KVM_CREATE_VM,
    KVM_GET_VCPU_MMAP_SIZE,
    KVM_GET_SUPPORTED_CPUID,
    KVM_SET_TSS_ADDR,
    KVM_SET_IDENTITY_MAP_ADDR,
    KVM_CREATE_IRQCHIP,
    KVM_CREATE_PIT2,
    KVM_SET_USER_MEMORY_REGION,
    KVM_CREATE_VCPU,
    KVM_SET_CPUID2,
    KVM_SET_SREGS,
    KVM_SET_REGS,
    KVM_SET_MSRS,
    KVM_SET_FPU,
    KVM_GET_LAPIC,
    KVM_SET_LAPIC,
    KVM_IRQFD,
    KVM_IOEVENTFD,
    KVM_SET_GSI_ROUTING,
    KVM_IRQ_LINE,
    KVM_RUN,
    KVM_GET_REGS,
    KVM_GET_SREGS,
    TUNSETVNETHDRSZ,
    TUNSETOFFLOAD,
};

static const int vcpu_only[] = {
    SCMP_SYS(sendto),	 /* console output */
    SCMP_SYS(pwrite64),	 /* the UEFI variable store (pflash.c) */
    SCMP_SYS(fdatasync), /* the same */
    SCMP_SYS(tgkill),	 /* kicking the other vCPUs (to its own process only: above) */
};

static const int io_only[] = {
    SCMP_SYS(epoll_ctl),   SCMP_SYS(readv),	SCMP_SYS(writev),    SCMP_SYS(epoll_wait),
    SCMP_SYS(epoll_pwait), SCMP_SYS(preadv),	SCMP_SYS(pwritev),   SCMP_SYS(pread64),
    SCMP_SYS(pwrite64),	   SCMP_SYS(fdatasync), SCMP_SYS(fallocate), SCMP_SYS(getrandom),
};

/* the KVM calls a vCPU thread makes (memory regions: the UEFI variable
 * store's flash leaves the guest's memory map while the firmware gives it
 * commands), and the TAP's offloads it sets when the guest's virtio-net
 * driver settles its features (I/O threads make none: they write irqfds) */
static const unsigned long vcpu_ioctls[] = {
    KVM_RUN,	   KVM_GET_REGS,	KVM_GET_SREGS, KVM_IRQ_LINE,
    KVM_IOEVENTFD, KVM_SET_GSI_ROUTING, TUNSETOFFLOAD, KVM_SET_USER_MEMORY_REGION};

static int allow(scmp_filter_ctx ctx, const int *calls, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (seccomp_rule_add(ctx, SCMP_ACT_ALLOW, calls[i], 0) < 0)
			return -1;
	return 0;
}

static int refuse(scmp_filter_ctx ctx, const int *calls, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (seccomp_rule_add(ctx, SCMP_ACT_ERRNO(EPERM), calls[i], 0) < 0)
			return -1;
	return 0;
}

static int allow_ioctls(scmp_filter_ctx ctx, const unsigned long *req, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(ioctl), 1,
				     SCMP_A1(SCMP_CMP_EQ, req[i])) < 0)
			return -1;
	return 0;
}

int sandbox_enter(enum sandbox_role role)
{
	static const char *const names[] = {"main", "vcpu", "io"};
	scmp_filter_ctx ctx = seccomp_init(SCMP_ACT_KILL_PROCESS);
	int r = ctx ? allow(ctx, common, ARRAY_SIZE(common)) : -1;
	if (r == 0) {
		switch (role) {
		case SANDBOX_MAIN:
			/* threads (glibc falls back from clone3, whose flags a
			 * filter cannot see, to clone); signals only to its own
			 * threads; and the threads it starts may name themselves
			 * and tighten their own filters */
			r = allow(ctx, main_only, ARRAY_SIZE(main_only)) ||
			    refuse(ctx, main_refused, ARRAY_SIZE(main_refused)) ||
			    allow_ioctls(ctx, main_ioctls, ARRAY_SIZE(main_ioctls)) ||
			    seccomp_rule_add(ctx, SCMP_ACT_ERRNO(ENOSYS), SCMP_SYS(clone3), 0) ||
			    seccomp_rule_add(
				ctx, SCMP_ACT_ALLOW, SCMP_SYS(clone), 1,
				SCMP_A0(SCMP_CMP_MASKED_EQ, CLONE_THREAD, CLONE_THREAD)) ||
			    seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(tgkill), 1,
					     SCMP_A0(SCMP_CMP_EQ, (scmp_datum_t)getpid())) ||
			    seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(seccomp), 0) ||
			    seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(prctl), 1,
					     SCMP_A0(SCMP_CMP_EQ, PR_SET_NO_NEW_PRIVS)) ||
			    seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(prctl), 1,
					     SCMP_A0(SCMP_CMP_EQ, PR_SET_NAME));
			break;
		case SANDBOX_VCPU:
			r = allow(ctx, vcpu_only, ARRAY_SIZE(vcpu_only)) ||
			    allow_ioctls(ctx, vcpu_ioctls, ARRAY_SIZE(vcpu_ioctls));
			break;
		case SANDBOX_IO:
			r = allow(ctx, io_only, ARRAY_SIZE(io_only));
			break;
		}
	}
	if (r == 0)
		r = seccomp_load(ctx);
	if (ctx)
		seccomp_release(ctx);
	if (r != 0) {
		errno = r < 0 ? -r : EINVAL;
		log_errno("seccomp: cannot install the %s filter", names[role]);
		return -1;
	}
	return 0;
}
