/* What a person may type in the DCUI's text fields, checked before
 * anything is sent: a field's value is a C string of what was typed, and
 * each check says whether it is acceptable. keel-hostd checks everything
 * again; these only let the console say at once which field is wrong. */
#ifndef KEEL_DCUI_FORM_H
#define KEEL_DCUI_FORM_H

#include <stdbool.h>

/* A dotted-quad IPv4 address, four numbers 0 to 255, no leading zeros. */
bool form_ipv4_valid(const char *s);
/* "a.b.c.d/prefix", prefix 1 to 32. */
bool form_cidr_valid(const char *s);
/* A host name: 1 to 63 characters, letters, digits, '-' and single dots
 * between labels; a label neither starts nor ends with '-'. */
bool form_hostname_valid(const char *s);
/* A decimal number from min to max (digits only); *out gets it. */
bool form_number(const char *s, long min, long max, long *out);
/* Whether s is, ignoring case, "yes" ("y" alone is not enough). */
bool form_is_yes(const char *s);

#endif
