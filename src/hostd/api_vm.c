#include "hostd/api.h"

#include "common/log.h"
#include "common/util.h"
#include "hostd/authz.h"
#include "hostd/datastore_registry.h"
#include "hostd/db.h"
#include "hostd/network.h"
#include "hostd/vmconf.h"
#include "hostd/vmfiles.h"
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

/* The API's view of a VM: its configuration and its state. */
static json_t *describe(const struct vm_config *c)
{
	json_t *vm = vmconf_json(c);
	vms_describe(vm);
	return vm;
}

void api_vm_list(struct req *r)
{
	size_t n;
	struct vm_config *all = db_vm_list(&n);
	json_t *seen = json_array();
	for (size_t i = 0; i < n; i++)
		if (authz_allowed(r->user, "System.View", all[i].name))
			json_array_append_new(seen, describe(&all[i]));
	free(all);
	reply_json(r, 200, json_pack("{s:o}", "vms", seen));
}

void api_vm_show(struct req *r)
{
	struct vm_config c;
	if (db_vm_get(r->param[0], &c, NULL) < 0)
		reply_error(r, 404, "%s: no such VM", r->param[0]);
	else
		reply_json(r, 200, describe(&c));
}

static bool had_disk(const struct vm_config *old, const char *path)
{
	for (unsigned j = 0; old && j < old->ndisks; j++)
		if (strcmp(old->disks[j].path, path) == 0)
			return true;
	return false;
}

/* 0 when the caller holds `privilege` on the host, else -1 after 403. */
static int need(struct req *r, const char *privilege, const char *what, const char *name)
{
	if (authz_allowed(r->user, privilege, NULL))
		return 0;
	reply_error(r, 403, "%s lacks the privilege %s on the host, needed for %s %s", r->user,
		    privilege, what, name);
	return -1;
}

static bool had_portgroup(const struct vm_config *old, const char *portgroup)
{
	for (unsigned j = 0; old && j < old->nnics; j++)
		if (strcmp(old->nics[j].portgroup, portgroup) == 0)
			return true;
	return false;
}

/* What a create (old NULL) or update asks beyond its route's privilege, as
 * ESXi does: a datastore file the VM did not use yet (kernel, initrd, an
 * existing disk) needs Datastore.Browse, a disk to create
 * Datastore.AllocateSpace, a port group none of its NICs was on
 * Network.Assign; each on the host (datastores and port groups have no
 * permissions of their own). Checked before anything is looked at or
 * made; replies 403 and returns -1. */
static int check_privileges(struct req *r, const struct vm_config *c, const struct vm_config *old)
{
	const char *browse = "Datastore.Browse";
	if (*c->kernel && !(old && vmconf_uses(old, c->kernel)) &&
	    need(r, browse, "the file", c->kernel) < 0)
		return -1;
	if (*c->initrd && !(old && vmconf_uses(old, c->initrd)) &&
	    need(r, browse, "the file", c->initrd) < 0)
		return -1;
	for (unsigned i = 0; i < c->ndisks; i++) {
		const struct vm_disk *d = &c->disks[i];
		if (d->create_mib && need(r, "Datastore.AllocateSpace", "a new disk", d->path) < 0)
			return -1;
		if (!d->create_mib && !(old && vmconf_uses(old, d->path)) &&
		    need(r, browse, "the disk", d->path) < 0)
			return -1;
	}
	for (unsigned i = 0; i < c->nnics; i++)
		if (!had_portgroup(old, c->nics[i].portgroup) &&
		    need(r, "Network.Assign", "the port group", c->nics[i].portgroup) < 0)
			return -1;
	return 0;
}

/* The kernel, initrd and existing disks must be there; disks to create
 * must not. */
static int check_files(struct req *r, const struct vm_config *c, const struct vm_config *old)
{
	char err[512];
	if ((*c->kernel && datastore_file_exists(c->kernel, err, sizeof(err)) < 0) ||
	    (*c->initrd && datastore_file_exists(c->initrd, err, sizeof(err)) < 0)) {
		reply_error(r, 400, "%s", err);
		return -1;
	}
	for (unsigned i = 0; i < c->nnics; i++) {
		json_t *known = network_portgroup(c->nics[i].portgroup);
		json_decref(known);
		if (!known) {
			reply_error(r, 400, "nics[%u].portgroup: %s: no such port group", i,
				    c->nics[i].portgroup);
			return -1;
		}
	}
	for (unsigned i = 0; i < c->ndisks; i++) {
		const struct vm_disk *d = &c->disks[i];
		int exists = datastore_file_exists(d->path, err, sizeof(err)) == 0;
		if (d->create_mib && (exists || had_disk(old, d->path))) {
			reply_error(r, 409, "%s: exists; leave out size_mib to use it", d->path);
			return -1;
		}
		if (!d->create_mib && !exists) {
			reply_error(r, 400, "%s (give size_mib to create it)", err);
			return -1;
		}
	}
	return 0;
}

