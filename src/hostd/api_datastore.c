#include "hostd/api.h"

#include "hostd/datastore_registry.h"

#include "common/log.h"
#include "common/sparse.h"
#include "common/util.h"
#include "hostd/vms.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

/* The datastore of the route ({ds}), or NULL after replying 404. */
static struct datastore *route_store(struct req *r)
{
	struct datastore *ds = datastore_find(r->param[0]);
	if (!ds)
		reply_error(r, 404, "%s: no such datastore", r->param[0]);
	return ds;
}

/* The name of a VM whose configuration uses DS/PATH (running VMs only when
 * `running_only`), or NULL. The name is copied to `who`. */
static const char *used_by(const struct datastore *ds, const char *rel, int running_only, char *who,
			   size_t wholen)
{
	char full[DS_PATH_MAX + 80];
	snprintf(full, sizeof(full), "%s/%s", ds->name, rel);
	return vms_file_user(full, running_only, who, wholen);
}

static json_t *entry_json(const struct ds_entry *e, const char *path)
{
	json_t *j = json_pack("{s:s,s:I,s:I,s:I}", "type", e->is_dir ? "dir" : "file", "size",
			      (json_int_t)e->size, "allocated", (json_int_t)e->alloc, "mtime",
			      (json_int_t)e->mtime);
	json_object_set_new(j, path ? "path" : "name", json_string(path ? path : e->name));
	return j;
}

void api_ds_list(struct req *r)
{
	json_t *arr = json_array();
	struct datastore *ds;
	for (size_t i = 0; (ds = datastore_at(i)); i++) {
		uint64_t cap = 0, avail = 0;
		ds_space(ds, &cap, &avail);
		json_array_append_new(arr, json_pack("{s:s,s:s,s:I,s:I}", "name", ds->name, "path",
						     ds->root, "capacity_bytes", (json_int_t)cap,
						     "free_bytes", (json_int_t)avail));
	}
	reply_json(r, 200, json_pack("{s:o}", "datastores", arr));
}

void api_ds_browse(struct req *r)
{
	struct datastore *ds = route_store(r);
	char err[512], full[DS_PATH_MAX + 80];
	struct ds_entry e, *list = NULL;
	size_t n = 0;
	int rc;
	if (!ds)
		return;
	snprintf(full, sizeof(full), "%s%s%s", ds->name, *r->param[1] ? "/" : "", r->param[1]);
	if ((rc = ds_stat(ds, r->param[1], &e, err, sizeof(err))) < 0) {
		reply_errno(r, rc, err);
		return;
	}
	json_t *out = entry_json(&e, full);
	if (e.is_dir) {
		if ((rc = ds_list(ds, r->param[1], &list, &n, err, sizeof(err))) < 0) {
			json_decref(out);
			reply_errno(r, rc, err);
			return;
		}
		json_t *arr = json_array();
		for (size_t i = 0; i < n; i++)
			json_array_append_new(arr, entry_json(&list[i], NULL));
		free(list);
		json_object_set_new(out, "entries", arr);
	}
	reply_json(r, 200, out);
}

void api_ds_download(struct req *r)
{
	struct datastore *ds = route_store(r);
	char err[512];
	if (!ds)
		return;
	int fd = ds_openat(ds, r->param[1], O_RDONLY, 0, err, sizeof(err));
	struct stat st;
	if (fd < 0) {
		reply_errno(r, fd, err);
	} else if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		close(fd);
		reply_error(r, 400, "%s/%s: not a file", ds->name, r->param[1]);
	} else {
		reply_file(r, fd, (uint64_t)st.st_size);
	}
}

/* The upload sink (http.h): the file, and for a sparse body
 * (common/sparse.h) its parser, which writes each record where it goes. */
struct upload {
	struct ds_upload file;
	int sparse;
	struct sparse_parser parser;
};

static int write_extent(void *file, uint64_t offset, const uint8_t *data, size_t len, char *err,
			size_t errlen)
{
	return ds_upload_write_at(file, offset, data, len, err, errlen);
}

static int upload_write(void *sink, const char *data, size_t len, char *err, size_t errlen)
{
	struct upload *up = sink;
	if (up->sparse)
		return sparse_feed(&up->parser, (const uint8_t *)data, len, write_extent, &up->file,
				   err, errlen);
	return ds_upload_write(&up->file, data, len, err, errlen);
}

