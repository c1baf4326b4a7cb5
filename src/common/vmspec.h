/* The VM specification: what a Keel VM may be, one rule for every program
 * that reads or writes a VM's settings (keel-hostd's API, keel-vmm's
 * configuration, the CLI). Each limit and grammar is defined here only;
 * tests/unit/test_vmspec.c runs one table of good and bad values through
 * both hostd's and keel-vmm's parsers. Pure: no I/O. */
#ifndef KEEL_VMSPEC_H
#define KEEL_VMSPEC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define VM_NAME_MAX	   64 /* bytes */
#define VM_MAX_VCPUS	   64
#define VM_MIN_MEM_MIB	   32
#define VM_MAX_MEM_MIB	   (1024 * 1024)
#define VM_CMDLINE_MAX	   2048 /* bytes, without the NUL (x86 Linux's COMMAND_LINE_SIZE) */
#define VM_MAX_DISKS	   8
#define VM_MAX_NICS	   4
#define VM_MIN_MTU	   68
#define VM_MAX_MTU	   65535
#define VM_DISK_SERIAL_MAX 20 /* virtio-blk's device id */
/* A VM's cloud-init texts (bytes of UTF-8, without the NUL): together
 * under the API's 64 KiB body even with every newline escaped. */
#define VM_USER_DATA_MAX      16384
#define VM_META_DATA_MAX      4096
#define VM_NETWORK_CONFIG_MAX 8192

/* How a VM boots (hostd's "firmware"): UEFI (Debian's OVMF, with a variable
 * store of its own), BIOS (Debian's SeaBIOS), or none (keel-vmm loads the
 * VM's kernel and initrd itself: the fastest). */
enum vm_firmware { VM_FIRMWARE_NONE, VM_FIRMWARE_BIOS, VM_FIRMWARE_UEFI };
#define VM_FIRMWARE_RULE "uefi, bios or none"
/* The name ("none", "bios", "uefi") of f, and back: -1 for another name. */
const char *vm_firmware_name(enum vm_firmware f);
int vm_firmware_parse(const char *name);

/* A VM name: 1..VM_NAME_MAX characters of A-Z a-z 0-9 . _ -, not starting
 * with . or - (so that it is a safe file and folder name). */
#define VM_NAME_RULE "1 to 64 characters of A-Z a-z 0-9 . _ -, the first not . or -"
bool vm_name_valid(const char *name);

/* A MAC address "52:54:00:12:34:56": six pairs of hex digits (either case)
 * separated by ':', unicast and not all zeros. Returns 0 or -1. */
int mac_parse(const char *text, uint8_t mac[6]);
#define MAC_TEXT_LEN 18 /* with the NUL */
/* Lower case, as the API shows it. */
void mac_format(const uint8_t mac[6], char out[MAC_TEXT_LEN]);
/* The MAC of NIC `index` of VM `name` when none is given: 52:54:00 and
 * three bytes of an FNV-1a hash of the name and the index, so that a VM
 * keeps its addresses from one power-on to the next. */
void mac_default(const char *name, unsigned index, uint8_t mac[6]);

/* The TAP interface of NIC `nic` of the VM with inventory id `vm_id`:
 * "kvID.N" (ID taken modulo 10^8, so that it fits in IFNAMSIZ). keel-hostd
 * creates it and finds its VMs' ports by it; names starting with "kv" are
 * kept for these. */
#define VM_TAP_PREFIX	"kv"
#define VM_TAP_NAME_LEN 16 /* IFNAMSIZ */
void vm_tap_name(char out[VM_TAP_NAME_LEN], int64_t vm_id, unsigned nic);
/* The inverse: true and *vm_id, *nic when `ifname` is a VM's TAP. */
bool vm_tap_parse(const char *ifname, int64_t *vm_id, unsigned *nic);

#endif
