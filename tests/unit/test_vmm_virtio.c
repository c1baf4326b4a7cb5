#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include "vmm/blk.h"
#include "vmm/virtio_net.h"
#include "vmm/virtq.h"

/* A small guest: 1 MiB of RAM, the rings at fixed places, buffers above. */
#define RAM   (1u << 20)
#define QSIZE 8
#define DESC  0x1000
#define AVAIL 0x2000
#define USED  0x3000
#define BUF   0x10000

struct desc {
	uint64_t addr;
	uint32_t len;
	uint16_t flags, next;
};

static uint8_t *ram;
static struct gmem mem;
static struct virtq q;
static struct virtq_elem e;

static struct desc *desc(unsigned i)
{
	return (struct desc *)(void *)(ram + DESC) + i;
}

static uint16_t *avail_idx(void)
{
	return (uint16_t *)(void *)(ram + AVAIL + 2);
}

static void publish(uint16_t head)
{
	uint16_t *ring = (uint16_t *)(void *)(ram + AVAIL + 4);
	ring[*avail_idx() % QSIZE] = head;
	(*avail_idx())++;
}

static void set_desc(unsigned i, uint64_t addr, uint32_t len, uint16_t flags, uint16_t next)
{
	*desc(i) = (struct desc){addr, len, flags, next};
}

static int setup(void **state)
{
	(void)state;
	ram = calloc(1, RAM);
	mem = (struct gmem){.host = ram, .size = RAM, .low = RAM};
	virtq_reset(&q);
	q.size = QSIZE;
	q.desc_gpa = DESC;
	q.avail_gpa = AVAIL;
	q.used_gpa = USED;
	return ram && virtq_enable(&q, &mem, 256) == 0 ? 0 : -1;
}

static int teardown(void **state)
{
	(void)state;
	free(ram);
	return 0;
}

static void test_gmem(void **state)
{
	(void)state;
	struct gmem m = {.host = ram, .size = RAM, .low = RAM / 2};
	assert_ptr_equal(gmem_ptr(&m, 0, RAM / 2), ram);
	assert_null(gmem_ptr(&m, 0, RAM / 2 + 1));
	assert_null(gmem_ptr(&m, RAM / 2, 1)); /* the hole */
	assert_ptr_equal(gmem_ptr(&m, 0x100000000ull, 16), ram + RAM / 2);
	assert_ptr_equal(gmem_ptr(&m, 0x100000000ull + RAM / 2 - 1, 1), ram + RAM - 1);
	assert_null(gmem_ptr(&m, 0x100000000ull + RAM / 2 - 1, 2));
	assert_null(gmem_ptr(&m, UINT64_MAX - 4, 8)); /* no wrap-around */
	assert_null(gmem_ptr(&m, 16, UINT64_MAX));
}

static void test_enable_checks(void **state)
{
	(void)state;
	struct virtq t;
	virtq_reset(&t);
	t.size = 6; /* not a power of two */
	t.desc_gpa = DESC;
	t.avail_gpa = AVAIL;
	t.used_gpa = USED;
	assert_int_equal(virtq_enable(&t, &mem, 256), -1);
	t.size = 512; /* above the device's maximum */
	assert_int_equal(virtq_enable(&t, &mem, 256), -1);
	t.size = 8;
	t.desc_gpa = DESC + 8; /* misaligned */
	assert_int_equal(virtq_enable(&t, &mem, 256), -1);
	t.desc_gpa = RAM - 64; /* runs past memory */
	assert_int_equal(virtq_enable(&t, &mem, 256), -1);
	assert_false(t.ready);
	t.desc_gpa = DESC;
	assert_int_equal(virtq_enable(&t, &mem, 256), 0);
	assert_true(t.ready);
}

