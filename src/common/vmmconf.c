#include "common/vmmconf.h"

#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/util.h"

static const char *const console_types[] = {"stdio", "file", "pty", "socket"};

/* a TAP interface name: what the kernel takes, without surprises */
#define TAP_CHARS "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._-"

/* A string field: absent is fine unless required; present must be a
 * non-empty string without NUL bytes, at most max bytes long. */
static int get_string(json_t *root, const char *key, bool required, size_t max, char **out,
		      char *err, size_t errlen)
{
	json_t *v = json_object_get(root, key);
	*out = NULL;
	if (!v)
		return required ? errorf(err, errlen, "%s: missing", key) : 0;
	if (!json_is_string(v))
		return errorf(err, errlen, "%s: must be a string", key);
	size_t len = json_string_length(v);
	if (len == 0 || len > max || strlen(json_string_value(v)) != len)
		return errorf(err, errlen, "%s: must be 1..%zu characters", key, max);
	*out = strdup(json_string_value(v));
	return *out ? 0 : errorf(err, errlen, "%s: out of memory", key);
}

static int get_uint(json_t *root, const char *key, uint64_t lo, uint64_t hi, uint64_t *out,
		    char *err, size_t errlen)
{
	json_t *v = json_object_get(root, key);
	if (!v)
		return errorf(err, errlen, "%s: missing", key);
	if (!json_is_integer(v) || json_integer_value(v) < (json_int_t)lo ||
	    json_integer_value(v) > (json_int_t)hi)
		return errorf(err, errlen, "%s: must be an integer from %llu to %llu", key,
			      (unsigned long long)lo, (unsigned long long)hi);
	*out = (uint64_t)json_integer_value(v);
	return 0;
}

static int parse_console(json_t *v, struct vmm_config *c, char *err, size_t errlen)
{
	if (!json_is_object(v))
		return errorf(err, errlen, "console: must be an object");
	const char *key;
	json_t *val;
	json_object_foreach(v, key, val) if (strcmp(key, "type") != 0 &&
					     strcmp(key, "path") !=
						 0) return errorf(err, errlen,
								  "console.%s: unknown field", key);
	json_t *t = json_object_get(v, "type");
	if (!json_is_string(t))
		return errorf(err, errlen, "console.type: must be one of stdio, file, pty, socket");
	size_t i;
	for (i = 0; i < ARRAY_SIZE(console_types); i++)
		if (strcmp(json_string_value(t), console_types[i]) == 0)
			break;
	if (i == ARRAY_SIZE(console_types))
		return errorf(err, errlen, "console.type: must be one of stdio, file, pty, socket");
	c->console = (enum console_type)i;
	bool wants_path = c->console == CONSOLE_FILE || c->console == CONSOLE_SOCKET;
	char why[128];
	if (get_string(v, "path", wants_path, VMM_SOCKET_MAX, &c->console_path, why, sizeof(why)) <
	    0)
		return errorf(err, errlen, "console.%s", why);
	if (!wants_path && c->console_path)
		return errorf(err, errlen, "console.path: not used by console type %s",
			      console_types[i]);
	return 0;
}

static int parse_disk(json_t *v, unsigned i, struct vmm_disk *d, char *err, size_t errlen)
{
	if (!json_is_object(v))
		return errorf(err, errlen, "disks[%u]: must be an object", i);
	const char *key;
	json_t *val;
	json_object_foreach(v, key,
			    val) if (strcmp(key, "path") != 0 && strcmp(key, "readonly") != 0 &&
				     strcmp(key, "serial") !=
					 0) return errorf(err, errlen,
							  "disks[%u].%s: unknown field", i, key);
	char why[128];
	if (get_string(v, "path", true, VMM_PATH_MAX, &d->path, why, sizeof(why)) < 0)
		return errorf(err, errlen, "disks[%u].%s", i, why);
	json_t *ro = json_object_get(v, "readonly");
	if (ro && !json_is_boolean(ro))
		return errorf(err, errlen, "disks[%u].readonly: must be true or false", i);
	d->readonly = json_is_true(ro);
	json_t *serial = json_object_get(v, "serial");
	if (serial && (!json_is_string(serial) || json_string_length(serial) > VM_DISK_SERIAL_MAX ||
		       strlen(json_string_value(serial)) != json_string_length(serial)))
		return errorf(err, errlen,
			      "disks[%u].serial: must be a string of at most %d characters", i,
			      VM_DISK_SERIAL_MAX);
	if (serial)
		strcpy(d->serial, json_string_value(serial));
	else
		snprintf(d->serial, sizeof(d->serial), "disk%u", i);
	return 0;
}

