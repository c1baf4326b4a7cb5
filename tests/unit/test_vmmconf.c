#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/vmmconf.h"

/* the four required fields, valid */
#define BASE "\"name\":\"a\",\"vcpus\":1,\"memory_mib\":64,\"kernel\":\"/k\""

static struct vmm_config c;
/* an empty configuration: no strings, no descriptors (-1) */
static struct vmm_config zero;
static char err[256];

/* config_parse must zero the struct before it starts: garbage in it is
 * never taken for a value (nor freed). */
static int parse(const char *text)
{
	memset(&c, 0x5a, sizeof(c));
	memset(err, 0, sizeof(err));
	return vmmconf_parse(text, &c, err, sizeof(err));
}

/* The whole text must fail, with an error that starts with prefix, and
 * leave the struct zeroed (nothing to free, kernel == NULL). */
static void expect_whole_error(const char *text, const char *prefix)
{
	if (parse(text) != -1)
		fail_msg("accepted: %s", text);
	if (strncmp(err, prefix, strlen(prefix)) != 0)
		fail_msg("for %s: error \"%s\" does not start with \"%s\"", text, err, prefix);
	assert_null(c.kernel);
	assert_memory_equal(&c, &zero, sizeof(c));
}

/* A valid config with field_json added; the parse must fail with an error
 * that starts with prefix (the field's name). */
static void expect_error(const char *field_json, const char *prefix)
{
	static char text[VM_CMDLINE_MAX + 512];
	snprintf(text, sizeof(text), "{" BASE ",%s}", field_json);
	expect_whole_error(text, prefix);
}

/* A valid config with field_json added; must parse. */
static void expect_ok(const char *field_json)
{
	static char text[VM_CMDLINE_MAX + 512];
	snprintf(text, sizeof(text), "{" BASE "%s%s}", *field_json ? "," : "", field_json);
	if (parse(text) != 0)
		fail_msg("refused %s: %s", text, err);
}

static void test_full_config(void **state)
{
	(void)state;
	const char *text = "{\"name\": \"web-1.a_b\", \"vcpus\": 4, \"memory_mib\": 512,"
			   " \"kernel\": \"/k\", \"initrd\": \"/i\", \"cmdline\": \"console=ttyS0 "
			   "quiet\","
			   " \"console\": {\"type\": \"socket\", \"path\": \"/run/c.sock\"},"
			   " \"control\": \"/run/ctl.sock\", \"on_reboot\": \"exit\", "
			   "\"boot_timer\": true}";
	assert_int_equal(parse(text), 0);
	assert_string_equal(c.name, "web-1.a_b");
	assert_int_equal(c.vcpus, 4);
	assert_int_equal(c.memory_mib, 512);
	assert_string_equal(c.kernel, "/k");
	assert_string_equal(c.initrd, "/i");
	assert_string_equal(c.cmdline, "console=ttyS0 quiet");
	assert_int_equal(c.console, CONSOLE_SOCKET);
	assert_string_equal(c.console_path, "/run/c.sock");
	assert_string_equal(c.control, "/run/ctl.sock");
	assert_true(c.reboot_exits);
	assert_true(c.boot_timer);
	assert_int_equal(c.ndisks, 0);
	assert_int_equal(c.nnics, 0);
	assert_false(c.rng);
	vmmconf_free(&c);
	assert_null(c.kernel);
	assert_memory_equal(&c, &zero, sizeof(c));
	vmmconf_free(&c); /* freeing an empty config is harmless */
}

static void test_defaults(void **state)
{
	(void)state;
	assert_int_equal(parse("{" BASE "}"), 0);
	assert_string_equal(c.name, "a");
	assert_int_equal(c.vcpus, 1);
	assert_int_equal(c.memory_mib, 64);
	assert_string_equal(c.kernel, "/k");
	assert_null(c.initrd);
	assert_null(c.control);
	assert_non_null(c.cmdline);
	assert_string_equal(c.cmdline, "");
	assert_int_equal(c.console, CONSOLE_STDIO);
	assert_null(c.console_path);
	assert_false(c.reboot_exits);
	assert_false(c.boot_timer);
	assert_false(c.rng);
	assert_int_equal(c.ndisks, 0);
	assert_int_equal(c.nnics, 0);
	vmmconf_free(&c);
}

