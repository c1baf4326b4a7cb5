#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "vmm/fwcfg.h"
#include "vmm/portio.h"

#include <endian.h>
#include <stdlib.h>
#include <string.h>

/* 1 MiB of guest RAM, behind a port table as keel-vmm wires it */
#define RAM (1u << 20)

struct rig {
	struct gmem mem;
	struct fwcfg f;
	struct portio_table ports;
};

static int setup(void **state)
{
	struct rig *r = calloc(1, sizeof(*r));
	r->mem = (struct gmem){.host = calloc(1, RAM), .size = RAM, .low = RAM};
	assert_int_equal(fwcfg_init(&r->f, &r->mem), 0);
	assert_int_equal(portio_register(&r->ports, FWCFG_PORT_SEL, FWCFG_PORTS, fwcfg_io, &r->f),
			 0);
	*state = r;
	return 0;
}

static int teardown(void **state)
{
	struct rig *r = *state;
	fwcfg_free(&r->f);
	free(r->mem.host);
	free(r);
	return 0;
}

static void out16(struct rig *r, uint16_t port, uint16_t v)
{
	uint8_t d[2] = {(uint8_t)v, (uint8_t)(v >> 8)};
	portio_dispatch(&r->ports, port, 2, true, d);
}

static void out32(struct rig *r, uint16_t port, uint32_t v)
{
	portio_dispatch(&r->ports, port, 4, true, (uint8_t *)&v);
}

static uint8_t in8(struct rig *r, uint16_t port)
{
	uint8_t d = 0;
	portio_dispatch(&r->ports, port, 1, false, &d);
	return d;
}

/* n bytes of the item `key` through the data port */
static void read_item(struct rig *r, uint16_t key, uint8_t *out, size_t n)
{
	out16(r, FWCFG_PORT_SEL, key);
	for (size_t i = 0; i < n; i++)
		out[i] = in8(r, FWCFG_PORT_DATA);
}

/* a DMA access at gpa `at`, started as OVMF does: two 32-bit writes, each
 * holding its half's big-endian bytes; returns the control word after */
static uint32_t dma(struct rig *r, uint64_t at, uint32_t control, uint32_t length, uint64_t addr)
{
	if (at <= RAM - 16) {
		uint32_t c = htobe32(control), l = htobe32(length);
		uint64_t a = htobe64(addr);
		memcpy(r->mem.host + at, &c, 4);
		memcpy(r->mem.host + at + 4, &l, 4);
		memcpy(r->mem.host + at + 8, &a, 8);
	}
	out32(r, FWCFG_PORT_DMA, htobe32((uint32_t)(at >> 32)));
	out32(r, FWCFG_PORT_DMA + 4, htobe32((uint32_t)at));
	uint32_t c = 0xffffffff;
	if (at <= RAM - 16)
		memcpy(&c, r->mem.host + at, 4);
	return be32toh(c);
}

static void test_signature_and_interfaces(void **state)
{
	struct rig *r = *state;
	uint8_t sig[6];
	read_item(r, FWCFG_SIGNATURE, sig, 6);
	assert_memory_equal(sig, "QEMU\0\0", 6); /* zeros past the end */
	uint8_t id[4];
	read_item(r, FWCFG_ID, id, 4);
	assert_int_equal(id[0], 0x03); /* traditional and DMA */
	uint8_t dsig[8];
	for (int i = 0; i < 8; i++)
		dsig[i] = in8(r, (uint16_t)(FWCFG_PORT_DMA + i));
	assert_memory_equal(dsig, "QEMU CFG", 8);
	/* no such item: zeros */
	uint8_t none[2] = {1, 1};
	read_item(r, 0x1234, none, 2);
	assert_int_equal(none[0] | none[1], 0);
}

