#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/util.h"
#include "init/disk.h"

static void test_uevent_parse_ok(void **state)
{
	(void)state;
	char dev[64], part[72];
	const char *text = "MAJOR=252\n"
			   "MINOR=17\n"
			   "DEVNAME=vdb1\n"
			   "DEVTYPE=partition\n"
			   "PARTN=1\n"
			   "PARTNAME=KEEL-CONFIG\n";
	assert_int_equal(uevent_parse(text, dev, sizeof(dev), part, sizeof(part)), 0);
	assert_string_equal(dev, "vdb1");
	assert_string_equal(part, "KEEL-CONFIG");

	/* order does not matter, no trailing newline */
	assert_int_equal(
	    uevent_parse("PARTNAME=KEEL-ESP\nDEVNAME=sda1", dev, sizeof(dev), part, sizeof(part)),
	    0);
	assert_string_equal(dev, "sda1");
	assert_string_equal(part, "KEEL-ESP");
}

static void test_uevent_parse_missing(void **state)
{
	(void)state;
	char dev[64], part[72];
	assert_int_equal(uevent_parse("MAJOR=8\nDEVNAME=sda\nDEVTYPE=disk\n", dev, sizeof(dev),
				      part, sizeof(part)),
			 -1);
	assert_int_equal(uevent_parse("PARTNAME=KEEL-ESP\n", dev, sizeof(dev), part, sizeof(part)),
			 -1);
	assert_int_equal(
	    uevent_parse("DEVNAME=sda1\nPARTNAME=\n", dev, sizeof(dev), part, sizeof(part)), -1);
	assert_int_equal(uevent_parse("", dev, sizeof(dev), part, sizeof(part)), -1);
	/* a key that only starts with the wanted one does not count */
	assert_int_equal(uevent_parse("DEVNAMEX=sda1\nPARTNAME=KEEL-ESP\n", dev, sizeof(dev), part,
				      sizeof(part)),
			 -1);
	/* too long for the buffer */
	char tiny[4];
	assert_int_equal(uevent_parse("DEVNAME=nvme0n1p1\nPARTNAME=KEEL-ESP\n", tiny, sizeof(tiny),
				      part, sizeof(part)),
			 -1);
}

static void test_uevent_parse_unsafe_devname(void **state)
{
	(void)state;
	char dev[64], part[72];
	assert_int_equal(uevent_parse("DEVNAME=../sda1\nPARTNAME=KEEL-CONFIG\n", dev, sizeof(dev),
				      part, sizeof(part)),
			 -1);
	assert_int_equal(uevent_parse("DEVNAME=mapper/x\nPARTNAME=KEEL-CONFIG\n", dev, sizeof(dev),
				      part, sizeof(part)),
			 -1);
	assert_int_equal(uevent_parse("DEVNAME=..\nPARTNAME=KEEL-CONFIG\n", dev, sizeof(dev), part,
				      sizeof(part)),
			 -1);
}

static void test_label_matches(void **state)
{
	(void)state;
	assert_true(label_matches("KEEL-CONFIG", LABEL_CONFIG));
	assert_false(label_matches("KEEL-CONFIG-OLD", LABEL_CONFIG));
	assert_false(label_matches("KEEL-CONFI", LABEL_CONFIG));
	assert_false(label_matches("keel-config", LABEL_CONFIG));
	assert_false(label_matches("", LABEL_CONFIG));
	assert_false(label_matches("KEEL-BOOTBANK-A", LABEL_BOOTB));
}

static void put16(unsigned char *p, unsigned v)
{
	p[0] = (unsigned char)(v & 0xff);
	p[1] = (unsigned char)(v >> 8);
}

static void put32(unsigned char *p, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		p[i] = (unsigned char)(v >> (8 * i));
}

static void make_sb(unsigned char *sb, unsigned s_state, uint32_t incompat)
{
	memset(sb, 0, 1024);
	put16(sb + 0x38, 0xEF53);
	put16(sb + 0x3A, s_state);
	put32(sb + 0x60, incompat);
}

