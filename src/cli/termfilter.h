/* Text from a guest made safe for the operator's terminal (keel vm console).
 *
 * A guest's console log is hostile: escape sequences in it could retitle
 * the terminal, move the cursor over earlier output, write to the
 * clipboard (OSC 52) or worse. The filter passes printable ASCII, valid
 * UTF-8 text (but for U+0080-U+009F, the C1 controls) and \n, \r and \t;
 * it removes whole escape sequences (ESC + one byte, ESC + intermediates +
 * final, CSI up to its final byte, and the OSC, DCS, SOS, PM and APC
 * strings up to BEL or ST), and writes '?' for every other control
 * character (C0, DEL, C1) and for each byte that is not valid UTF-8.
 *
 * It is a stream filter: a sequence or a UTF-8 character split between two
 * calls is handled as if the input were one piece. Pure (no I/O). */
#ifndef KEEL_CLI_TERMFILTER_H
#define KEEL_CLI_TERMFILTER_H

#include <stddef.h>

/* longest CSI or ESC sequence, and longest string (OSC ...), removed as
 * one: past that the filter gives up on it and is back to plain text */
#define TERMFILTER_SEQ_MAX 64
#define TERMFILTER_STR_MAX 4096

struct termfilter {
	int state;
	size_t seq_len;	       /* bytes of the current sequence or string */
	unsigned char utf8[4]; /* a UTF-8 character begun, not complete */
	size_t utf8_len, utf8_need;
};

void termfilter_init(struct termfilter *f);
/* Filters len bytes of in into out, which must hold len + 4 bytes; returns
 * the number of bytes written (nothing is NUL-terminated). */
size_t termfilter_run(struct termfilter *f, const char *in, size_t len, char *out);
/* At the end of the input: what is left (an incomplete UTF-8 character
 * becomes '?'); out must hold 4 bytes. Returns the bytes written. */
size_t termfilter_end(struct termfilter *f, char *out);

#endif