static void test_console_types(void **state)
{
	(void)state;
	static const struct {
		const char *json;
		enum console_type type;
		const char *path;
	} cases[] = {
	    {"{\"type\":\"stdio\"}", CONSOLE_STDIO, NULL},
	    {"{\"type\":\"file\",\"path\":\"/log\"}", CONSOLE_FILE, "/log"},
	    {"{\"type\":\"pty\"}", CONSOLE_PTY, NULL},
	    {"{\"type\":\"socket\",\"path\":\"/s\"}", CONSOLE_SOCKET, "/s"},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char text[256];
		snprintf(text, sizeof(text), "{" BASE ",\"console\":%s}", cases[i].json);
		assert_int_equal(parse(text), 0);
		assert_int_equal(c.console, cases[i].type);
		if (cases[i].path)
			assert_string_equal(c.console_path, cases[i].path);
		else
			assert_null(c.console_path);
		vmmconf_free(&c);
	}
}

static void test_on_reboot_and_timer(void **state)
{
	(void)state;
	expect_ok("\"on_reboot\":\"restart\",\"boot_timer\":false");
	assert_false(c.reboot_exits);
	assert_false(c.boot_timer);
	vmmconf_free(&c);
	expect_ok("\"on_reboot\":\"exit\"");
	assert_true(c.reboot_exits);
	assert_false(c.boot_timer);
	vmmconf_free(&c);
	expect_ok("\"boot_timer\":true");
	assert_false(c.reboot_exits);
	assert_true(c.boot_timer);
	vmmconf_free(&c);

	expect_error("\"on_reboot\":\"maybe\"", "on_reboot: must be");
	expect_error("\"on_reboot\":1", "on_reboot: must be");
	expect_error("\"on_reboot\":\"Exit\"", "on_reboot: must be");
	expect_error("\"boot_timer\":\"yes\"", "boot_timer: must be true or false");
	expect_error("\"boot_timer\":1", "boot_timer: must be true or false");
	expect_error("\"boot_timer\":null", "boot_timer: must be true or false");
}

static void test_unknown_fields(void **state)
{
	(void)state;
	expect_error("\"colour\":\"red\"", "colour: unknown field");
	expect_error("\"Name\":\"x\"", "Name: unknown field"); /* keys are case-sensitive */
	/* an unknown field is refused even when all else is wrong too */
	expect_whole_error("{\"memory\":512}", "memory: unknown field");
	expect_error("\"console\":{\"type\":\"file\",\"path\":\"/x\",\"speed\":9600}",
		     "console.speed: unknown field");
}

static void test_missing_required(void **state)
{
	(void)state;
	expect_whole_error("{\"vcpus\":1,\"memory_mib\":64,\"kernel\":\"/k\"}", "name: missing");
	expect_whole_error("{\"name\":\"a\",\"memory_mib\":64,\"kernel\":\"/k\"}",
			   "vcpus: missing");
	expect_whole_error("{\"name\":\"a\",\"vcpus\":1,\"kernel\":\"/k\"}", "memory_mib: missing");
	expect_whole_error("{\"name\":\"a\",\"vcpus\":1,\"memory_mib\":64}", "kernel: missing");
	expect_whole_error("{}", "name: missing");
}

static void test_vcpus(void **state)
{
	(void)state;
	const char *bad[] = {"0", "65", "-1", "\"2\"", "1.5", "2.0", "true", "null", "[]"};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		char text[256];
		snprintf(text, sizeof(text),
			 "{\"name\":\"a\",\"vcpus\":%s,\"memory_mib\":64,\"kernel\":\"/k\"}",
			 bad[i]);
		expect_whole_error(text, "vcpus: must be an integer from 1 to 64");
	}
	assert_int_equal(parse("{\"name\":\"a\",\"vcpus\":64,\"memory_mib\":64,\"kernel\":\"/k\"}"),
			 0);
	assert_int_equal(c.vcpus, VM_MAX_VCPUS);
	vmmconf_free(&c);
}

