/* keel vm import of an appliance (OVA, OVF; import.h): the descriptor read
 * by ovf.c (libxml2), an OVA's members by ova.c; the disks go through
 * import_image, the VM through import_create_vm. Only in the client's CLI
 * (`keel`): the host's has import_none.c. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "cli/api.h"
#include "cli/cmd.h"
#include "cli/import.h"
#include "cli/interrupt.h"
#include "cli/mem.h"
#include "cli/output.h"
#include "cli/ova.h"
#include "cli/ovf.h"
#include "common/util.h"
#include "common/vmspec.h"

static void report_unmapped(const char *what, void *ctx)
{
	(void)ctx;
	error_msg("not imported: %s", what);
}

/* an appliance's files: an OVA's members, or the files beside an OVF */
struct appliance {
	const char *label;
	int fd; /* the OVA, or -1 */
	struct ova_member *members;
	size_t nmembers;
	char *folder; /* the OVF's folder */
};

/* the local path of an appliance's disk file (for an OVA: extracted into
 * the work folder as disk-N) */
static char *disk_file(struct import *im, struct appliance *a, const char *href, size_t n)
{
	if (a->fd < 0)
		return xasprintf("%s/%s", a->folder, href);
	const struct ova_member *m = ova_find(a->members, a->nmembers, href);
	if (!m) {
		error_msg("%s: %s is not in the OVA", a->label, href);
		return NULL;
	}
	char name[32], *path;
	snprintf(name, sizeof(name), "disk-%zu", n);
	int fd = import_tmp_file(im, name, &path);
	if (fd < 0)
		return NULL;
	int rc = ova_extract(a->fd, m, fd, a->label);
	close(fd);
	if (rc < 0) {
		unlink(path);
		free(path);
		return NULL;
	}
	return path;
}

static int import_disks(struct import *im, struct appliance *a, const struct ovf_vm *vm)
{
	for (size_t i = 0; i < vm->ndisks && !interrupted(); i++) {
		const struct ovf_disk *d = &vm->disks[i];
		char *rel = xasprintf("%s/%s-disk%zu.img", im->name, im->name, i);
		int rc = 0;
		if (!d->file[0]) { /* an empty disk: created by the host */
			char *path = xasprintf("%s/%s", im->datastore, rel);
			long long mib = (long long)((d->capacity + (1 << 20) - 1) >> 20);
			json_array_append_new(im->disks, json_pack("{s:s,s:I}", "path", path,
								   "size_mib", (json_int_t)mib));
			free(path);
		} else {
			char *local = disk_file(im, a, d->file, i);
			rc = local ? import_image(im, local, true, rel) : EXIT_FAIL;
			if (local && a->fd >= 0)
				unlink(local);
			free(local);
		}
		free(rel);
		if (rc)
			return rc;
	}
	return interrupted() ? EXIT_FAIL : 0;
}

/* The descriptor (malloc'd) of an OVA or OVF, its files in *a. */
static char *open_appliance(const char *file, bool ova, struct appliance *a)
{
	size_t len;
	if (!ova) {
		char *xml = read_file(file, OVF_MAX, &len);
		if (!xml)
			error_msg("%s: %s", file,
				  errno == EFBIG ? "the OVF descriptor is over 4 MiB"
						 : strerror(errno));
		const char *slash = strrchr(file, '/');
		a->folder = slash ? xasprintf("%.*s", (int)(slash - file), file) : xstrdup(".");
		return xml;
	}
	a->fd = open(file, O_RDONLY | O_CLOEXEC);
	if (a->fd < 0) {
		error_msg("%s: %s", file, strerror(errno));
		return NULL;
	}
	if (ova_list(a->fd, file, &a->members, &a->nmembers) < 0)
		return NULL;
	const struct ova_member *ovf = NULL, *mf = NULL;
	for (size_t i = 0; i < a->nmembers; i++) {
		const char *dot = strrchr(a->members[i].name, '.');
		if (dot && strcasecmp(dot, ".ovf") == 0 && !ovf)
			ovf = &a->members[i];
		else if (dot && strcasecmp(dot, ".mf") == 0 && !mf)
			mf = &a->members[i];
	}
	if (!ovf) {
		error_msg("%s: the OVA holds no .ovf descriptor", file);
		return NULL;
	}
	if (mf) {
		char *text = ova_read(a->fd, mf, OVF_MAX, file);
		int rc = text ? ova_check_manifest(a->fd, a->members, a->nmembers, text, file) : -1;
		free(text);
		if (rc < 0)
			return NULL;
	}
	return ova_read(a->fd, ovf, OVF_MAX, file);
}

int import_appliance(struct import *im, const char *file, bool ova, json_t **created)
{
	struct appliance a = {.label = file, .fd = -1};
	struct ovf_vm vm;
	char err[512];
	int rc = EXIT_FAIL;
	char *xml = open_appliance(file, ova, &a);
	if (xml && ovf_parse(xml, strlen(xml), &vm, report_unmapped, NULL, err, sizeof(err)) < 0)
		error_msg("%s: %s", file, err);
	else if (xml) {
		rc = 0;
		if (!im->name[0] && str_copy(im->name, sizeof(im->name), vm.name) < 0)
			im->name[0] = '\0';
		if (!vm_name_valid(im->name)) {
			error_msg("%s: the appliance's name \"%s\" is not a VM name (" VM_NAME_RULE
				  "): give one with --name",
				  file, vm.name);
			rc = EXIT_USAGE;
		}
		if (im->vcpus)
			vm.vcpus = im->vcpus;
		if (im->memory_mib)
			vm.memory_mib = im->memory_mib;
		if (im->firmware >= 0)
			vm.firmware = im->firmware;
		if (rc == 0 && vm.memory_mib == 0) {
			error_msg("%s: the descriptor gives no memory size: give one with --memory",
				  file);
			rc = EXIT_USAGE;
		}
	}
	if (rc == 0)
		rc = import_vm_name_free(im);
	if (rc == 0)
		rc = import_disks(im, &a, &vm);
	if (rc == 0)
		rc = import_create_vm(im, vm.vcpus, vm.memory_mib, vm.firmware, vm.networks,
				      vm.nnics, created);
	free(xml);
	free(a.members);
	free(a.folder);
	if (a.fd >= 0)
		close(a.fd);
	return rc == EXIT_USAGE ? EXIT_SETUP : rc;
}
