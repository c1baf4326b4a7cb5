/* The PC chipset that firmware built for QEMU's "pc" machine looks for on
 * PCI bus 0 (OVMF stops if the host bridge is not one it knows; it and
 * SeaBIOS then program the power management function): the i440FX host
 * bridge at 00:00.0 (8086:1237) and the PIIX4 power management function
 * at 00:01.3 (8086:7113), whose PMBA (0x40) and PMREGMISC (0x80) the
 * firmware sets to reach the ACPI registers and the PM timer; and a PIIX3
 * ISA bridge (8086:7000) at 00:1f.0, under which OVMF finds the ISA
 * devices (COM1 for its console, the keyboard controller).
 *
 * Only configuration space: the registers store what is written (the
 * identity, class and header type stay read-only) and read back, so that
 * the firmware finds what it set. The ACPI block is at ACPI_PM1_EVT, where
 * SeaBIOS puts it and the ACPI tables say it is, and also at the PMBA the
 * firmware enables (OVMF's is 0xb000: i440fx_pm_base). With the virtio
 * devices from slot 1 on, 00:01.0 is a virtio device, not a
 * multi-function PIIX, so an OS that enumerates the bus never sees
 * 00:01.3 (it finds the ACPI block through the FADT). Called with the VM
 * lock held (port I/O). */
#ifndef KEEL_VMM_I440FX_H
#define KEEL_VMM_I440FX_H

#include <stdbool.h>
#include <stdint.h>

#define I440FX_PM_SLOT	1
#define I440FX_PM_FN	3
#define I440FX_ISA_SLOT 31 /* after every virtio device (pci.c) */

struct i440fx {
	uint8_t host[256], pm[256], isa[256];
};

void i440fx_init(struct i440fx *c);
/* A configuration access of `size` bytes (1, 2 or 4, within the dword of
 * off) to bus 0's (slot, fn); false if that is neither function. */
bool i440fx_config(struct i440fx *c, unsigned slot, unsigned fn, unsigned off, unsigned size,
		   bool write, uint8_t *data);
/* Where the firmware put the ACPI block (PMBA, once PMREGMISC enables its
 * I/O space); 0 while it is not enabled. */
uint16_t i440fx_pm_base(const struct i440fx *c);

#endif
