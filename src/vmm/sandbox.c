#include "vmm/sandbox.h"

#include <errno.h>
#include <linux/if_tun.h>
#include <linux/kvm.h>
#include <seccomp.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>

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

static const int main_only[] = {
    SCMP_SYS(openat),	 SCMP_SYS(newfstatat),	    SCMP_SYS(fstat),	   SCMP_SYS(lseek),
    SCMP_SYS(pread64),	 SCMP_SYS(ioctl),	    SCMP_SYS(eventfd2),	   SCMP_SYS(epoll_create1),
    SCMP_SYS(epoll_ctl), SCMP_SYS(epoll_wait),	    SCMP_SYS(epoll_pwait), SCMP_SYS(accept4),
    SCMP_SYS(sendto),	 SCMP_SYS(recvfrom),	    SCMP_SYS(unlink),	   SCMP_SYS(clone),
    SCMP_SYS(clone3),	 SCMP_SYS(set_robust_list), SCMP_SYS(rseq),	   SCMP_SYS(tgkill),
    SCMP_SYS(sysinfo),	 SCMP_SYS(getrandom),	    SCMP_SYS(fcntl),	   SCMP_SYS(prlimit64),
    SCMP_SYS(preadv),	 SCMP_SYS(pwritev),	    SCMP_SYS(pwrite64),	   SCMP_SYS(fdatasync),
    SCMP_SYS(fallocate), SCMP_SYS(rt_sigaction),    SCMP_SYS(ftruncate), /* console log */
};

static const int vcpu_only[] = {
    SCMP_SYS(sendto), /* console output */
    SCMP_SYS(tgkill), /* kicking the other vCPUs */
};

static const int io_only[] = {
    SCMP_SYS(epoll_ctl),   SCMP_SYS(readv),	SCMP_SYS(writev),    SCMP_SYS(epoll_wait),
    SCMP_SYS(epoll_pwait), SCMP_SYS(preadv),	SCMP_SYS(pwritev),   SCMP_SYS(pread64),
    SCMP_SYS(pwrite64),	   SCMP_SYS(fdatasync), SCMP_SYS(fallocate), SCMP_SYS(getrandom),
};

/* the KVM calls a vCPU thread makes, and the TAP's offloads it sets when
 * the guest's virtio-net driver settles its features (I/O threads make
 * none: they write irqfds) */
static const unsigned long vcpu_ioctls[] = {KVM_RUN,	  KVM_GET_REGS,	 KVM_GET_SREGS,
					    KVM_IRQ_LINE, KVM_IOEVENTFD, KVM_SET_GSI_ROUTING,
					    TUNSETOFFLOAD};

static int allow(scmp_filter_ctx ctx, const int *calls, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (seccomp_rule_add(ctx, SCMP_ACT_ALLOW, calls[i], 0) < 0)
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
			/* and the threads it starts may tighten their own filters */
			r = allow(ctx, main_only, ARRAY_SIZE(main_only)) ||
			    seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(seccomp), 0) ||
			    seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(prctl), 1,
					     SCMP_A0(SCMP_CMP_EQ, PR_SET_NO_NEW_PRIVS));
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
