/* The terminal of local tech support mode: keel-init starts
 * `keel-shell --login TTY` on a console (tty2), which becomes the
 * session leader with TTY as its controlling terminal and stdin, stdout
 * and stderr. Only /dev/ttyN, /dev/ttySN and /dev/pts/N (a terminal
 * emulator's; the tests') are accepted, and they must be terminals. */
#ifndef KEEL_SHELL_TTY_H
#define KEEL_SHELL_TTY_H

#include <stdbool.h>
#include <stddef.h>

/* 0, or -1 with err set */
int tty_take(const char *path, char *err, size_t errlen);
/* turns the echo of fd's terminal off (false) or back on (true); 0 or -1
 * when fd is not a terminal */
int tty_echo(int fd, bool on);

#endif
