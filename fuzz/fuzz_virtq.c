/* libFuzzer target: the virtqueue chain walker, then the virtio-blk parser
 * and executor, over guest memory and rings that the input fills in full.
 * Nothing the input says may crash, hang or touch memory outside "RAM". */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "vmm/blk.h"
#include "vmm/virtq.h"

#define RAM (64u << 10)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static uint8_t *ram;
	static struct blk_disk disk = {.fd = -1, .sectors = 64};
	static struct virtq_elem e;
	if (!ram) {
		ram = malloc(RAM);
		disk.fd = memfd_create("disk", 0);
		if (!ram || disk.fd < 0 || ftruncate(disk.fd, 64 * 512) < 0)
			abort();
	}
	if (size < 2)
		return 0;
	/* byte 0: queue size (a power of two), byte 1: read-only flag and
	 * VIRTIO_F_RING_EVENT_IDX */
	struct virtq q;
	virtq_reset(&q);
	q.size = (uint16_t)(1u << (data[0] % 9));
	disk.readonly = data[1] & 1;
	q.event_idx = data[1] & 2;
	memset(ram, 0, RAM);
	memcpy(ram, data + 2, size - 2 < RAM ? size - 2 : RAM);
	struct gmem mem = {.host = ram, .size = RAM, .low = RAM};
	q.desc_gpa = 0x1000;
	q.avail_gpa = 0x2000;
	q.used_gpa = 0x3000;
	if (virtq_enable(&q, &mem, 256) < 0)
		return 0;
	for (int i = 0; i < 512 && virtq_pop(&q, &mem, &e) == 1; i++) {
		struct blk_req r;
		uint32_t written = 0;
		if (blk_parse(&disk, &e, &r) == 0)
			blk_execute(&disk, &r, &written);
		virtq_push(&q, e.head, written);
		virtq_should_notify(&q);
	}
	return 0;
}
