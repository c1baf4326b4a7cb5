#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <string.h>

#include "vmm/uart.h"

/* register offsets */
#define THR 0
#define RBR 0
#define DLL 0
#define IER 1
#define DLM 1
#define IIR 2
#define FCR 2
#define LCR 3
#define MCR 4
#define LSR 5
#define MSR 6
#define SCR 7

#define LSR_DR	 0x01
#define LSR_THRE 0x20
#define LSR_TEMT 0x40

static struct uart u;
static uint8_t sent[512];
static size_t nsent;
static int irq, irq_calls;
static int cookie;
static void *seen_opaque;

static void on_tx(void *opaque, uint8_t b)
{
	seen_opaque = opaque;
	assert_true(nsent < sizeof(sent));
	sent[nsent++] = b;
}

static void on_irq(void *opaque, int level)
{
	seen_opaque = opaque;
	irq = level;
	irq_calls++;
}

static int new_uart(void **state)
{
	(void)state;
	memset(&u, 0x5a, sizeof(u)); /* init sets every register */
	uart_init(&u);
	u.tx = on_tx;
	u.irq = on_irq;
	u.opaque = &cookie;
	nsent = 0;
	irq = 0;
	irq_calls = 0;
	seen_opaque = NULL;
	return 0;
}

static void test_reset_state(void **state)
{
	(void)state;
	assert_int_equal(uart_read(&u, IER), 0);
	assert_int_equal(uart_read(&u, IIR), 0x01); /* no interrupt, no FIFOs */
	assert_int_equal(uart_read(&u, LCR), 0);
	assert_int_equal(uart_read(&u, MCR), 0);
	assert_int_equal(uart_read(&u, LSR), LSR_THRE | LSR_TEMT);
	assert_int_equal(uart_read(&u, SCR), 0);
	assert_int_equal(uart_read(&u, RBR), 0); /* nothing waiting */
	assert_int_equal(uart_room(&u), UART_RX_FIFO);
	assert_int_equal(irq_calls, 0);
}

static void test_transmit(void **state)
{
	(void)state;
	const char *msg = "hello\n";
	for (const char *p = msg; *p; p++)
		uart_write(&u, THR, (uint8_t)*p);
	assert_int_equal(nsent, 6);
	assert_memory_equal(sent, msg, 6);
	assert_ptr_equal(seen_opaque, &cookie);
	assert_int_equal(uart_read(&u, LSR) & (LSR_THRE | LSR_TEMT), LSR_THRE | LSR_TEMT);
	assert_int_equal(uart_read(&u, LSR) & LSR_DR, 0); /* transmitting receives nothing */
	assert_int_equal(irq_calls, 0);			  /* THRI not enabled */
	/* all 256 byte values go through unchanged */
	nsent = 0;
	for (unsigned b = 0; b < 256; b++)
		uart_write(&u, THR, (uint8_t)b);
	assert_int_equal(nsent, 256);
	for (unsigned b = 0; b < 256; b++)
		assert_int_equal(sent[b], b);
	/* no tx callback: the byte is dropped, nothing breaks */
	u.tx = NULL;
	uart_write(&u, THR, 'x');
	assert_int_equal(nsent, 256);
}

