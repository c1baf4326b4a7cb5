#include "vmm/uart.h"

#include <string.h>

/* registers */
enum { RBR_THR = 0, IER = 1, IIR_FCR = 2, LCR = 3, MCR = 4, LSR = 5, MSR = 6, SCR = 7 };

#define IER_RDI	     0x01
#define IER_THRI     0x02
#define IIR_NONE     0x01
#define IIR_THRI     0x02
#define IIR_RDI	     0x04
#define IIR_FIFO     0xc0
#define LCR_DLAB     0x80
#define LSR_DR	     0x01
#define LSR_THRE     0x20
#define LSR_TEMT     0x40
#define MCR_LOOP     0x10
#define FCR_ENABLE   0x01
#define FCR_CLEAR_RX 0x02

void uart_init(struct uart *u)
{
	u->ier = u->lcr = u->mcr = u->scr = u->dll = u->dlm = u->fcr = 0;
	u->thr_irq = false;
	u->rx_head = u->rx_count = 0;
	u->irq_level = 0;
}

static uint8_t iir(const struct uart *u)
{
	uint8_t fifo = (u->fcr & FCR_ENABLE) ? IIR_FIFO : 0;
	if ((u->ier & IER_RDI) && u->rx_count)
		return fifo | IIR_RDI;
	if ((u->ier & IER_THRI) && u->thr_irq)
		return fifo | IIR_THRI;
	return fifo | IIR_NONE;
}

static void update_irq(struct uart *u)
{
	int level = !(iir(u) & IIR_NONE);
	if (level != u->irq_level) {
		u->irq_level = level;
		if (u->irq)
			u->irq(u->opaque, level);
	}
}

static void push_rx(struct uart *u, uint8_t b)
{
	if (u->rx_count == UART_RX_FIFO)
		return; /* overrun: the byte is lost, as on the chip */
	u->rx[(u->rx_head + u->rx_count) % UART_RX_FIFO] = b;
	u->rx_count++;
}

void uart_write(struct uart *u, unsigned offset, uint8_t v)
{
	bool dlab = u->lcr & LCR_DLAB;
	switch (offset & 7) {
	case RBR_THR:
		if (dlab) {
			u->dll = v;
			break;
		}
		if (u->mcr & MCR_LOOP)
			push_rx(u, v);
		else if (u->tx)
			u->tx(u->opaque, v);
		u->thr_irq = true; /* sent at once: the holding register is empty again */
		break;
	case IER:
		if (dlab) {
			u->dlm = v;
			break;
		}
		/* enabling THRI with the transmitter empty raises it */
		if ((v & IER_THRI) && !(u->ier & IER_THRI))
			u->thr_irq = true;
		u->ier = v & 0x0f;
		break;
	case IIR_FCR:
		u->fcr = v & 0xc9;
		if (v & FCR_CLEAR_RX)
			u->rx_head = u->rx_count = 0;
		break;
	case LCR:
		u->lcr = v;
		break;
	case MCR:
		u->mcr = v & 0x1f;
		break;
	case SCR:
		u->scr = v;
		break;
	default: /* LSR and MSR are read-only */
		break;
	}
	update_irq(u);
}

uint8_t uart_read(struct uart *u, unsigned offset)
{
	bool dlab = u->lcr & LCR_DLAB;
	uint8_t v = 0;
	switch (offset & 7) {
	case RBR_THR:
		if (dlab) {
			v = u->dll;
		} else if (u->rx_count) {
			v = u->rx[u->rx_head];
			u->rx_head = (u->rx_head + 1) % UART_RX_FIFO;
			u->rx_count--;
		}
		break;
	case IER:
		v = dlab ? u->dlm : u->ier;
		break;
	case IIR_FCR:
		v = iir(u);
		if ((v & 0x0f) == IIR_THRI)
			u->thr_irq = false; /* reading IIR acknowledges THRI */
		break;
	case LCR:
		v = u->lcr;
		break;
	case MCR:
		v = u->mcr;
		break;
	case LSR:
		v = LSR_THRE | LSR_TEMT | (u->rx_count ? LSR_DR : 0);
		break;
	case MSR:
		if (u->mcr & MCR_LOOP) /* RTS->CTS, DTR->DSR, OUT1->RI, OUT2->DCD */
			v = (uint8_t)(((u->mcr & 0x02) << 3) | ((u->mcr & 0x01) << 5) |
				      ((u->mcr & 0x04) << 4) | ((u->mcr & 0x08) << 4));
		else
			v = 0xb0; /* CTS, DSR, DCD: a cable is attached */
		break;
	case SCR:
		v = u->scr;
		break;
	}
	update_irq(u);
	return v;
}

size_t uart_room(const struct uart *u)
{
	return UART_RX_FIFO - u->rx_count;
}

size_t uart_receive(struct uart *u, const uint8_t *data, size_t len)
{
	size_t n = 0;
	if (!(u->mcr & MCR_LOOP))
		for (; n < len && u->rx_count < UART_RX_FIFO; n++)
			push_rx(u, data[n]);
	update_irq(u);
	return n;
}