static void test_chain(void **state)
{
	(void)state;
	assert_int_equal(virtq_pop(&q, &mem, &e), 0); /* nothing yet */
	set_desc(3, BUF, 16, 1, 5);
	set_desc(5, BUF + 0x100, 512, 1 | 2, 1);
	set_desc(1, BUF + 0x400, 1, 2, 0);
	publish(3);
	assert_int_equal(virtq_pop(&q, &mem, &e), 1);
	assert_int_equal(e.head, 3);
	assert_int_equal(e.nout, 1);
	assert_int_equal(e.nin, 2);
	assert_ptr_equal(e.out[0].iov_base, ram + BUF);
	assert_int_equal(e.in[0].iov_len, 512);
	assert_ptr_equal(e.in[1].iov_base, ram + BUF + 0x400);
	assert_int_equal(virtq_pop(&q, &mem, &e), 0);

	virtq_push(&q, 3, 513);
	uint16_t used_idx;
	memcpy(&used_idx, ram + USED + 2, 2);
	assert_int_equal(used_idx, 1);
	uint32_t id, len;
	memcpy(&id, ram + USED + 4, 4);
	memcpy(&len, ram + USED + 8, 4);
	assert_int_equal(id, 3);
	assert_int_equal(len, 513);
	/* the guest scribbling on the used index does not move ours */
	memset(ram + USED + 2, 0x7f, 2);
	virtq_push(&q, 3, 1);
	memcpy(&id, ram + USED + 4 + 8, 4);
	assert_int_equal(id, 3);
	memcpy(&used_idx, ram + USED + 2, 2);
	assert_int_equal(used_idx, 2);
}

static uint16_t used_idx(void)
{
	uint16_t v;
	memcpy(&v, ram + USED + 2, 2);
	return v;
}

static void expect_used(unsigned k, uint32_t id, uint32_t len)
{
	uint32_t got[2];
	memcpy(got, ram + USED + 4 + 8 * (k % QSIZE), 8);
	assert_int_equal(got[0], id);
	assert_int_equal(got[1], len);
}

static void test_unpop_fill_flush(void **state)
{
	(void)state;
	for (uint16_t i = 0; i < 3; i++) {
		set_desc(i, BUF + 0x100 * i, 16, 2, 0);
		publish(i);
	}
	assert_int_equal(virtq_pop(&q, &mem, &e), 1);
	assert_int_equal(virtq_pop(&q, &mem, &e), 1);
	virtq_unpop(&q, 2); /* both go back, in order */
	assert_true(virtq_has_avail(&q));
	for (uint16_t i = 0; i < 3; i++) {
		assert_int_equal(virtq_pop(&q, &mem, &e), 1);
		assert_int_equal(e.head, i);
	}
	assert_false(virtq_has_avail(&q));
	virtq_fill(&q, 0, 16);
	virtq_fill(&q, 1, 16);
	virtq_fill(&q, 2, 5);
	assert_int_equal(used_idx(), 0); /* written, not shown yet */
	expect_used(2, 2, 5);
	virtq_flush(&q);
	assert_int_equal(used_idx(), 3); /* all three at once */
	expect_used(0, 0, 16);
}

/* avail_event (after the used ring) and used_event (after the available
 * ring), as the driver sees them */
static uint16_t avail_event(void)
{
	uint16_t v;
	memcpy(&v, ram + USED + 4 + 8 * QSIZE, 2);
	return v;
}

static void set_used_event(uint16_t v)
{
	memcpy(ram + AVAIL + 4 + 2 * QSIZE, &v, 2);
}

static void test_event_idx(void **state)
{
	(void)state;
	q.event_idx = true;
	memset(ram + USED + 4 + 8 * QSIZE, 0xee, 2);
	for (uint16_t i = 0; i < 4; i++)
		set_desc(i, BUF + 0x100 * i, 16, 2, 0);
	publish(0);
	publish(1);
	/* while chains are there to take, avail_event is left alone: a driver
	 * adding more while the device works does not notify */
	assert_int_equal(virtq_pop(&q, &mem, &e), 1);
	assert_int_equal(avail_event(), 0xeeee);
	assert_int_equal(virtq_pop(&q, &mem, &e), 1);
	/* found empty: the driver is asked to notify for the next one */
	assert_int_equal(virtq_pop(&q, &mem, &e), 0);
	assert_int_equal(avail_event(), 2);
	publish(2);
	assert_true(virtq_has_avail(&q));
	assert_int_equal(virtq_pop(&q, &mem, &e), 1);
	assert_false(virtq_has_avail(&q));
	assert_int_equal(avail_event(), 3);

	/* interrupts: only once the entry used_event names is used; the
	 * AVAIL_F_NO_INTERRUPT flag is ignored */
	memset(ram + AVAIL, 1, 1);
	set_used_event(1);
	virtq_push(&q, 0, 16); /* used 0 */
	assert_false(virtq_should_notify(&q));
	virtq_push(&q, 1, 16); /* used 1: the one asked for */
	assert_true(virtq_should_notify(&q));
	virtq_push(&q, 2, 16); /* used 2: the driver has not asked again */
	assert_false(virtq_should_notify(&q));
	set_used_event(2); /* it asks for 2, already used but not signalled */
	assert_false(virtq_should_notify(&q));
	set_used_event(3);
	virtq_fill(&q, 3, 16);
	virtq_fill(&q, 0, 16);
	virtq_flush(&q); /* 3 and 4 at once: 3 among them */
	assert_true(virtq_should_notify(&q));

	/* without event_idx the flag rules, and avail_event is not written */
	q.event_idx = false;
	memset(ram + USED + 4 + 8 * QSIZE, 0xee, 2);
	assert_int_equal(virtq_pop(&q, &mem, &e), 0);
	assert_int_equal(avail_event(), 0xeeee);
	assert_false(virtq_should_notify(&q));
	memset(ram + AVAIL, 0, 1);
	assert_true(virtq_should_notify(&q));
}

