/* Restart back-off for supervised services (pure). */
#ifndef KEEL_BACKOFF_H
#define KEEL_BACKOFF_H

#define BACKOFF_MIN_MS 1000
#define BACKOFF_MAX_MS 60000
/* a service that ran at least this long before dying is restarted after the
 * minimum delay, the back-off reset: it was healthy, not crash-looping */
#define BACKOFF_STABLE_MS 30000

/* Next delay before restarting a service that died after running `ran_ms`,
 * given the delay used last time (0 for none yet). */
long backoff_next(long prev_ms, long ran_ms);

#endif
