#include "vmm/fwcfg.h"

#include <endian.h>
#include <stdlib.h>
#include <string.h>

#define ID_TRADITIONAL 0x01
#define ID_DMA	       0x02
#define DIR_ENTRY      (4 + 2 + 2 + FWCFG_NAME_SIZE)

static const uint8_t dma_signature[8] = {'Q', 'E', 'M', 'U', ' ', 'C', 'F', 'G'};

static int find(const struct fwcfg *f, uint16_t key)
{
	for (unsigned i = 0; i < f->nitems; i++)
		if (f->items[i].key == key)
			return (int)i;
	return -1;
}

/* sets item i's data to a copy of len bytes */
static int set_data(struct fwcfg_item *it, const void *data, uint32_t len)
{
	uint8_t *copy = malloc(len ? len : 1);
	if (!copy)
		return -1;
	if (len)
		memcpy(copy, data, len);
	free(it->data);
	it->data = copy;
	it->len = len;
	return 0;
}

static int add(struct fwcfg *f, uint16_t key, const char *name, const void *data, uint32_t len)
{
	if (f->nitems == FWCFG_MAX_ITEMS || len > FWCFG_MAX_ITEM_SZ || find(f, key) >= 0)
		return -1;
	struct fwcfg_item *it = &f->items[f->nitems];
	memset(it, 0, sizeof(*it));
	it->key = key;
	strcpy(it->name, name); /* checked by the caller */
	if (set_data(it, data, len) < 0)
		return -1;
	f->nitems++;
	return 0;
}

/* FWCFG_FILE_DIR again, from the named items */
static int rebuild_dir(struct fwcfg *f)
{
	uint32_t len = 4 + (uint32_t)f->nfiles * DIR_ENTRY;
	uint8_t *dir = calloc(1, len);
	if (!dir)
		return -1;
	uint32_t count = htobe32(f->nfiles);
	memcpy(dir, &count, 4);
	uint8_t *p = dir + 4;
	for (unsigned i = 0; i < f->nitems; i++) {
		const struct fwcfg_item *it = &f->items[i];
		if (!it->name[0])
			continue;
		uint32_t size = htobe32(it->len);
		uint16_t key = htobe16(it->key);
		memcpy(p, &size, 4);
		memcpy(p + 4, &key, 2);
		memcpy(p + 8, it->name, FWCFG_NAME_SIZE);
		p += DIR_ENTRY;
	}
	int rc = set_data(&f->items[find(f, FWCFG_FILE_DIR)], dir, len);
	free(dir);
	return rc;
}

int fwcfg_init(struct fwcfg *f, const struct gmem *mem)
{
	memset(f, 0, sizeof(*f));
	f->mem = mem;
	f->cur = -1;
	uint32_t id = htole32(ID_TRADITIONAL | ID_DMA);
	if (add(f, FWCFG_SIGNATURE, "", "QEMU", 4) < 0 || add(f, FWCFG_ID, "", &id, 4) < 0 ||
	    add(f, FWCFG_FILE_DIR, "", NULL, 0) < 0 || rebuild_dir(f) < 0) {
		fwcfg_free(f);
		return -1;
	}
	return 0;
}

void fwcfg_free(struct fwcfg *f)
{
	for (unsigned i = 0; i < f->nitems; i++)
		free(f->items[i].data);
	f->nitems = 0;
}

int fwcfg_add(struct fwcfg *f, uint16_t key, const void *data, uint32_t len)
{
	if (key >= FWCFG_FILE_FIRST)
		return -1;
	return add(f, key, "", data, len);
}

int fwcfg_add_file(struct fwcfg *f, const char *name, const void *data, uint32_t len)
{
	size_t n = strlen(name);
	if (n == 0 || n >= FWCFG_NAME_SIZE || f->nfiles == FWCFG_MAX_ITEMS)
		return -1;
	for (unsigned i = 0; i < f->nitems; i++)
		if (strcmp(f->items[i].name, name) == 0)
			return -1;
	if (add(f, (uint16_t)(FWCFG_FILE_FIRST + f->nfiles), name, data, len) < 0)
		return -1;
	f->nfiles++;
	if (rebuild_dir(f) < 0) { /* undone: the directory still lists the others */
		free(f->items[--f->nitems].data);
		f->nfiles--;
		return -1;
	}
	return 0;
}

static void select_key(struct fwcfg *f, uint16_t key)
{
	f->cur = find(f, key);
	f->off = 0;
}

/* the selected item's bytes left from its offset (0 with none) */
static uint32_t left(const struct fwcfg *f)
{
	if (f->cur < 0)
		return 0;
	const struct fwcfg_item *it = &f->items[f->cur];
	return f->off < it->len ? it->len - f->off : 0;
}

/* One DMA access at guest address gpa (16 bytes: control, length, address). */
static void dma(struct fwcfg *f, uint64_t gpa)
{
	uint8_t *acc = gmem_ptr(f->mem, gpa, 16);
	if (!acc)
		return; /* nowhere to say so */
	uint32_t control, length;
	uint64_t address;
	memcpy(&control, acc, 4);
	memcpy(&length, acc + 4, 4);
	memcpy(&address, acc + 8, 8);
	control = be32toh(control);
	length = be32toh(length);
	address = be64toh(address);

	uint32_t result = 0;
	if (control & FWCFG_DMA_SELECT)
		select_key(f, (uint16_t)(control >> 16));
	if (control & FWCFG_DMA_WRITE) {
		result = FWCFG_DMA_ERROR; /* nothing here is writable */
	} else if (control & FWCFG_DMA_READ) {
		uint8_t *dst = gmem_ptr(f->mem, address, length);
		if (!dst) {
			result = FWCFG_DMA_ERROR;
		} else {
			uint32_t n = left(f) < length ? left(f) : length;
			if (n)
				memcpy(dst, f->items[f->cur].data + f->off, n);
			memset(dst + n, 0, length - n);
			f->off += n;
		}
	} else if (control & FWCFG_DMA_SKIP) {
		f->off += left(f) < length ? left(f) : length;
	}
	/* the data before the answer, for a vCPU that polls it */
	__atomic_thread_fence(__ATOMIC_RELEASE);
	uint32_t done = htobe32(result);
	memcpy(acc, &done, 4);
}

void fwcfg_io(void *opaque, uint16_t port, unsigned size, bool write, uint8_t *data)
{
	struct fwcfg *f = opaque;
	if (port == FWCFG_PORT_SEL && write) {
		uint16_t key = data[0];
		if (size >= 2)
			key |= (uint16_t)(data[1] << 8);
		select_key(f, key);
		return;
	}
	if (port == FWCFG_PORT_DATA && !write) {
		memset(data, 0, size);
		if (left(f)) /* one byte per access, as on QEMU's port */
			data[0] = f->items[f->cur].data[f->off++];
		return;
	}
	if (port < FWCFG_PORT_DMA || port >= FWCFG_PORT_DMA + 8) {
		if (!write)
			memset(data, 0xff, size);
		return;
	}
	unsigned at = port - FWCFG_PORT_DMA;
	for (unsigned i = 0; i < size; i++) {
		if (at + i >= 8) {
			if (!write)
				data[i] = 0xff;
		} else if (write) {
			f->dma[at + i] = data[i];
		} else {
			data[i] = dma_signature[at + i];
		}
	}
	/* the low half's last byte written: the access starts */
	if (write && at < 8 && at + size >= 8) {
		uint64_t gpa;
		memcpy(&gpa, f->dma, 8);
		dma(f, be64toh(gpa));
	}
}
