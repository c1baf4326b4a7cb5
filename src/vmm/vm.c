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
#include <sys/stat.h>
#include <sys/sysinfo.h>
#include <unistd.h>

#include "common/log.h"
#include "common/util.h"
#include "vmm/boot.h"
#include "vmm/platform.h"
#include "vmm/sandbox.h"
#include "vmm/virtio_blk.h"

/* below the firmware's flash (up to FIRMWARE_MAX under 4 GiB), above the
 * local APIC */
#define TSS_ADDR	  0xfeffd000ull
#define IDENTITY_MAP_ADDR 0xfeffc000ull
#define KERNEL_MAX	  (256u << 20)
#define FIRMWARE_MAX	  (16u << 20)
#define ISA_BIOS_MAX	  (256u << 10) /* its end, seen again below 1 MiB */
#define NVRAM_MAX	  (4u << 20)
#define NVRAM_SLOT	  3 /* KVM memory slots: 0 and 1 RAM, 2 the firmware */

static void kick(struct vm *vm);

void vm_end_locked(struct vm *vm, enum vm_end why)
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
	vm_end_locked(vm, why);
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

/* --- the vCPU threads: each runs its vCPU until the VM stops, and parks
 * while it is paused */

static void *vcpu_thread(void *arg)
{
	struct vcpu *c = arg;
	struct vm *vm = c->vm;
	sigset_t set;
	sigemptyset(&set);
	sigaddset(&set, SIGUSR1);
	pthread_sigmask(SIG_UNBLOCK, &set, NULL);
	char name[16];
	snprintf(name, sizeof(name), "vcpu%u", c->id);
	pthread_setname_np(pthread_self(), name); /* prctl: no /proc needed */
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
		if (vcpu_run_once(c) < 0) {
			vm_end(vm, END_CRASH);
			break;
		}
	}
	return NULL;
}

/* --- creation */