static int parse_nic(json_t *v, const char *vm, unsigned i, struct vmm_nic *n, char *err,
		     size_t errlen)
{
	if (!json_is_object(v))
		return errorf(err, errlen, "nics[%u]: must be an object", i);
	const char *key;
	json_t *val;
	json_object_foreach(v, key, val) if (strcmp(key, "tap") != 0 && strcmp(key, "mac") != 0 &&
					     strcmp(key, "mtu") !=
						 0) return errorf(err, errlen,
								  "nics[%u].%s: unknown field", i,
								  key);
	const char *tap = json_string_value(json_object_get(v, "tap"));
	if (!tap || strlen(tap) >= sizeof(n->tap) || strspn(tap, TAP_CHARS) != strlen(tap) || !*tap)
		return errorf(
		    err, errlen,
		    "nics[%u].tap: must be an interface name of 1..15 of A-Z a-z 0-9 . _ -", i);
	strcpy(n->tap, tap);
	json_t *mac = json_object_get(v, "mac");
	if (mac) {
		if (!json_is_string(mac) ||
		    strlen(json_string_value(mac)) != json_string_length(mac) ||
		    mac_parse(json_string_value(mac), n->mac) < 0)
			return errorf(
			    err, errlen,
			    "nics[%u].mac: must be a unicast address like 52:54:00:12:34:56", i);
	} else {
		mac_default(vm, i, n->mac);
	}
	if (json_object_get(v, "mtu")) {
		uint64_t mtu;
		char why[128];
		if (get_uint(v, "mtu", VM_MIN_MTU, VM_MAX_MTU, &mtu, why, sizeof(why)) < 0)
			return errorf(err, errlen, "nics[%u].%s", i, why);
		n->mtu = (unsigned)mtu;
	}
	return 0;
}

static int parse_devices(json_t *root, struct vmm_config *c, char *err, size_t errlen)
{
	json_t *disks = json_object_get(root, "disks");
	if (disks) {
		if (!json_is_array(disks) || json_array_size(disks) > VM_MAX_DISKS)
			return errorf(err, errlen, "disks: must be a list of at most %d disks",
				      VM_MAX_DISKS);
		for (size_t i = 0; i < json_array_size(disks); i++) {
			c->ndisks++;
			if (parse_disk(json_array_get(disks, i), (unsigned)i, &c->disks[i], err,
				       errlen) < 0)
				return -1;
		}
	}
	json_t *nics = json_object_get(root, "nics");
	if (nics) {
		if (!json_is_array(nics) || json_array_size(nics) > VM_MAX_NICS)
			return errorf(err, errlen, "nics: must be a list of at most %d NICs",
				      VM_MAX_NICS);
		for (size_t i = 0; i < json_array_size(nics); i++) {
			if (parse_nic(json_array_get(nics, i), c->name, (unsigned)i, &c->nics[i],
				      err, errlen) < 0)
				return -1;
			c->nnics++;
		}
	}
	json_t *rng = json_object_get(root, "rng");
	if (rng && !json_is_boolean(rng))
		return errorf(err, errlen, "rng: must be true or false");
	c->rng = json_is_true(rng);
	return 0;
}

/* One descriptor: VMM_FD_MIN..VMM_FD_MAX and not yet taken (`used`). */
static int get_fd(json_t *v, const char *what, bool used[], int *out, char *err, size_t errlen)
{
	json_int_t n = json_integer_value(v);
	if (!json_is_integer(v) || n < VMM_FD_MIN || n > VMM_FD_MAX || used[n])
		return errorf(err, errlen, "fds.%s: must be a descriptor from %d to %d, used once",
			      what, VMM_FD_MIN, VMM_FD_MAX);
	used[n] = true;
	*out = (int)n;
	return 0;
}

