/* The management network routes: the checks and the changes are mgmt.c's;
 * these map them onto HTTP. */
#include "hostd/api.h"

#include "hostd/mgmt.h"
#include "hostd/nettest.h"

#include <arpa/inet.h>

void api_mgmt_get(struct req *r)
{
	reply_json(r, 200, mgmt_describe());
}

/* Answers `status` with `out`, or the error. */
static void answer(struct req *r, int rc, unsigned status, json_t *out, const char *err)
{
	if (rc < 0)
		reply_errno(r, rc, err);
	else
		reply_json(r, status, out);
}

void api_mgmt_put(struct req *r)
{
	json_t *body = req_json(r), *out;
	if (!body)
		return;
	char err[256];
	int rc = mgmt_change(body, r->user, r->source, &out, err, sizeof(err));
	answer(r, rc, rc == 1 ? 202 : 200, out, err);
	json_decref(body);
}

void api_mgmt_confirm(struct req *r)
{
	char local[INET6_ADDRSTRLEN] = "", err[256];
	json_t *out;
	req_local_addr(r, local, sizeof(local));
	/* at the console, the person who sees the new settings confirms them */
	int rc = mgmt_confirm(r->local ? NULL : local, r->user, &out, err, sizeof(err));
	answer(r, rc, 200, out, err);
}

void api_mgmt_rollback(struct req *r)
{
	char err[256];
	json_t *out;
	int rc = mgmt_rollback(&out, err, sizeof(err));
	answer(r, rc, 202, out, err);
}

void api_mgmt_test(struct req *r)
{
	reply_json(r, 200, nettest_run());
}
