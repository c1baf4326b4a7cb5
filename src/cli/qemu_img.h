/* qemu-img on the client, for `keel vm import`: what an image is
 * (`qemu-img info --output=json`) and its conversion to a sparse raw file
 * (`qemu-img convert -O raw`, which leaves holes where the image has none
 * or zeros). qemu-img is run from PATH with an argument vector (no shell);
 * its messages go to stderr. Functions print "keel: why" and return -1 on
 * failure. */
#ifndef KEEL_CLI_QEMU_IMG_H
#define KEEL_CLI_QEMU_IMG_H

#include <stdbool.h>
#include <stdint.h>

struct image_info {
	char format[16];    /* qemu-img's name: raw, qcow2, vmdk, vpc (VHD), vhdx, ... */
	char subformat[32]; /* a VMDK's create type (streamOptimized, ...), else "" */
	uint64_t virtual_size;
	bool backing;	      /* it has a backing file */
	bool foreign_extents; /* a VMDK whose data is in other files */
};

/* Probes `path` (format as given, or probed when NULL; a fixed VHD, which
 * qemu-img would take for raw, is found by its footer). Formats other than
 * those `keel vm import` takes (raw, qcow2, vmdk, vpc, vhdx, vdi, qed) are
 * refused. */
int image_probe(const char *path, const char *format, struct image_info *info);
/* Converts path (of `format`) into the new file `raw` (made here, removed
 * again on failure); progress on stderr when asked. */
int image_convert_raw(const char *path, const char *format, const char *raw, bool progress);

#endif
