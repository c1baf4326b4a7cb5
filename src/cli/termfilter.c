#include "cli/termfilter.h"

#include <stdbool.h>

#define ESC 0x1b
#define BEL 0x07
#define CAN 0x18
#define SUB 0x1a

enum {
	GROUND,
	IN_ESC,	      /* after ESC */
	IN_ESC_INTER, /* ESC, then intermediate bytes (0x20-0x2f) */
	IN_CSI,	      /* ESC [ */
	IN_STR,	      /* ESC ] / P / X / ^ / _ : a string up to BEL or ST */
	IN_STR_ESC,   /* ESC inside a string: ST if a backslash follows */
	IN_UTF8,      /* a UTF-8 character begun */
};

void termfilter_init(struct termfilter *f)
{
	f->state = GROUND;
	f->seq_len = 0;
	f->utf8_len = f->utf8_need = 0;
}

/* bytes of the UTF-8 character led by b, or 0 if b cannot lead one */
static size_t utf8_need(unsigned char b)
{
	if (b >= 0xc2 && b <= 0xdf)
		return 2;
	if (b >= 0xe0 && b <= 0xef)
		return 3;
	if (b >= 0xf0 && b <= 0xf4)
		return 4;
	return 0;
}

/* whether b may follow the bytes begun (no overlong forms, surrogates or
 * code points above U+10FFFF) */
static bool utf8_next_ok(const struct termfilter *f, unsigned char b)
{
	if ((b & 0xc0) != 0x80)
		return false;
	if (f->utf8_len != 1)
		return true;
	switch (f->utf8[0]) {
	case 0xe0:
		return b >= 0xa0;
	case 0xed:
		return b <= 0x9f;
	case 0xf0:
		return b >= 0x90;
	case 0xf4:
		return b <= 0x8f;
	default:
		return true;
	}
}

/* One byte in ground state. */
static size_t ground(struct termfilter *f, unsigned char b, char *out)
{
	if (b == ESC) {
		f->state = IN_ESC;
		f->seq_len = 0;
		return 0;
	}
	if (b == '\n' || b == '\r' || b == '\t' || (b >= 0x20 && b < 0x7f)) {
		out[0] = (char)b;
		return 1;
	}
	if (b >= 0x80 && (f->utf8_need = utf8_need(b)) != 0) {
		f->utf8[0] = b;
		f->utf8_len = 1;
		f->state = IN_UTF8;
		return 0;
	}
	out[0] = '?'; /* C0, DEL, a byte that leads no UTF-8 character */
	return 1;
}

/* One byte; returns the bytes written to out (at most 4). */
static size_t step(struct termfilter *f, unsigned char b, char *out)
{
	switch (f->state) {
	case IN_UTF8:
		if (!utf8_next_ok(f, b)) {
			/* the character begun is bad: one '?', and b starts afresh */
			f->state = GROUND;
			out[0] = '?';
			return 1 + ground(f, b, out + 1);
		}
		f->utf8[f->utf8_len++] = b;
		if (f->utf8_len < f->utf8_need)
			return 0;
		f->state = GROUND;
		if (f->utf8[0] == 0xc2 && f->utf8[1] <= 0x9f) { /* U+0080-U+009F */
			out[0] = '?';
			return 1;
		}
		for (size_t i = 0; i < f->utf8_len; i++)
			out[i] = (char)f->utf8[i];
		return f->utf8_len;
	case IN_ESC:
		if (b == '[') {
			f->state = IN_CSI;
		} else if (b == ']' || b == 'P' || b == 'X' || b == '^' || b == '_') {
			f->state = IN_STR;
		} else if (b >= 0x20 && b <= 0x2f) {
			f->state = IN_ESC_INTER;
		} else if (b == ESC) {
			f->state = IN_ESC;
		} else if (b >= 0x30 && b <= 0x7e) {
			f->state = GROUND; /* a two-byte sequence: removed */
		} else if (b == CAN || b == SUB) {
			f->state = GROUND; /* cancelled */
		} else {
			f->state = GROUND;
			return ground(f, b, out);
		}
		f->seq_len = 0;
		return 0;
	case IN_ESC_INTER:
	case IN_CSI: {
		bool csi = f->state == IN_CSI;
		if (b >= 0x20 && b <= (csi ? 0x3f : 0x2f)) {
			if (++f->seq_len >= TERMFILTER_SEQ_MAX)
				f->state = GROUND;
			return 0;
		}
		if (b >= (csi ? 0x40 : 0x30) && b <= 0x7e) {
			f->state = GROUND; /* the final byte */
			return 0;
		}
		/* anything else ends the sequence, unfinished, and is itself
		 * filtered (a newline stays, ESC starts a new sequence) */
		f->state = GROUND;
		return b == CAN || b == SUB ? 0 : ground(f, b, out);
	}
	case IN_STR:
		if (b == BEL || b == CAN || b == SUB || ++f->seq_len >= TERMFILTER_STR_MAX)
			f->state = GROUND;
		else if (b == ESC)
			f->state = IN_STR_ESC;
		return 0;
	case IN_STR_ESC:
		if (b == '\\') {
			f->state = GROUND; /* ST */
			return 0;
		}
		f->state = IN_ESC; /* the ESC ended the string and begins a sequence */
		return step(f, b, out);
	default:
		return ground(f, b, out);
	}
}

size_t termfilter_run(struct termfilter *f, const char *in, size_t len, char *out)
{
	size_t o = 0;
	for (size_t i = 0; i < len; i++)
		o += step(f, (unsigned char)in[i], out + o);
	return o;
}

size_t termfilter_end(struct termfilter *f, char *out)
{
	size_t o = 0;
	if (f->state == IN_UTF8)
		out[o++] = '?';
	termfilter_init(f);
	return o;
}
