#include "vmm/vcpu.h"

#include <errno.h>
#include <linux/kvm.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include "common/log.h"
#include "vmm/boot.h"
#include "vmm/cpuid.h"
#include "vmm/platform.h"
#include "vmm/vm.h"

const char *const exit_kind_names[EXIT_KINDS] = {"io", "mmio", "intr", "hlt", "shutdown", "other"};

static uint64_t now_ns(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (uint64_t)t.tv_sec * 1000000000ull + (uint64_t)t.tv_nsec;
}

static void dump_registers(struct vcpu *c)
{
	struct kvm_regs r;
	struct kvm_sregs s;
	if (ioctl(c->fd, KVM_GET_REGS, &r) < 0 || ioctl(c->fd, KVM_GET_SREGS, &s) < 0) {
		log_errno("vcpu%u: cannot read registers", c->id);
		return;
	}
	log_msg("vcpu%u: rip %016llx rsp %016llx rflags %08llx", c->id, r.rip, r.rsp, r.rflags);
	log_msg("vcpu%u: rax %016llx rbx %016llx rcx %016llx rdx %016llx", c->id, r.rax, r.rbx,
		r.rcx, r.rdx);
	log_msg("vcpu%u: rsi %016llx rdi %016llx rbp %016llx", c->id, r.rsi, r.rdi, r.rbp);
	log_msg("vcpu%u: cr0 %016llx cr2 %016llx cr3 %016llx cr4 %016llx efer %llx", c->id, s.cr0,
		s.cr2, s.cr3, s.cr4, s.efer);
	log_msg("vcpu%u: cs %04x base %llx ss %04x gdt %llx/%x idt %llx/%x", c->id, s.cs.selector,
		s.cs.base, s.ss.selector, s.gdt.base, s.gdt.limit, s.idt.base, s.idt.limit);
}

static void count(struct vcpu *c, enum exit_kind k)
{
	__atomic_fetch_add(&c->exits[k], 1, __ATOMIC_RELAXED);
}

/* --- running */

/* Handles one exit; returns -1 when the VM must end as crashed. */
static int handle_exit(struct vcpu *c)
{
	struct vm *vm = c->vm;
	struct kvm_run *r = c->run;
	switch (r->exit_reason) {
	case KVM_EXIT_IO: {
		count(c, EXIT_IO);
		uint8_t *data = (uint8_t *)r + r->io.data_offset;
		if (r->io.size != 1 && r->io.size != 2 && r->io.size != 4)
			return 0;
		pthread_mutex_lock(&vm->lock);
		for (uint32_t i = 0; i < r->io.count; i++, data += r->io.size)
			portio_dispatch(&vm->ports, r->io.port, r->io.size,
					r->io.direction == KVM_EXIT_IO_OUT, data);
		pthread_mutex_unlock(&vm->lock);
		return 0;
	}
	case KVM_EXIT_MMIO:
		count(c, EXIT_MMIO);
		if (!platform_mmio(vm, r->mmio.phys_addr, r->mmio.len, r->mmio.is_write,
				   r->mmio.data) &&
		    !pci_mmio(&vm->pci, r->mmio.phys_addr, r->mmio.len, r->mmio.is_write,
			      r->mmio.data) &&
		    !r->mmio.is_write)
			memset(r->mmio.data, 0xff, sizeof(r->mmio.data));
		return 0;
	case KVM_EXIT_INTR:
		count(c, EXIT_INTR);
		return 0;
	case KVM_EXIT_HLT:
		count(c, EXIT_HLT);
		return 0;
	case KVM_EXIT_SHUTDOWN:
		count(c, EXIT_SHUTDOWN);
		log_msg("vcpu%u: triple fault", c->id);
		break;
	case KVM_EXIT_INTERNAL_ERROR:
		count(c, EXIT_OTHER);
		{
			/* what KVM adds (for an instruction it could not emulate: flags,
			 * the instruction's length and bytes) */
			char words[160] = "";
			unsigned n = r->internal.ndata < 8 ? r->internal.ndata : 8;
			for (unsigned i = 0; i < n; i++)
				snprintf(words + strlen(words), sizeof(words) - strlen(words),
					 " %llx", (unsigned long long)r->internal.data[i]);
			log_msg("vcpu%u: KVM internal error, suberror %u; data%s", c->id,
				r->internal.suberror, n ? words : " none");
			break;
		}
	case KVM_EXIT_FAIL_ENTRY:
		count(c, EXIT_OTHER);
		log_msg("vcpu%u: VM entry failed, reason %#llx", c->id,
			(unsigned long long)r->fail_entry.hardware_entry_failure_reason);
		break;
	case KVM_EXIT_SYSTEM_EVENT:
		count(c, EXIT_OTHER);
		if (r->system_event.type == KVM_SYSTEM_EVENT_SHUTDOWN) {
			vm_end(vm, END_POWEROFF);
			return 0;
		}
		if (r->system_event.type == KVM_SYSTEM_EVENT_RESET) {
			vm_end(vm, END_RESET);
			return 0;
		}
		log_msg("vcpu%u: system event %u", c->id, r->system_event.type);
		break;
	default:
		count(c, EXIT_OTHER);
		log_msg("vcpu%u: unexpected exit reason %u", c->id, r->exit_reason);
		break;
	}
	dump_registers(c);
	return -1;
}

