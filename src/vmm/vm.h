/* One virtual machine on KVM: memory, vCPU threads, the platform devices
 * (UART, ACPI power management, the reset line of the i8042, the boot
 * timer port), and its run state. vm.c drives KVM; main.c owns the event
 * loop, the console and the control socket. */
#ifndef KEEL_VMM_VM_H
#define KEEL_VMM_VM_H

#include <pthread.h>
#include <stdint.h>
#include <time.h>

#include "vmm/acpi.h"
#include "vmm/config.h"
#include "vmm/pci.h"
#include "vmm/uart.h"
#include "vmm/vdev.h"

#define BOOT_TIMER_PORT	 0x440
#define BOOT_TIMER_MAGIC 0x4b /* 'K' */

enum vm_state { VM_RUNNING, VM_PAUSED, VM_STOPPING };

/* why the VM stopped */
enum vm_end { END_NONE, END_POWEROFF, END_RESET, END_CRASH, END_STOP };

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

struct vm {
	const struct vmm_config *cfg;
	int kvm, fd;
	uint8_t *mem;
	uint64_t mem_size;
	struct vcpu *vcpus;

	pthread_mutex_t lock; /* the state below and the devices */
	pthread_cond_t cond;
	enum vm_state state;
	enum vm_end end;
	unsigned parked; /* vCPUs waiting while paused */
	int end_fd;	 /* eventfd: written once when the VM ends */

	struct uart uart;
	struct acpi_pm pm;
	struct gmem gmem;
	struct pci_bus pci;
	struct vm_device {
		const struct vdev_type *type;
		struct vpci_dev *dev;
	} * devices; /* the virtio devices, in PCI slot order */
	unsigned ndevices;
	void (*console_out)(void *opaque, uint8_t byte);
	void *console_opaque;

	struct timespec started; /* process start, for the boot timer */
	double boot_ms;		 /* -1 until the guest writes the boot timer port */
};

/* Creates the VM and loads the guest: exit code 2 with a message for a bad
 * configuration (kernel, initrd, memory, vCPUs), 1 for a host failure,
 * 0 on success. The vCPUs do not run until vm_start(). */
int vm_create(struct vm *vm, const struct vmm_config *cfg, int kvm);
int vm_start(struct vm *vm);
/* Stops the vCPU threads (if running) and frees everything. */
void vm_destroy(struct vm *vm);

int vm_pause(struct vm *vm);
int vm_resume(struct vm *vm);
/* Ends the VM with the given reason (first reason wins). */
void vm_end(struct vm *vm, enum vm_end why);
void vm_power_button(struct vm *vm);
/* Feeds console input to the UART; returns bytes taken. */
size_t vm_console_input(struct vm *vm, const uint8_t *data, size_t len);

#endif
