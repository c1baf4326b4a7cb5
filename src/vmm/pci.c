#include "vmm/pci.h"

#include <errno.h>
#include <linux/kvm.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "vmm/bytes.h"
#include "common/log.h"
#include "vmm/sandbox.h"

/* configuration space */
#define CFG_COMMAND  0x04
#define CFG_BAR0     0x10
#define CFG_BAR1     0x14
#define CFG_INT_LINE 0x3c
#define CMD_MEM	     0x0002
#define CAP_MSIX     0x40
#define CAP_VIRTIO   0x4c /* four 16-byte capabilities, the last 20 bytes */

/* BAR layout */
#define R_COMMON     0x0000
#define R_COMMON_LEN 0x38
#define R_ISR	     0x1000
#define R_DEVICE     0x2000
#define R_NOTIFY     0x3000
#define NOTIFY_MULT  4
#define R_MSIX	     0x4000
#define R_PBA	     0x5000

/* device status */
#define S_FEATURES_OK 8
#define S_NEEDS_RESET 0x40

#define MSIX_ENABLE  0x8000
#define MSIX_MASKALL 0x4000

/* --- interrupts */

/* The first GSI after the I/O APIC's pins; vector v of the device in
 * slot s is GSI MSI_GSI_BASE + s * VPCI_VECTORS + v. */
#define MSI_GSI_BASE   24
#define IRQCHIP_ROUTES (16 * 2 + 8)

static uint32_t msi_gsi(const struct vpci_dev *d, unsigned v)
{
	return MSI_GSI_BASE + d->slot * VPCI_VECTORS + v;
}

/* Rebuilds the VM's routing table: the default routes of the 8259s and the
 * I/O APIC (KVM replaces the whole table), and one MSI route per vector of
 * every device, from its MSI-X table as the guest wrote it. */
static void update_routes(struct pci_bus *bus, int vmfd)
{
	static struct {
		struct kvm_irq_routing h;
		struct kvm_irq_routing_entry e[IRQCHIP_ROUTES + PCI_MAX_SLOTS * VPCI_VECTORS];
	} r;
	pthread_mutex_lock(&bus->route_lock);
	unsigned n = 0;
	for (uint32_t gsi = 0; gsi < 24; gsi++) {
		if (gsi < 16)
			r.e[n++] = (struct kvm_irq_routing_entry){
			    .gsi = gsi,
			    .type = KVM_IRQ_ROUTING_IRQCHIP,
			    .u.irqchip = {gsi < 8 ? KVM_IRQCHIP_PIC_MASTER : KVM_IRQCHIP_PIC_SLAVE,
					  gsi % 8}};
		r.e[n++] = (struct kvm_irq_routing_entry){.gsi = gsi,
							  .type = KVM_IRQ_ROUTING_IRQCHIP,
							  .u.irqchip = {KVM_IRQCHIP_IOAPIC, gsi}};
	}
	for (unsigned i = 0; i < bus->ndev; i++) {
		struct vpci_dev *d = bus->dev[i];
		for (unsigned v = 0; v < VPCI_VECTORS; v++)
			r.e[n++] = (struct kvm_irq_routing_entry){
			    .gsi = msi_gsi(d, v),
			    .type = KVM_IRQ_ROUTING_MSI,
			    .u.msi = {.address_lo =
					  __atomic_load_n(&d->msix[v].addr_lo, __ATOMIC_RELAXED),
				      .address_hi =
					  __atomic_load_n(&d->msix[v].addr_hi, __ATOMIC_RELAXED),
				      .data = __atomic_load_n(&d->msix[v].data, __ATOMIC_RELAXED)}};
	}
	r.h.nr = n;
	if (ioctl(vmfd, KVM_SET_GSI_ROUTING, &r) < 0)
		log_errno("KVM_SET_GSI_ROUTING");
	pthread_mutex_unlock(&bus->route_lock);
}

static void msi_send(struct vpci_dev *d, unsigned v)
{
	uint64_t one = 1;
	if (write(d->irqfd[v], &one, sizeof(one)) < 0)
		log_errno("irqfd");
}