static void test_memory(void **state)
{
	(void)state;
	char text[256], prefix[128];
	snprintf(prefix, sizeof(prefix), "memory_mib: must be an integer from %d to %d",
		 VM_MIN_MEM_MIB, VM_MAX_MEM_MIB);
	const long long bad[] = {VM_MIN_MEM_MIB - 1, VM_MAX_MEM_MIB + 1LL, 0, -64, 1LL << 40};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		snprintf(text, sizeof(text),
			 "{\"name\":\"a\",\"vcpus\":1,\"memory_mib\":%lld,\"kernel\":\"/k\"}",
			 bad[i]);
		expect_whole_error(text, prefix);
	}
	expect_whole_error("{\"name\":\"a\",\"vcpus\":1,\"memory_mib\":1e20,\"kernel\":\"/k\"}",
			   prefix);
	expect_whole_error("{\"name\":\"a\",\"vcpus\":1,\"memory_mib\":\"64\",\"kernel\":\"/k\"}",
			   prefix);

	const uint64_t good[] = {VM_MIN_MEM_MIB, VM_MAX_MEM_MIB};
	for (size_t i = 0; i < 2; i++) {
		snprintf(text, sizeof(text),
			 "{\"name\":\"a\",\"vcpus\":1,\"memory_mib\":%llu,\"kernel\":\"/k\"}",
			 (unsigned long long)good[i]);
		assert_int_equal(parse(text), 0);
		assert_int_equal(c.memory_mib, good[i]);
		vmmconf_free(&c);
	}
}

static void test_names(void **state)
{
	(void)state;
	char text[256], name[80];
	memset(name, 'x', 65);
	name[65] = '\0';
	const char *bad[] = {"a b", "../x", "", "a/b", "a\\tb", "caf\\u00e9", name};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		snprintf(text, sizeof(text),
			 "{\"name\":\"%s\",\"vcpus\":1,\"memory_mib\":64,\"kernel\":\"/k\"}",
			 bad[i]);
		expect_whole_error(text, "name: must be 1 to 64 characters");
	}
	expect_whole_error("{\"name\":5,\"vcpus\":1,\"memory_mib\":64,\"kernel\":\"/k\"}",
			   "name: must be");

	name[64] = '\0'; /* 64 characters: the longest allowed */
	snprintf(text, sizeof(text),
		 "{\"name\":\"%s\",\"vcpus\":1,\"memory_mib\":64,\"kernel\":\"/k\"}", name);
	assert_int_equal(parse(text), 0);
	assert_string_equal(c.name, name);
	vmmconf_free(&c);
	assert_int_equal(parse("{\"name\":\"Az09._-\",\"vcpus\":1,\"memory_mib\":64,"
			       "\"kernel\":\"/k\"}"),
			 0);
	assert_string_equal(c.name, "Az09._-");
	vmmconf_free(&c);
}

static void test_strings(void **state)
{
	(void)state;
	expect_whole_error("{\"name\":\"a\",\"vcpus\":1,\"memory_mib\":64,\"kernel\":\"\"}",
			   "kernel: must be 1..4095 characters");
	expect_whole_error("{\"name\":\"a\",\"vcpus\":1,\"memory_mib\":64,\"kernel\":7}",
			   "kernel: must be a string");
	expect_error("\"initrd\":\"\"", "initrd: must be 1..4095 characters");
	expect_error("\"initrd\":7", "initrd: must be a string");
	expect_error("\"control\":null", "control: must be a string");
	/* a socket path must fit in sun_path */
	char field[256];
	char path[120];
	memset(path, 'p', 108);
	path[108] = '\0';
	snprintf(field, sizeof(field), "\"control\":\"/%s\"", path);
	expect_error(field, "control: must be 1..107 characters");
	path[106] = '\0';
	snprintf(field, sizeof(field), "\"control\":\"/%s\"", path);
	expect_ok(field);
	assert_int_equal(strlen(c.control), 107);
	vmmconf_free(&c);
	/* jansson refuses NUL in strings */
	expect_whole_error("{\"name\":\"a\",\"vcpus\":1,\"memory_mib\":64,\"kernel\":"
			   "\"/k\\u0000x\"}",
			   "not valid JSON");
}

static void test_console_errors(void **state)
{
	(void)state;
	expect_error("\"console\":{\"type\":\"tcp\"}",
		     "console.type: must be one of stdio, file, pty, socket");
	expect_error("\"console\":{\"type\":\"STDIO\"}", "console.type: must be one of");
	expect_error("\"console\":{\"path\":\"/x\"}", "console.type: must be one of");
	expect_error("\"console\":{\"type\":3}", "console.type: must be one of");
	expect_error("\"console\":{\"type\":\"file\"}", "console.path: missing");
	expect_error("\"console\":{\"type\":\"socket\"}", "console.path: missing");
	expect_error("\"console\":{\"type\":\"file\",\"path\":\"\"}",
		     "console.path: must be 1..107 characters");
	expect_error("\"console\":{\"type\":\"file\",\"path\":5}",
		     "console.path: must be a string");
	expect_error("\"console\":{\"type\":\"pty\",\"path\":\"/x\"}",
		     "console.path: not used by console type pty");
	expect_error("\"console\":{\"type\":\"stdio\",\"path\":\"/x\"}",
		     "console.path: not used by console type stdio");
	expect_error("\"console\":\"file\"", "console: must be an object");
	expect_error("\"console\":null", "console: must be an object");
}

