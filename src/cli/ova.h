/* An OVA: a tar archive (POSIX ustar, as ovftool and VirtualBox write it;
 * GNU long names and pax path/size records are understood) holding an OVF
 * descriptor, its disks and perhaps a manifest. Only regular members are
 * read, found by name; a member's name is never used as a local path (it
 * comes from the archive, which is untrusted), and a member's data is
 * copied to a file the caller opened. */
#ifndef KEEL_CLI_OVA_H
#define KEEL_CLI_OVA_H

#include <stddef.h>
#include <stdint.h>

struct ova_member {
	char name[512];
	uint64_t offset, size; /* of its data in the archive */
};

/* The regular members of the tar open on fd: *members malloc'd. -1 with a
 * message naming `label` when it is not a tar or is cut short. */
int ova_list(int fd, const char *label, struct ova_member **members, size_t *n);
/* The member called `name` (exactly; "./" before a member's name is ignored),
 * or NULL. */
const struct ova_member *ova_find(const struct ova_member *members, size_t n, const char *name);
/* Copies a member's data to out (at its start); -1 with a message. */
int ova_extract(int fd, const struct ova_member *m, int out, const char *label);
/* A whole member in memory (malloc'd, NUL-terminated), if at most max
 * bytes; NULL with a message. */
char *ova_read(int fd, const struct ova_member *m, size_t max, const char *label);
/* Checks the members a manifest (the .mf: lines "SHA256(NAME)= HEX" or
 * "SHA1(NAME)= HEX") lists against their digests: -1 with a message when
 * one differs, is missing or a line is not understood. */
int ova_check_manifest(int fd, const struct ova_member *members, size_t n, const char *manifest,
		       const char *label);

#endif