static void expect_broken(void)
{
	assert_int_equal(virtq_pop(&q, &mem, &e), -1);
	assert_true(q.broken);
	assert_int_equal(virtq_pop(&q, &mem, &e), 0); /* stays off until reset */
}

static void test_loop(void **state)
{
	(void)state;
	set_desc(0, BUF, 16, 1, 1);
	set_desc(1, BUF, 16, 1, 0); /* back to 0: a loop */
	publish(0);
	expect_broken();
}

static void test_bad_next_and_head(void **state)
{
	(void)state;
	set_desc(0, BUF, 16, 1, QSIZE); /* next out of the table */
	publish(0);
	expect_broken();
	teardown(NULL);
	setup(NULL);
	publish(QSIZE + 3); /* head out of the table */
	expect_broken();
}

static void test_outside_memory(void **state)
{
	(void)state;
	set_desc(0, RAM - 8, 16, 0, 0);
	publish(0);
	expect_broken();
	teardown(NULL);
	setup(NULL);
	set_desc(0, UINT64_MAX - 7, 16, 0, 0);
	publish(0);
	expect_broken();
}

static void test_readable_after_writable(void **state)
{
	(void)state;
	set_desc(0, BUF, 16, 1 | 2, 1);
	set_desc(1, BUF + 16, 16, 0, 0);
	publish(0);
	expect_broken();
}

static void test_avail_index_jump(void **state)
{
	(void)state;
	*avail_idx() = QSIZE + 1; /* claims more than the ring holds */
	expect_broken();
}

static void test_indirect_refused(void **state)
{
	(void)state;
	set_desc(0, BUF, 16, 4, 0);
	publish(0);
	expect_broken();
}

static void test_iov_copy(void **state)
{
	(void)state;
	uint8_t a[3] = {1, 2, 3}, b[4] = {4, 5, 6, 7}, out[5];
	struct iovec iov[2] = {{a, 3}, {b, 4}};
	assert_int_equal(iov_size(iov, 2), 7);
	assert_int_equal(iov_to_buf(iov, 2, 2, out, 5), 5);
	assert_memory_equal(out, ((uint8_t[]){3, 4, 5, 6, 7}), 5);
	assert_int_equal(iov_to_buf(iov, 2, 6, out, 5), 1);
	assert_int_equal(iov_from_buf(iov, 2, 1, "xyz", 3), 3);
	assert_memory_equal(a, "\x01xy", 3);
	assert_int_equal(b[0], 'z');
}

/* --- virtio-blk */

static struct blk_disk disk;

static int blk_setup(void **state)
{
	setup(state);
	char path[] = "/tmp/keel-blk-test-XXXXXX";
	disk.fd = mkstemp(path);
	unlink(path);
	disk.sectors = 16;
	disk.readonly = false;
	memcpy(disk.id, "serial-1234", 11);
	return disk.fd >= 0 && ftruncate(disk.fd, 16 * 512) == 0 ? 0 : -1;
}

static int blk_teardown(void **state)
{
	close(disk.fd);
	return teardown(state);
}

/* A request chain: header, one data buffer (out or in), status. */
static int request(uint32_t type, uint64_t sector, uint32_t len, bool data_in, struct blk_req *r)
{
	struct {
		uint32_t type, reserved;
		uint64_t sector;
	} h = {type, 0, sector};
	memcpy(ram + BUF, &h, sizeof(h));
	unsigned n = 0;
	set_desc(n, BUF, sizeof(h), 1, (uint16_t)(n + 1));
	n++;
	if (len) {
		set_desc(n, BUF + 0x1000, len, (uint16_t)(1 | (data_in ? 2 : 0)),
			 (uint16_t)(n + 1));
		n++;
	}
	set_desc(n, BUF + 0x100, 1, 2, 0);
	publish(0);
	assert_int_equal(virtq_pop(&q, &mem, &e), 1);
	return blk_parse(&disk, &e, r);
}