static void test_files_in_the_directory(void **state)
{
	struct rig *r = *state;
	uint64_t ram = htole64(RAM);
	assert_int_equal(fwcfg_add(&r->f, FWCFG_RAM_SIZE, &ram, 8), 0);
	assert_int_equal(fwcfg_add_file(&r->f, "etc/table-loader", "abc", 3), 0);
	assert_int_equal(fwcfg_add_file(&r->f, "bootorder", "/pci@i0cf8/x\n", 13), 0);
	/* refused: a key or name taken, names empty or too long, file keys */
	assert_int_equal(fwcfg_add(&r->f, FWCFG_RAM_SIZE, &ram, 8), -1);
	assert_int_equal(fwcfg_add(&r->f, FWCFG_FILE_DIR, "x", 1), -1);
	assert_int_equal(fwcfg_add(&r->f, FWCFG_FILE_FIRST, "x", 1), -1);
	assert_int_equal(fwcfg_add_file(&r->f, "bootorder", "", 0), -1);
	assert_int_equal(fwcfg_add_file(&r->f, "", "", 0), -1);
	char longname[FWCFG_NAME_SIZE + 1];
	memset(longname, 'a', sizeof(longname) - 1);
	longname[FWCFG_NAME_SIZE] = '\0';
	assert_int_equal(fwcfg_add_file(&r->f, longname, "", 0), -1);
	longname[FWCFG_NAME_SIZE - 1] = '\0'; /* 55: fits with its NUL */
	assert_int_equal(fwcfg_add_file(&r->f, longname, "", 0), 0);

	uint8_t dir[4 + 3 * 64];
	read_item(r, FWCFG_FILE_DIR, dir, sizeof(dir));
	uint32_t count;
	memcpy(&count, dir, 4);
	assert_int_equal(be32toh(count), 3);
	const uint8_t *e = dir + 4 + 64; /* the second: bootorder */
	uint32_t size;
	uint16_t key;
	memcpy(&size, e, 4);
	memcpy(&key, e + 4, 2);
	assert_int_equal(be32toh(size), 13);
	assert_string_equal((const char *)e + 8, "bootorder");
	uint8_t text[13];
	read_item(r, be16toh(key), text, 13);
	assert_memory_equal(text, "/pci@i0cf8/x\n", 13);
	uint8_t got[8];
	read_item(r, FWCFG_RAM_SIZE, got, 8);
	assert_memory_equal(got, &ram, 8);
}

static void test_dma_read_select_skip(void **state)
{
	struct rig *r = *state;
	assert_int_equal(fwcfg_add_file(&r->f, "etc/x", "0123456789", 10), 0);
	uint16_t key = FWCFG_FILE_FIRST;
	memset(r->mem.host + 0x2000, 0xee, 32);
	/* select and read 4 */
	uint32_t ctl = (uint32_t)key << 16 | FWCFG_DMA_SELECT | FWCFG_DMA_READ;
	assert_int_equal(dma(r, 0x1000, ctl, 4, 0x2000), 0);
	assert_memory_equal(r->mem.host + 0x2000, "0123", 4);
	/* skip 2, then read past the end: the rest is zeros */
	assert_int_equal(dma(r, 0x1000, FWCFG_DMA_SKIP, 2, 0), 0);
	assert_int_equal(dma(r, 0x1000, FWCFG_DMA_READ, 8, 0x2000), 0);
	assert_memory_equal(r->mem.host + 0x2000, "6789\0\0\0\0", 8);
	assert_int_equal(r->mem.host[0x2008], 0xee); /* nothing past length */
	/* the data port goes on from there: the end */
	assert_int_equal(in8(r, FWCFG_PORT_DATA), 0);
}

static void test_dma_hostile(void **state)
{
	struct rig *r = *state;
	uint32_t rd = (uint32_t)FWCFG_SIGNATURE << 16 | FWCFG_DMA_SELECT | FWCFG_DMA_READ;
	/* data outside RAM, or running past it, or wrapping: an error, nothing written */
	assert_int_equal(dma(r, 0x1000, rd, 16, RAM - 8), FWCFG_DMA_ERROR);
	assert_int_equal(dma(r, 0x1000, rd, 0xffffffff, 0x2000), FWCFG_DMA_ERROR);
	assert_int_equal(dma(r, 0x1000, rd, 16, UINT64_MAX - 4), FWCFG_DMA_ERROR);
	assert_int_equal(dma(r, 0x1000, rd, 4, (uint64_t)1 << 40), FWCFG_DMA_ERROR);
	/* the access itself outside RAM: ignored, keel-vmm goes on */
	dma(r, RAM - 8, rd, 4, 0x2000);
	dma(r, UINT64_MAX - 7, rd, 4, 0x2000);
	/* a write: no item is writable */
	assert_int_equal(dma(r, 0x1000, FWCFG_DMA_SELECT | FWCFG_DMA_WRITE, 4, 0x2000),
			 FWCFG_DMA_ERROR);
	uint8_t sig[4];
	read_item(r, FWCFG_SIGNATURE, sig, 4);
	assert_memory_equal(sig, "QEMU", 4);
	/* the last 16 bytes of RAM are a valid access; a read to the access itself */
	assert_int_equal(dma(r, RAM - 16, rd, 16, RAM - 16), 0);
	assert_memory_equal(r->mem.host + RAM - 16 + 4, "\0\0\0\0", 4);
	/* a wide read of the selector port, unused ports: all ones */
	uint8_t d[4];
	portio_dispatch(&r->ports, FWCFG_PORT_SEL, 4, false, d);
	assert_memory_equal(d, "\xff\xff\xff\xff", 4);
	portio_dispatch(&r->ports, FWCFG_PORT_DMA + 6, 4, false, d);
	assert_memory_equal(d, "FG\xff\xff", 4);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_signature_and_interfaces, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_files_in_the_directory, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_dma_read_select_skip, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_dma_hostile, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
