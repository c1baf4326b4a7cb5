/* libFuzzer target: pci.c's configuration and MMIO paths from two vCPU
 * threads at once, as a hostile guest drives them. Each thread runs its
 * half of the input as a list of operations: configuration writes through
 * 0xCF8/0xCFC (moving BAR0 and BAR1, toggling memory decoding, the MSI-X
 * control), configuration reads, any port access in 0xCF8..0xCFF, and MMIO
 * reads and writes near where the BARs are or were, with values the input
 * chooses. As in keel-vmm, port I/O is serialised by one lock (the VM
 * lock) and MMIO is not. Two devices are built with vpci_setup: no KVM
 * (the VM descriptor is -1, so routing updates fail quietly) and no I/O
 * thread; their queue and interrupt eventfds are real. Nothing the input
 * does may crash or touch memory outside the devices and "RAM" (ASan,
 * UBSan). */
#include <fcntl.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "common/log.h"
#include "vmm/bytes.h"
#include "vmm/pci.h"
#include "vmm/sandbox.h"

#define RAM	 (64u << 10)
#define NDEV	 2
#define ROUNDS	 4 /* each thread runs its operations this many times */
#define MAX_BASE 8 /* addresses each thread aims MMIO at */

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct pci_bus bus;
static struct vpci_dev devs[NDEV];
static uint8_t devcfg[12];
static uint8_t *ram;
static struct gmem mem;
static int kick[NDEV][VPCI_MAX_QUEUES], irqfd[NDEV][VPCI_VECTORS];
static pthread_mutex_t port_lock = PTHREAD_MUTEX_INITIALIZER; /* the VM lock */
static pthread_barrier_t start;

/* pci.c's I/O thread confines itself with this; no I/O thread is started
 * here, so it is never called (and sandbox.c, with libseccomp, stays out
 * of the fuzz build). */
int sandbox_enter(enum sandbox_role role)
{
	(void)role;
	abort();
}

static void process(struct vpci_dev *d, unsigned q)
{
	(void)d;
	(void)q;
}

/* A fresh bus: the devices as vpci_add leaves them, minus the thread. */
static void build_bus(void)
{
	for (unsigned i = 0; i < bus.ndev; i++)
		pthread_mutex_destroy(&devs[i].lock);
	if (bus.route_lock_ready)
		pthread_mutex_destroy(&bus.route_lock);
	memset(&bus, 0, sizeof(bus));
	for (unsigned i = 0; i < NDEV; i++) {
		struct vpci_dev *d = &devs[i];
		memset(d, 0, sizeof(*d));
		d->type = i ? 2 : 4;
		d->class_code = 0xff0000;
		d->nqueues = i ? 1 : 2;
		d->max_queue_size = 16;
		d->devcfg = i ? devcfg : NULL;
		d->devcfg_len = i ? sizeof(devcfg) : 0;
		d->process = process;
		d->backend_fd = -1;
		memcpy(d->kick, kick[i], sizeof(d->kick));
		memcpy(d->irqfd, irqfd[i], sizeof(d->irqfd));
		if (vpci_setup(&bus, d, &mem, -1) < 0)
			abort();
		bus.dev[bus.ndev++] = d;
	}
}

static void init_once(void)
{
	int devnull = open("/dev/null", O_WRONLY | O_CLOEXEC);
	ram = calloc(1, RAM);
	if (devnull < 0 || !ram || pthread_barrier_init(&start, NULL, 2))
		abort();
	log_init("fuzz_pci", devnull, NULL); /* KVM calls fail on fd -1, and say so */
	mem = (struct gmem){.host = ram, .size = RAM, .low = RAM};
	for (unsigned i = 0; i < sizeof(devcfg); i++)
		devcfg[i] = (uint8_t)(0xa0 + i);
	for (unsigned i = 0; i < NDEV; i++) {
		for (unsigned q = 0; q < VPCI_MAX_QUEUES; q++)
			kick[i][q] = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
		for (unsigned v = 0; v < VPCI_VECTORS; v++)
			irqfd[i][v] = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	}
}

/* One thread's view of its input: bytes taken from the front, zeros when
 * they run out. */
struct input {
	const uint8_t *p;
	size_t left;
};

static uint8_t take8(struct input *in)
{
	if (!in->left)
		return 0;
	in->left--;
	return *in->p++;
}

static uint32_t take32(struct input *in)
{
	uint32_t v = 0;
	for (unsigned i = 0; i < 4; i++)
		v |= (uint32_t)take8(in) << (8 * i);
	return v;
}

static void port_io(uint16_t port, unsigned size, bool write, uint8_t *data)
{
	pthread_mutex_lock(&port_lock);
	if (!pci_port_io(&bus, port, size, write, data) && !write)
		memset(data, 0xff, size);
	pthread_mutex_unlock(&port_lock);
}

/* A configuration access of register reg of slot, as a guest does it:
 * the address, then the data port, under the VM lock as one exit each. */
