/* keel-shell's messages: "CMD: why" on stderr, the one place that prints
 * an error; and writing a file's text to the user's terminal with its
 * control characters made harmless (a hostile log cannot move the
 * cursor, retitle the window or answer the terminal's queries). */
#ifndef KEEL_SHELL_OUT_H
#define KEEL_SHELL_OUT_H

#include <stddef.h>
#include <stdio.h>

void say_error(const char *cmd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* writes len bytes to f, each control byte (below 0x20 but tab and
 * newline, and 0x7f) as '?'; returns 0 or -1 (a write error) */
int write_text(FILE *f, const char *data, size_t len);

/* makes a name printable in place (control bytes become '?') */
void text_printable_name(char *s);

#endif
