#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <string.h>

#include "vmm/bytes.h"
#include "vmm/acpi.h"
#include "vmm/boot.h"
#include "vmm/pci.h"

#define GPA 0xe0000

static uint8_t buf[0x20000];
static size_t used;
static uint64_t base; /* the guest address of buf */

static uint8_t sum(const uint8_t *p, size_t len)
{
	uint8_t s = 0;
	while (len--)
		s = (uint8_t)(s + *p++);
	return s;
}

static void build(uint64_t gpa, unsigned ncpus)
{
	memset(buf, 0xaa, sizeof(buf));
	base = gpa;
	used = acpi_build(buf, sizeof(buf), gpa, ncpus, NULL);
	assert_true(used > 0);
	assert_true(used < sizeof(buf));
	assert_int_equal(buf[used], 0xaa); /* nothing written past what it reports */
}

/* A table by its guest address: inside what was built, with the signature,
 * a length that fits, and a checksum that sums to 0. */
static const uint8_t *table(uint64_t gpa, const char *sig)
{
	if (gpa < base || gpa + 36 > base + used)
		fail_msg("%s at %#llx is outside the tables", sig, (unsigned long long)gpa);
	const uint8_t *t = buf + (gpa - base);
	assert_memory_equal(t, sig, 4);
	uint32_t len = get32(t + 4);
	assert_true(len >= 36);
	assert_true(gpa + len <= base + used);
	assert_int_equal(sum(t, len), 0);
	assert_memory_equal(t + 10, "KEEL  ", 6); /* OEM id */
	return t;
}

static const uint8_t *rsdp_xsdt(void)
{
	assert_memory_equal(buf, "RSD PTR ", 8);
	assert_int_equal(buf[15], 2); /* revision: ACPI 2.0+, with the XSDT */
	assert_int_equal(sum(buf, 20), 0);
	assert_int_equal(sum(buf, 36), 0);
	assert_int_equal(get32(buf + 20), 36); /* length */
	const uint8_t *xsdt = table(get64(buf + 24), "XSDT");
	assert_int_equal(get32(xsdt + 4), 36 + 2 * 8); /* two entries */
	return xsdt;
}

/* A table listed in the XSDT, checked. */
static const uint8_t *find(const char *sig)
{
	const uint8_t *xsdt = rsdp_xsdt();
	for (uint32_t off = 36; off < get32(xsdt + 4); off += 8) {
		uint64_t gpa = get64(xsdt + off);
		assert_true(gpa >= base && gpa + 4 <= base + used);
		if (memcmp(buf + (gpa - base), sig, 4) == 0)
			return table(gpa, sig);
	}
	fail_msg("no %s in the XSDT", sig);
	return NULL;
}

static void test_rsdp(void **state)
{
	(void)state;
	build(GPA, 1);
	const uint8_t *xsdt = rsdp_xsdt();
	assert_int_equal(get64(buf + 24) % 8, 0);
	assert_memory_equal(buf + 9, "KEEL  ", 6);
	assert_int_equal(get32(buf + 16), 0); /* no RSDT */
	/* the XSDT lists FACP and APIC */
	assert_memory_equal(buf + (get64(xsdt + 36) - GPA), "FACP", 4);
	assert_memory_equal(buf + (get64(xsdt + 44) - GPA), "APIC", 4);
}

static void test_checksums_all_tables(void **state)
{
	(void)state;
	static const unsigned counts[] = {1, 2, 4, 63, 64};
	for (size_t i = 0; i < sizeof(counts) / sizeof(counts[0]); i++) {
		build(GPA, counts[i]);
		const uint8_t *fadt = find("FACP");
		find("APIC");
		table(get64(fadt + 140), "DSDT");
		/* and the checksum helper itself */
		assert_int_equal(acpi_checksum(buf, 36), 0);
		assert_int_equal(acpi_checksum(fadt, get32(fadt + 4)), 0);
	}
	const uint8_t bytes[] = {0x10, 0x20, 0xf0};
	assert_int_equal(acpi_checksum(bytes, 3), 0x20);
	assert_int_equal(acpi_checksum(bytes, 0), 0);
}