/* A list of descriptors, one for each of `count` devices. */
static int get_fd_list(json_t *fds, const char *key, unsigned count, bool used[], int out[],
		       char *err, size_t errlen)
{
	json_t *list = json_object_get(fds, key);
	if (count == 0 && !list)
		return 0;
	if (!json_is_array(list) || json_array_size(list) != count)
		return errorf(err, errlen, "fds.%s: must be a list of %u descriptors, one per %s",
			      key, count, key);
	for (unsigned i = 0; i < count; i++) {
		char what[32];
		snprintf(what, sizeof(what), "%s[%u]", key, i);
		if (get_fd(json_array_get(list, i), what, used, &out[i], err, errlen) < 0)
			return -1;
	}
	return 0;
}

/* "fds": after the rest, since which descriptors it must hold depends on it. */
static int parse_fds(json_t *fds, struct vmm_config *c, char *err, size_t errlen)
{
	if (!json_is_object(fds))
		return errorf(err, errlen, "fds: must be an object");
	struct {
		const char *key;
		bool wanted;
		int *fd;
	} single[] = {
	    {"kvm", true, &c->fd.kvm},
	    {"kernel", c->kernel != NULL, &c->fd.kernel},
	    {"firmware", c->firmware != NULL, &c->fd.firmware},
	    {"nvram", c->nvram != NULL, &c->fd.nvram},
	    {"initrd", c->initrd != NULL, &c->fd.initrd},
	    {"console", c->console == CONSOLE_FILE || c->console == CONSOLE_SOCKET, &c->fd.console},
	    {"control", c->control != NULL, &c->fd.control},
	};
	const char *key;
	json_t *val;
	json_object_foreach(fds, key, val)
	{
		bool known = strcmp(key, "disks") == 0 || strcmp(key, "nics") == 0;
		for (size_t i = 0; i < ARRAY_SIZE(single); i++)
			known |= strcmp(key, single[i].key) == 0 && single[i].wanted;
		if (!known)
			return errorf(err, errlen, "fds.%s: not a resource of this configuration",
				      key);
	}
	bool used[VMM_FD_MAX + 1] = {false};
	for (size_t i = 0; i < ARRAY_SIZE(single); i++) {
		json_t *v = json_object_get(fds, single[i].key);
		if (single[i].wanted && !v)
			return errorf(err, errlen, "fds.%s: missing", single[i].key);
		if (v && get_fd(v, single[i].key, used, single[i].fd, err, errlen) < 0)
			return -1;
	}
	if (get_fd_list(fds, "disks", c->ndisks, used, c->fd.disks, err, errlen) < 0 ||
	    get_fd_list(fds, "nics", c->nnics, used, c->fd.nics, err, errlen) < 0)
		return -1;
	c->has_fds = true;
	return 0;
}

static int parse_jail(json_t *jail, struct vmm_config *c, char *err, size_t errlen)
{
	if (!c->has_fds)
		return errorf(err, errlen, "jail: needs fds (a jailed keel-vmm opens no path)");
	if (!json_is_object(jail))
		return errorf(err, errlen, "jail: must be an object");
	const char *key;
	json_t *val;
	json_object_foreach(
	    jail, key, val) if (strcmp(key, "uid") != 0 && strcmp(key, "gid") != 0 &&
				strcmp(key, "root") !=
				    0) return errorf(err, errlen, "jail.%s: unknown field", key);
	uint64_t uid, gid;
	char why[128];
	if (get_uint(jail, "uid", 1, VMM_JAIL_ID_MAX, &uid, why, sizeof(why)) < 0 ||
	    get_uint(jail, "gid", 1, VMM_JAIL_ID_MAX, &gid, why, sizeof(why)) < 0 ||
	    get_string(jail, "root", true, VMM_PATH_MAX, &c->jail.root, why, sizeof(why)) < 0)
		return errorf(err, errlen, "jail.%s", why);
	if (c->jail.root[0] != '/')
		return errorf(err, errlen, "jail.root: must be an absolute path");
	c->jail.uid = (unsigned)uid;
	c->jail.gid = (unsigned)gid;
	c->jailed = true;
	return 0;
}

