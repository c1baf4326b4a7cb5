/* The interpreter: one line of the user's at a time, split into words
 * (words.h), recorded in the audit trail through the API (session.h) and
 * only then run by the command it names. A line that cannot be recorded
 * is not run (the audit fails closed). There is no way from here to any
 * program but the CLI (cmd_keel.c). */
#ifndef KEEL_SHELL_INTERP_H
#define KEEL_SHELL_INTERP_H

#include "shell/cmd.h"

#define INTERP_EXIT  (-1) /* the line was `exit` */
#define INTERP_ENDED (-2) /* the session is no longer valid: nothing more can run */

/* Runs one line: 0 or 1 (the command's status; 1 also for a line that is
 * refused or not recorded), INTERP_EXIT or INTERP_ENDED. */
int interp_line(struct shell *sh, const char *line);
/* `help`'s text */
void interp_help(void);

#endif
