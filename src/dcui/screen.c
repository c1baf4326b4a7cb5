/* The terminal and its kinds of screens (screen.h). */
#include "dcui/screen.h"

#include <curses.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <errno.h>
#include <sys/ioctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define TICK_MS 1000

static SCREEN *term;
static int idle_s;
static bool hung_up;

/* the sequences of serial terminals that terminfo may not name */
static const struct {
	const char *sequence;
	int key;
} extra_keys[] = {
    {"\033OQ", KEY_F(2)},   {"\033[12~", KEY_F(2)}, {"\033[[B", KEY_F(2)}, {"\033[24~", KEY_F(12)},
    {"\033[A", KEY_UP},	    {"\033OA", KEY_UP},	    {"\033[B", KEY_DOWN},  {"\033OB", KEY_DOWN},
    {"\033[C", KEY_RIGHT},  {"\033OC", KEY_RIGHT},  {"\033[D", KEY_LEFT},  {"\033OD", KEY_LEFT},
    {"\033[5~", KEY_PPAGE}, {"\033[6~", KEY_NPAGE}, {"\033[1~", KEY_HOME}, {"\033[4~", KEY_END},
    {"\033[H", KEY_HOME},   {"\033[F", KEY_END},
};

static int take_tty(const char *tty, char *err, size_t errlen)
{
	int fd = open(tty, O_RDWR | O_NOCTTY);
	if (fd < 0) {
		snprintf(err, errlen, "cannot open %s: %m", tty);
		return -1;
	}
	setsid(); /* fails only for a process group leader, which keeps its terminal */
	if (ioctl(fd, TIOCSCTTY, 1) < 0) {
		snprintf(err, errlen, "cannot make %s the controlling terminal: %m", tty);
		close(fd);
		return -1;
	}
	for (int std = 0; std < 3; std++)
		if (dup2(fd, std) < 0) {
			snprintf(err, errlen, "dup2: %m");
			close(fd);
			return -1;
		}
	if (fd > 2)
		close(fd);
	return 0;
}

int screen_open(const char *tty, char *err, size_t errlen)
{
	if (strcmp(tty, "-") != 0) {
		if (take_tty(tty, err, errlen) < 0)
			return -1;
	} else if (isatty(STDIN_FILENO) && setsid() >= 0) {
		ioctl(STDIN_FILENO, TIOCSCTTY, 0); /* best effort: it works without one */
	}
	if (!getenv("TERM") || !*getenv("TERM"))
		setenv("TERM", "vt100", 1);
	term = newterm(NULL, stdout, stdin);
	if (!term) {
		snprintf(err, errlen, "cannot use the terminal (TERM=%s)", getenv("TERM"));
		return -1;
	}
	raw(); /* Ctrl-C and Ctrl-Z are keys like others here */
	noecho();
	nonl();
	keypad(stdscr, TRUE);
	set_escdelay(150);
	curs_set(0);
	for (size_t i = 0; i < sizeof(extra_keys) / sizeof(extra_keys[0]); i++)
		define_key(extra_keys[i].sequence, extra_keys[i].key);
	return 0;
}

void screen_close(void)
{
	if (!term)
		return;
	clear();
	refresh();
	endwin();
	delscreen(term);
	term = NULL;
}

