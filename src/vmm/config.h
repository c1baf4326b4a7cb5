/* keel-vmm's VM configuration: a JSON file named on the command line.
 *
 *   {
 *     "name": "web1",                     1..64 of [A-Za-z0-9._-]
 *     "vcpus": 2,                         1..VMM_MAX_VCPUS
 *     "memory_mib": 512,                  VMM_MIN_MEM_MIB..VMM_MAX_MEM_MIB
 *     "kernel": "/datastores/local/vmlinuz",   bzImage or ELF vmlinux
 *     "initrd": "/datastores/local/initrd.img",   optional
 *     "cmdline": "console=ttyS0",         optional
 *     "console": {"type": "file", "path": "/scratch/log/web1.console"},
 *                 type: stdio (default) | file | pty | socket (unix, path)
 *     "control": "/run/keel/vm/web1.sock",  optional control socket
 *     "on_reboot": "restart",             restart (default) | exit
 *     "boot_timer": false,                see docs/vmm.md
 *     "disks": [{"path": "/datastores/local/web1/disk0.img",
 *                "readonly": false, "serial": "disk0"}],   virtio-blk
 *     "rng": true,                        a virtio-rng device
 *     "nics": [{"tap": "tap0", "mac": "52:54:00:12:34:56",
 *               "mtu": 9000}]              virtio-net; mtu optional, 68..65535
 *   }
 *
 * Unknown fields are refused, so that a misspelt option never passes
 * silently. Errors name the field. */
#ifndef KEEL_VMM_CONFIG_H
#define KEEL_VMM_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define VMM_MAX_VCPUS	64
#define VMM_MIN_MEM_MIB 32
#define VMM_MAX_MEM_MIB (1024 * 1024)
#define VMM_CMDLINE_MAX 4096

#define VMM_MAX_DISKS 8
#define VMM_MAX_NICS  4
#define VMM_MIN_MTU   68
#define VMM_MAX_MTU   65535

enum console_type { CONSOLE_STDIO, CONSOLE_FILE, CONSOLE_PTY, CONSOLE_SOCKET };

struct vmm_disk {
	char *path;
	bool readonly;
	char serial[21]; /* virtio-blk's 20-byte id; default "diskN" */
};

struct vmm_config {
	char name[65];
	unsigned vcpus;
	uint64_t memory_mib;
	char *kernel;
	char *initrd;  /* NULL: none */
	char *cmdline; /* never NULL */
	enum console_type console;
	char *console_path; /* file or socket path */
	char *control;	    /* NULL: no control socket */
	bool reboot_exits;
	bool boot_timer;
	unsigned ndisks;
	struct vmm_disk disks[VMM_MAX_DISKS];
	bool rng;
	unsigned nnics;
	struct vmm_nic {
		char tap[16];	/* an existing TAP interface (or one to create) */
		uint8_t mac[6]; /* default: 52:54:00 and a hash of name and index */
		unsigned mtu;	/* offered to the guest; 0: none */
	} nics[VMM_MAX_NICS];
};

/* Parses a configuration text. On error returns -1 with a message naming
 * the field in err; the config is then left empty (nothing to free). */
int config_parse(const char *text, struct vmm_config *c, char *err, size_t errlen);
/* Reads and parses a configuration file. */
int config_load(const char *path, struct vmm_config *c, char *err, size_t errlen);
void config_free(struct vmm_config *c);

#endif
