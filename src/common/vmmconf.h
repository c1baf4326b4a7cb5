/* keel-vmm's VM configuration: a JSON file named on its command line,
 * written by keel-hostd (vmmconf_format) or by hand (docs/vmm.md). The
 * limits and grammars are the VM specification's (vmspec.h).
 *
 *   {
 *     "name": "web1",                     vm_name_valid
 *     "vcpus": 2,                         1..VM_MAX_VCPUS
 *     "memory_mib": 512,                  VM_MIN_MEM_MIB..VM_MAX_MEM_MIB
 *     "kernel": "/datastores/local/vmlinuz",   bzImage or ELF vmlinux
 *     "initrd": "/datastores/local/initrd.img",   optional
 *     "cmdline": "console=ttyS0",         optional, at most VM_CMDLINE_MAX
 *     "console": {"type": "file", "path": "/scratch/log/web1.console"},
 *                 type: stdio (default) | file | pty | socket (unix, path);
 *                 a file is kept within VMM_CONSOLE_FILE_MAX bytes: past
 *                 it, its oldest half goes
 *     "control": "/run/keel/vm/web1.sock",  optional control socket
 *     "on_reboot": "restart",             restart (default) | exit
 *     "boot_timer": false,                see docs/vmm.md
 *     "disks": [{"path": "/datastores/local/web1/disk0.img",
 *                "readonly": false, "serial": "disk0"}],   virtio-blk,
 *                                         at most VM_MAX_DISKS
 *     "rng": true,                        a virtio-rng device
 *     "nics": [{"tap": "tap0", "mac": "52:54:00:12:34:56",
 *               "mtu": 9000}]              virtio-net, at most VM_MAX_NICS;
 *                                         mac: mac_parse, default mac_default;
 *                                         mtu optional, VM_MIN_MTU..VM_MAX_MTU
 *     "fds": {"kvm": 4, "kernel": 5, "initrd": 6, "console": 7,
 *             "control": 8, "disks": [9], "nics": [10]},
 *     "jail": {"uid": 100042, "gid": 100042, "root": "/run/keel/jail"}
 *   }
 *
 * "fds" (optional): the descriptors keel-vmm inherits for what the other
 * fields name, which it then uses instead of opening those paths (the
 * paths stay, for its messages): /dev/kvm; the kernel and initrd, read
 * again at each guest reboot; the console file or, for a socket console,
 * the listening socket; the control socket's listening socket; each disk
 * image, opened read-only or read-write as its "readonly" says; each TAP,
 * already attached to its interface (TUNSETIFF). There must be one for
 * each of them the configuration uses and none else, each VMM_FD_MIN..
 * VMM_FD_MAX and all different. A stdio or pty console takes none.
 *
 * "jail" (optional, needs "fds"): once set up, keel-vmm mounts an empty
 * read-only root on the directory "root" (which must exist) and moves into
 * it (pivot_root), drops every capability, switches to uid/gid (not 0)
 * with no supplementary groups and sets no_new_privs, before it runs the
 * guest; its address space is limited to vmm_address_space_limit(). It
 * expects to have been started in namespaces of its own (mount, PID, IPC,
 * network, UTS) and in a cgroup limited to vmm_memory_limit_mib() and
 * vmm_pids_limit() by whoever started it (keel-hostd; docs/vmm.md).
 *
 * Unknown fields are refused, so that a misspelt option never passes
 * silently. Errors name the field. */
#ifndef KEEL_VMMCONF_H
#define KEEL_VMMCONF_H

#include "common/vmspec.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define VMM_PATH_MAX	     4095      /* kernel, initrd, disks */
#define VMM_SOCKET_MAX	     107       /* console and control sockets: sun_path */
#define VMM_CONFIG_MAX	     (1 << 20) /* bytes of a configuration file */
#define VMM_CONSOLE_FILE_MAX (8 << 20) /* bytes of a file console */
#define VMM_FD_MIN	     3
#define VMM_FD_MAX	     1023
#define VMM_CONFIG_FD	     3 /* keel-vmm --config-fd: where keel-hostd puts the configuration */

