#include "hostd/vmconf.h"

#include "common/names.h"
#include "common/util.h"
#include "common/vmmconf.h"
#include "common/vmspec.h"
#include "hostd/datastore.h"

#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

/* A JSON string without NUL bytes in it (one with them would be read
 * differently by C code than it was checked). */
static bool text_string(const json_t *v)
{
	return json_is_string(v) && strlen(json_string_value(v)) == json_string_length(v);
}

/* "DATASTORE/PATH" with a valid datastore name and path */
static int check_dspath(const char *field, const char *s, char *err, size_t errlen)
{
	const char *slash = strchr(s, '/');
	char e[256], ds[64] = "";
	if (slash && slash - s < (ptrdiff_t)sizeof(ds))
		memcpy(ds, s, (size_t)(slash - s));
	if (!slash || !datastore_name_valid(ds))
		return errorf(err, errlen, "%s: want DATASTORE/PATH, e.g. local/web1/disk0.img",
			      field);
	if (ds_path_check(slash + 1, 0, e, sizeof(e)) < 0)
		return errorf(err, errlen, "%s: %s", field, e);
	return 0;
}

static int check_int(const char *field, const json_t *v, json_int_t lo, json_int_t hi, char *err,
		     size_t errlen)
{
	if (!json_is_integer(v) || json_integer_value(v) < lo || json_integer_value(v) > hi)
		return errorf(err, errlen, "%s: must be an integer from %lld to %lld", field,
			      (long long)lo, (long long)hi);
	return 0;
}

static json_t *build_disks(const json_t *v, char *err, size_t errlen)
{
	if (!json_is_array(v) || json_array_size(v) > VM_MAX_DISKS)
		return errorf(err, errlen, "disks: must be an array of at most %d disks",
			      VM_MAX_DISKS),
		       NULL;
	json_t *out = json_array();
	size_t i;
	json_t *d;
	json_array_foreach(v, i, d)
	{
		char f[32];
		snprintf(f, sizeof(f), "disks[%zu]", i);
		const char *key;
		json_t *x;
		if (!json_is_object(d)) {
			errorf(err, errlen, "%s: must be an object", f);
			goto bad;
		}
		json_object_foreach(d, key, x) if (strcmp(key, "path") && strcmp(key, "readonly") &&
						   strcmp(key, "size_mib"))
		{
			errorf(err, errlen, "%s.%s: unknown field", f, key);
			goto bad;
		}
		const json_t *path = json_object_get(d, "path"),
			     *ro = json_object_get(d, "readonly"),
			     *size = json_object_get(d, "size_mib");
		if (!text_string(path)) {
			errorf(err, errlen, "%s.path: a string is needed", f);
			goto bad;
		}
		char pf[48];
		snprintf(pf, sizeof(pf), "%s.path", f);
		if (check_dspath(pf, json_string_value(path), err, errlen) < 0)
			goto bad;
		if (ro && !json_is_boolean(ro)) {
			errorf(err, errlen, "%s.readonly: must be true or false", f);
			goto bad;
		}
		snprintf(pf, sizeof(pf), "%s.size_mib", f);
		if (size &&
		    check_int(pf, size, 1, (json_int_t)(DS_DISK_MAX >> 20), err, errlen) < 0)
			goto bad;
		for (size_t j = 0; j < i; j++)
			if (json_equal(json_object_get(json_array_get(out, j), "path"), path)) {
				errorf(err, errlen, "%s.path: %s is already disk %zu", f,
				       json_string_value(path), j);
				goto bad;
			}
		json_t *nd =
		    json_pack("{s:O,s:b}", "path", path, "readonly", ro && json_is_true(ro));
		if (size)
			json_object_set(nd, "size_mib", (json_t *)size);
		json_array_append_new(out, nd);
	}
	return out;
bad:
	json_decref(out);
	return NULL;
}

