/* The datastore registry (see datastore_registry.h). */
#include "hostd/datastore_registry.h"

#include "common/util.h"
#include "hostd/error.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#define DS_ROOT "/datastores"

static struct datastore stores[1];

int datastores_open(char *err, size_t errlen)
{
	mkdir(DS_ROOT, 0755);
	mkdir(DS_ROOT "/local", 0755); /* no datastore partition: RAM */
	return ds_open(&stores[0], "local", DS_ROOT "/local", err, errlen);
}

struct datastore *datastore_find(const char *name)
{
	for (size_t i = 0; i < ARRAY_SIZE(stores); i++)
		if (stores[i].fd >= 0 && strcmp(stores[i].name, name) == 0)
			return &stores[i];
	return NULL;
}

struct datastore *datastore_at(size_t i)
{
	size_t seen = 0;
	for (size_t j = 0; j < ARRAY_SIZE(stores); j++)
		if (stores[j].fd >= 0 && seen++ == i)
			return &stores[j];
	return NULL;
}

struct datastore *datastore_split(const char *dspath, const char **rel, char *err, size_t errlen)
{
	char name[64];
	size_t n = strcspn(dspath, "/");
	snprintf(name, sizeof(name), "%.*s", (int)(n < 63 ? n : 63), dspath);
	struct datastore *ds = n < 64 && dspath[n] == '/' ? datastore_find(name) : NULL;
	if (!ds)
		error_set(err, errlen, -ENOENT, "%s: no such datastore", name);
	*rel = dspath + n + (dspath[n] == '/');
	return ds;
}

int datastore_resolve(const char *dspath, char *out, size_t outlen, char *err, size_t errlen)
{
	const char *rel;
	struct datastore *ds = datastore_split(dspath, &rel, err, errlen);
	return ds ? ds_host_path(ds, rel, out, outlen, err, errlen) : -ENOENT;
}

int datastore_file_exists(const char *dspath, char *err, size_t errlen)
{
	const char *rel;
	struct datastore *ds = datastore_split(dspath, &rel, err, errlen);
	struct ds_entry e;
	if (!ds)
		return -ENOENT;
	int rc = ds_stat(ds, rel, &e, err, errlen);
	if (rc < 0)
		return rc;
	if (e.is_dir)
		return error_set(err, errlen, -EISDIR, "%s: is a folder", dspath);
	return 0;
}