static void test_fadt(void **state)
{
	(void)state;
	build(GPA, 4);
	const uint8_t *fadt = find("FACP");
	assert_int_equal(get32(fadt + 4), 276);
	assert_int_equal(fadt[8], 6); /* revision */
	/* DSDT and FACS, both in the 32-bit and the X_ fields */
	uint64_t dsdt = get64(fadt + 140), facs = get64(fadt + 132);
	assert_int_equal(get32(fadt + 40), dsdt);
	assert_int_equal(get32(fadt + 36), facs);
	table(dsdt, "DSDT");
	assert_true(facs >= GPA && facs + 64 <= GPA + used);
	assert_int_equal(facs % 64, 0);
	const uint8_t *f = buf + (facs - GPA);
	assert_memory_equal(f, "FACS", 4);
	assert_int_equal(get32(f + 4), 64);

	assert_int_equal(get16(fadt + 46), 9);		    /* SCI_INT */
	assert_int_equal(get32(fadt + 48), 0);		    /* SMI_CMD: always in ACPI mode */
	assert_int_equal(get32(fadt + 56), 0x600);	    /* PM1a_EVT_BLK */
	assert_int_equal(get32(fadt + 64), 0x604);	    /* PM1a_CNT_BLK */
	assert_int_equal(fadt[88], 4);			    /* PM1_EVT_LEN */
	assert_int_equal(fadt[89], 2);			    /* PM1_CNT_LEN */
	assert_int_equal(get32(fadt + 112) & (1u << 4), 0); /* PWR_BUTTON: fixed */
	/* X_PM1a_EVT_BLK and X_PM1a_CNT_BLK: system I/O at the same ports */
	assert_int_equal(fadt[148], 1);
	assert_int_equal(fadt[149], 32);
	assert_int_equal(get64(fadt + 152), 0x600);
	assert_int_equal(fadt[172], 1);
	assert_int_equal(fadt[173], 16);
	assert_int_equal(get64(fadt + 176), 0x604);
}

/* An AML PkgLength at p: returns its value, and its size in *n. */
static uint32_t pkglen(const uint8_t *p, unsigned *n)
{
	unsigned follow = p[0] >> 6;
	uint32_t len = follow ? p[0] & 0x0f : p[0] & 0x3f;
	for (unsigned i = 0; i < follow; i++)
		len |= (uint32_t)p[1 + i] << (4 + 8 * i);
	*n = 1 + follow;
	return len;
}

static void test_dsdt(void **state)
{
	(void)state;
	build(GPA, 2);
	const uint8_t *fadt = find("FACP");
	const uint8_t *dsdt = table(get64(fadt + 140), "DSDT");
	const uint8_t *end = dsdt + get32(dsdt + 4);
	const uint8_t *p = dsdt + 36;
	unsigned n;

	/* Name (_S5_, Package (4) { 5, 0, 0, 0 }) */
	const uint8_t s5[] = {0x08, '_', 'S', '5', '_', 0x12};
	assert_memory_equal(p, s5, sizeof(s5));
	p += sizeof(s5);
	uint32_t len = pkglen(p, &n);
	const uint8_t *pkg_end = p + len;
	assert_int_equal(p[n], 4);		  /* NumElements */
	assert_int_equal(p[n + 1], 0x0a);	  /* BytePrefix */
	assert_int_equal(p[n + 2], ACPI_S5_TYPE); /* what acpi_pm_write powers off on */
	p = pkg_end;

	/* Scope (\_SB_) reaching exactly to the end of the table */
	assert_int_equal(*p++, 0x10);
	len = pkglen(p, &n);
	assert_true(p + len == end);
	p += n;
	assert_memory_equal(p, "\\_SB_", 5);
	p += 5;
	/* Device (PCI0) filling the scope */
	assert_int_equal(p[0], 0x5b);
	assert_int_equal(p[1], 0x82);
	p += 2;
	len = pkglen(p, &n);
	assert_true(p + len == end);
	p += n;
	assert_memory_equal(p, "PCI0", 4);
	p += 4;
	/* Name (_HID, EisaId ("PNP0A03")) */
	assert_memory_equal(p, "\x08_HID\x0c", 6);
	p += 6;
	uint16_t v = (uint16_t)(p[0] << 8 | p[1]);
	char hid[8] = {(char)('@' + ((v >> 10) & 0x1f)), (char)('@' + ((v >> 5) & 0x1f)),
		       (char)('@' + (v & 0x1f)),	 "0123456789ABCDEF"[p[2] >> 4],
		       "0123456789ABCDEF"[p[2] & 15],	 "0123456789ABCDEF"[p[3] >> 4],
		       "0123456789ABCDEF"[p[3] & 15],	 0};
	assert_string_equal(hid, "PNP0A03");
	p += 4;
	/* Name (_UID, 0) */
	assert_memory_equal(p, "\x08_UID\x00", 6);
	p += 6;
	/* Name (_CRS, Buffer) to the end */
	assert_memory_equal(p, "\x08_CRS\x11", 6);
	p += 6;
	len = pkglen(p, &n);
	assert_true(p + len == end);
	p += n;
	assert_int_equal(*p++, 0x0a); /* BufferSize, a byte */
	uint8_t size = *p++;
	assert_true(p + size == end);

	/* the resource template: large descriptors, then the end tag */
	unsigned words = 0, dwords = 0;
	while (p[0] != 0x79) {
		assert_true(p[0] & 0x80);
		uint16_t dlen = get16(p + 1);
		assert_true(p + 3 + dlen < end);
		if (p[0] == 0x88) { /* word address space: bus numbers 0..255 */
			assert_int_equal(p[3], 2);
			assert_int_equal(get16(p + 8), 0);
			assert_int_equal(get16(p + 10), 0xff);
			assert_int_equal(get16(p + 14), 0x100);
			words++;
		} else if (p[0] == 0x87) {	   /* dword address space: the MMIO window */
			assert_int_equal(p[3], 0); /* memory */
			uint32_t min = get32(p + 10), max = get32(p + 14), wlen = get32(p + 22);
			assert_int_equal(wlen, max - min + 1);
			assert_int_equal(min, PCI_MMIO_BASE); /* where the BARs go */
			assert_true((uint64_t)PCI_MMIO_BASE + PCI_MAX_SLOTS * VPCI_BAR_SIZE - 1 <=
				    max);
			assert_true(min >= BOOT_MMIO_HOLE); /* not over RAM */
			assert_true(max < 0xfec00000u);	    /* nor the I/O APIC */
			dwords++;
		}
		p += 3 + dlen;
	}
	assert_int_equal(words, 1);
	assert_int_equal(dwords, 1);
	assert_int_equal(p[1], 0);
	assert_true(p + 2 == end);
}

