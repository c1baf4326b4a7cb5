/* keel vm import's parts (cmd_vm_import.c): the disk images and the VM,
 * shared by the appliance reader (import_appliance.c: OVA and OVF, with
 * ova.c, ovf.c and libxml2), which the host's CLI (keel-host-cli) replaces
 * with import_none.c, a refusal. Every call returns 0 or an exit code
 * (cmd.h) after a message. */
#ifndef KEEL_CLI_IMPORT_H
#define KEEL_CLI_IMPORT_H

#include <jansson.h>
#include <limits.h>
#include <stdbool.h>
#include <stddef.h>

#include "cli/cmd.h"
#include "common/vmspec.h"

struct import {
	struct cli *cli;
	char datastore[128];
	char name[VM_NAME_MAX + 1];
	bool quiet, progress;
	long long memory_mib, vcpus; /* 0: not given */
	int firmware;		     /* enum vm_firmware; -1: not given */
	char tmpdir[PATH_MAX];	     /* "" until made */
	json_t *disks;		     /* what the VM gets: [{"path": ...} or {"path", "size_mib"}] */
};

/* a new empty file in the work folder (made at the first call, removed at
 * the end of the command); its path in *path (malloc'd); -1 on failure */
int import_tmp_file(struct import *im, const char *name, char **path);
/* Converts (unless raw) and uploads the image at `local` to DS/rel. An
 * image from an appliance (`contained`) must hold its data itself. */
int import_image(struct import *im, const char *local, bool contained, const char *rel);
/* POST /api/v1/vms with the imported disks, and NICs on `networks` */
int import_create_vm(struct import *im, long long vcpus, long long memory_mib,
		     enum vm_firmware firmware, char (*networks)[128], size_t nnics, json_t **vm);
/* 0 unless the host has a VM called im->name already */
int import_vm_name_free(struct import *im);

/* An OVA (ova true) or OVF: its disks uploaded, its VM created (*created).
 * In keel-host-cli: EXIT_FAIL, "not available on the host". */
int import_appliance(struct import *im, const char *file, bool ova, json_t **created);

#endif
