#include "common/names.h"

#include <string.h>

#define NAME_CHARS "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._-"

/* 1..max of NAME_CHARS, the first not '.' or '-' */
static bool simple_name(const char *name, size_t max)
{
	size_t n = strnlen(name, max + 1);
	return n >= 1 && n <= max && name[0] != '.' && name[0] != '-' &&
	       strspn(name, NAME_CHARS) == n;
}

bool user_name_valid(const char *name)
{
	return simple_name(name, USER_NAME_MAX);
}

bool role_name_valid(const char *name)
{
	return simple_name(name, ROLE_NAME_MAX);
}

bool datastore_name_valid(const char *name)
{
	return simple_name(name, DATASTORE_NAME_MAX);
}
