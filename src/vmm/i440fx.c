#include "vmm/i440fx.h"

#include <string.h>

#include "vmm/acpi.h"
#include "vmm/bytes.h"

#define PIIX4_PMBA 0x40

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
	put32(c->pm + PIIX4_PMBA, ACPI_PM1_EVT | 1); /* bit 0: I/O space, reads 1 */
}

bool i440fx_config(struct i440fx *c, unsigned slot, unsigned fn, unsigned off, unsigned size,
		   bool write, uint8_t *data)
{
	uint8_t *cfg = slot == 0 && fn == 0			      ? c->host
		       : slot == I440FX_PM_SLOT && fn == I440FX_PM_FN ? c->pm
								      : NULL;
	if (!cfg || off >= 256 || size > 256 - off)
		return false;
	if (!write) {
		memcpy(data, cfg + off, size);
		return true;
	}
	for (unsigned i = 0; i < size; i++)
		if (off + i >= 0x10) /* the identity, class and header type are the chip's */
			cfg[off + i] = data[i];
		else if (off + i == 0x04 || off + i == 0x05) /* command */
			cfg[off + i] = data[i];
	c->pm[PIIX4_PMBA] |= 1;
	return true;
}