int screen_run(char *const argv[])
{
	def_prog_mode();
	endwin();
	pid_t pid = fork();
	if (pid == 0) {
		execv(argv[0], argv);
		_exit(127);
	}
	int status = 0;
	while (pid > 0 && waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	reset_prog_mode();
	clearok(curscr, TRUE); /* what the program left on the terminal is redrawn */
	refresh();
	return pid > 0 && WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

void screen_set_idle(int seconds)
{
	idle_s = seconds;
}

bool screen_gone(void)
{
	return hung_up;
}

/* After getch gave nothing: whether the terminal is still there. */
static void check_hangup(void)
{
	struct pollfd p = {.fd = STDIN_FILENO, .events = POLLIN};
	if (poll(&p, 1, 0) == 1 && (p.revents & (POLLHUP | POLLERR | POLLNVAL)))
		hung_up = true;
}

static int one_key(int timeout_ms)
{
	if (hung_up)
		return ERR;
	timeout(timeout_ms);
	int key = getch();
	if (key == ERR)
		check_hangup();
	if (key == '\r' || key == KEY_ENTER)
		return '\n';
	if (key == 127 || key == 8)
		return KEY_BACKSPACE;
	return key;
}

int screen_key(int timeout_ms)
{
	if (timeout_ms >= 0)
		return one_key(timeout_ms);
	time_t since = time(NULL);
	for (;;) {
		int key = one_key(TICK_MS);
		if (key == KEY_RESIZE)
			continue;
		if (key != ERR)
			return key;
		if (hung_up || (idle_s > 0 && time(NULL) - since >= idle_s))
			return SCREEN_IDLE;
	}
}

/* ---- drawing ---- */

void screen_put(int y, int x, bool bold, const char *text)
{
	if (y < 0 || y >= LINES)
		return;
	move(y, x);
	if (bold)
		attron(A_BOLD);
	for (const char *p = text; *p && getcurx(stdscr) < COLS - 1; p++) {
		unsigned char c = (unsigned char)*p;
		addch(c >= 0x20 && c < 0x7f ? c : (c == '\t' ? ' ' : '?'));
	}
	if (bold)
		attroff(A_BOLD);
}

int screen_wrap(int y, int x, const char *text)
{
	int width = COLS - 2 * x;
	const char *p = text;
	char line[256];
	while (*p && y < LINES - 2) {
		size_t n = strcspn(p, "\n");
		if ((int)n > width) {
			n = (size_t)width;
			while (n > 0 && p[n] != ' ')
				n--;
			if (n == 0)
				n = (size_t)width;
		}
		if (n >= sizeof(line))
			n = sizeof(line) - 1;
		memcpy(line, p, n);
		line[n] = '\0';
		screen_put(y++, x, false, line);
		p += n;
		if (*p == '\n' || *p == ' ')
			p++;
	}
	return y;
}

void screen_frame(const char *title, const char *keys)
{
	erase();
	attron(A_REVERSE);
	mvhline(0, 0, ' ', COLS);
	screen_put(0, 1, true, title);
	attroff(A_REVERSE);
	if (keys) {
		attron(A_REVERSE);
		mvhline(LINES - 1, 0, ' ', COLS);
		screen_put(LINES - 1, 1, false, keys);
		attroff(A_REVERSE);
	}
}

/* ---- questions ---- */

void screen_status(const char *title, const char *text)
{
	screen_frame(title, NULL);
	screen_wrap(3, 3, text);
	refresh();
}

int screen_message(const char *title, const char *text)
{
	screen_frame(title, "<Enter> OK");
	screen_wrap(3, 3, text);
	refresh();
	int key = screen_key(-1);
	return key == SCREEN_IDLE ? SCREEN_IDLE : 0;
}

int screen_yesno(const char *title, const char *question)
{
	screen_frame(title, "<Y> Yes  <N> No  <Esc> Cancel");
	int y = screen_wrap(3, 3, question);
	screen_put(y + 1, 3, true, "(Y/N)");
	refresh();
	for (;;) {
		int key = screen_key(-1);
		if (key == SCREEN_IDLE)
			return SCREEN_IDLE;
		if (key == 'y' || key == 'Y')
			return 1;
		if (key == 'n' || key == 'N' || key == KEY_ESCAPE)
			return 0;
	}
}

int screen_countdown(const char *title, const char *question, int seconds)
{
	time_t end = time(NULL) + seconds;
	for (;;) {
		long left = (long)(end - time(NULL));
		if (left <= 0 || hung_up)
			return -1;
		char line[80];
		screen_frame(title, "<Y> Yes, keep it  <N> No, roll back");
		int y = screen_wrap(3, 3, question);
		screen_put(y + 1, 3, true, "(Y/N)");
		snprintf(line, sizeof(line), "Rolling back in %ld s without an answer.", left);
		screen_put(y + 3, 3, false, line);
		refresh();
		int key = screen_key(TICK_MS);
		if (key == 'y' || key == 'Y')
			return 1;
		if (key == 'n' || key == 'N' || key == KEY_ESCAPE)
			return 0;
	}
}

int screen_menu(const char *title, const char *intro, const struct menu_item *items, int n,
		int *selected)
{
	int at = *selected >= 0 && *selected < n ? *selected : 0;
	for (;;) {
		screen_frame(title, "<Up/Down> Select  <Enter> Open  <1-9> Go to  <Esc> Back");
		int y = intro ? screen_wrap(2, 3, intro) + 1 : 2;
		for (int i = 0; i < n; i++) {
			char line[96];
			snprintf(line, sizeof(line), "%c%c %-50s",
				 items[i].key ? items[i].key : ' ', items[i].key ? '.' : ' ',
				 items[i].label);
			if (i == at)
				attron(A_REVERSE);
			screen_put(y + i, 3, false, line);
			if (i == at)
				attroff(A_REVERSE);
		}
		if (items[at].help)
			screen_wrap(y + n + 1, 3, items[at].help);
		refresh();
		int key = screen_key(-1);
		if (key == SCREEN_IDLE)
			return SCREEN_IDLE;
		if (key == KEY_ESCAPE) {
			*selected = at;
			return SCREEN_CANCEL;
		}
		if (key == KEY_UP)
			at = (at + n - 1) % n;
		else if (key == KEY_DOWN || key == '\t')
			at = (at + 1) % n;
		else if (key == KEY_HOME)
			at = 0;
		else if (key == KEY_END)
			at = n - 1;
		else if (key == '\n') {
			*selected = at;
			return at;
		}
		for (int i = 0; i < n; i++)
			if (key > 0 && key < 128 && items[i].key == key) {
				*selected = i;
				return i;
			}
	}
}

int screen_form(const char *title, const char *intro, struct field *fields, int n,
		const char *error)
{
	int at = 0;
	curs_set(1);
	for (;;) {
		screen_frame(title, "<Up/Down> Field  <Enter> Next/OK  <Esc> Cancel");
		int y = intro ? screen_wrap(2, 3, intro) + 1 : 2;
		for (int i = 0; i < n; i++) {
			screen_put(y + i, 3, false, fields[i].label);
			screen_put(y + i, 27, false, "[");
			screen_put(y + i, 27 + 1 + 40, false, "]");
			if (!fields[i].secret)
				screen_put(y + i, 28, false, fields[i].value);
		}
		if (error)
			screen_wrap(y + n + 1, 3, error);
		size_t len = strlen(fields[at].value);
		move(y + at, 28 + (fields[at].secret ? 0 : (int)(len < 40 ? len : 40)));
		refresh();
		int key = screen_key(-1);
		if (key == SCREEN_IDLE || key == KEY_ESCAPE) {
			curs_set(0);
			return key == SCREEN_IDLE ? SCREEN_IDLE : SCREEN_CANCEL;
		}
		if (key == KEY_UP)
			at = (at + n - 1) % n;
		else if (key == KEY_DOWN || key == '\t')
			at = (at + 1) % n;
		else if (key == '\n') {
			if (at == n - 1) {
				curs_set(0);
				return 0;
			}
			at++;
		} else if (key == KEY_BACKSPACE && len > 0)
			fields[at].value[len - 1] = '\0';
		else if (key == 21) /* Ctrl-U */
			fields[at].value[0] = '\0';
		else if (key >= 0x20 && key < 0x7f && len + 1 < fields[at].size && len < 40) {
			fields[at].value[len] = (char)key;
			fields[at].value[len + 1] = '\0';
		}
		error = NULL; /* said once; the person is at it */
	}
}

int screen_pager(const char *title, const char *text)
{
	size_t nlines = 0, cap = 0;
	const char **lines = NULL;
	for (const char *p = text; p && *p;) {
		if (nlines == cap) {
			cap = cap ? cap * 2 : 256;
			const char **grown = realloc(lines, cap * sizeof(*lines));
			if (!grown)
				break;
			lines = grown;
		}
		lines[nlines++] = p;
		const char *nl = strchr(p, '\n');
		p = nl ? nl + 1 : NULL;
	}
	int page = LINES - 3;
	long top = (long)nlines > page ? (long)nlines - page : 0;
	size_t left = 0; /* the first column shown */
	int rc = 0;
	for (;;) {
		screen_frame(title, "<Arrows/PgUp/PgDn/Home/End> Scroll  <q> or <Esc> Leave");
		for (int i = 0; i < page && top + i < (long)nlines; i++) {
			char line[512];
			const char *s = lines[top + i];
			size_t n = strcspn(s, "\n");
			s += left < n ? left : n;
			n -= left < n ? left : n;
			if (n >= sizeof(line))
				n = sizeof(line) - 1;
			memcpy(line, s, n);
			line[n] = '\0';
			screen_put(1 + i, 0, false, line);
		}
		if (nlines == 0)
			screen_put(2, 3, false, "(this log is empty)");
		refresh();
		int key = screen_key(-1);
		long last = (long)nlines > page ? (long)nlines - page : 0;
		if (key == SCREEN_IDLE || key == 'q' || key == 'Q' || key == KEY_ESCAPE) {
			rc = key == SCREEN_IDLE ? SCREEN_IDLE : 0;
			break;
		}
		if (key == KEY_UP)
			top--;
		else if (key == KEY_DOWN || key == '\n')
			top++;
		else if (key == KEY_PPAGE || key == 'b')
			top -= page;
		else if (key == KEY_NPAGE || key == ' ')
			top += page;
		else if (key == KEY_LEFT)
			left = left > 20 ? left - 20 : 0;
		else if (key == KEY_RIGHT && left < 4096)
			left += 20;
		else if (key == KEY_HOME || key == 'g')
			top = 0;
		else if (key == KEY_END || key == 'G')
			top = last;
		top = top < 0 ? 0 : top > last ? last : top;
	}
	free(lines);
	return rc;
}
