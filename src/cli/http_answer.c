/* What both transports of the API client (http.h) say the same way: the
 * host's name in messages, whether it is the local API, and the message of
 * a refused request. */
#include <jansson.h>
#include <string.h>

#include "cli/http.h"
#include "cli/output.h"

bool http_is_local(const struct http *h)
{
	return h->conf->local_socket && h->conf->session_token;
}

const char *http_host(const struct http *h)
{
	if (http_is_local(h))
		return h->conf->local_socket;
	return h->base + strlen("https://");
}

void http_report_refusal(const struct request *r)
{
	json_t *j = r->body ? json_loadb(r->body, r->len, 0, NULL) : NULL;
	const char *msg =
	    json_string_value(json_object_get(json_object_get(j, "error"), "message"));
	if (msg)
		error_msg("%s (HTTP %ld)", msg, r->status);
	else
		error_msg("%s %s: the host answered HTTP %ld", r->method, r->path, r->status);
	json_decref(j);
}