static void raise_vector(struct vpci_dev *d, uint16_t v)
{
	uint16_t ctrl = get16(d->cfg + CAP_MSIX + 2);
	if (!(ctrl & MSIX_ENABLE) || v >= VPCI_VECTORS)
		return; /* no INTx: without MSI-X the guest polls or gets nothing */
	if ((ctrl & MSIX_MASKALL) || (d->msix[v].ctrl & 1))
		d->pba |= 1u << v;
	else
		msi_send(d, v);
}

/* Delivers pending vectors that are no longer masked. */
static void deliver_pending(struct vpci_dev *d)
{
	uint16_t ctrl = get16(d->cfg + CAP_MSIX + 2);
	if (!(ctrl & MSIX_ENABLE) || (ctrl & MSIX_MASKALL))
		return;
	for (unsigned v = 0; v < VPCI_VECTORS; v++)
		if ((d->pba & (1u << v)) && !(d->msix[v].ctrl & 1)) {
			d->pba &= ~(1u << v);
			msi_send(d, v);
		}
}

void vpci_notify_queue(struct vpci_dev *d, unsigned q)
{
	if (!virtq_should_notify(&d->queues[q]))
		return;
	d->isr |= 1;
	raise_vector(d, d->queues[q].msix_vector);
}

/* --- configuration space */

static void add_cap(uint8_t *c, unsigned at, uint8_t next, uint8_t type, uint32_t off, uint32_t len,
		    uint8_t caplen)
{
	c[at] = 0x09; /* vendor-specific: virtio */
	c[at + 1] = next;
	c[at + 2] = caplen;
	c[at + 3] = type;
	c[at + 4] = 0; /* BAR 0 */
	put32(c + at + 8, off);
	put32(c + at + 12, len);
}

static void build_config_space(struct vpci_dev *d)
{
	uint8_t *c = d->cfg;
	memset(c, 0, sizeof(d->cfg));
	put16(c + 0x00, 0x1af4);	   /* virtio vendor */
	put16(c + 0x02, 0x1040 + d->type); /* modern device id */
	put16(c + 0x06, 0x0010);	   /* status: capability list */
	c[0x08] = 1;			   /* revision: modern */
	c[0x09] = (uint8_t)d->class_code;
	c[0x0a] = (uint8_t)(d->class_code >> 8);
	c[0x0b] = (uint8_t)(d->class_code >> 16);
	put32(c + CFG_BAR0, (uint32_t)d->bar | 0x4); /* 64-bit memory BAR */
	put32(c + CFG_BAR1, (uint32_t)(d->bar >> 32));
	put16(c + 0x2c, 0x1af4);
	/* a modern device's subsystem id is 0x40 or more: firmware (OVMF's
	 * virtio 1.0 driver) takes one below for a transitional device's
	 * device type and leaves the device alone */
	put16(c + 0x2e, 0x40 + d->type);
	c[0x34] = CAP_MSIX;
	c[CAP_MSIX] = 0x11;
	c[CAP_MSIX + 1] = CAP_VIRTIO;
	put16(c + CAP_MSIX + 2, VPCI_VECTORS - 1);
	put32(c + CAP_MSIX + 4, R_MSIX);
	put32(c + CAP_MSIX + 8, R_PBA);
	/* common, ISR, notify, and device-specific if the device has any */
	const unsigned notify = CAP_VIRTIO + 32, device = CAP_VIRTIO + 52;
	add_cap(c, CAP_VIRTIO, CAP_VIRTIO + 16, 1, R_COMMON, R_COMMON_LEN, 16);
	add_cap(c, CAP_VIRTIO + 16, notify, 3, R_ISR, 4, 16);
	add_cap(c, notify, d->devcfg_len ? device : 0, 2, R_NOTIFY, NOTIFY_MULT * d->nqueues, 20);
	put32(c + notify + 16, NOTIFY_MULT);
	if (d->devcfg_len)
		add_cap(c, device, 0, 4, R_DEVICE, d->devcfg_len, 16);
}