static json_t *build_nics(const json_t *v, const char *name, char *err, size_t errlen)
{
	if (!json_is_array(v) || json_array_size(v) > VM_MAX_NICS)
		return errorf(err, errlen, "nics: must be an array of at most %d NICs",
			      VM_MAX_NICS),
		       NULL;
	json_t *out = json_array();
	size_t i;
	json_t *n;
	json_array_foreach(v, i, n)
	{
		const json_t *mac = json_object_get(n, "mac"),
			     *pg = json_object_get(n, "portgroup");
		if (!json_is_object(n) || json_object_size(n) > (mac ? 1u : 0u) + (pg ? 1u : 0u)) {
			errorf(err, errlen,
			       "nics[%zu]: must be {} or {\"portgroup\": \"VM Network\", "
			       "\"mac\": \"52:54:00:...\"} (both optional)",
			       i);
			goto bad;
		}
		if (pg && (!text_string(pg) || json_string_length(pg) < 1 ||
			   json_string_length(pg) > 64)) {
			errorf(err, errlen, "nics[%zu].portgroup: a port group name", i);
			goto bad;
		}
		uint8_t bytes[6];
		char m[MAC_TEXT_LEN];
		if (mac && (!text_string(mac) || mac_parse(json_string_value(mac), bytes) < 0)) {
			errorf(err, errlen,
			       "nics[%zu].mac: want a unicast MAC, e.g. 52:54:00:12:34:56", i);
			goto bad;
		}
		if (!mac)
			mac_default(name, (unsigned)i, bytes);
		mac_format(bytes, m);
		for (size_t j = 0; j < i; j++)
			if (strcmp(
				json_string_value(json_object_get(json_array_get(out, j), "mac")),
				m) == 0) {
				errorf(err, errlen, "nics[%zu].mac: %s is already NIC %zu's", i, m,
				       j);
				goto bad;
			}
		json_array_append_new(out,
				      json_pack("{s:s,s:s}", "mac", m, "portgroup",
						pg ? json_string_value(pg) : VM_DEFAULT_PORTGROUP));
	}
	return out;
bad:
	json_decref(out);
	return NULL;
}

/* A string of at most max bytes without control characters but those in
 * `allowed` ("" for none). */
static int check_string(const char *field, const json_t *v, size_t max, const char *allowed,
			char *err, size_t errlen)
{
	if (!text_string(v) || json_string_length(v) > max)
		return errorf(err, errlen, "%s: must be a string of at most %zu bytes", field, max);
	for (const char *p = json_string_value(v); *p; p++)
		if (((unsigned char)*p < 0x20 && !strchr(allowed, *p)) || *p == 0x7f)
			return errorf(err, errlen, "%s: control characters are not allowed%s",
				      field, *allowed ? " (but tab, CR and LF)" : "");
	return 0;
}

#define CLOUD_INIT_RULE                                                                            \
	"cloud_init: null, or {\"user_data\": \"...\", \"meta_data\": \"...\", "                   \
	"\"network_config\": \"...\"} (user_data needed, the others optional)"

/* cloud_init's canonical value: null, or its three texts ("" for one not
 * given); NULL with a message. */
static json_t *build_cloud_init(const json_t *v, char *err, size_t errlen)
{
	static const struct {
		const char *key;
		size_t max;
	} texts[] = {{"user_data", VM_USER_DATA_MAX},
		     {"meta_data", VM_META_DATA_MAX},
		     {"network_config", VM_NETWORK_CONFIG_MAX}};
	if (json_is_null(v))
		return json_null();
	if (!json_is_object(v) || !json_object_get(v, "user_data"))
		return errorf(err, errlen, CLOUD_INIT_RULE), NULL;
	const char *key;
	json_t *x;
	json_object_foreach((json_t *)v, key, x)
	{
		size_t i = 0;
		while (i < ARRAY_SIZE(texts) && strcmp(key, texts[i].key))
			i++;
		if (i == ARRAY_SIZE(texts))
			return errorf(err, errlen,
				      "cloud_init.%s: unknown field (" CLOUD_INIT_RULE ")", key),
			       NULL;
		char f[48];
		snprintf(f, sizeof(f), "cloud_init.%s", key);
		if (check_string(f, x, texts[i].max, "\t\r\n", err, errlen) < 0)
			return NULL;
	}
	const char *meta = json_string_value(json_object_get(v, "meta_data")) ?: "";
	meta += strspn(meta, " \t\r\n");
	if (*meta == '{' || *meta == '[')
		return errorf(
			   err, errlen,
			   "cloud_init.meta_data: a block-style YAML mapping (key: value lines), "
			   "not a flow one"),
		       NULL;
	json_t *out = json_object();
	for (size_t i = 0; i < ARRAY_SIZE(texts); i++) {
		const json_t *t = json_object_get(v, texts[i].key);
		json_object_set_new(out, texts[i].key, json_string(t ? json_string_value(t) : ""));
	}
	return out;
}

