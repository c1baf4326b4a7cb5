/* pci.c's configuration and MMIO paths, driven as a hostile guest would:
 * BARs moved by configuration writes (from another vCPU, while an MMIO
 * access is on its way), memory decoding toggled, BARs at the top of the
 * address space, and accesses to the swallowed ports of 0xCF8..0xCFF.
 * A device is built with vpci_setup (no KVM, no thread); its eventfds are
 * -1, so nothing here may kick a queue or raise an interrupt. ASan catches
 * any access outside the device's state. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <cmocka.h>
#include <fcntl.h>
#include <linux/kvm.h>
#include <pthread.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "vmm/bytes.h"
#include "vmm/pci.h"

#define CFG_COMMAND 0x04
#define CFG_BAR0    0x10
#define CFG_BAR1    0x14
#define CMD_MEM	    0x0002
#define R_DEVICE    0x2000

static struct pci_bus bus;
static struct vpci_dev dev;
static const uint8_t devcfg[8] = {1, 2, 3, 4, 5, 6, 7, 8};
static struct gmem mem;

static void process(struct vpci_dev *d, unsigned q)
{
	(void)d;
	(void)q;
}

static uint8_t ram[0x4000] __attribute__((aligned(4096)));

static int setup(void **state)
{
	(void)state;
	memset(&bus, 0, sizeof(bus));
	memset(&dev, 0, sizeof(dev));
	dev.type = 4;
	dev.class_code = 0xff0000;
	dev.nqueues = 1;
	dev.max_queue_size = 64;
	dev.devcfg = devcfg;
	dev.devcfg_len = sizeof(devcfg);
	dev.process = process;
	dev.backend_fd = -1;
	for (unsigned q = 0; q < VPCI_MAX_QUEUES; q++)
		dev.kick[q] = -1;
	for (unsigned v = 0; v < VPCI_VECTORS; v++)
		dev.irqfd[v] = -1;
	mem = (struct gmem){.host = ram, .size = sizeof(ram), .low = sizeof(ram)};
	if (vpci_setup(&bus, &dev, &mem, -1) < 0)
		return -1;
	bus.dev[bus.ndev++] = &dev;
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	pthread_mutex_destroy(&dev.lock);
	pthread_mutex_destroy(&bus.route_lock);
	return 0;
}

/* A configuration access of dev's register reg through 0xCF8/0xCFC. */
static void config(unsigned reg, unsigned size, bool write, uint8_t *data)
{
	uint8_t addr[4];
	put32(addr, 0x80000000u | (uint32_t)dev.slot << 11 | (reg & 0xfc));
	assert_true(pci_port_io(&bus, PCI_CONFIG_ADDR, 4, true, addr));
	assert_true(pci_port_io(&bus, (uint16_t)(PCI_CONFIG_DATA + (reg & 3)), size, write, data));
}

/* The same for any function of bus 0. */
static uint32_t fn_config(unsigned slot, unsigned fn, unsigned reg, unsigned size, bool write,
			  uint32_t v)
{
	uint8_t addr[4], data[4];
	put32(addr, 0x80000000u | slot << 11 | fn << 8 | (reg & 0xfc));
	put32(data, v);
	assert_true(pci_port_io(&bus, PCI_CONFIG_ADDR, 4, true, addr));
	assert_true(pci_port_io(&bus, (uint16_t)(PCI_CONFIG_DATA + (reg & 3)), size, write, data));
	return size == 4 ? get32(data) : size == 2 ? get16(data) : data[0];
}

static void config_write(unsigned reg, unsigned size, uint32_t v)
{
	uint8_t data[4];
	put32(data, v);
	config(reg, size, true, data);
}

static void move_bar(uint64_t bar)
{
	config_write(CFG_BAR0, 4, (uint32_t)bar);
	config_write(CFG_BAR1, 4, (uint32_t)(bar >> 32));
}