/* "boot_order": after the disks, which it names by index. */
static int parse_boot_order(json_t *root, struct vmm_config *c, char *err, size_t errlen)
{
	json_t *order = json_object_get(root, "boot_order");
	if (!order)
		return 0;
	if (!c->firmware)
		return errorf(err, errlen, "boot_order: only with firmware");
	if (!json_is_array(order) || json_array_size(order) > c->ndisks)
		return errorf(err, errlen, "boot_order: must be a list of disk indexes");
	size_t i;
	json_t *x;
	json_array_foreach(order, i, x)
	{
		json_int_t d = json_integer_value(x);
		if (!json_is_integer(x) || d < 0 || d >= (json_int_t)c->ndisks)
			return errorf(err, errlen, "boot_order[%zu]: must be a disk index, 0 to %u",
				      i, c->ndisks - 1);
		for (size_t j = 0; j < i; j++)
			if (c->boot_order[j] == (unsigned)d)
				return errorf(err, errlen, "boot_order[%zu]: disk %u twice", i,
					      (unsigned)d);
		c->boot_order[c->nboot++] = (unsigned)d;
	}
	return 0;
}

static int parse(json_t *root, struct vmm_config *c, char *err, size_t errlen)
{
	static const char *const known[] = {
	    "name",    "vcpus",	  "memory_mib", "kernel",     "initrd", "cmdline",
	    "console", "control", "on_reboot",	"boot_timer", "disks",	"rng",
	    "nics",    "fds",	  "jail",	"firmware",   "nvram",	"boot_order"};
	if (!json_is_object(root))
		return errorf(err, errlen, "the configuration must be a JSON object");
	const char *key;
	json_t *val;
	json_object_foreach(root, key, val)
	{
		size_t i;
		for (i = 0; i < ARRAY_SIZE(known); i++)
			if (strcmp(key, known[i]) == 0)
				break;
		if (i == ARRAY_SIZE(known))
			return errorf(err, errlen, "%s: unknown field", key);
	}
	json_t *name = json_object_get(root, "name");
	if (!name)
		return errorf(err, errlen, "name: missing");
	if (!json_is_string(name) || !vm_name_valid(json_string_value(name)))
		return errorf(err, errlen, "name: must be " VM_NAME_RULE);
	strcpy(c->name, json_string_value(name));
	uint64_t n;
	if (get_uint(root, "vcpus", 1, VM_MAX_VCPUS, &n, err, errlen) < 0)
		return -1;
	c->vcpus = (unsigned)n;
	if (get_uint(root, "memory_mib", VM_MIN_MEM_MIB, VM_MAX_MEM_MIB, &c->memory_mib, err,
		     errlen) < 0)
		return -1;
	if (get_string(root, "firmware", false, VMM_PATH_MAX, &c->firmware, err, errlen) < 0)
		return -1;
	if (c->firmware && json_object_get(root, "kernel"))
		return errorf(err, errlen,
			      "kernel: not with firmware (the firmware boots the disks)");
	if (c->firmware && json_object_get(root, "initrd"))
		return errorf(err, errlen,
			      "initrd: not with firmware (the firmware boots the disks)");
	if (get_string(root, "nvram", false, VMM_PATH_MAX, &c->nvram, err, errlen) < 0)
		return -1;
	if (c->nvram && !c->firmware)
		return errorf(err, errlen, "nvram: only with firmware");
	if (get_string(root, "kernel", !c->firmware, VMM_PATH_MAX, &c->kernel, err, errlen) < 0 ||
	    get_string(root, "initrd", false, VMM_PATH_MAX, &c->initrd, err, errlen) < 0 ||
	    get_string(root, "control", false, VMM_SOCKET_MAX, &c->control, err, errlen) < 0)
		return -1;
	json_t *cmd = json_object_get(root, "cmdline");
	if (cmd && (!json_is_string(cmd) || json_string_length(cmd) > VM_CMDLINE_MAX ||
		    strlen(json_string_value(cmd)) != json_string_length(cmd)))
		return errorf(err, errlen, "cmdline: must be a string of at most %d bytes",
			      VM_CMDLINE_MAX);
	c->cmdline = strdup(cmd ? json_string_value(cmd) : "");
	if (!c->cmdline)
		return errorf(err, errlen, "cmdline: out of memory");
	json_t *con = json_object_get(root, "console");
	if (con && parse_console(con, c, err, errlen) < 0)
		return -1;
	json_t *reboot = json_object_get(root, "on_reboot");
	if (reboot) {
		const char *s = json_string_value(reboot);
		if (!s || (strcmp(s, "restart") != 0 && strcmp(s, "exit") != 0))
			return errorf(err, errlen, "on_reboot: must be \"restart\" or \"exit\"");
		c->reboot_exits = strcmp(s, "exit") == 0;
	}
	json_t *timer = json_object_get(root, "boot_timer");
	if (timer) {
		if (!json_is_boolean(timer))
			return errorf(err, errlen, "boot_timer: must be true or false");
		c->boot_timer = json_is_true(timer);
	}
	if (parse_devices(root, c, err, errlen) < 0 || parse_boot_order(root, c, err, errlen) < 0)
		return -1;
	json_t *fds = json_object_get(root, "fds"), *jail = json_object_get(root, "jail");
	if (fds && parse_fds(fds, c, err, errlen) < 0)
		return -1;
	return jail ? parse_jail(jail, c, err, errlen) : 0;
}