static void check_madt(uint64_t gpa, unsigned ncpus)
{
	build(gpa, ncpus);
	const uint8_t *madt = find("APIC");
	assert_int_equal(get32(madt + 36), 0xfee00000); /* local APIC address */
	unsigned lapics = 0, ioapics = 0, overrides = 0, ioapic_id = 0;
	uint64_t seen = 0;
	const uint8_t *end = madt + get32(madt + 4);
	for (const uint8_t *e = madt + 44; e < end; e += e[1]) {
		assert_true(e[1] >= 2 && e + e[1] <= end);
		switch (e[0]) {
		case 0:
			assert_int_equal(e[1], 8);
			assert_true(e[3] < ncpus);
			assert_false(seen & (1ull << e[3])); /* each APIC id once */
			seen |= 1ull << e[3];
			assert_int_equal(get32(e + 4) & 1, 1); /* enabled */
			lapics++;
			break;
		case 1:
			assert_int_equal(e[1], 12);
			assert_int_equal(get32(e + 4), 0xfec00000);
			assert_int_equal(get32(e + 8), 0); /* GSI base */
			ioapic_id = e[2];
			ioapics++;
			break;
		case 2:
			assert_int_equal(e[1], 10);
			assert_int_equal(e[2], 0); /* ISA */
			assert_int_equal(e[3], 9);
			assert_int_equal(get32(e + 4), 9);
			assert_int_equal(get16(e + 8), 0x000d); /* level, active high */
			overrides++;
			break;
		default:
			fail_msg("unexpected MADT entry type %u", e[0]);
		}
	}
	assert_int_equal(lapics, ncpus);
	assert_int_equal(seen, ncpus == 64 ? ~0ull : (1ull << ncpus) - 1);
	assert_int_equal(ioapics, 1);
	assert_true(ioapic_id >= ncpus); /* no clash with a local APIC id */
	assert_int_equal(overrides, 1);
}

static void test_madt(void **state)
{
	(void)state;
	check_madt(GPA, 1);
	check_madt(GPA, 4);
	check_madt(GPA, 64);
}

