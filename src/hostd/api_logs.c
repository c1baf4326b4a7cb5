/* The diagnostics routes: the host's logs (logs.h) and the support bundle
 * (bundle.h). */
#include "hostd/api.h"

#include "common/logfiles.h"
#include "hostd/authz.h"
#include "hostd/bundle.h"
#include "hostd/logs.h"
#include "hostd/mgmt.h"

#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define VM_LOG_DIR "/scratch/vms"
#define CONFIG_DIR "/config"

void api_logs_list(struct req *r)
{
	bool host = authz_allowed(r->user, PRIV_DIAGNOSTICS, NULL);
	bool audit = authz_allowed(r->user, PRIV_AUDIT, NULL);
	if (!host && !audit) {
		reply_error(r, 403, "%s lacks the privilege %s or %s on the host", r->user,
			    PRIV_DIAGNOSTICS, PRIV_AUDIT);
		return;
	}
	reply_json(r, 200, json_pack("{s:o}", "logs", logs_list(LOG_DIR, host, audit)));
}

void api_log_read(struct req *r)
{
	const char *lines = req_query(r, "lines"), *since = req_query(r, "since"),
		   *after = req_query(r, "after");
	char err[256];
	struct logs_query q = {.mode = LOGS_TAIL, .lines = LOGS_LINES_DEFAULT};
	if (!!lines + !!since + !!after > 1) {
		reply_error(r, 400, "one of lines, since and after");
		return;
	}
	int rc = lines	 ? logs_parse_lines(lines, &q.lines, err, sizeof(err))
		 : since ? logs_parse_time(since, &q.since_us, err, sizeof(err))
		 : after ? logs_parse_cursor(after, &q.after, err, sizeof(err))
			 : 0;
	if (rc < 0) {
		reply_errno(r, rc, err);
		return;
	}
	q.mode = since ? LOGS_SINCE : after ? LOGS_AFTER : LOGS_TAIL;
	int i = logs_find(r->param[0]); /* the capture's grammar: one of them */
	struct logs_answer a;
	rc = logs_read(LOG_DIR, (size_t)i, &q, &a, err, sizeof(err));
	if (rc < 0) {
		reply_errno(r, rc, err);
		return;
	}
	char cursor[48];
	logs_format_cursor(&a.next, cursor, sizeof(cursor));
	reply_text(r, 200, a.text, a.len);
	reply_header(r, "X-Keel-Log-Next", cursor);
	reply_header(r, "X-Keel-Log-More", a.more ? "1" : "0");
	reply_header(r, "X-Keel-Log-Gap", a.gap ? "1" : "0");
}

/* bundles being made at a time (each holds a worker a moment per chunk) */
#define BUNDLES_MAX 2
static atomic_int bundles;

static long bundle_reader(void *ctx, char *buf, size_t max)
{
	return bundle_read(ctx, buf, max);
}

static void bundle_done(void *ctx)
{
	bundle_free(ctx);
	atomic_fetch_sub(&bundles, 1);
}

void api_support_bundle(struct req *r)
{
	const struct host_info *h = api_host_info();
	struct bundle_opts o = {
	    .user = r->user,
	    .audit = authz_allowed(r->user, PRIV_AUDIT, NULL),
	    .version = h->version,
	    .hostname = h->hostname,
	    .mgmt_if = mgmt_ifname(),
	    .log_dir = LOG_DIR,
	    .vm_dir = VM_LOG_DIR,
	    .config_dir = CONFIG_DIR,
	    .root = "",
	};
	if (atomic_fetch_add(&bundles, 1) >= BUNDLES_MAX) {
		atomic_fetch_sub(&bundles, 1);
		reply_error(r, 429, "%d support bundles are being made: try again when one is done",
			    BUNDLES_MAX);
		return;
	}
	struct bundle *b = bundle_new(&o);
	if (!b) {
		atomic_fetch_sub(&bundles, 1);
		reply_error(r, 500, "out of memory");
		return;
	}
	char disp[256];
	snprintf(disp, sizeof(disp), "attachment; filename=\"%s\"", bundle_filename(b));
	reply_stream(r, "application/gzip", bundle_reader, bundle_done, b);
	reply_header(r, "Content-Disposition", disp);
}