static void no_fds(struct vmm_fds *f)
{
	f->kvm = f->kernel = f->firmware = f->nvram = f->initrd = f->console = f->control = -1;
	for (unsigned i = 0; i < VM_MAX_DISKS; i++)
		f->disks[i] = -1;
	for (unsigned i = 0; i < VM_MAX_NICS; i++)
		f->nics[i] = -1;
}

int vmmconf_parse(const char *text, struct vmm_config *c, char *err, size_t errlen)
{
	memset(c, 0, sizeof(*c));
	no_fds(&c->fd);
	json_error_t jerr;
	json_t *root = json_loads(text, JSON_REJECT_DUPLICATES, &jerr);
	if (!root)
		return errorf(err, errlen, "not valid JSON: %s (line %d, column %d)", jerr.text,
			      jerr.line, jerr.column);
	int r = parse(root, c, err, errlen);
	json_decref(root);
	if (r < 0)
		vmmconf_free(c);
	return r;
}

int vmmconf_load(const char *path, int fd, struct vmm_config *c, char *err, size_t errlen)
{
	memset(c, 0, sizeof(*c));
	no_fds(&c->fd);
	char *text =
	    path ? read_file(path, VMM_CONFIG_MAX, NULL) : read_fd(fd, VMM_CONFIG_MAX, NULL);
	if (!text && path)
		return errorf(err, errlen, "%s: %s", path, strerror(errno));
	if (!text)
		return errorf(err, errlen, "descriptor %d: %s", fd, strerror(errno));
	int r = vmmconf_parse(text, c, err, errlen);
	free(text);
	return r;
}

void vmmconf_init(struct vmm_config *c)
{
	memset(c, 0, sizeof(*c));
	no_fds(&c->fd);
}

void vmmconf_free(struct vmm_config *c)
{
	free(c->kernel);
	free(c->firmware);
	free(c->nvram);
	free(c->initrd);
	free(c->cmdline);
	free(c->console_path);
	free(c->control);
	for (unsigned i = 0; i < c->ndisks; i++)
		free(c->disks[i].path);
	free(c->jail.root);
	vmmconf_init(c);
}

/* Appends `key: fd` to o when fd is one. */
static void put_fd(json_t *o, const char *key, int fd)
{
	if (fd >= 0)
		json_object_set_new(o, key, json_integer(fd));
}

static json_t *fds_json(const struct vmm_config *c)
{
	json_t *o = json_object(), *disks = json_array(), *nics = json_array();
	put_fd(o, "kvm", c->fd.kvm);
	put_fd(o, "kernel", c->fd.kernel);
	put_fd(o, "firmware", c->fd.firmware);
	put_fd(o, "nvram", c->fd.nvram);
	put_fd(o, "initrd", c->fd.initrd);
	put_fd(o, "console", c->fd.console);
	put_fd(o, "control", c->fd.control);
	for (unsigned i = 0; i < c->ndisks; i++)
		json_array_append_new(disks, json_integer(c->fd.disks[i]));
	for (unsigned i = 0; i < c->nnics; i++)
		json_array_append_new(nics, json_integer(c->fd.nics[i]));
	json_object_set_new(o, "disks", disks);
	json_object_set_new(o, "nics", nics);
	return o;
}