static void upload_abort(void *sink)
{
	struct upload *up = sink;
	ds_upload_abort(&up->file);
	free(up);
}

/* 1 for a sparse body (its Content-Type), 0 for plain bytes */
static int sparse_body(struct req *r)
{
	const char *type = req_header(r, "Content-Type");
	size_t n = strlen(SPARSE_CONTENT_TYPE);
	if (type && strncasecmp(type, SPARSE_CONTENT_TYPE, n) == 0 &&
	    (type[n] == '\0' || type[n] == ';' || type[n] == ' '))
		return 1;
	return 0;
}

/* the end of the body: a sparse file's size set; 0 or a negative errno */
static int upload_end(struct upload *up, char *err, size_t errlen)
{
	if (!up->sparse)
		return 0;
	int rc = sparse_finish(&up->parser, err, errlen);
	return rc < 0 ? rc : ds_upload_set_size(&up->file, up->parser.size, err, errlen);
}

void api_ds_upload(struct req *r)
{
	struct datastore *ds = route_store(r);
	char err[512], who[80];
	if (!ds)
		return;
	if (!r->upload_done) {
		const char *ow = req_query(r, "overwrite");
		int overwrite = ow && strcmp(ow, "true") == 0;
		if (ow && !overwrite && strcmp(ow, "false") != 0) {
			reply_error(r, 400, "overwrite: true or false");
			return;
		}
		if (overwrite && used_by(ds, r->param[1], 1, who, sizeof(who))) {
			reply_error(r, 409, "%s/%s: in use by running VM %s", ds->name, r->param[1],
				    who);
			return;
		}
		struct upload *up = calloc(1, sizeof(*up));
		if (!up) {
			reply_error(r, 500, "out of memory");
			return;
		}
		up->file.fd = -1;
		up->file.dirfd = -1;
		up->sparse = sparse_body(r);
		sparse_init(&up->parser);
		int rc = ds_upload_begin(ds, r->param[1], overwrite, &up->file, err, sizeof(err));
		if (rc < 0) {
			free(up);
			reply_errno(r, rc, err);
			return;
		}
		r->upload = up;
		r->upload_write = upload_write;
		r->upload_abort = upload_abort;
		return;
	}
	struct upload *up = r->upload;
	r->upload = NULL;
	int rc = r->upload_error;
	if (rc < 0) {
		upload_abort(up);
		reply_errno(r, rc, r->upload_err);
		return;
	}
	if ((rc = upload_end(up, err, sizeof(err))) < 0) {
		upload_abort(up);
		reply_errno(r, rc, err);
		return;
	}
	uint64_t written = up->file.written;
	int sparse = up->sparse;
	uint64_t size = sparse ? up->parser.size : written;
	rc = ds_upload_commit(&up->file, err, sizeof(err));
	free(up);
	if (rc < 0) {
		reply_errno(r, rc, err);
		return;
	}
	if (sparse)
		log_msg("datastore: %s uploaded %s/%s (%llu bytes, sparse: %llu of data)", r->user,
			ds->name, r->param[1], (unsigned long long)size,
			(unsigned long long)written);
	else
		log_msg("datastore: %s uploaded %s/%s (%llu bytes)", r->user, ds->name, r->param[1],
			(unsigned long long)size);
	reply_json(r, 201,
		   json_pack("{s:s+++,s:I}", "path", ds->name, "/", r->param[1], "", "size",
			     (json_int_t)size));
}

void api_ds_remove(struct req *r)
{
	struct datastore *ds = route_store(r);
	char err[512], who[80];
	if (!ds)
		return;
	if (used_by(ds, r->param[1], 0, who, sizeof(who))) {
		reply_error(r, 409, "%s/%s: used by VM %s", ds->name, r->param[1], who);
		return;
	}
	int rc = ds_remove(ds, r->param[1], err, sizeof(err));
	if (rc < 0)
		reply_errno(r, rc, err);
	else
		reply_empty(r, 204);
}

/* Parses a body of exactly the fields `a` (string) and `b` (a string, or
 * an integer size in MiB when b ends in "_mib"). */
