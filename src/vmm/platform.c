#include "vmm/platform.h"

#include <linux/kvm.h>
#include <string.h>
#include <sys/ioctl.h>
#include <time.h>

#include "common/log.h"
#include "vmm/boot.h"
#include "vmm/vm.h"

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

/* What a line the firmware wrote says if it has found nothing to boot
 * (for the log: not the guest's own bytes), else NULL: SeaBIOS (on its
 * console and its debug port); OVMF's BdsDxe when it has no boot option
 * at all, or when it falls through to its built-in shell, the last of its
 * boot options, every disk's having failed. */
static const char *no_boot(const char *line)
{
	if (strstr(line, "No bootable device."))
		return "No bootable device.";
	if (strstr(line, "BdsDxe: No bootable option or device was found."))
		return "BdsDxe: No bootable option or device was found.";
	if (strstr(line, "BdsDxe: loading Boot") && strstr(line, "\"EFI Internal Shell\""))
		return "BdsDxe: loading ... \"EFI Internal Shell\"";
	return NULL;
}

/* A line the firmware wrote: if it says there is nothing to boot, the VM
 * ends (END_NO_BOOT) rather than wait for a disk that cannot come. */
static void firmware_said(struct vm *vm, const char *line)
{
	const char *said = no_boot(line);
	if (said) {
		log_msg("firmware: no bootable disk (it said \"%s\")", said);
		vm_end_locked(vm, END_NO_BOOT);
	}
}

/* With firmware, the console a line at a time, its escape sequences
 * (cursor moves, colours: ESC, then up to a final byte) left out. */
static void watch_firmware(struct vm *vm, uint8_t byte)
{
	if (vm->con_escape) {
		vm->con_escape = byte == 0x1b || byte == '[' || byte < 0x40 || byte > 0x7e;
		return;
	}
	if (byte == 0x1b) {
		vm->con_escape = true;
	} else if (byte != '\n' && byte != '\r') {
		if (vm->con_len < sizeof(vm->con_line) - 1)
			vm->con_line[vm->con_len++] = (char)byte;
	} else {
		vm->con_line[vm->con_len] = 0;
		firmware_said(vm, vm->con_line);
		vm->con_len = 0;
	}
}

static void uart_tx(void *opaque, uint8_t byte)
{
	struct vm *vm = opaque;
	if (vm->console_out)
		vm->console_out(vm->console_opaque, byte);
	if (vm->cfg->firmware)
		watch_firmware(vm, byte);
}

static void pm_sci(void *opaque, int level)
{
	irq_line(opaque, ACPI_SCI_IRQ, level);
}

static void pm_poweroff(void *opaque)
{
	vm_end_locked(opaque, END_POWEROFF);
}

static void com1_io(void *opaque, uint16_t port, unsigned size, bool write, uint8_t *data)
{
	struct vm *vm = opaque;
	for (unsigned i = 0; i < size; i++) {
		unsigned off = (unsigned)(port - UART_COM1) + i;
		if (write && off < 8)
			uart_write(&vm->uart, off, data[i]);
		else if (!write) /* a wide access may run past the UART */
			data[i] = off < 8 ? uart_read(&vm->uart, off) : 0xff;
	}
}

static void acpi_pm_io(void *opaque, uint16_t port, unsigned size, bool write, uint8_t *data)
{
	struct vm *vm = opaque;
	uint32_t v = 0;
	if (write) {
		memcpy(&v, data, size);
		acpi_pm_write(&vm->pm, port, size, v);
	} else {
		v = acpi_pm_read(&vm->pm, port, size);
		memcpy(data, &v, size);
	}
}

/* The ports no device claims: the ACPI block where the firmware put it
 * (OVMF's PMBA, 0xb000; at ACPI_PM1_EVT, its range claims them first). */
static void unclaimed_io(void *opaque, uint16_t port, unsigned size, bool write, uint8_t *data)
{
	struct vm *vm = opaque;
	uint16_t base = i440fx_pm_base(&vm->chipset);
	if (base && port >= base && port - base < ACPI_PM_END - ACPI_PM1_EVT) {
		acpi_pm_io(vm, (uint16_t)(ACPI_PM1_EVT + (port - base)), size, write, data);
		return;
	}
	if (!write)
		memset(data, 0xff, size);
}

static void i8042_reset(void *opaque)
{
	vm_end_locked(opaque, END_RESET);
}

