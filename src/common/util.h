/* Small helpers for files and strings, shared by all Keel programs. */
#ifndef KEEL_UTIL_H
#define KEEL_UTIL_H

#include <stddef.h>
#include <time.h>
#include <sys/types.h>

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

/* Reads a whole (small) file into a NUL-terminated malloc'd buffer of at most
 * `max` bytes. Returns NULL with errno set on failure (EFBIG if larger). */
char *read_file(const char *path, size_t max, size_t *len_out);
/* The same for an open file, read from its start (pread: the file offset
 * is neither used nor moved, so it can be read again). */
char *read_fd(int fd, size_t max, size_t *len_out);

/* Writes all `len` bytes to fd (again after a short write or EINTR): 0,
 * or -1 with errno set. */
int write_all(int fd, const void *data, size_t len);

/* Writes `len` bytes to `path` (created with `mode`, truncated), fsyncs the
 * file. Returns 0 or -1 with errno set. */
int write_file(const char *path, const void *data, size_t len, mode_t mode);

/* Like write_file, but through PATH.tmp renamed over path, so that a reader
 * sees the old content or the new, never a part. */
int write_file_atomic(const char *path, const void *data, size_t len, mode_t mode);

/* Reads the next line of a configuration text: copies it into buf (size n)
 * without its newline and without a '#' comment, and advances *text past it.
 * Returns 1 for a line, 0 at the end of the text, and -1 for a line that
 * does not fit in buf (it is skipped). */
int next_config_line(const char **text, char *buf, size_t n);

/* Formats a message into err (errlen bytes) and returns -1, so that a
 * parser can `return errorf(err, errlen, "field: why")`. */
int errorf(char *err, size_t errlen, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* Strips leading and trailing whitespace in place; returns the start. */
char *str_trim(char *s);

/* t as "2026-11-24T19:00:00Z" (UTC) into when[32]; -1 if it cannot be. */
int utc_iso_time(char when[32], time_t t);

/* Copies src into dst (size n), always NUL-terminated. Returns -1 if src
 * did not fit. */
int str_copy(char *dst, size_t n, const char *src);

/* The value of a hexadecimal digit (either case), or -1. */
int hex_digit(char c);
/* The Internet checksum (RFC 1071) of len bytes, in network byte order:
 * ICMP's, for the pings of keel-shell and of the network test. */
unsigned short inet_checksum(const void *data, size_t len);

/* Length of the valid UTF-8 sequence at s (at most `avail` >= 1 bytes), or
 * 0: no overlong forms, no surrogates, nothing above U+10FFFF (jansson's
 * rules). *cp (if not NULL) gets the code point. */
size_t utf8_seq(const unsigned char *s, size_t avail, unsigned *cp);

#endif