static void test_blk_write_read(void **state)
{
	(void)state;
	struct blk_req r;
	uint32_t written;
	memset(ram + BUF + 0x1000, 0x5a, 1024);
	assert_int_equal(request(BLK_T_OUT, 3, 1024, false, &r), 0);
	assert_int_equal(r.early, BLK_S_OK);
	assert_int_equal(blk_execute(&disk, &r, &written), BLK_S_OK);
	assert_int_equal(written, 1); /* just the status */
	assert_int_equal(ram[BUF + 0x100], BLK_S_OK);
	uint8_t back[1024];
	assert_int_equal(pread(disk.fd, back, sizeof(back), 3 * 512), (ssize_t)sizeof(back));
	assert_memory_equal(back, ram + BUF + 0x1000, 1024); /* the bytes reached the file */

	memset(ram + BUF + 0x1000, 0, 1024);
	assert_int_equal(request(BLK_T_IN, 3, 512, true, &r), 0);
	assert_int_equal(blk_execute(&disk, &r, &written), BLK_S_OK);
	assert_int_equal(written, 513);
	assert_int_equal(ram[BUF + 0x1000], 0x5a);
	assert_int_equal(ram[BUF + 0x1000 + 511], 0x5a);

	assert_int_equal(request(BLK_T_FLUSH, 0, 0, false, &r), 0);
	assert_int_equal(blk_execute(&disk, &r, &written), BLK_S_OK);

	assert_int_equal(request(BLK_T_GET_ID, 0, 20, true, &r), 0);
	assert_int_equal(blk_execute(&disk, &r, &written), BLK_S_OK);
	assert_memory_equal(ram + BUF + 0x1000, "serial-1234", 11);
}

static void expect_status(uint32_t type, uint64_t sector, uint32_t len, bool in, uint8_t status)
{
	struct blk_req r;
	uint32_t written;
	ram[BUF + 0x100] = 0xee;
	assert_int_equal(request(type, sector, len, in, &r), 0);
	assert_int_equal(blk_execute(&disk, &r, &written), status);
	assert_int_equal(ram[BUF + 0x100], status);
}

static void test_blk_refusals(void **state)
{
	(void)state;
	expect_status(BLK_T_IN, 16, 512, true, BLK_S_IOERR);  /* past the end */
	expect_status(BLK_T_IN, 15, 1024, true, BLK_S_IOERR); /* runs past the end */
	expect_status(BLK_T_OUT, UINT64_MAX, 512, false, BLK_S_IOERR);
	expect_status(BLK_T_OUT, 0, 100, false, BLK_S_IOERR); /* not whole sectors */
	expect_status(99, 0, 0, false, BLK_S_UNSUPP);
	expect_status(BLK_T_DISCARD, 0, 0, false, BLK_S_IOERR); /* no segments */
	disk.readonly = true;
	expect_status(BLK_T_OUT, 0, 512, false, BLK_S_IOERR);
	expect_status(BLK_T_IN, 0, 512, true, BLK_S_OK);
	disk.readonly = false;

	/* no status byte, or no header: not a request */
	struct blk_req r;
	set_desc(0, BUF, 16, 0, 0);
	publish(0);
	assert_int_equal(virtq_pop(&q, &mem, &e), 1);
	assert_int_equal(blk_parse(&disk, &e, &r), -1);
	set_desc(0, BUF, 8, 1, 1);
	set_desc(1, BUF + 0x100, 1, 2, 0);
	publish(0);
	assert_int_equal(virtq_pop(&q, &mem, &e), 1);
	assert_int_equal(blk_parse(&disk, &e, &r), -1);
}

static void test_blk_discard(void **state)
{
	(void)state;
	struct {
		uint64_t sector;
		uint32_t num, flags;
	} seg = {2, 2, 0};
	uint8_t ones[1024];
	memset(ones, 1, sizeof(ones));
	assert_int_equal(pwrite(disk.fd, ones, sizeof(ones), 2 * 512), (ssize_t)sizeof(ones));
	memcpy(ram + BUF + 0x1000, &seg, sizeof(seg));
	expect_status(BLK_T_DISCARD, 0, sizeof(seg), false, BLK_S_OK);
	uint8_t back[1024];
	assert_int_equal(pread(disk.fd, back, sizeof(back), 2 * 512), (ssize_t)sizeof(back));
	assert_memory_equal(back, (uint8_t[1024]){0}, sizeof(back)); /* a hole now */
	seg.sector = 15;
	memcpy(ram + BUF + 0x1000, &seg, sizeof(seg));
	expect_status(BLK_T_DISCARD, 0, sizeof(seg), false, BLK_S_IOERR); /* past the end */
}

