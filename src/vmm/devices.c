/* The table of keel-vmm's device types, in the order their instances take
 * PCI slots (a new type goes last, so that existing guests keep their
 * slots).
 *
 * A new virtio device touches exactly:
 *   - its own file, src/vmm/virtio_<name>.c, with its header
 *     src/vmm/virtio_<name>.h declaring its `const struct vdev_type`
 *     (see vdev.h for the contract);
 *   - this table (one include, one line), and src/vmm/meson.build (its
 *     source file);
 *   - the configuration schema, src/common/vmmconf.[ch]: its section of
 *     `struct vmm_config`, its parsing and writing (and, for hostd to offer
 *     it, hostd's vmconf.c, which fills that section in). */
#include "vmm/vdev.h"

#include "vmm/virtio_blk.h"
#include "vmm/virtio_net.h"
#include "vmm/virtio_rng.h"

const struct vdev_type *const vdev_types[] = {
    &virtio_blk_type,
    &virtio_net_type,
    &virtio_rng_type,
};

const size_t vdev_ntypes = sizeof(vdev_types) / sizeof(vdev_types[0]);
