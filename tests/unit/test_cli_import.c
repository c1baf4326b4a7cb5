/* keel vm import's readers of untrusted appliances: the OVF descriptor
 * (cli/ovf.h: units, disks through DiskSection and References, NICs,
 * firmware, what is reported, what is refused) and the OVA's tar and
 * manifest (cli/ova.h: damaged headers, sizes that would wrap, pax and GNU
 * long names, digests). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/ova.h"
#include "cli/ovf.h"
#include "rm_rf.h"

/* --- OVF ------------------------------------------------------------------- */

struct reports {
	char lines[16][512];
	int n;
};

static void collect(const char *what, void *ctx)
{
	struct reports *r = ctx;
	assert_true(r->n < 16);
	snprintf(r->lines[r->n++], sizeof(r->lines[0]), "%s", what);
}

#define ENVELOPE                                                                                   \
	"<?xml version=\"1.0\"?><Envelope xmlns=\"http://schemas.dmtf.org/ovf/envelope/1\" "       \
	"xmlns:ovf=\"http://schemas.dmtf.org/ovf/envelope/1\" "                                    \
	"xmlns:rasd=\"http://schemas.dmtf.org/wbem/wscim/1/cim-schema/2/"                          \
	"CIM_ResourceAllocationSettingData\" xmlns:vmw=\"http://www.vmware.com/schema/ovf\">"
#define REFS                                                                                       \
	"<References><File ovf:href=\"a.vmdk\" ovf:id=\"f1\"/></References>"                       \
	"<DiskSection><Disk ovf:diskId=\"d1\" ovf:fileRef=\"f1\" ovf:capacity=\"4\" "              \
	"ovf:capacityAllocationUnits=\"byte * 2^30\"/>"                                            \
	"<Disk ovf:diskId=\"d2\" ovf:capacity=\"1048576\"/></DiskSection>"
#define ITEM(type, extra) "<Item><rasd:ResourceType>" #type "</rasd:ResourceType>" extra "</Item>"
#define SYSTEM(items)                                                                              \
	"<VirtualSystem ovf:id=\"sys\"><Name>web1</Name><VirtualHardwareSection>" items            \
	"</VirtualHardwareSection></VirtualSystem>"

static int parse(const char *xml, struct ovf_vm *vm, struct reports *r, char *err)
{
	memset(r, 0, sizeof(*r));
	return ovf_parse(xml, strlen(xml), vm, collect, r, err, 256);
}

static void test_ovf_vmware(void **state)
{
	(void)state;
	const char *xml = ENVELOPE REFS SYSTEM(
	    ITEM(3, "<rasd:VirtualQuantity>4</rasd:VirtualQuantity>")
		ITEM(4, "<rasd:AllocationUnits>byte * 2^30</rasd:AllocationUnits>"
			"<rasd:VirtualQuantity>2</rasd:VirtualQuantity>")
		    ITEM(6, "<rasd:ElementName>SCSI 0</rasd:ElementName>") ITEM(
			17, "<rasd:HostResource>ovf:/disk/d1</rasd:HostResource>")
			ITEM(17, "<rasd:HostResource>ovf:/disk/d2</rasd:HostResource>") ITEM(
			    10, "<rasd:Connection>VM Network</rasd:Connection>")
			    ITEM(15, "<rasd:ElementName>CD 1</rasd:ElementName>") ITEM(
				99, "<rasd:ElementName>odd</rasd:ElementName>") "<vmw:Config "
										"vmw:key="
										"\"firmware\" "
										"vmw:value=\"efi\"/"
										">") "</Envelope>";
	struct ovf_vm vm;
	struct reports r;
	char err[256] = "";
	assert_int_equal(parse(xml, &vm, &r, err), 0);
	assert_string_equal(vm.name, "web1");
	assert_int_equal(vm.vcpus, 4);
	assert_int_equal(vm.memory_mib, 2048);
	assert_int_equal(vm.firmware, VM_FIRMWARE_UEFI);
	assert_int_equal(vm.ndisks, 2);
	assert_string_equal(vm.disks[0].file, "a.vmdk");
	assert_int_equal(vm.disks[0].capacity, 4ULL << 30);
	assert_string_equal(vm.disks[1].file, "");
	assert_int_equal(vm.disks[1].capacity, 1 << 20);
	assert_int_equal(vm.nnics, 1);
	assert_string_equal(vm.networks[0], "VM Network");
	assert_int_equal(r.n, 2);
	assert_string_equal(r.lines[0], "\"CD 1\" (ResourceType 15): CD drive");
	assert_string_equal(r.lines[1], "\"odd\" (ResourceType 99): unknown device type");
}