/* Checks one field and stores its canonical value in conf. */
static int set_field(json_t *conf, const char *key, const json_t *v, int64_t host_mem, char *err,
		     size_t errlen)
{
	json_t *nv = NULL;
	if (strcmp(key, "vcpus") == 0) {
		if (check_int(key, v, 1, VM_MAX_VCPUS, err, errlen) < 0)
			return -1;
	} else if (strcmp(key, "memory_mib") == 0) {
		if (check_int(key, v, VM_MIN_MEM_MIB,
			      host_mem < VM_MAX_MEM_MIB ? host_mem : VM_MAX_MEM_MIB, err,
			      errlen) < 0)
			return -1;
	} else if (strcmp(key, "firmware") == 0) {
		if (!text_string(v) || vm_firmware_parse(json_string_value(v)) < 0)
			return errorf(err, errlen, "firmware: " VM_FIRMWARE_RULE);
	} else if (strcmp(key, "boot_order") == 0) {
		if (!json_is_array(v) || json_array_size(v) > VM_MAX_DISKS)
			return errorf(err, errlen,
				      "boot_order: an array of at most %d disk indexes",
				      VM_MAX_DISKS);
		size_t i;
		json_t *x;
		json_array_foreach(v, i, x)
		{
			char f[40];
			snprintf(f, sizeof(f), "boot_order[%zu]", i);
			if (check_int(f, x, 0, VM_MAX_DISKS - 1, err, errlen) < 0)
				return -1;
			for (size_t j = 0; j < i; j++)
				if (json_equal(json_array_get(v, j), x))
					return errorf(err, errlen, "%s: disk %lld is already in it",
						      f, (long long)json_integer_value(x));
		}
	} else if (strcmp(key, "kernel") == 0) {
		if (!text_string(v))
			return errorf(err, errlen, "kernel: a string is needed (\"\" for none)");
		if (json_string_length(v) &&
		    check_dspath(key, json_string_value(v), err, errlen) < 0)
			return -1;
	} else if (strcmp(key, "initrd") == 0) {
		if (!text_string(v))
			return errorf(err, errlen, "initrd: a string is needed (\"\" for none)");
		if (json_string_length(v) &&
		    check_dspath(key, json_string_value(v), err, errlen) < 0)
			return -1;
	} else if (strcmp(key, "cmdline") == 0) {
		if (check_string(key, v, VM_CMDLINE_MAX, "", err, errlen) < 0)
			return -1;
	} else if (strcmp(key, "disks") == 0) {
		if (!(nv = build_disks(v, err, errlen)))
			return -1;
	} else if (strcmp(key, "nics") == 0) {
		const char *name = json_string_value(json_object_get(conf, "name"));
		if (!(nv = build_nics(v, name, err, errlen)))
			return -1;
	} else if (strcmp(key, "cloud_init") == 0) {
		if (!(nv = build_cloud_init(v, err, errlen)))
			return -1;
	} else if (strcmp(key, "autostart") == 0) {
		if (!json_is_boolean(v))
			return errorf(err, errlen, "autostart: must be true or false");
	} else if (strcmp(key, "autostart_order") == 0) {
		if (check_int(key, v, 0, 1000000, err, errlen) < 0)
			return -1;
	} else if (strcmp(key, "autostart_delay_s") == 0) {
		if (check_int(key, v, 0, 3600, err, errlen) < 0)
			return -1;
	} else {
		return errorf(err, errlen, "%s: unknown field", key);
	}
	json_object_set_new(conf, key, nv ? nv : json_deep_copy(v));
	return 0;
}

/* What only "none" has (a kernel, an initrd, a command line) and what only
 * firmware has (a boot order), checked once the fields are set; what the
 * body did not give but the firmware rules out is cleared. */
