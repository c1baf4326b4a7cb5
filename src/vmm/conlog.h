/* A file console kept within a size cap (VMM_CONSOLE_FILE_MAX for keel-vmm),
 * so that a guest printing without end cannot fill the filesystem its log
 * is on (scratch, where the audit trail is too).
 *
 * vCPU threads append bytes (conlog_put, never blocking on anything but
 * the log's own lock). When the file grows past the cap, the main thread is
 * woken through `wake` (an eventfd to watch) and conlog_trim rewrites the
 * file in place to its newest half: the oldest bytes go, the newest are
 * kept in order. Only the descriptor is used: no path is opened. */
#ifndef KEEL_VMM_CONLOG_H
#define KEEL_VMM_CONLOG_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

struct conlog {
	int fd;	  /* the log file, opened without O_APPEND (the offset is ours) */
	int wake; /* eventfd: readable when a trim is due */
	uint64_t max, size;
	bool trim_due;
	pthread_mutex_t lock;
};

/* Takes fd (positioned at its end) and a cap of `max` bytes (>= 2).
 * Returns 0, or -1 with errno set. */
int conlog_init(struct conlog *l, int fd, uint64_t max);
/* Appends one byte (a vCPU thread). */
void conlog_put(struct conlog *l, uint8_t byte);
/* Trims the file if it is past its cap (the main thread, on `wake`).
 * Returns 0, or -1 with errno set: the file may then hold a part of its
 * newest half twice, and the next byte put asks for a trim again. */
int conlog_trim(struct conlog *l);

#endif
