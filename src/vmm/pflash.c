#include "vmm/pflash.h"

#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "common/log.h"

#define CMD_PROGRAM	  0x10
#define CMD_PROGRAM_ALT	  0x40
#define CMD_ERASE	  0x20
#define CMD_CLEAR_STATUS  0x50
#define CMD_READ_STATUS	  0x70
#define CMD_ERASE_CONFIRM 0xd0
#define CMD_READ_ARRAY	  0xff

#define STATUS_READY	   0x80
#define STATUS_ERASE_ERROR 0x20
#define STATUS_WRITE_ERROR 0x10

int pflash_init(struct pflash *f, int fd, size_t size, uint64_t gpa)
{
	memset(f, 0, sizeof(*f));
	f->fd = fd;
	f->size = size;
	f->gpa = gpa;
	f->status = STATUS_READY;
	if (size == 0 || size % PFLASH_BLOCK) { /* an erase writes whole blocks */
		log_msg("nvram: %zu bytes is not a whole number of %u-byte blocks", size,
			PFLASH_BLOCK);
		return -1;
	}
	void *m = mmap(NULL, size, PROT_READ, MAP_SHARED, fd, 0);
	if (m == MAP_FAILED) {
		log_errno("nvram: cannot map it");
		return -1;
	}
	f->mem = m;
	return 0;
}

void pflash_free(struct pflash *f)
{
	if (f->mem)
		munmap((void *)f->mem, f->size);
	f->mem = NULL;
}

static void set_mode(struct pflash *f, enum pflash_mode mode)
{
	if (mode == PFLASH_ARRAY && f->dirty) {
		if (fdatasync(f->fd) < 0)
			log_errno("nvram: fdatasync");
		f->dirty = false;
	}
	if ((mode == PFLASH_ARRAY) != (f->mode == PFLASH_ARRAY) && f->map &&
	    f->map(f->opaque, mode == PFLASH_ARRAY) < 0)
		log_msg("nvram: cannot %smap the flash", mode == PFLASH_ARRAY ? "" : "un");
	f->mode = mode;
}

/* Writes len bytes at offset off of the chip (checked by the caller). */
static void store(struct pflash *f, const void *data, size_t len, size_t off)
{
	if (pwrite(f->fd, data, len, (off_t)off) != (ssize_t)len) {
		log_errno("nvram: write at %zu", off);
		f->status |= STATUS_WRITE_ERROR;
		return;
	}
	f->dirty = true;
}

static void command(struct pflash *f, size_t off, uint8_t v)
{
	switch (f->mode) {
	case PFLASH_PROGRAM:
		store(f, &v, 1, off);
		f->status |= STATUS_READY;
		set_mode(f, PFLASH_STATUS);
		return;
	case PFLASH_ERASE:
		if (v == CMD_ERASE_CONFIRM) {
			static const uint8_t erased[PFLASH_BLOCK] = {[0 ... PFLASH_BLOCK - 1] =
									 0xff};
			store(f, erased, PFLASH_BLOCK, off - off % PFLASH_BLOCK);
		} else {
			f->status |= STATUS_ERASE_ERROR | STATUS_WRITE_ERROR;
		}
		f->status |= STATUS_READY;
		set_mode(f, PFLASH_STATUS);
		return;
	default:
		break;
	}
	switch (v) {
	case CMD_PROGRAM:
	case CMD_PROGRAM_ALT:
		set_mode(f, PFLASH_PROGRAM);
		break;
	case CMD_ERASE:
		set_mode(f, PFLASH_ERASE);
		break;
	case CMD_CLEAR_STATUS:
		f->status = 0;
		set_mode(f, PFLASH_ARRAY);
		break;
	case CMD_READ_STATUS:
		set_mode(f, PFLASH_STATUS);
		break;
	default: /* read array, and what this chip does not do */
		set_mode(f, PFLASH_ARRAY);
		break;
	}
}

bool pflash_mmio(struct pflash *f, uint64_t addr, unsigned len, bool write, uint8_t *data)
{
	if (!f->mem || addr < f->gpa || addr - f->gpa >= f->size || len == 0 ||
	    len > f->size - (addr - f->gpa))
		return false;
	size_t off = (size_t)(addr - f->gpa);
	if (write) {
		command(f, off, data[0]);
		return true;
	}
	if (f->mode == PFLASH_ARRAY)
		memcpy(data, f->mem + off, len);
	else
		for (unsigned i = 0; i < len; i++)
			data[i] = f->status;
	return true;
}