/* --- virtio-net, on a socket pair standing in for the TAP (one message
 * per frame, after its virtio-net header, as a TAP with IFF_VNET_HDR reads
 * and writes). The transport is stubbed: the tests see what the device
 * asks of it. */
#define NET_F_CSUM	 (1u << 0)
#define NET_F_GUEST_CSUM (1u << 1)
#define NET_F_MTU	 (1u << 3)
#define NET_F_HOST_TSO4	 (1u << 11)
#define NET_F_MRG_RXBUF	 (1u << 15)
#define NET_BACKEND	 2 /* process() for the TAP: queue index nqueues */
#define RXBUF(i)	 (BUF + 0x4000u * (i))

static struct vnet *net;
static int peer; /* the network's end */
static unsigned notified;
static int polling;
static uint8_t frame[VNET_FRAME_MAX + 1];

void vpci_notify_queue(struct vpci_dev *dev, unsigned qi)
{
	(void)dev;
	notified |= 1u << qi;
}

void vpci_poll_backend(struct vpci_dev *dev, bool on)
{
	(void)dev;
	polling = on;
}

/* virtio_net.c's `create` plugs into a bus; these tests attach by hand */
int vpci_add(struct pci_bus *bus, struct vpci_dev *dev, const struct gmem *mem, int vmfd)
{
	(void)bus;
	(void)dev;
	(void)mem;
	(void)vmfd;
	return -1;
}

static int net_setup(void **state)
{
	if (setup(state) < 0)
		return -1;
	int sv[2];
	net = calloc(1, sizeof(*net));
	if (!net || socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_NONBLOCK, 0, sv) < 0)
		return -1;
	int big = 1 << 20;
	setsockopt(sv[1], SOL_SOCKET, SO_SNDBUF, &big, sizeof(big));
	setsockopt(sv[0], SOL_SOCKET, SO_SNDBUF, &big, sizeof(big));
	vnet_attach(net, sv[0], "tap-test", (const uint8_t[6]){0x52, 0x54, 0, 1, 2, 3}, 9000);
	net->pci.mem = &mem;
	net->pci.driver_features = VIRTIO_F_VERSION_1 | NET_F_MRG_RXBUF;
	net->pci.queues[0] = q; /* each test uses one of the queues on the test's rings */
	net->pci.queues[1] = q;
	peer = sv[1];
	notified = 0;
	polling = -1;
	for (size_t i = 0; i < sizeof(frame); i++)
		frame[i] = (uint8_t)(i * 7 + i / 251);
	return 0;
}

static int net_teardown(void **state)
{
	close(net->tap);
	close(peer);
	free(net);
	return teardown(state);
}

static void give_rx(uint16_t i, uint32_t len)
{
	set_desc(i, RXBUF(i), len, 2, 0);
	publish(i);
}

/* The TAP delivers a frame with this header (flags, gso_type, ...). */
static void send_frame_with(const uint8_t *hdr, size_t len)
{
	struct iovec iov[2] = {{(void *)hdr, VNET_HDR}, {frame, len}};
	assert_int_equal(writev(peer, iov, 2), (ssize_t)(VNET_HDR + len));
}

static void send_frame(size_t len)
{
	send_frame_with((const uint8_t[VNET_HDR]){0}, len);
}

/* The header at the start of buffer 0 says num_buffers, the rest is 0. */
static void expect_header(uint16_t num_buffers)
{
	uint8_t h[VNET_HDR] = {0};
	memcpy(h + 10, &num_buffers, 2);
	assert_memory_equal(ram + RXBUF(0), h, VNET_HDR);
}

static void test_net_config(void **state)
{
	(void)state;
	assert_true(net->pci.features & NET_F_MTU);
	assert_true(net->pci.features & NET_F_MRG_RXBUF);
	assert_int_equal(net->pci.devcfg_len, 12);
	uint16_t mtu;
	memcpy(&mtu, net->config + 10, 2);
	assert_int_equal(mtu, 9000);
	assert_memory_equal(net->config, ((uint8_t[]){0x52, 0x54, 0, 1, 2, 3, 1, 0}), 8);
	struct vnet *other = calloc(1, sizeof(*other));
	assert_non_null(other);
	vnet_attach(other, -1, "t", net->config, 0);
	assert_false(other->pci.features & NET_F_MTU); /* no mtu: not offered */
	assert_memory_equal(other->config + 10, "\0", 2);
	free(other);
}

