#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <stdio.h>
#include <string.h>

#include "vmm/config.h"

static struct vmm_config c;
static char err[256];

static void test_full_config(void **state)
{
	(void)state;
	const char *text =
	    "{\"name\": \"web-1.a_b\", \"vcpus\": 4, \"memory_mib\": 512,"
	    " \"kernel\": \"/k\", \"initrd\": \"/i\", \"cmdline\": \"console=ttyS0 quiet\","
	    " \"console\": {\"type\": \"socket\", \"path\": \"/run/c.sock\"},"
	    " \"control\": \"/run/ctl.sock\", \"on_reboot\": \"exit\", \"boot_timer\": true}";
	assert_int_equal(config_parse(text, &c, err, sizeof(err)), 0);
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
	config_free(&c);
	assert_null(c.kernel);
}

static void test_defaults(void **state)
{
	(void)state;
	assert_int_equal(
	    config_parse("{\"name\":\"a\",\"vcpus\":1,\"memory_mib\":64,\"kernel\":\"/k\"}", &c,
			 err, sizeof(err)),
	    0);
	assert_null(c.initrd);
	assert_null(c.control);
	assert_string_equal(c.cmdline, "");
	assert_int_equal(c.console, CONSOLE_STDIO);
	assert_null(c.console_path);
	assert_false(c.reboot_exits);
	assert_false(c.boot_timer);
	config_free(&c);
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
		snprintf(text, sizeof(text),
			 "{\"name\":\"a\",\"vcpus\":1,\"memory_mib\":64,\"kernel\":\"/"
			 "k\",\"console\":%s}",
			 cases[i].json);
		assert_int_equal(config_parse(text, &c, err, sizeof(err)), 0);
		assert_int_equal(c.console, cases[i].type);
		if (cases[i].path)
			assert_string_equal(c.console_path, cases[i].path);
		else
			assert_null(c.console_path);
		config_free(&c);
	}
}

/* A valid config with one field replaced (or added); the parse must fail
 * with an error that starts with the field's name. */
static void expect_error(const char *field_json, const char *field)
{
	char text[8192];
	snprintf(text, sizeof(text),
		 "{\"name\":\"a\",\"vcpus\":1,\"memory_mib\":64,\"kernel\":\"/k\",%s}", field_json);
	assert_int_equal(config_parse(text, &c, err, sizeof(err)), -1);
	if (strncmp(err, field, strlen(field)) != 0)
		fail_msg("for %s: error \"%s\" does not name %s", field_json, err, field);
	assert_null(c.kernel); /* nothing left behind */
}

static void test_bad_fields(void **state)
{
	(void)state;
	expect_error("\"colour\":\"red\"", "colour: unknown field");
	expect_error("\"console\":{\"type\":\"file\",\"path\":\"/x\",\"speed\":9600}",
		     "console.speed: unknown field");
	expect_error("\"console\":{\"type\":\"tcp\"}", "console.type");
	expect_error("\"console\":{\"type\":\"file\"}", "console.path: missing");
	expect_error("\"console\":{\"type\":\"pty\",\"path\":\"/x\"}", "console.path");
	expect_error("\"console\":\"file\"", "console: must be an object");
	expect_error("\"on_reboot\":\"maybe\"", "on_reboot");
	expect_error("\"boot_timer\":\"yes\"", "boot_timer");
	expect_error("\"initrd\":\"\"", "initrd");
	expect_error("\"initrd\":7", "initrd: must be a string");
	expect_error("\"control\":null", "control: must be a string");
	expect_error("\"cmdline\":[]", "cmdline");

	char big[VMM_CMDLINE_MAX + 32];
	memset(big, 'x', sizeof(big));
	memcpy(big, "\"cmdline\":\"", 11);
	big[11 + VMM_CMDLINE_MAX] = '"';
	big[12 + VMM_CMDLINE_MAX] = '\0';
	expect_error(big, "cmdline");
}

static void expect_whole_error(const char *text, const char *field)
{
	assert_int_equal(config_parse(text, &c, err, sizeof(err)), -1);
	if (strncmp(err, field, strlen(field)) != 0)
		fail_msg("for %s: error \"%s\" does not start with %s", text, err, field);
	assert_null(c.kernel);
}

