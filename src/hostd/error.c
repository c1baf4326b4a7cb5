#include "hostd/error.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>

int error_set(char *err, size_t errlen, int neg_errno, const char *fmt, ...)
{
	if (err && errlen) {
		va_list ap;
		va_start(ap, fmt);
		vsnprintf(err, errlen, fmt, ap);
		va_end(ap);
	}
	return neg_errno;
}

unsigned error_http_status(int neg_errno)
{
	switch (-neg_errno) {
	case ENOENT:
		return 404;
	case EEXIST:
	case ENOTEMPTY:
	case EBUSY:
		return 409;
	case ENOSPC:
	case EDQUOT:
		return 507;
	case EACCES:
	case EPERM:
		return 403;
	case EINVAL:
	case ENAMETOOLONG:
	case ELOOP:
	case EXDEV:
	case ENOTDIR:
	case EISDIR:
	case EFBIG:
		return 400;
	default:
		return 500;
	}
}