/* Registers queue q's notify address with KVM where the BAR decodes it now
 * (a ready queue, memory decoding on), or nowhere; an address registered
 * before (the BAR since moved or turned off) is released first, so that no
 * ioeventfd is left catching writes at a place the guest gave to another
 * device. */
static void place_ioeventfd(struct vpci_dev *d, unsigned q)
{
	bool decoded = get16(d->cfg + CFG_COMMAND) & CMD_MEM;
	uint64_t want = d->queues[q].ready && decoded ? d->bar + R_NOTIFY + NOTIFY_MULT * q : 0;
	if (want == d->ioeventfd[q])
		return;
	if (d->ioeventfd[q]) {
		struct kvm_ioeventfd io = {.addr = d->ioeventfd[q],
					   .len = 2,
					   .fd = d->kick[q],
					   .flags = KVM_IOEVENTFD_FLAG_DEASSIGN};
		ioctl(d->vmfd, KVM_IOEVENTFD, &io);
		d->ioeventfd[q] = 0;
	}
	struct kvm_ioeventfd io = {.addr = want, .len = 2, .fd = d->kick[q]};
	if (want && ioctl(d->vmfd, KVM_IOEVENTFD, &io) == 0)
		d->ioeventfd[q] = want; /* else its writes come as MMIO exits */
}

static void place_ioeventfds(struct vpci_dev *d)
{
	for (unsigned q = 0; q < d->nqueues; q++)
		place_ioeventfd(d, q);
}

static void config_write(struct vpci_dev *d, unsigned off, unsigned size, uint32_t v)
{
	if (off == CFG_COMMAND && size >= 2) {
		put16(d->cfg + CFG_COMMAND, (uint16_t)(v & 0x0406)); /* mem, master, INTx off */
		place_ioeventfds(d);
	} else if (off == CFG_BAR0 && size == 4) {
		/* sizing writes all ones and reads back the size mask */
		d->bar = (d->bar & ~0xffffffffull) | (v & ~(VPCI_BAR_SIZE - 1));
		put32(d->cfg + CFG_BAR0, (uint32_t)d->bar | 0x4);
		place_ioeventfds(d);
	} else if (off == CFG_BAR1 && size == 4) {
		d->bar = (d->bar & 0xffffffffull) | ((uint64_t)v << 32);
		put32(d->cfg + CFG_BAR1, v);
		place_ioeventfds(d);
	} else if (off == CFG_INT_LINE && size == 1) {
		d->cfg[CFG_INT_LINE] = (uint8_t)v;
	} else if (off == CAP_MSIX + 2 && size == 2) {
		uint16_t ctrl = get16(d->cfg + CAP_MSIX + 2);
		ctrl = (uint16_t)((ctrl & 0x07ff) | (v & (MSIX_ENABLE | MSIX_MASKALL)));
		put16(d->cfg + CAP_MSIX + 2, ctrl);
		deliver_pending(d);
	} else if (off == CAP_MSIX && size == 4) {
		config_write(d, CAP_MSIX + 2, 2, v >> 16);
	}
	/* everything else is read-only */
}

/* --- the common configuration region */

static void reset_device(struct vpci_dev *d)
{
	for (unsigned q = 0; q < d->nqueues; q++) {
		virtq_reset(&d->queues[q]);
		d->queues[q].size = d->max_queue_size; /* the driver may lower it */
		place_ioeventfd(d, q);		       /* not ready: released */
	}
	d->dfsel = d->gfsel = 0;
	if (d->set_features && (d->status & S_FEATURES_OK))
		d->set_features(d, 0);
	d->driver_features = 0;
	d->status = d->isr = 0;
	d->msix_config = VPCI_NO_VECTOR;
	d->queue_sel = 0;
	d->pba = 0;
}

