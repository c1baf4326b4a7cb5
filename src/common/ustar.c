#include "common/ustar.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

/* v as `width - 1` octal digits and a NUL; -1 if it does not fit */
static int octal(char *field, size_t width, uint64_t v)
{
	char buf[32];
	int n = snprintf(buf, sizeof(buf), "%0*llo", (int)width - 1, (unsigned long long)v);
	if (n < 0 || (size_t)n != width - 1)
		return -1;
	memcpy(field, buf, width);
	return 0;
}

int tar_header(unsigned char h[TAR_BLOCK], const char *name, uint64_t size, int64_t mtime,
	       unsigned mode)
{
	memset(h, 0, TAR_BLOCK);
	size_t len = strlen(name);
	if (len == 0)
		return -EINVAL;
	if (len <= 100) {
		memcpy(h, name, len);
	} else {
		/* the last '/' that leaves at most 100 bytes after it and at
		 * most 155 before it */
		const char *cut = NULL;
		for (const char *p = name; (p = strchr(p, '/')); p++)
			if (len - (size_t)(p - name) - 1 <= 100 && (size_t)(p - name) <= 155 &&
			    p[1]) {
				cut = p;
				break;
			}
		if (!cut || cut == name)
			return -ENAMETOOLONG;
		memcpy(h + 345, name, (size_t)(cut - name));	    /* prefix */
		memcpy(h, cut + 1, len - (size_t)(cut - name) - 1); /* name */
	}
	octal((char *)h + 100, 8, mode & 07777);
	octal((char *)h + 108, 8, 0); /* uid */
	octal((char *)h + 116, 8, 0); /* gid */
	if (octal((char *)h + 124, 12, size) < 0) {
		h[124] = 0x80; /* base-256, big-endian in the last 8 bytes */
		for (int i = 0; i < 8; i++)
			h[135 - i] = (unsigned char)(size >> (8 * i));
	}
	if (octal((char *)h + 136, 12, mtime < 0 ? 0 : (uint64_t)mtime) < 0)
		octal((char *)h + 136, 12, 0);
	h[156] = '0'; /* a regular file */
	memcpy(h + 257, "ustar", 6);
	memcpy(h + 263, "00", 2);
	memcpy(h + 265, "root", 4);
	memcpy(h + 297, "root", 4);
	/* the checksum: the bytes' sum with the field itself as spaces */
	memset(h + 148, ' ', 8);
	unsigned sum = 0;
	for (int i = 0; i < TAR_BLOCK; i++)
		sum += h[i];
	snprintf((char *)h + 148, 8, "%06o", sum); /* 6 digits, NUL, space */
	h[155] = ' ';
	return 0;
}

size_t tar_padding(uint64_t size)
{
	return (size_t)((TAR_BLOCK - size % TAR_BLOCK) % TAR_BLOCK);
}
