/* One x86_64 vCPU on KVM: its initial state (CPUID, MSRs, local APIC, and
 * for the boot vCPU the 64-bit registers and segments that enter the
 * kernel), and one turn of KVM_RUN with the exit it returns: port I/O to
 * the VM's port table (under vm->lock), MMIO to the PCI transport, and the
 * exits that end the VM. The run state (pause, stop) is vm.c's. */
#ifndef KEEL_VMM_VCPU_H
#define KEEL_VMM_VCPU_H

#include <pthread.h>
#include <stddef.h>
#include <stdint.h>

struct vm;
struct kvm_run;
struct kvm_cpuid2;

enum exit_kind { EXIT_IO, EXIT_MMIO, EXIT_INTR, EXIT_HLT, EXIT_SHUTDOWN, EXIT_OTHER, EXIT_KINDS };
extern const char *const exit_kind_names[EXIT_KINDS];

struct vcpu {
	struct vm *vm;
	unsigned id;
	int fd;
	struct kvm_run *run;
	size_t run_size;
	pthread_t thread;
	int started;
	uint64_t exits[EXIT_KINDS];
	uint64_t run_ns; /* wall time inside KVM_RUN */
};

/* What this host's KVM offers (KVM_GET_SUPPORTED_CPUID), to be freed by
 * the caller; NULL (logged) on failure. */
struct kvm_cpuid2 *vcpu_supported_cpuid(int kvm);
/* Creates c->id's KVM vCPU, maps its run structure and sets its initial
 * state from base, entering at `entry` if it is the boot vCPU (0);
 * -1 (logged) on failure. c->vm, c->id and c->fd (-1) are set. */
int vcpu_create(struct vcpu *c, const struct kvm_cpuid2 *base, uint64_t entry);
/* Enters the guest once and handles the exit; -1 when the VM must end as
 * crashed (the registers are logged). */
int vcpu_run_once(struct vcpu *c);
/* Unmaps the run structure and closes the vCPU (the thread has ended). */
void vcpu_release(struct vcpu *c);

#endif
