/* Layer: domain. Includes: datastore.h, error.h; never http.h or api.h.
 *
 * The host's datastores ("local" only for now), opened once at start, and
 * datastore paths: "DATASTORE/PATH" names a file in a datastore (the form
 * VM configurations use). Errors follow error.h (-ENOENT: no such datastore
 * or file). The table is filled by datastores_open before any thread
 * starts, and only read afterwards. */
#ifndef KEEL_HOSTD_DATASTORE_REGISTRY_H
#define KEEL_HOSTD_DATASTORE_REGISTRY_H

#include "hostd/datastore.h"

#include <stddef.h>

int datastores_open(char *err, size_t errlen);
/* The open datastore called `name`, or NULL. */
struct datastore *datastore_find(const char *name);
/* The i-th open datastore (0, 1, ...), or NULL past the last one. */
struct datastore *datastore_at(size_t i);
/* "DS/PATH" → the datastore and PATH (NULL with a message if no such DS) */
struct datastore *datastore_split(const char *dspath, const char **rel, char *err, size_t errlen);
/* "DS/PATH" → a host path, for keel-vmm (vmconf_resolve_fn) */
int datastore_resolve(const char *dspath, char *out, size_t outlen, char *err, size_t errlen);
/* 0 if "DS/PATH" is a regular file, else a negative errno (-EISDIR for a
 * folder) with a message. */
int datastore_file_exists(const char *dspath, char *err, size_t errlen);

#endif
