/* Per-vCPU CPUID: what KVM supports, adjusted so that each vCPU reports
 * its own APIC id and the topology (one socket, ncpus cores, one thread
 * each), and so that the guest sees it runs on a hypervisor.
 *
 * KVM's paravirtual features are offered except PV EOI: with it, guests
 * with more than one vCPU hung during boot on our nested test platform,
 * and with APICv/AVIC hardware it brings nothing. The TSC deadline timer,
 * which KVM emulates but does not list, is added when KVM has it. */
#ifndef KEEL_VMM_CPUID_H
#define KEEL_VMM_CPUID_H

#include <linux/kvm.h>
#include <stdbool.h>

void cpuid_adjust(struct kvm_cpuid_entry2 *e, unsigned nent, unsigned cpu, unsigned ncpus,
		  bool tsc_deadline);

#endif
