/* Layer: domain. Includes: nothing of hostd but its own types; bundle.c
 * includes db.h, logs.h, network.h, tar.h, vmconf.h, vms.h.
 *
 * The support bundle: a tar.gz made while it is read (bundle_read), in
 * bounded memory (a 64 KiB buffer, zlib's state, and one member's text at
 * a time for the members made here, each bounded), never written to disk.
 * Its members, under one folder "keel-support-HOST-TIME/":
 *   README.txt           what is here, when, for whom, what was left out
 *   version.txt          Keel's version, the kernel's (uname, /proc/version)
 *   etc/keel/...         the image's service table and module list
 *   proc/...             cmdline, meminfo, cpuinfo, uptime, loadavg, mounts
 *   logs/NAME.log[.N]    every log and its rotated files (the audit trail
 *                        only if `audit`)
 *   kernel/dmesg.txt     the kernel's ring buffer (/dev/kmsg)
 *   config/host.conf     host.conf, its keys by an allow-list (any other
 *                        key shows as "(not included)")
 *   config/files.txt     the names and sizes of the files of /config
 *   config/tls/host.crt  the certificate (public; never the key)
 *   inventory.json       the inventory by an allow-list (db_dump_json)
 *   network/...          links (/sys/class/net), addresses, routes and
 *                        sockets (/proc/net), the NICs, connections and
 *                        neighbours as the API shows them, the switches
 *                        and port groups
 *   processes.txt        every process's stat, status and command line
 *   disks.txt            every mount's usage (statvfs)
 *   vms/NAME/config.json, vmm.log, console.log (its last 1 MiB)
 * A file that cannot be read is left out (README.txt lists it). A file
 * that grows while it is read is cut at its size when it was opened, one
 * that shrinks is padded with '\n'. */
#ifndef KEEL_HOSTD_BUNDLE_H
#define KEEL_HOSTD_BUNDLE_H

#include <stdbool.h>
#include <stddef.h>

#define BUNDLE_CONSOLE_TAIL (1024 * 1024)

struct bundle_opts {
	const char *user;    /* who asked (README.txt) */
	bool audit;	     /* with the audit trail */
	const char *version; /* Keel's */
	const char *hostname;
	const char *mgmt_if; /* the management NIC, or NULL */
	const char *log_dir; /* the host's logs (common/logfiles.h) */
	const char *vm_dir;  /* the VMs' log folders (vms.h) */
	const char *config_dir;
	const char *root; /* "" on a host; a test's fake root */
};

struct bundle;
/* user and mgmt_if are copied; the other strings must outlive the bundle */
struct bundle *bundle_new(const struct bundle_opts *o);
/* The next bytes of the tar.gz: > 0, 0 at its end, -1 on failure. */
long bundle_read(struct bundle *b, char *buf, size_t max);
void bundle_free(struct bundle *b);
/* "keel-support-HOST-20261203T172432Z.tgz" */
const char *bundle_filename(const struct bundle *b);

#endif