enum console_type { CONSOLE_STDIO, CONSOLE_FILE, CONSOLE_PTY, CONSOLE_SOCKET };

struct vmm_disk {
	char *path;
	bool readonly;
	char serial[VM_DISK_SERIAL_MAX + 1]; /* default "diskN" */
};

/* Descriptors of the resources a configuration names; -1: none. */
struct vmm_fds {
	int kvm, kernel, firmware, nvram, initrd, console, control;
	int disks[VM_MAX_DISKS];
	int nics[VM_MAX_NICS];
};

struct vmm_jail {
	unsigned uid, gid; /* 1..VMM_JAIL_ID_MAX */
	char *root;	   /* an existing directory to mount the empty root on */
};

#define VMM_JAIL_ID_MAX 0x7fffffffu

struct vmm_config {
	char name[VM_NAME_MAX + 1];
	unsigned vcpus;
	uint64_t memory_mib;
	char *kernel;	/* NULL: boots the firmware */
	char *firmware; /* a BIOS or UEFI image, mapped below 4 GiB; NULL: direct kernel boot */
	char *nvram;	/* with firmware: a UEFI variable store, a flash below it; or NULL */
	unsigned nboot;
	unsigned boot_order[VM_MAX_DISKS]; /* with firmware: disk indexes, each once */
	char *initrd;			   /* NULL: none */
	char *cmdline;			   /* never NULL */
	enum console_type console;
	char *console_path; /* file or socket path */
	char *control;	    /* NULL: no control socket */
	bool reboot_exits;
	bool boot_timer;
	unsigned ndisks;
	struct vmm_disk disks[VM_MAX_DISKS];
	bool rng;
	unsigned nnics;
	struct vmm_nic {
		char tap[VM_TAP_NAME_LEN]; /* an existing TAP interface (or one to create) */
		uint8_t mac[6];
		unsigned mtu; /* offered to the guest; 0: none */
	} nics[VM_MAX_NICS];
	bool has_fds; /* "fds" was given: fd holds them */
	struct vmm_fds fd;
	bool jailed; /* "jail" was given */
	struct vmm_jail jail;
};

/* The limits of a jailed keel-vmm for a guest of mem_mib MiB and `vcpus`
 * vCPUs: the memory of its cgroup (guest RAM, keel-vmm itself, what KVM
 * allocates for it, and the page cache of its disks) in MiB, its tasks
 * (vCPU and I/O threads), and its address space in bytes (guest RAM, the
 * threads' stacks and malloc's arenas: generous, so that only a runaway
 * allocation meets it, and fails there rather than in the OOM killer). */
uint64_t vmm_memory_limit_mib(uint64_t mem_mib, unsigned vcpus);
unsigned vmm_pids_limit(unsigned vcpus);
uint64_t vmm_address_space_limit(uint64_t mem_mib, unsigned vcpus);

/* Parses a configuration text. On error returns -1 with a message naming
 * the field in err; the config is then left empty (nothing to free). */
int vmmconf_parse(const char *text, struct vmm_config *c, char *err, size_t errlen);
/* Reads and parses a configuration file, or (path NULL) what can be read
 * from descriptor fd. */
int vmmconf_load(const char *path, int fd, struct vmm_config *c, char *err, size_t errlen);
/* An empty configuration (no descriptors) for a caller to fill, with
 * malloc'ed strings that vmmconf_free frees. */
void vmmconf_init(struct vmm_config *c);
void vmmconf_free(struct vmm_config *c);
/* The configuration as JSON text (malloc'ed) that vmmconf_parse reads back
 * into the same settings; NULL with a message if c holds a value that it
 * would not (an invalid one). */
char *vmmconf_format(const struct vmm_config *c, char *err, size_t errlen);

#endif
