#include "vmm/acpi.h"

#include <string.h>

#include "vmm/bytes.h"

#define OEM_ID	    "KEEL  "
#define OEM_TABLE   "KEELVMM "
#define LAPIC_BASE  0xfee00000u
#define IOAPIC_BASE 0xfec00000u

uint8_t acpi_checksum(const uint8_t *p, size_t len)
{
	uint8_t sum = 0;
	while (len--)
		sum = (uint8_t)(sum + *p++);
	return sum;
}

/* The 36-byte header every system description table starts with; the
 * checksum is set by finish(). */
static void header(uint8_t *t, const char *sig, uint32_t len, uint8_t rev)
{
	memcpy(t, sig, 4);
	put32(t + 4, len);
	t[8] = rev;
	memcpy(t + 10, OEM_ID, 6);
	memcpy(t + 16, OEM_TABLE, 8);
	put32(t + 24, 1);
	memcpy(t + 28, "KEEL", 4);
	put32(t + 32, 1);
}

static void finish(uint8_t *t, uint32_t len)
{
	t[9] = 0;
	t[9] = (uint8_t)-acpi_checksum(t, len);
}

/* Generic Address Structure: an I/O port register of `bits` width. */
static void gas_io(uint8_t *p, uint8_t bits, uint8_t access, uint64_t port)
{
	p[0] = 1; /* system I/O space */
	p[1] = bits;
	p[2] = 0;
	p[3] = access; /* 1 byte, 2 word, 3 dword */
	put64(p + 4, port);
}

/* The DSDT's AML, by hand (the encodings are in the ACPI spec, chapter 20):
 *
 *   Name (_S5_, Package (4) { 5, 0, 0, 0 })
 *   Scope (\_SB_) {
 *     Device (PCI0) {
 *       Name (_HID, EisaId ("PNP0A03"))
 *       Name (_UID, 0)
 *       Name (_CRS, ResourceTemplate () {
 *         WordBusNumber (ResourceProducer, MinFixed, MaxFixed, PosDecode,
 *                        0, 0, 0xff, 0, 0x100)
 *         DWordMemory (ResourceProducer, PosDecode, MinFixed, MaxFixed,
 *                      NonCacheable, ReadWrite, 0, ACPI_PCI_WINDOW_START,
 *                      ACPI_PCI_WINDOW_END, 0, length)
 *       })
 *     }
 *   }
 *
 * The host bridge is what makes Linux scan PCI bus 0 when it boots with
 * ACPI. Package lengths: 1-byte form below 64, else 2-byte (0x40 | len &
 * 0xf, len >> 4), counting themselves. */
#define B4(v) (uint8_t)(v), (uint8_t)((v) >> 8), (uint8_t)((v) >> 16), (uint8_t)((v) >> 24)
static const uint8_t dsdt_aml[] = {
    0x08, '_', 'S', '5', '_', 0x12, 0x07, 0x04, 0x0a, ACPI_S5_TYPE, 0x00, 0x00, 0x00, 0x10, 0x44,
    0x05, '\\', '_', 'S', 'B', '_',		     /* Scope, 84 bytes */
    0x5b, 0x82, 0x4b, 0x04, 'P', 'C', 'I', '0',	     /* Device, 75 bytes */
    0x08, '_', 'H', 'I', 'D', 0x0c, B4(0x030ad041u), /* EISA id PNP0A03 */
    0x08, '_', 'U', 'I', 'D', 0x00, 0x08, '_', 'C', 'R', 'S', 0x11, 0x2f, 0x0a,
    44, /* Buffer, 44 bytes */
    /* word address space, bus numbers 0..255 */
    0x88, 13, 0, 2, 0x0c, 0, 0, 0, 0, 0, 0xff, 0, 0, 0, 0x00, 0x01,
    /* dword address space, memory, read-write */
    0x87, 23, 0, 0, 0x0c, 0x01, B4(0), B4(ACPI_PCI_WINDOW_START), B4(ACPI_PCI_WINDOW_END), B4(0),
    B4(ACPI_PCI_WINDOW_END - ACPI_PCI_WINDOW_START + 1), 0x79, 0x00, /* end tag */
};

