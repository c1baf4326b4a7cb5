/* Layer: domain support (used by every domain module and the handlers).
 * Includes: nothing of hostd.
 *
 * keel-hostd's one error convention for domain code: a function returns
 * >= 0 on success and a NEGATIVE ERRNO on failure, with a one-line human
 * message in the caller's `char *err, size_t errlen` (err may be NULL).
 * The meaning of each errno, as the API shows it (error_http_status):
 *   -ENOENT                 not found             404
 *   -EEXIST, -EBUSY,
 *   -ENOTEMPTY              conflict              409
 *   -EINVAL (and the path
 *    errors of datastore.h) bad input             400
 *   -EACCES, -EPERM         denied                403
 *   -ENOSPC, -EDQUOT        no space              507
 *   anything else           internal              500 */
#ifndef KEEL_HOSTD_ERROR_H
#define KEEL_HOSTD_ERROR_H

#include <stddef.h>

/* Formats a message into err (if not NULL) and returns neg_errno, so that
 * domain code can `return error_set(err, errlen, -ENOENT, "%s: no such VM",
 * name)`. */
int error_set(char *err, size_t errlen, int neg_errno, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* The HTTP status that stands for a negative errno (the table above). */
unsigned error_http_status(int neg_errno);

#endif