static void test_other_address(void **state)
{
	(void)state;
	/* the pointers follow the guest address the tables are built for */
	build(0x7000000, 3);
	const uint8_t *fadt = find("FACP"); /* fails if a pointer is not in 0x7000000 + used */
	table(get32(fadt + 40), "DSDT");
	table(get64(fadt + 140), "DSDT");
	uint64_t facs = get64(fadt + 132);
	assert_int_equal(get32(fadt + 36), facs);
	assert_true(facs >= 0x7000000 && facs + 64 <= 0x7000000 + used);
	assert_memory_equal(buf + (facs - 0x7000000), "FACS", 4);
	check_madt(0x7000000, 3);
	/* the same tables, moved: the DSDT holds no pointers and is the same */
	static uint8_t first[0x1000];
	memcpy(first, buf, used);
	size_t n = used;
	uint64_t dsdt = get64(fadt + 140) - 0x7000000;
	build(GPA, 3);
	assert_int_equal(used, n);
	assert_int_equal(get64(find("FACP") + 140) - GPA, dsdt);
	assert_memory_equal(first + dsdt, buf + dsdt, get32(buf + dsdt + 4));
}

static void test_too_small(void **state)
{
	(void)state;
	build(GPA, 4);
	size_t need = used;
	memset(buf, 0x55, sizeof(buf));
	assert_int_equal(acpi_build(buf, need - 1, GPA, 4, NULL), 0);
	assert_int_equal(buf[0], 0x55); /* nothing written */
	assert_int_equal(acpi_build(buf, 0, GPA, 1, NULL), 0);
	assert_int_equal(acpi_build(buf, need, GPA, 4, NULL), need); /* exactly enough */
	/* more CPUs, more room */
	assert_int_equal(acpi_build(buf, sizeof(buf), GPA, 5, NULL), need + 8);
	assert_int_equal(acpi_build(buf, need, GPA, 5, NULL), 0);
	/* the real place: 128 KiB below 1 MiB hold the most vCPUs */
	assert_true(acpi_build(buf, BOOT_HIGH - BOOT_ACPI, BOOT_ACPI, 64, NULL) > 0);
}

/* --- the PM1 register block */

static int sci_level, sci_calls, poweroffs;
static void *seen_opaque;

static void on_sci(void *opaque, int level)
{
	seen_opaque = opaque;
	sci_level = level;
	sci_calls++;
}

static void on_poweroff(void *opaque)
{
	seen_opaque = opaque;
	poweroffs++;
}

static struct acpi_pm pm;
static int cookie;

static int new_pm(void **state)
{
	(void)state;
	memset(&pm, 0x5a, sizeof(pm)); /* init sets the registers */
	pm.sci = on_sci;
	pm.poweroff = on_poweroff;
	pm.opaque = &cookie;
	acpi_pm_init(&pm);
	sci_level = -1;
	sci_calls = poweroffs = 0;
	seen_opaque = NULL;
	return 0;
}

static void test_pm_init(void **state)
{
	(void)state;
	assert_int_equal(acpi_pm_read(&pm, 0x604, 2), ACPI_SCI_EN);
	assert_int_equal(acpi_pm_read(&pm, 0x600, 2), 0);
	assert_int_equal(acpi_pm_read(&pm, 0x602, 2), 0);
	assert_int_equal(acpi_pm_read(&pm, 0x600, 4), 0);
	assert_int_equal(sci_calls, 0);
	/* SCI_EN stays set: the platform has no legacy mode */
	acpi_pm_write(&pm, 0x604, 2, 0);
	assert_int_equal(acpi_pm_read(&pm, 0x604, 2) & ACPI_SCI_EN, ACPI_SCI_EN);
}

static void test_pm_power_button(void **state)
{
	(void)state;
	acpi_pm_power_button(&pm); /* not enabled: status only */
	assert_int_equal(acpi_pm_read(&pm, 0x600, 2), ACPI_PWRBTN);
	assert_int_equal(sci_level, 0);

	acpi_pm_write(&pm, 0x602, 2, ACPI_PWRBTN); /* enable: the pending event raises it */
	assert_int_equal(sci_level, 1);
	assert_ptr_equal(seen_opaque, &cookie);
	assert_int_equal(acpi_pm_read(&pm, 0x602, 2), ACPI_PWRBTN);
	assert_int_equal(acpi_pm_read(&pm, 0x600, 4), ACPI_PWRBTN | (uint32_t)ACPI_PWRBTN << 16);

	acpi_pm_write(&pm, 0x600, 2, 0); /* writing 0 clears nothing */
	assert_int_equal(sci_level, 1);
	assert_int_equal(acpi_pm_read(&pm, 0x600, 2), ACPI_PWRBTN);
	acpi_pm_write(&pm, 0x600, 2, ACPI_PWRBTN); /* write 1 to clear */
	assert_int_equal(acpi_pm_read(&pm, 0x600, 2), 0);
	assert_int_equal(sci_level, 0);
	assert_int_equal(acpi_pm_read(&pm, 0x602, 2), ACPI_PWRBTN); /* still enabled */

	acpi_pm_power_button(&pm); /* enabled: straight to the SCI */
	assert_int_equal(sci_level, 1);
	acpi_pm_write(&pm, 0x602, 2, 0); /* disabling lowers it, status stays */
	assert_int_equal(sci_level, 0);
	assert_int_equal(acpi_pm_read(&pm, 0x600, 2), ACPI_PWRBTN);
}