static void test_ovf_units_and_defaults(void **state)
{
	(void)state;
	static const struct {
		const char *units, *quantity;
		long long mib; /* -1: refused */
	} cases[] = {
	    {"MegaBytes", "512", 512},	  {"byte * 2^20", "256", 256},
	    {"byte*2^30", "1", 1024},	  {"", "128", 128},
	    {"GigaBytes", "3", 3072},	  {"byte", "1073741824", 1024},
	    {"byte * 10^6", "1024", 976}, {"byte * 2^70", "1", -1},
	    {"furlongs", "1", -1},	  {"byte * 2^20", "-1", -1},
	    {"byte * 2^20", "1x", -1},	  {"byte * 2^40", "99999999", -1},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char xml[2048];
		snprintf(
		    xml, sizeof(xml),
		    ENVELOPE SYSTEM(
			"<Item><rasd:ResourceType>4</rasd:ResourceType>"
			"<rasd:AllocationUnits>%s</rasd:AllocationUnits>"
			"<rasd:VirtualQuantity>%s</rasd:VirtualQuantity></Item>") "</Envelope>",
		    cases[i].units, cases[i].quantity);
		struct ovf_vm vm;
		struct reports r;
		char err[256] = "";
		int rc = parse(xml, &vm, &r, err);
		if (cases[i].mib < 0) {
			if (rc == 0)
				fail_msg("%s %s accepted", cases[i].quantity, cases[i].units);
			continue;
		}
		assert_int_equal(rc, 0);
		assert_int_equal(vm.memory_mib, cases[i].mib);
		assert_int_equal(vm.vcpus, 1); /* none given */
		assert_int_equal(vm.firmware, VM_FIRMWARE_BIOS);
	}
}

static void test_ovf_limits_reported(void **state)
{
	(void)state;
	char items[8192] = "";
	for (int i = 0; i < VM_MAX_DISKS + 1; i++)
		strcat(items, ITEM(17, "<rasd:HostResource>ovf:/disk/d2</rasd:HostResource>"));
	for (int i = 0; i < VM_MAX_NICS + 2; i++)
		strcat(items, ITEM(10, "<rasd:Connection>n</rasd:Connection>"));
	char xml[16384];
	snprintf(xml, sizeof(xml),
		 ENVELOPE REFS "<VirtualSystem ovf:id=\"only-id\"><VirtualHardwareSection>%s"
			       "</VirtualHardwareSection></VirtualSystem>"
			       "<VirtualSystem ovf:id=\"second\"/></Envelope>",
		 items);
	struct ovf_vm vm;
	struct reports r;
	char err[256] = "";
	assert_int_equal(parse(xml, &vm, &r, err), 0);
	assert_string_equal(vm.name, "only-id");
	assert_int_equal(vm.ndisks, VM_MAX_DISKS);
	assert_int_equal(vm.nnics, VM_MAX_NICS);
	assert_int_equal(r.n, 1 + 2 + 1); /* a disk, two NICs, the second system */
	assert_non_null(strstr(r.lines[3], "only the first system"));
}