static void test_ext4_clean(void **state)
{
	(void)state;
	unsigned char sb[1024];
	make_sb(sb, 0x1, 0);
	assert_int_equal(ext4_sb_state(sb, sizeof(sb)), EXT4_CLEAN);
	/* other incompat features (filetype, extents, 64bit, flex_bg) are fine */
	make_sb(sb, 0x1, 0x2 | 0x40 | 0x80 | 0x200);
	assert_int_equal(ext4_sb_state(sb, sizeof(sb)), EXT4_CLEAN);
	/* the orphan bit 0x4 in s_state is not an error */
	make_sb(sb, 0x1 | 0x4, 0);
	assert_int_equal(ext4_sb_state(sb, sizeof(sb)), EXT4_CLEAN);
}

static void test_ext4_dirty(void **state)
{
	(void)state;
	unsigned char sb[1024];
	make_sb(sb, 0x0, 0); /* not cleanly unmounted */
	assert_int_equal(ext4_sb_state(sb, sizeof(sb)), EXT4_DIRTY);
	make_sb(sb, 0x1 | 0x2, 0); /* errors detected */
	assert_int_equal(ext4_sb_state(sb, sizeof(sb)), EXT4_DIRTY);
	make_sb(sb, 0x2, 0);
	assert_int_equal(ext4_sb_state(sb, sizeof(sb)), EXT4_DIRTY);
	make_sb(sb, 0x1, 0x4); /* journal needs recovery */
	assert_int_equal(ext4_sb_state(sb, sizeof(sb)), EXT4_DIRTY);
	make_sb(sb, 0x1, 0x2 | 0x4 | 0x40);
	assert_int_equal(ext4_sb_state(sb, sizeof(sb)), EXT4_DIRTY);
}

static void test_ext4_not_ext4(void **state)
{
	(void)state;
	unsigned char sb[1024];
	memset(sb, 0, sizeof(sb));
	assert_int_equal(ext4_sb_state(sb, sizeof(sb)), EXT4_NOT_EXT4);
	make_sb(sb, 0x1, 0);
	put16(sb + 0x38, 0x53EF); /* byte-swapped magic */
	assert_int_equal(ext4_sb_state(sb, sizeof(sb)), EXT4_NOT_EXT4);
	make_sb(sb, 0x1, 0);
	put16(sb + 0x36, 0xEF53); /* magic at the wrong offset */
	put16(sb + 0x38, 0);
	assert_int_equal(ext4_sb_state(sb, sizeof(sb)), EXT4_NOT_EXT4);
}

static void test_ext4_short(void **state)
{
	(void)state;
	unsigned char sb[1024];
	make_sb(sb, 0x1, 0);
	assert_int_equal(ext4_sb_state(sb, 1023), EXT4_NOT_EXT4);
	assert_int_equal(ext4_sb_state(sb, 0x62), EXT4_NOT_EXT4);
	assert_int_equal(ext4_sb_state(sb, 0), EXT4_NOT_EXT4);
	/* heap copy of exactly the short length, so ASan catches over-reads */
	unsigned char *h = malloc(100);
	assert_non_null(h);
	memcpy(h, sb, 100);
	assert_int_equal(ext4_sb_state(h, 100), EXT4_NOT_EXT4);
	free(h);
}

/* ---- disk_find over a fake /sys/class/block ---- */

struct tree {
	char root[64];
};

static void add_dev(const char *root, const char *dir, const char *uevent)
{
	char path[256];
	snprintf(path, sizeof(path), "%s/%s", root, dir);
	assert_int_equal(mkdir(path, 0755), 0);
	if (!uevent)
		return;
	snprintf(path, sizeof(path), "%s/%s/uevent", root, dir);
	assert_int_equal(write_file(path, uevent, strlen(uevent), 0644), 0);
}

static void rm_dev(const char *root, const char *dir, int has_uevent)
{
	char path[256];
	if (has_uevent) {
		snprintf(path, sizeof(path), "%s/%s/uevent", root, dir);
		unlink(path);
	}
	snprintf(path, sizeof(path), "%s/%s", root, dir);
	rmdir(path);
}