static void test_bad_values(void **state)
{
	(void)state;
	expect_whole_error("{\"vcpus\":1,\"memory_mib\":64,\"kernel\":\"/k\"}", "name: missing");
	expect_whole_error("{\"name\":\"a\",\"memory_mib\":64,\"kernel\":\"/k\"}",
			   "vcpus: missing");
	expect_whole_error("{\"name\":\"a\",\"vcpus\":1,\"kernel\":\"/k\"}", "memory_mib: missing");
	expect_whole_error("{\"name\":\"a\",\"vcpus\":1,\"memory_mib\":64}", "kernel: missing");
	const char *vcpus[] = {"0", "65", "-1", "\"2\"", "1.5", "true"};
	for (size_t i = 0; i < sizeof(vcpus) / sizeof(vcpus[0]); i++) {
		char text[256];
		snprintf(text, sizeof(text),
			 "{\"name\":\"a\",\"vcpus\":%s,\"memory_mib\":64,\"kernel\":\"/k\"}",
			 vcpus[i]);
		expect_whole_error(text, "vcpus: must be an integer from 1 to 64");
	}
	char text[256];
	snprintf(text, sizeof(text),
		 "{\"name\":\"a\",\"vcpus\":1,\"memory_mib\":%d,\"kernel\":\"/k\"}",
		 VMM_MIN_MEM_MIB - 1);
	expect_whole_error(text, "memory_mib");
	snprintf(text, sizeof(text),
		 "{\"name\":\"a\",\"vcpus\":1,\"memory_mib\":%d,\"kernel\":\"/k\"}",
		 VMM_MAX_MEM_MIB + 1);
	expect_whole_error(text, "memory_mib");
	expect_whole_error("{\"name\":\"a\",\"vcpus\":1,\"memory_mib\":1e20,\"kernel\":\"/k\"}",
			   "memory_mib");
	const char *names[] = {
	    "\"a b\"", "\"../x\"", "\"\"", "5",
	    "\"xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx\""};
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		snprintf(text, sizeof(text),
			 "{\"name\":%s,\"vcpus\":1,\"memory_mib\":64,\"kernel\":\"/k\"}", names[i]);
		expect_whole_error(text, "name: must be");
	}
	expect_whole_error("{\"name\":\"a\",\"vcpus\":1,\"memory_mib\":64,\"kernel\":\"\"}",
			   "kernel");
	expect_whole_error(
	    "{\"name\":\"a\",\"vcpus\":1,\"memory_mib\":64,\"kernel\":\"/k\\u0000x\"}",
	    "not valid JSON"); /* jansson refuses NUL in strings */
}

static void test_not_an_object(void **state)
{
	(void)state;
	expect_whole_error("[1, 2]", "the configuration must be a JSON object");
	expect_whole_error("{\"name\": ", "not valid JSON");
	expect_whole_error("", "not valid JSON");
	expect_whole_error(
	    "{\"name\":\"a\",\"name\":\"b\",\"vcpus\":1,\"memory_mib\":64,\"kernel\":\"/k\"}",
	    "not valid JSON");
}

static void test_devices(void **state)
{
	(void)state;
	const char *text =
	    "{\"name\":\"vm1\",\"vcpus\":1,\"memory_mib\":64,\"kernel\":\"/k\",\"rng\":true,"
	    " \"disks\":[{\"path\":\"/d0\"},{\"path\":\"/"
	    "d1\",\"readonly\":true,\"serial\":\"s-1\"}],"
	    " \"nics\":[{\"tap\":\"tap0\",\"mac\":\"52:54:00:ab:cd:ef\"},{\"tap\":\"tap1\"},{"
	    "\"tap\":\"tap2\"}]}";
	assert_int_equal(config_parse(text, &c, err, sizeof(err)), 0);
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
	config_free(&c);
	assert_int_equal(config_parse(text, &c, err, sizeof(err)), 0);
	assert_memory_equal(c.nics[1].mac, again, 6); /* stable */
	config_free(&c);
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
	expect_error("\"nics\":[{\"tap\":\"t0\",\"vlan\":5}]", "nics[0].vlan: unknown field");
	expect_error("\"nics\":[{\"tap\":\"t\"},{\"tap\":\"t\"},{\"tap\":\"t\"},{\"tap\":\"t\"},{"
		     "\"tap\":\"t\"}]",
		     "nics: must be a list of at most 4");
	expect_error("\"rng\":1", "rng");
}

static void test_load_missing_file(void **state)
{
	(void)state;
	assert_int_equal(config_load("/nonexistent/vm.json", &c, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "/nonexistent/vm.json"));
	assert_non_null(strstr(err, "No such file"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_full_config),	      cmocka_unit_test(test_defaults),
	    cmocka_unit_test(test_console_types),     cmocka_unit_test(test_bad_fields),
	    cmocka_unit_test(test_bad_values),	      cmocka_unit_test(test_not_an_object),
	    cmocka_unit_test(test_devices),	      cmocka_unit_test(test_bad_devices),
	    cmocka_unit_test(test_load_missing_file),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
