#include "init/backoff.h"

long backoff_next(long prev_ms, long ran_ms)
{
	if (ran_ms >= BACKOFF_STABLE_MS || prev_ms <= 0)
		return BACKOFF_MIN_MS;
	if (prev_ms >= BACKOFF_MAX_MS / 2)
		return BACKOFF_MAX_MS;
	return prev_ms * 2;
}