static void boot_timer_io(void *opaque, uint16_t port, unsigned size, bool write, uint8_t *data)
{
	struct vm *vm = opaque;
	(void)port;
	if (!write) {
		memset(data, 0xff, size);
		return;
	}
	if (!vm->cfg->boot_timer || data[0] != BOOT_TIMER_MAGIC || vm->boot_ms >= 0)
		return;
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	vm->boot_ms = (double)(t.tv_sec - vm->started.tv_sec) * 1e3 +
		      (double)(t.tv_nsec - vm->started.tv_nsec) / 1e6;
	log_msg("boot timer: guest signalled after %.1f ms", vm->boot_ms);
}

/* The firmware's debug port (SeaBIOS and OVMF write their messages here
 * when it reads back FIRMWARE_DEBUG_ID): into keel-vmm's log, a line at a
 * time. */
static void debug_io(void *opaque, uint16_t port, unsigned size, bool write, uint8_t *data)
{
	struct vm *vm = opaque;
	(void)port;
	if (!write) {
		memset(data, 0, size);
		data[0] = FIRMWARE_DEBUG_ID;
		return;
	}
	for (unsigned i = 0; i < size; i++) {
		bool full = vm->debug_len == sizeof(vm->debug_line) - 1;
		if (data[i] != '\n' && !full) {
			vm->debug_line[vm->debug_len++] = (char)data[i];
			continue;
		}
		vm->debug_line[vm->debug_len] = 0;
		log_msg("firmware: %s", vm->debug_line);
		firmware_said(vm, vm->debug_line);
		vm->debug_len = 0;
	}
}

static void pci_config_io(void *opaque, uint16_t port, unsigned size, bool write, uint8_t *data)
{
	struct vm *vm = opaque;
	if (!pci_port_io(&vm->pci, port, size, write, data) && !write)
		memset(data, 0xff, size); /* nothing there */
}

int platform_init(struct vm *vm)
{
	uart_init(&vm->uart);
	vm->uart.tx = uart_tx;
	vm->uart.irq = uart_irq;
	vm->uart.opaque = vm;
	acpi_pm_init(&vm->pm);
	vm->pm.sci = pm_sci;
	vm->pm.poweroff = pm_poweroff;
	vm->pm.opaque = vm;
	i8042_init(&vm->i8042);
	vm->i8042.reset = i8042_reset;
	vm->i8042.opaque = vm;
	struct portio_table *ports = &vm->ports;
	if (portio_register(ports, UART_COM1, 8, com1_io, vm) < 0 ||
	    portio_register(ports, ACPI_PM1_EVT, ACPI_PM_END - ACPI_PM1_EVT, acpi_pm_io, vm) < 0 ||
	    portio_register(ports, I8042_PORT_DATA, 1, i8042_io, &vm->i8042) < 0 ||
	    portio_register(ports, I8042_PORT_CMD, 1, i8042_io, &vm->i8042) < 0 ||
	    portio_register(ports, BOOT_TIMER_PORT, 1, boot_timer_io, vm) < 0 ||
	    portio_register(ports, PCI_CONFIG_ADDR, PCI_CONFIG_DATA + 4 - PCI_CONFIG_ADDR,
			    pci_config_io, vm) < 0) {
		log_msg("the platform's port ranges overlap");
		return -1;
	}
	if (vm->cfg->firmware) {
		ports->unclaimed = unclaimed_io;
		ports->unclaimed_opaque = vm;
	}
	if (vm->cfg->firmware &&
	    (portio_register(ports, CMOS_PORT_INDEX, 2, cmos_io, &vm->cmos) < 0 ||
	     portio_register(ports, FWCFG_PORT_SEL, FWCFG_PORTS, fwcfg_io, &vm->fwcfg) < 0 ||
	     portio_register(ports, FIRMWARE_DEBUG_PORT, 1, debug_io, vm) < 0)) {
		log_msg("the firmware's port ranges overlap");
		return -1;
	}
	return 0;
}

bool platform_mmio(struct vm *vm, uint64_t addr, unsigned len, bool write, uint8_t *data)
{
	if (!vm->rom)
		return false;
	if (write && addr >= BOOT_4G - vm->rom_size && addr < BOOT_4G)
		return true; /* the firmware's code is read-only */
	pthread_mutex_lock(&vm->lock);
	bool hit = pflash_mmio(&vm->nvram, addr, len, write, data);
	pthread_mutex_unlock(&vm->lock);
	return hit;
}
