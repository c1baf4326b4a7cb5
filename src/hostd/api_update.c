/* POST /host/update: an update bundle (update.h) uploaded, verified and
 * installed into the boot bank that did not boot. /host/extensions:
 * extensions (extensions.h) listed, uploaded and installed, removed.
 * /host/acceptance: the host's acceptance level. */
#include "hostd/api.h"

#include "common/bootenv.h"
#include "common/log.h"
#include "common/util.h"
#include "hostd/acceptance.h"
#include "hostd/bootbanks.h"
#include "hostd/error.h"
#include "hostd/extensions.h"
#include "hostd/update.h"
#include "hostd/vms.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>
#include <unistd.h>

/* the upload's sink: a nameless file on scratch (update_scratch_file), so
 * that it is gone with its descriptor whatever happens to the request */
struct update_upload {
	int fd;
	uint64_t size;
};

static int update_write(void *sink, const char *data, size_t len, char *err, size_t errlen)
{
	struct update_upload *up = sink;
	if (len > BUNDLE_SIZE_MAX - up->size)
		return error_set(err, errlen, -EINVAL, "larger than a bundle can be (%llu bytes)",
				 (unsigned long long)BUNDLE_SIZE_MAX);
	if (write_all(up->fd, data, len) < 0)
		return error_set(err, errlen, errno == ENOSPC ? -ENOSPC : -EIO,
				 "cannot keep the bundle on %s: %s", UPDATE_SCRATCH_DIR,
				 strerror(errno));
	up->size += len;
	return 0;
}

static void update_close(void *sink)
{
	struct update_upload *up = sink;
	close(up->fd);
	free(up);
}

/* allow_downgrade=true|false: 1, 0, or -1 after replying 400 */
static int allow_downgrade(struct req *r)
{
	const char *v = req_query(r, "allow_downgrade");
	if (!v || strcmp(v, "false") == 0)
		return 0;
	if (strcmp(v, "true") == 0)
		return 1;
	reply_error(r, 400, "allow_downgrade: true or false");
	return -1;
}

/* The host booted from its banks, the one `dir` mounted (an extension's
 * or an image's); in maintenance mode: 1, or 0 after replying 409 */
static int may_change(struct req *r, const char *dir, const char *what)
{
	if (!bootbanks_booted() || !bootbanks_mounted(dir)) {
		reply_error(r, 409,
			    "this host did not boot from its boot banks, or %s is not mounted "
			    "(keel-init's log says why): there is no bank for %s",
			    dir, what);
		return 0;
	}
	if (vms_maintenance() != VMS_MAINT_ON) {
		reply_error(r, 409,
			    "the host must be in maintenance mode for %s (keel host "
			    "maintenance enter)",
			    what);
		return 0;
	}
	return 1;
}

/* In maintenance mode, the upload's sink opened: 1 (the upload goes on),
 * or 0 after replying */
static int start_upload(struct req *r, const char *dir, const char *what)
{
	char err[512];
	if (!may_change(r, dir, what))
		return 0;
	struct update_upload *up = calloc(1, sizeof(*up));
	if (!up) {
		reply_error(r, 500, "out of memory");
		return 0;
	}
	if ((up->fd = update_scratch_file(err, sizeof(err))) < 0) {
		reply_errno(r, up->fd, err);
		free(up);
		return 0;
	}
	r->upload = up;
	r->upload_write = update_write;
	r->upload_abort = update_close;
	return 1;
}

/* The upload, whole: its descriptor (to update_close), or NULL after
 * replying with the upload's error */
static struct update_upload *end_upload(struct req *r)
{
	struct update_upload *up = r->upload;
	r->upload = NULL;
	if (r->upload_error < 0) {
		reply_errno(r, r->upload_error, r->upload_err);
		update_close(up);
		return NULL;
	}
	return up;
}