/* Reads len bytes at addr as a vCPU exit would: all ones if nothing is there. */
static uint64_t mmio_read(uint64_t addr, unsigned len, bool *hit)
{
	uint8_t data[8];
	memset(data, 0xff, sizeof(data));
	*hit = pci_mmio(&bus, addr, len, false, data);
	uint64_t v = 0;
	memcpy(&v, data, len);
	return v;
}

static void test_bar_follows_config_writes(void **state)
{
	(void)state;
	const uint64_t bar = dev.bar;
	bool hit;
	mmio_read(bar + R_DEVICE, 4, &hit);
	assert_false(hit); /* decoding is off after reset */
	config_write(CFG_COMMAND, 2, CMD_MEM);
	assert_int_equal(mmio_read(bar + R_DEVICE, 4, &hit), 0x04030201);
	assert_true(hit);
	move_bar(0x200000000ull);
	mmio_read(bar + R_DEVICE, 4, &hit);
	assert_false(hit);
	assert_int_equal(mmio_read(0x200000000ull + R_DEVICE + 4, 4, &hit), 0x08070605);
	assert_true(hit);
	config_write(CFG_COMMAND, 2, 0);
	mmio_read(0x200000000ull + R_DEVICE, 4, &hit);
	assert_false(hit);
}

/* A BAR at the very top of the address space: addr - bar + len and
 * bar + size would wrap; accesses that run past the end are refused. */
static void test_bar_at_the_top(void **state)
{
	(void)state;
	const uint64_t top = 0ull - VPCI_BAR_SIZE;
	config_write(CFG_COMMAND, 2, CMD_MEM);
	move_bar(top);
	assert_true(dev.bar == top);
	bool hit;
	mmio_read(top + VPCI_BAR_SIZE - 4, 8, &hit);
	assert_false(hit);
	mmio_read(0, 4, &hit);
	assert_false(hit);
	mmio_read(top + VPCI_BAR_SIZE - 4, 4, &hit);
	assert_true(hit);
	uint8_t wide[16] = {0};
	assert_false(pci_mmio(&bus, top, 9, false, wide)); /* wider than any access */
	assert_false(pci_mmio(&bus, top, 0, false, wide));
}

/* Device-specific region: an access that starts inside and runs past its
 * end reads zeros, not what follows devcfg. */
static void test_device_region_bounds(void **state)
{
	(void)state;
	config_write(CFG_COMMAND, 2, CMD_MEM);
	bool hit;
	assert_int_equal(mmio_read(dev.bar + R_DEVICE + 4, 8, &hit), 0);
	assert_true(hit);
	assert_int_equal(mmio_read(dev.bar + R_DEVICE + 7, 1, &hit), 8);
	assert_int_equal(mmio_read(dev.bar + R_DEVICE + 7, 2, &hit), 0);
}

/* The race of finding 5: an 8-byte access at the last 8 bytes of the BAR,
 * in the BAR when the vCPU looked, while another vCPU moves the BAR one
 * BAR size up (a BAR0 write). The mover holds the device lock as
 * config_write does. Against the new BAR the offset is 2^32 - 8, and
 * offset + 8 wraps to 0 in 32 bits: the access must see the BAR as it is
 * once it has the lock (addr is below it: nothing there), never an offset
 * computed against one BAR and checked against another. */
struct access {
	uint64_t addr;
	uint8_t data[8];
	bool hit;
};

static void *access_thread(void *arg)
{
	struct access *a = arg;
	a->hit = pci_mmio(&bus, a->addr, 8, false, a->data);
	return NULL;
}