static void test_ovf_refused(void **state)
{
	(void)state;
	static const struct {
		const char *xml, *why;
	} cases[] = {
	    {"not xml", "not XML"},
	    {"<?xml version=\"1.0\"?><Other/>", "no Envelope"},
	    {ENVELOPE "</Envelope>", "no VirtualSystem"},
	    {ENVELOPE "<VirtualSystem/></Envelope>", "no VirtualHardwareSection"},
	    {"<?xml version=\"1.0\"?><!DOCTYPE Envelope [<!ENTITY a "
	     "\"b\">]><Envelope><VirtualSystem>"
	     "<Name>&a;</Name></VirtualSystem></Envelope>",
	     "DOCTYPE"},
	    {ENVELOPE REFS SYSTEM(
		 ITEM(17, "<rasd:HostResource>ovf:/disk/nope</rasd:HostResource>")) "</Envelope>",
	     "no Disk \"nope\""},
	    {ENVELOPE "<References><File ovf:href=\"../x\" ovf:id=\"f\"/></References>" SYSTEM(
		 ITEM(17, "<rasd:HostResource>ovf:/file/f</rasd:HostResource>")) "</Envelope>",
	     "not the name of a file"},
	    {ENVELOPE
	     "<References><File ovf:href=\"/etc/passwd\" ovf:id=\"f\"/></References>" SYSTEM(
		 ITEM(17, "<rasd:HostResource>ovf:/file/f</rasd:HostResource>")) "</Envelope>",
	     "not the name of a file"},
	    {ENVELOPE SYSTEM(
		 ITEM(3, "<rasd:VirtualQuantity>65</rasd:VirtualQuantity>")) "</Envelope>",
	     "vCPUs"},
	    {ENVELOPE SYSTEM(
		 ITEM(3, "<rasd:VirtualQuantity>0</rasd:VirtualQuantity>")) "</Envelope>",
	     "vCPUs"},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct ovf_vm vm;
		struct reports r;
		char err[256] = "";
		assert_int_equal(parse(cases[i].xml, &vm, &r, err), -1);
		if (!strstr(err, cases[i].why))
			fail_msg("case %zu: '%s' lacks '%s'", i, err, cases[i].why);
	}
}

/* --- OVA ------------------------------------------------------------------- */

static char dir[] = "/tmp/keel-cli-import-XXXXXX";

static int setup(void **state)
{
	(void)state;
	return mkdtemp(dir) ? 0 : -1;
}

static int teardown(void **state)
{
	(void)state;
	rm_rf(dir);
	return 0;
}

/* a ustar header for `name` of `size` bytes (type '0' unless given) */
static void tar_header(unsigned char h[512], const char *name, unsigned long long size, char type)
{
	memset(h, 0, 512);
	snprintf((char *)h, 100, "%s", name);
	snprintf((char *)h + 100, 8, "0000644");
	char octal[24];
	snprintf(octal, sizeof(octal), "%011llo", size & 077777777777ULL);
	memcpy(h + 124, octal, 12);
	h[156] = (unsigned char)type;
	memcpy(h + 257,
	       "ustar\0"
	       "00",
	       8);
	unsigned sum = 0;
	memset(h + 148, ' ', 8);
	for (int i = 0; i < 512; i++)
		sum += h[i];
	snprintf((char *)h + 148, 8, "%06o", sum);
}

/* a tar file of members (name, data) and its fd */
static int make_tar(const char *file, const char *const *names, const char *const *datas, int n,
		    bool end)
{
	char path[128];
	snprintf(path, sizeof(path), "%s/%s", dir, file);
	FILE *f = fopen(path, "w+");
	assert_non_null(f);
	for (int i = 0; i < n; i++) {
		unsigned char h[512], pad[512] = {0};
		size_t len = strlen(datas[i]);
		tar_header(h, names[i], len, names[i][0] == 'x' && names[i][1] == ':' ? 'x' : '0');
		fwrite(h, 1, 512, f);
		fwrite(datas[i], 1, len, f);
		fwrite(pad, 1, (512 - len % 512) % 512, f);
	}
	if (end) {
		unsigned char zeros[1024] = {0};
		fwrite(zeros, 1, sizeof(zeros), f);
	}
	fflush(f);
	int fd = dup(fileno(f));
	fclose(f);
	return fd;
}

