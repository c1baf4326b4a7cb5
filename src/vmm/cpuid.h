/* Per-vCPU CPUID: what KVM supports, adjusted so that each vCPU reports
 * its own APIC id and the topology (one socket, ncpus cores, one thread
 * each), and so that the guest sees it runs on a hypervisor. */
#ifndef KEEL_VMM_CPUID_H
#define KEEL_VMM_CPUID_H

#include <linux/kvm.h>

void cpuid_adjust(struct kvm_cpuid_entry2 *e, unsigned nent, unsigned cpu, unsigned ncpus);

#endif
