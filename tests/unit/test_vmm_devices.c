#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <string.h>

#include "vmm/acpi.h"
#include "vmm/cpuid.h"
#include "vmm/uart.h"

#define GPA 0xe0000

static uint32_t get32(const uint8_t *p)
{
	uint32_t v;
	memcpy(&v, p, 4);
	return v;
}

static uint64_t get64(const uint8_t *p)
{
	uint64_t v;
	memcpy(&v, p, 8);
	return v;
}

/* A table in buf by its guest address, checked: length and checksum. */
static const uint8_t *table(const uint8_t *buf, size_t used, uint64_t gpa, const char *sig)
{
	assert_true(gpa >= GPA && gpa + 36 <= GPA + used);
	const uint8_t *t = buf + (gpa - GPA);
	assert_memory_equal(t, sig, 4);
	assert_true(gpa + get32(t + 4) <= GPA + used);
	assert_int_equal(acpi_checksum(t, get32(t + 4)), 0);
	return t;
}

static void check_tables(unsigned ncpus)
{
	static uint8_t buf[0x20000];
	size_t used = acpi_build(buf, sizeof(buf), GPA, ncpus);
	assert_true(used > 0);
	assert_memory_equal(buf, "RSD PTR ", 8);
	assert_int_equal(buf[15], 2);
	assert_int_equal(acpi_checksum(buf, 20), 0);
	assert_int_equal(acpi_checksum(buf, 36), 0);

	const uint8_t *xsdt = table(buf, used, get64(buf + 24), "XSDT");
	assert_int_equal(get32(xsdt + 4), 36 + 16);
	const uint8_t *fadt = table(buf, used, get64(xsdt + 36), "FACP");
	const uint8_t *madt = table(buf, used, get64(xsdt + 44), "APIC");

	assert_int_equal(get32(fadt + 4), 276);
	assert_int_equal(get32(fadt + 40), get64(fadt + 140)); /* DSDT, both fields */
	assert_int_equal(get32(fadt + 36), get64(fadt + 132)); /* FACS, both fields */
	const uint8_t *dsdt = table(buf, used, get64(fadt + 140), "DSDT");
	assert_non_null(memmem(dsdt + 36, get32(dsdt + 4) - 36, "_S5_", 4));
	const uint8_t *facs = buf + (get64(fadt + 132) - GPA);
	assert_memory_equal(facs, "FACS", 4);
	assert_int_equal(get64(fadt + 132) % 64, 0);
	assert_int_equal(fadt[46], ACPI_SCI_IRQ);
	assert_int_equal(get32(fadt + 56), ACPI_PM1_EVT);
	assert_int_equal(get32(fadt + 64), ACPI_PM1_CNT);
	assert_int_equal(get64(fadt + 148 + 4), ACPI_PM1_EVT); /* X_PM1a_EVT_BLK */
	assert_int_equal(get64(fadt + 172 + 4), ACPI_PM1_CNT); /* X_PM1a_CNT_BLK */
	assert_int_equal(get32(fadt + 112) & (1u << 4), 0);    /* fixed power button */

	unsigned lapics = 0, ioapics = 0, sci_override = 0;
	const uint8_t *end = madt + get32(madt + 4);
	for (const uint8_t *e = madt + 44; e < end; e += e[1]) {
		assert_true(e[1] >= 2 && e + e[1] <= end);
		if (e[0] == 0) {
			assert_int_equal(e[3], lapics); /* APIC id */
			assert_int_equal(get32(e + 4) & 1, 1);
			lapics++;
		} else if (e[0] == 1) {
			assert_int_equal(get32(e + 4), 0xfec00000);
			ioapics++;
		} else if (e[0] == 2 && e[3] == ACPI_SCI_IRQ) {
			sci_override++;
		}
	}
	assert_int_equal(lapics, ncpus);
	assert_int_equal(ioapics, 1);
	assert_int_equal(sci_override, 1);
	assert_int_equal(acpi_build(buf, used - 1, GPA, ncpus), 0);
}

static void test_acpi_tables(void **state)
{
	(void)state;
	check_tables(1);
	check_tables(4);
	check_tables(64);
}

static int sci_level = -1, sci_calls, poweroffs;

