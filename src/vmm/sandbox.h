/* seccomp-BPF allowlists (libseccomp), one per thread role, installed by
 * each thread once its set-up is done. A system call outside the list
 * kills the whole process (SIGSYS): a guest that gets code execution in
 * keel-vmm can do little more than keel-vmm itself does. Filters stack: a
 * thread started by the main thread keeps the main thread's filter and
 * adds its own. */
#ifndef KEEL_VMM_SANDBOX_H
#define KEEL_VMM_SANDBOX_H

enum sandbox_role {
	SANDBOX_MAIN, /* event loop, control socket, (re)building the VM */
	SANDBOX_VCPU, /* KVM_RUN and the devices' port and MMIO handlers */
	SANDBOX_IO,   /* a virtio device's I/O thread */
};

/* Returns 0, or -1 (logged) if the filter could not be installed. */
int sandbox_enter(enum sandbox_role role);

#endif
