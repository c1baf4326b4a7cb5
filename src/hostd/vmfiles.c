#include "hostd/vmfiles.h"

#include "common/log.h"
#include "common/util.h"
#include "hostd/datastore_registry.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

/* the suffixes of the files a VM owns */
static const char *const own[] = {"nvram"};

int vmfiles_path(const struct vm_config *c, const char *suffix, char out[VM_DSPATH_MAX + 1])
{
	char home[VM_DSPATH_MAX + 1];
	if (vmconf_home(c, home) < 0)
		return -1;
	int n = snprintf(out, VM_DSPATH_MAX + 1, "%s/%s.%s", home, c->name, suffix);
	return n > 0 && n <= VM_DSPATH_MAX ? 0 : -1;
}

/* Copies the file `from` to the new datastore file dspath (made whole or
 * not at all). */
static int install(const char *from, const char *dspath, char *err, size_t errlen)
{
	const char *rel;
	struct datastore *ds = datastore_split(dspath, &rel, err, errlen);
	if (!ds)
		return -1;
	int in = open(from, O_RDONLY | O_CLOEXEC);
	if (in < 0)
		return errorf(err, errlen, "%s: %s", from, strerror(errno));
	struct ds_upload u;
	int rc = ds_upload_begin(ds, rel, 0, &u, err, errlen);
	char buf[65536];
	ssize_t n = 0;
	while (rc == 0 && (n = read(in, buf, sizeof(buf))) > 0)
		rc = ds_upload_write(&u, buf, (size_t)n, err, errlen);
	if (rc == 0 && n < 0)
		rc = errorf(err, errlen, "%s: %s", from, strerror(errno));
	close(in);
	if (rc == 0)
		return ds_upload_commit(&u, err, errlen) < 0 ? -1 : 0;
	ds_upload_abort(&u);
	return -1;
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

void vmfiles_remove(const struct vm_config *c)
{
	for (size_t i = 0; i < ARRAY_SIZE(own); i++) {
		char path[VM_DSPATH_MAX + 1], err[256];
		const char *rel;
		struct datastore *ds;
		if (vmfiles_path(c, own[i], path) < 0 || datastore_file_exists(path, NULL, 0) < 0 ||
		    !(ds = datastore_split(path, &rel, NULL, 0)))
			continue;
		if (ds_remove(ds, rel, err, sizeof(err)) < 0)
			log_msg("vm %s deleted: %s stays: %s", c->name, path, err);
	}
}