static void on_sci(void *opaque, int level)
{
	(void)opaque;
	sci_level = level;
	sci_calls++;
}

static void on_poweroff(void *opaque)
{
	(void)opaque;
	poweroffs++;
}

static void test_pm(void **state)
{
	(void)state;
	struct acpi_pm pm = {.sci = on_sci, .poweroff = on_poweroff};
	acpi_pm_init(&pm);
	assert_int_equal(acpi_pm_read(&pm, ACPI_PM1_CNT, 2) & ACPI_SCI_EN, ACPI_SCI_EN);

	acpi_pm_power_button(&pm); /* not enabled: status only */
	assert_int_equal(acpi_pm_read(&pm, ACPI_PM1_EVT, 2), ACPI_PWRBTN);
	assert_int_equal(sci_level, 0);
	acpi_pm_write(&pm, ACPI_PM1_EVT + 2, 2, ACPI_PWRBTN); /* enable */
	assert_int_equal(sci_level, 1);
	assert_int_equal(acpi_pm_read(&pm, ACPI_PM1_EVT + 3, 1), ACPI_PWRBTN >> 8);
	acpi_pm_write(&pm, ACPI_PM1_EVT + 1, 1, ACPI_PWRBTN >> 8); /* write 1 to clear */
	assert_int_equal(acpi_pm_read(&pm, ACPI_PM1_EVT, 4), (uint32_t)ACPI_PWRBTN << 16);
	assert_int_equal(sci_level, 0);
	acpi_pm_power_button(&pm);
	assert_int_equal(sci_level, 1);
	acpi_pm_write(&pm, ACPI_PM1_EVT, 2, 0); /* writing 0 clears nothing */
	assert_int_equal(sci_level, 1);

	acpi_pm_write(&pm, ACPI_PM1_CNT, 2, ACPI_SLP_EN); /* S0 sleep type: nothing */
	assert_int_equal(poweroffs, 0);
	acpi_pm_write(&pm, ACPI_PM1_CNT, 2, (ACPI_S5_TYPE << 10) | ACPI_SLP_EN);
	assert_int_equal(poweroffs, 1);
	assert_int_equal(acpi_pm_read(&pm, ACPI_PM1_CNT, 2) & ACPI_SLP_EN, 0);
	assert_int_equal(acpi_pm_read(&pm, ACPI_PM1_CNT + 1, 4) >> 8,
			 0xffffff); /* past the block */
}

static uint8_t sent[256];
static size_t nsent;
static int irq = -1;

static void on_tx(void *opaque, uint8_t b)
{
	(void)opaque;
	sent[nsent++] = b;
}

static void on_irq(void *opaque, int level)
{
	(void)opaque;
	irq = level;
}

static void new_uart(struct uart *u)
{
	uart_init(u);
	u->tx = on_tx;
	u->irq = on_irq;
	nsent = 0;
	irq = 0;
}

static void test_uart_transmit(void **state)
{
	(void)state;
	struct uart u;
	new_uart(&u);
	uart_write(&u, 0, 'h');
	uart_write(&u, 8, 'i'); /* offsets are masked: 8 is THR */
	assert_int_equal(nsent, 2);
	assert_memory_equal(sent, "hi", 2);
	assert_int_equal(uart_read(&u, 5) & 0x60, 0x60); /* THRE, TEMT */

	uart_write(&u, 3, 0x80); /* DLAB: divisor latches, nothing sent */
	uart_write(&u, 0, 0x01);
	uart_write(&u, 1, 0x02);
	assert_int_equal(uart_read(&u, 0), 0x01);
	assert_int_equal(uart_read(&u, 1), 0x02);
	assert_int_equal(nsent, 2);
	uart_write(&u, 3, 0x03);
	uart_write(&u, 7, 0x5a);
	assert_int_equal(uart_read(&u, 7), 0x5a);

	assert_int_equal(irq, 0);
	uart_write(&u, 1, 0x02); /* THRI on, transmitter empty: interrupt */
	assert_int_equal(irq, 1);
	uart_write(&u, 2, 0x01); /* FIFOs on */
	assert_int_equal(uart_read(&u, 2), 0xc2);
	assert_int_equal(irq, 0); /* reading IIR acknowledged it */
	assert_int_equal(uart_read(&u, 2), 0xc1);
	uart_write(&u, 0, 'x'); /* sent: empty again, interrupt again */
	assert_int_equal(irq, 1);
}

