#include "cli/mem.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void *xcheck(void *p)
{
	if (!p) {
		fputs("keel: out of memory\n", stderr);
		exit(1);
	}
	return p;
}

void *xmalloc(size_t n)
{
	return xcheck(malloc(n ? n : 1));
}

void *xrealloc(void *p, size_t n)
{
	return xcheck(realloc(p, n ? n : 1));
}

char *xstrdup(const char *s)
{
	return xcheck(strdup(s));
}

char *xasprintf(const char *fmt, ...)
{
	va_list ap;
	char *s = NULL;
	va_start(ap, fmt);
	int n = vasprintf(&s, fmt, ap);
	va_end(ap);
	return xcheck(n < 0 ? NULL : s);
}
