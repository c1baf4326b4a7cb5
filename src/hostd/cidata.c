#include "hostd/cidata.h"

#include "common/util.h"
#include "hostd/isoimage.h"

#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Does a line of `text` start with `key`? */
static bool has_key(const char *text, const char *key)
{
	size_t n = strlen(key);
	for (const char *line = text; line;) {
		if (strncmp(line, key, n) == 0)
			return true;
		if ((line = strchr(line, '\n')))
			line++;
	}
	return false;
}

char *cidata_meta_data(const struct vm_config *c, int64_t id)
{
	const char *user = c->cloud_init.meta_data;
	size_t len = strlen(user);
	size_t cap = len + 64 + sizeof(c->name);
	char *out = malloc(cap);
	if (!out)
		return NULL;
	int n = snprintf(out, cap, "%s%s", user, len && user[len - 1] != '\n' ? "\n" : "");
	if (!has_key(user, "instance-id:"))
		n += snprintf(out + n, cap - (size_t)n, "instance-id: keel-%" PRId64 "\n", id);
	if (!has_key(user, "local-hostname:"))
		snprintf(out + n, cap - (size_t)n, "local-hostname: %s\n", c->name);
	return out;
}

int cidata_image(const struct vm_config *c, int64_t id, time_t when, uint8_t **out, size_t *len,
		 char *err, size_t errlen)
{
	const struct vm_cloud_init *t = &c->cloud_init;
	char *meta = cidata_meta_data(c, id);
	if (!meta)
		return errorf(err, errlen, "out of memory");
	struct iso_file files[] = {
	    {"user-data", t->user_data, strlen(t->user_data)},
	    {"meta-data", meta, strlen(meta)},
	    {"network-config", t->network_config, strlen(t->network_config)},
	};
	size_t n = *t->network_config ? 3 : 2;
	int rc = isoimage_build(CIDATA_LABEL, files, n, when, out, len, err, errlen);
	free(meta);
	return rc;
}