static void test_cmdline(void **state)
{
	(void)state;
	static char field[VM_CMDLINE_MAX + 64];
	/* VM_CMDLINE_MAX characters: accepted */
	memcpy(field, "\"cmdline\":\"", 11);
	memset(field + 11, 'x', VM_CMDLINE_MAX);
	strcpy(field + 11 + VM_CMDLINE_MAX, "\"");
	expect_ok(field);
	assert_int_equal(strlen(c.cmdline), VM_CMDLINE_MAX);
	vmmconf_free(&c);
	/* VM_CMDLINE_MAX + 1 characters: refused */
	memset(field + 11, 'x', VM_CMDLINE_MAX + 1);
	strcpy(field + 11 + VM_CMDLINE_MAX + 1, "\"");
	expect_error(field, "cmdline: must be a string of at most 2048 bytes");

	expect_error("\"cmdline\":[]", "cmdline: must be a string");
	expect_error("\"cmdline\":null", "cmdline: must be a string");
	expect_ok("\"cmdline\":\"\"");
	assert_string_equal(c.cmdline, "");
	vmmconf_free(&c);
}

static void test_not_an_object(void **state)
{
	(void)state;
	expect_whole_error("[1, 2]", "the configuration must be a JSON object");
	expect_whole_error("\"name\"", "not valid JSON"); /* jansson wants an array or object */
	expect_whole_error("{\"name\": ", "not valid JSON");
	expect_whole_error("name = a", "not valid JSON");
	expect_whole_error("", "not valid JSON");
	expect_whole_error("{" BASE "} trailing", "not valid JSON");
}

static void test_duplicate_keys(void **state)
{
	(void)state;
	expect_whole_error("{\"name\":\"a\",\"name\":\"b\",\"vcpus\":1,\"memory_"
			   "mib\":64,\"kernel\":\"/k\"}",
			   "not valid JSON");
	assert_non_null(strstr(err, "duplicate"));
	assert_non_null(strstr(err, "name"));
	expect_whole_error("{" BASE ",\"kernel\":\"/k2\"}", "not valid JSON");
	assert_non_null(strstr(err, "kernel"));
	expect_error("\"console\":{\"type\":\"pty\",\"type\":\"stdio\"}", "not valid JSON");
	assert_non_null(strstr(err, "type"));
}

/* A failure late in the parse, after every string was allocated: nothing is
 * left allocated (LeakSanitizer checks) and the struct is zeroed. */
static void test_late_failure_frees(void **state)
{
	(void)state;
	expect_error("\"initrd\":\"/i\",\"cmdline\":\"c\",\"control\":\"/ctl\","
		     "\"console\":{\"type\":\"file\",\"path\":\"/log\"},\"boot_timer\":\"no\"",
		     "boot_timer");
	expect_error("\"initrd\":\"/i\",\"control\":\"/ctl\","
		     "\"console\":{\"type\":\"pty\",\"path\":\"/log\"}",
		     "console.path");
	expect_error("\"initrd\":\"/i\",\"console\":{\"type\":\"file\",\"path\":\"/log\"},"
		     "\"disks\":[{\"path\":\"/d0\"},{\"path\":\"/d1\",\"cache\":1}]",
		     "disks[1].cache: unknown field");
	expect_error("\"disks\":[{\"path\":\"/d0\"},{\"path\":\"/d1\",\"readonly\":\"no\"}]",
		     "disks[1].readonly");
	expect_error("\"disks\":[{\"path\":\"/d0\"}],\"rng\":\"yes\"", "rng");
}