uint64_t vmm_memory_limit_mib(uint64_t mem_mib, unsigned vcpus)
{
	return mem_mib + 64 + 4 * (uint64_t)vcpus + mem_mib / 64;
}

unsigned vmm_pids_limit(unsigned vcpus)
{
	return vcpus + 32;
}

uint64_t vmm_address_space_limit(uint64_t mem_mib, unsigned vcpus)
{
	return (mem_mib + 2048 + 80 * (uint64_t)vcpus) << 20;
}

/* Builds the JSON object of c; NULL if out of memory. */
static json_t *to_json(const struct vmm_config *c)
{
	json_t *o = json_pack("{s:s, s:i, s:I, s:s, s:s, s:b, s:b, s:[], s:[]}", "name", c->name,
			      "vcpus", (int)c->vcpus, "memory_mib", (json_int_t)c->memory_mib,
			      "cmdline", c->cmdline ? c->cmdline : "", "on_reboot",
			      c->reboot_exits ? "exit" : "restart", "boot_timer", c->boot_timer,
			      "rng", c->rng, "disks", "nics");
	if (!o)
		return NULL;
	json_t *con = json_pack("{s:s}", "type", console_types[c->console]);
	if (con && c->console_path)
		json_object_set_new(con, "path", json_string(c->console_path));
	json_object_set_new(o, "console", con);
	if (c->initrd)
		json_object_set_new(o, "initrd", json_string(c->initrd));
	if (c->firmware)
		json_object_set_new(o, "firmware", json_string(c->firmware));
	if (c->nvram)
		json_object_set_new(o, "nvram", json_string(c->nvram));
	if (c->nboot) {
		json_t *order = json_array();
		for (unsigned i = 0; i < c->nboot; i++)
			json_array_append_new(order, json_integer(c->boot_order[i]));
		json_object_set_new(o, "boot_order", order);
	}
	if (c->kernel || !c->firmware)
		json_object_set_new(o, "kernel", json_string(c->kernel ? c->kernel : ""));
	if (c->control)
		json_object_set_new(o, "control", json_string(c->control));
	for (unsigned i = 0; i < c->ndisks; i++)
		json_array_append_new(json_object_get(o, "disks"),
				      json_pack("{s:s, s:b, s:s}", "path", c->disks[i].path ?: "",
						"readonly", c->disks[i].readonly, "serial",
						c->disks[i].serial));
	if (c->has_fds)
		json_object_set_new(o, "fds", fds_json(c));
	if (c->jailed)
		json_object_set_new(o, "jail",
				    json_pack("{s:I, s:I, s:s}", "uid", (json_int_t)c->jail.uid,
					      "gid", (json_int_t)c->jail.gid, "root",
					      c->jail.root ? c->jail.root : ""));
	for (unsigned i = 0; i < c->nnics; i++) {
		char mac[MAC_TEXT_LEN];
		mac_format(c->nics[i].mac, mac);
		json_t *n = json_pack("{s:s, s:s}", "tap", c->nics[i].tap, "mac", mac);
		if (n && c->nics[i].mtu)
			json_object_set_new(n, "mtu", json_integer(c->nics[i].mtu));
		json_array_append_new(json_object_get(o, "nics"), n);
	}
	return o;
}

char *vmmconf_format(const struct vmm_config *c, char *err, size_t errlen)
{
	json_t *o = to_json(c);
	char *text = o ? json_dumps(o, JSON_INDENT(2) | JSON_SORT_KEYS) : NULL;
	json_decref(o);
	if (!text)
		return errorf(err, errlen, "out of memory"), NULL;
	struct vmm_config back; /* what keel-vmm will read: checked here */
	if (vmmconf_parse(text, &back, err, errlen) < 0) {
		free(text);
		return NULL;
	}
	vmmconf_free(&back);
	return text;
}
