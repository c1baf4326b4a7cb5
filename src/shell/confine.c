#include "shell/confine.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "common/util.h"

static const char *const allowed[] = {"/config", "/scratch", "/datastores"};

/* the rest of `path` after prefix (which must end there or at a '/'), or
 * NULL */
static const char *under(const char *path, const char *root, const char *top)
{
	size_t rl = strlen(root), tl = strlen(top);
	if (strncmp(path, root, rl) != 0 || strncmp(path + rl, top, tl) != 0)
		return NULL;
	const char *rest = path + rl + tl;
	return *rest == '\0' || *rest == '/' ? rest : NULL;
}

bool confine_is_secret(const char *root, const char *resolved)
{
	const char *rest = under(resolved, root, "/config");
	if (!rest)
		return false;
	const char *base = strrchr(resolved, '/');
	base = base ? base + 1 : resolved;
	if (strncmp(base, "keel.db", 7) == 0)
		return true;
	if (strncmp(rest, "/ssh/", 5) == 0)
		return true;
	if (strncmp(rest, "/tls/", 5) == 0) {
		for (const char *p = base; *p; p++)
			if (strncasecmp(p, "key", 3) == 0)
				return true;
	}
	return false;
}

enum confine_verdict confine_resolve(const char *root, const char *path, char resolved[PATH_MAX])
{
	char joined[PATH_MAX];
	if (path[0] != '/') {
		errno = EINVAL;
		return CONFINE_ERROR;
	}
	int n = snprintf(joined, sizeof(joined), "%s%s", root, path);
	if (n < 0 || (size_t)n >= sizeof(joined)) {
		errno = ENAMETOOLONG;
		return CONFINE_ERROR;
	}
	if (!realpath(joined, resolved))
		return CONFINE_ERROR;
	bool inside = false;
	for (size_t i = 0; i < ARRAY_SIZE(allowed) && !inside; i++)
		inside = under(resolved, root, allowed[i]) != NULL;
	if (!inside)
		return CONFINE_OUTSIDE;
	return confine_is_secret(root, resolved) ? CONFINE_SECRET : CONFINE_OK;
}

int confine_open(const char *resolved, int flags)
{
	struct open_how how = {
	    .flags = (unsigned long long)(flags | O_CLOEXEC),
	    .resolve = RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS,
	};
	long fd = syscall(SYS_openat2, AT_FDCWD, resolved, &how, sizeof(how));
	if (fd < 0 && (errno == ENOSYS || errno == EPERM)) /* EPERM: a seccomp filter */
		fd = open(resolved, flags | O_CLOEXEC | O_NOFOLLOW);
	return (int)fd;
}

const char *confine_reason(enum confine_verdict v, int err)
{
	switch (v) {
	case CONFINE_OUTSIDE:
		return "outside " CONFINE_ALLOWED;
	case CONFINE_SECRET:
		return "hidden: holds secrets";
	case CONFINE_ERROR:
		return err == EINVAL ? "not an absolute path" : strerror(err);
	case CONFINE_OK:
		break;
	}
	return "allowed";
}
