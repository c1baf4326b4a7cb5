/* Layer: domain (pure: no files, no clock). Includes: nothing of hostd.
 *
 * A small ISO 9660 image writer: one root directory holding a few small
 * files, with a Joliet tree beside the primary one so that the files keep
 * their lower-case names with '-' (what cloud-init's NoCloud seed needs:
 * the files user-data, meta-data, network-config on a volume labelled
 * "cidata"). Linux (isofs, blkid), cloud-init, Windows and the BSDs read
 * it; docs/api.md ("cloud_init") describes the seed made with it.
 *
 * The layout (2048-byte sectors): 0-15 zero (system area), 16 the primary
 * volume descriptor, 17 the Joliet supplementary one, 18 the terminator,
 * 19-22 the path tables (L and M, primary then Joliet), 23 the primary
 * root directory, 24 the Joliet one, then each file's data from a sector
 * boundary, then ISO_PADDING zero sectors (part of the volume) as
 * genisoimage and xorriso write them: some readers (busybox's findfs) look
 * at the first 64 KiB and more, and CD readers at the end. Both trees
 * point to the same data. The primary tree names a
 * file in ISO level 1 (upper case, 8.3, ";1"); names must stay distinct
 * there. The image is the same bytes for the same input and time.
 *
 * Every input is checked (the file contents come from API users): names
 * and label by grammar, counts and sizes by the limits below. */
#ifndef KEEL_HOSTD_ISOIMAGE_H
#define KEEL_HOSTD_ISOIMAGE_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#define ISO_SECTOR     2048
#define ISO_MAX_FILES  8
#define ISO_NAME_MAX   32	  /* a file's name: bytes of a-z 0-9 . _ - */
#define ISO_LABEL_MAX  16	  /* the volume label: bytes of A-Z a-z 0-9 _ - */
#define ISO_FILE_MAX   (1u << 20) /* bytes in one file */
#define ISO_PADDING    150	  /* sectors */
#define ISO_FIRST_DATA 25	  /* the sector of the first file's data */

struct iso_file {
	const char *name;
	const void *data;
	size_t len;
};

/* The image of `files` (any order; written sorted by name) on a volume
 * named `label`, dated `when` (UTC), into a malloc'ed buffer (*out, *outlen
 * bytes, a multiple of ISO_SECTOR). Returns 0, or -1 with a message. */
int isoimage_build(const char *label, const struct iso_file *files, size_t nfiles, time_t when,
		   uint8_t **out, size_t *outlen, char *err, size_t errlen);

#endif
