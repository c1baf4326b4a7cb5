/* Finding the Keel disk's partitions by GPT label, and reading an ext4
 * superblock's state. The parsing functions are pure; disk_find() scans
 * /sys/class/block. */
#ifndef KEEL_DISK_H
#define KEEL_DISK_H

#include <stddef.h>

/* Partition labels of the Keel disk layout (see image/mkdisk.sh). */
#define LABEL_ESP	"KEEL-ESP"
#define LABEL_BOOTA	"KEEL-BOOTBANK-A"
#define LABEL_BOOTB	"KEEL-BOOTBANK-B"
#define LABEL_CONFIG	"KEEL-CONFIG"
#define LABEL_SCRATCH	"KEEL-SCRATCH"
#define LABEL_DATASTORE "KEEL-DATASTORE"

/* From the text of a block device's uevent file, extracts DEVNAME and
 * PARTNAME. Returns 0 if both are present. */
int uevent_parse(const char *text, char *devname, size_t dn, char *partname, size_t pn);

/* Whether a partition name matches a wanted label. Exact match only: GPT
 * names are case-sensitive and "KEEL-CONFIG-OLD" is not "KEEL-CONFIG". */
int label_matches(const char *partname, const char *label);

enum ext4_state { EXT4_NOT_EXT4, EXT4_CLEAN, EXT4_DIRTY };
/* Reads the state of an ext4 superblock (the 1024 bytes at offset 1024):
 * clean means VALID_FS set, no errors, and no journal recovery pending. */
enum ext4_state ext4_sb_state(const unsigned char *sb, size_t len);

/* Finds the partition whose GPT name is `label` under `sysblock` (normally
 * /sys/class/block). Writes "/dev/NAME" to `dev`. Returns the number of
 * matches (0: none; more than 1: the first is used and the caller warns). */
int disk_find(const char *sysblock, const char *label, char *dev, size_t n);

/* ext4 state of a block device or image file */
enum ext4_state ext4_dev_state(const char *dev);

#endif
