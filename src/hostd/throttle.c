#include "hostd/throttle.h"

#include "common/util.h"
#include "hostd/source.h"

#include <pthread.h>
#include <stdio.h>
#include <string.h>

static struct pair {
	char name[65];
	char source[SOURCE_NAME_MAX]; /* source_name */
	long count;		      /* failures counted */
	int64_t last;		      /* time of the last failure */
	int64_t until;		      /* end of the wait it started (last when none) */
	int64_t forget_at;	      /* when the failures are forgotten */
} pairs[THROTTLE_ENTRIES];
static pthread_mutex_t pairs_lock = PTHREAD_MUTEX_INITIALIZER;

/* The pair's entry; with `make`, made (recycling the oldest) if needed. */
static struct pair *find(const char *name, const char *source, int make)
{
	char key[sizeof(pairs[0].source)];
	source_name(source, key, sizeof(key));
	struct pair *oldest = &pairs[0];
	for (size_t i = 0; i < ARRAY_SIZE(pairs); i++) {
		if (pairs[i].name[0] && strcmp(pairs[i].name, name) == 0 &&
		    strcmp(pairs[i].source, key) == 0)
			return &pairs[i];
		if (pairs[i].last < oldest->last)
			oldest = &pairs[i];
	}
	if (!make)
		return NULL;
	memset(oldest, 0, sizeof(*oldest));
	snprintf(oldest->name, sizeof(oldest->name), "%s", name);
	snprintf(oldest->source, sizeof(oldest->source), "%s", key);
	return oldest;
}

long throttle_wait(const char *name, const char *source, int64_t now)
{
	pthread_mutex_lock(&pairs_lock);
	struct pair *p = find(name, source, 0);
	long wait = p && p->until > now ? (long)(p->until - now) : 0;
	pthread_mutex_unlock(&pairs_lock);
	return wait;
}

long throttle_fail(const char *name, const char *source, int64_t now, int max_failures,
		   int max_wait)
{
	pthread_mutex_lock(&pairs_lock);
	struct pair *p = find(name, source, 1);
	if (now >= p->forget_at)
		p->count = 0;
	p->count++;
	p->last = p->until = now;
	long wait = 0;
	if (max_failures > 0 && p->count >= max_failures) {
		long n = p->count - max_failures;
		wait = THROTTLE_FIRST_WAIT;
		while (n-- > 0 && wait < max_wait)
			wait *= 2;
		if (wait > max_wait)
			wait = max_wait;
		p->until = now + wait;
	}
	p->forget_at = p->until + (max_wait > 0 ? max_wait : 1);
	pthread_mutex_unlock(&pairs_lock);
	return wait;
}

void throttle_clear(const char *name, const char *source)
{
	pthread_mutex_lock(&pairs_lock);
	if (source) {
		struct pair *p = find(name, source, 0);
		if (p)
			memset(p, 0, sizeof(*p));
	} else {
		for (size_t i = 0; i < ARRAY_SIZE(pairs); i++)
			if (strcmp(pairs[i].name, name) == 0)
				memset(&pairs[i], 0, sizeof(pairs[i]));
	}
	pthread_mutex_unlock(&pairs_lock);
}

void throttle_status(const char *name, int64_t now, long *failures, int64_t *until)
{
	*failures = 0;
	*until = 0;
	pthread_mutex_lock(&pairs_lock);
	for (size_t i = 0; i < ARRAY_SIZE(pairs); i++) {
		struct pair *p = &pairs[i];
		if (!p->name[0] || strcmp(p->name, name) != 0 || now >= p->forget_at)
			continue;
		*failures += p->count;
		if (p->until > now && p->until > *until)
			*until = p->until;
	}
	pthread_mutex_unlock(&pairs_lock);
}

void throttle_reset(void)
{
	pthread_mutex_lock(&pairs_lock);
	memset(pairs, 0, sizeof(pairs));
	pthread_mutex_unlock(&pairs_lock);
}