static void test_divisor_latch(void **state)
{
	(void)state;
	uart_write(&u, IER, 0x00);
	uart_write(&u, LCR, 0x83); /* DLAB, 8N1 */
	assert_int_equal(uart_read(&u, LCR), 0x83);
	uart_write(&u, DLL, 0x01); /* 115200 baud */
	uart_write(&u, DLM, 0x02);
	assert_int_equal(nsent, 0); /* the latch is not the THR */
	assert_int_equal(uart_read(&u, DLL), 0x01);
	assert_int_equal(uart_read(&u, DLM), 0x02);
	assert_int_equal(irq_calls, 0); /* nor the IER */
	uart_write(&u, LCR, 0x03);
	assert_int_equal(uart_read(&u, IER), 0x00); /* IER untouched by the DLM write */
	uart_write(&u, THR, 'a');
	assert_int_equal(nsent, 1);
	/* and received bytes wait behind the latch */
	assert_int_equal(uart_receive(&u, (const uint8_t *)"r", 1), 1);
	uart_write(&u, LCR, 0x83);
	assert_int_equal(uart_read(&u, RBR), 0x01); /* DLL, not the byte */
	assert_int_equal(uart_read(&u, LSR) & LSR_DR, LSR_DR);
	uart_write(&u, LCR, 0x03);
	assert_int_equal(uart_read(&u, RBR), 'r');
	/* the latch keeps its value */
	uart_write(&u, LCR, 0x80);
	assert_int_equal(uart_read(&u, DLL), 0x01);
	assert_int_equal(uart_read(&u, DLM), 0x02);
}

static void test_scratch_and_masking(void **state)
{
	(void)state;
	uart_write(&u, SCR, 0x5a);
	assert_int_equal(uart_read(&u, SCR), 0x5a);
	uart_write(&u, SCR, 0xa5);
	assert_int_equal(uart_read(&u, SCR), 0xa5);
	/* offsets are masked to 0..7 */
	assert_int_equal(uart_read(&u, 8 + SCR), 0xa5);
	assert_int_equal(uart_read(&u, 0x3f8 + SCR), 0xa5);
	uart_write(&u, 8 + THR, 'h');
	uart_write(&u, 16 + THR, 'i');
	assert_int_equal(nsent, 2);
	assert_memory_equal(sent, "hi", 2);
	uart_write(&u, 0x3ff, 0x11);
	assert_int_equal(uart_read(&u, SCR), 0x11);
	/* LSR and MSR are read-only */
	uart_write(&u, LSR, 0x00);
	assert_int_equal(uart_read(&u, LSR), LSR_THRE | LSR_TEMT);
	uart_write(&u, MSR, 0x00);
	assert_int_equal(uart_read(&u, MSR), 0xb0); /* CTS, DSR, DCD */
}

static void test_thr_interrupt(void **state)
{
	(void)state;
	assert_int_equal(irq, 0);
	uart_write(&u, IER, 0x02); /* THRI on, transmitter empty: interrupt */
	assert_int_equal(irq, 1);
	assert_ptr_equal(seen_opaque, &cookie);
	assert_int_equal(uart_read(&u, IER), 0x02);
	assert_int_equal(uart_read(&u, IIR), 0x02); /* THR empty, no FIFOs */
	assert_int_equal(irq, 0);		    /* reading IIR acknowledged it */
	assert_int_equal(uart_read(&u, IIR), 0x01);
	uart_write(&u, THR, 'x'); /* sent: empty again, interrupt again */
	assert_int_equal(irq, 1);
	assert_int_equal(nsent, 1);
	uart_write(&u, IER, 0x00); /* disabling lowers it */
	assert_int_equal(irq, 0);
	assert_int_equal(uart_read(&u, IIR), 0x01);

	/* with FIFOs enabled, IIR has 0xc0 */
	uart_write(&u, FCR, 0x01);
	assert_int_equal(uart_read(&u, IIR), 0xc1);
	uart_write(&u, IER, 0x02);
	assert_int_equal(irq, 1);
	assert_int_equal(uart_read(&u, IIR), 0xc2);
	assert_int_equal(irq, 0);
	assert_int_equal(uart_read(&u, IIR), 0xc1);
	/* the irq callback is called on changes only */
	int calls = irq_calls;
	uart_read(&u, IIR);
	uart_read(&u, LSR);
	uart_write(&u, SCR, 1);
	assert_int_equal(irq_calls, calls);
	uart_write(&u, FCR, 0x00); /* FIFOs off */
	assert_int_equal(uart_read(&u, IIR), 0x01);
}

