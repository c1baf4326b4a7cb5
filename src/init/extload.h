/* keel-init's side of the extensions (common/extension.h): their modules
 * loaded at boot, and EXT_STATUS written. */
#ifndef KEEL_INIT_EXTLOAD_H
#define KEEL_INIT_EXTLOAD_H

#include <stddef.h>

/* loads one module from its open file: 0, or a negative errno */
typedef int (*extload_fn)(int fd);

/* Loads the extensions under bank_dir (in name order, each one's modules
 * in its EXT_ORDER's order, stopping at its first failure) with `load`
 * (finit_module but in tests), logging each; their status lines into
 * `status` (n bytes, NUL-terminated). Returns the number of extensions
 * loaded whole. */
int extload_all(const char *bank_dir, extload_fn load, char *status, size_t n);

#endif