/* A jumbo frame over three mergeable buffers, given in two goes: while
 * only two are there, none is used and the frame waits in the device. */
static void test_net_rx_merge_waits_for_room(void **state)
{
	(void)state;
	struct virtq *rq = &net->pci.queues[0];
	give_rx(0, 4096);
	give_rx(1, 4096);
	send_frame(9000);
	net->pci.process(&net->pci, NET_BACKEND);
	assert_int_equal(used_idx(), 0);
	assert_int_equal(polling, 0); /* waits for the guest, not the TAP */
	assert_int_equal(notified, 0);
	assert_int_equal(net->rx_len, VNET_HDR + 9000); /* read, and kept */
	assert_int_equal(rq->last_avail, 0);		/* both buffers back */
	assert_int_equal(recv(net->tap, frame + 9000, 1, MSG_PEEK), -1);

	give_rx(2, 4096);
	net->pci.process(&net->pci, 0); /* the guest's notification */
	assert_int_equal(used_idx(), 3);
	expect_used(0, 0, 4096);
	expect_used(1, 1, 4096);
	expect_used(2, 2, VNET_HDR + 9000 - 8192);
	expect_header(3);
	assert_memory_equal(ram + RXBUF(0) + VNET_HDR, frame, 4096 - VNET_HDR);
	assert_memory_equal(ram + RXBUF(1), frame + 4096 - VNET_HDR, 4096);
	assert_memory_equal(ram + RXBUF(2), frame + 8192 - VNET_HDR, 9000 - 8192 + VNET_HDR);
	assert_int_equal(notified, 1u << 0);
	assert_int_equal(net->rx_len, 0);
	assert_int_equal(net->drops, 0);
}

/* No buffer at all: the frame is not even read from the TAP. */
static void test_net_rx_no_buffers(void **state)
{
	(void)state;
	send_frame(60);
	net->pci.process(&net->pci, NET_BACKEND);
	assert_int_equal(polling, 0);
	assert_int_equal(net->rx_len, 0);
	assert_int_equal(recv(net->tap, frame + 60, 100, MSG_PEEK), VNET_HDR + 60);
	give_rx(0, 1526);
	net->pci.process(&net->pci, 0);
	assert_int_equal(used_idx(), 1);
	expect_used(0, 0, VNET_HDR + 60);
	expect_header(1);
	assert_int_equal(polling, 0); /* the only buffer is used */
}

/* A frame larger than the whole ring's buffers can never be delivered: it
 * is dropped without using any, and the next one goes through. */
static void test_net_rx_never_fits(void **state)
{
	(void)state;
	for (uint16_t i = 0; i < QSIZE; i++)
		give_rx(i, 64);
	send_frame(9000);
	send_frame(100);
	net->pci.process(&net->pci, NET_BACKEND);
	assert_int_equal(net->drops, 1);
	assert_int_equal(used_idx(), 2);
	expect_used(0, 0, 64);
	expect_used(1, 1, VNET_HDR + 100 - 64);
	expect_header(2);
	assert_memory_equal(ram + RXBUF(1), frame + 64 - VNET_HDR, VNET_HDR + 100 - 64);
	assert_int_equal(polling, 1); /* buffers left, the TAP is empty */
}

/* Without MRG_RXBUF a frame goes in one chain or not at all: never cut. */
static void test_net_rx_no_merge_drops_oversize(void **state)
{
	(void)state;
	net->pci.driver_features = VIRTIO_F_VERSION_1;
	give_rx(0, 1526);
	send_frame(9000);
	send_frame(1514);
	net->pci.process(&net->pci, NET_BACKEND);
	assert_int_equal(net->drops, 1);
	assert_int_equal(used_idx(), 1);
	expect_used(0, 0, VNET_HDR + 1514);
	expect_header(1);
	assert_memory_equal(ram + RXBUF(0) + VNET_HDR, frame, 1514);
	/* a chain of several buffers holds a big frame */
	set_desc(1, RXBUF(1), 4096, 2 | 1, 2);
	set_desc(2, RXBUF(2), 4096, 2 | 1, 3);
	set_desc(3, RXBUF(3), 4096, 2, 0);
	publish(1);
	send_frame(9000);
	net->pci.process(&net->pci, NET_BACKEND);
	assert_int_equal(used_idx(), 2);
	expect_used(1, 1, VNET_HDR + 9000);
	assert_memory_equal(ram + RXBUF(1) + VNET_HDR, frame, 4096 - VNET_HDR);
	assert_memory_equal(ram + RXBUF(3), frame + 8192 - VNET_HDR, 9000 - 8192 + VNET_HDR);
	assert_int_equal(net->drops, 1);
}