static void test_uart_receive(void **state)
{
	(void)state;
	struct uart u;
	new_uart(&u);
	assert_int_equal(uart_read(&u, 5) & 1, 0);
	assert_int_equal(uart_receive(&u, (const uint8_t *)"ab", 2), 2);
	assert_int_equal(irq, 0); /* receive interrupt not enabled */
	uart_write(&u, 1, 0x01);
	assert_int_equal(irq, 1);
	assert_int_equal(uart_read(&u, 2) & 0x0f, 0x04);
	assert_int_equal(uart_read(&u, 5) & 1, 1);
	assert_int_equal(uart_read(&u, 0), 'a');
	assert_int_equal(uart_read(&u, 0), 'b');
	assert_int_equal(uart_read(&u, 5) & 1, 0);
	assert_int_equal(irq, 0);

	uint8_t many[UART_RX_FIFO + 10];
	memset(many, 'z', sizeof(many));
	assert_int_equal(uart_receive(&u, many, sizeof(many)), UART_RX_FIFO);
	assert_int_equal(uart_room(&u), 0);
	uart_write(&u, 2, 0x03); /* clear the receive FIFO */
	assert_int_equal(uart_room(&u), UART_RX_FIFO);
	assert_int_equal(uart_read(&u, 5) & 1, 0);
}

static void test_uart_loopback(void **state)
{
	(void)state;
	struct uart u;
	new_uart(&u);
	uart_write(&u, 4, 0x1a); /* loop, OUT2, RTS */
	assert_int_equal(uart_read(&u, 6) & 0xf0, 0x90);
	uart_write(&u, 0, 'q');
	assert_int_equal(nsent, 0); /* looped back, not sent */
	assert_int_equal(uart_read(&u, 0), 'q');
	assert_int_equal(uart_receive(&u, (const uint8_t *)"x", 1), 0); /* the line is cut */
	uart_write(&u, 4, 0x0b);
	assert_int_equal(uart_read(&u, 6), 0xb0);
}

static void test_cpuid(void **state)
{
	(void)state;
	struct kvm_cpuid_entry2 e[] = {
	    {.function = 1, .ebx = 0x0000abcd, .edx = 0},
	    {.function = 4, .eax = 0x00000121},
	    {.function = 0xb, .index = 0},
	    {.function = 0xb, .index = 1},
	    {.function = 0x40000001, .eax = 0x01007efb},
	    {.function = 0x80000008, .ecx = 0x0000f0ff},
	    {.function = 0x8000001e},
	};
	cpuid_adjust(e, 7, 3, 4, true);
	assert_int_equal(e[0].ebx >> 24, 3);
	assert_int_equal((e[0].ebx >> 16) & 0xff, 4);
	assert_int_equal(e[0].ebx & 0xffff, 0xabcd);
	assert_true(e[0].ecx & (1u << 31));
	assert_true(e[0].ecx & (1u << 24));
	assert_true(e[0].edx & (1u << 28));
	assert_int_equal(e[1].eax >> 26, 3);
	assert_int_equal(e[2].ebx, 1);
	assert_int_equal(e[2].edx, 3);
	assert_int_equal(e[3].ebx, 4);
	assert_int_equal(e[3].eax, 2);
	assert_int_equal(e[3].edx, 3);
	assert_int_equal(e[4].eax, 0x01007efb & ~0x40u);
	assert_int_equal(e[5].ecx & 0xff, 3);
	assert_int_equal((e[5].ecx >> 12) & 0xf, 2);
	assert_int_equal(e[6].eax, 3);

	struct kvm_cpuid_entry2 one = {.function = 1, .edx = 1u << 28};
	cpuid_adjust(&one, 1, 0, 1, false);
	assert_int_equal(one.edx & (1u << 28), 0);
	assert_int_equal(one.ecx & (1u << 24), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_acpi_tables),	  cmocka_unit_test(test_pm),
	    cmocka_unit_test(test_uart_transmit), cmocka_unit_test(test_uart_receive),
	    cmocka_unit_test(test_uart_loopback), cmocka_unit_test(test_cpuid),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
