/* keel-shell's words (shell/words.h): quoting, no expansion, and the
 * bounds of a hostile line. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "shell/words.h"

static struct words w;
static char err[256];

static int split(const char *line)
{
	err[0] = '\0';
	return words_split(line, &w, err, sizeof(err));
}

static void test_blanks_separate(void **state)
{
	(void)state;
	assert_int_equal(split("  ls \t /config  "), 2);
	assert_string_equal(w.argv[0], "ls");
	assert_string_equal(w.argv[1], "/config");
	assert_null(w.argv[2]);
	assert_int_equal(split(""), 0);
	assert_null(w.argv[0]);
	assert_int_equal(split(" \t "), 0);
}

static void test_quotes(void **state)
{
	(void)state;
	assert_int_equal(split("cat \"/scratch/a file\" 'b c' d\"e f\"'g'"), 4);
	assert_string_equal(w.argv[1], "/scratch/a file");
	assert_string_equal(w.argv[2], "b c");
	assert_string_equal(w.argv[3], "de fg");
	/* escapes inside "...": only \" and \\ ; none inside '...' */
	assert_int_equal(split("x \"a\\\"b\\\\c\\n\" 'd\\e'"), 3);
	assert_string_equal(w.argv[1], "a\"b\\c\\n");
	assert_string_equal(w.argv[2], "d\\e");
	/* a backslash outside quotes makes the next character plain */
	assert_int_equal(split("a\\ b c\\'"), 2);
	assert_string_equal(w.argv[0], "a b");
	assert_string_equal(w.argv[1], "c'");
	/* empty words */
	assert_int_equal(split("a \"\" ''"), 3);
	assert_string_equal(w.argv[1], "");
	assert_string_equal(w.argv[2], "");
}

static void test_nothing_is_expanded(void **state)
{
	(void)state;
	assert_int_equal(split("cat $HOME/* ~ `id` $(id) a;b|c&d>e"), 6);
	assert_string_equal(w.argv[1], "$HOME/*");
	assert_string_equal(w.argv[2], "~");
	assert_string_equal(w.argv[3], "`id`");
	assert_string_equal(w.argv[4], "$(id)");
	assert_string_equal(w.argv[5], "a;b|c&d>e");
}

static void test_refused(void **state)
{
	(void)state;
	assert_int_equal(split("cat 'x"), -1);
	assert_non_null(strstr(err, "unterminated '"));
	assert_int_equal(split("cat \"x"), -1);
	assert_int_equal(split("cat \"x\\\""), -1);
	assert_int_equal(split("cat x\\"), -1);
	assert_int_equal(split("cat \x1b[2J"), -1);
	assert_non_null(strstr(err, "control character 0x1b"));
	assert_int_equal(split("a\x7f"), -1);
	assert_int_equal(split("a\rb"), -1);
}

static void test_bounds(void **state)
{
	(void)state;
	char *line = malloc(SHELL_COMMAND_MAX + 2);
	/* the longest line: one word of SHELL_COMMAND_MAX bytes */
	memset(line, 'a', SHELL_COMMAND_MAX);
	line[SHELL_COMMAND_MAX] = '\0';
	assert_int_equal(split(line), 1);
	assert_int_equal(strlen(w.argv[0]), SHELL_COMMAND_MAX);
	line[SHELL_COMMAND_MAX] = 'a';
	line[SHELL_COMMAND_MAX + 1] = '\0';
	assert_int_equal(split(line), -1);
	/* the most words, of one byte each; one more is refused */
	size_t n = 0;
	for (int i = 0; i < WORDS_MAX; i++) {
		line[n++] = 'x';
		line[n++] = ' ';
	}
	line[n] = '\0';
	assert_int_equal(split(line), WORDS_MAX);
	line[n++] = 'y';
	line[n] = '\0';
	assert_int_equal(split(line), -1);
	assert_non_null(strstr(err, "more than"));
	/* empty words are the densest: '' takes 2 bytes, gives 1 */
	n = 0;
	for (int i = 0; i < WORDS_MAX - 1; i++) {
		memcpy(line + n, "'' ", 3);
		n += 3;
	}
	line[n] = '\0';
	assert_int_equal(split(line), WORDS_MAX - 1);
	free(line);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_blanks_separate),
	    cmocka_unit_test(test_quotes),
	    cmocka_unit_test(test_nothing_is_expanded),
	    cmocka_unit_test(test_refused),
	    cmocka_unit_test(test_bounds),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
