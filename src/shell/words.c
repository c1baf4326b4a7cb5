#include "shell/words.h"

#include <stdbool.h>
#include <string.h>

#include "common/util.h"

/* appends c to the word being built; false when buf is full (it cannot be,
 * for a line within SHELL_COMMAND_MAX, but the bound is checked anyway) */
static bool put(struct words *w, size_t *used, char c)
{
	if (*used >= sizeof(w->buf) - 1)
		return false;
	w->buf[(*used)++] = c;
	return true;
}

int words_split(const char *line, struct words *w, char *err, size_t errlen)
{
	size_t len = strnlen(line, SHELL_COMMAND_MAX + 1);
	w->argc = 0;
	w->argv[0] = NULL;
	if (len > SHELL_COMMAND_MAX)
		return errorf(err, errlen, "the line is longer than %d bytes", SHELL_COMMAND_MAX);
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)line[i];
		if ((c < 0x20 && c != '\t') || c == 0x7f)
			return errorf(err, errlen, "control character 0x%02x in the line", c);
	}
	size_t used = 0;
	const char *p = line;
	for (;;) {
		while (*p == ' ' || *p == '\t')
			p++;
		if (!*p)
			break;
		if (w->argc >= WORDS_MAX)
			return errorf(err, errlen, "more than %d words", WORDS_MAX);
		w->argv[w->argc++] = w->buf + used;
		while (*p && *p != ' ' && *p != '\t') {
			bool ok = true;
			if (*p == '\'') {
				const char *end = strchr(p + 1, '\'');
				if (!end)
					return errorf(err, errlen, "unterminated '");
				for (p++; p < end && ok; p++)
					ok = put(w, &used, *p);
				p = end + 1;
			} else if (*p == '"') {
				for (p++; *p && *p != '"' && ok; p++) {
					if (*p == '\\' && (p[1] == '"' || p[1] == '\\'))
						p++;
					ok = put(w, &used, *p);
				}
				if (ok && *p != '"')
					return errorf(err, errlen, "unterminated \"");
				p++;
			} else if (*p == '\\') {
				if (!p[1])
					return errorf(err, errlen, "a backslash ends the line");
				ok = put(w, &used, p[1]);
				p += 2;
			} else {
				ok = put(w, &used, *p++);
			}
			if (!ok)
				return errorf(err, errlen, "the line is too long");
		}
		if (used >= sizeof(w->buf))
			return errorf(err, errlen, "the line is too long");
		w->buf[used++] = '\0';
	}
	w->argv[w->argc] = NULL;
	return w->argc;
}