static void common_snapshot(struct vpci_dev *d, uint8_t *c)
{
	memset(c, 0, R_COMMON_LEN);
	put32(c + 0x00, d->dfsel);
	put32(c + 0x04, d->dfsel < 2 ? (uint32_t)(d->features >> (32 * d->dfsel)) : 0);
	put32(c + 0x08, d->gfsel);
	put32(c + 0x0c, d->gfsel < 2 ? (uint32_t)(d->driver_features >> (32 * d->gfsel)) : 0);
	put16(c + 0x10, d->msix_config);
	put16(c + 0x12, (uint16_t)d->nqueues);
	c[0x14] = d->status;
	c[0x15] = d->config_gen;
	put16(c + 0x16, d->queue_sel);
	if (d->queue_sel < d->nqueues) {
		struct virtq *q = &d->queues[d->queue_sel];
		put16(c + 0x18, q->size);
		put16(c + 0x1a, q->msix_vector);
		put16(c + 0x1c, q->ready);
		put16(c + 0x1e, d->queue_sel); /* notify offset */
		memcpy(c + 0x20, &q->desc_gpa, 8);
		memcpy(c + 0x28, &q->avail_gpa, 8);
		memcpy(c + 0x30, &q->used_gpa, 8);
	}
}

static void enable_queue(struct vpci_dev *d, unsigned qi)
{
	struct virtq *q = &d->queues[qi];
	if (q->ready)
		return;
	q->event_idx = d->driver_features & VIRTIO_F_RING_EVENT_IDX;
	if (virtq_enable(q, d->mem, d->max_queue_size) < 0) {
		log_msg("virtio %u: queue %u: the driver's rings are not usable", d->slot, qi);
		d->status |= S_NEEDS_RESET;
		d->config_gen++;
		raise_vector(d, d->msix_config);
		return;
	}
	place_ioeventfd(d, qi);
}

static void common_write(struct vpci_dev *d, unsigned off, unsigned size, uint64_t v)
{
	struct virtq *q = d->queue_sel < d->nqueues ? &d->queues[d->queue_sel] : NULL;
	bool setup = q && !q->ready; /* queue fields change only while it is off */
	switch (off | size << 8) {
	case 0x00 | 4 << 8:
		d->dfsel = (uint32_t)v;
		break;
	case 0x08 | 4 << 8:
		d->gfsel = (uint32_t)v;
		break;
	case 0x0c | 4 << 8:
		if (d->gfsel < 2 && !(d->status & S_FEATURES_OK)) {
			unsigned sh = 32 * d->gfsel;
			d->driver_features =
			    (d->driver_features & ~(0xffffffffull << sh)) | (v << sh);
		}
		break;
	case 0x10 | 2 << 8:
		d->msix_config = (uint16_t)v < VPCI_VECTORS ? (uint16_t)v : VPCI_NO_VECTOR;
		break;
	case 0x14 | 1 << 8:
		if (v == 0) {
			reset_device(d);
			break;
		}
		/* FEATURES_OK only for a subset of what is offered, with 1.0 */
		if ((v & S_FEATURES_OK) && !(d->status & S_FEATURES_OK)) {
			if ((d->driver_features & ~d->features) ||
			    !(d->driver_features & VIRTIO_F_VERSION_1))
				v &= ~(uint64_t)S_FEATURES_OK;
			else if (d->set_features)
				d->set_features(d, d->driver_features);
		}
		d->status = (uint8_t)((d->status & S_NEEDS_RESET) | v);
		break;
	case 0x16 | 2 << 8:
		d->queue_sel = (uint16_t)v;
		break;
	case 0x18 | 2 << 8:
		if (setup)
			q->size = (uint16_t)v;
		break;
	case 0x1a | 2 << 8:
		if (q)
			q->msix_vector = (uint16_t)v < VPCI_VECTORS ? (uint16_t)v : VPCI_NO_VECTOR;
		break;
	case 0x1c | 2 << 8:
		if (q && v == 1)
			enable_queue(d, d->queue_sel);
		break;
	case 0x20 | 4 << 8:
	case 0x24 | 4 << 8:
	case 0x28 | 4 << 8:
	case 0x2c | 4 << 8:
	case 0x30 | 4 << 8:
	case 0x34 | 4 << 8:
	case 0x20 | 8 << 8:
	case 0x28 | 8 << 8:
	case 0x30 | 8 << 8:
		if (setup) {
			uint64_t *f = off < 0x28   ? &q->desc_gpa
				      : off < 0x30 ? &q->avail_gpa
						   : &q->used_gpa;
			if (size == 8)
				*f = v;
			else if (off & 4)
				*f = (*f & 0xffffffffull) | (v << 32);
			else
				*f = (*f & ~0xffffffffull) | (v & 0xffffffffull);
		}
		break;
	default:
		break; /* read-only or malformed: ignored */
	}
}