static int check_boot(json_t *conf, const json_t *body, char *err, size_t errlen)
{
	bool none = vm_firmware_parse(json_string_value(json_object_get(conf, "firmware"))) ==
		    VM_FIRMWARE_NONE;
	const char *direct[] = {"kernel", "initrd", "cmdline"};
	for (size_t i = 0; i < sizeof(direct) / sizeof(*direct); i++) {
		const char *k = direct[i];
		if (none || !json_string_length(json_object_get(conf, k)))
			continue;
		if (json_object_get(body, k))
			return errorf(err, errlen,
				      "%s: only with firmware \"none\" (the firmware boots the "
				      "disks)",
				      k);
		json_object_set_new(conf, k, json_string(""));
	}
	if (none && !json_string_length(json_object_get(conf, "kernel")))
		return errorf(err, errlen, "kernel: firmware \"none\" boots a kernel: give one");
	json_t *order = json_object_get(conf, "boot_order");
	if (none && json_array_size(order)) {
		if (json_object_get(body, "boot_order"))
			return errorf(err, errlen,
				      "boot_order: only with firmware \"uefi\" or \"bios\"");
		json_array_clear(order);
	}
	size_t i, ndisks = json_array_size(json_object_get(conf, "disks"));
	json_t *x;
	json_array_foreach(order, i, x)
	{
		if ((size_t)json_integer_value(x) >= ndisks)
			return errorf(err, errlen, "boot_order[%zu]: there is no disk %lld", i,
				      (long long)json_integer_value(x));
	}
	return 0;
}

/* The seed is one more disk, kept in the VM's folder. */
static int check_cloud_init(const json_t *conf, char *err, size_t errlen)
{
	if (!json_is_object(json_object_get(conf, "cloud_init")))
		return 0;
	size_t ndisks = json_array_size(json_object_get(conf, "disks"));
	if (ndisks >= VM_MAX_DISKS)
		return errorf(err, errlen,
			      "cloud_init: its seed is one more disk: a VM with it has at most %d "
			      "disks",
			      VM_MAX_DISKS - 1);
	if (!ndisks && !json_string_length(json_object_get(conf, "kernel")))
		return errorf(err, errlen,
			      "cloud_init: the VM needs a disk or a kernel (the VM's folder on its "
			      "datastore holds the seed)");
	return 0;
}

/* The API body checked, as the canonical JSON of the configuration (a new
 * reference; disks may carry "size_mib"), or NULL with a message. */
static json_t *build_json(const json_t *body, const json_t *base, int64_t host_mem, char *err,
			  size_t errlen)
{
	if (!json_is_object(body))
		return errorf(err, errlen, "the body must be a JSON object"), NULL;
	json_t *conf;
	if (base) {
		if (json_object_get(body, "name"))
			return errorf(err, errlen, "name: cannot be changed"), NULL;
		conf = json_deep_copy(base);
	} else {
		const json_t *name = json_object_get(body, "name");
		if (!text_string(name) || !vm_name_valid(json_string_value(name)))
			return errorf(err, errlen, "name: " VM_NAME_RULE), NULL;
		if (!json_object_get(body, "memory_mib"))
			return errorf(err, errlen, "memory_mib: missing"), NULL;
		const json_t *k = json_object_get(body, "kernel");
		conf = json_pack("{s:O,s:i,s:i,s:s,s:s,s:s,s:s,s:[],s:[],s:[],s:b,s:i,s:i,s:n}",
				 "name", name, "vcpus", 1, "memory_mib", 0, "firmware",
				 json_string_length(k) ? "none" : "uefi", "kernel", "", "initrd",
				 "", "cmdline", "console=ttyS0", "disks", "boot_order", "nics",
				 "autostart", 0, "autostart_order", 0, "autostart_delay_s", 0,
				 "cloud_init");
	}
	const char *key;
	json_t *v;
	json_object_foreach((json_t *)body, key, v)
	{
		if (strcmp(key, "name") == 0)
			continue;
		if (set_field(conf, key, v, host_mem, err, errlen) < 0) {
			json_decref(conf);
			return NULL;
		}
	}
	if (check_boot(conf, body, err, errlen) < 0 || check_cloud_init(conf, err, errlen) < 0) {
		json_decref(conf);
		return NULL;
	}
	return conf;
}

static void copy_string(char *dst, size_t n, const json_t *o, const char *key)
{
	str_copy(dst, n, json_string_value(json_object_get(o, key)) ?: "");
}