int vcpu_run_once(struct vcpu *c)
{
	uint64_t t0 = now_ns();
	int r = ioctl(c->fd, KVM_RUN, 0);
	int err = errno;
	__atomic_fetch_add(&c->run_ns, now_ns() - t0, __ATOMIC_RELAXED);
	if (r < 0) {
		if (err == EINTR || err == EAGAIN) {
			__atomic_store_n(&c->run->immediate_exit, 0, __ATOMIC_SEQ_CST);
			count(c, EXIT_INTR);
			return 0;
		}
		errno = err;
		log_errno("vcpu%u: KVM_RUN", c->id);
		dump_registers(c);
		return -1;
	}
	return handle_exit(c);
}

void vcpu_release(struct vcpu *c)
{
	if (c->run)
		munmap(c->run, c->run_size);
	if (c->fd >= 0)
		close(c->fd);
}

/* --- the initial state */

struct kvm_cpuid2 *vcpu_supported_cpuid(int kvm)
{
	for (unsigned n = 64; n <= 4096; n *= 2) {
		struct kvm_cpuid2 *c = calloc(1, sizeof(*c) + n * sizeof(c->entries[0]));
		if (!c)
			return NULL;
		c->nent = n;
		if (ioctl(kvm, KVM_GET_SUPPORTED_CPUID, c) == 0)
			return c;
		free(c);
		if (errno != E2BIG)
			break;
	}
	log_errno("KVM_GET_SUPPORTED_CPUID");
	return NULL;
}

static int set_msrs(struct vcpu *c)
{
	struct {
		struct kvm_msrs h;
		struct kvm_msr_entry e[2];
	} m = {.h = {.nmsrs = 2},
	       .e = {
		   {.index = 0x1a0, .data = 1},		     /* MISC_ENABLE: fast strings */
		   {.index = 0x2ff, .data = (1u << 11) | 6}, /* MTRRdefType: on, write-back */
	       }};
	if (ioctl(c->fd, KVM_SET_MSRS, &m) != 2) {
		log_msg("vcpu%u: KVM_SET_MSRS failed", c->id);
		return -1;
	}
	return 0;
}

/* LINT0 takes the 8259's interrupts (ExtINT), LINT1 is NMI, as firmware
 * leaves them. */
static int set_lapic(struct vcpu *c)
{
	struct kvm_lapic_state l;
	if (ioctl(c->fd, KVM_GET_LAPIC, &l) < 0)
		return -1;
	uint32_t lvt0, lvt1;
	memcpy(&lvt0, l.regs + 0x350, 4);
	memcpy(&lvt1, l.regs + 0x360, 4);
	lvt0 = (lvt0 & ~0x700u) | (7u << 8);
	lvt1 = (lvt1 & ~0x700u) | (4u << 8);
	memcpy(l.regs + 0x350, &lvt0, 4);
	memcpy(l.regs + 0x360, &lvt1, 4);
	return ioctl(c->fd, KVM_SET_LAPIC, &l);
}