static void test_receive(void **state)
{
	(void)state;
	assert_int_equal(uart_read(&u, LSR) & LSR_DR, 0);
	assert_int_equal(uart_receive(&u, (const uint8_t *)"abc", 3), 3);
	assert_int_equal(uart_room(&u), UART_RX_FIFO - 3);
	assert_int_equal(irq, 0); /* receive interrupt not enabled */
	assert_int_equal(uart_read(&u, IIR), 0x01);
	uart_write(&u, IER, 0x01); /* RDI on, data waiting: interrupt */
	assert_int_equal(irq, 1);
	assert_int_equal(uart_read(&u, IIR), 0x04);
	assert_int_equal(irq, 1); /* reading IIR does not acknowledge received data */
	assert_int_equal(uart_read(&u, LSR) & LSR_DR, LSR_DR);
	assert_int_equal(uart_read(&u, RBR), 'a');
	assert_int_equal(uart_read(&u, RBR), 'b');
	assert_int_equal(irq, 1);
	assert_int_equal(uart_read(&u, LSR) & LSR_DR, LSR_DR);
	assert_int_equal(uart_read(&u, RBR), 'c');
	assert_int_equal(uart_read(&u, LSR) & LSR_DR, 0); /* DR clears after the last */
	assert_int_equal(irq, 0);
	assert_int_equal(uart_room(&u), UART_RX_FIFO);
	assert_int_equal(uart_read(&u, RBR), 0); /* an empty FIFO reads 0 */

	/* with RDI enabled, arriving data raises the interrupt at once */
	assert_int_equal(uart_receive(&u, (const uint8_t *)"z", 1), 1);
	assert_int_equal(irq, 1);
	assert_int_equal(uart_read(&u, RBR), 'z');
	assert_int_equal(irq, 0);
	assert_int_equal(uart_receive(&u, NULL, 0), 0);
	assert_int_equal(irq, 0);
}

static void test_priority(void **state)
{
	(void)state;
	uart_write(&u, IER, 0x03); /* both */
	assert_int_equal(uart_read(&u, IIR), 0x02);
	uart_write(&u, THR, 'x'); /* THRI pending again */
	assert_int_equal(uart_receive(&u, (const uint8_t *)"r", 1), 1);
	/* received data outranks THR empty, and reading IIR then does not
	 * acknowledge the THR interrupt */
	assert_int_equal(uart_read(&u, IIR), 0x04);
	assert_int_equal(uart_read(&u, RBR), 'r');
	assert_int_equal(irq, 1);
	assert_int_equal(uart_read(&u, IIR), 0x02);
	assert_int_equal(irq, 0);
}

static void test_fifo_capacity(void **state)
{
	(void)state;
	uint8_t many[UART_RX_FIFO + 10];
	for (size_t i = 0; i < sizeof(many); i++)
		many[i] = (uint8_t)(i + 1);
	assert_int_equal(uart_receive(&u, many, sizeof(many)), UART_RX_FIFO);
	assert_int_equal(uart_room(&u), 0);
	assert_int_equal(uart_receive(&u, many, 1), 0); /* full: refused */
	/* what fitted comes out in order */
	for (size_t i = 0; i < 10; i++)
		assert_int_equal(uart_read(&u, RBR), many[i]);
	assert_int_equal(uart_room(&u), 10);
	/* the ring wraps around */
	assert_int_equal(uart_receive(&u, many + UART_RX_FIFO, 10), 10);
	assert_int_equal(uart_room(&u), 0);
	for (size_t i = 10; i < UART_RX_FIFO + 10; i++)
		assert_int_equal(uart_read(&u, RBR), many[i]);
	assert_int_equal(uart_read(&u, LSR) & LSR_DR, 0);
	assert_int_equal(uart_room(&u), UART_RX_FIFO);
	/* in pieces */
	size_t total = 0;
	for (int k = 0; k < 20; k++)
		total += uart_receive(&u, many, 7);
	assert_int_equal(total, UART_RX_FIFO);
}

