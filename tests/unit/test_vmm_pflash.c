/* The UEFI variable store's flash (vmm/pflash.h): OVMF's own detection
 * sequence finds a writable flash, programs and erases reach the file and
 * are made durable on the way back to read-array mode, the chip leaves the
 * guest's memory map exactly while it is not in read-array mode, and no
 * access outside the chip is taken. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "vmm/pflash.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define GPA  0xffc00000ull
#define SIZE (4 * PFLASH_BLOCK)

static struct pflash f;
static int fd, maps, unmaps;
static bool mapped;

static int fake_map(void *opaque, bool on)
{
	(void)opaque;
	mapped = on;
	*(on ? &maps : &unmaps) += 1;
	return 0;
}

static int setup(void **state)
{
	(void)state;
	char path[] = "/tmp/keel-pflash-XXXXXX";
	fd = mkstemp(path);
	assert_true(fd >= 0);
	unlink(path);
	uint8_t block[PFLASH_BLOCK];
	for (unsigned b = 0; b < SIZE / PFLASH_BLOCK; b++) {
		memset(block, 0x11 * (b + 1), sizeof(block));
		assert_int_equal(pwrite(fd, block, sizeof(block), b * PFLASH_BLOCK), PFLASH_BLOCK);
	}
	assert_int_equal(pflash_init(&f, fd, SIZE, GPA), 0);
	f.map = fake_map;
	mapped = true;
	maps = unmaps = 0;
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	pflash_free(&f);
	close(fd);
	return 0;
}

/* what the guest sees at addr: the mapping while mapped, else MMIO */
static uint8_t rd(uint64_t addr)
{
	uint8_t v = 0;
	if (mapped)
		return f.mem[addr - GPA];
	assert_true(pflash_mmio(&f, addr, 1, false, &v));
	return v;
}

static void wr(uint64_t addr, uint8_t v)
{
	assert_true(pflash_mmio(&f, addr, 1, true, &v));
}

static uint8_t file_byte(off_t off)
{
	uint8_t v;
	assert_int_equal(pread(fd, &v, 1, off), 1);
	return v;
}

/* OvmfPkg/QemuFlashFvbServicesRuntimeDxe's QemuFlashDetected, step by step */
static void test_ovmf_detects_a_writable_flash(void **state)
{
	(void)state;
	uint64_t p = GPA + 5;
	uint8_t original = rd(p);
	assert_int_equal(original, 0x11);
	wr(p, 0x50);			   /* clear status */
	assert_int_equal(rd(p), original); /* not RAM: the array again */
	wr(p, 0x70);			   /* read status */
	assert_false(mapped);
	assert_int_equal(rd(p), 0x00); /* cleared: a flash */
	wr(p, 0x10);		       /* program the same byte */
	wr(p, original);
	wr(p, 0x70);
	assert_int_equal(rd(p) & 0x10, 0); /* no programming error: writable */
	wr(p, 0xff);
	assert_true(mapped);
	assert_int_equal(rd(p), original);
	assert_int_equal(maps, unmaps);
}

static void test_program_and_erase_reach_the_file(void **state)
{
	(void)state;
	const uint8_t data[] = "KEEL";
	for (unsigned i = 0; i < 4; i++) {
		wr(GPA + PFLASH_BLOCK + 100 + i, 0x10);
		wr(GPA + PFLASH_BLOCK + 100 + i, data[i]);
		assert_false(mapped);
		assert_int_equal(rd(GPA + PFLASH_BLOCK + 100 + i) & 0x80, 0x80); /* ready */
	}
	wr(GPA + PFLASH_BLOCK + 103, 0xff);
	assert_true(mapped);
	assert_memory_equal(f.mem + PFLASH_BLOCK + 100, "KEEL", 4);
	assert_int_equal(file_byte(PFLASH_BLOCK + 102), 'E');
	/* erase the third block, from an address inside it */
	wr(GPA + 2 * PFLASH_BLOCK + 77, 0x20);
	wr(GPA + 2 * PFLASH_BLOCK + 77, 0xd0);
	wr(GPA, 0xff);
	for (unsigned off = 0; off < SIZE; off += 511)
		assert_int_equal(file_byte(off), off / PFLASH_BLOCK == 2 ? 0xff
						 : off / PFLASH_BLOCK == 1 &&
							 off >= PFLASH_BLOCK + 100 &&
							 off < PFLASH_BLOCK + 104
						     ? data[off - PFLASH_BLOCK - 100]
						     : 0x11 * (off / PFLASH_BLOCK + 1));
	/* an erase not confirmed is an error in the status, and erases nothing */
	wr(GPA + 3 * PFLASH_BLOCK, 0x20);
	wr(GPA + 3 * PFLASH_BLOCK, 0x00);
	assert_int_equal(rd(GPA + 3 * PFLASH_BLOCK) & 0x30, 0x30);
	wr(GPA, 0xff);
	assert_int_equal(file_byte(3 * PFLASH_BLOCK), 0x44);
}

static void test_outside_the_chip(void **state)
{
	(void)state;
	uint8_t v[8] = {0x10};
	assert_false(pflash_mmio(&f, GPA - 1, 1, true, v));
	assert_false(pflash_mmio(&f, GPA + SIZE, 1, false, v));
	assert_false(pflash_mmio(&f, GPA + SIZE - 4, 8, false, v)); /* runs past its end */
	assert_false(pflash_mmio(&f, UINT64_MAX, 1, true, v));
	assert_false(pflash_mmio(&f, GPA, 0, false, v));
	/* a chip of no whole number of blocks is refused */
	struct pflash g;
	assert_int_equal(pflash_init(&g, fd, SIZE - 1, GPA), -1);
	assert_int_equal(pflash_init(&g, fd, 0, GPA), -1);
	assert_true(mapped);
	assert_int_equal(maps + unmaps, 0);
	/* identification, CFI query and the like: back to the array */
	wr(GPA, 0x70);
	wr(GPA, 0x90);
	assert_true(mapped);
	wr(GPA, 0x98);
	assert_true(mapped);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_ovmf_detects_a_writable_flash, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_program_and_erase_reach_the_file, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_outside_the_chip, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