static void test_ova_members_and_manifest(void **state)
{
	(void)state;
	const char *names[] = {"a.ovf", "x:pax", "short", "a.mf"};
	const char *datas[] = {"<Envelope/>", "31 path=disks/a-very-long-name\n", "abc",
			       /* SHA-256 of "abc" and SHA-1 of "<Envelope/>" */
			       "SHA256(disks/a-very-long-name)= "
			       "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad\n"
			       "SHA1(a.ovf)= 2ab6bfd2a4d0eb5f1fe8bb6d4e5b1e3d4b6c2a55\n"};
	int fd = make_tar("good.ova", names, datas, 4, true);
	struct ova_member *m;
	size_t n;
	assert_int_equal(ova_list(fd, "good.ova", &m, &n), 0);
	assert_int_equal(n, 3);
	assert_string_equal(m[0].name, "a.ovf");
	assert_string_equal(m[1].name, "disks/a-very-long-name"); /* from the pax header */
	assert_int_equal(m[1].size, 3);
	const struct ova_member *mf = ova_find(m, n, "a.mf");
	assert_non_null(mf);
	char *text = ova_read(fd, mf, 4096, "good.ova");
	assert_non_null(text);
	/* the SHA-1 line is wrong: refused; without it, accepted */
	assert_int_equal(ova_check_manifest(fd, m, n, text, "good.ova"), -1);
	*strstr(text, "SHA1(") = '\0';
	assert_int_equal(ova_check_manifest(fd, m, n, text, "good.ova"), 0);
	assert_int_equal(ova_check_manifest(fd, m, n, "SHA256(nope)= 00\n", "good.ova"), -1);
	assert_int_equal(ova_check_manifest(fd, m, n, "MD5(short)= 00\n", "good.ova"), -1);
	free(text);
	char out[64];
	snprintf(out, sizeof(out), "%s/out", dir);
	FILE *o = fopen(out, "w+");
	assert_int_equal(ova_extract(fd, &m[1], fileno(o), "good.ova"), 0);
	char got[8] = "";
	assert_int_equal(pread(fileno(o), got, sizeof(got), 0), 3);
	assert_string_equal(got, "abc");
	fclose(o);
	free(m);
	close(fd);
}

static void test_ova_hostile(void **state)
{
	(void)state;
	struct ova_member *m;
	size_t n;
	/* not a tar at all */
	const char *names[] = {"a"};
	const char *datas[] = {"x"};
	int fd = make_tar("t1", names, datas, 1, true);
	unsigned char h[512];
	assert_int_equal(pread(fd, h, 512, 0), 512);
	h[0] ^= 1; /* the checksum no longer matches */
	assert_int_equal(pwrite(fd, h, 512, 0), 512);
	assert_int_equal(ova_list(fd, "t1", &m, &n), -1);
	/* a size that would wrap the offset (base-256, 2^63) */
	h[0] ^= 1;
	memset(h + 124, 0, 12);
	h[124] = 0x80;
	h[128] = 0x80;
	unsigned sum = 0;
	memset(h + 148, ' ', 8);
	for (int i = 0; i < 512; i++)
		sum += h[i];
	snprintf((char *)h + 148, 8, "%06o", sum);
	assert_int_equal(pwrite(fd, h, 512, 0), 512);
	if (ova_list(fd, "t1", &m, &n) == 0) { /* listed: reading it must fail */
		assert_int_equal(n, 1);
		assert_null(ova_read(fd, &m[0], 1 << 20, "t1"));
		free(m);
	}
	close(fd);
	/* a pax header whose record length lies */
	const char *names2[] = {"x:pax", "b"};
	const char *datas2[] = {"99 path=zz\n", "y"};
	fd = make_tar("t2", names2, datas2, 2, true);
	assert_int_equal(ova_list(fd, "t2", &m, &n), -1);
	close(fd);
	/* cut short in a member's data: listed, but its data cannot be read */
	const char *names3[] = {"big"};
	const char *datas3[] = {"0123456789"};
	fd = make_tar("t3", names3, datas3, 1, false);
	assert_int_equal(ftruncate(fd, 512 + 4), 0);
	assert_int_equal(ova_list(fd, "t3", &m, &n), 0);
	assert_null(ova_read(fd, &m[0], 100, "t3"));
	free(m);
	close(fd);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_ovf_vmware),
	    cmocka_unit_test(test_ovf_units_and_defaults),
	    cmocka_unit_test(test_ovf_limits_reported),
	    cmocka_unit_test(test_ovf_refused),
	    cmocka_unit_test(test_ova_members_and_manifest),
	    cmocka_unit_test(test_ova_hostile),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
