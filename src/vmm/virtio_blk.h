/* virtio-blk: a disk backed by a raw image file, one instance per entry of
 * the configuration's "disks". The requests themselves are parsed and
 * executed by blk.c (pure code, fuzzed); this file is the device around
 * it: its configuration space, features and queue. */
#ifndef KEEL_VMM_VIRTIO_BLK_H
#define KEEL_VMM_VIRTIO_BLK_H

#include "vmm/vdev.h"

extern const struct vdev_type virtio_blk_type;

#endif