static void config(unsigned slot, unsigned reg, unsigned size, bool write, uint32_t v)
{
	uint8_t addr[4], data[4];
	put32(addr, 0x80000000u | (uint32_t)slot << 11 | (reg & 0xfc));
	put32(data, v);
	pthread_mutex_lock(&port_lock);
	pci_port_io(&bus, PCI_CONFIG_ADDR, 4, true, addr);
	pci_port_io(&bus, (uint16_t)(PCI_CONFIG_DATA + (reg & 3)), size, write, data);
	pthread_mutex_unlock(&port_lock);
}

struct thread_state {
	struct input ops;
	uint64_t base[MAX_BASE]; /* where MMIO aims: the BARs now and before */
	unsigned nbase;
};

static void remember(struct thread_state *t, uint64_t addr)
{
	t->base[t->nbase++ % MAX_BASE] = addr;
}

/* The registers a guest moves things with; anything else is in the mix. */
static const uint8_t hot_regs[] = {0x04, 0x10, 0x14, 0x10, 0x14, 0x40, 0x42, 0x3c};
/* Offsets in the BAR near the edges of its regions. */
static const uint16_t hot_offsets[] = {0x0000, 0x0030, 0x0034, 0x1000, 0x2000, 0x2008,
				       0x3000, 0x3004, 0x4000, 0x404c, 0x5000, 0x7ff8};

static void run_ops(struct thread_state *t)
{
	struct input in = t->ops;
	while (in.left) {
		uint8_t op = take8(&in);
		unsigned slot = (op >> 3) % (NDEV + 2); /* 0: host bridge, 3: nothing */
		static const unsigned sizes[] = {1, 2, 4, 4};
		unsigned size = sizes[(op >> 5) & 3];
		switch (op & 7) {
		case 0:
		case 1: { /* a configuration write, mostly of the registers that matter */
			uint8_t r = take8(&in);
			unsigned reg = r & 0x80 ? r & 0xff : hot_regs[r % sizeof(hot_regs)];
			uint32_t v = take32(&in);
			if (reg == 0x10 || reg == 0x14)
				size = 4;
			if (reg == 0x04 && (op & 1))
				v = (r & 0x40) ? 0x0002 : 0; /* memory decoding on or off */
			config(slot, reg, size, true, v);
			if (reg == 0x10) /* the low half of where a BAR may now be */
				remember(t, v & ~(VPCI_BAR_SIZE - 1));
			else if (reg == 0x14)
				remember(t, (uint64_t)v << 32 | PCI_MMIO_BASE);
			break;
		}
		case 2: { /* a configuration read */
			config(slot, take8(&in), size, false, 0);
			break;
		}
		case 3: { /* any port access at 0xCF8..0xCFF */
			uint8_t p = take8(&in);
			uint8_t data[4];
			put32(data, take32(&in));
			port_io((uint16_t)(PCI_CONFIG_ADDR + (p & 7)), size, p & 8, data);
			break;
		}
		default: { /* MMIO near a BAR, now or before, or anywhere */
			uint8_t a = take8(&in);
			uint16_t o = (uint16_t)take32(&in);
			unsigned len = 1 + (take8(&in) % 9); /* 1..9: 9 is refused */
			uint64_t addr;
			if ((a & 0xc0) == 0xc0)
				addr = (uint64_t)take32(&in) << 32 | take32(&in);
			else if (t->nbase && (a & 0x20))
				addr = t->base[a % (t->nbase < MAX_BASE ? t->nbase : MAX_BASE)];
			else
				addr = PCI_MMIO_BASE + (uint64_t)(1 + a % NDEV) * VPCI_BAR_SIZE;
			addr += a & 0x10 ? hot_offsets[o % (sizeof(hot_offsets) / 2)] + (o >> 12)
					 : o & (VPCI_BAR_SIZE - 1);
			uint8_t data[16];
			memset(data, 0xff, sizeof(data));
			put32(data, take32(&in));
			if (!pci_mmio(&bus, addr, len, op & 1, data) && !(op & 1))
				memset(data, 0xff, len);
			break;
		}
		}
	}
}

static void *second_vcpu(void *arg)
{
	struct thread_state *t = arg;
	pthread_barrier_wait(&start);
	for (unsigned r = 0; r < ROUNDS; r++)
		run_ops(t);
	return NULL;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (!ram)
		init_once();
	build_bus();
	memset(ram, 0, RAM);
	/* byte 0 splits the rest between the two threads */
	if (size < 1)
		return 0;
	size_t half = size > 1 ? (size - 1) * data[0] / 255 : 0;
	struct thread_state a = {.ops = {data + 1, half}},
			    b = {.ops = {data + 1 + half, size - 1 - half}};
	for (unsigned i = 0; i < NDEV; i++) {
		remember(&a, devs[i].bar);
		remember(&b, devs[i].bar);
	}
	pthread_t other;
	if (pthread_create(&other, NULL, second_vcpu, &b))
		abort();
	pthread_barrier_wait(&start);
	for (unsigned r = 0; r < ROUNDS; r++)
		run_ops(&a);
	pthread_join(other, NULL);
	return 0;
}