/* The largest frame passes; one byte more is dropped, never cut short. */
static void test_net_rx_largest(void **state)
{
	(void)state;
	net->pci.driver_features = VIRTIO_F_VERSION_1;
	give_rx(0, VNET_HDR + VNET_FRAME_MAX + 100);
	send_frame(VNET_FRAME_MAX + 1);
	send_frame(VNET_FRAME_MAX);
	net->pci.process(&net->pci, NET_BACKEND);
	assert_int_equal(net->drops, 1);
	assert_int_equal(used_idx(), 1);
	expect_used(0, 0, VNET_HDR + VNET_FRAME_MAX);
	assert_memory_equal(ram + RXBUF(0) + VNET_HDR, frame, VNET_FRAME_MAX);
}

/* Hostile receive chains: buffers with no room, then one outside memory. */
static void test_net_rx_hostile(void **state)
{
	(void)state;
	for (uint16_t i = 0; i < QSIZE; i++) {
		set_desc(i, RXBUF(0), 0, 2, 0);
		publish(i);
	}
	send_frame(60);
	net->pci.process(&net->pci, NET_BACKEND);
	assert_int_equal(net->drops, 1);
	assert_int_equal(used_idx(), 0);
	teardown(NULL);
	setup(NULL);
	net->pci.queues[0] = q;
	set_desc(0, RAM - 8, 64, 2, 0);
	publish(0);
	send_frame(60);
	net->pci.process(&net->pci, NET_BACKEND);
	assert_true(net->pci.queues[0].broken);
	assert_int_equal(used_idx(), 0);
	assert_int_equal(polling, 0);
	net->pci.process(&net->pci, NET_BACKEND); /* nothing more happens */
	assert_int_equal(used_idx(), 0);
}

/* The guest sends a frame with this header. */
static void tx_chain_with(const uint8_t *hdr, size_t len)
{
	memcpy(ram + BUF, hdr, VNET_HDR);
	memcpy(ram + BUF + 0x1000, frame, len);
	size_t half = len / 2;
	set_desc(0, BUF, VNET_HDR, 1, 1);
	set_desc(1, BUF + 0x1000, (uint32_t)half, 1, 2);
	set_desc(2, BUF + 0x1000 + half, (uint32_t)(len - half), 0, 0);
	publish(0);
	net->pci.process(&net->pci, 1);
}

static void tx_chain(size_t len)
{
	tx_chain_with((const uint8_t[VNET_HDR]){0}, len);
}

static uint8_t got[VNET_HDR + VNET_FRAME_MAX + 2];

static void test_net_tx(void **state)
{
	(void)state;
	tx_chain(65535);
	assert_int_equal(recv(peer, got, sizeof(got), 0), VNET_HDR + 65535);
	assert_memory_equal(got + VNET_HDR, frame, 65535);
	tx_chain(VNET_FRAME_MAX);
	assert_int_equal(recv(peer, got, sizeof(got), 0), VNET_HDR + VNET_FRAME_MAX);
	assert_memory_equal(got, ((uint8_t[VNET_HDR]){0}), VNET_HDR);
	assert_memory_equal(got + VNET_HDR, frame, VNET_FRAME_MAX);
	tx_chain(VNET_FRAME_MAX + 1); /* too big: dropped, never cut */
	assert_int_equal(recv(peer, got, sizeof(got), 0), -1);
	assert_int_equal(used_idx(), 3);
	expect_used(2, 0, 0);
	assert_int_equal(notified, 1u << 1);
}

/* A TCPv4 segment's header: flags NEEDS_CSUM, gso TCPV4, hdr_len 54,
 * gso_size 1448, checksum from byte 34 stored at 16 past it */
static const uint8_t tso4[VNET_HDR] = {1, 1, 54, 0, 0xa8, 0x05, 34, 0, 16, 0, 0, 0};

/* Headers from the guest reach the TAP only with the offloads it took:
 * a partial checksum with CSUM, a TCPv4 segment with HOST_TSO4. */
