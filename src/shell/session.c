#include "shell/session.h"

#include <arpa/inet.h>
#include <jansson.h>
#include <string.h>

#include "common/localapi.h"
#include "common/util.h"
#include "shell/client.h"

int session_user_valid(const char *name)
{
	size_t n = strnlen(name, USER_NAME_MAX + 1);
	if (n == 0 || n > USER_NAME_MAX)
		return 0;
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)name[i];
		if (c <= 0x20 || c == 0x7f)
			return 0;
	}
	return 1;
}

static int take_token(struct client *c, json_t *resp, char *err, size_t errlen)
{
	const char *token = json_string_value(json_object_get(resp, "token"));
	if (!token || client_set_token(c, token) < 0)
		return errorf(err, errlen, "the login answer has no usable token");
	return 0;
}

static int login(struct client *c, json_t *req, char *err, size_t errlen)
{
	json_t *resp = NULL;
	if (!req)
		return errorf(err, errlen, "the user name and password must be UTF-8");
	int rc = client_call(c, "POST", "/session", req, &resp, NULL, err, errlen);
	json_decref(req);
	if (rc == 0)
		rc = take_token(c, resp, err, errlen);
	json_decref(resp);
	return rc;
}

int session_login_ssh(struct client *c, const char *user, const char *peer, char *err,
		      size_t errlen)
{
	return login(
	    c, json_pack("{s:s, s:s, s:s}", "user", user, "channel", CHANNEL_TSM_SSH, "peer", peer),
	    err, errlen);
}

int session_login_local(struct client *c, const char *user, const char *password, char *err,
			size_t errlen)
{
	json_t *req = json_pack("{s:s, s:s, s:s}", "user", user, "password", password, "channel",
				CHANNEL_TSM_LOCAL);
	return login(c, req, err, errlen); /* client_call wipes the serialized body */
}

int session_logout(struct client *c, char *err, size_t errlen)
{
	if (!client_token(c)[0])
		return 0;
	int rc = client_call(c, "DELETE", "/session", NULL, NULL, NULL, err, errlen);
	client_clear_token(c); /* refused or not, it is not used again */
	return rc;
}

int session_audit(struct client *c, const char *command, char *err, size_t errlen)
{
	if (strlen(command) > SHELL_COMMAND_MAX)
		return errorf(err, errlen, "the command is longer than %d bytes",
			      SHELL_COMMAND_MAX);
	json_t *req = json_pack("{s:s}", "command", command);
	if (!req)
		return errorf(err, errlen, "the command is not UTF-8 text");
	long status = 0;
	int rc =
	    client_call(c, "POST", "/host/tech-support/commands", req, NULL, &status, err, errlen);
	json_decref(req);
	return rc < 0 && status == 401 ? -2 : rc;
}

int session_idle_timeout(struct client *c, unsigned *seconds, char *err, size_t errlen)
{
	json_t *resp = NULL;
	*seconds = 0;
	int rc = client_call(c, "GET", "/host/tech-support", NULL, &resp, NULL, err, errlen);
	if (rc == 0) {
		json_int_t v = json_integer_value(json_object_get(resp, "idle_timeout_s"));
		if (!json_is_integer(json_object_get(resp, "idle_timeout_s")) || v < 0 ||
		    v > 7 * 24 * 3600)
			rc = errorf(err, errlen, "the host's idle_timeout_s is missing or bad");
		else
			*seconds = (unsigned)v;
	}
	json_decref(resp);
	return rc;
}

int session_peer(const char *ssh_client, char peer[64])
{
	size_t n = strcspn(ssh_client, " ");
	unsigned char buf[16];
	if (n == 0 || n >= 64)
		return -1;
	memcpy(peer, ssh_client, n);
	peer[n] = '\0';
	if (inet_pton(AF_INET, peer, buf) == 1 || inet_pton(AF_INET6, peer, buf) == 1)
		return 0;
	return -1;
}