static void test_devices(void **state)
{
	(void)state;
	const char *text = "{\"name\":\"vm1\",\"vcpus\":1,\"memory_mib\":64,"
			   "\"kernel\":\"/k\",\"rng\":true,"
			   " \"disks\":[{\"path\":\"/d0\"},{\"path\":\"/"
			   "d1\",\"readonly\":true,\"serial\":\"s-1\"}],"
			   " \"nics\":[{\"tap\":\"tap0\",\"mac\":\"52:54:00:ab:cd:"
			   "ef\"},{\"tap\":\"tap1\"},{"
			   "\"tap\":\"tap2\"}]}";
	assert_int_equal(parse(text), 0);
	assert_true(c.rng);
	assert_int_equal(c.ndisks, 2);
	assert_string_equal(c.disks[0].path, "/d0");
	assert_false(c.disks[0].readonly);
	assert_string_equal(c.disks[0].serial, "disk0");
	assert_true(c.disks[1].readonly);
	assert_string_equal(c.disks[1].serial, "s-1");
	assert_int_equal(c.nnics, 3);
	assert_string_equal(c.nics[0].tap, "tap0");
	assert_memory_equal(c.nics[0].mac, ((uint8_t[]){0x52, 0x54, 0x00, 0xab, 0xcd, 0xef}), 6);
	/* default addresses: locally administered prefix, one per NIC */
	assert_memory_equal(c.nics[1].mac, ((uint8_t[]){0x52, 0x54, 0x00}), 3);
	assert_memory_not_equal(c.nics[1].mac, c.nics[2].mac, 6);
	uint8_t again[6];
	memcpy(again, c.nics[1].mac, 6);
	vmmconf_free(&c);
	assert_int_equal(parse(text), 0);
	assert_memory_equal(c.nics[1].mac, again, 6); /* stable */
	assert_int_equal(c.nics[0].mtu, 0);	      /* none offered by default */
	vmmconf_free(&c);
	expect_ok("\"nics\":[{\"tap\":\"t0\",\"mtu\":9000},{\"tap\":\"t1\",\"mtu\":68},"
		  "{\"tap\":\"t2\",\"mtu\":65535}]");
	assert_int_equal(c.nics[0].mtu, 9000);
	assert_int_equal(c.nics[1].mtu, 68);
	assert_int_equal(c.nics[2].mtu, 65535);
	vmmconf_free(&c);
}

static void test_bad_devices(void **state)
{
	(void)state;
	expect_error("\"disks\":{}", "disks: must be a list");
	expect_error("\"disks\":[{},{},{},{},{},{},{},{},{}]",
		     "disks: must be a list of at most 8");
	expect_error("\"disks\":[{\"path\":\"/d\"},5]", "disks[1]: must be an object");
	expect_error("\"disks\":[{}]", "disks[0].path: missing");
	expect_error("\"disks\":[{\"path\":\"/d\",\"cache\":\"none\"}]",
		     "disks[0].cache: unknown field");
	expect_error("\"disks\":[{\"path\":\"/d\",\"readonly\":1}]", "disks[0].readonly");
	expect_error("\"disks\":[{\"path\":\"/d\",\"serial\":\"123456789012345678901\"}]",
		     "disks[0].serial");
	expect_error("\"nics\":[{}]", "nics[0].tap");
	expect_error("\"nics\":[{\"tap\":\"a-very-long-name-0\"}]", "nics[0].tap");
	expect_error("\"nics\":[{\"tap\":\"t0\",\"mac\":\"01:00:5e:00:00:01\"}]", "nics[0].mac");
	expect_error("\"nics\":[{\"tap\":\"t0\",\"mac\":\"52:54:00:00:00\"}]", "nics[0].mac");
	expect_error("\"nics\":[{\"tap\":\"t0\",\"mac\":\"52:54:00:00:00:00:00\"}]", "nics[0].mac");
	/* what sscanf's %x would take: signs, spaces, 0x */
	const char *bad_macs[] = {"52:54:00:12:34:-1", "52:54:00:12:34:+f", "52:54:00: 1: 2: 3",
				  "52:54:00:12:34:0x", "-2:54:00:12:34:56", "52-54-00-12-34-56",
				  "52:54:00:12:34:5g"};
	for (size_t k = 0; k < sizeof(bad_macs) / sizeof(bad_macs[0]); k++) {
		char field[96];
		snprintf(field, sizeof(field), "\"nics\":[{\"tap\":\"t0\",\"mac\":\"%s\"}]",
			 bad_macs[k]);
		expect_error(field, "nics[0].mac");
	}
	expect_error("\"nics\":[{\"tap\":\"t0\",\"vlan\":5}]", "nics[0].vlan: unknown field");
	const char *bad_mtus[] = {"67", "65536", "0", "-1", "1500.0", "\"9000\"", "true", "null"};
	for (size_t k = 0; k < sizeof(bad_mtus) / sizeof(bad_mtus[0]); k++) {
		char field[96];
		snprintf(field, sizeof(field), "\"nics\":[{\"tap\":\"t0\",\"mtu\":%s}]",
			 bad_mtus[k]);
		expect_error(field, "nics[0].mtu: must be an integer from 68 to 65535");
	}
	expect_error("\"nics\":[{\"tap\":\"t\"},{\"tap\":\"t\"},{\"tap\":\"t\"},{"
		     "\"tap\":\"t\"},{"
		     "\"tap\":\"t\"}]",
		     "nics: must be a list of at most 4");
	expect_error("\"rng\":1", "rng");
}

