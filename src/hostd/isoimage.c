#include "hostd/isoimage.h"

#include "common/util.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum {
	PVD_SECTOR = 16,
	SVD_SECTOR = 17,
	TERMINATOR_SECTOR = 18,
	PATH_TABLES = 19, /* primary L, primary M, Joliet L, Joliet M */
	ROOT_PRIMARY = 23,
	ROOT_JOLIET = 24,
	PATH_TABLE_SIZE = 10,	    /* the root's record alone */
	LEVEL1_MAX = 8 + 1 + 3 + 2, /* NAME.EXT;1 */
	JOLIET_MAX = (ISO_NAME_MAX + 2) * 2,
};

/* ECMA-119's "both-byte orders" fields */
static void both16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

static void le32(uint8_t *p, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

static void be32(uint8_t *p, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		p[i] = (uint8_t)(v >> (24 - 8 * i));
}

static void both32(uint8_t *p, uint32_t v)
{
	le32(p, v);
	be32(p + 4, v);
}

/* A text field of n bytes: s then spaces, in ASCII or (joliet) UCS-2BE. */
static void text_field(uint8_t *p, size_t n, const char *s, bool joliet)
{
	size_t len = strlen(s);
	for (size_t i = 0; i < n; i++) {
		if (!joliet)
			p[i] = i < len ? (uint8_t)s[i] : ' ';
		else
			p[i] = i % 2 ? (i / 2 < len ? (uint8_t)s[i / 2] : ' ') : 0;
	}
}

/* the 7-byte date of a directory record and the 17-byte one of a volume
 * descriptor, both in UTC */
struct iso_dates {
	uint8_t record[7];
	char volume[17];
};

static void make_dates(time_t when, struct iso_dates *d)
{
	struct tm tm;
	if (!gmtime_r(&when, &tm) || tm.tm_year < 70 || tm.tm_year > 255)
		memset(&tm, 0, sizeof(tm)), tm.tm_year = 70, tm.tm_mday = 1;
	uint8_t r[7] = {(uint8_t)tm.tm_year,
			(uint8_t)(tm.tm_mon + 1),
			(uint8_t)tm.tm_mday,
			(uint8_t)tm.tm_hour,
			(uint8_t)tm.tm_min,
			(uint8_t)tm.tm_sec,
			0};
	memcpy(d->record, r, sizeof(r));
	char digits[80];
	snprintf(digits, sizeof(digits), "%04d%02d%02d%02d%02d%02d00", tm.tm_year + 1900,
		 tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec);
	memcpy(d->volume, digits, 16);
	d->volume[16] = 0; /* offset from UTC, in 15 minutes */
}

/* One directory record at p (its length, even); `id` is the identifier's
 * bytes. */
static size_t dir_record(uint8_t *p, uint32_t extent, uint32_t size, bool dir, const uint8_t *id,
			 size_t idlen, const struct iso_dates *d)
{
	size_t len = 33 + idlen + (idlen % 2 == 0);
	p[0] = (uint8_t)len;
	both32(p + 2, extent);
	both32(p + 10, size);
	memcpy(p + 18, d->record, 7);
	p[25] = dir ? 2 : 0;
	both16(p + 28, 1);
	p[32] = (uint8_t)idlen;
	memcpy(p + 33, id, idlen);
	return len;
}

/* A volume descriptor: the primary (type 1) or Joliet's (type 2). */
static void volume_descriptor(uint8_t *p, bool joliet, const char *label, uint32_t sectors,
			      const struct iso_dates *d)
{
	p[0] = joliet ? 2 : 1;
	memcpy(p + 1, "CD001", 5);
	p[6] = 1;
	text_field(p + 8, 32, "", joliet);     /* system */
	text_field(p + 40, 32, label, joliet); /* volume */
	both32(p + 80, sectors);
	if (joliet)
		memcpy(p + 88, "%/E", 3); /* UCS-2 level 3 */
	both16(p + 120, 1);		  /* volume set size */
	both16(p + 124, 1);		  /* volume sequence number */
	both16(p + 128, ISO_SECTOR);
	both32(p + 132, PATH_TABLE_SIZE);
	uint32_t tables = PATH_TABLES + (joliet ? 2 : 0);
	le32(p + 140, tables);
	be32(p + 148, tables + 1);
	static const uint8_t root_id = 0;
	dir_record(p + 156, joliet ? ROOT_JOLIET : ROOT_PRIMARY, ISO_SECTOR, true, &root_id, 1, d);
	text_field(p + 190, 128, "", joliet); /* volume set */
	text_field(p + 318, 128, "", joliet); /* publisher */
	text_field(p + 446, 128, "", joliet); /* data preparer */
	text_field(p + 574, 128, "KEEL", joliet);
	text_field(p + 702, 37, "", joliet);	 /* copyright file */
	text_field(p + 739, 37, "", joliet);	 /* abstract file */
	text_field(p + 776, 37, "", joliet);	 /* bibliographic file */
	memcpy(p + 813, d->volume, 17);		 /* created */
	memcpy(p + 830, d->volume, 17);		 /* modified */
	memcpy(p + 847, "0000000000000000", 16); /* expires: never */
	memcpy(p + 864, d->volume, 17);		 /* effective */
	p[881] = 1;				 /* file structure version */
}

/* The root's path table record, little-endian (L) or big-endian (M). */
static void path_table(uint8_t *p, uint32_t root, bool big)
{
	p[0] = 1;
	(big ? be32 : le32)(p + 2, root);
	p[big ? 7 : 6] = 1; /* parent: the root itself */
}

/* One character of a level 1 name: A-Z 0-9 _ */
static uint8_t d_character(char c)
{
	if (c >= 'a' && c <= 'z')
		return (uint8_t)(c - 'a' + 'A');
	return (c >= '0' && c <= '9') ? (uint8_t)c : '_';
}

/* A file's name in ISO level 1: upper case, at most 8 + 3, ";1". */
static size_t level1_name(const char *name, uint8_t out[LEVEL1_MAX])
{
	const char *dot = strrchr(name, '.');
	size_t base = dot ? (size_t)(dot - name) : strlen(name), n = 0;
	for (size_t i = 0; i < base && i < 8; i++)
		out[n++] = d_character(name[i]);
	out[n++] = '.';
	for (size_t i = 0; dot && dot[1 + i] && i < 3; i++)
		out[n++] = d_character(dot[1 + i]);
	memcpy(out + n, ";1", 2);
	return n + 2;
}

/* A file's name for Joliet: UCS-2BE with ";1". */
static size_t joliet_name(const char *name, uint8_t out[JOLIET_MAX])
{
	size_t n = 0;
	for (const char *s = name; *s; s++) {
		out[n++] = 0;
		out[n++] = (uint8_t)*s;
	}
	memcpy(out + n,
	       "\0;\0"
	       "1",
	       4);
	return n + 4;
}

static bool name_valid(const char *s)
{
	size_t n = strlen(s);
	if (n < 1 || n > ISO_NAME_MAX || strcmp(s, ".") == 0 || strcmp(s, "..") == 0)
		return false;
	return strspn(s, "abcdefghijklmnopqrstuvwxyz0123456789._-") == n;
}

static bool label_valid(const char *s)
{
	size_t n = strlen(s);
	return n >= 1 && n <= ISO_LABEL_MAX &&
	       strspn(s, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-") == n;
}

struct entry {
	uint8_t id[JOLIET_MAX];
	size_t idlen;
	uint32_t extent, size;
};

static int by_id(const void *a, const void *b)
{
	const struct entry *x = a, *y = b;
	size_t n = x->idlen < y->idlen ? x->idlen : y->idlen;
	int c = memcmp(x->id, y->id, n);
	return c ? c : (x->idlen > y->idlen) - (x->idlen < y->idlen);
}

/* A root directory: ".", "..", then the entries sorted by identifier. */
static void root_directory(uint8_t *p, uint32_t self, struct entry *e, size_t n,
			   const struct iso_dates *d)
{
	static const uint8_t dot = 0, dotdot = 1;
	p += dir_record(p, self, ISO_SECTOR, true, &dot, 1, d);
	p += dir_record(p, self, ISO_SECTOR, true, &dotdot, 1, d);
	qsort(e, n, sizeof(*e), by_id);
	for (size_t i = 0; i < n; i++)
		p += dir_record(p, e[i].extent, e[i].size, false, e[i].id, e[i].idlen, d);
}

int isoimage_build(const char *label, const struct iso_file *files, size_t nfiles, time_t when,
		   uint8_t **out, size_t *outlen, char *err, size_t errlen)
{
	if (!label_valid(label))
		return errorf(err, errlen, "volume label: 1 to %d of A-Z a-z 0-9 _ -",
			      ISO_LABEL_MAX);
	if (nfiles > ISO_MAX_FILES)
		return errorf(err, errlen, "at most %d files", ISO_MAX_FILES);
	struct entry primary[ISO_MAX_FILES], joliet[ISO_MAX_FILES];
	uint32_t sectors = ISO_FIRST_DATA;
	for (size_t i = 0; i < nfiles; i++) {
		if (!name_valid(files[i].name))
			return errorf(err, errlen, "file name: 1 to %d of a-z 0-9 . _ -",
				      ISO_NAME_MAX);
		if (files[i].len > ISO_FILE_MAX)
			return errorf(err, errlen, "%s: over %u bytes", files[i].name,
				      ISO_FILE_MAX);
		uint32_t size = (uint32_t)files[i].len;
		primary[i].extent = joliet[i].extent = size ? sectors : 0;
		primary[i].size = joliet[i].size = size;
		sectors += (size + ISO_SECTOR - 1) / ISO_SECTOR;
		primary[i].idlen = level1_name(files[i].name, primary[i].id);
		joliet[i].idlen = joliet_name(files[i].name, joliet[i].id);
		for (size_t j = 0; j < i; j++)
			if (by_id(&primary[i], &primary[j]) == 0)
				return errorf(err, errlen, "%s and %s: the same ISO 9660 name",
					      files[j].name, files[i].name);
	}
	sectors += ISO_PADDING;
	size_t len = (size_t)sectors * ISO_SECTOR;
	uint8_t *img = calloc(1, len);
	if (!img)
		return errorf(err, errlen, "out of memory");
	struct iso_dates d;
	make_dates(when, &d);
	volume_descriptor(img + PVD_SECTOR * ISO_SECTOR, false, label, sectors, &d);
	volume_descriptor(img + SVD_SECTOR * ISO_SECTOR, true, label, sectors, &d);
	uint8_t *t = img + TERMINATOR_SECTOR * ISO_SECTOR;
	t[0] = 255;
	memcpy(t + 1, "CD001", 5);
	t[6] = 1;
	path_table(img + PATH_TABLES * ISO_SECTOR, ROOT_PRIMARY, false);
	path_table(img + (PATH_TABLES + 1) * ISO_SECTOR, ROOT_PRIMARY, true);
	path_table(img + (PATH_TABLES + 2) * ISO_SECTOR, ROOT_JOLIET, false);
	path_table(img + (PATH_TABLES + 3) * ISO_SECTOR, ROOT_JOLIET, true);
	for (size_t i = 0; i < nfiles; i++)
		if (files[i].len)
			memcpy(img + (size_t)primary[i].extent * ISO_SECTOR, files[i].data,
			       files[i].len);
	root_directory(img + ROOT_PRIMARY * ISO_SECTOR, ROOT_PRIMARY, primary, nfiles, &d);
	root_directory(img + ROOT_JOLIET * ISO_SECTOR, ROOT_JOLIET, joliet, nfiles, &d);
	*out = img;
	*outlen = len;
	return 0;
}