static void test_pm_byte_access(void **state)
{
	(void)state;
	acpi_pm_write(&pm, 0x603, 1, ACPI_PWRBTN >> 8); /* enable, high byte */
	assert_int_equal(acpi_pm_read(&pm, 0x602, 2), ACPI_PWRBTN);
	assert_int_equal(acpi_pm_read(&pm, 0x603, 1), ACPI_PWRBTN >> 8);
	assert_int_equal(acpi_pm_read(&pm, 0x602, 1), 0);
	acpi_pm_write(&pm, 0x602, 1, 0x00); /* the low byte leaves the high one */
	assert_int_equal(acpi_pm_read(&pm, 0x602, 2), ACPI_PWRBTN);

	acpi_pm_power_button(&pm);
	assert_int_equal(sci_level, 1);
	assert_int_equal(acpi_pm_read(&pm, 0x601, 1), ACPI_PWRBTN >> 8);
	acpi_pm_write(&pm, 0x600, 1, 0xff); /* the other byte: no effect */
	assert_int_equal(acpi_pm_read(&pm, 0x600, 2), ACPI_PWRBTN);
	assert_int_equal(sci_level, 1);
	acpi_pm_write(&pm, 0x601, 1, ACPI_PWRBTN >> 8); /* write 1 to clear, high byte */
	assert_int_equal(acpi_pm_read(&pm, 0x600, 2), 0);
	assert_int_equal(sci_level, 0);

	/* a dword write at 0x600 covers status and enable */
	acpi_pm_power_button(&pm);
	acpi_pm_write(&pm, 0x600, 4, ACPI_PWRBTN); /* clears status, zeroes enable */
	assert_int_equal(acpi_pm_read(&pm, 0x600, 4), 0);
	assert_int_equal(sci_level, 0);

	/* control, byte-wise: the SCI_EN low byte reads back */
	assert_int_equal(acpi_pm_read(&pm, 0x604, 1), ACPI_SCI_EN);
	assert_int_equal(acpi_pm_read(&pm, 0x605, 1), 0);
}

static void test_pm_poweroff(void **state)
{
	(void)state;
	acpi_pm_write(&pm, 0x604, 2, (3 << 10) | ACPI_SLP_EN); /* S3: not supported */
	assert_int_equal(poweroffs, 0);
	acpi_pm_write(&pm, 0x604, 2, 5 << 10); /* S5 without SLP_EN: nothing yet */
	assert_int_equal(poweroffs, 0);

	acpi_pm_write(&pm, 0x604, 2, (5 << 10) | 0x2000);
	assert_int_equal(poweroffs, 1);
	assert_ptr_equal(seen_opaque, &cookie);
	uint32_t cnt = acpi_pm_read(&pm, 0x604, 2);
	assert_int_equal(cnt & ACPI_SLP_EN, 0); /* SLP_EN reads as 0 */
	assert_int_equal((cnt >> 10) & 7, 5);
	/* a later write that does not set SLP_EN again does not power off again */
	acpi_pm_write(&pm, 0x604, 2, 5 << 10);
	acpi_pm_write(&pm, 0x600, 2, 0);
	acpi_pm_power_button(&pm);
	assert_int_equal(poweroffs, 1);

	/* byte-wise: SLP_TYP and SLP_EN are both in the high byte */
	acpi_pm_write(&pm, 0x605, 1, ((5 << 10) | 0x2000) >> 8);
	assert_int_equal(poweroffs, 2);
	/* a dword write at 0x602 reaches the control register too */
	acpi_pm_write(&pm, 0x602, 4, (uint32_t)((5 << 10) | 0x2000) << 16);
	assert_int_equal(poweroffs, 3);

	/* no callback: no crash */
	pm.poweroff = NULL;
	pm.sci = NULL;
	acpi_pm_write(&pm, 0x604, 2, (5 << 10) | 0x2000);
	acpi_pm_power_button(&pm);
	assert_int_equal(poweroffs, 3);
}