static void test_load(void **state)
{
	(void)state;
	char path[] = "/tmp/keel-test-vm-XXXXXX";
	int fd = mkstemp(path);
	assert_true(fd >= 0);
	const char *text = "{" BASE ",\"cmdline\":\"from a file\"}\n";
	assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	close(fd);
	memset(&c, 0x5a, sizeof(c));
	assert_int_equal(vmmconf_load(path, -1, &c, err, sizeof(err)), 0);
	assert_string_equal(c.name, "a");
	assert_string_equal(c.cmdline, "from a file");
	vmmconf_free(&c);

	/* a file that is not a configuration: the parse error comes through */
	fd = open(path, O_WRONLY | O_TRUNC);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, "{\"bogus\":1}", 11), 11);
	close(fd);
	assert_int_equal(vmmconf_load(path, -1, &c, err, sizeof(err)), -1);
	assert_string_equal(err, "bogus: unknown field");
	assert_memory_equal(&c, &zero, sizeof(c));

	/* larger than the 1 MiB a configuration may have */
	static char big[(1 << 20) + 2];
	memset(big, ' ', sizeof(big));
	fd = open(path, O_WRONLY | O_TRUNC);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, big, sizeof(big)), (ssize_t)sizeof(big));
	close(fd);
	assert_int_equal(vmmconf_load(path, -1, &c, err, sizeof(err)), -1);
	assert_non_null(strstr(err, path));
	assert_non_null(strstr(err, "too large"));
	unlink(path);
}

/* "fds": one descriptor for each resource the configuration uses, none
 * else, each in range and used once; and it round-trips */
static void test_fds(void **state)
{
	(void)state;
	const char *disk_nic = ",\"disks\":[{\"path\":\"/d\"}],\"nics\":[{\"tap\":\"t0\"}]";
	char field[512];
	snprintf(field, sizeof(field),
		 "\"fds\":{\"kvm\":4,\"kernel\":5,\"disks\":[6],\"nics\":[1023]}%s", disk_nic);
	expect_ok(field);
	assert_true(c.has_fds);
	assert_int_equal(c.fd.kvm, 4);
	assert_int_equal(c.fd.kernel, 5);
	assert_int_equal(c.fd.initrd, -1);
	assert_int_equal(c.fd.console, -1);
	assert_int_equal(c.fd.control, -1);
	assert_int_equal(c.fd.disks[0], 6);
	assert_int_equal(c.fd.nics[0], 1023);
	char *text = vmmconf_format(&c, err, sizeof(err));
	assert_non_null(text);
	struct vmm_config back;
	assert_int_equal(vmmconf_parse(text, &back, err, sizeof(err)), 0);
	assert_memory_equal(&back.fd, &c.fd, sizeof(c.fd));
	vmmconf_free(&back);
	free(text);
	vmmconf_free(&c);
	expect_ok("");
	assert_false(c.has_fds);
	assert_int_equal(c.fd.kvm, -1);
	vmmconf_free(&c);

	static const struct {
		const char *fds, *error;
	} bad[] = {
	    {"\"kernel\":5", "fds.kvm: missing"},
	    {"\"kvm\":4", "fds.kernel: missing"},
	    {"\"kvm\":4,\"kernel\":4",
	     "fds.kernel: must be a descriptor from 3 to 1023, used once"},
	    {"\"kvm\":2,\"kernel\":5", "fds.kvm: must be a descriptor"},
	    {"\"kvm\":1024,\"kernel\":5", "fds.kvm: must be a descriptor"},
	    {"\"kvm\":\"4\",\"kernel\":5", "fds.kvm: must be a descriptor"},
	    {"\"kvm\":4,\"kernel\":5,\"initrd\":6", "fds.initrd: not a resource"},
	    {"\"kvm\":4,\"kernel\":5,\"control\":6", "fds.control: not a resource"},
	    {"\"kvm\":4,\"kernel\":5,\"tty\":6", "fds.tty: not a resource"},
	    {"\"kvm\":4,\"kernel\":5,\"disks\":[6,7]", "fds.disks: must be a list of 0"},
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		snprintf(field, sizeof(field), "\"fds\":{%s}", bad[i].fds);
		expect_error(field, bad[i].error);
	}
	snprintf(field, sizeof(field), "\"fds\":{\"kvm\":4,\"kernel\":5,\"nics\":[6]}%s", disk_nic);
	expect_error(field, "fds.disks: must be a list of 1");
	snprintf(field, sizeof(field),
		 "\"fds\":{\"kvm\":4,\"kernel\":5,\"disks\":[6],\"nics\":[6]}%s", disk_nic);
	expect_error(field, "fds.nics[0]: must be a descriptor");
	expect_error("\"fds\":[4]", "fds: must be an object");
}