/* --- BAR accesses */

/* Whether [off, off + len) lies inside [start, start + size): written so
 * that no sum can wrap, whatever off and len are. */
static bool in_region(uint32_t off, unsigned len, uint32_t start, uint32_t size)
{
	return off >= start && off - start <= size && len <= size - (off - start);
}

/* One access of len (1..8) bytes at offset off of d's BAR; d->lock held.
 * Every region check stands on its own (it does not rely on the caller
 * having bounded off), and reads of what is not there return zeros. */
static void bar_access(struct vpci_dev *d, uint32_t off, unsigned len, bool is_write, uint8_t *data)
{
	uint64_t v = 0;
	if (len == 0 || len > sizeof(v))
		return;
	if (is_write)
		memcpy(&v, data, len);
	else
		memset(data, 0, len);
	if (in_region(off, len, R_COMMON, R_COMMON_LEN)) {
		if (is_write) {
			common_write(d, off, len, v);
		} else {
			uint8_t c[R_COMMON_LEN];
			common_snapshot(d, c);
			memcpy(data, c + (off - R_COMMON), len);
		}
	} else if (off == R_ISR && !is_write) {
		data[0] = d->isr; /* reading acknowledges */
		d->isr = 0;
	} else if (in_region(off, len, R_DEVICE, d->devcfg_len)) {
		if (!is_write)
			memcpy(data, (const uint8_t *)d->devcfg + (off - R_DEVICE), len);
	} else if (off >= R_NOTIFY && off - R_NOTIFY < NOTIFY_MULT * d->nqueues) {
		unsigned q = (off - R_NOTIFY) / NOTIFY_MULT;
		uint64_t one = 1;
		if (is_write && write(d->kick[q], &one, sizeof(one)) < 0)
			log_errno("eventfd");
	} else if (in_region(off, len, R_MSIX, (uint32_t)sizeof(d->msix)) &&
		   (len == 4 || len == 8) && (off - R_MSIX) % len == 0) {
		/* aligned dwords or qwords, as PCI allows; stored a dword at a
		 * time, atomically: update_routes reads every device's table
		 * without this device's lock */
		uint32_t *e = (uint32_t *)&d->msix[0] + (off - R_MSIX) / 4;
		if (is_write) {
			for (unsigned i = 0; i < len / 4; i++)
				__atomic_store_n(&e[i], get32(data + 4 * i), __ATOMIC_RELAXED);
			if ((off - R_MSIX) % 16 < 12) /* address or data: a new route */
				update_routes(d->bus, d->vmfd);
			deliver_pending(d);
		} else {
			memcpy(data, e, len);
		}
	} else if (off == R_PBA && !is_write) {
		put32(data, d->pba);
	}
}

bool vpci_mmio(struct vpci_dev *d, uint64_t addr, unsigned len, bool write, uint8_t *data)
{
	if (len == 0 || len > 8)
		return false;
	/* The guest moves the BAR and turns decoding on and off with
	 * configuration writes, which take this lock too: the lookup, the
	 * offset and the access see one BAR. */
	pthread_mutex_lock(&d->lock);
	const uint64_t bar = d->bar;
	const bool hit = (get16(d->cfg + CFG_COMMAND) & CMD_MEM) && addr >= bar &&
			 addr - bar < VPCI_BAR_SIZE && len <= VPCI_BAR_SIZE - (addr - bar);
	if (hit)
		bar_access(d, (uint32_t)(addr - bar), len, write, data);
	pthread_mutex_unlock(&d->lock);
	return hit;
}