static void test_net_tx_offloads(void **state)
{
	(void)state;
	uint8_t h[VNET_HDR];
	net->pci.driver_features = VIRTIO_F_VERSION_1 | NET_F_CSUM | NET_F_HOST_TSO4;
	tx_chain_with(tso4, 9000);
	assert_int_equal(recv(peer, got, sizeof(got), 0), VNET_HDR + 9000);
	assert_memory_equal(got, tso4, VNET_HDR);
	assert_memory_equal(got + VNET_HDR, frame, 9000);
	struct {
		uint8_t flags, gso;
	} refused[] = {
	    {1, 4},    /* TCPv6: not taken */
	    {1, 3},    /* UDP fragmentation: never offered */
	    {1, 0x81}, /* ECN: not taken */
	    {2, 0},    /* DATA_VALID: a receive flag */
	};
	for (size_t i = 0; i < sizeof(refused) / sizeof(refused[0]); i++) {
		memcpy(h, tso4, VNET_HDR);
		h[0] = refused[i].flags;
		h[1] = refused[i].gso;
		tx_chain_with(h, 1000);
		assert_int_equal(recv(peer, got, sizeof(got), 0), -1);
	}
	net->pci.driver_features = VIRTIO_F_VERSION_1; /* no offloads taken */
	memset(h, 0, VNET_HDR);
	h[0] = 1;
	tx_chain_with(h, 1000);
	assert_int_equal(recv(peer, got, sizeof(got), 0), -1);
	h[0] = 0;
	tx_chain_with(h, 1000);
	assert_int_equal(recv(peer, got, sizeof(got), 0), VNET_HDR + 1000);
	assert_int_equal(used_idx(), 7); /* every chain is given back */
}

/* The TAP's header reaches a guest that took GUEST_CSUM as it is (but for
 * num_buffers); one that did not gets no flags. */
static void test_net_rx_header(void **state)
{
	(void)state;
	net->pci.driver_features |= NET_F_GUEST_CSUM;
	give_rx(0, 1526);
	send_frame_with(tso4, 1000);
	net->pci.process(&net->pci, NET_BACKEND);
	expect_used(0, 0, VNET_HDR + 1000);
	uint8_t want[VNET_HDR];
	memcpy(want, tso4, VNET_HDR);
	want[10] = 1; /* num_buffers */
	assert_memory_equal(ram + RXBUF(0), want, VNET_HDR);
	assert_memory_equal(ram + RXBUF(0) + VNET_HDR, frame, 1000);

	net->pci.driver_features &= ~(uint64_t)NET_F_GUEST_CSUM;
	give_rx(1, 1526);
	send_frame_with((const uint8_t[VNET_HDR]){2}, 100); /* DATA_VALID */
	net->pci.process(&net->pci, NET_BACKEND);
	expect_used(1, 1, VNET_HDR + 100);
	assert_int_equal(ram[RXBUF(1)], 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_gmem, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_enable_checks, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_chain, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_unpop_fill_flush, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_event_idx, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_loop, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_bad_next_and_head, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_outside_memory, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_readable_after_writable, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_avail_index_jump, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_indirect_refused, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_iov_copy, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_blk_write_read, blk_setup, blk_teardown),
	    cmocka_unit_test_setup_teardown(test_blk_refusals, blk_setup, blk_teardown),
	    cmocka_unit_test_setup_teardown(test_blk_discard, blk_setup, blk_teardown),
	    cmocka_unit_test_setup_teardown(test_net_config, net_setup, net_teardown),
	    cmocka_unit_test_setup_teardown(test_net_rx_merge_waits_for_room, net_setup,
					    net_teardown),
	    cmocka_unit_test_setup_teardown(test_net_rx_no_buffers, net_setup, net_teardown),
	    cmocka_unit_test_setup_teardown(test_net_rx_never_fits, net_setup, net_teardown),
	    cmocka_unit_test_setup_teardown(test_net_rx_no_merge_drops_oversize, net_setup,
					    net_teardown),
	    cmocka_unit_test_setup_teardown(test_net_rx_largest, net_setup, net_teardown),
	    cmocka_unit_test_setup_teardown(test_net_rx_hostile, net_setup, net_teardown),
	    cmocka_unit_test_setup_teardown(test_net_tx, net_setup, net_teardown),
	    cmocka_unit_test_setup_teardown(test_net_tx_offloads, net_setup, net_teardown),
	    cmocka_unit_test_setup_teardown(test_net_rx_header, net_setup, net_teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
