/* One virtual machine on KVM and its lifecycle: memory, the in-kernel
 * irqchip and PIT, the guest loaded, the devices (the platform's on I/O
 * ports, platform.c; the virtio ones from the device table, devices.c),
 * the vCPU threads (each vCPU's state and exits are vcpu.c's), pause,
 * resume, and how the VM ended. main.c owns the event loop, the console
 * and the control socket. */
#ifndef KEEL_VMM_VM_H
#define KEEL_VMM_VM_H

#include <pthread.h>
#include <stdint.h>
#include <time.h>

#include "vmm/acpi.h"
#include "vmm/cmos.h"
#include "vmm/fwcfg.h"
#include "vmm/i8042.h"
#include "common/vmmconf.h"
#include "vmm/pci.h"
#include "vmm/pflash.h"
#include "vmm/portio.h"
#include "vmm/uart.h"
#include "vmm/vcpu.h"
#include "vmm/vdev.h"

enum vm_state { VM_RUNNING, VM_PAUSED, VM_STOPPING };

/* why the VM stopped */
enum vm_end { END_NONE, END_POWEROFF, END_RESET, END_CRASH, END_STOP, END_NO_BOOT };

struct vm {
	const struct vmm_config *cfg;
	int kvm, fd;
	uint8_t *mem;
	uint64_t mem_size;
	uint8_t *rom; /* the firmware image (cfg->firmware), read-only to the guest */
	size_t rom_size;
	struct vcpu *vcpus;

	pthread_mutex_t lock; /* the state below and the devices */
	pthread_cond_t cond;
	enum vm_state state;
	enum vm_end end;
	unsigned parked; /* vCPUs waiting while paused */
	int end_fd;	 /* eventfd: written once when the VM ends */

	struct portio_table ports; /* filled by platform_init(), then read-only */
	struct uart uart;
	struct i8042 i8042;
	struct acpi_pm pm;
	struct cmos cmos;   /* with firmware */
	struct fwcfg fwcfg; /* with firmware (has_fwcfg) */
	bool has_fwcfg;
	struct pflash nvram;   /* with cfg->nvram: the UEFI variable store */
	struct i440fx chipset; /* with firmware: what pci.bus.chipset points to */
	char debug_line[160];  /* the firmware's debug port: a line being written */
	size_t debug_len;
	char con_line[80]; /* with firmware: the console line being written */
	size_t con_len;
	bool con_escape; /* within an escape sequence */
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
/* The same, called with vm->lock held (from a device handler). */
void vm_end_locked(struct vm *vm, enum vm_end why);
void vm_power_button(struct vm *vm);
/* Feeds console input to the UART; returns bytes taken. */
size_t vm_console_input(struct vm *vm, const uint8_t *data, size_t len);

#endif
