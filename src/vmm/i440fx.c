#include "vmm/i440fx.h"

#include <string.h>

#include "vmm/acpi.h"
#include "vmm/bytes.h"

#define PIIX4_PMBA	0x40
#define PIIX4_PMREGMISC 0x80 /* bit 0: the PMBA's I/O space is on */

static void identity(uint8_t *cfg, uint16_t device, uint32_t class_rev)
{
	memset(cfg, 0, 256);
	put16(cfg + 0x00, 0x8086);
	put16(cfg + 0x02, device);
	put32(cfg + 0x08, class_rev);
}

void i440fx_init(struct i440fx *c)
{
	identity(c->host, 0x1237, 0x06000002);	     /* host bridge, revision 2 */
	identity(c->pm, 0x7113, 0x06800003);	     /* other bridge, revision 3 */
	identity(c->isa, 0x7000, 0x06010000);	     /* ISA bridge */
	put32(c->pm + PIIX4_PMBA, ACPI_PM1_EVT | 1); /* bit 0: I/O space, reads 1 */
}

bool i440fx_config(struct i440fx *c, unsigned slot, unsigned fn, unsigned off, unsigned size,
		   bool write, uint8_t *data)
{
	uint8_t *cfg = slot == 0 && fn == 0			      ? c->host
		       : slot == I440FX_PM_SLOT && fn == I440FX_PM_FN ? c->pm
		       : slot == I440FX_ISA_SLOT && fn == 0	      ? c->isa
								      : NULL;
	if (!cfg || off >= 256 || size > 256 - off)
		return false;
	if (!write) {
		memcpy(data, cfg + off, size);
		return true;
	}
	/* the command, cache line size, latency timer, interrupt line and the
	 * chip's own registers keep what is written; the identity, class,
	 * header type and the BARs (it has none: they read as zero) do not */
	for (unsigned i = 0; i < size; i++) {
		unsigned o = off + i;
		if (o == 0x04 || o == 0x05 || o == 0x0c || o == 0x0d || o == 0x3c || o >= 0x40)
			cfg[o] = data[i];
	}
	c->pm[PIIX4_PMBA] |= 1;
	return true;
}

uint16_t i440fx_pm_base(const struct i440fx *c)
{
	if (!(c->pm[PIIX4_PMREGMISC] & 1))
		return 0;
	return (uint16_t)((c->pm[PIIX4_PMBA] | c->pm[PIIX4_PMBA + 1] << 8) & 0xffc0);
}
