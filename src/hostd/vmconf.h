/* A VM's configuration in keel-hostd: the checks of what the API is given
 * (create and update), and the keel-vmm configuration made from it. Pure:
 * no files are looked at here (the API checks that kernels and disks exist).
 *
 * The canonical configuration, as stored in the inventory and shown by the
 * API: name, vcpus, memory_mib, kernel, initrd ("" for none), cmdline,
 * disks [{path, readonly}], nics [{mac, portgroup}], autostart, autostart_order,
 * autostart_delay_s. Datastore paths are "DATASTORE/PATH". */
#ifndef KEEL_HOSTD_VMCONF_H
#define KEEL_HOSTD_VMCONF_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

/* Checks `body` and returns the new canonical configuration (a new
 * reference): a whole VM when base is NULL (create), or base with the
 * fields of `body` changed (update; the name cannot change). A disk may
 * carry "size_mib" (a disk to create), kept in the result for the caller,
 * who removes it with vmconf_strip_sizes() once the disk exists. On error
 * returns NULL with a message naming the field. */
json_t *vmconf_build(const json_t *body, const json_t *base, int64_t host_memory_mib, char *err,
		     size_t errlen);
void vmconf_strip_sizes(json_t *conf);

/* Maps a datastore path to a file on the host; returns -1 with a message. */
typedef int (*vmconf_resolve_fn)(const char *dspath, char *out, size_t outlen, char *err,
				 size_t errlen);

/* keel-vmm's configuration (see docs/vmm.md) for the VM with inventory id
 * `id`: its console to `console_path`, its control socket `control_path`,
 * TAPs named "kvID.N". */
json_t *vmconf_vmm(const json_t *conf, int64_t id, const char *console_path,
		   const char *control_path, vmconf_resolve_fn resolve, char *err, size_t errlen);

#endif