static void test_bar_moved_during_access(void **state)
{
	(void)state;
	config_write(CFG_COMMAND, 2, CMD_MEM);
	const uint64_t old = dev.bar;
	struct access a = {.addr = old + VPCI_BAR_SIZE - 8};
	memset(a.data, 0xff, sizeof(a.data));
	pthread_mutex_lock(&dev.lock);
	pthread_t t;
	assert_int_equal(pthread_create(&t, NULL, access_thread, &a), 0);
	usleep(100 * 1000); /* the access is waiting for the lock */
	/* what config_write does for a BAR0 write of old + VPCI_BAR_SIZE */
	dev.bar = old + VPCI_BAR_SIZE;
	put32(dev.cfg + CFG_BAR0, (uint32_t)dev.bar | 0x4);
	pthread_mutex_unlock(&dev.lock);
	pthread_join(t, NULL);
	assert_false(a.hit);
	for (unsigned i = 0; i < sizeof(a.data); i++)
		assert_int_equal(a.data[i], 0xff);
}

/* The same race with memory decoding turned off meanwhile. */
static void test_decoding_off_during_access(void **state)
{
	(void)state;
	config_write(CFG_COMMAND, 2, CMD_MEM);
	struct access a = {.addr = dev.bar + R_DEVICE};
	memset(a.data, 0xff, sizeof(a.data));
	pthread_mutex_lock(&dev.lock);
	pthread_t t;
	assert_int_equal(pthread_create(&t, NULL, access_thread, &a), 0);
	usleep(100 * 1000);
	put16(dev.cfg + CFG_COMMAND, 0);
	pthread_mutex_unlock(&dev.lock);
	pthread_join(t, NULL);
	assert_false(a.hit);
}

/* Reads of 0xCF8..0xCFF that PCI swallows return all ones. */
static void test_swallowed_reads(void **state)
{
	(void)state;
	const struct {
		uint16_t port;
		unsigned size;
	} swallowed[] = {{0xcf9, 1}, {0xcf8, 1}, {0xcf8, 2}, {0xcfa, 2},
			 {0xcfb, 1}, {0xcfe, 4}, {0xcfd, 4}, {0xcff, 2}};
	for (size_t i = 0; i < sizeof(swallowed) / sizeof(swallowed[0]); i++) {
		uint8_t data[4] = {0};
		assert_true(pci_port_io(&bus, swallowed[i].port, swallowed[i].size, false, data));
		for (unsigned b = 0; b < swallowed[i].size; b++)
			assert_int_equal(data[b], 0xff);
		for (unsigned b = swallowed[i].size; b < 4; b++)
			assert_int_equal(data[b], 0); /* and nothing past the access */
	}
	uint8_t data[4] = {0};
	assert_false(pci_port_io(&bus, 0xcf7, 1, false, data));
	assert_false(pci_port_io(&bus, 0xd00, 1, false, data));
	/* the data port still works at every byte */
	uint8_t id[4];
	config(0x00, 4, false, id);
	assert_int_equal(get32(id), 0x10441af4);
	config(0x03, 1, false, id);
	assert_int_equal(id[0], 0x10);
}

static void mmio_write(uint64_t addr, unsigned len, uint64_t v)
{
	uint8_t data[8];
	memcpy(data, &v, len);
	assert_true(pci_mmio(&bus, addr, len, true, data));
}

/* Whether KVM has an ioeventfd for (addr, 2 bytes, fd): assigning one
 * again is refused (EEXIST) exactly then; one that was not is taken back. */
static bool ioeventfd_at(int vmfd, uint64_t addr, int fd)
{
	struct kvm_ioeventfd io = {.addr = addr, .len = 2, .fd = fd};
	if (ioctl(vmfd, KVM_IOEVENTFD, &io) < 0)
		return true;
	io.flags = KVM_IOEVENTFD_FLAG_DEASSIGN;
	assert_int_equal(ioctl(vmfd, KVM_IOEVENTFD, &io), 0);
	return false;
}

/* A ready queue's notify address is KVM's ioeventfd where the BAR decodes
 * it now: it moves with the BAR, goes when decoding is turned off or the
 * device is reset, so that no stale one catches writes meant for whatever
 * the guest puts there next. Needs /dev/kvm (skipped without). */
