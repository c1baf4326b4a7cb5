/* The words of a command line, as keel-shell reads them. There is no
 * expansion of any kind: '$', '*', '~', ';', '|', '&', '>' and '`' are
 * plain characters, and nothing a word holds is ever given to a shell.
 *
 *   - blanks (space, tab) separate words;
 *   - '...' quotes everything up to the next ' (no escapes inside);
 *   - "..." quotes up to the next unescaped ", where \" and \\ stand for
 *     " and \ (any other backslash is kept as it is);
 *   - outside quotes, a backslash makes the next character plain;
 *   - quoted parts join the text next to them into one word (a"b"'c' is
 *     abc), and "" or '' alone is an empty word.
 *
 * The line is hostile: at most SHELL_COMMAND_MAX bytes, at most WORDS_MAX
 * words, no control characters (other than tab) and no unterminated
 * quote; anything else is refused with a one-line reason. */
#ifndef KEEL_SHELL_WORDS_H
#define KEEL_SHELL_WORDS_H

#include <stddef.h>

#include "common/localapi.h"

#define WORDS_MAX 64

struct words {
	int argc;
	char *argv[WORDS_MAX + 1]; /* NULL-terminated; pointing into buf */
	char buf[SHELL_COMMAND_MAX + 2];
};

/* Splits line (NUL-terminated, no newline) into w. Returns the number of
 * words (0 for a blank line), or -1 with err set. */
int words_split(const char *line, struct words *w, char *err, size_t errlen);

#endif
