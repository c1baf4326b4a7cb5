/* libFuzzer target: the virtio-blk request parser and executor on a chain
 * of buffers whose number, sizes, direction and contents come from the
 * input, as a hostile driver would lay them out. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "vmm/blk.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct blk_disk disk = {.fd = -1, .sectors = 64};
	static struct virtq_elem e;
	static uint8_t buf[16 << 10];
	if (disk.fd < 0) {
		disk.fd = memfd_create("disk", 0);
		if (disk.fd < 0 || ftruncate(disk.fd, 64 * 512) < 0)
			abort();
	}
	if (size < 1)
		return 0;
	/* byte 0: segment count (and read-only flag); then per segment a
	 * direction+length pair; the rest fills the buffers */
	unsigned nseg = data[0] % 16;
	disk.readonly = data[0] & 0x80;
	size_t pos = 1, used = 0;
	e.nout = e.nin = 0;
	for (unsigned i = 0; i < nseg && pos + 2 <= size; i++, pos += 2) {
		size_t len = ((size_t)data[pos + 1] << 4) % 2048;
		if (used + len > sizeof(buf))
			break;
		struct iovec v = {buf + used, len};
		if (data[pos] & 1)
			e.in[e.nin++] = v;
		else if (!e.nin)
			e.out[e.nout++] = v;
		used += len;
	}
	memset(buf, 0, sizeof(buf));
	memcpy(buf, data + pos, size - pos < sizeof(buf) ? size - pos : sizeof(buf));
	struct blk_req r;
	uint32_t written = 0;
	if (blk_parse(&disk, &e, &r) == 0)
		blk_execute(&disk, &r, &written);
	return 0;
}
