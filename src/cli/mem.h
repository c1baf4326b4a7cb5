/* Allocation that cannot fail: on out-of-memory the CLI prints a message
 * and exits 1 (nothing is left half-done on the host by that). */
#ifndef KEEL_CLI_MEM_H
#define KEEL_CLI_MEM_H

#include <stddef.h>

/* p, or the exit when it is NULL */
void *xcheck(void *p);
void *xmalloc(size_t n);
void *xrealloc(void *p, size_t n);
char *xstrdup(const char *s);
char *xasprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif
