/* libFuzzer target: the devices firmware talks to (fw_cfg with its DMA
 * accesses, the CMOS, and the UEFI variable store's flash), driven by a
 * guest that the input is: a series of port accesses of 1, 2 or 4 bytes
 * over guest memory the input fills, and of flash accesses of 1 to 8
 * bytes at any address near the chip.
 * Nothing may crash, hang or touch memory outside "RAM". */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "vmm/cmos.h"
#include "vmm/fwcfg.h"
#include "vmm/pflash.h"
#include "vmm/portio.h"

#include <sys/mman.h>
#include <unistd.h>

#define RAM	  (64u << 10)
#define FLASH	  (4 * PFLASH_BLOCK)
#define FLASH_GPA 0xffc00000ull

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static uint8_t *ram;
	static int flash_fd = -1;
	if (!ram && !(ram = malloc(RAM)))
		abort();
	if (flash_fd < 0 &&
	    ((flash_fd = memfd_create("flash", 0)) < 0 || ftruncate(flash_fd, FLASH) < 0))
		abort();
	struct pflash flash;
	if (pflash_init(&flash, flash_fd, FLASH, FLASH_GPA) < 0)
		abort();
	/* byte 0: how many of the next bytes are RAM's start (DMA accesses,
	 * their data), in 8-byte units */
	if (size < 1)
		return 0;
	size_t fill = (size_t)data[0] * 8 < size - 1 ? (size_t)data[0] * 8 : size - 1;
	memset(ram, 0, RAM);
	memcpy(ram, data + 1, fill);
	fill++;
	struct gmem mem = {.host = ram, .size = RAM, .low = RAM};
	struct fwcfg f;
	struct cmos c;
	struct portio_table ports = {0};
	static const uint8_t file[300] = {1, 2, 3};
	if (fwcfg_init(&f, &mem) < 0 || fwcfg_add_file(&f, "etc/a", file, sizeof(file)) < 0 ||
	    fwcfg_add_file(&f, "etc/b", file, 1) < 0)
		abort();
	cmos_init(&c);
	cmos_set_memory(&c, RAM, 0, 1);
	if (portio_register(&ports, FWCFG_PORT_SEL, FWCFG_PORTS, fwcfg_io, &f) < 0 ||
	    portio_register(&ports, CMOS_PORT_INDEX, 2, cmos_io, &c) < 0)
		abort();
	/* then 6 bytes per access: port (offset into the two ranges), size,
	 * direction, value */
	for (size_t i = fill; i + 6 <= size; i += 6) {
		static const uint16_t bases[] = {FWCFG_PORT_SEL, CMOS_PORT_INDEX};
		uint8_t buf[8];
		memcpy(buf, data + i + 2, 4);
		if ((data[i] & 3) == 3) { /* the flash: an address around it from the value */
			uint64_t addr =
			    FLASH_GPA - 8 + (((uint32_t)buf[1] << 8 | buf[2]) % (FLASH + 16));
			pflash_mmio(&flash, addr, 1 + data[i + 1] % 8, data[i + 1] & 0x80, buf);
			continue;
		}
		uint16_t port = (uint16_t)(bases[data[i] & 1] + (data[i] >> 1) % FWCFG_PORTS);
		unsigned len = 1u << (data[i + 1] % 3);
		portio_dispatch(&ports, port, len, data[i + 1] & 0x80, buf);
	}
	pflash_free(&flash);
	fwcfg_free(&f);
	return 0;
}