/* OVMF's ResetShutdown on the PC it knows writes SLP_EN with type 0 */
static void test_pm_poweroff_type0(void **state)
{
	(void)state;
	acpi_pm_write(&pm, 0x604, 2, ACPI_SLP_EN);
	assert_int_equal(poweroffs, 1);
}

static struct timespec clock_now;

static void fake_clock(struct timespec *ts)
{
	*ts = clock_now;
}

static void test_pm_timer(void **state)
{
	(void)state;
	pm.now = fake_clock;
	clock_now = (struct timespec){.tv_sec = 0, .tv_nsec = 0};
	assert_int_equal(acpi_pm_read(&pm, ACPI_PM_TMR, 4), 0);
	clock_now.tv_sec = 1; /* one second: ACPI_PM_HZ ticks, 24 bits */
	assert_int_equal(acpi_pm_read(&pm, ACPI_PM_TMR, 4), ACPI_PM_HZ);
	clock_now = (struct timespec){.tv_sec = 10, .tv_nsec = 500000000};
	uint32_t want = (uint32_t)((10ull * ACPI_PM_HZ + ACPI_PM_HZ / 2) & 0xffffff);
	assert_int_equal(acpi_pm_read(&pm, ACPI_PM_TMR, 4), want);
	assert_int_equal(acpi_pm_read(&pm, ACPI_PM_TMR + 1, 2), (want >> 8) & 0xffff);
	assert_int_equal(acpi_pm_read(&pm, ACPI_PM_TMR + 3, 1), 0); /* the top byte */
	/* a day of uptime neither overflows nor leaves 24 bits */
	clock_now.tv_sec = 86400 * 365;
	assert_true(acpi_pm_read(&pm, ACPI_PM_TMR, 4) <= 0xffffff);
	assert_int_equal(acpi_pm_read(&pm, ACPI_PM_END, 1), 0xff);
	/* the timer cannot be written */
	acpi_pm_write(&pm, ACPI_PM_TMR, 4, 0);
	assert_int_equal(acpi_pm_read(&pm, 0x600, 4), 0);
	/* and the FADT points at it */
	build(GPA, 1);
	const uint8_t *fadt = buf + (get64(buf + get64(buf + 24) - base + 36) - base);
	assert_int_equal(get32(fadt + 76), ACPI_PM_TMR);
	assert_int_equal(fadt[91], 4);
	assert_int_equal(get64(fadt + 208 + 4), ACPI_PM_TMR);
}

/* The firmware's side of acpi_loader: place both files, run the script
 * (allocate, relocate, checksum) as OVMF and SeaBIOS do, and the result is
 * the same tables acpi_build makes in place. */
