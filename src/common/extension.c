#include "common/extension.h"

#include <dirent.h>
#include <stdio.h>
#include <string.h>

#define EXT_CHARS "abcdefghijklmnopqrstuvwxyz0123456789_-"

bool ext_name_ok(const char *name)
{
	size_t n = strlen(name);
	return n >= 1 && n <= EXT_NAME_MAX && strspn(name, EXT_CHARS) == n && name[0] != '_' &&
	       name[0] != '-';
}

bool ext_module_ok(const char *name)
{
	size_t n = strlen(name), stem = n > 3 ? n - 3 : 0;
	return stem >= 1 && stem <= EXT_MODULE_STEM_MAX && strcmp(name + stem, ".ko") == 0 &&
	       strspn(name, EXT_CHARS) == stem;
}

static int by_name(const struct dirent **a, const struct dirent **b)
{
	return strcmp((*a)->d_name, (*b)->d_name);
}

static int ext_entry(const struct dirent *e)
{
	return ext_name_ok(e->d_name);
}

int ext_scan(const char *bank_dir, struct dirent ***names)
{
	char dir[4096];
	snprintf(dir, sizeof(dir), "%s/%s", bank_dir, EXT_DIR);
	return scandir(dir, names, ext_entry, by_name);
}