static int tree_setup(void **state)
{
	struct tree *t = calloc(1, sizeof(*t));
	if (!t)
		return -1;
	snprintf(t->root, sizeof(t->root), "/tmp/keel-ut-disk-XXXXXX");
	if (!mkdtemp(t->root)) {
		free(t);
		return -1;
	}
	/* created in an order that is not sorted */
	add_dev(t->root, "vdb2",
		"MAJOR=252\nMINOR=18\nDEVNAME=vdb2\nDEVTYPE=partition\n"
		"PARTN=2\nPARTNAME=KEEL-CONFIG\n");
	add_dev(t->root, "sda3",
		"MAJOR=8\nMINOR=3\nDEVNAME=sda3\nDEVTYPE=partition\n"
		"PARTN=3\nPARTNAME=KEEL-BOOTBANK-A\n");
	add_dev(t->root, "vdb1",
		"MAJOR=252\nMINOR=17\nDEVNAME=vdb1\nDEVTYPE=partition\n"
		"PARTN=1\nPARTNAME=KEEL-CONFIG\n");
	add_dev(t->root, "vdb", "MAJOR=252\nMINOR=16\nDEVNAME=vdb\nDEVTYPE=disk\n");
	add_dev(t->root, "noevent", NULL);
	*state = t;
	return 0;
}

static int tree_teardown(void **state)
{
	struct tree *t = *state;
	rm_dev(t->root, "vdb2", 1);
	rm_dev(t->root, "sda3", 1);
	rm_dev(t->root, "vdb1", 1);
	rm_dev(t->root, "vdb", 1);
	rm_dev(t->root, "noevent", 0);
	rmdir(t->root);
	free(t);
	return 0;
}

static void test_disk_find_single(void **state)
{
	struct tree *t = *state;
	char dev[64] = "";
	assert_int_equal(disk_find(t->root, LABEL_BOOTA, dev, sizeof(dev)), 1);
	assert_string_equal(dev, "/dev/sda3");
}

static void test_disk_find_two_matches(void **state)
{
	struct tree *t = *state;
	char dev[64] = "";
	assert_int_equal(disk_find(t->root, LABEL_CONFIG, dev, sizeof(dev)), 2);
	assert_string_equal(dev, "/dev/vdb1");
}

static void test_disk_find_none(void **state)
{
	struct tree *t = *state;
	char dev[64] = "untouched";
	assert_int_equal(disk_find(t->root, LABEL_DATASTORE, dev, sizeof(dev)), 0);
	assert_string_equal(dev, "untouched");
	/* a prefix of a real label is not a match */
	assert_int_equal(disk_find(t->root, "KEEL-BOOTBANK", dev, sizeof(dev)), 0);
}

static void test_disk_find_no_dir(void **state)
{
	struct tree *t = *state;
	char path[128], dev[64] = "untouched";
	snprintf(path, sizeof(path), "%s/does-not-exist", t->root);
	assert_int_equal(disk_find(path, LABEL_CONFIG, dev, sizeof(dev)), 0);
	assert_string_equal(dev, "untouched");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_uevent_parse_ok),
	    cmocka_unit_test(test_uevent_parse_missing),
	    cmocka_unit_test(test_uevent_parse_unsafe_devname),
	    cmocka_unit_test(test_label_matches),
	    cmocka_unit_test(test_ext4_clean),
	    cmocka_unit_test(test_ext4_dirty),
	    cmocka_unit_test(test_ext4_not_ext4),
	    cmocka_unit_test(test_ext4_short),
	    cmocka_unit_test_setup_teardown(test_disk_find_single, tree_setup, tree_teardown),
	    cmocka_unit_test_setup_teardown(test_disk_find_two_matches, tree_setup, tree_teardown),
	    cmocka_unit_test_setup_teardown(test_disk_find_none, tree_setup, tree_teardown),
	    cmocka_unit_test_setup_teardown(test_disk_find_no_dir, tree_setup, tree_teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