static void test_loader(void **state)
{
	(void)state;
	static uint8_t tables[16384], direct[16384];
	uint8_t script[ACPI_LOADER_MAX * ACPI_LOADER_ENTRY], rsdp[ACPI_RSDP_LEN];
	size_t len, slen;
	assert_int_equal(acpi_loader(tables, sizeof(tables), &len, 3, script, &slen), 0);
	assert_int_equal(slen % ACPI_LOADER_ENTRY, 0);
	memcpy(rsdp, tables, ACPI_RSDP_LEN);
	const uint64_t at_tables = 0x7ff00000;
	unsigned allocs = 0, pointers = 0, sums = 0;
	for (size_t off = 0; off < slen; off += ACPI_LOADER_ENTRY) {
		const uint8_t *e = script + off;
		const char *f1 = (const char *)e + 4, *f2 = (const char *)e + 60;
		uint8_t *blob1 = strcmp(f1, ACPI_FWCFG_RSDP) == 0 ? rsdp : tables;
		switch (get32(e)) {
		case 1: /* allocate: the RSDP in the F segment, 16-aligned */
			allocs++;
			assert_int_equal(e[64], blob1 == rsdp ? 2 : 1);
			assert_int_equal(get32(e + 60), blob1 == rsdp ? 16 : 64);
			break;
		case 2: { /* add pointer: every one is into the tables */
			pointers++;
			assert_string_equal(f2, ACPI_FWCFG_TABLES);
			uint32_t at = get32(e + 116);
			uint8_t size = e[120];
			assert_true(size == 4 || size == 8);
			assert_true(at + size <= (blob1 == rsdp ? ACPI_RSDP_LEN : len));
			uint64_t v = size == 8 ? get64(blob1 + at) : get32(blob1 + at);
			assert_true(v < len); /* an offset into the tables */
			v += at_tables;
			if (size == 8)
				put64(blob1 + at, v);
			else
				put32(blob1 + at, (uint32_t)v);
			break;
		}
		case 3: { /* add checksum, over what the pointers made */
			sums++;
			uint32_t res = get32(e + 60), start = get32(e + 64), n = get32(e + 68);
			size_t blen = blob1 == rsdp ? ACPI_RSDP_LEN : len;
			assert_true(res < blen && start < blen && n <= blen - start);
			assert_int_equal(blob1[res], 0); /* left at 0 for the firmware */
			blob1[res] = (uint8_t)-sum(blob1 + start, n);
			break;
		}
		default:
			fail_msg("command %u", get32(e));
		}
	}
	assert_int_equal(allocs, 2);
	assert_int_equal(pointers, 7); /* RSDP 1, XSDT 2, FADT 4 */
	assert_int_equal(sums, 4 + 2); /* XSDT, FADT, DSDT, MADT; the RSDP's two */
	/* the same bytes as built in place at that address */
	memset(direct, 0, sizeof(direct));
	assert_int_equal(acpi_build(direct, sizeof(direct), at_tables, 3, NULL), len);
	assert_memory_equal(tables + ACPI_RSDP_LEN, direct + ACPI_RSDP_LEN, len - ACPI_RSDP_LEN);
	assert_memory_equal(rsdp, direct, ACPI_RSDP_LEN);
	/* too small */
	assert_int_equal(acpi_loader(tables, 100, &len, 3, script, &slen), -1);
}

static void test_pm_outside(void **state)
{
	(void)state;
	acpi_pm_power_button(&pm);
	/* reads past the 6-byte block return 0xff bytes */
	assert_int_equal(acpi_pm_read(&pm, 0x606, 1), 0xff);
	assert_int_equal(acpi_pm_read(&pm, 0x606, 2), 0xffff);
	assert_int_equal(acpi_pm_read(&pm, 0x605, 2), 0xff00);
	assert_int_equal(acpi_pm_read(&pm, 0x604, 4), 0xffff0000 | ACPI_SCI_EN);
	assert_int_equal(acpi_pm_read(&pm, 0x5ff, 1), 0xff); /* and before it */
	/* straddling the start: 0xff, then the status register's low byte */
	assert_int_equal(acpi_pm_read(&pm, 0x5ff, 2), 0x00ff);
	assert_int_equal(acpi_pm_read(&pm, 0x5ff, 4), 0xff | ((ACPI_PWRBTN >> 8) << 16));
	/* writes outside change nothing */
	acpi_pm_write(&pm, 0x606, 2, 0xffff);
	acpi_pm_write(&pm, 0x5fe, 2, 0xffff);
	assert_int_equal(acpi_pm_read(&pm, 0x600, 4), ACPI_PWRBTN);
	assert_int_equal(acpi_pm_read(&pm, 0x604, 2), ACPI_SCI_EN);
	assert_int_equal(poweroffs, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_rsdp),
	    cmocka_unit_test(test_checksums_all_tables),
	    cmocka_unit_test(test_fadt),
	    cmocka_unit_test(test_dsdt),
	    cmocka_unit_test(test_madt),
	    cmocka_unit_test(test_other_address),
	    cmocka_unit_test(test_too_small),
	    cmocka_unit_test_setup(test_pm_init, new_pm),
	    cmocka_unit_test_setup(test_pm_power_button, new_pm),
	    cmocka_unit_test_setup(test_pm_byte_access, new_pm),
	    cmocka_unit_test_setup(test_pm_poweroff, new_pm),
	    cmocka_unit_test_setup(test_pm_outside, new_pm),
	    cmocka_unit_test_setup(test_pm_poweroff_type0, new_pm),
	    cmocka_unit_test_setup(test_pm_timer, new_pm),
	    cmocka_unit_test(test_loader),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
