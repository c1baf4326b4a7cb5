/* The session routes: log in and out, change one's own password, list and
 * revoke sessions. The logic is session.c's; this maps it onto HTTP. */
#include "hostd/api.h"

#include "common/util.h"
#include "hostd/session.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

void api_session_login(struct req *r)
{
	json_t *body = req_json(r);
	if (!body)
		return;
	const char *user = NULL, *password = NULL, *channel = NULL, *peer = NULL;
	enum door door = DOOR_API;
	if (req_only_fields(r, body,
			    (const char *const[]){"user", "password", "channel", "peer", NULL}) < 0)
		goto out;
	if (json_unpack(body, "{s:s,s?s,s?s,s?s}", "user", &user, "password", &password, "channel",
			&channel, "peer", &peer) < 0 ||
	    strlen(user) > 64 || (password && strlen(password) > 1024)) {
		reply_error(r, 400, "the body must be {\"user\": string, \"password\": string}");
		goto out;
	}
	/* the local API's logins name their door (common/localapi.h) */
	if (r->local != (channel != NULL) || (channel && authz_door_parse(channel, &door) < 0)) {
		reply_error(r, 400,
			    r->local ? "channel: \"dcui\", \"tsm-local\" or \"tsm-ssh\""
				     : "channel: only on the local API");
		goto out;
	}
	struct in6_addr a6;
	struct in_addr a4;
	if ((door == DOOR_TSM_SSH) != (peer != NULL) ||
	    (door == DOOR_TSM_SSH) == (password != NULL) ||
	    (peer && inet_pton(AF_INET, peer, &a4) != 1 && inet_pton(AF_INET6, peer, &a6) != 1)) {
		reply_error(r, 400,
			    door == DOOR_TSM_SSH
				? "tsm-ssh: {\"user\", \"peer\": the client's IP address}, "
				  "no password (dropbear has checked it)"
				: "the body must be {\"user\": string, \"password\": string}");
		goto out;
	}
	if (channel)
		snprintf(r->source, sizeof(r->source), "%s%s",
			 door == DOOR_TSM_SSH ? "ssh " : channel, peer ? peer : "");
	str_copy(r->user, sizeof(r->user), user); /* for the audit log */
	if (req_audit_attempt(r) < 0)
		goto out;
	char err[256], token[SESSION_TOKEN_LEN + 1];
	const char *why;
	long retry_after_s = 0;
	int rc = session_login(user, password, door, r->source, token, &retry_after_s, &why, err,
			       sizeof(err));
	if (why)
		r->audit_result = why;
	if (rc == -EAGAIN) {
		char retry[24];
		snprintf(retry, sizeof(retry), "%ld", retry_after_s);
		reply_error(r, 429, "%s", err);
		reply_header(r, "Retry-After", retry);
	} else if (rc == -EPERM) {
		reply_json(r, 403,
			   json_pack("{s:{s:s,s:s}}", "error", "code", "lockdown", "message", err));
	} else if (rc == -EACCES) {
		reply_error(r, 401, "%s", err);
	} else if (rc < 0) {
		reply_error(r, 500, "%s", err);
	} else {
		reply_json(r, 201,
			   json_pack("{s:s,s:s,s:i}", "token", token, "user", user, "expires_in",
				     SESSION_IDLE_S));
	}
out:
	json_decref(body);
}

void api_session_logout(struct req *r)
{
	session_logout(r->token_hash);
	reply_empty(r, 204);
}

void api_session_password(struct req *r)
{
	json_t *body = req_json(r);
	const char *current = NULL, *new_password = NULL;
	char err[256];
	if (!body ||
	    req_only_fields(r, body,
			    (const char *const[]){"current_password", "new_password", NULL}) < 0)
		goto out;
	if (json_unpack(body, "{s:s,s:s}", "current_password", &current, "new_password",
			&new_password) < 0) {
		reply_error(r, 400,
			    "want {\"current_password\": string, \"new_password\": string}");
		goto out;
	}
	long retry_after_s = 0;
	int rc = session_change_password(r->user, current, new_password, r->source, r->token_hash,
					 &retry_after_s, err, sizeof(err));
	if (rc == -EAGAIN) {
		char retry[24];
		snprintf(retry, sizeof(retry), "%ld", retry_after_s);
		reply_error(r, 429, "%s", err);
		reply_header(r, "Retry-After", retry);
	} else if (rc < 0)
		reply_errno(r, rc, err);
	else
		reply_empty(r, 204);
out:
	json_decref(body);
}

void api_sessions(struct req *r)
{
	reply_json(r, 200, json_pack("{s:o}", "sessions", session_list()));
}

void api_session_revoke(struct req *r)
{
	char err[256];
	int rc = session_revoke(r->param[0], err, sizeof(err));
	if (rc < 0)
		reply_errno(r, rc, err);
	else
		reply_empty(r, 204);
}
