/* The PC platform devices of a VM that sit on I/O ports, wired into the
 * VM's port table: COM1 (the 16550A of uart.c, its interrupt, the
 * console), the ACPI PM1 registers (acpi.c: the SCI, S5 power-off), the
 * keyboard controller (i8042.c: no keyboard, and the reset line), the
 * boot timer port, and PCI configuration mechanism #1 (pci.c). Every
 * handler runs on a vCPU thread with vm->lock held. */
#ifndef KEEL_VMM_PLATFORM_H
#define KEEL_VMM_PLATFORM_H

#define BOOT_TIMER_PORT	    0x440
#define BOOT_TIMER_MAGIC    0x4b /* 'K' */
#define FIRMWARE_DEBUG_PORT 0x402
#define FIRMWARE_DEBUG_ID   0xe9

#include <stdbool.h>
#include <stdint.h>

struct vm;

/* Initialises the UART and the PM registers and registers every port
 * range; -1 if a range cannot be registered. */
int platform_init(struct vm *vm);

/* An MMIO access on a vCPU thread to what the platform has in memory
 * space (the UEFI variable store's flash, and writes to the firmware's
 * read-only code, which go nowhere); takes vm->lock. False if nothing of
 * the platform's is there. */
bool platform_mmio(struct vm *vm, uint64_t addr, unsigned len, bool write, uint8_t *data);

#endif