static void test_ioeventfd_follows_the_bar(void **state)
{
	(void)state;
	int kvm = open("/dev/kvm", O_RDWR | O_CLOEXEC);
	int vmfd = ioctl(kvm, KVM_CREATE_VM, 0);
	assert_true(vmfd >= 0);
	int kick = eventfd(0, EFD_CLOEXEC);
	dev.vmfd = vmfd;
	dev.kick[0] = kick;
	const uint64_t bar = dev.bar, moved = 0x200000000ull, notify = 0x3000;
	config_write(CFG_COMMAND, 2, CMD_MEM);
	mmio_write(bar + 0x16, 2, 0);	   /* queue_select */
	mmio_write(bar + 0x18, 2, 16);	   /* queue_size */
	mmio_write(bar + 0x20, 8, 0x0);	   /* descriptors */
	mmio_write(bar + 0x28, 8, 0x1000); /* available ring */
	mmio_write(bar + 0x30, 8, 0x2000); /* used ring */
	mmio_write(bar + 0x1c, 2, 1);	   /* queue_enable */
	assert_int_equal(dev.ioeventfd[0], bar + notify);
	assert_true(ioeventfd_at(vmfd, bar + notify, kick));

	move_bar(moved);
	assert_int_equal(dev.ioeventfd[0], moved + notify);
	assert_true(ioeventfd_at(vmfd, moved + notify, kick));
	assert_false(ioeventfd_at(vmfd, bar + notify, kick)); /* released */

	config_write(CFG_COMMAND, 2, 0); /* decoding off: nowhere */
	assert_int_equal(dev.ioeventfd[0], 0);
	assert_false(ioeventfd_at(vmfd, moved + notify, kick));
	config_write(CFG_COMMAND, 2, CMD_MEM);
	assert_true(ioeventfd_at(vmfd, moved + notify, kick));

	mmio_write(moved + 0x14, 1, 0); /* device reset: the queue is off */
	assert_int_equal(dev.ioeventfd[0], 0);
	assert_false(ioeventfd_at(vmfd, moved + notify, kick));
	close(kick);
	close(vmfd);
	close(kvm);
}

/* With firmware: the PC chipset OVMF and SeaBIOS look for, beside the
 * virtio device in slot 1 */
