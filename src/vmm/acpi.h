/* A minimal ACPI table set, and the fixed-hardware power management block
 * behind it.
 *
 * Tables: RSDP -> XSDT -> FADT (-> FACS, DSDT) and MADT. The DSDT holds
 * only \_S5, so that the guest can power off; the MADT lists one local
 * APIC per vCPU and the I/O APIC, so that the guest brings up every vCPU.
 *
 * PM1a event block (status, enable) at ACPI_PM1_EVT and PM1a control at
 * ACPI_PM1_CNT, in I/O space; SCI on ACPI_SCI_IRQ. The power button is the
 * fixed-feature one: acpi_pm_power_button() sets PWRBTN_STS and raises the
 * SCI if the guest enabled it. A write of SLP_EN with the \_S5 sleep type
 * to PM1a control is the guest powering off. */
#ifndef KEEL_VMM_ACPI_H
#define KEEL_VMM_ACPI_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define ACPI_PM1_EVT 0x600 /* 4 bytes: status (2), enable (2) */
#define ACPI_PM1_CNT 0x604 /* 2 bytes */
#define ACPI_SCI_IRQ 9
/* the host bridge's memory window, declared in the DSDT; PCI BARs go here */
#define ACPI_PCI_WINDOW_START 0xe0000000u
#define ACPI_PCI_WINDOW_END   0xfebfffffu
#define ACPI_S5_TYPE	      5

#define ACPI_PWRBTN 0x0100 /* PM1 status/enable bit */
#define ACPI_SCI_EN 0x0001 /* PM1 control */
#define ACPI_SLP_EN 0x2000

/* Builds the tables into buf (guest memory at guest physical address gpa,
 * cap bytes). The RSDP is at gpa. Returns the bytes used, or 0 if cap is
 * too small. */
size_t acpi_build(uint8_t *buf, size_t cap, uint64_t gpa, unsigned ncpus);

/* The sum of len bytes; ACPI tables sum to 0. */
uint8_t acpi_checksum(const uint8_t *p, size_t len);

struct acpi_pm {
	uint16_t sts, en, cnt;
	void (*sci)(void *opaque, int level);
	void (*poweroff)(void *opaque);
	void *opaque;
};

void acpi_pm_init(struct acpi_pm *pm);
/* port is the I/O port; size 1, 2 or 4 */
uint32_t acpi_pm_read(struct acpi_pm *pm, uint16_t port, unsigned size);
void acpi_pm_write(struct acpi_pm *pm, uint16_t port, unsigned size, uint32_t value);
void acpi_pm_power_button(struct acpi_pm *pm);

#endif
