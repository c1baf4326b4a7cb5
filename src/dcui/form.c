/* Field checks (form.h). */
#include "dcui/form.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* A number 0..max of 1 to 3 digits without a leading zero; *end after it. */
static bool small_number(const char *s, int max, const char **end)
{
	int n = 0, digits = 0;
	while (isdigit((unsigned char)s[digits]) && digits < 4)
		n = n * 10 + (s[digits++] - '0');
	if (digits == 0 || digits > 3 || (digits > 1 && s[0] == '0') || n > max)
		return false;
	*end = s + digits;
	return true;
}

static bool ipv4_prefix(const char *s, const char **end)
{
	for (int i = 0; i < 4; i++) {
		if (!small_number(s, 255, &s))
			return false;
		if (i < 3 && *s++ != '.')
			return false;
	}
	*end = s;
	return true;
}

bool form_ipv4_valid(const char *s)
{
	const char *end;
	return ipv4_prefix(s, &end) && *end == '\0';
}

bool form_cidr_valid(const char *s)
{
	const char *end;
	if (!ipv4_prefix(s, &end) || *end != '/')
		return false;
	const char *p = end + 1;
	return small_number(p, 32, &end) && *end == '\0' && strcmp(p, "0") != 0;
}

bool form_hostname_valid(const char *s)
{
	size_t n = strlen(s);
	if (n == 0 || n > 63)
		return false;
	for (size_t i = 0; i < n; i++) {
		bool label_start = i == 0 || s[i - 1] == '.';
		bool label_end = i == n - 1 || s[i + 1] == '.';
		if (s[i] == '.') {
			if (label_start || i == n - 1)
				return false; /* an empty label */
		} else if (s[i] == '-') {
			if (label_start || label_end)
				return false;
		} else if (!isalnum((unsigned char)s[i])) {
			return false;
		}
	}
	return true;
}

bool form_number(const char *s, long min, long max, long *out)
{
	long n = 0;
	size_t digits = strspn(s, "0123456789");
	if (digits == 0 || digits > 9 || s[digits] != '\0')
		return false;
	n = strtol(s, NULL, 10);
	if (n < min || n > max)
		return false;
	*out = n;
	return true;
}

bool form_is_yes(const char *s)
{
	return strcasecmp(s, "yes") == 0;
}