/* The canonical JSON (checked by build_json) into c. */
static void from_canonical(const json_t *conf, struct vm_config *c)
{
	memset(c, 0, sizeof(*c));
	copy_string(c->name, sizeof(c->name), conf, "name");
	c->vcpus = (unsigned)json_integer_value(json_object_get(conf, "vcpus"));
	c->memory_mib = (uint64_t)json_integer_value(json_object_get(conf, "memory_mib"));
	c->firmware = (enum vm_firmware)vm_firmware_parse(
	    json_string_value(json_object_get(conf, "firmware")));
	copy_string(c->kernel, sizeof(c->kernel), conf, "kernel");
	copy_string(c->initrd, sizeof(c->initrd), conf, "initrd");
	copy_string(c->cmdline, sizeof(c->cmdline), conf, "cmdline");
	size_t i;
	json_t *x;
	json_array_foreach(json_object_get(conf, "disks"), i, x)
	{
		struct vm_disk *d = &c->disks[c->ndisks++];
		copy_string(d->path, sizeof(d->path), x, "path");
		d->readonly = json_is_true(json_object_get(x, "readonly"));
		d->create_mib = (uint64_t)json_integer_value(json_object_get(x, "size_mib"));
	}
	json_array_foreach(json_object_get(conf, "boot_order"), i, x) c->boot_order[c->nboot++] =
	    (unsigned)json_integer_value(x);
	json_array_foreach(json_object_get(conf, "nics"), i, x)
	{
		struct vm_nic *n = &c->nics[c->nnics++];
		mac_parse(json_string_value(json_object_get(x, "mac")), n->mac);
		copy_string(n->portgroup, sizeof(n->portgroup), x, "portgroup");
	}
	c->autostart = json_is_true(json_object_get(conf, "autostart"));
	c->autostart_order = (unsigned)json_integer_value(json_object_get(conf, "autostart_order"));
	c->autostart_delay_s =
	    (unsigned)json_integer_value(json_object_get(conf, "autostart_delay_s"));
	const json_t *ci = json_object_get(conf, "cloud_init");
	if (json_is_object(ci)) {
		struct vm_cloud_init *t = &c->cloud_init;
		t->on = true;
		copy_string(t->user_data, sizeof(t->user_data), ci, "user_data");
		copy_string(t->meta_data, sizeof(t->meta_data), ci, "meta_data");
		copy_string(t->network_config, sizeof(t->network_config), ci, "network_config");
	}
}

json_t *vmconf_json(const struct vm_config *c)
{
	json_t *disks = json_array(), *nics = json_array();
	for (unsigned i = 0; i < c->ndisks; i++)
		json_array_append_new(disks, json_pack("{s:s, s:b}", "path", c->disks[i].path,
						       "readonly", c->disks[i].readonly));
	for (unsigned i = 0; i < c->nnics; i++) {
		char mac[MAC_TEXT_LEN];
		mac_format(c->nics[i].mac, mac);
		json_array_append_new(
		    nics, json_pack("{s:s, s:s}", "mac", mac, "portgroup", c->nics[i].portgroup));
	}
	json_t *order = json_array();
	for (unsigned i = 0; i < c->nboot; i++)
		json_array_append_new(order, json_integer(c->boot_order[i]));
	const struct vm_cloud_init *t = &c->cloud_init;
	json_t *ci = t->on ? json_pack("{s:s, s:s, s:s}", "user_data", t->user_data, "meta_data",
				       t->meta_data, "network_config", t->network_config)
			   : json_null();
	return json_pack("{s:s, s:i, s:I, s:s, s:s, s:s, s:s, s:o, s:o, s:o, s:b, s:i, s:i, s:o}",
			 "name", c->name, "vcpus", (int)c->vcpus, "memory_mib",
			 (json_int_t)c->memory_mib, "firmware", vm_firmware_name(c->firmware),
			 "kernel", c->kernel, "initrd", c->initrd, "cmdline", c->cmdline, "disks",
			 disks, "boot_order", order, "nics", nics, "autostart", c->autostart,
			 "autostart_order", (int)c->autostart_order, "autostart_delay_s",
			 (int)c->autostart_delay_s, "cloud_init", ci);
}

int vmconf_build(const json_t *body, const struct vm_config *base, int64_t host_memory_mib,
		 struct vm_config *out, char *err, size_t errlen)
{
	json_t *base_json = base ? vmconf_json(base) : NULL;
	json_t *conf = build_json(body, base_json, host_memory_mib, err, errlen);
	json_decref(base_json);
	if (!conf)
		return -EINVAL;
	from_canonical(conf, out);
	json_decref(conf);
	return 0;
}