#define FADT_LEN 276
#define FACS_LEN 64

/* An address of `size` bytes at buf + off: gpa + target, remembered. */
static void link(uint8_t *buf, struct acpi_links *l, size_t off, uint8_t size, uint64_t value)
{
	if (size == 8)
		put64(buf + off, value);
	else
		put32(buf + off, (uint32_t)value);
	if (l && l->npointers < ACPI_MAX_LINKS) {
		l->pointers[l->npointers].off = (uint32_t)off;
		l->pointers[l->npointers++].size = size;
	}
}

static void table(struct acpi_links *l, size_t off, size_t len)
{
	if (l && l->ntables < ACPI_MAX_LINKS) {
		l->tables[l->ntables].off = (uint32_t)off;
		l->tables[l->ntables++].len = (uint32_t)len;
	}
}

size_t acpi_build(uint8_t *buf, size_t cap, uint64_t gpa, unsigned ncpus, struct acpi_links *l)
{
	/* layout: RSDP 0, XSDT 64, FACS 128 (64-byte aligned), FADT 192,
	 * DSDT after it, MADT after that */
	const size_t rsdp = 0, xsdt = 64, facs = 128, fadt = 192;
	const size_t dsdt = fadt + FADT_LEN;
	const size_t dsdt_len = 36 + sizeof(dsdt_aml);
	const size_t madt = (dsdt + dsdt_len + 15) & ~(size_t)15;
	const size_t madt_len = 44 + 8 * (size_t)ncpus + 12 + 10;
	const size_t total = madt + madt_len;
	if (total > cap)
		return 0;
	memset(buf, 0, total);
	if (l)
		memset(l, 0, sizeof(*l));

	uint8_t *p = buf + rsdp;
	memcpy(p, "RSD PTR ", 8);
	memcpy(p + 9, OEM_ID, 6);
	p[15] = 2; /* ACPI 2.0+ */
	put32(p + 20, 36);
	link(buf, l, rsdp + 24, 8, gpa + xsdt);
	p[8] = (uint8_t)-acpi_checksum(p, 20);
	p[32] = (uint8_t)-acpi_checksum(p, 36);

	const uint32_t xsdt_len = 36 + 2 * 8;
	p = buf + xsdt;
	header(p, "XSDT", xsdt_len, 1);
	link(buf, l, xsdt + 36, 8, gpa + fadt);
	link(buf, l, xsdt + 44, 8, gpa + madt);
	finish(p, xsdt_len);
	table(l, xsdt, xsdt_len);

	p = buf + facs;
	memcpy(p, "FACS", 4);
	put32(p + 4, FACS_LEN);
	p[32] = 2; /* version */

	p = buf + fadt;
	header(p, "FACP", FADT_LEN, 6);
	link(buf, l, fadt + 36, 4, gpa + facs);
	link(buf, l, fadt + 40, 4, gpa + dsdt);
	put16(p + 46, ACPI_SCI_IRQ);
	/* SMI_CMD 0: the platform is always in ACPI mode */
	put32(p + 56, ACPI_PM1_EVT);
	put32(p + 64, ACPI_PM1_CNT);
	put32(p + 76, ACPI_PM_TMR);
	p[88] = 4; /* PM1_EVT_LEN */
	p[89] = 2; /* PM1_CNT_LEN */
	p[91] = 4; /* PM_TMR_LEN (24 bits: flag TMR_VAL_EXT clear) */
	/* IAPC_BOOT_ARCH: no VGA (bit 2), no CMOS RTC (bit 5); no 8042 */
	put16(p + 109, (1 << 2) | (1 << 5));
	/* flags: WBINVD (0), no sleep button (5); bit 4 clear: fixed power button */
	put32(p + 112, (1 << 0) | (1 << 5));
	p[131] = 3; /* FADT minor version: ACPI 6.3 */
	link(buf, l, fadt + 132, 8, gpa + facs);
	link(buf, l, fadt + 140, 8, gpa + dsdt);
	gas_io(p + 148, 32, 2, ACPI_PM1_EVT);
	gas_io(p + 172, 16, 2, ACPI_PM1_CNT);
	gas_io(p + 208, 32, 3, ACPI_PM_TMR);
	memcpy(p + 268, "KEELVMM\0", 8); /* hypervisor vendor identity */
	finish(p, FADT_LEN);
	table(l, fadt, FADT_LEN);

	p = buf + dsdt;
	header(p, "DSDT", (uint32_t)dsdt_len, 2);
	memcpy(p + 36, dsdt_aml, sizeof(dsdt_aml));
	finish(p, (uint32_t)dsdt_len);
	table(l, dsdt, dsdt_len);

	p = buf + madt;
	header(p, "APIC", (uint32_t)madt_len, 5);
	put32(p + 36, LAPIC_BASE);
	put32(p + 40, 1); /* PCAT_COMPAT: there are 8259 PICs too */
	uint8_t *e = p + 44;
	for (unsigned i = 0; i < ncpus; i++, e += 8) {
		e[0] = 0; /* processor local APIC */
		e[1] = 8;
		e[2] = (uint8_t)i; /* ACPI processor UID */
		e[3] = (uint8_t)i; /* APIC id */
		put32(e + 4, 1);   /* enabled */
	}
	e[0] = 1; /* I/O APIC */
	e[1] = 12;
	e[2] = (uint8_t)ncpus; /* its id follows the vCPUs' */
	put32(e + 4, IOAPIC_BASE);
	put32(e + 8, 0); /* GSI base */
	e += 12;
	e[0] = 2; /* interrupt source override: the SCI is level, active high */
	e[1] = 10;
	e[2] = 0;
	e[3] = ACPI_SCI_IRQ;
	put32(e + 4, ACPI_SCI_IRQ);
	put16(e + 8, 0x000d);
	finish(p, (uint32_t)madt_len);
	table(l, madt, madt_len);
	return total;
}

