#include "hostd/api.h"

#include "common/util.h"
#include "hostd/authz.h"
#include "hostd/datastore_registry.h"
#include "hostd/db.h"
#include "hostd/network.h"
#include "hostd/vmconf.h"
#include "hostd/vms.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/sysinfo.h>

static int64_t host_memory_mib(void)
{
	struct sysinfo si;
	sysinfo(&si);
	return (int64_t)((uint64_t)si.totalram * si.mem_unit >> 20);
}

static json_t *describe(json_t *conf)
{
	vms_describe(conf);
	return conf;
}

void api_vm_list(struct req *r)
{
	json_t *list = db_vm_list(), *seen = json_array();
	size_t i;
	json_t *vm;
	json_array_foreach(list, i, vm)
	{
		if (authz_allowed(r->user, "System.View",
				  json_string_value(json_object_get(vm, "name"))))
			json_array_append(seen, describe(vm));
	}
	json_decref(list);
	reply_json(r, 200, json_pack("{s:o}", "vms", seen));
}

void api_vm_show(struct req *r)
{
	json_t *conf = db_vm_get(r->param[0], NULL);
	if (!conf)
		reply_error(r, 404, "%s: no such VM", r->param[0]);
	else
		reply_json(r, 200, describe(conf));
}

/* The kernel, initrd and existing disks must be there; disks with a size
 * must not. */
static int check_files(struct req *r, const json_t *conf, const json_t *old)
{
	char err[512];
	const char *initrd = json_string_value(json_object_get(conf, "initrd"));
	if (datastore_file_exists(json_string_value(json_object_get(conf, "kernel")), err,
				  sizeof(err)) < 0 ||
	    (*initrd && datastore_file_exists(initrd, err, sizeof(err)) < 0)) {
		reply_error(r, 400, "%s", err);
		return -1;
	}
	size_t i, j;
	json_t *d, *o;
	json_array_foreach(json_object_get(conf, "nics"), i, d)
	{
		const char *pg = json_string_value(json_object_get(d, "portgroup"));
		json_t *known = network_portgroup(pg);
		json_decref(known);
		if (!known) {
			reply_error(r, 400, "nics[%zu].portgroup: %s: no such port group", i, pg);
			return -1;
		}
	}
	json_array_foreach(json_object_get(conf, "disks"), i, d)
	{
		const char *path = json_string_value(json_object_get(d, "path"));
		int exists = datastore_file_exists(path, err, sizeof(err)) == 0;
		int known = 0;
		json_array_foreach(json_object_get(old, "disks"), j, o) known |=
		    json_equal(json_object_get(o, "path"), json_object_get(d, "path"));
		if (json_object_get(d, "size_mib") && (exists || known)) {
			reply_error(r, 409, "%s: exists; leave out size_mib to use it", path);
			return -1;
		}
		if (!json_object_get(d, "size_mib") && !exists) {
			reply_error(r, 400, "%s (give size_mib to create it)", err);
			return -1;
		}
	}
	return 0;
}

/* Creates the disks that have a size; on failure removes those made. */
static int make_disks(struct req *r, json_t *conf)
{
	size_t i;
	json_t *d;
	char err[512];
	json_array_foreach(json_object_get(conf, "disks"), i, d)
	{
		json_t *size = json_object_get(d, "size_mib");
		if (!size)
			continue;
		const char *rel;
		struct datastore *store = datastore_split(
		    json_string_value(json_object_get(d, "path")), &rel, err, sizeof(err));
		int rc = store ? ds_mkparents(store, rel, err, sizeof(err)) : -ENOENT;
		if (rc == 0)
			rc = ds_mkdisk(store, rel, (uint64_t)json_integer_value(size) << 20, err,
				       sizeof(err));
		if (rc < 0) {
			for (size_t j = 0; j < i; j++) {
				json_t *m = json_array_get(json_object_get(conf, "disks"), j);
				if (json_object_get(m, "size_mib") &&
				    (store = datastore_split(
					 json_string_value(json_object_get(m, "path")), &rel, NULL,
					 0)))
					ds_remove(store, rel, NULL, 0);
			}
			reply_errno(r, rc, err);
			return -1;
		}
	}
	vmconf_strip_sizes(conf);
	return 0;
}

void api_vm_create(struct req *r)
{
	json_t *body = req_json(r);
	if (!body)
		return;
	char err[512];
	int64_t id;
	json_t *conf = vmconf_build(body, NULL, host_memory_mib(), err, sizeof(err));
	json_decref(body);
	if (!conf) {
		reply_error(r, 400, "%s", err);
		return;
	}
	const char *name = json_string_value(json_object_get(conf, "name"));
	json_t *existing = db_vm_get(name, NULL);
	if (existing) {
		json_decref(existing);
		reply_error(r, 409, "%s: a VM of that name exists", name);
	} else if (check_files(r, conf, NULL) == 0 && make_disks(r, conf) == 0) {
		if (db_vm_add(conf, &id, err, sizeof(err)) < 0)
			reply_error(r, 500, "%s", err);
		else
			reply_json(r, 201, describe(json_incref(conf)));
	}
	json_decref(conf);
}