bool pci_mmio(struct pci_bus *bus, uint64_t addr, unsigned len, bool write, uint8_t *data)
{
	for (unsigned i = 0; i < bus->ndev; i++)
		if (vpci_mmio(bus->dev[i], addr, len, write, data))
			return true;
	return false;
}

/* The host bridge's configuration space: enough for an OS to know it. */
static uint32_t host_bridge_read(unsigned reg)
{
	switch (reg) {
	case 0x00:
		return 0x00081b36; /* a generic PCIe host bridge */
	case 0x08:
		return 0x06000000; /* class: host bridge */
	default:
		return 0;
	}
}

bool pci_port_io(struct pci_bus *bus, uint16_t port, unsigned size, bool write, uint8_t *data)
{
	if (port == PCI_CONFIG_ADDR && size == 4) {
		if (write)
			bus->addr = get32(data) & 0x80fffffc;
		else
			put32(data, bus->addr);
		return true;
	}
	if (port < PCI_CONFIG_DATA || size > 4 || (unsigned)(port - PCI_CONFIG_DATA) > 4 - size) {
		if (port < PCI_CONFIG_ADDR || port >= PCI_CONFIG_DATA + 4)
			return false;
		if (!write) /* swallowed: a read sees nothing there */
			memset(data, 0xff, size);
		return true;
	}
	unsigned bus_nr = (bus->addr >> 16) & 0xff, slot = (bus->addr >> 11) & 0x1f,
		 fn = (bus->addr >> 8) & 7;
	unsigned off = (bus->addr & 0xfc) + (port - PCI_CONFIG_DATA);
	if ((bus->addr & 0x80000000) && bus_nr == 0 && bus->chipset &&
	    i440fx_config(bus->chipset, slot, fn, off, size, write, data))
		return true;
	struct vpci_dev *d = NULL;
	for (unsigned i = 0; i < bus->ndev; i++)
		if (bus->dev[i]->slot == slot)
			d = bus->dev[i];
	bool present = (bus->addr & 0x80000000) && bus_nr == 0 && fn == 0 && (slot == 0 || d);
	if (!write) {
		uint32_t v = 0xffffffff;
		if (present && slot == 0) {
			v = host_bridge_read(off & ~3u) >> (8 * (off & 3));
		} else if (present) {
			pthread_mutex_lock(&d->lock);
			memcpy(&v, d->cfg + off, size);
			pthread_mutex_unlock(&d->lock);
		}
		memcpy(data, &v, size);
	} else if (present && d) {
		uint32_t v = 0;
		memcpy(&v, data, size);
		pthread_mutex_lock(&d->lock);
		config_write(d, off, size, v);
		pthread_mutex_unlock(&d->lock);
	}
	return true;
}

/* --- the I/O thread */

void vpci_poll_backend(struct vpci_dev *d, bool on)
{
	struct epoll_event ev = {.events = on ? EPOLLIN : 0, .data.u32 = d->nqueues};
	epoll_ctl(d->epoll_fd, EPOLL_CTL_MOD, d->backend_fd, &ev);
}

/* epoll tags: queues 0..nqueues-1, then the backend, then stop */
static void *io_thread(void *arg)
{
	struct vpci_dev *d = arg;
	const unsigned stop = d->nqueues + 1;
	struct epoll_event ev = {.events = EPOLLIN};
	for (unsigned q = 0; q < d->nqueues; q++) {
		ev.data.u32 = q;
		epoll_ctl(d->epoll_fd, EPOLL_CTL_ADD, d->kick[q], &ev);
	}
	ev.data.u32 = stop;
	epoll_ctl(d->epoll_fd, EPOLL_CTL_ADD, d->stop_fd, &ev);
	if (d->backend_fd >= 0) {
		ev.data.u32 = d->nqueues;
		epoll_ctl(d->epoll_fd, EPOLL_CTL_ADD, d->backend_fd, &ev);
	}
	if (sandbox_enter(SANDBOX_IO) < 0)
		abort(); /* never run devices unconfined */
	for (;;) {
		struct epoll_event got[VPCI_MAX_QUEUES + 2];
		int n = epoll_wait(d->epoll_fd, got, VPCI_MAX_QUEUES + 2, -1);
		for (int i = 0; i < n; i++) {
			unsigned q = got[i].data.u32;
			if (q == stop)
				return NULL;
			uint64_t count;
			if (q < d->nqueues && read(d->kick[q], &count, sizeof(count)) < 0)
				continue;
			pthread_mutex_lock(&d->lock);
			if (q == d->nqueues || (d->queues[q].ready && !d->queues[q].broken))
				d->process(d, q);
			pthread_mutex_unlock(&d->lock);
		}
	}
}