static void test_firmware(void **state)
{
	(void)state;
	const char *fw = "{\"name\":\"a\",\"vcpus\":1,\"memory_mib\":64,\"firmware\":\"/fw.bin\"";
	char text[512];
	snprintf(text, sizeof(text), "%s}", fw);
	assert_int_equal(parse(text), 0);
	assert_string_equal(c.firmware, "/fw.bin");
	assert_null(c.kernel);
	char *back = vmmconf_format(&c, err, sizeof(err));
	assert_non_null(back);
	assert_null(strstr(back, "\"kernel\""));
	struct vmm_config again;
	assert_int_equal(vmmconf_parse(back, &again, err, sizeof(err)), 0);
	assert_string_equal(again.firmware, "/fw.bin");
	assert_null(again.kernel);
	vmmconf_free(&again);
	free(back);
	vmmconf_free(&c);
	/* with its descriptor, and no kernel's */
	snprintf(text, sizeof(text), "%s,\"fds\":{\"kvm\":4,\"firmware\":5}}", fw);
	assert_int_equal(parse(text), 0);
	assert_int_equal(c.fd.firmware, 5);
	vmmconf_free(&c);
	/* a variable store and a boot order over two disks, and back */
	snprintf(text, sizeof(text),
		 "%s,\"nvram\":\"/a.nvram\",\"disks\":[{\"path\":\"/d0\"},{\"path\":\"/d1\"}],"
		 "\"boot_order\":[1,0],\"fds\":{\"kvm\":4,\"firmware\":5,\"nvram\":6,"
		 "\"disks\":[7,8]}}",
		 fw);
	assert_int_equal(parse(text), 0);
	assert_string_equal(c.nvram, "/a.nvram");
	assert_int_equal(c.fd.nvram, 6);
	assert_int_equal(c.nboot, 2);
	assert_int_equal(c.boot_order[0], 1);
	assert_int_equal(c.boot_order[1], 0);
	back = vmmconf_format(&c, err, sizeof(err));
	assert_non_null(back);
	assert_int_equal(vmmconf_parse(back, &again, err, sizeof(err)), 0);
	assert_string_equal(again.nvram, "/a.nvram");
	assert_int_equal(again.nboot, 2);
	assert_int_equal(again.boot_order[0], 1);
	vmmconf_free(&again);
	free(back);
	vmmconf_free(&c);
	static const struct {
		const char *more, *error;
	} bad[] = {
	    {",\"kernel\":\"/k\"", "kernel: not with firmware"},
	    {",\"initrd\":\"/i\"", "initrd: not with firmware"},
	    {",\"fds\":{\"kvm\":4}", "fds.firmware: missing"},
	    {",\"fds\":{\"kvm\":4,\"firmware\":5,\"kernel\":6}", "fds.kernel: not a resource"},
	    {",\"nvram\":\"/n\",\"fds\":{\"kvm\":4,\"firmware\":5}", "fds.nvram: missing"},
	    {",\"nvram\":5", "nvram"},
	    {",\"boot_order\":[0]", "boot_order: must be a list"},
	    {",\"disks\":[{\"path\":\"/d\"}],\"boot_order\":[0,0]", "boot_order: must be a list"},
	    {",\"disks\":[{\"path\":\"/d\"},{\"path\":\"/e\"}],\"boot_order\":[1,1]",
	     "boot_order[1]: disk 1 twice"},
	    {",\"disks\":[{\"path\":\"/d\"}],\"boot_order\":[\"0\"]",
	     "boot_order[0]: must be a disk index"},
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		snprintf(text, sizeof(text), "%s%s}", fw, bad[i].more);
		expect_whole_error(text, bad[i].error);
	}
	expect_whole_error("{\"name\":\"a\",\"vcpus\":1,\"memory_mib\":64,\"firmware\":\"\"}",
			   "firmware");
	expect_whole_error("{\"name\":\"a\",\"vcpus\":1,\"memory_mib\":64,\"firmware\":7}",
			   "firmware");
	expect_whole_error("{\"name\":\"a\",\"vcpus\":1,\"memory_mib\":64,\"kernel\":\"/k\","
			   "\"nvram\":\"/n\"}",
			   "nvram: only with firmware");
	expect_whole_error("{\"name\":\"a\",\"vcpus\":1,\"memory_mib\":64,\"kernel\":\"/k\","
			   "\"boot_order\":[]}",
			   "boot_order: only with firmware");
}

