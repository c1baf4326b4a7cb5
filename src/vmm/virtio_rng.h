/* virtio-rng: an entropy device fed from the host's getrandom(), present
 * when the configuration says "rng": true. */
#ifndef KEEL_VMM_VIRTIO_RNG_H
#define KEEL_VMM_VIRTIO_RNG_H

#include "vmm/vdev.h"

extern const struct vdev_type virtio_rng_type;

#endif
