#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "cli/termfilter.h"

#include <stdlib.h>
#include <string.h>

/* The filter's whole output for `in` fed in pieces of `piece` bytes (0:
 * in one piece), NUL-terminated in out. */
static void filter(const char *in, size_t len, size_t piece, char *out, size_t cap)
{
	struct termfilter f;
	termfilter_init(&f);
	size_t o = 0;
	if (piece == 0)
		piece = len ? len : 1;
	for (size_t i = 0; i < len; i += piece) {
		size_t k = len - i < piece ? len - i : piece;
		assert_true(o + k + 4 <= cap);
		o += termfilter_run(&f, in + i, k, out + o);
	}
	assert_true(o + 4 <= cap);
	o += termfilter_end(&f, out + o);
	out[o] = '\0';
}

static const struct {
	const char *what, *in, *out;
} table[] = {
    {"plain", "login: root\r\nPassword:\t\n", "login: root\r\nPassword:\t\n"},
    {"UTF-8 text", "gr\xc3\xbc\xc3\x9f \xe2\x82\xac \xf0\x9f\x90\xa7\n",
     "gr\xc3\xbc\xc3\x9f \xe2\x82\xac \xf0\x9f\x90\xa7\n"},
    {"colours", "\x1b[1;31mred\x1b[0m ok", "red ok"},
    {"clear screen, cursor home", "a\x1b[2J\x1b[Hb", "ab"},
    {"private CSI", "\x1b[?1049h\x1b[?25lx", "x"},
    {"title (OSC, BEL)", "\x1b]0;pwned\x07text", "text"},
    {"clipboard (OSC 52, ST)", "\x1b]52;c;ZWNobyBoaQ==\x1b\\after", "after"},
    {"DCS", "\x1bPq#0;2;0;0;0\x1b\\x", "x"},
    {"APC, PM, SOS", "\x1b_a\x1b\\\x1b^b\x1b\\\x1bXc\x1b\\d", "d"},
    {"charset, save cursor, reset",
     "\x1b(B\x1b"
     "7\x1b"
     "8\x1b"
     "cz",
     "z"},
    {"keypad mode", "\x1b=\x1b>k", "k"},
    {"ESC ESC", "\x1b\x1b[31mx", "x"},
    {"CAN cancels", "\x1b[12\x18x", "x"},
    {"newline inside a CSI ends it and stays", "\x1b[1\nx", "\nx"},
    {"ESC inside a string starts a sequence", "\x1b]0;t\x1b[31mx", "x"},
    {"C0 controls",
     "a\x07"
     "b\x08"
     "c\x00"
     "d\x0c"
     "e\x7f"
     "f",
     "a?b?c?d?e?f"},
    {"8-bit CSI and OSC",
     "\x9b"
     "2J\x9d"
     "0;t",
     "?2J?0;t"},
    {"C1 in UTF-8 (U+009B, U+0085)",
     "\xc2\x9b"
     "2J\xc2\x85x",
     "?2J?x"},
    {"U+00A0 kept", "\xc2\xa0", "\xc2\xa0"},
    {"bad UTF-8", "\xff\xfe\x80x\xc0\xaf", "???x??"},
    {"overlong and surrogate", "\xe0\x80\xaf\xed\xa0\x80", "??????"},
    {"above U+10FFFF", "\xf4\x90\x80\x80", "????"},
    {"a character cut at the end", "ok\xe2\x82", "ok?"},
    {"a character cut by ESC", "\xe2\x82\x1b[0mz", "?z"},
    {"an unfinished sequence at the end", "text\x1b[3", "text"},
};

static void test_table(void **state)
{
	(void)state;
	char out[512];
	for (size_t i = 0; i < sizeof table / sizeof table[0]; i++) {
		size_t len = strlen(table[i].in);
		if (strcmp(table[i].what, "C0 controls") == 0)
			len = 11; /* the NUL included */
		/* in one piece, then byte by byte and in pieces of 3: the same */
		for (size_t piece = 0; piece <= 3; piece += piece == 0 ? 1 : 2) {
			print_message("%s, pieces of %zu\n", table[i].what, piece);
			filter(table[i].in, len, piece, out, sizeof out);
			assert_string_equal(out, table[i].out);
		}
	}
}

/* Whatever goes in, nothing comes out that a terminal acts on. */
static void test_random_input(void **state)
{
	(void)state;
	srand(17);
	static char in[65536], out[65536 + 8];
	for (int round = 0; round < 20; round++) {
		for (size_t i = 0; i < sizeof in; i++)
			in[i] = (char)(rand() % 4 ? rand() % 256 : "\x1b[]\x07\\\n"[rand() % 6]);
		filter(in, sizeof in, (size_t)(round % 7), out, sizeof out);
		size_t n = strlen(out);
		for (size_t i = 0; i < n; i++) {
			unsigned char c = (unsigned char)out[i];
			assert_true(c >= 0x20 || c == '\n' || c == '\r' || c == '\t');
			assert_true(c != 0x7f);
			if (c == 0xc2)
				assert_true((unsigned char)out[i + 1] >= 0xa0);
			assert_false(c >= 0x80 && c <= 0x9f &&
				     (i == 0 || (unsigned char)out[i - 1] < 0x80));
		}
	}
}

/* An endless string does not swallow the rest of the output. */
static void test_string_limit(void **state)
{
	(void)state;
	static char in[TERMFILTER_STR_MAX + 16], out[sizeof in + 8];
	in[0] = 0x1b;
	in[1] = ']';
	memset(in + 2, 'a', TERMFILTER_STR_MAX);
	memcpy(in + 2 + TERMFILTER_STR_MAX, "visible", 7);
	filter(in, 2 + TERMFILTER_STR_MAX + 7, 0, out, sizeof out);
	assert_non_null(strstr(out, "visible"));
	assert_true(strlen(out) <= 16);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_table),
	    cmocka_unit_test(test_random_input),
	    cmocka_unit_test(test_string_limit),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