/* Reads a file the VM holds open (again at each guest reboot). */
static int load_file(const char *field, const char *path, int fd, size_t max, uint8_t **data,
		     size_t *len)
{
	*data = (uint8_t *)read_fd(fd, max, len);
	if (!*data) {
		if (errno == EFBIG)
			log_msg("%s: %s: larger than %zu MiB", field, path, max >> 20);
		else
			log_errno("%s: %s", field, path);
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
	if (load_file("kernel", cfg->kernel, cfg->fd.kernel, KERNEL_MAX, &kernel, &klen) < 0)
		goto out;
	if (kernel_probe(kernel, klen, err, sizeof(err)) < 0) {
		log_msg("kernel: %s: %s", cfg->kernel, err);
		goto out;
	}
	if (cfg->initrd &&
	    load_file("initrd", cfg->initrd, cfg->fd.initrd, low, &initrd, &ilen) < 0)
		goto out;
	size_t acpi =
	    acpi_build(vm->mem + BOOT_ACPI, BOOT_HIGH - BOOT_ACPI, BOOT_ACPI, cfg->vcpus, NULL);
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

/* The ACPI tables, for the firmware to place (acpi_loader). */
static int firmware_acpi(struct vm *vm)
{
	static uint8_t tables[16384], script[ACPI_LOADER_MAX * ACPI_LOADER_ENTRY];
	size_t len, script_len;
	if (acpi_loader(tables, sizeof(tables), &len, vm->cfg->vcpus, script, &script_len) < 0 ||
	    fwcfg_add_file(&vm->fwcfg, ACPI_FWCFG_TABLES, tables, (uint32_t)len) < 0 ||
	    fwcfg_add_file(&vm->fwcfg, ACPI_FWCFG_RSDP, tables, ACPI_RSDP_LEN) < 0 ||
	    fwcfg_add_file(&vm->fwcfg, ACPI_FWCFG_LOADER, script, (uint32_t)script_len) < 0)
		return -1;
	return 0;
}

/* The boot order (cfg->boot_order, disks by index) as QEMU gives it to
 * SeaBIOS and OVMF: the disks' Open Firmware paths, a line each
 * ("/pci@i0cf8/scsi@SLOT/disk@0,0" is a virtio-blk disk). None: the
 * firmware's own order. */
static int firmware_boot_order(struct vm *vm)
{
	const struct vmm_config *cfg = vm->cfg;
	if (!cfg->nboot)
		return 0;
	char text[VM_MAX_DISKS * 40] = "";
	size_t len = 0;
	for (unsigned i = 0; i < cfg->nboot; i++) {
		unsigned disk = cfg->boot_order[i], slot = 0;
		for (unsigned d = 0, n = 0; d < vm->ndevices; d++)
			if (vm->devices[d].type == &virtio_blk_type && n++ == disk)
				slot = vm->devices[d].dev->slot;
		len += (size_t)snprintf(text + len, sizeof(text) - len,
					"/pci@i0cf8/scsi@%x/disk@0,0\n", slot);
	}
	return fwcfg_add_file(&vm->fwcfg, "bootorder", text, (uint32_t)len + 1);
}

/* Maps (on) or unmaps the variable store's flash from the guest. */
static int map_nvram(void *opaque, bool on)
{
	struct vm *vm = opaque;
	struct kvm_userspace_memory_region r = {.slot = NVRAM_SLOT,
						.flags = KVM_MEM_READONLY,
						.guest_phys_addr = vm->nvram.gpa,
						.memory_size = on ? vm->nvram.size : 0,
						.userspace_addr = (uintptr_t)vm->nvram.mem};
	return ioctl(vm->fd, KVM_SET_USER_MEMORY_REGION, &r);
}

/* The UEFI variable store: a flash chip just below the firmware's code
 * (which ends at `top`), as OVMF expects it; 2 if the file is not one. */
static int load_nvram(struct vm *vm, uint64_t top)
{
	const struct vmm_config *cfg = vm->cfg;
	struct stat st;
	if (fstat(cfg->fd.nvram, &st) < 0) {
		log_errno("nvram: %s", cfg->nvram);
		return 1;
	}
	if (st.st_size <= 0 || st.st_size % PFLASH_BLOCK || (uint64_t)st.st_size > NVRAM_MAX) {
		log_msg("nvram: %s: not a variable store (%lld bytes: want a whole number of "
			"%u-byte blocks, at most %u MiB)",
			cfg->nvram, (long long)st.st_size, PFLASH_BLOCK, NVRAM_MAX >> 20);
		return 2;
	}
	if (pflash_init(&vm->nvram, cfg->fd.nvram, (size_t)st.st_size, top - (uint64_t)st.st_size) <
	    0)
		return 1;
	vm->nvram.map = map_nvram;
	vm->nvram.opaque = vm;
	if (map_nvram(vm, true) < 0) {
		log_errno("KVM_SET_USER_MEMORY_REGION (nvram)");
		return 1;
	}
	return 0;
}

/* The firmware image: read-only at the top of the first 4 GiB, where the
 * vCPU's reset vector is, and its last 128 KiB copied below 1 MiB, as the
 * PC's chipset shows them; the firmware configuration device and the CMOS
 * describe the machine to it. 2 if the image is not one. */
static int load_firmware(struct vm *vm)
{
	const struct vmm_config *cfg = vm->cfg;
	int rc;
	uint8_t *image = NULL;
	size_t len = 0;
	if (load_file("firmware", cfg->firmware, cfg->fd.firmware, FIRMWARE_MAX, &image, &len) < 0)
		return 2;
	if (len == 0 || len % 4096) {
		log_msg("firmware: %s: not a firmware image (its size is not a multiple of 4 KiB)",
			cfg->firmware);
		free(image);
		return 2;
	}
	vm->rom = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (vm->rom == MAP_FAILED) {
		vm->rom = NULL;
		free(image);
		return 1;
	}
	vm->rom_size = len;
	memcpy(vm->rom, image, len);
	size_t isa = len < ISA_BIOS_MAX ? len : ISA_BIOS_MAX;
	memcpy(vm->mem + BOOT_HIGH - isa, image + len - isa, isa);
	free(image);
	struct kvm_userspace_memory_region rom = {.slot = 2,
						  .flags = KVM_MEM_READONLY,
						  .guest_phys_addr = BOOT_4G - len,
						  .memory_size = len,
						  .userspace_addr = (uintptr_t)vm->rom};
	if (vm_ioctl(vm, KVM_SET_USER_MEMORY_REGION, (unsigned long)&rom,
		     "KVM_SET_USER_MEMORY_REGION (firmware)") < 0)
		return 1;
	if (cfg->nvram && (rc = load_nvram(vm, BOOT_4G - len)) != 0)
		return rc;
	uint64_t low = boot_low_size(vm->mem_size), high = vm->mem_size - low;
	cmos_init(&vm->cmos);
	cmos_set_memory(&vm->cmos, low, high, cfg->vcpus);
	struct {
		uint64_t addr, len;
		uint32_t type;
	} __attribute__((packed)) e820[2] = {{0, low, 1}, {BOOT_4G, high, 1}};
	uint16_t ncpus = (uint16_t)cfg->vcpus, sercon = 0x3f8;
	uint64_t ram = vm->mem_size;
	if (fwcfg_init(&vm->fwcfg, &vm->gmem) < 0 ||
	    fwcfg_add(&vm->fwcfg, FWCFG_NB_CPUS, &ncpus, 2) < 0 ||
	    fwcfg_add(&vm->fwcfg, FWCFG_MAX_CPUS, &ncpus, 2) < 0 ||
	    fwcfg_add(&vm->fwcfg, FWCFG_RAM_SIZE, &ram, 8) < 0 ||
	    fwcfg_add_file(&vm->fwcfg, "etc/e820", e820, high ? sizeof(e820) : sizeof(e820[0])) <
		0 ||
	    fwcfg_add_file(&vm->fwcfg, "etc/sercon-port", &sercon, 2) < 0 ||
	    fwcfg_add_file(&vm->fwcfg, "opt/ovmf/X-PciMmio64Mb", "0", 1) < 0 ||
	    firmware_acpi(vm) < 0 || firmware_boot_order(vm) < 0)
		return 1;
	vm->has_fwcfg = true;
	i440fx_init(&vm->chipset);
	vm->pci.chipset = &vm->chipset;
	return 0;
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
	uint64_t entry = 0;
	rc = add_devices(vm);
	if (rc == 0)
		rc = cfg->firmware ? load_firmware(vm) : load_guest(vm, &entry);
	if (rc)
		return rc;
	if (platform_init(vm) < 0)
		return 1;
	struct kvm_cpuid2 *cpuid = vcpu_supported_cpuid(kvm);
	if (!cpuid)
		return 1;
	for (unsigned i = 0; i < cfg->vcpus && rc == 0; i++)
		if (vcpu_create(&vm->vcpus[i], cpuid, entry) < 0)
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
			vcpu_release(c);
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
	if (vm->rom)
		munmap(vm->rom, vm->rom_size);
	vm->rom = NULL;
	pflash_free(&vm->nvram);
	if (vm->has_fwcfg)
		fwcfg_free(&vm->fwcfg);
	vm->has_fwcfg = false;
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