static void test_jail(void **state)
{
	(void)state;
	const char *fds = "\"fds\":{\"kvm\":4,\"kernel\":5}";
	char field[256];
	snprintf(field, sizeof(field),
		 "%s,\"jail\":{\"uid\":100001,\"gid\":100002,\"root\":\"/r\"}", fds);
	expect_ok(field);
	assert_true(c.jailed);
	assert_int_equal(c.jail.uid, 100001);
	assert_int_equal(c.jail.gid, 100002);
	assert_string_equal(c.jail.root, "/r");
	char *text = vmmconf_format(&c, err, sizeof(err));
	assert_non_null(strstr(text, "\"jail\""));
	free(text);
	vmmconf_free(&c);
	expect_error("\"jail\":{\"uid\":1,\"gid\":1,\"root\":\"/r\"}", "jail: needs fds");
	static const struct {
		const char *jail, *error;
	} bad[] = {
	    {"\"uid\":0,\"gid\":1,\"root\":\"/r\"", "jail.uid: must be an integer from 1"},
	    {"\"uid\":1,\"gid\":2147483648,\"root\":\"/r\"", "jail.gid: must be an integer"},
	    {"\"uid\":1,\"gid\":1", "jail.root: missing"},
	    {"\"uid\":1,\"gid\":1,\"root\":\"r\"", "jail.root: must be an absolute path"},
	    {"\"uid\":1,\"gid\":1,\"root\":\"/r\",\"caps\":1", "jail.caps: unknown field"},
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		snprintf(field, sizeof(field), "%s,\"jail\":{%s}", fds, bad[i].jail);
		expect_error(field, bad[i].error);
	}
}

/* keel-hostd's way: the configuration on a descriptor, read from its start */
static void test_load_fd(void **state)
{
	(void)state;
	char path[] = "/tmp/keel-test-vm-XXXXXX";
	int fd = mkstemp(path);
	assert_true(fd >= 0);
	unlink(path);
	const char *text = "{" BASE ",\"cmdline\":\"from a descriptor\"}";
	assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	assert_int_equal(vmmconf_load(NULL, fd, &c, err, sizeof(err)), 0);
	assert_string_equal(c.cmdline, "from a descriptor");
	vmmconf_free(&c);
	close(fd);
	assert_int_equal(vmmconf_load(NULL, fd, &c, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "Bad file descriptor"));
	assert_memory_equal(&c, &zero, sizeof(c));
}

static void test_load_missing_file(void **state)
{
	(void)state;
	memset(&c, 0x5a, sizeof(c));
	assert_int_equal(vmmconf_load("/nonexistent/vm.json", -1, &c, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "/nonexistent/vm.json"));
	assert_non_null(strstr(err, "No such file"));
	assert_memory_equal(&c, &zero, sizeof(c));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_full_config),
	    cmocka_unit_test(test_defaults),
	    cmocka_unit_test(test_console_types),
	    cmocka_unit_test(test_on_reboot_and_timer),
	    cmocka_unit_test(test_unknown_fields),
	    cmocka_unit_test(test_missing_required),
	    cmocka_unit_test(test_vcpus),
	    cmocka_unit_test(test_memory),
	    cmocka_unit_test(test_names),
	    cmocka_unit_test(test_strings),
	    cmocka_unit_test(test_console_errors),
	    cmocka_unit_test(test_cmdline),
	    cmocka_unit_test(test_not_an_object),
	    cmocka_unit_test(test_duplicate_keys),
	    cmocka_unit_test(test_late_failure_frees),
	    cmocka_unit_test(test_devices),
	    cmocka_unit_test(test_bad_devices),
	    cmocka_unit_test(test_load),
	    cmocka_unit_test(test_load_missing_file),
	    cmocka_unit_test(test_fds),
	    cmocka_unit_test(test_firmware),
	    cmocka_unit_test(test_jail),
	    cmocka_unit_test(test_load_fd),
	};
	vmmconf_free(&zero); /* sets its descriptors to none */
	return cmocka_run_group_tests(tests, NULL, NULL);
}
