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
 * SCI if the guest enabled it. A write of SLP_EN to PM1a control is the
 * guest powering off: with the \_S5 sleep type, or with type 0, which is
 * how OVMF powers off the PC it knows (no other sleep state is offered).
 * The PM timer at ACPI_PM_TMR counts from the host's monotonic clock.
 *
 * With firmware, the tables go to it through the firmware configuration
 * device instead (acpi_loader): the firmware places them and links them
 * as its table-loader script says, and adds its own RSDT/XSDT. */
#ifndef KEEL_VMM_ACPI_H
#define KEEL_VMM_ACPI_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#define ACPI_PM1_EVT 0x600 /* 4 bytes: status (2), enable (2) */
#define ACPI_PM1_CNT 0x604 /* 2 bytes */
#define ACPI_PM_TMR  0x608 /* 4 bytes: the PM timer, 24 bits at 3.579545 MHz */
#define ACPI_PM_END  0x60c
#define ACPI_PM_HZ   3579545u
#define ACPI_SCI_IRQ 9
/* the host bridge's memory window, declared in the DSDT; PCI BARs go here */
#define ACPI_PCI_WINDOW_START 0xe0000000u
#define ACPI_PCI_WINDOW_END   0xfebfffffu
#define ACPI_S5_TYPE	      5

#define ACPI_PWRBTN 0x0100 /* PM1 status/enable bit */
#define ACPI_SCI_EN 0x0001 /* PM1 control */
#define ACPI_SLP_EN 0x2000

/* Where acpi_build wrote addresses (to be relocated) and which tables
 * need checksums; offsets into its buffer. */
#define ACPI_MAX_LINKS 8
#define ACPI_RSDP_LEN  36
struct acpi_links {
	unsigned npointers, ntables;
	struct {
		uint32_t off;
		uint8_t size;
	} pointers[ACPI_MAX_LINKS];
	struct {
		uint32_t off, len;
	} tables[ACPI_MAX_LINKS];
};

/* Builds the tables into buf (guest memory at guest physical address gpa,
 * cap bytes). The RSDP is at gpa. Returns the bytes used, or 0 if cap is
 * too small. links (if not NULL) tells where the addresses are. */
size_t acpi_build(uint8_t *buf, size_t cap, uint64_t gpa, unsigned ncpus, struct acpi_links *links);

/* The fw_cfg files of the firmware's ACPI tables (QEMU's names, which
 * SeaBIOS and OVMF look for). */
#define ACPI_FWCFG_TABLES "etc/acpi/tables"
#define ACPI_FWCFG_RSDP	  "etc/acpi/rsdp"
#define ACPI_FWCFG_LOADER "etc/table-loader"
#define ACPI_LOADER_ENTRY 128 /* bytes per command */
#define ACPI_LOADER_MAX	  (2 + 2 * ACPI_MAX_LINKS + 2)

/* For firmware: builds the tables with addresses relative to their own
 * file (buf: ACPI_FWCFG_TABLES, *len bytes; its first ACPI_RSDP_LEN bytes
 * are ACPI_FWCFG_RSDP) and the table-loader script that has the firmware
 * allocate both, relocate every address and fill in every checksum
 * (script: ACPI_LOADER_MAX entries; *script_len set). -1 if cap is too
 * small. */
int acpi_loader(uint8_t *buf, size_t cap, size_t *len, unsigned ncpus,
		uint8_t script[ACPI_LOADER_MAX * ACPI_LOADER_ENTRY], size_t *script_len);

/* The sum of len bytes; ACPI tables sum to 0. */
uint8_t acpi_checksum(const uint8_t *p, size_t len);

struct acpi_pm {
	uint16_t sts, en, cnt;
	/* the host's clock (CLOCK_MONOTONIC unless a test sets another) */
	void (*now)(struct timespec *ts);
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
