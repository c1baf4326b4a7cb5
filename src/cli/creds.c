#include "cli/creds.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli/mem.h"
#include "cli/output.h"
#include "common/util.h"

#define CREDS_MAX 65536

/* the whole file, from the descriptor that was checked */
static char *read_secret(int fd, const char *path)
{
	char *buf = xmalloc(CREDS_MAX + 1);
	size_t len = 0;
	for (;;) {
		ssize_t n = read(fd, buf + len, CREDS_MAX - len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			error_msg("%s: %s", path, strerror(errno));
			break;
		}
		if (n == 0) {
			buf[len] = '\0';
			if (strlen(buf) == len)
				return buf;
			error_msg("%s: not a text file", path);
			break;
		}
		len += (size_t)n;
		if (len == CREDS_MAX) {
			error_msg("%s: too large", path);
			break;
		}
	}
	explicit_bzero(buf, len);
	free(buf);
	return NULL;
}

static int open_checked(const char *path)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY);
	if (fd < 0) {
		if (errno == ELOOP)
			error_msg("credentials file %s: is a symbolic link; name the file itself",
				  path);
		else
			error_msg("credentials file %s: %s", path, strerror(errno));
		return -1;
	}
	struct stat st;
	const char *why = NULL;
	if (fstat(fd, &st) < 0)
		why = strerror(errno);
	else if (!S_ISREG(st.st_mode))
		why = "not a regular file";
	else if (st.st_uid != geteuid())
		why = "not owned by you";
	else if (st.st_mode & 077)
		why = "readable or writable by others: it must be mode 0600 (chmod 600 FILE)";
	if (why) {
		error_msg("credentials file %s: %s", path, why);
		close(fd);
		return -1;
	}
	return fd;
}

static int set_key(struct creds *c, const char *key, const char *value, const char *path, int line)
{
	static const char *const keys[] = {"host", "user", "password", "fingerprint"};
	char **slots[] = {&c->host, &c->user, &c->password, &c->fingerprint};
	for (size_t i = 0; i < ARRAY_SIZE(keys); i++) {
		if (strcmp(key, keys[i]) != 0)
			continue;
		if (*slots[i]) {
			error_msg("%s:%d: %s given twice", path, line, key);
			return -1;
		}
		if (!*value) {
			error_msg("%s:%d: %s is empty", path, line, key);
			return -1;
		}
		*slots[i] = xstrdup(value);
		return 0;
	}
	error_msg("%s:%d: unknown key '%s' (host, user, password, fingerprint)", path, line, key);
	return -1;
}

static int parse(char *text, struct creds *c, const char *path)
{
	int line = 0;
	for (char *p = text, *next; p && *p; p = next) {
		next = strchr(p, '\n');
		if (next)
			*next++ = '\0';
		line++;
		char *s = str_trim(p);
		if (!*s || *s == '#')
			continue;
		char *eq = strchr(s, '=');
		if (!eq) {
			error_msg("%s:%d: expected key = value", path, line);
			return -1;
		}
		*eq = '\0';
		if (set_key(c, str_trim(s), str_trim(eq + 1), path, line) < 0)
			return -1;
	}
	return 0;
}

int creds_load(const char *path, struct creds *c)
{
	memset(c, 0, sizeof(*c));
	int fd = open_checked(path);
	if (fd < 0)
		return -1;
	char *text = read_secret(fd, path);
	close(fd);
	if (!text)
		return -1;
	size_t len = strlen(text);
	int ret = parse(text, c, path);
	explicit_bzero(text, len);
	free(text);
	if (ret < 0)
		creds_free(c);
	return ret;
}

void creds_free(struct creds *c)
{
	if (c->password)
		explicit_bzero(c->password, strlen(c->password));
	free(c->host);
	free(c->user);
	free(c->password);
	free(c->fingerprint);
	memset(c, 0, sizeof(*c));
}
