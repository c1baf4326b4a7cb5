/* keel vm import FILE: a disk image (raw, qcow2, VMDK, VHD, VHDX, ...) or
 * an appliance (OVA, OVF) brought onto a datastore.
 *
 * A disk image is converted to raw by qemu-img on this machine (into a
 * sparse file under $TMPDIR; raw input is read as it is) and uploaded as
 * the Keel sparse stream (common/sparse.h): only its allocated extents
 * travel. It becomes DS/NAME/NAME.img; with --memory, a VM NAME is also
 * created with it (firmware uefi unless --firmware bios). An appliance's descriptor (ovf.h) gives
 * the VM's settings; its disks become DS/NAME/NAME-diskN.img (N from 0), then the VM is created
 * (POST /api/v1/vms): import_appliance.c, and in keel-host-cli (the CLI of
 * the host, without libxml2) import_none.c, which refuses. What the VM
 * cannot have is reported on stderr, one line each. Nothing is left in
 * $TMPDIR. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli/api.h"
#include "cli/args.h"
#include "cli/cmd.h"
#include "cli/interrupt.h"
#include "cli/mem.h"
#include "cli/import.h"
#include "cli/output.h"
#include "cli/qemu_img.h"
#include "cli/sparse_source.h"
#include "common/sparse.h"
#include "common/util.h"
#include "common/vmspec.h"

/* --- the local work folder ----------------------------------------------- */

static int make_tmpdir(struct import *im)
{
	if (im->tmpdir[0])
		return 0;
	const char *base = getenv("TMPDIR");
	snprintf(im->tmpdir, sizeof(im->tmpdir), "%s/keel-import-XXXXXX",
		 base && *base ? base : "/tmp");
	if (!mkdtemp(im->tmpdir)) {
		error_msg("cannot make a work folder in %s: %s", base && *base ? base : "/tmp",
			  strerror(errno));
		im->tmpdir[0] = '\0';
		return -1;
	}
	return 0;
}

/* removes the work folder with the files made in it (no subfolders) */
static void remove_tmpdir(struct import *im)
{
	if (!im->tmpdir[0])
		return;
	DIR *d = opendir(im->tmpdir);
	for (struct dirent *e; d && (e = readdir(d));)
		if (strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0)
			unlinkat(dirfd(d), e->d_name, 0);
	if (d)
		closedir(d);
	rmdir(im->tmpdir);
	im->tmpdir[0] = '\0';
}

