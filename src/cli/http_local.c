/* The transport of keel-host-cli, the host's own CLI (http.h): only the
 * local API (common/localapi.h) with the session keel-shell gives it
 * (KEEL_LOCAL_SOCKET, KEEL_SESSION_TOKEN), through common/localclient.h:
 * no libcurl and no TLS in the host's image. One request per connection;
 * a body to upload must come from a file (its descriptor), and there is no
 * progress meter. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cmd.h"
#include "cli/http.h"
#include "cli/interrupt.h"
#include "cli/mem.h"
#include "cli/output.h"
#include "common/localclient.h"

#define LOCAL_BODY_MAX (16u << 20)  /* the largest answer held in memory, as http.c's */
#define LOCAL_WAIT_MS  (300 * 1000) /* each wait of a request */
#define LOCAL_CLOSE_MS (10 * 1000)  /* an uninterruptible one's (the logout) */

int http_global_init(void)
{
	return 0;
}

void http_global_cleanup(void)
{
}

int http_open(struct http *h)
{
	if (!http_is_local(h)) {
		error_msg("this is the host's CLI: it works in tech support mode only (keel-shell "
			  "gives it its session); run keel from a client");
		return -1;
	}
	h->transport = NULL;
	return 0;
}

void http_close(struct http *h)
{
	h->transport = NULL;
}

struct sink {
	struct request *r;
	int err;
};

static int to_sink(void *ctx, const char *data, size_t len)
{
	struct sink *s = ctx;
	if (interrupted()) {
		s->err = EINTR;
		return -1;
	}
	errno = 0;
	if (s->r->sink(data, len, s->r->sink_ctx) == 0)
		return 0;
	s->err = errno ? errno : EIO;
	return -1;
}

int http_perform(struct http *h, struct request *r)
{
	struct sink s = {.r = r};
	struct local_request q = {
	    .method = r->method,
	    .path = r->path,
	    .token = r->anonymous ? NULL : h->token,
	    .upload_fd = -1,
	    .max = LOCAL_BODY_MAX,
	    .timeout_ms = r->uninterruptible ? LOCAL_CLOSE_MS : LOCAL_WAIT_MS,
	};
	if (r->json) {
		q.body = r->json;
		q.len = strlen(r->json);
	} else if (r->src) {
		q.upload_fd = fileno(r->src);
		q.upload_size = r->size;
		q.content_type = r->type ? r->type : "application/octet-stream";
		if (q.upload_fd < 0) {
			if (!r->quiet)
				error_msg("this upload is not available on the host; run it from "
					  "a client");
			return EXIT_FAIL;
		}
	}
	if (r->sink) {
		q.sink = to_sink;
		q.sink_ctx = &s;
	}
	for (int i = 0; i < HTTP_HEADERS_WANTED && r->header_names[i]; i++)
		q.want[i] = r->header_names[i];
	char err[256];
	int rc = local_request(h->conf->local_socket, &q, err, sizeof(err));
	r->status = q.status;
	for (int i = 0; i < HTTP_HEADERS_WANTED && r->header_names[i]; i++)
		memcpy(r->header_values[i], q.got[i], sizeof(r->header_values[i]));
	r->body = q.answer;
	r->len = q.answer_len;
	if (rc < 0) {
		if (r->quiet)
			return EXIT_FAIL;
		if (s.err == EINTR)
			error_msg("interrupted");
		else if (s.err)
			error_msg("cannot write the download: %s", strerror(s.err));
		else
			error_msg("%s: %s", http_host(h), err);
		return EXIT_FAIL;
	}
	if (r->status / 100 != 2) {
		if (!r->quiet)
			http_report_refusal(r);
		return EXIT_FAIL;
	}
	return 0;
}