int vpci_setup(struct pci_bus *bus, struct vpci_dev *d, const struct gmem *mem, int vmfd)
{
	if (bus->ndev + 1 >= I440FX_ISA_SLOT || d->nqueues > VPCI_MAX_QUEUES)
		return -1;
	d->slot = (uint8_t)(bus->ndev + 1); /* slot 0 is the host bridge */
	d->mem = mem;
	d->vmfd = vmfd;
	d->bar = PCI_MMIO_BASE + (uint64_t)d->slot * VPCI_BAR_SIZE;
	d->features |= VIRTIO_F_VERSION_1 | VIRTIO_F_RING_EVENT_IDX;
	pthread_mutex_init(&d->lock, NULL);
	build_config_space(d);
	d->bus = bus;
	if (!bus->route_lock_ready) {
		pthread_mutex_init(&bus->route_lock, NULL);
		bus->route_lock_ready = true;
	}
	reset_device(d);
	return 0;
}

int vpci_add(struct pci_bus *bus, struct vpci_dev *d, const struct gmem *mem, int vmfd)
{
	if (vpci_setup(bus, d, mem, vmfd) < 0)
		return -1;
	d->stop_fd = eventfd(0, EFD_CLOEXEC);
	d->epoll_fd = epoll_create1(EPOLL_CLOEXEC);
	for (unsigned v = 0; v < VPCI_VECTORS; v++) {
		d->irqfd[v] = eventfd(0, EFD_CLOEXEC);
		struct kvm_irqfd irqfd = {.fd = (uint32_t)d->irqfd[v], .gsi = msi_gsi(d, v)};
		if (d->irqfd[v] < 0 || ioctl(vmfd, KVM_IRQFD, &irqfd) < 0) {
			log_errno("virtio: KVM_IRQFD");
			return -1;
		}
	}
	for (unsigned q = 0; q < d->nqueues; q++)
		d->kick[q] = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	for (unsigned q = 0; q < d->nqueues; q++)
		if (d->kick[q] < 0)
			return -1;
	int err = d->stop_fd < 0 || d->epoll_fd < 0
		      ? EMFILE
		      : pthread_create(&d->thread, NULL, io_thread, d);
	if (err) {
		errno = err;
		log_errno("virtio: cannot start an I/O thread");
		return -1;
	}
	d->running = true;
	bus->dev[bus->ndev++] = d;
	update_routes(bus, vmfd);
	return 0;
}

void pci_bus_free(struct pci_bus *bus)
{
	for (unsigned i = 0; i < bus->ndev; i++) {
		struct vpci_dev *d = bus->dev[i];
		uint64_t one = 1;
		if (d->running && write(d->stop_fd, &one, sizeof(one)) == sizeof(one))
			pthread_join(d->thread, NULL);
		for (unsigned q = 0; q < d->nqueues; q++)
			close(d->kick[q]);
		close(d->stop_fd);
		close(d->epoll_fd);
		for (unsigned v = 0; v < VPCI_VECTORS; v++)
			close(d->irqfd[v]); /* KVM drops the irqfd with the VM */
		pthread_mutex_destroy(&d->lock);
	}
	bus->ndev = 0;
	if (bus->route_lock_ready)
		pthread_mutex_destroy(&bus->route_lock);
	bus->route_lock_ready = false;
}
