#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <string.h>

#include "vmm/cpuid.h"

#define HYPERVISOR   (1u << 31) /* leaf 1 ECX */
#define TSC_DEADLINE (1u << 24) /* leaf 1 ECX */
#define HTT	     (1u << 28) /* leaf 1 EDX */
#define PV_EOI	     (1u << 6)	/* leaf 0x40000001 EAX */

enum { L1, L4_DATA, L4_NONE, LB0, LB1, LB2, L1F1, LKVM, L80000008, L8000001E, L7, NENT };

/* What KVM might report: a host with 8 cores and 2 threads each. */
static void host(struct kvm_cpuid_entry2 *e)
{
	memset(e, 0, NENT * sizeof(*e));
	e[L1] = (struct kvm_cpuid_entry2){.function = 1,
					  .eax = 0x000906ea,
					  .ebx = 0x05100800, /* id 5, 16 logical, clflush 8 */
					  .ecx = 0x7ffafbff & ~TSC_DEADLINE & ~HYPERVISOR,
					  .edx = 0xbfebfbff};
	e[L4_DATA] = (struct kvm_cpuid_entry2){
	    .function = 4, .index = 0, .eax = 0x1c004121, .ebx = 0x01c0003f, .ecx = 0x3f};
	e[L4_NONE] = (struct kvm_cpuid_entry2){.function = 4, .index = 4, .eax = 0x1c000000};
	e[LB0] = (struct kvm_cpuid_entry2){
	    .function = 0xb, .index = 0, .eax = 1, .ebx = 2, .ecx = 0x100, .edx = 9};
	e[LB1] = (struct kvm_cpuid_entry2){
	    .function = 0xb, .index = 1, .eax = 4, .ebx = 16, .ecx = 0x201, .edx = 9};
	e[LB2] = (struct kvm_cpuid_entry2){
	    .function = 0xb, .index = 2, .eax = 7, .ebx = 7, .ecx = 0x302, .edx = 9};
	e[L1F1] = (struct kvm_cpuid_entry2){
	    .function = 0x1f, .index = 1, .eax = 4, .ebx = 16, .ecx = 0x201, .edx = 9};
	e[LKVM] = (struct kvm_cpuid_entry2){.function = 0x40000001, .eax = 0x01007efb};
	e[L80000008] = (struct kvm_cpuid_entry2){
	    .function = 0x80000008, .eax = 0x3027, .ecx = 0x0003fa0f}; /* bits 16+ and 8..11 kept */
	e[L8000001E] = (struct kvm_cpuid_entry2){
	    .function = 0x8000001e, .eax = 0x77, .ebx = 0x0103, .ecx = 0x0101};
	e[L7] = (struct kvm_cpuid_entry2){
	    .function = 7, .eax = 1, .ebx = 0xdeadbeef, .ecx = 0x1234, .edx = 0x5678};
}

static struct kvm_cpuid_entry2 e[NENT], before[NENT];

static void adjust(unsigned cpu, unsigned ncpus, bool tsc)
{
	host(e);
	memcpy(before, e, sizeof(e));
	cpuid_adjust(e, NENT, cpu, ncpus, tsc);
	/* the function and index of an entry never change */
	for (int i = 0; i < NENT; i++) {
		assert_int_equal(e[i].function, before[i].function);
		assert_int_equal(e[i].index, before[i].index);
		assert_int_equal(e[i].flags, before[i].flags);
	}
}

static void test_leaf1(void **state)
{
	(void)state;
	adjust(3, 4, true);
	assert_int_equal(e[L1].ebx >> 24, 3);	       /* initial APIC id */
	assert_int_equal((e[L1].ebx >> 16) & 0xff, 4); /* logical processors */
	assert_int_equal(e[L1].ebx & 0xffff, 0x0800);  /* the rest kept */
	assert_true(e[L1].ecx & HYPERVISOR);
	assert_true(e[L1].ecx & TSC_DEADLINE);
	assert_true(e[L1].edx & HTT);
	assert_int_equal(e[L1].eax, before[L1].eax);
	/* the other feature bits are left as KVM reports them */
	assert_int_equal(e[L1].ecx & ~(HYPERVISOR | TSC_DEADLINE), before[L1].ecx);
	assert_int_equal(e[L1].edx, before[L1].edx | HTT);

	adjust(3, 4, false); /* TSC deadline only when KVM has it */
	assert_false(e[L1].ecx & TSC_DEADLINE);
	assert_true(e[L1].ecx & HYPERVISOR);
}

static void test_leaf1_one_cpu(void **state)
{
	(void)state;
	adjust(0, 1, false);
	assert_int_equal(e[L1].ebx >> 24, 0);
	assert_int_equal((e[L1].ebx >> 16) & 0xff, 1);
	assert_false(e[L1].edx & HTT); /* cleared although the host has it */
	assert_true(before[L1].edx & HTT);
	assert_int_equal(e[L1].edx, before[L1].edx & ~HTT);
	assert_false(e[L1].ecx & TSC_DEADLINE);
	assert_true(e[L1].ecx & HYPERVISOR);
	/* and set when the host did not have it */
	struct kvm_cpuid_entry2 one = {.function = 1};
	cpuid_adjust(&one, 1, 1, 2, false);
	assert_true(one.edx & HTT);
	assert_int_equal(one.ebx, 0x01020000);
}

static void test_leaf1_every_cpu(void **state)
{
	(void)state;
	for (unsigned cpu = 0; cpu < 64; cpu++) {
		adjust(cpu, 64, false);
		assert_int_equal(e[L1].ebx >> 24, cpu);
		assert_int_equal((e[L1].ebx >> 16) & 0xff, 64);
		assert_int_equal(e[LB0].edx, cpu);
		assert_int_equal(e[LB1].edx, cpu);
		assert_int_equal(e[L8000001E].eax, cpu);
	}
}