/* One table-loader command: its type and up to two file names, then the
 * numbers (little-endian) at `at`. */
static uint8_t *command(uint8_t *e, uint32_t type, const char *f1, const char *f2)
{
	memset(e, 0, ACPI_LOADER_ENTRY);
	put32(e, type);
	strcpy((char *)e + 4, f1);
	if (f2)
		strcpy((char *)e + 4 + 56, f2);
	return e + (f2 ? 4 + 112 : 4 + 56);
}

static const char *blob_of(uint32_t off)
{
	return off < ACPI_RSDP_LEN ? ACPI_FWCFG_RSDP : ACPI_FWCFG_TABLES;
}

int acpi_loader(uint8_t *buf, size_t cap, size_t *len, unsigned ncpus,
		uint8_t script[ACPI_LOADER_MAX * ACPI_LOADER_ENTRY], size_t *script_len)
{
	struct acpi_links l;
	if (!(*len = acpi_build(buf, cap, 0, ncpus, &l)))
		return -1;
	uint8_t *e = script, *n;
	n = command(e, 1, ACPI_FWCFG_RSDP, NULL); /* allocate, in the F segment */
	put32(n, 16);
	n[4] = 2;
	e += ACPI_LOADER_ENTRY;
	n = command(e, 1, ACPI_FWCFG_TABLES, NULL); /* allocate, anywhere */
	put32(n, 64);
	n[4] = 1;
	e += ACPI_LOADER_ENTRY;
	for (unsigned i = 0; i < l.npointers; i++, e += ACPI_LOADER_ENTRY) {
		/* every address is one into the tables */
		n = command(e, 2, blob_of(l.pointers[i].off), ACPI_FWCFG_TABLES);
		put32(n, l.pointers[i].off); /* the RSDP is at the start of both */
		n[4] = l.pointers[i].size;
	}
	/* checksums last, over what the pointers made; their bytes start at 0 */
	for (unsigned i = 0; i < l.ntables; i++, e += ACPI_LOADER_ENTRY) {
		buf[l.tables[i].off + 9] = 0;
		n = command(e, 3, ACPI_FWCFG_TABLES, NULL);
		put32(n, l.tables[i].off + 9);
		put32(n + 4, l.tables[i].off);
		put32(n + 8, l.tables[i].len);
	}
	static const uint32_t rsdp_sums[][2] = {{8, 20}, {32, ACPI_RSDP_LEN}};
	for (unsigned i = 0; i < 2; i++, e += ACPI_LOADER_ENTRY) {
		buf[rsdp_sums[i][0]] = 0;
		n = command(e, 3, ACPI_FWCFG_RSDP, NULL);
		put32(n, rsdp_sums[i][0]);
		put32(n + 4, 0);
		put32(n + 8, rsdp_sums[i][1]);
	}
	*script_len = (size_t)(e - script);
	return 0;
}

