#include "vmm/vm.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/kvm.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/sysinfo.h>
#include <unistd.h>

#include "common/log.h"
#include "common/util.h"
#include "vmm/boot.h"
#include "vmm/cpuid.h"
#include "vmm/sandbox.h"

#define TSS_ADDR	  0xfffbd000ull
#define IDENTITY_MAP_ADDR 0xfffbc000ull
#define KERNEL_MAX	  (256u << 20)
#define I8042_DATA	  0x60
#define I8042_CMD	  0x64
#define I8042_RESET	  0xfe

const char *const exit_kind_names[EXIT_KINDS] = {"io", "mmio", "intr", "hlt", "shutdown", "other"};

static void kick(struct vm *vm);

static uint64_t now_ns(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (uint64_t)t.tv_sec * 1000000000ull + (uint64_t)t.tv_nsec;
}

/* Called with vm->lock held. */
static void end_locked(struct vm *vm, enum vm_end why)
{
	if (vm->state == VM_STOPPING)
		return;
	vm->end = why;
	vm->state = VM_STOPPING;
	pthread_cond_broadcast(&vm->cond);
	kick(vm);
	uint64_t one = 1;
	if (write(vm->end_fd, &one, sizeof(one)) < 0)
		log_errno("eventfd");
}

void vm_end(struct vm *vm, enum vm_end why)
{
	pthread_mutex_lock(&vm->lock);
	end_locked(vm, why);
	pthread_mutex_unlock(&vm->lock);
}

/* Makes every running vCPU leave KVM_RUN soon: immediate_exit covers a
 * vCPU about to enter, the signal one already inside. */
static void kick(struct vm *vm)
{
	for (unsigned i = 0; i < vm->cfg->vcpus; i++) {
		struct vcpu *c = &vm->vcpus[i];
		if (!c->started)
			continue;
		__atomic_store_n(&c->run->immediate_exit, 1, __ATOMIC_SEQ_CST);
		pthread_kill(c->thread, SIGUSR1);
	}
}

/* --- devices; all called with vm->lock held */

static void irq_line(struct vm *vm, unsigned irq, int level)
{
	struct kvm_irq_level l = {.irq = irq, .level = (uint32_t)level};
	if (ioctl(vm->fd, KVM_IRQ_LINE, &l) < 0)
		log_errno("KVM_IRQ_LINE %u", irq);
}

static void uart_irq(void *opaque, int level)
{
	irq_line(opaque, UART_COM1_IRQ, level);
}

static void uart_tx(void *opaque, uint8_t byte)
{
	struct vm *vm = opaque;
	if (vm->console_out)
		vm->console_out(vm->console_opaque, byte);
}

static void pm_sci(void *opaque, int level)
{
	irq_line(opaque, ACPI_SCI_IRQ, level);
}

static void pm_poweroff(void *opaque)
{
	end_locked(opaque, END_POWEROFF);
}

static void boot_timer(struct vm *vm, uint8_t value)
{
	if (!vm->cfg->boot_timer || value != BOOT_TIMER_MAGIC || vm->boot_ms >= 0)
		return;
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	vm->boot_ms = (double)(t.tv_sec - vm->started.tv_sec) * 1e3 +
		      (double)(t.tv_nsec - vm->started.tv_nsec) / 1e6;
	log_msg("boot timer: guest signalled after %.1f ms", vm->boot_ms);
}

/* One port access of size 1, 2 or 4; data is the guest's (little-endian)
 * value to write, or the buffer to fill for a read. */