static void test_fifo_clear(void **state)
{
	(void)state;
	uart_write(&u, IER, 0x01);
	assert_int_equal(uart_receive(&u, (const uint8_t *)"abcdef", 6), 6);
	assert_int_equal(irq, 1);
	uart_write(&u, FCR, 0x03); /* enable and clear the receive FIFO */
	assert_int_equal(uart_room(&u), UART_RX_FIFO);
	assert_int_equal(uart_read(&u, LSR) & LSR_DR, 0);
	assert_int_equal(irq, 0);
	assert_int_equal(uart_read(&u, IIR), 0xc1);
	/* the clear bit is not sticky */
	assert_int_equal(uart_receive(&u, (const uint8_t *)"g", 1), 1);
	uart_write(&u, FCR, 0x01);
	assert_int_equal(uart_read(&u, RBR), 'g');
	/* the receive FIFO works after a clear */
	assert_int_equal(uart_receive(&u, (const uint8_t *)"hi", 2), 2);
	assert_int_equal(uart_read(&u, RBR), 'h');
	assert_int_equal(uart_read(&u, RBR), 'i');
}

static void test_loopback(void **state)
{
	(void)state;
	uart_write(&u, MCR, 0x1a); /* loop, OUT2, RTS */
	assert_int_equal(uart_read(&u, MCR), 0x1a);
	assert_int_equal(uart_read(&u, MSR) & 0xf0, 0x90); /* DCD (OUT2), CTS (RTS) */
	uart_write(&u, THR, 'q');
	uart_write(&u, THR, 'r');
	assert_int_equal(nsent, 0); /* looped back, not sent */
	assert_int_equal(uart_read(&u, LSR) & LSR_DR, LSR_DR);
	assert_int_equal(uart_read(&u, RBR), 'q');
	assert_int_equal(uart_read(&u, RBR), 'r');
	assert_int_equal(uart_receive(&u, (const uint8_t *)"x", 1), 0); /* the line is cut */
	assert_int_equal(uart_read(&u, LSR) & LSR_DR, 0);
	/* each MCR bit to its MSR bit */
	static const struct {
		uint8_t mcr, msr;
	} map[] = {{0x11, 0x20}, {0x12, 0x10}, {0x14, 0x40},
		   {0x18, 0x80}, {0x1f, 0xf0}, {0x10, 0x00}};
	for (size_t i = 0; i < sizeof(map) / sizeof(map[0]); i++) {
		uart_write(&u, MCR, map[i].mcr);
		assert_int_equal(uart_read(&u, MSR) & 0xf0, map[i].msr);
	}
	/* loopback with the receive interrupt */
	uart_write(&u, IER, 0x01);
	uart_write(&u, THR, 'l');
	assert_int_equal(irq, 1);
	assert_int_equal(uart_read(&u, RBR), 'l');
	assert_int_equal(irq, 0);
	/* out of loopback: sent again, modem lines as a cable */
	uart_write(&u, MCR, 0x0b);
	assert_int_equal(uart_read(&u, MSR), 0xb0);
	uart_write(&u, THR, 's');
	assert_int_equal(nsent, 1);
	assert_int_equal(sent[0], 's');
	assert_int_equal(uart_read(&u, LSR) & LSR_DR, 0);
	/* MCR keeps 5 bits */
	uart_write(&u, MCR, 0xff);
	assert_int_equal(uart_read(&u, MCR), 0x1f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup(test_reset_state, new_uart),
	    cmocka_unit_test_setup(test_transmit, new_uart),
	    cmocka_unit_test_setup(test_divisor_latch, new_uart),
	    cmocka_unit_test_setup(test_scratch_and_masking, new_uart),
	    cmocka_unit_test_setup(test_thr_interrupt, new_uart),
	    cmocka_unit_test_setup(test_receive, new_uart),
	    cmocka_unit_test_setup(test_priority, new_uart),
	    cmocka_unit_test_setup(test_fifo_capacity, new_uart),
	    cmocka_unit_test_setup(test_fifo_clear, new_uart),
	    cmocka_unit_test_setup(test_loopback, new_uart),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