int vmconf_from_json(const json_t *stored, struct vm_config *out, char *err, size_t errlen)
{
	char why[256];
	json_t *conf = build_json(stored, NULL, VM_MAX_MEM_MIB, why, sizeof(why));
	if (!conf)
		return errorf(err, errlen, "a stored VM: %s", why), -EINVAL;
	from_canonical(conf, out);
	json_decref(conf);
	for (unsigned i = 0; i < out->ndisks; i++)
		out->disks[i].create_mib = 0; /* stored disks exist */
	return 0;
}

void vmconf_redact(json_t *conf)
{
	json_t *ci = json_object_get(conf, "cloud_init"), *text;
	const char *key;
	if (!json_is_object(ci))
		return;
	json_object_foreach(ci, key, text)
	{
		if (json_is_string(text))
			json_object_set_new(
			    ci, key,
			    json_sprintf("(%zu bytes, not included)", json_string_length(text)));
	}
}

int vmconf_home(const struct vm_config *c, char out[VM_DSPATH_MAX + 1])
{
	const char *on = c->ndisks ? c->disks[0].path : c->kernel;
	size_t ds = strcspn(on, "/");
	if (!on[ds])
		return -1;
	snprintf(out, VM_DSPATH_MAX + 1, "%.*s/%s", (int)ds, on, c->name);
	return 0;
}

bool vmconf_uses(const struct vm_config *c, const char *dspath)
{
	if (strcmp(c->kernel, dspath) == 0 || strcmp(c->initrd, dspath) == 0)
		return true;
	for (unsigned i = 0; i < c->ndisks; i++)
		if (strcmp(c->disks[i].path, dspath) == 0)
			return true;
	return false;
}

int vmconf_vmm(const struct vm_config *c, const struct vmconf_host *host, struct vmm_config *v,
	       char *err, size_t errlen)
{
	vmmconf_init(v);
	str_copy(v->name, sizeof(v->name), c->name);
	v->vcpus = c->vcpus;
	v->memory_mib = c->memory_mib;
	v->console = CONSOLE_FILE;
	v->rng = true;
	v->cmdline = strdup(c->cmdline);
	v->console_path = strdup(host->console_path);
	v->control = strdup(host->control_path);
	char path[DS_PATH_MAX + 64];
	int rc =
	    v->cmdline && v->console_path && v->control ? 0 : errorf(err, errlen, "out of memory");
	if (rc == 0 && c->firmware != VM_FIRMWARE_NONE) {
		v->firmware = strdup(host->firmware);
		v->nvram = host->nvram ? strdup(host->nvram) : NULL;
		if (!v->firmware || (host->nvram && !v->nvram))
			rc = errorf(err, errlen, "out of memory");
		memcpy(v->boot_order, c->boot_order, sizeof(v->boot_order));
		v->nboot = c->nboot;
	} else if (rc == 0 && (rc = host->resolve(c->kernel, path, sizeof(path), err, errlen)) == 0)
		v->kernel = strdup(path);
	if (rc == 0 && *c->initrd &&
	    (rc = host->resolve(c->initrd, path, sizeof(path), err, errlen)) == 0)
		v->initrd = strdup(path);
	for (unsigned i = 0; rc == 0 && i < c->ndisks; i++) {
		if ((rc = host->resolve(c->disks[i].path, path, sizeof(path), err, errlen)) < 0)
			break;
		v->disks[i].path = strdup(path);
		v->disks[i].readonly = c->disks[i].readonly;
		snprintf(v->disks[i].serial, sizeof(v->disks[i].serial), "disk%u", i);
		v->ndisks = i + 1;
	}
	for (unsigned i = 0; rc == 0 && i < c->nnics; i++) {
		vm_tap_name(v->nics[i].tap, host->id, i);
		memcpy(v->nics[i].mac, c->nics[i].mac, 6);
		v->nics[i].mtu = host->mtu[i];
	}
	if (rc == 0 && host->seed) {
		struct vmm_disk *d = &v->disks[v->ndisks];
		if (v->ndisks >= VM_MAX_DISKS)
			rc = errorf(err, errlen, "cloud_init: no room for its seed disk");
		else if (!(d->path = strdup(host->seed)))
			rc = errorf(err, errlen, "out of memory");
		else {
			d->readonly = true;
			str_copy(d->serial, sizeof(d->serial), "cidata");
			v->ndisks++;
		}
	}
	v->nnics = c->nnics;
	if (rc < 0)
		vmmconf_free(v);
	return rc < 0 ? -1 : 0;
}
