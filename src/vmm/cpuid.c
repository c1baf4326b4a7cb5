#include "vmm/cpuid.h"

#define HYPERVISOR   (1u << 31) /* leaf 1 ECX */
#define HTT	     (1u << 28) /* leaf 1 EDX: more than one logical CPU */
#define TSC_DEADLINE (1u << 24) /* leaf 1 ECX */
#define KVM_PV_EOI   (1u << 6)	/* leaf 0x40000001 EAX */

static unsigned bits_for(unsigned n)
{
	unsigned b = 0;
	while ((1u << b) < n)
		b++;
	return b;
}

void cpuid_adjust(struct kvm_cpuid_entry2 *e, unsigned nent, unsigned cpu, unsigned ncpus,
		  bool tsc_deadline)
{
	unsigned shift = bits_for(ncpus);
	for (unsigned i = 0; i < nent; i++, e++) {
		switch (e->function) {
		case 1:
			e->ebx = (e->ebx & 0x0000ffff) | (cpu << 24) | ((ncpus & 0xff) << 16);
			e->ecx |= HYPERVISOR;
			if (tsc_deadline)
				e->ecx |= TSC_DEADLINE;
			if (ncpus > 1)
				e->edx |= HTT;
			else
				e->edx &= ~HTT;
			break;
		case 4: /* Intel cache topology: cores per package sharing */
			if (e->eax & 0x1f)
				e->eax = (e->eax & 0x03ffffff) | ((ncpus - 1) << 26);
			break;
		case 0xb:
		case 0x1f: /* extended topology: level 0 threads, level 1 cores */
			e->edx = cpu;
			if (e->index == 0) {
				e->eax = 0;
				e->ebx = 1;
				e->ecx = 0x100;
			} else if (e->index == 1) {
				e->eax = shift;
				e->ebx = ncpus;
				e->ecx = 0x201;
			} else {
				e->eax = e->ebx = 0;
				e->ecx = e->index;
			}
			break;
		case 0x40000001:
			e->eax &= ~KVM_PV_EOI;
			break;
		case 0x80000008: /* AMD: cores per package, APIC id width */
			e->ecx = (e->ecx & ~0xf0ffu) | (shift << 12) | (ncpus - 1);
			break;
		case 0x8000001e: /* AMD: extended APIC id, one thread per core */
			e->eax = cpu;
			e->ebx = cpu & 0xff;
			e->ecx = 0;
			break;
		}
	}
}