void api_vm_update(struct req *r)
{
	json_t *body = req_json(r);
	if (!body)
		return;
	char err[512];
	vms_lock();
	json_t *old = db_vm_get(r->param[0], NULL), *conf = NULL;
	if (!old)
		reply_error(r, 404, "%s: no such VM", r->param[0]);
	else if (vms_running_locked(r->param[0]))
		reply_error(r, 409, "%s: power the VM off first", r->param[0]);
	else if (!(conf = vmconf_build(body, old, host_memory_mib(), err, sizeof(err))))
		reply_error(r, 400, "%s", err);
	else if (check_files(r, conf, old) == 0 && make_disks(r, conf) == 0) {
		if (db_vm_update(r->param[0], conf, err, sizeof(err)) < 0)
			reply_error(r, 500, "%s", err);
		else {
			json_t *out = json_deep_copy(conf);
			json_object_set_new(out, "state", json_string("poweredOff"));
			reply_json(r, 200, out);
		}
	}
	vms_unlock();
	json_decref(conf);
	json_decref(old);
	json_decref(body);
}

void api_vm_delete(struct req *r)
{
	const char *flag = req_query(r, "delete_disks");
	int delete_disks = flag && strcmp(flag, "true") == 0;
	if (flag && !delete_disks && strcmp(flag, "false") != 0) {
		reply_error(r, 400, "delete_disks: true or false");
		return;
	}
	char err[512];
	vms_lock();
	json_t *conf = db_vm_get(r->param[0], NULL);
	if (!conf)
		reply_error(r, 404, "%s: no such VM", r->param[0]);
	else if (vms_running_locked(r->param[0]))
		reply_error(r, 409, "%s: the VM is running; power it off first", r->param[0]);
	else if (db_vm_remove(r->param[0], err, sizeof(err)) < 0)
		reply_error(r, 500, "%s", err);
	else
		reply_empty(r, 204);
	vms_unlock();
	if (r->status == 204) {
		vms_forget(r->param[0]);
		/* a later VM of the same name must not inherit its permissions */
		char entity[80];
		snprintf(entity, sizeof(entity), "vm/%s", r->param[0]);
		db_permission_delete_entity(entity, NULL, 0);
		size_t i;
		json_t *d;
		json_array_foreach(json_object_get(conf, "disks"), i, d)
		{
			const char *rel;
			struct datastore *store = datastore_split(
			    json_string_value(json_object_get(d, "path")), &rel, NULL, 0);
			if (delete_disks && store)
				ds_remove(store, rel, NULL, 0);
		}
	}
	json_decref(conf);
}

void api_vm_power(struct req *r)
{
	json_t *body = req_json(r);
	if (!body)
		return;
	int timeout = 60;
	json_t *t = json_object_get(body, "timeout_s");
	char err[512];
	if (req_only_fields(r, body, (const char *const[]){"timeout_s", NULL}) < 0)
		goto out;
	if (t &&
	    (!json_is_integer(t) || json_integer_value(t) < 0 || json_integer_value(t) > 3600)) {
		reply_error(r, 400, "timeout_s: an integer from 0 to 3600");
		goto out;
	}
	if (t)
		timeout = (int)json_integer_value(t);
	int rc = vms_power(r->param[0], r->route->action, timeout, err, sizeof(err));
	json_t *conf = rc < 0 ? NULL : db_vm_get(r->param[0], NULL);
	if (conf)
		reply_json(r, 202, describe(conf));
	else if (rc < 0)
		reply_errno(r, rc, err);
	else
		reply_error(r, 500, "%s", err);
out:
	json_decref(body);
}

void api_vm_console(struct req *r)
{
	const char *b = req_query(r, "bytes");
	char *end;
	long max = b ? strtol(b, &end, 10) : 65536;
	if (b && (*b == '\0' || *end || max < 1 || max > 1048576)) {
		reply_error(r, 400, "bytes: an integer from 1 to 1048576");
		return;
	}
	json_t *conf = db_vm_get(r->param[0], NULL);
	if (!conf) {
		reply_error(r, 404, "%s: no such VM", r->param[0]);
		return;
	}
	json_decref(conf);
	size_t len;
	char *text = vms_console_tail(r->param[0], (size_t)max, &len);
	if (!text)
		reply_error(r, 500, "out of memory");
	else
		reply_text(r, 200, text, len);
}

void api_vm_stats(struct req *r)
{
	char err[512];
	json_t *conf = db_vm_get(r->param[0], NULL);
	json_t *stats = conf ? vms_stats(r->param[0], err, sizeof(err)) : NULL;
	if (!conf)
		reply_error(r, 404, "%s: no such VM", r->param[0]);
	else if (!stats)
		reply_error(r, 409, "%s", err);
	else
		reply_json(r, 200, stats);
	json_decref(conf);
}
