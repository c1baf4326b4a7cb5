/* Layer: domain. Includes: source.h; never http.h or api.h.
 *
 * The slowing of password guesses per (user name, source): failed logins
 * are counted per name and per source (source.h: an IPv4 address, an IPv6
 * /64; `source` is the client's address as text). After `max_failures` failures of
 * a pair, each further failure makes that pair wait, THROTTLE_FIRST_WAIT s
 * at first and twice as long each time, up to `max_wait` s. A pair's
 * failures are forgotten `max_wait` s after its last failure (or after
 * the end of its wait); a success clears them. Other sources of the same
 * name are not affected, so an attacker cannot keep a user (root
 * included) out. Names need not be users: guessing an unknown name is
 * throttled the same way, so a wait reveals nothing. State is in memory
 * (THROTTLE_ENTRIES pairs; the oldest is recycled). Thread-safe. */
#ifndef KEEL_HOSTD_THROTTLE_H
#define KEEL_HOSTD_THROTTLE_H

#include <stdint.h>

#define THROTTLE_ENTRIES    1024
#define THROTTLE_FIRST_WAIT 30

/* Seconds the pair must wait before its next try, or 0. */
long throttle_wait(const char *name, const char *source, int64_t now);

/* Counts a failure of the pair; returns the wait it starts, or 0.
 * max_failures 0: never waits (failures are still counted). */
long throttle_fail(const char *name, const char *source, int64_t now, int max_failures,
		   int max_wait);

/* Forgets the pair's failures (source NULL: the name's, from everywhere). */
void throttle_clear(const char *name, const char *source);

/* For the users list: the name's failures counted now (over its sources)
 * and the latest end of a wait (0 when none is running). */
void throttle_status(const char *name, int64_t now, long *failures, int64_t *until);

/* Forgets everything (tests). */
void throttle_reset(void);

#endif