void api_host_update(struct req *r)
{
	char err[512];
	int downgrade = allow_downgrade(r);
	if (downgrade < 0 || (!r->upload_done && !start_upload(r, BOOT_ALTBANK_DIR, "an update")) ||
	    !r->upload_done)
		return;
	struct update_upload *up = end_upload(r);
	if (!up)
		return;
	json_t *out = NULL;
	int rc = update_apply(up->fd, api_host_info()->version, acceptance_get(), downgrade, &out,
			      err, sizeof(err));
	update_close(up);
	if (rc < 0) {
		log_msg("update: %s from %s: refused: %s", r->user, r->source, err);
		reply_errno(r, rc, err);
		return;
	}
	log_notice("%s from %s installed Keel %s (%s, %s, signed by %s) into bank %s: the next "
		   "boot uses it, on trial",
		   r->user, r->source, json_string_value(json_object_get(out, "version")),
		   json_string_value(json_object_get(out, "build")),
		   json_string_value(json_object_get(out, "acceptance")),
		   json_string_value(json_object_get(out, "signed_by")),
		   json_string_value(json_object_get(out, "bank")));
	reply_json(r, 200, out);
}

/* this host's extensions: the booted bank's, for the running kernel (u's) */
static void host_extensions(struct ext_host *h, struct utsname *u)
{
	uname(u);
	*h = (struct ext_host){.bank_dir = BOOT_BANK_DIR,
			       .trusted_dir = BUNDLE_TRUSTED_DIR,
			       .status = EXT_STATUS,
			       .kernel = u->release,
			       .acceptance = acceptance_get()};
}

void api_host_extensions(struct req *r)
{
	struct ext_host h;
	struct utsname u;
	char err[256];
	json_t *out;
	host_extensions(&h, &u);
	int rc = ext_list(&h, &out, err, sizeof(err));
	if (rc < 0)
		reply_errno(r, rc, err);
	else
		reply_json(r, 200, out);
}

void api_host_extension_install(struct req *r)
{
	char err[512];
	int downgrade = allow_downgrade(r);
	if (downgrade < 0 || (!r->upload_done && !start_upload(r, BOOT_BANK_DIR, "an extension")) ||
	    !r->upload_done)
		return;
	struct update_upload *up = end_upload(r);
	if (!up)
		return;
	struct ext_host h;
	struct utsname u;
	json_t *out = NULL;
	host_extensions(&h, &u);
	int rc = ext_install(&h, up->fd, downgrade, &out, err, sizeof(err));
	update_close(up);
	if (rc < 0) {
		log_msg("extension: %s from %s: refused: %s", r->user, r->source, err);
		reply_errno(r, rc, err);
		return;
	}
	log_notice("%s from %s installed the extension %s %s (%s, signed by %s): it loads at "
		   "the next boot",
		   r->user, r->source, json_string_value(json_object_get(out, "name")),
		   json_string_value(json_object_get(out, "version")),
		   json_string_value(json_object_get(out, "acceptance")),
		   json_string_value(json_object_get(out, "signed_by")));
	reply_json(r, 200, out);
}

void api_host_extension_remove(struct req *r)
{
	char err[256];
	struct ext_host h;
	struct utsname u;
	if (vms_maintenance() != VMS_MAINT_ON) {
		reply_error(r, 409,
			    "the host must be in maintenance mode for an extension's "
			    "removal (keel host maintenance enter)");
		return;
	}
	host_extensions(&h, &u);
	int rc = ext_remove(&h, r->param[0], err, sizeof(err));
	if (rc < 0) {
		reply_errno(r, rc, err);
		return;
	}
	log_notice("%s from %s removed the extension %s: its modules stay loaded until the "
		   "host reboots",
		   r->user, r->source, r->param[0]);
	reply_json(r, 200, json_pack("{s:s,s:b}", "removed", r->param[0], "reboot_needed", 1));
}

void api_host_acceptance(struct req *r)
{
	reply_json(r, 200, json_pack("{s:s}", "level", bundle_acceptance_name(acceptance_get())));
}

void api_host_acceptance_set(struct req *r)
{
	json_t *body = req_json(r);
	const char *name;
	char err[256];
	int level;
	if (!body || req_only_fields(r, body, (const char *const[]){"level", NULL}) < 0)
		goto out;
	if (json_unpack(body, "{s:s}", "level", &name) < 0 ||
	    (level = bundle_acceptance_parse(name)) < 0) {
		reply_error(r, 400, "level: certified, partner or community");
		goto out;
	}
	int rc = acceptance_set(BOOT_BANK_DIR, level, err, sizeof(err));
	if (rc < 0) {
		reply_errno(r, rc, err);
		goto out;
	}
	log_notice("%s from %s set the host's acceptance level to %s", r->user, r->source, name);
	api_host_acceptance(r);
out:
	json_decref(body);
}
