/* A 16550A UART, as the guest's serial console (COM1, I/O port 0x3f8,
 * IRQ 4). Transmit completes at once; received bytes wait in a FIFO.
 * Interrupts follow the chip: received data, transmitter empty, line and
 * modem status, by priority, through the `irq` callback as a level.
 * All register offsets come from the guest and are masked to 0..7. */
#ifndef KEEL_VMM_UART_H
#define KEEL_VMM_UART_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define UART_COM1     0x3f8
#define UART_COM1_IRQ 4
#define UART_RX_FIFO  64

struct uart {
	uint8_t ier, lcr, mcr, scr, dll, dlm, fcr;
	bool thr_irq; /* "transmitter empty" interrupt pending */
	uint8_t rx[UART_RX_FIFO];
	unsigned rx_head, rx_count;
	int irq_level;
	void (*tx)(void *opaque, uint8_t byte);
	void (*irq)(void *opaque, int level);
	void *opaque;
};

void uart_init(struct uart *u);
void uart_write(struct uart *u, unsigned offset, uint8_t value);
uint8_t uart_read(struct uart *u, unsigned offset);
/* Queues input for the guest; returns how many bytes fitted. */
size_t uart_receive(struct uart *u, const uint8_t *data, size_t len);
/* Room left in the receive FIFO. */
size_t uart_room(const struct uart *u);

#endif
