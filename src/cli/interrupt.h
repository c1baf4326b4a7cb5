/* Ctrl-C handling, and the waiting it interrupts. The first SIGINT, SIGTERM or SIGHUP only sets a
 * flag: transfers then abort, loops end, and the session is still closed; a second one kills the
 * process (SA_RESETHAND). SIGPIPE is ignored. */
#ifndef KEEL_CLI_INTERRUPT_H
#define KEEL_CLI_INTERRUPT_H

#include <stdbool.h>

void interrupt_setup(void);
bool interrupted(void);
/* seconds on the monotonic clock */
double clock_now(void);
/* Sleeps `seconds`; returns false if interrupted (at once, or while asleep). */
bool interrupt_sleep(double seconds);

#endif
