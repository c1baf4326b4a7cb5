/* Reading the user's lines from a descriptor (a terminal, or dropbear's
 * pipe) with an idle limit. The reader owns its buffer; a line longer than
 * its buffer is consumed to its end and reported as LINE_TOO_LONG, so that
 * its tail is never taken for a command. Interrupted waits (a signal) are
 * reported, never retried behind the caller's back. */
#ifndef KEEL_SHELL_LINEREAD_H
#define KEEL_SHELL_LINEREAD_H

#include <stddef.h>

#include "common/localapi.h"

#define LINE_MAX_BYTES SHELL_COMMAND_MAX

struct lineread {
	int fd;
	int wake; /* readable: a wait ends with LINE_INTR (-1: none) */
	char buf[LINE_MAX_BYTES + 1];
	size_t len;	/* bytes held */
	int discarding; /* inside a line too long */
};

enum line_result { LINE_OK, LINE_EOF, LINE_TIMEOUT, LINE_TOO_LONG, LINE_INTR, LINE_ERROR };

/* wake: a descriptor whose readability interrupts a wait (intr_fd), or -1 */
void lineread_init(struct lineread *r, int fd, int wake);
/* The next line, without its newline (and a '\r' before it), into out
 * (LINE_MAX_BYTES + 1 bytes). timeout_s: 0 waits for ever. A last line
 * without a newline at the end of input is a line. */
enum line_result lineread_next(struct lineread *r, char *out, unsigned timeout_s);

#endif
