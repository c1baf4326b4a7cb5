/* PCI bus 0 through configuration mechanism #1 (ports 0xCF8/0xCFC), a host
 * bridge at 00:00.0 (a generic one, or with firmware the PC chipset of
 * i440fx.h), and virtio 1.x devices on the modern PCI transport
 * (virtio 1.2, section 4.1): one 64-bit memory BAR holding the common,
 * ISR, device-specific and notification regions, and an MSI-X table.
 *
 * Each device has an I/O thread: queue notifications (KVM ioeventfds, or
 * MMIO exits as a fallback) wake it, it runs the device's `process` for the
 * queue with the device lock held, and interrupts go to the guest as MSI
 * through irqfds: each MSI-X vector has an eventfd bound to a GSI whose
 * route KVM takes from the vector's table entry (KVM_SET_GSI_ROUTING,
 * rebuilt when the guest rewrites the table). Configuration and MMIO
 * accesses come from vCPU threads and take the same lock; an MMIO access
 * finds its BAR under it, since another vCPU may be moving that BAR.
 * Everything the guest writes is checked, and no bounds check has a sum
 * that can wrap. */
#ifndef KEEL_VMM_PCI_H
#define KEEL_VMM_PCI_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "vmm/acpi.h"
#include "vmm/i440fx.h"
#include "vmm/virtq.h"

#define PCI_CONFIG_ADDR 0xcf8
#define PCI_CONFIG_DATA 0xcfc
#define PCI_MAX_SLOTS	32
#define PCI_MMIO_BASE	ACPI_PCI_WINDOW_START
#define VPCI_BAR_SIZE	0x8000u
#define VPCI_MAX_QUEUES 4
#define VPCI_VECTORS	(VPCI_MAX_QUEUES + 1)
#define VPCI_NO_VECTOR	0xffff

#define VIRTIO_F_RING_EVENT_IDX (1ull << 29)
#define VIRTIO_F_VERSION_1	(1ull << 32)

struct vpci_dev;
struct pci_bus;

/* Handles the available buffers of queue q; called with dev->lock held.
 * q == nqueues means the backend's fd (backend_fd) is readable. */
typedef void (*vpci_process_fn)(struct vpci_dev *dev, unsigned q);
/* Told the features the driver settled on (at FEATURES_OK), and 0 when it
 * resets the device; called with dev->lock held. */
typedef void (*vpci_features_fn)(struct vpci_dev *dev, uint64_t features);

struct vpci_dev {
	/* set by the device before vpci_add() */
	uint16_t type; /* the virtio device ID (virtio 1.2, section 5) */
	uint32_t class_code;
	uint64_t features;
	unsigned nqueues;
	uint16_t max_queue_size;
	const void *devcfg; /* device-specific configuration (read-only) */
	uint32_t devcfg_len;
	vpci_process_fn process;
	vpci_features_fn set_features; /* may be NULL */
	int backend_fd; /* polled by the I/O thread when >= 0 (set it to -1 if none) */

	/* transport state */
	pthread_mutex_t lock;
	const struct gmem *mem;
	int vmfd;
	uint8_t slot;
	uint8_t cfg[256]; /* PCI configuration space */
	uint64_t bar;
	uint32_t dfsel, gfsel;
	uint64_t driver_features;
	uint8_t status, config_gen, isr;
	uint16_t msix_config, queue_sel;
	struct virtq queues[VPCI_MAX_QUEUES];
	int kick[VPCI_MAX_QUEUES];	     /* eventfds the I/O thread waits on */
	uint64_t ioeventfd[VPCI_MAX_QUEUES]; /* where registered with KVM; 0: not */
	struct {
		uint32_t addr_lo, addr_hi, data, ctrl;
	} msix[VPCI_VECTORS];
	uint32_t pba;
	int irqfd[VPCI_VECTORS];
	struct pci_bus *bus;
	int stop_fd;
	int epoll_fd; /* the I/O thread's */
	pthread_t thread;
	bool running;
};

struct pci_bus {
	uint32_t addr;		    /* the 0xCF8 register */
	struct i440fx *chipset;	    /* with firmware: the PC chipset's functions; else NULL */
	pthread_mutex_t route_lock; /* KVM's GSI routing table is one per VM */
	bool route_lock_ready;
	struct vpci_dev *dev[PCI_MAX_SLOTS];
	unsigned ndev;
};

/* Puts dev in the next free slot, gives it its BAR, starts its thread. */
int vpci_add(struct pci_bus *bus, struct vpci_dev *dev, const struct gmem *mem, int vmfd);
/* The part of vpci_add that makes no descriptor, thread or KVM call: gives
 * dev the slot after the bus's last device and that slot's BAR (memory
 * decoding off), builds its configuration space, initialises its lock and
 * resets it. It does not put dev on the bus. vpci_add goes on to make dev's
 * eventfds and I/O thread; the unit tests and fuzzers use it alone, setting
 * dev->kick[] and dev->irqfd[] themselves. -1 if the bus is full or dev
 * has more than VPCI_MAX_QUEUES queues. */
int vpci_setup(struct pci_bus *bus, struct vpci_dev *dev, const struct gmem *mem, int vmfd);
/* Stops the I/O threads and frees what vpci_add made. */
void pci_bus_free(struct pci_bus *bus);

/* Port I/O at 0xCF8..0xCFF; returns false if the port is not PCI's. data
 * holds `size` bytes (1, 2 or 4); a read PCI swallows (anything but a
 * 4-byte access of 0xCF8 and an access within 0xCFC..0xCFF) returns all
 * ones. bus->addr has no lock of its own: the caller serialises port I/O
 * (keel-vmm holds the VM lock). Configuration space is read and written
 * under the device's lock. */
bool pci_port_io(struct pci_bus *bus, uint16_t port, unsigned size, bool write, uint8_t *data);
/* An MMIO access of len bytes at guest-physical addr, from any vCPU
 * thread; returns false if no enabled BAR holds all of it (the caller
 * then makes a read return all ones). */
bool pci_mmio(struct pci_bus *bus, uint64_t addr, unsigned len, bool write, uint8_t *data);
/* The same for one device: under dev->lock, the one lock that guards its
 * BAR address, its command register and everything an access touches, it
 * checks that decoding is on and that [addr, addr + len) lies in the BAR
 * (len 1..8, no sum that can wrap), then does the access. */
bool vpci_mmio(struct vpci_dev *dev, uint64_t addr, unsigned len, bool write, uint8_t *data);

/* Signals the used buffers of queue q to the guest, unless it asked not
 * to be told. Called with dev->lock held. */
void vpci_notify_queue(struct vpci_dev *dev, unsigned q);
/* Whether the I/O thread listens to backend_fd (off while the guest has
 * given no buffers to fill). Called from `process`. */
void vpci_poll_backend(struct vpci_dev *dev, bool on);

#endif
