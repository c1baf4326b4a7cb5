/* Ctrl-C in keel-shell: SIGINT ends the running command, never the
 * shell. The handler only sets a flag (no SA_RESTART, so a blocking call
 * returns EINTR); long commands check it. */
#ifndef KEEL_SHELL_INTR_H
#define KEEL_SHELL_INTR_H

#include <stdbool.h>

void intr_setup(void);
bool intr_pending(void);
void intr_clear(void);

#endif
