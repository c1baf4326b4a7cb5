/* POST /host/update: an update bundle (update.h) uploaded, verified and
 * installed into the boot bank that did not boot. */
#include "hostd/api.h"

#include "common/log.h"
#include "common/util.h"
#include "hostd/error.h"
#include "hostd/update.h"
#include "hostd/vms.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
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

void api_host_update(struct req *r)
{
	char err[512];
	int downgrade = allow_downgrade(r);
	if (downgrade < 0)
		return;
	if (!r->upload_done) {
		if (vms_maintenance() != VMS_MAINT_ON) {
			reply_error(r, 409, "the host must be in maintenance mode to be updated "
					    "(keel host maintenance enter)");
			return;
		}
		struct update_upload *up = calloc(1, sizeof(*up));
		if (!up) {
			reply_error(r, 500, "out of memory");
			return;
		}
		if ((up->fd = update_scratch_file(err, sizeof(err))) < 0) {
			reply_errno(r, up->fd, err);
			free(up);
			return;
		}
		r->upload = up;
		r->upload_write = update_write;
		r->upload_abort = update_close;
		return;
	}
	struct update_upload *up = r->upload;
	r->upload = NULL;
	json_t *out = NULL;
	int rc = r->upload_error;
	if (rc < 0)
		snprintf(err, sizeof(err), "%s", r->upload_err);
	else
		rc = update_apply(up->fd, api_host_info()->version, downgrade, &out, err,
				  sizeof(err));
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