static void test_chipset(void **state)
{
	(void)state;
	assert_int_equal(fn_config(0, 0, 0, 4, false, 0), 0x00081b36); /* generic without */
	assert_int_equal(fn_config(1, 3, 0, 4, false, 0), 0xffffffff);
	struct i440fx chip;
	i440fx_init(&chip);
	bus.chipset = &chip;
	assert_int_equal(fn_config(0, 0, 0, 4, false, 0), 0x12378086);
	assert_int_equal(fn_config(0, 0, 0x0a, 2, false, 0), 0x0600);
	assert_int_equal(fn_config(1, 3, 0, 4, false, 0), 0x71138086);
	/* OVMF's PMBA and PMREGMISC, as it sets them and reads them back */
	assert_int_equal(fn_config(1, 3, 0x40, 4, false, 0), ACPI_PM1_EVT | 1);
	assert_int_equal(fn_config(1, 3, 0x80, 1, false, 0), 0);
	fn_config(1, 3, 0x40, 4, true, 0x600);
	fn_config(1, 3, 0x80, 1, true, 1);
	fn_config(1, 3, 0x04, 1, true, 1);
	assert_int_equal(fn_config(1, 3, 0x40, 4, false, 0), 0x601);
	assert_int_equal(fn_config(1, 3, 0x80, 1, false, 0), 1);
	assert_int_equal(fn_config(1, 3, 0x04, 2, false, 0), 1);
	/* the ACPI block's second place: PMBA once PMREGMISC enables it */
	assert_int_equal(i440fx_pm_base(&chip), 0x600);
	fn_config(1, 3, 0x40, 4, true, 0xb000);
	assert_int_equal(i440fx_pm_base(&chip), 0xb000);
	fn_config(1, 3, 0x80, 1, true, 0);
	assert_int_equal(i440fx_pm_base(&chip), 0);
	/* the ISA bridge OVMF finds COM1 under, after every virtio slot */
	assert_int_equal(fn_config(31, 0, 0, 4, false, 0), 0x70008086);
	assert_int_equal(fn_config(31, 0, 0x08, 4, false, 0), 0x06010000);
	assert_int_equal(fn_config(31, 1, 0, 4, false, 0), 0xffffffff);
	fn_config(31, 0, 0x04, 2, true, 3); /* OVMF's SioBusDxe wants I/O and memory on */
	assert_int_equal(fn_config(31, 0, 0x04, 2, false, 0), 3);
	/* no BARs: sizing writes all ones and reads back zero */
	for (unsigned bar = 0x10; bar <= 0x24; bar += 4) {
		fn_config(31, 0, bar, 4, true, 0xffffffff);
		fn_config(0, 0, bar, 4, true, 0xffffffff);
		assert_int_equal(fn_config(31, 0, bar, 4, false, 0), 0);
		assert_int_equal(fn_config(0, 0, bar, 4, false, 0), 0);
	}
	fn_config(31, 0, 0x30, 4, true, 0xffffffff); /* nor an option ROM */
	assert_int_equal(fn_config(31, 0, 0x30, 4, false, 0), 0);
	/* the identity stays; the host bridge keeps what firmware writes (PAM) */
	fn_config(0, 0, 0, 4, true, 0);
	fn_config(1, 3, 0x08, 4, true, 0);
	assert_int_equal(fn_config(0, 0, 0, 4, false, 0), 0x12378086);
	assert_int_equal(fn_config(1, 3, 0x08, 4, false, 0), 0x06800003);
	fn_config(0, 0, 0x59, 1, true, 0x30);
	assert_int_equal(fn_config(0, 0, 0x59, 1, false, 0), 0x30);
	/* the virtio device is still 00:01.0, and other functions are empty */
	assert_int_equal(fn_config(dev.slot, 0, 0, 2, false, 0), 0x1af4);
	/* modern: device 0x1040 + type, revision 1, subsystem 0x40 or more
	 * (OVMF's virtio 1.0 driver takes no device with less) */
	assert_int_equal(fn_config(dev.slot, 0, 0x02, 2, false, 0), 0x1044);
	assert_int_equal(fn_config(dev.slot, 0, 0x08, 1, false, 0), 1);
	assert_int_equal(fn_config(dev.slot, 0, 0x2e, 2, false, 0), 0x44);
	assert_int_equal(fn_config(1, 1, 0, 4, false, 0), 0xffffffff);
	assert_int_equal(fn_config(0, 1, 0, 4, false, 0), 0xffffffff);
	bus.chipset = NULL;
}

/* The ioeventfd test needs KVM; where there is none (a build machine
 * without /dev/kvm), it is left out and said so, rather than reported as
 * a "not ok # SKIP" line, which meson counts as a failure. */
static int have_kvm(void)
{
	int kvm = open("/dev/kvm", O_RDWR | O_CLOEXEC);
	int vmfd = kvm < 0 ? -1 : ioctl(kvm, KVM_CREATE_VM, 0);
	if (vmfd >= 0)
		close(vmfd);
	if (kvm >= 0)
		close(kvm);
	return vmfd >= 0;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_bar_follows_config_writes, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_bar_at_the_top, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_device_region_bounds, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_swallowed_reads, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_decoding_off_during_access, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_bar_moved_during_access, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_chipset, setup, teardown),
	    /* last: needs KVM */
	    cmocka_unit_test_setup_teardown(test_ioeventfd_follows_the_bar, setup, teardown),
	};
	size_t n = sizeof(tests) / sizeof(tests[0]);
	if (!have_kvm()) {
		printf("# no /dev/kvm here: test_ioeventfd_follows_the_bar not run\n");
		n--;
	}
	return _cmocka_run_group_tests("tests", tests, n, NULL, NULL);
}
