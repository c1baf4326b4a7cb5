/* Ctrl-C in keel-shell: SIGINT ends the running command, never the
 * shell. The handler only sets a flag (no SA_RESTART, so a blocking call
 * returns EINTR); long commands check it. SIGHUP (the SSH connection or
 * the terminal is gone) and SIGTERM (keel-init stops the service) set it
 * too, and intr_hangup() then says the session must end (and log out). */
#ifndef KEEL_SHELL_INTR_H
#define KEEL_SHELL_INTR_H

#include <stdbool.h>

void intr_setup(void);
bool intr_pending(void);
void intr_clear(void);
bool intr_hangup(void);
/* A descriptor that is readable from the moment a signal came until
 * intr_clear (for ever after a hangup): a wait that polls it cannot miss a
 * signal that came just before it started. -1 before intr_setup. */
int intr_fd(void);

#endif
