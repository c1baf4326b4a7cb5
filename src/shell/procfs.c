#include "shell/procfs.h"

#include <limits.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

void text_printable(char *s)
{
	for (; *s; s++)
		if ((unsigned char)*s < 0x20 || *s == 0x7f)
			*s = '?';
}

/* a decimal number (perhaps negative) ending at a blank or the end */
static int number(const char **p, const char *end, long long *v)
{
	const char *s = *p;
	bool neg = s < end && *s == '-';
	s += neg;
	if (s >= end || *s < '0' || *s > '9')
		return -1;
	long long x = 0;
	for (; s < end && *s >= '0' && *s <= '9'; s++) {
		if (x > (LLONG_MAX - 9) / 10)
			return -1;
		x = x * 10 + (*s - '0');
	}
	if (s < end && *s != ' ' && *s != '\n')
		return -1;
	*v = neg ? -x : x;
	*p = s;
	return 0;
}

int procstat_parse(const char *text, size_t len, struct procstat *out)
{
	memset(out, 0, sizeof(*out));
	const char *end = text + len;
	const char *p = text;
	long long v;
	if (number(&p, end, &v) < 0 || v <= 0 || v > 0x7fffffff)
		return -1;
	out->pid = (int)v;
	const char *open = memchr(text, '(', len);
	const char *close = NULL; /* the last ')' */
	for (const char *q = end; q > text; q--)
		if (q[-1] == ')') {
			close = q - 1;
			break;
		}
	if (!open || !close || close < open || open != p + 1)
		return -1;
	size_t n = (size_t)(close - open - 1);
	if (n >= sizeof(out->comm))
		n = sizeof(out->comm) - 1;
	memcpy(out->comm, open + 1, n);
	out->comm[n] = '\0';
	for (size_t i = 0; i < n; i++)
		if (out->comm[i] == '\0')
			out->comm[i] = '?';
	text_printable(out->comm);
	p = close + 1;
	if (end - p < 3 || p[0] != ' ' || p[2] != ' ')
		return -1;
	out->state = p[1];
	if (out->state < 'A' || out->state > 'z')
		return -1;
	p += 3;
	/* field 4 (ppid) on; 14 utime, 15 stime, 24 rss */
	for (int field = 4; field <= 24; field++) {
		if (number(&p, end, &v) < 0)
			return -1;
		if (field == 4)
			out->ppid = (int)v;
		else if (field == 14)
			out->utime = (unsigned long long)(v < 0 ? 0 : v);
		else if (field == 15)
			out->stime = (unsigned long long)(v < 0 ? 0 : v);
		else if (field == 24)
			out->rss_pages = v;
		if (field < 24) {
			if (p >= end || *p != ' ')
				return -1;
			p++;
		}
	}
	return 0;
}

void proc_cmdline(const char *raw, size_t len, char *out, size_t n)
{
	size_t o = 0;
	if (n == 0)
		return;
	while (len > 0 && raw[len - 1] == '\0')
		len--;
	for (size_t i = 0; i < len && o + 1 < n; i++) {
		unsigned char c = (unsigned char)raw[i];
		out[o++] = c == '\0' ? ' ' : (c < 0x20 || c == 0x7f) ? '?' : (char)c;
	}
	out[o] = '\0';
}

/* \NNN octal escapes, in place */
static void unescape(char *s)
{
	char *o = s;
	for (char *p = s; *p;) {
		if (p[0] == '\\' && p[1] >= '0' && p[1] <= '3' && p[2] >= '0' && p[2] <= '7' &&
		    p[3] >= '0' && p[3] <= '7') {
			*o++ = (char)((p[1] - '0') * 64 + (p[2] - '0') * 8 + (p[3] - '0'));
			p += 4;
		} else {
			*o++ = *p++;
		}
	}
	*o = '\0';
	text_printable(s);
}

/* the next blank-separated field, NUL-terminated in place; NULL at the end */
static char *field(char **p)
{
	char *s = *p;
	while (*s == ' ')
		s++;
	if (!*s || *s == '\n')
		return NULL;
	char *e = s;
	while (*e && *e != ' ' && *e != '\n')
		e++;
	if (*e)
		*e++ = '\0';
	*p = e;
	return s;
}

int mountinfo_parse(char *line, struct mountinfo *m)
{
	char *p = line, *f[6];
	for (int i = 0; i < 6; i++)
		if (!(f[i] = field(&p)))
			return -1;
	/* id, parent, major:minor, root, mount point, options */
	m->mount_point = f[4];
	m->options = f[5];
	char *opt;
	do {
		opt = field(&p);
	} while (opt && strcmp(opt, "-") != 0);
	if (!opt || !(m->fstype = field(&p)) || !(m->source = field(&p)))
		return -1;
	unescape(m->mount_point);
	unescape(m->fstype);
	unescape(m->source);
	unescape(m->options);
	return 0;
}
