#include "common/extension.h"

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
