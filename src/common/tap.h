/* The descriptor of a NIC's TAP interface, as keel-vmm's virtio-net uses it
 * (IFF_TAP | IFF_NO_PI | IFF_VNET_HDR, non-blocking): opened by keel-hostd,
 * which passes it to keel-vmm, or by keel-vmm run by hand. */
#ifndef KEEL_TAP_H
#define KEEL_TAP_H

/* Attaches to the TAP interface `name` (created if it does not exist and
 * the caller may); the descriptor, or -1 with errno set. */
int tap_open(const char *name);

#endif