static void test_leaf4(void **state)
{
	(void)state;
	adjust(3, 4, false);
	assert_int_equal(e[L4_DATA].eax >> 26, 3); /* cores per package - 1 */
	assert_int_equal(e[L4_DATA].eax & 0x03ffffff, before[L4_DATA].eax & 0x03ffffff);
	assert_int_equal(e[L4_DATA].ebx, before[L4_DATA].ebx);
	assert_int_equal(e[L4_NONE].eax, before[L4_NONE].eax); /* no cache: left alone */
	adjust(0, 1, false);
	assert_int_equal(e[L4_DATA].eax >> 26, 0);
	adjust(0, 64, false);
	assert_int_equal(e[L4_DATA].eax >> 26, 63);
}

static void test_leaf_b(void **state)
{
	(void)state;
	adjust(3, 4, false);
	/* subleaf 0: the thread level, one thread per core */
	assert_int_equal(e[LB0].eax, 0);
	assert_int_equal(e[LB0].ebx, 1);
	assert_int_equal(e[LB0].ecx, 0x100);
	assert_int_equal(e[LB0].edx, 3); /* x2APIC id */
	/* subleaf 1: the core level, 4 cores */
	assert_int_equal(e[LB1].eax, 2); /* APIC id bits for the package */
	assert_int_equal(e[LB1].ebx, 4);
	assert_int_equal(e[LB1].ecx, 0x201);
	assert_int_equal(e[LB1].edx, 3);
	/* subleaf 2: no more levels */
	assert_int_equal(e[LB2].eax, 0);
	assert_int_equal(e[LB2].ebx, 0);
	assert_int_equal(e[LB2].ecx, 2); /* level type 0, level number echoed */
	assert_int_equal(e[LB2].edx, 3);
	/* leaf 0x1f is the same */
	assert_int_equal(e[L1F1].eax, 2);
	assert_int_equal(e[L1F1].ebx, 4);
	assert_int_equal(e[L1F1].edx, 3);

	/* the shift covers every APIC id */
	static const struct {
		unsigned ncpus, shift;
	} s[] = {{1, 0}, {2, 1}, {3, 2}, {4, 2}, {5, 3}, {8, 3}, {9, 4}, {33, 6}, {64, 6}};
	for (size_t i = 0; i < sizeof(s) / sizeof(s[0]); i++) {
		adjust(s[i].ncpus - 1, s[i].ncpus, false);
		assert_int_equal(e[LB1].eax, s[i].shift);
		assert_int_equal(e[LB1].ebx, s[i].ncpus);
		assert_true(((s[i].ncpus - 1) >> e[LB1].eax) == 0);
	}
}

static void test_kvm_leaf(void **state)
{
	(void)state;
	adjust(3, 4, true);
	assert_int_equal(e[LKVM].eax & PV_EOI, 0);
	assert_int_equal(e[LKVM].eax, before[LKVM].eax & ~PV_EOI); /* the rest kept */
	struct kvm_cpuid_entry2 k = {.function = 0x40000001, .eax = 0x3f};
	cpuid_adjust(&k, 1, 0, 1, false);
	assert_int_equal(k.eax, 0x3f); /* bit 6 was clear: nothing changes */
}

static void test_amd_leaves(void **state)
{
	(void)state;
	adjust(3, 4, false);
	assert_int_equal(e[L80000008].ecx & 0xff, 3);	     /* cores - 1 */
	assert_int_equal((e[L80000008].ecx >> 12) & 0xf, 2); /* APIC id size */
	assert_int_equal(e[L80000008].ecx & ~0xf0ffu, before[L80000008].ecx & ~0xf0ffu);
	assert_int_equal(e[L80000008].eax, before[L80000008].eax);
	assert_int_equal(e[L8000001E].eax, 3); /* extended APIC id */
	assert_int_equal(e[L8000001E].ebx, 3); /* compute unit 3, one thread */
	assert_int_equal(e[L8000001E].ecx, 0); /* one node */
	adjust(0, 1, false);
	assert_int_equal(e[L80000008].ecx & 0xff, 0);
	assert_int_equal((e[L80000008].ecx >> 12) & 0xf, 0);
	adjust(63, 64, false);
	assert_int_equal(e[L80000008].ecx & 0xff, 63);
	assert_int_equal((e[L80000008].ecx >> 12) & 0xf, 6);
}

static void test_other_leaves_untouched(void **state)
{
	(void)state;
	adjust(3, 4, true);
	assert_memory_equal(&e[L7], &before[L7], sizeof(e[L7]));
	/* only nent entries are looked at */
	host(e);
	memcpy(before, e, sizeof(e));
	cpuid_adjust(e, 0, 3, 4, true);
	assert_memory_equal(e, before, sizeof(e));
	cpuid_adjust(e + L4_DATA, NENT - L4_DATA, 3, 4, true);
	assert_memory_equal(&e[L1], &before[L1], sizeof(e[L1]));
	assert_int_equal(e[LB1].ebx, 4);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_leaf1),	    cmocka_unit_test(test_leaf1_one_cpu),
	    cmocka_unit_test(test_leaf1_every_cpu), cmocka_unit_test(test_leaf4),
	    cmocka_unit_test(test_leaf_b),	    cmocka_unit_test(test_kvm_leaf),
	    cmocka_unit_test(test_amd_leaves),	    cmocka_unit_test(test_other_leaves_untouched),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