static void monotonic(struct timespec *ts)
{
	clock_gettime(CLOCK_MONOTONIC, ts);
}

void acpi_pm_init(struct acpi_pm *pm)
{
	pm->now = monotonic;
	pm->sts = 0;
	pm->en = 0;
	pm->cnt = ACPI_SCI_EN;
}

static void update_sci(struct acpi_pm *pm)
{
	if (pm->sci)
		pm->sci(pm->opaque, (pm->sts & pm->en & ACPI_PWRBTN) != 0);
}

/* The 6 bytes from ACPI_PM1_EVT as one little-endian register file. */
static uint8_t get_byte(struct acpi_pm *pm, unsigned off)
{
	uint16_t r = off < 2 ? pm->sts : off < 4 ? pm->en : pm->cnt;
	return (uint8_t)(r >> (8 * (off & 1)));
}

/* The PM timer: 24 bits of the monotonic clock at ACPI_PM_HZ. */
static uint32_t pm_timer(struct acpi_pm *pm)
{
	struct timespec t;
	pm->now(&t);
	uint64_t ticks =
	    (uint64_t)t.tv_sec * ACPI_PM_HZ + (uint64_t)t.tv_nsec * ACPI_PM_HZ / 1000000000u;
	return (uint32_t)(ticks & 0xffffff);
}

uint32_t acpi_pm_read(struct acpi_pm *pm, uint16_t port, unsigned size)
{
	uint32_t v = 0, timer = port + size > ACPI_PM_TMR ? pm_timer(pm) : 0;
	for (unsigned i = 0; i < size; i++) {
		unsigned off = (unsigned)(port - ACPI_PM1_EVT) + i;
		uint8_t b = off < 6 ? get_byte(pm, off)
			    : off >= 8 && off < ACPI_PM_END - ACPI_PM1_EVT
				? (uint8_t)(timer >> (8 * (off - 8)))
				: 0xff;
		v |= (uint32_t)b << (8 * i);
	}
	return v;
}

void acpi_pm_write(struct acpi_pm *pm, uint16_t port, unsigned size, uint32_t value)
{
	for (unsigned i = 0; i < size; i++) {
		unsigned off = (unsigned)(port - ACPI_PM1_EVT) + i;
		uint16_t b = (uint16_t)((value >> (8 * i)) & 0xff) << (8 * (off & 1));
		uint16_t mask = (uint16_t)(0xff << (8 * (off & 1)));
		if (off < 2)
			pm->sts &= (uint16_t)~b; /* write 1 to clear */
		else if (off < 4)
			pm->en = (uint16_t)((pm->en & ~mask) | b);
		else if (off < 6)
			pm->cnt = (uint16_t)((pm->cnt & ~mask) | b);
	}
	if (pm->cnt & ACPI_SLP_EN) {
		unsigned type = (pm->cnt >> 10) & 7;
		pm->cnt &= (uint16_t)~ACPI_SLP_EN; /* SLP_EN reads as 0 */
		if ((type == ACPI_S5_TYPE || type == 0) && pm->poweroff)
			pm->poweroff(pm->opaque);
	}
	pm->cnt |= ACPI_SCI_EN;
	update_sci(pm);
}

void acpi_pm_power_button(struct acpi_pm *pm)
{
	pm->sts |= ACPI_PWRBTN;
	update_sci(pm);
}
