#include "hostd/vmfiles.h"

#include "common/log.h"
#include "common/util.h"
#include "hostd/cidata.h"
#include "hostd/datastore_registry.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* the suffixes of the files a VM owns */
static const char *const own[] = {"nvram", CIDATA_SUFFIX};

int vmfiles_path(const struct vm_config *c, const char *suffix, char out[VM_DSPATH_MAX + 1])
{
	char home[VM_DSPATH_MAX + 1];
	if (vmconf_home(c, home) < 0)
		return -1;
	char path[sizeof(home) + sizeof(c->name) + 32];
	int n = snprintf(path, sizeof(path), "%s/%s.%s", home, c->name, suffix);
	if (n <= 0 || n > VM_DSPATH_MAX)
		return -1;
	memcpy(out, path, (size_t)n + 1);
	return 0;
}

/* Writes the new datastore file dspath (made whole or not at all). */
static int install_bytes(const char *dspath, const void *data, size_t len, int overwrite, char *err,
			 size_t errlen)
{
	const char *rel;
	struct datastore *ds = datastore_split(dspath, &rel, err, errlen);
	if (!ds)
		return -1;
	struct ds_upload u;
	if (ds_upload_begin(ds, rel, overwrite, &u, err, errlen) < 0)
		return -1;
	if (ds_upload_write(&u, data, len, err, errlen) < 0) {
		ds_upload_abort(&u);
		return -1;
	}
	return ds_upload_commit(&u, err, errlen) < 0 ? -1 : 0;
}

/* Copies the file `from` (at most 64 MiB) to the new datastore file
 * dspath. */
static int install(const char *from, const char *dspath, char *err, size_t errlen)
{
	size_t len;
	char *data = read_file(from, 64u << 20, &len);
	if (!data)
		return errorf(err, errlen, "%s: %s", from, strerror(errno));
	int rc = install_bytes(dspath, data, len, 0, err, errlen);
	free(data);
	return rc;
}

int vmfiles_nvram(const struct vm_config *c, const char *empty, char out[VM_DSPATH_MAX + 1],
		  char *err, size_t errlen)
{
	if (vmfiles_path(c, "nvram", out) < 0)
		return errorf(err, errlen,
			      "%s: a UEFI VM needs a disk (its folder holds its "
			      "variable store)",
			      c->name);
	if (datastore_file_exists(out, NULL, 0) == 0)
		return 0;
	if (install(empty, out, err, errlen) < 0)
		return -1;
	log_msg("vm %s: made its UEFI variable store %s", c->name, out);
	return 0;
}

/* Removes the VM's file NAME.suffix if it is there; logs what fails. */
static void remove_own(const struct vm_config *c, const char *suffix, const char *why)
{
	char path[VM_DSPATH_MAX + 1], err[256];
	const char *rel;
	struct datastore *ds;
	if (vmfiles_path(c, suffix, path) < 0 || datastore_file_exists(path, NULL, 0) < 0 ||
	    !(ds = datastore_split(path, &rel, NULL, 0)))
		return;
	if (ds_remove(ds, rel, err, sizeof(err)) < 0)
		log_msg("vm %s %s: %s stays: %s", c->name, why, path, err);
	else
		log_msg("vm %s %s: removed %s", c->name, why, path);
}

int vmfiles_seed(const struct vm_config *c, int64_t id, char out[VM_DSPATH_MAX + 1], char *err,
		 size_t errlen)
{
	if (!c->cloud_init.on) {
		remove_own(c, CIDATA_SUFFIX, "has no cloud_init");
		return 0;
	}
	if (vmfiles_path(c, CIDATA_SUFFIX, out) < 0)
		return errorf(err, errlen,
			      "%s: cloud_init needs a disk or a kernel (the VM's "
			      "folder holds its seed)",
			      c->name);
	uint8_t *image;
	size_t len;
	if (cidata_image(c, id, time(NULL), &image, &len, err, errlen) < 0)
		return -1;
	int rc = install_bytes(out, image, len, 1, err, errlen);
	free(image);
	if (rc < 0)
		return -1;
	log_msg("vm %s: made its cloud-init seed %s (%zu bytes)", c->name, out, len);
	return 1;
}

int vmfiles_seed_update(const struct vm_config *old, const struct vm_config *c, int64_t id,
			char *err, size_t errlen)
{
	char was[VM_DSPATH_MAX + 1] = "", now[VM_DSPATH_MAX + 1] = "";
	vmfiles_path(old, CIDATA_SUFFIX, was);
	vmfiles_path(c, CIDATA_SUFFIX, now);
	bool moved = strcmp(was, now) != 0;
	const struct vm_cloud_init *a = &old->cloud_init, *b = &c->cloud_init;
	if (!moved && a->on == b->on && strcmp(a->user_data, b->user_data) == 0 &&
	    strcmp(a->meta_data, b->meta_data) == 0 &&
	    strcmp(a->network_config, b->network_config) == 0)
		return 0;
	if (vmfiles_seed(c, id, now, err, errlen) < 0)
		return -1;
	if (moved)
		remove_own(old, CIDATA_SUFFIX, "moved");
	return 0;
}

void vmfiles_remove(const struct vm_config *c)
{
	for (size_t i = 0; i < ARRAY_SIZE(own); i++)
		remove_own(c, own[i], "deleted");
}
