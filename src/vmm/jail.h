/* What keel-vmm holds, and where it runs.
 *
 * Every file a VM uses is a descriptor, opened once before the guest first
 * starts and kept until keel-vmm ends (a guest reboot reuses them): /dev/kvm,
 * the kernel and initrd, each disk image, each TAP. keel-hostd opens them
 * and passes them ("fds" in the configuration); run by hand, keel-vmm opens
 * the paths itself. The console and the control socket are main.c's.
 *
 * Then, when the configuration has a "jail", keel-vmm locks itself in
 * before it runs any guest code: namespaces of its own (mount, IPC,
 * network, UTS; its PID namespace is made by whoever started it), an empty
 * read-only root, no capabilities, its own uid and gid, no_new_privs, and
 * a limited address space. See vmmconf.h and docs/vmm.md. */
#ifndef KEEL_VMM_JAIL_H
#define KEEL_VMM_JAIL_H

#include "common/vmmconf.h"

#include <jansson.h>

/* Opens what c names that it has no descriptor for (setting c->fd), checks
 * each descriptor is what it should be, and locks the disk images (a
 * writable one exclusively, a read-only one shared: two VMs never write
 * one image). Returns 0, or (logged, naming the field) -1 for what the
 * configuration names, -2 when /dev/kvm cannot be had. */
int jail_open(struct vmm_config *c);

/* Enters the jail of c->jail (c->jailed); 0 or -1 (logged). */
int jail_enter(const struct vmm_config *c);

/* The control socket's "probe" (control.h): what each attempt to get out
 * gave, as {WHAT: "refused (ERRNO)" | "SUCCEEDED"}. */
json_t *jail_probe(const struct vmm_config *c);

#endif