/* Creates the disks that have a size; on failure removes those made. */
static int make_disks(struct req *r, struct vm_config *c)
{
	char err[512];
	for (unsigned i = 0; i < c->ndisks; i++) {
		if (!c->disks[i].create_mib)
			continue;
		const char *rel;
		struct datastore *store = datastore_split(c->disks[i].path, &rel, err, sizeof(err));
		int rc = store ? ds_mkparents(store, rel, err, sizeof(err)) : -ENOENT;
		if (rc == 0)
			rc = ds_mkdisk(store, rel, c->disks[i].create_mib << 20, err, sizeof(err));
		if (rc < 0) {
			for (unsigned j = 0; j < i; j++)
				if (c->disks[j].create_mib &&
				    (store = datastore_split(c->disks[j].path, &rel, NULL, 0)))
					ds_remove(store, rel, NULL, 0);
			reply_errno(r, rc, err);
			return -1;
		}
	}
	for (unsigned i = 0; i < c->ndisks; i++)
		c->disks[i].create_mib = 0; /* they exist now */
	return 0;
}

void api_vm_create(struct req *r)
{
	json_t *body = req_json(r);
	if (!body)
		return;
	char err[512];
	int64_t id;
	struct vm_config c;
	int rc = vmconf_build(body, NULL, host_memory_mib(), &c, err, sizeof(err));
	json_decref(body);
	if (rc < 0)
		reply_error(r, 400, "%s", err);
	else if (db_vm_get(c.name, NULL, NULL) != -ENOENT)
		reply_error(r, 409, "%s: a VM of that name exists", c.name);
	else if (check_privileges(r, &c, NULL) == 0 && check_files(r, &c, NULL) == 0 &&
		 make_disks(r, &c) == 0) {
		char seed[VM_DSPATH_MAX + 1];
		if (db_vm_add(&c, &id, err, sizeof(err)) < 0)
			reply_error(r, 500, "%s", err);
		else if (vmfiles_seed(&c, id, seed, err, sizeof(err)) < 0) {
			db_vm_remove(c.name, NULL, 0);
			reply_error(r, 500, "%s: not created: its cloud-init seed: %s", c.name,
				    err);
		} else
			reply_json(r, 201, describe(&c));
	}
}

void api_vm_update(struct req *r)
{
	json_t *body = req_json(r);
	if (!body)
		return;
	char err[512];
	struct vm_config old, c;
	int64_t id;
	vms_lock();
	if (db_vm_get(r->param[0], &old, &id) < 0)
		reply_error(r, 404, "%s: no such VM", r->param[0]);
	else if (vms_running_locked(r->param[0]))
		reply_error(r, 409, "%s: power the VM off first", r->param[0]);
	else if (vmconf_build(body, &old, host_memory_mib(), &c, err, sizeof(err)) < 0)
		reply_error(r, 400, "%s", err);
	else if (check_privileges(r, &c, &old) == 0 && check_files(r, &c, &old) == 0 &&
		 make_disks(r, &c) == 0) {
		/* (the seed first: when it cannot be made, nothing changes) */
		if (vmfiles_seed_update(&old, &c, id, err, sizeof(err)) < 0)
			reply_error(r, 500, "%s: not changed: its cloud-init seed: %s", c.name,
				    err);
		else if (db_vm_update(&c, err, sizeof(err)) < 0)
			reply_error(r, 500, "%s", err);
		else {
			json_t *out = vmconf_json(&c);
			json_object_set_new(out, "state", json_string("poweredOff"));
			reply_json(r, 200, out);
		}
	}
	vms_unlock();
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
	struct vm_config c;
	vms_lock();
	if (db_vm_get(r->param[0], &c, NULL) < 0)
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
		vmfiles_remove(&c);
		/* (the VM is out of the inventory: a user found is another VM) */
		char who[VM_NAME_MAX + 1];
		for (unsigned i = 0; delete_disks && i < c.ndisks; i++) {
			const char *rel;
			struct datastore *store = datastore_split(c.disks[i].path, &rel, NULL, 0);
			if (vms_file_user(c.disks[i].path, false, who, sizeof(who)))
				log_msg("vm %s deleted: its disk %s stays (VM %s uses it)",
					r->param[0], c.disks[i].path, who);
			else if (store)
				ds_remove(store, rel, NULL, 0);
		}
	}
}

void api_vm_power(struct req *r)
{
	json_t *body = req_json(r);
	if (!body)
		return;
	int timeout = 60;
	json_t *t = json_object_get(body, "timeout_s");
	char err[512];
	struct vm_config c;
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
	if (rc >= 0 && db_vm_get(r->param[0], &c, NULL) == 0)
		reply_json(r, 202, describe(&c));
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
	if (db_vm_get(r->param[0], NULL, NULL) < 0) {
		reply_error(r, 404, "%s: no such VM", r->param[0]);
		return;
	}
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
	int known = db_vm_get(r->param[0], NULL, NULL) == 0;
	json_t *stats = known ? vms_stats(r->param[0], err, sizeof(err)) : NULL;
	if (!known)
		reply_error(r, 404, "%s: no such VM", r->param[0]);
	else if (!stats)
		reply_error(r, 409, "%s", err);
	else
		reply_json(r, 200, stats);
}
