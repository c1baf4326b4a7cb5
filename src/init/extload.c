#include "init/extload.h"

#include "common/extension.h"
#include "common/log.h"
#include "common/util.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define ORDER_MAX (EXT_MODULES_MAX * 64)

/* The extension in dir: 0, or -1 with the failing module and why. */
static int load_one(const char *dir, extload_fn load, char *module, size_t mlen, char *why,
		    size_t wlen)
{
	char path[4096 + 256];
	snprintf(path, sizeof(path), "%s/%s", dir, EXT_ORDER);
	char *order = read_file(path, ORDER_MAX, NULL);
	if (!order) {
		str_copy(module, mlen, EXT_ORDER);
		snprintf(why, wlen, "%s", strerror(errno));
		return -1;
	}
	const char *text = order;
	char line[128];
	int rc = 0, count = 0, got;
	while (rc == 0 && (got = next_config_line(&text, line, sizeof(line))) != 0) {
		char *name = got > 0 ? str_trim(line) : line;
		if (got > 0 && !*name)
			continue;
		str_copy(module, mlen, got > 0 ? name : "(a long line)");
		if (got < 0 || !ext_module_ok(name) || ++count > EXT_MODULES_MAX) {
			snprintf(why, wlen, "not a module of an extension");
			rc = -1;
			continue;
		}
		snprintf(path, sizeof(path), "%s/%s", dir, name);
		int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
		int e = fd < 0 ? -errno : load(fd);
		if (fd >= 0)
			close(fd);
		if (e < 0 && e != -EEXIST) { /* EEXIST: loaded already */
			snprintf(why, wlen, "%s", strerror(-e));
			rc = -1;
		}
	}
	free(order);
	if (rc == 0 && count == 0) { /* hostd never writes such an order */
		str_copy(module, mlen, EXT_ORDER);
		snprintf(why, wlen, "it names no module");
		rc = -1;
	}
	return rc;
}

int extload_all(const char *bank_dir, extload_fn load, char *status, size_t n)
{
	char dir[4096], module[128], why[128];
	struct dirent **names = NULL;
	size_t len = 0;
	int loaded = 0, tried = 0;
	int count = ext_scan(bank_dir, &names);
	status[0] = '\0';
	for (int i = 0; i < count; i++) {
		const char *name = names[i]->d_name;
		snprintf(dir, sizeof(dir), "%s/%s/%s/%s", bank_dir, EXT_DIR, name, EXT_ORDER);
		/* an install cut short (no order yet) is passed over, and so is
		 * an extension beyond the most a host takes (as hostd counts) */
		if (access(dir, F_OK) < 0 || tried++ >= EXT_MAX) {
			free(names[i]);
			continue;
		}
		snprintf(dir, sizeof(dir), "%s/%s/%s", bank_dir, EXT_DIR, name);
		int ok = load_one(dir, load, module, sizeof(module), why, sizeof(why)) == 0;
		if (ok) {
			loaded++;
			log_msg("extensions: %s loaded", name);
		} else {
			log_msg("extensions: %s not loaded: %s: %s", name, module, why);
		}
		int w =
		    ok ? snprintf(status + len, n - len, "%s loaded\n", name)
		       : snprintf(status + len, n - len, "%s failed %s: %s\n", name, module, why);
		if (w > 0 && (size_t)w < n - len)
			len += (size_t)w;
		else
			status[len] = '\0'; /* whole lines only, not the part that fit */
		free(names[i]);
	}
	free(names);
	return loaded;
}