/* The boot vCPU starts in 64-bit mode at the kernel's entry point. */
static int set_boot_regs(struct vcpu *c, uint64_t entry)
{
	struct kvm_sregs s;
	if (ioctl(c->fd, KVM_GET_SREGS, &s) < 0)
		return -1;
	struct kvm_segment code = {.base = 0,
				   .limit = 0xffffffff,
				   .selector = 0x10,
				   .type = 11,
				   .present = 1,
				   .s = 1,
				   .l = 1,
				   .g = 1};
	struct kvm_segment data = code;
	data.selector = 0x18;
	data.type = 3;
	data.l = 0;
	data.db = 1;
	s.cs = code;
	s.ds = s.es = s.fs = s.gs = s.ss = data;
	s.gdt.base = BOOT_GDT;
	s.gdt.limit = 4 * 8 - 1;
	s.cr3 = BOOT_PML4;
	s.cr4 = 0x20;	    /* PAE */
	s.cr0 = 0x80000011; /* PG, ET, PE */
	s.efer = 0x500;	    /* LME, LMA */
	struct kvm_regs r = {
	    .rip = entry, .rsi = BOOT_ZERO_PAGE, .rsp = BOOT_STACK, .rbp = BOOT_STACK, .rflags = 2};
	struct kvm_fpu f = {.fcw = 0x37f, .mxcsr = 0x1f80};
	if (ioctl(c->fd, KVM_SET_SREGS, &s) < 0 || ioctl(c->fd, KVM_SET_REGS, &r) < 0 ||
	    ioctl(c->fd, KVM_SET_FPU, &f) < 0)
		return -1;
	return 0;
}

int vcpu_create(struct vcpu *c, const struct kvm_cpuid2 *base, uint64_t entry)
{
	const struct vm *vm = c->vm;
	c->fd = ioctl(vm->fd, KVM_CREATE_VCPU, (unsigned long)c->id);
	if (c->fd < 0) {
		log_errno("vcpu%u: KVM_CREATE_VCPU", c->id);
		return -1;
	}
	int size = ioctl(vm->kvm, KVM_GET_VCPU_MMAP_SIZE, 0);
	if (size <= 0)
		return -1;
	c->run_size = (size_t)size;
	c->run = mmap(NULL, c->run_size, PROT_READ | PROT_WRITE, MAP_SHARED, c->fd, 0);
	if (c->run == MAP_FAILED) {
		c->run = NULL;
		log_errno("vcpu%u: mmap", c->id);
		return -1;
	}
	size_t bytes = sizeof(*base) + base->nent * sizeof(base->entries[0]);
	struct kvm_cpuid2 *cpuid = malloc(bytes);
	if (!cpuid)
		return -1;
	memcpy(cpuid, base, bytes);
	cpuid_adjust(cpuid->entries, cpuid->nent, c->id, vm->cfg->vcpus,
		     ioctl(vm->kvm, KVM_CHECK_EXTENSION, KVM_CAP_TSC_DEADLINE_TIMER) > 0);
	int r = ioctl(c->fd, KVM_SET_CPUID2, cpuid);
	free(cpuid);
	if (r < 0) {
		log_errno("vcpu%u: KVM_SET_CPUID2", c->id);
		return -1;
	}
	/* with firmware, the vCPUs keep their reset state (the boot one at
	 * the reset vector, the others waiting for INIT and SIPI) */
	bool direct = !vm->cfg->firmware;
	if ((direct && set_msrs(c) < 0) || set_lapic(c) < 0 ||
	    (direct && c->id == 0 && set_boot_regs(c, entry) < 0)) {
		log_errno("vcpu%u: cannot set the initial state", c->id);
		return -1;
	}
	return 0;
}
