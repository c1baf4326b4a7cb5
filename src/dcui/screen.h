/* The DCUI's terminal: ncurses on the console's TTY (tty1 with
 * TERM=linux, a serial line with TERM=vt100 or vt220), and the few kinds of
 * screens every part of the DCUI is made of: a frame (a title bar and a
 * line of keys), a message, a yes/no question (one with a countdown), a
 * menu, a form of text fields and a pager. Everything fits 80x24.
 *
 * Keys: the arrows, Enter, Esc, Tab and Backspace everywhere; the function
 * keys are understood as the terminal's terminfo says and also as the
 * common sequences of serial terminals (F2: ESC O Q or ESC [ 1 2 ~; F12:
 * ESC [ 2 4 ~), whatever TERM says. Every text shown is made printable
 * first: a log line cannot send the terminal a control sequence.
 *
 * Idle time: a screen waiting for a person returns SCREEN_IDLE when no key
 * came for the time set by screen_set_idle, so that the caller can log out.
 * A terminal that hung up (a pty closed, a serial line's carrier lost) is
 * taken for an idle one at once; screen_gone then says so, and the program
 * ends (keel-init starts it again).
 * Nothing here talks to the API. */
#ifndef KEEL_DCUI_SCREEN_H
#define KEEL_DCUI_SCREEN_H

#include <stdbool.h>
#include <stddef.h>

#define SCREEN_IDLE   (-2) /* no key within the idle time */
#define SCREEN_CANCEL (-1) /* Esc */
#define KEY_ESCAPE    27

/* Opens `tty` (a path: made the controlling terminal and stdin, stdout
 * and stderr; "-": the stdin and stdout there are) and starts ncurses
 * with TERM (vt100 when unset). Returns 0, or -1 with why in err. */
int screen_open(const char *tty, char *err, size_t errlen);
void screen_close(void);
/* Seconds without a key after which screens return SCREEN_IDLE (0: never). */
void screen_set_idle(int seconds);
/* Leaves the screen to the program argv (an absolute path) on the same
 * terminal until it ends, then draws again: its exit status, or -1. */
int screen_run(char *const argv[]);
/* Whether the terminal hung up. */
bool screen_gone(void);

/* The next key within timeout_ms (< 0: the idle time, then SCREEN_IDLE);
 * ERR when none came. Enter is '\n', Backspace KEY_BACKSPACE. */
int screen_key(int timeout_ms);

/* Clears the screen, draws the title bar and the keys on the last line. */
void screen_frame(const char *title, const char *keys);
/* Text at (y, x), made printable and cut at the screen's width; bold or
 * reversed when asked. */
void screen_put(int y, int x, bool bold, const char *text);
/* Text wrapped between columns x and COLS-x from line y; returns the next
 * free line. */
int screen_wrap(int y, int x, const char *text);

/* A message shown while something is under way (no key awaited). */
void screen_status(const char *title, const char *text);
/* A message until a key: returns SCREEN_IDLE or 0. */
int screen_message(const char *title, const char *text);
/* "question (Y/N)": 1 for Y, 0 for N or Esc, SCREEN_IDLE. */
int screen_yesno(const char *title, const char *question);
/* The same with a countdown from `seconds`: 1, 0, or -1 when it ran out. */
int screen_countdown(const char *title, const char *question, int seconds);

struct menu_item {
	char key; /* its number key ('1'...), or 0 */
	const char *label;
	const char *help; /* shown below the menu when selected; may be NULL */
};
/* Returns the index chosen (Enter, or its key), SCREEN_CANCEL or
 * SCREEN_IDLE; *selected is where the highlight starts and ends. */
int screen_menu(const char *title, const char *intro, const struct menu_item *items, int n,
		int *selected);

struct field {
	const char *label;
	char *value; /* edited in place, NUL-terminated */
	size_t size; /* of value */
	bool secret; /* what is typed is not shown */
};
/* Edits the fields (Up/Down/Tab move, Enter goes to the next field and
 * on the last one submits); `error`, if not NULL, is shown under them.
 * Returns 0 when submitted, SCREEN_CANCEL or SCREEN_IDLE. */
int screen_form(const char *title, const char *intro, struct field *fields, int n,
		const char *error);

/* Shows text (lines separated by '\n') a page at a time, starting at its
 * end: Up/Down, PgUp/PgDn (also space and b), Home/End (also g and G),
 * Left/Right for long lines (20 columns a step); q or Esc leaves. Returns 0 or SCREEN_IDLE. */
int screen_pager(const char *title, const char *text);

#endif