/* a new empty file in the work folder; its path in *path (malloc'd) */
int import_tmp_file(struct import *im, const char *name, char **path)
{
	if (make_tmpdir(im) < 0)
		return -1;
	*path = xasprintf("%s/%s", im->tmpdir, name);
	int fd = open(*path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (fd < 0) {
		error_msg("%s: %s", *path, strerror(errno));
		free(*path);
		*path = NULL;
	}
	return fd;
}

/* --- disks ----------------------------------------------------------------- */

/* Uploads the raw file open on fd to DS/rel as a sparse stream. */
static int upload_sparse(struct import *im, int fd, const char *label, const char *rel)
{
	struct sparse_source_info info;
	FILE *src = sparse_source_open(fd, label, &info);
	if (!src)
		return EXIT_FAIL;
	char *path = api_pathf("/api/v1/datastores/%s/files/%p", im->datastore, rel);
	json_t *r = NULL;
	int rc = api_upload(im->cli->api, path, src, (off_t)info.stream_len, SPARSE_CONTENT_TYPE,
			    im->progress, &r);
	free(path);
	fclose(src);
	if (rc == 0 && !im->cli->json) {
		char size[SIZE_LEN], data[SIZE_LEN];
		printf("%s: %s, %s of data sent\n", jstr(r, "path"),
		       fmt_size(size, jint(r, "size")), fmt_size(data, (long long)info.data));
	}
	if (rc == 0)
		json_array_append_new(im->disks, json_pack("{s:s}", "path", jstr(r, "path")));
	json_decref(r);
	return rc;
}

/* Converts (unless raw) and uploads the image at `local` to DS/rel. An
 * image from an appliance (`contained`) must hold its data itself: no
 * backing file, no VMDK extents in other files (they could name any file
 * of this machine). */
int import_image(struct import *im, const char *local, bool contained, const char *rel)
{
	struct image_info info;
	if (image_probe(local, NULL, &info) < 0)
		return EXIT_FAIL;
	if (contained && (info.backing || info.foreign_extents)) {
		error_msg("%s: refers to other files (a backing file or VMDK extents); an "
			  "appliance's disk must be whole",
			  local);
		return EXIT_FAIL;
	}
	char *raw = NULL;
	int fd;
	if (strcmp(info.format, "raw") == 0) {
		fd = open(local, O_RDONLY | O_CLOEXEC);
		if (fd < 0)
			error_msg("%s: %s", local, strerror(errno));
	} else {
		fd = import_tmp_file(im, "disk.raw", &raw);
		if (fd >= 0) {
			close(fd);
			fd = -1;
			if (image_convert_raw(local, info.format, raw, im->progress) == 0 &&
			    !interrupted())
				fd = open(raw, O_RDONLY | O_CLOEXEC);
		}
	}
	int rc = fd >= 0 && !interrupted() ? upload_sparse(im, fd, local, rel) : EXIT_FAIL;
	if (fd >= 0)
		close(fd);
	if (raw)
		unlink(raw);
	free(raw);
	return rc;
}

/* --- the VM ------------------------------------------------------------------ */

/* the port group for a NIC on `network`: the one of that name if the host
 * has it, else DEFAULT_PORTGROUP (said on stderr) */
#define DEFAULT_PORTGROUP "VM Network"

static const char *portgroup_for(json_t *portgroups, size_t nic, const char *network)
{
	size_t i;
	json_t *pg;
	json_array_foreach(portgroups, i, pg)
	{
		if (*network && strcmp(jstr(pg, "name"), network) == 0)
			return network;
	}
	if (strcmp(network, DEFAULT_PORTGROUP) != 0)
		error_msg("NIC %zu: no port group \"%s\" on the host: connected to \"%s\"", nic,
			  network, DEFAULT_PORTGROUP);
	return DEFAULT_PORTGROUP;
}

/* POST /api/v1/vms with the imported disks, and the NICs on `networks` */
int import_create_vm(struct import *im, long long vcpus, long long memory_mib,
		     enum vm_firmware firmware, char (*networks)[128], size_t nnics, json_t **vm)
{
	json_t *req = json_pack("{s:s,s:I,s:I,s:s,s:O}", "name", im->name, "vcpus",
				(json_int_t)vcpus, "memory_mib", (json_int_t)memory_mib, "firmware",
				vm_firmware_name(firmware), "disks", im->disks);
	json_t *pgs = NULL;
	int rc =
	    nnics ? api_json(im->cli->api, "GET", "/api/v1/network/portgroups", NULL, &pgs) : 0;
	if (rc == 0 && nnics) {
		json_t *nics = json_array();
		for (size_t i = 0; i < nnics; i++)
			json_array_append_new(
			    nics, json_pack("{s:s}", "portgroup",
					    portgroup_for(json_object_get(pgs, "portgroups"), i,
							  networks[i])));
		json_object_set_new(req, "nics", nics);
	}
	json_decref(pgs);
	if (rc == 0)
		rc = api_json(im->cli->api, "POST", "/api/v1/vms", req, vm);
	json_decref(req);
	return rc;
}

/* 0 unless the host has a VM called im->name already (then EXIT_FAIL
 * with a message), so that nothing is uploaded for a VM that cannot be */
int import_vm_name_free(struct import *im)
{
	json_t *r = NULL;
	int rc = api_json(im->cli->api, "GET", "/api/v1/vms", NULL, &r);
	size_t i;
	json_t *vm;
	json_array_foreach(json_object_get(r, "vms"), i, vm)
	{
		if (rc == 0 && strcmp(jstr(vm, "name"), im->name) == 0) {
			error_msg("a VM called %s exists already", im->name);
			rc = EXIT_FAIL;
		}
	}
	json_decref(r);
	return rc;
}

/* --- the command ------------------------------------------------------------- */

/* what FILE is: an OVA (a tar: "ustar" at 257), an OVF (XML, or named
 * .ovf), else a disk image for qemu-img */
enum kind { DISK, OVA, OVF };

static enum kind kind_of(const char *file)
{
	const char *dot = strrchr(file, '.');
	if (dot && strcasecmp(dot, ".ova") == 0)
		return OVA;
	if (dot && strcasecmp(dot, ".ovf") == 0)
		return OVF;
	char head[512];
	int fd = open(file, O_RDONLY | O_CLOEXEC);
	ssize_t n = fd >= 0 ? pread(fd, head, sizeof(head), 0) : -1;
	if (fd >= 0)
		close(fd);
	if (n == (ssize_t)sizeof(head) && memcmp(head + 257, "ustar", 5) == 0)
		return OVA;
	if (n >= 5 && (memcmp(head, "<?xml", 5) == 0 || memcmp(head, "<Envelope", 9) == 0))
		return OVF;
	return DISK;
}

/* --name, else the file's base name without its extension */
static int pick_name(struct import *im, const char *given, const char *file)
{
	if (given) {
		if (!vm_name_valid(given)) {
			error_msg("--name: %s", VM_NAME_RULE);
			return EXIT_USAGE;
		}
		str_copy(im->name, sizeof(im->name), given);
		return 0;
	}
	const char *base = strrchr(file, '/');
	base = base ? base + 1 : file;
	const char *dot = strrchr(base, '.');
	size_t len = dot && dot != base ? (size_t)(dot - base) : strlen(base);
	if (len < sizeof(im->name)) {
		memcpy(im->name, base, len);
		im->name[len] = '\0';
	}
	if (!vm_name_valid(im->name)) {
		error_msg("%s: its name is not a VM name (" VM_NAME_RULE "): give one with --name",
			  file);
		im->name[0] = '\0';
		return EXIT_SETUP;
	}
	return 0;
}

/* --datastore, else the first the host lists, else "local" */
static int pick_datastore(struct import *im, const char *given)
{
	if (given) {
		str_copy(im->datastore, sizeof(im->datastore), given);
		return 0;
	}
	json_t *r = NULL;
	int rc = api_json(im->cli->api, "GET", "/api/v1/datastores", NULL, &r);
	const char *first = jstr(json_array_get(json_object_get(r, "datastores"), 0), "name");
	str_copy(im->datastore, sizeof(im->datastore), *first ? first : "local");
	json_decref(r);
	return rc;
}

static const struct option opts[] = {
    {"name", required_argument, NULL, 'n'},	{"datastore", required_argument, NULL, 'd'},
    {"memory", required_argument, NULL, 'm'},	{"vcpus", required_argument, NULL, 'c'},
    {"firmware", required_argument, NULL, 'f'}, {"quiet", no_argument, NULL, 'q'},
    {"help", no_argument, NULL, 'h'},		{0}};

static int parse(struct import *im, int argc, char **argv, const char **name, const char **ds)
{
	int c;
	args_begin();
	while ((c = args_next(argc, argv, "hq", opts)) != -1) {
		switch (c) {
		case 'n':
			*name = optarg;
			break;
		case 'd':
			*ds = optarg;
			break;
		case 'm':
			if (arg_size("--memory", optarg, &im->memory_mib) < 0)
				return EXIT_USAGE;
			break;
		case 'c':
			if (arg_uint("--vcpus", optarg, 1, VM_MAX_VCPUS, &im->vcpus) < 0)
				return EXIT_USAGE;
			break;
		case 'f':
			im->firmware = vm_firmware_parse(optarg);
			if (im->firmware != VM_FIRMWARE_UEFI && im->firmware != VM_FIRMWARE_BIOS) {
				error_msg("--firmware: uefi or bios (an imported disk boots "
					  "through firmware)");
				return EXIT_USAGE;
			}
			break;
		case 'q':
			im->quiet = true;
			break;
		case 'h':
			return EXIT_HELP;
		default:
			return EXIT_USAGE;
		}
	}
	return args_count(argc, argv, 1, 1);
}

int cmd_vm_import(struct cli *cli, int argc, char **argv)
{
	struct import im = {.cli = cli, .firmware = -1};
	const char *name = NULL, *ds = NULL;
	int rc = parse(&im, argc, argv, &name, &ds);
	if (rc)
		return rc;
	const char *file = argv[optind];
	enum kind kind = kind_of(file);
	if (kind == DISK && (im.vcpus || im.firmware >= 0) && !im.memory_mib) {
		error_msg("--vcpus and --firmware go with --memory for a disk");
		return EXIT_USAGE;
	}
	if (access(file, R_OK) < 0) {
		error_msg("%s: %s", file, strerror(errno));
		return EXIT_SETUP;
	}
	im.progress = !im.quiet && cmd_progress(cli);
	im.disks = json_array();
	if (name || kind == DISK)
		rc = pick_name(&im, name, file);
	if (rc == 0)
		rc = pick_datastore(&im, ds);
	json_t *vm = NULL;
	if (rc == 0 && kind != DISK) {
		rc = import_appliance(&im, file, kind == OVA, &vm);
	} else if (rc == 0) {
		char *rel = xasprintf("%s/%s.img", im.name, im.name);
		if (im.memory_mib)
			rc = import_vm_name_free(&im);
		if (rc == 0)
			rc = import_image(&im, file, false, rel);
		free(rel);
		if (rc == 0 && im.memory_mib)
			rc = import_create_vm(&im, im.vcpus ? im.vcpus : 1, im.memory_mib,
					      im.firmware >= 0 ? im.firmware : VM_FIRMWARE_UEFI,
					      NULL, 0, &vm);
	}
	remove_tmpdir(&im);
	if (rc == 0 && cli->json) {
		json_t *out = json_pack("{s:O}", "disks", im.disks);
		if (vm)
			json_object_set(out, "vm", vm);
		rc = print_json(out);
		json_decref(out);
	} else if (rc == 0 && vm) {
		vm_print(vm);
		rc = finish_stdout();
	}
	json_decref(vm);
	json_decref(im.disks);
	return rc;
}