static void port_io(struct vm *vm, uint16_t port, unsigned size, int write, uint8_t *data)
{
	if (port >= UART_COM1 && port < UART_COM1 + 8) {
		for (unsigned i = 0; i < size; i++) {
			unsigned off = (unsigned)(port - UART_COM1) + i;
			if (write && off < 8)
				uart_write(&vm->uart, off, data[i]);
			else if (!write) /* a wide access may run past the UART */
				data[i] = off < 8 ? uart_read(&vm->uart, off) : 0xff;
		}
	} else if (port >= ACPI_PM1_EVT && port < ACPI_PM1_CNT + 2) {
		uint32_t v = 0;
		if (write) {
			memcpy(&v, data, size);
			acpi_pm_write(&vm->pm, port, size, v);
		} else {
			v = acpi_pm_read(&vm->pm, port, size);
			memcpy(data, &v, size);
		}
	} else if (port == I8042_CMD || port == I8042_DATA) {
		/* only what Linux's keyboard-controller reset needs: an empty
		 * input buffer, and the pulse of the reset line */
		if (!write)
			memset(data, 0, size);
		else if (port == I8042_CMD && data[0] == I8042_RESET)
			end_locked(vm, END_RESET);
	} else if (port == BOOT_TIMER_PORT) {
		if (write)
			boot_timer(vm, data[0]);
		else
			memset(data, 0xff, size);
	} else if (!pci_port_io(&vm->pci, port, size, write, data) && !write) {
		memset(data, 0xff, size); /* nothing there */
	}
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
			port_io(vm, r->io.port, r->io.size, r->io.direction == KVM_EXIT_IO_OUT,
				data);
		pthread_mutex_unlock(&vm->lock);
		return 0;
	}
	case KVM_EXIT_MMIO:
		count(c, EXIT_MMIO);
		if (!pci_mmio(&vm->pci, r->mmio.phys_addr, r->mmio.len, r->mmio.is_write,
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
		log_msg("vcpu%u: KVM internal error, suberror %u", c->id, r->internal.suberror);
		break;
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

static void *vcpu_thread(void *arg)
{
	struct vcpu *c = arg;
	struct vm *vm = c->vm;
	sigset_t set;
	sigemptyset(&set);
	sigaddset(&set, SIGUSR1);
	pthread_sigmask(SIG_UNBLOCK, &set, NULL);
	if (sandbox_enter(SANDBOX_VCPU) < 0) {
		vm_end(vm, END_CRASH);
		return NULL;
	}
	for (;;) {
		pthread_mutex_lock(&vm->lock);
		while (vm->state == VM_PAUSED) {
			vm->parked++;
			pthread_cond_broadcast(&vm->cond);
			pthread_cond_wait(&vm->cond, &vm->lock);
			vm->parked--;
		}
		int stop = vm->state == VM_STOPPING;
		pthread_mutex_unlock(&vm->lock);
		if (stop)
			break;
		uint64_t t0 = now_ns();
		int r = ioctl(c->fd, KVM_RUN, 0);
		int err = errno;
		__atomic_fetch_add(&c->run_ns, now_ns() - t0, __ATOMIC_RELAXED);
		if (r < 0) {
			if (err == EINTR || err == EAGAIN) {
				__atomic_store_n(&c->run->immediate_exit, 0, __ATOMIC_SEQ_CST);
				count(c, EXIT_INTR);
				continue;
			}
			errno = err;
			log_errno("vcpu%u: KVM_RUN", c->id);
			dump_registers(c);
			vm_end(vm, END_CRASH);
			break;
		}
		if (handle_exit(c) < 0) {
			vm_end(vm, END_CRASH);
			break;
		}
	}
	return NULL;
}

/* --- creation */

static int load_file(const char *field, const char *path, size_t max, uint8_t **data, size_t *len)
{
	*data = (uint8_t *)read_file(path, max, len);
	if (!*data) {
		if (errno == EFBIG)
			log_msg("%s: %s: larger than %zu MiB", field, path, max >> 20);
		else
			log_errno("%s: %s", field, path);
		return -1;
	}
	return 0;
}

static struct kvm_cpuid2 *supported_cpuid(int kvm)
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

static int create_vcpu(struct vm *vm, struct vcpu *c, const struct kvm_cpuid2 *base, uint64_t entry)
{
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
	if (set_msrs(c) < 0 || set_lapic(c) < 0 || (c->id == 0 && set_boot_regs(c, entry) < 0)) {
		log_errno("vcpu%u: cannot set the initial state", c->id);
		return -1;
	}
	return 0;
}

static int vm_ioctl(struct vm *vm, unsigned long req, unsigned long arg, const char *what)
{
	if (ioctl(vm->fd, req, arg) < 0) {
		log_errno("%s", what);
		return -1;
	}
	return 0;
}

/* Guest RAM is aligned to GUEST_RAM_ALIGN in keel-vmm's address space, as it
 * is in the guest's: only then can KVM map it with 2 MiB pages (a host huge
 * page backs a guest huge page only where both addresses agree modulo its
 * size), which takes one nested page fault per 2 MiB instead of 512. */
#define GUEST_RAM_ALIGN (2ull << 20)

static int set_memory(struct vm *vm)
{
	uint64_t low = boot_low_size(vm->mem_size);
	size_t span = vm->mem_size + GUEST_RAM_ALIGN;
	uint8_t *area = mmap(NULL, span, PROT_READ | PROT_WRITE,
			     MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (area == MAP_FAILED) {
		log_errno("cannot map %llu MiB of guest memory",
			  (unsigned long long)(vm->mem_size >> 20));
		return -1;
	}
	size_t head = (GUEST_RAM_ALIGN - (uintptr_t)area % GUEST_RAM_ALIGN) % GUEST_RAM_ALIGN;
	if (head)
		munmap(area, head);
	munmap(area + head + vm->mem_size, GUEST_RAM_ALIGN - head);
	vm->mem = area + head;
	madvise(vm->mem, vm->mem_size, MADV_HUGEPAGE);
	madvise(vm->mem, vm->mem_size, MADV_DONTDUMP);
	struct kvm_userspace_memory_region regions[2] = {
	    {.slot = 0,
	     .guest_phys_addr = 0,
	     .memory_size = low,
	     .userspace_addr = (uintptr_t)vm->mem},
	    {.slot = 1,
	     .guest_phys_addr = BOOT_4G,
	     .memory_size = vm->mem_size - low,
	     .userspace_addr = (uintptr_t)(vm->mem + low)},
	};
	for (unsigned i = 0; i < 2; i++)
		if (regions[i].memory_size &&
		    vm_ioctl(vm, KVM_SET_USER_MEMORY_REGION, (unsigned long)&regions[i],
			     "KVM_SET_USER_MEMORY_REGION") < 0)
			return -1;
	return 0;
}

/* Checks the configuration against this host; 2 if it cannot fit. */
static int check_host(struct vm *vm)
{
	const struct vmm_config *cfg = vm->cfg;
	int max = ioctl(vm->kvm, KVM_CHECK_EXTENSION, KVM_CAP_MAX_VCPUS);
	if (max <= 0)
		max = ioctl(vm->kvm, KVM_CHECK_EXTENSION, KVM_CAP_NR_VCPUS);
	if (max > 0 && cfg->vcpus > (unsigned)max) {
		log_msg("vcpus: %u requested, this host's KVM takes at most %d", cfg->vcpus, max);
		return 2;
	}
	struct sysinfo si;
	if (sysinfo(&si) == 0) {
		uint64_t host_mib = (uint64_t)si.totalram * si.mem_unit >> 20;
		if (cfg->memory_mib > host_mib) {
			log_msg("memory_mib: %llu MiB requested, the host has %llu MiB",
				(unsigned long long)cfg->memory_mib, (unsigned long long)host_mib);
			return 2;
		}
	}
	return 0;
}

/* Reads the kernel and initrd and puts them into guest memory; 2 if they
 * are not usable. */
static int load_guest(struct vm *vm, uint64_t *entry)
{
	const struct vmm_config *cfg = vm->cfg;
	uint8_t *kernel = NULL, *initrd = NULL;
	size_t klen = 0, ilen = 0;
	uint64_t low = boot_low_size(vm->mem_size);
	int rc = 2;
	char err[256];
	if (load_file("kernel", cfg->kernel, KERNEL_MAX, &kernel, &klen) < 0)
		goto out;
	if (kernel_probe(kernel, klen, err, sizeof(err)) < 0) {
		log_msg("kernel: %s: %s", cfg->kernel, err);
		goto out;
	}
	if (cfg->initrd && load_file("initrd", cfg->initrd, low, &initrd, &ilen) < 0)
		goto out;
	size_t acpi = acpi_build(vm->mem + BOOT_ACPI, BOOT_HIGH - BOOT_ACPI, BOOT_ACPI, cfg->vcpus);
	struct boot_result br;
	if (!acpi || boot_load(vm->mem, low, vm->mem_size, kernel, klen, initrd, ilen, cfg->cmdline,
			       BOOT_ACPI, &br, err, sizeof(err)) < 0) {
		log_msg("kernel: %s: %s", cfg->kernel, acpi ? err : "ACPI tables do not fit");
		goto out;
	}
	boot_write_tables(vm->mem);
	*entry = br.entry;
	rc = 0;
out:
	free(kernel);
	free(initrd);
	return rc;
}

/* The virtio devices, type by type in the table's order; 2 if the
 * configuration of one cannot be used on this host. */
static int add_devices(struct vm *vm)
{
	const struct vmm_config *cfg = vm->cfg;
	vm->gmem = (struct gmem){
	    .host = vm->mem, .size = vm->mem_size, .low = boot_low_size(vm->mem_size)};
	unsigned total = 0;
	for (size_t t = 0; t < vdev_ntypes; t++)
		total += vdev_types[t]->count(cfg);
	vm->devices = calloc(total ? total : 1, sizeof(*vm->devices));
	if (!vm->devices)
		return 1;
	const struct vdev_host host = {.pci = &vm->pci, .mem = &vm->gmem, .vmfd = vm->fd};
	for (size_t t = 0; t < vdev_ntypes; t++) {
		const struct vdev_type *type = vdev_types[t];
		unsigned n = type->count(cfg);
		for (unsigned i = 0; i < n; i++) {
			struct vpci_dev *dev = NULL;
			int rc = type->create(cfg, i, &host, &dev);
			if (dev)
				vm->devices[vm->ndevices++] = (struct vm_device){type, dev};
			if (rc)
				return rc;
		}
	}
	return 0;
}

int vm_create(struct vm *vm, const struct vmm_config *cfg, int kvm)
{
	struct timespec started = vm->started;
	memset(vm, 0, sizeof(*vm));
	vm->started = started;
	vm->cfg = cfg;
	vm->kvm = kvm;
	vm->fd = -1;
	vm->boot_ms = -1;
	vm->mem_size = cfg->memory_mib << 20;
	pthread_mutex_init(&vm->lock, NULL);
	pthread_cond_init(&vm->cond, NULL);
	vm->end_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	vm->vcpus = calloc(cfg->vcpus, sizeof(*vm->vcpus));
	if (vm->end_fd < 0 || !vm->vcpus)
		return 1;
	for (unsigned i = 0; i < cfg->vcpus; i++) {
		vm->vcpus[i].vm = vm;
		vm->vcpus[i].id = i;
		vm->vcpus[i].fd = -1;
	}
	int rc = check_host(vm);
	if (rc)
		return rc;
	do
		vm->fd = ioctl(kvm, KVM_CREATE_VM, 0);
	while (vm->fd < 0 && errno == EINTR);
	if (vm->fd < 0) {
		log_errno("KVM_CREATE_VM");
		return 1;
	}
	uint64_t idmap = IDENTITY_MAP_ADDR;
	struct kvm_pit_config pit = {.flags = 0};
	if (vm_ioctl(vm, KVM_SET_TSS_ADDR, TSS_ADDR, "KVM_SET_TSS_ADDR") < 0 ||
	    vm_ioctl(vm, KVM_SET_IDENTITY_MAP_ADDR, (unsigned long)&idmap,
		     "KVM_SET_IDENTITY_MAP_ADDR") < 0 ||
	    vm_ioctl(vm, KVM_CREATE_IRQCHIP, 0, "KVM_CREATE_IRQCHIP") < 0 ||
	    vm_ioctl(vm, KVM_CREATE_PIT2, (unsigned long)&pit, "KVM_CREATE_PIT2") < 0 ||
	    set_memory(vm) < 0)
		return 1;
	uint64_t entry;
	rc = load_guest(vm, &entry);
	if (rc == 0)
		rc = add_devices(vm);
	if (rc)
		return rc;
	uart_init(&vm->uart);
	vm->uart.tx = uart_tx;
	vm->uart.irq = uart_irq;
	vm->uart.opaque = vm;
	acpi_pm_init(&vm->pm);
	vm->pm.sci = pm_sci;
	vm->pm.poweroff = pm_poweroff;
	vm->pm.opaque = vm;
	struct kvm_cpuid2 *cpuid = supported_cpuid(kvm);
	if (!cpuid)
		return 1;
	for (unsigned i = 0; i < cfg->vcpus && rc == 0; i++)
		if (create_vcpu(vm, &vm->vcpus[i], cpuid, entry) < 0)
			rc = 1;
	free(cpuid);
	return rc;
}

int vm_start(struct vm *vm)
{
	for (unsigned i = 0; i < vm->cfg->vcpus; i++) {
		struct vcpu *c = &vm->vcpus[i];
		int err = pthread_create(&c->thread, NULL, vcpu_thread, c);
		if (err) {
			errno = err;
			log_errno("vcpu%u: cannot start a thread", i);
			vm_end(vm, END_CRASH);
			return -1;
		}
		char name[16];
		snprintf(name, sizeof(name), "vcpu%u", i);
		pthread_setname_np(c->thread, name);
		c->started = 1;
	}
	return 0;
}

void vm_destroy(struct vm *vm)
{
	if (vm->vcpus) {
		vm_end(vm, END_STOP);
		for (unsigned i = 0; i < vm->cfg->vcpus; i++) {
			struct vcpu *c = &vm->vcpus[i];
			if (c->started)
				pthread_join(c->thread, NULL);
			if (c->run)
				munmap(c->run, c->run_size);
			if (c->fd >= 0)
				close(c->fd);
		}
		free(vm->vcpus);
		vm->vcpus = NULL;
	}
	pci_bus_free(&vm->pci); /* stops the devices' I/O threads */
	for (unsigned i = 0; i < vm->ndevices; i++)
		vm->devices[i].type->destroy(vm->devices[i].dev);
	free(vm->devices);
	vm->devices = NULL;
	vm->ndevices = 0;
	if (vm->mem)
		munmap(vm->mem, vm->mem_size);
	vm->mem = NULL;
	if (vm->fd >= 0)
		close(vm->fd);
	if (vm->end_fd >= 0)
		close(vm->end_fd);
	vm->fd = vm->end_fd = -1;
	pthread_mutex_destroy(&vm->lock);
	pthread_cond_destroy(&vm->cond);
}

int vm_pause(struct vm *vm)
{
	pthread_mutex_lock(&vm->lock);
	int r = -1;
	if (vm->state == VM_RUNNING) {
		vm->state = VM_PAUSED;
		kick(vm);
		while (vm->state == VM_PAUSED && vm->parked < vm->cfg->vcpus)
			pthread_cond_wait(&vm->cond, &vm->lock);
		r = vm->state == VM_PAUSED ? 0 : -1;
	}
	pthread_mutex_unlock(&vm->lock);
	return r;
}

int vm_resume(struct vm *vm)
{
	pthread_mutex_lock(&vm->lock);
	int r = -1;
	if (vm->state == VM_PAUSED) {
		vm->state = VM_RUNNING;
		pthread_cond_broadcast(&vm->cond);
		r = 0;
	}
	pthread_mutex_unlock(&vm->lock);
	return r;
}

void vm_power_button(struct vm *vm)
{
	pthread_mutex_lock(&vm->lock);
	acpi_pm_power_button(&vm->pm);
	pthread_mutex_unlock(&vm->lock);
}

size_t vm_console_input(struct vm *vm, const uint8_t *data, size_t len)
{
	pthread_mutex_lock(&vm->lock);
	size_t n = uart_receive(&vm->uart, data, len);
	pthread_mutex_unlock(&vm->lock);
	return n;
}
