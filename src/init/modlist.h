/* Kernel module list and dependency resolution (pure: no system calls).
 *
 * The curated list (image/modules.list) holds one module name per line,
 * followed by an optional "# why" comment. modules.dep is the file depmod
 * writes: "path/name.ko: dep1.ko dep2.ko". modlist_order() turns the two into
 * the list of module paths to insert, dependencies first, each once. */
#ifndef KEEL_MODLIST_H
#define KEEL_MODLIST_H

#include <stddef.h>

#define MODLIST_MAX 256

struct modlist {
	size_t n;
	char *names[MODLIST_MAX]; /* normalised: '-' becomes '_' */
};

/* Parses the curated list. Returns 0, or -1 if a line is malformed (more
 * than one word, or too many modules); *bad_line gets its number. */
int modlist_parse(struct modlist *ml, const char *text, int *bad_line);
void modlist_free(struct modlist *ml);

/* The module name of a path: "kernel/x/kvm-amd.ko" -> "kvm_amd". */
void modname_from_path(const char *path, char *out, size_t n);

/* Resolves the load order of the modules in `ml` against modules.dep text.
 * Fills `order` with malloc'd paths (relative, as in modules.dep), deps
 * first, no duplicates. Names not found go into `missing` (borrowed
 * pointers into ml). Returns the number of paths, or -1 on overflow or a
 * dependency cycle. */
int modlist_order(const struct modlist *ml, const char *moddep, char **order, size_t max,
		  const char **missing, size_t *nmissing);

#endif
