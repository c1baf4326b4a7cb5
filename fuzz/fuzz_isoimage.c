/* libFuzzer target: keel-hostd's ISO 9660 writer (src/hostd/isoimage.c)
 * with hostile labels, file names, counts and contents (in a VM's seed
 * they come from API users). An image it makes is as long as its files
 * need, carries the label in both volume descriptors, and its Joliet root
 * directory leads to each file's exact bytes. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "hostd/isoimage.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* The next `n` bytes of the input, or NULL when it ends. */
static const uint8_t *take(const uint8_t **data, size_t *size, size_t n)
{
	if (*size < n)
		return NULL;
	const uint8_t *p = *data;
	*data += n;
	*size -= n;
	return p;
}

static uint32_t le32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

/* The Joliet record of `name`, or NULL. */
static const uint8_t *joliet_record(const uint8_t *img, const char *name)
{
	const uint8_t *svd = img + 17 * ISO_SECTOR;
	const uint8_t *dir = img + (size_t)le32(svd + 156 + 2) * ISO_SECTOR;
	size_t n = strlen(name);
	for (size_t off = 0; off < ISO_SECTOR && dir[off]; off += dir[off]) {
		const uint8_t *r = dir + off;
		if (r[32] != 2 * n + 4)
			continue;
		size_t i = 0;
		while (i < n && r[33 + 2 * i] == 0 && r[34 + 2 * i] == (uint8_t)name[i])
			i++;
		if (i == n)
			return r;
	}
	return NULL;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char label[32] = "", names[ISO_MAX_FILES + 2][64];
	struct iso_file files[ISO_MAX_FILES + 2];
	const uint8_t *p = take(&data, &size, 2);
	if (!p)
		return 0;
	size_t nfiles = p[0] % (ISO_MAX_FILES + 2), label_len = p[1] % sizeof(label);
	const uint8_t *l = take(&data, &size, label_len);
	if (!l)
		return 0;
	memcpy(label, l, label_len); /* (a NUL inside ends it early) */
	for (size_t i = 0; i < nfiles; i++) {
		const uint8_t *h = take(&data, &size, 3);
		const uint8_t *name = h ? take(&data, &size, h[0] % sizeof(names[i])) : NULL;
		size_t len = h ? (size_t)h[1] << 8 | h[2] : 0;
		if (len > size)
			len = size;
		const uint8_t *body = name ? take(&data, &size, len) : NULL;
		if (!body)
			return 0;
		memset(names[i], 0, sizeof(names[i]));
		memcpy(names[i], name, h[0] % sizeof(names[i]));
		files[i] = (struct iso_file){names[i], body, len};
	}
	uint8_t *img;
	size_t len;
	if (isoimage_build(label, files, nfiles, 0, &img, &len, NULL, 0) < 0)
		return 0;
	size_t sectors = ISO_FIRST_DATA + ISO_PADDING;
	for (size_t i = 0; i < nfiles; i++)
		sectors += (files[i].len + ISO_SECTOR - 1) / ISO_SECTOR;
	if (len != sectors * ISO_SECTOR || memcmp(img + 16 * ISO_SECTOR + 1, "CD001", 5) != 0 ||
	    memcmp(img + 16 * ISO_SECTOR + 40, label, strlen(label)) != 0)
		abort();
	for (size_t i = 0; i < nfiles; i++) {
		const uint8_t *r = joliet_record(img, files[i].name);
		if (!r || le32(r + 10) != files[i].len)
			abort();
		size_t at = (size_t)le32(r + 2) * ISO_SECTOR;
		if (files[i].len &&
		    (at + files[i].len > len || memcmp(img + at, files[i].data, files[i].len) != 0))
			abort();
	}
	free(img);
	return 0;
}