static json_t *body_fields(struct req *r, const char *a, const char *b, const char **va,
			   const char **vb, uint64_t *mib)
{
	json_t *body = req_json(r);
	if (!body)
		return NULL;
	json_t *x = json_object_get(body, a), *y = b ? json_object_get(body, b) : NULL;
	if (req_only_fields(r, body, (const char *const[]){a, b, NULL}) < 0)
		goto bad;
	if (!json_is_string(x)) {
		reply_error(r, 400, "%s: a string is needed", a);
		goto bad;
	}
	*va = json_string_value(x);
	if (b && strstr(b, "_mib")) {
		if (!json_is_integer(y) || json_integer_value(y) < 1 ||
		    (uint64_t)json_integer_value(y) > (DS_DISK_MAX >> 20)) {
			reply_error(r, 400, "%s: an integer from 1 to %llu", b,
				    (unsigned long long)(DS_DISK_MAX >> 20));
			goto bad;
		}
		*mib = (uint64_t)json_integer_value(y);
	} else if (b) {
		if (!json_is_string(y)) {
			reply_error(r, 400, "%s: a string is needed", b);
			goto bad;
		}
		*vb = json_string_value(y);
	}
	return body;
bad:
	json_decref(body);
	return NULL;
}

static void reply_path(struct req *r, unsigned status, const struct datastore *ds, const char *rel,
		       json_t *extra)
{
	struct ds_entry e;
	json_t *out = json_pack("{s:s++}", "path", ds->name, "/", rel);
	if (ds_stat(ds, rel, &e, NULL, 0) == 0 && !e.is_dir)
		json_object_set_new(out, "size", json_integer((json_int_t)e.size));
	if (extra)
		json_object_update(out, extra);
	json_decref(extra);
	reply_json(r, status, out);
}

void api_ds_mkdir(struct req *r)
{
	struct datastore *ds = route_store(r);
	const char *path;
	char err[512];
	json_t *body = ds ? body_fields(r, "path", NULL, &path, NULL, NULL) : NULL;
	if (!body)
		return;
	int rc = ds_mkdir(ds, path, err, sizeof(err));
	if (rc < 0)
		reply_errno(r, rc, err);
	else
		reply_path(r, 201, ds, path, NULL);
	json_decref(body);
}

void api_ds_mkdisk(struct req *r)
{
	struct datastore *ds = route_store(r);
	const char *path;
	uint64_t mib = 0;
	char err[512];
	json_t *body = ds ? body_fields(r, "path", "size_mib", &path, NULL, &mib) : NULL;
	if (!body)
		return;
	int rc = ds_mkparents(ds, path, err, sizeof(err));
	if (rc == 0)
		rc = ds_mkdisk(ds, path, mib << 20, err, sizeof(err));
	if (rc < 0)
		reply_errno(r, rc, err);
	else
		reply_path(r, 201, ds, path, NULL);
	json_decref(body);
}

void api_ds_copy(struct req *r)
{
	struct datastore *ds = route_store(r);
	const char *src, *dst;
	char err[512];
	int reflink = 0;
	json_t *body = ds ? body_fields(r, "source", "destination", &src, &dst, NULL) : NULL;
	if (!body)
		return;
	int rc = ds_path_check(dst, 0, err, sizeof(err));
	if (rc == 0)
		rc = ds_mkparents(ds, dst, err, sizeof(err));
	if (rc == 0)
		rc = ds_copy(ds, src, dst, &reflink, err, sizeof(err));
	if (rc < 0)
		reply_errno(r, rc == -1 ? -EINVAL : rc, err);
	else
		reply_path(r, 201, ds, dst, json_pack("{s:b}", "reflink", reflink));
	json_decref(body);
}

void api_ds_grow(struct req *r)
{
	struct datastore *ds = route_store(r);
	const char *path;
	uint64_t mib = 0;
	char err[512], who[80];
	json_t *body = ds ? body_fields(r, "path", "size_mib", &path, NULL, &mib) : NULL;
	if (!body)
		return;
	int rc;
	if (used_by(ds, path, 1, who, sizeof(who)))
		reply_error(r, 409, "%s/%s: in use by running VM %s", ds->name, path, who);
	else if ((rc = ds_grow(ds, path, mib << 20, err, sizeof(err))) < 0)
		reply_errno(r, rc, err);
	else
		reply_path(r, 200, ds, path, NULL);
	json_decref(body);
}
