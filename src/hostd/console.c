#include "hostd/console.h"

#include "common/log.h"
#include "common/util.h"
#include "hostd/audit.h"
#include "hostd/authz.h"
#include "hostd/error.h"
#include "hostd/techsupport.h"

#include <errno.h>

#include <jansson.h>
#include <pthread.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

static int listen_fd = -1;

static void answer(int fd, json_t *reply)
{
	char *text = json_dumps(reply, JSON_COMPACT);
	json_decref(reply);
	if (text) {
		dprintf(fd, "%s\n", text);
		free(text);
	}
}

/* The status the audit log records for a result, as the API would answer
 * it (a wrong password is 401 here, as for a login). */
static int audit_status(int rc)
{
	if (rc >= 0)
		return 200;
	return rc == -EACCES ? 401 : (int)error_http_status(rc);
}

static void serve(int fd)
{
	char line[4096];
	ssize_t n = read(fd, line, sizeof(line) - 1);
	line[n > 0 ? n : 0] = '\0';
	json_t *req = json_loads(line, JSON_DISABLE_EOF_CHECK, NULL);
	const char *cmd = json_string_value(json_object_get(req, "cmd"));
	const char *pw = json_string_value(json_object_get(req, "password"));
	char err[256];
	if (!cmd || strcmp(cmd, "lockdown-off") != 0 || !pw) {
		answer(fd, json_pack("{s:b,s:s}", "ok", 0, "error",
				     "want {\"cmd\": \"lockdown-off\", \"password\": ...}"));
	} else {
		int rc = authz_lockdown_off_local(pw, err, sizeof(err));
		audit_write("root", "console", "console lockdown-off", "host",
			    rc < 0 ? "denied" : "ok", audit_status(rc));
		if (rc >= 0) {
			tsm_follow_lockdown();
			log_notice("lockdown: off, from the local console");
		}
		answer(fd, rc >= 0 ? json_pack("{s:b}", "ok", 1)
				   : json_pack("{s:b,s:s}", "ok", 0, "error", err));
	}
	json_decref(req);
}

static void *loop(void *arg)
{
	(void)arg;
	for (;;) {
		int fd = accept4(listen_fd, NULL, NULL, SOCK_CLOEXEC);
		if (fd < 0)
			continue;
		struct timeval tv = {.tv_sec = 5};
		setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
		serve(fd);
		close(fd);
	}
	return NULL;
}

int console_start(const char *path, char *err, size_t errlen)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	if (str_copy(sa.sun_path, sizeof(sa.sun_path), path) < 0)
		return error_set(err, errlen, -ENAMETOOLONG, "%s: path too long", path);
	unlink(path);
	listen_fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	mode_t old = umask(077);
	int rc = listen_fd < 0 || bind(listen_fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 ||
		 listen(listen_fd, 4) < 0;
	umask(old);
	pthread_t t;
	if (rc || pthread_create(&t, NULL, loop, NULL) != 0)
		return error_set(err, errlen, -EIO, "%s: cannot listen", path);
	pthread_detach(t);
	return 0;
}
