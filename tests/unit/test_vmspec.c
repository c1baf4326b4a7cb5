/* The VM specification (common/vmspec.h): one table of good and bad names,
 * MACs and sizes, run through both parsers that read a VM's settings:
 * keel-hostd's (vmconf_build, what the API is given) and keel-vmm's
 * (vmmconf_parse, its configuration file). They must agree on every row. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/util.h"
#include "common/vmmconf.h"
#include "common/vmspec.h"
#include "hostd/vmconf.h"

#define HOST_MEM VM_MAX_MEM_MIB /* the host's memory is not the rule under test */

/* `base` (a JSON object) with `key` set to the JSON `value`, or for "mac"
 * with its first NIC's MAC set to it (a new reference). */
static json_t *with(const char *base, const char *key, const char *value)
{
	json_t *o = json_loads(base, 0, NULL),
	       *v = json_loads(value, JSON_DECODE_ANY | JSON_ALLOW_NUL, NULL);
	if (!o || !v)
		fail_msg("bad JSON in test: %s / %s", base, value);
	if (strcmp(key, "mac") == 0)
		json_object_set_new(json_array_get(json_object_get(o, "nics"), 0), "mac", v);
	else
		json_object_set_new(o, key, v);
	return o;
}

/* Whether hostd's API accepts a VM with that field. */
static bool hostd_accepts(const char *key, const char *value)
{
	char err[512];
	json_t *body =
	    with("{\"name\":\"web1\",\"memory_mib\":64,\"kernel\":\"local/k\",\"nics\":[{}]}", key,
		 value);
	struct vm_config c;
	int rc = vmconf_build(body, NULL, HOST_MEM, &c, err, sizeof(err));
	json_decref(body);
	return rc == 0;
}

/* Whether keel-vmm accepts a configuration file with that field. */
static bool vmm_accepts(const char *key, const char *value)
{
	char err[512];
	json_t *o = with("{\"name\":\"web1\",\"vcpus\":1,\"memory_mib\":64,\"kernel\":\"/k\","
			 "\"nics\":[{\"tap\":\"t0\"}]}",
			 key, value);
	char *text = json_dumps(o, JSON_COMPACT);
	json_decref(o);
	struct vmm_config c;
	int rc = vmmconf_parse(text, &c, err, sizeof(err));
	free(text);
	if (rc == 0)
		vmmconf_free(&c);
	return rc == 0;
}

struct row {
	const char *key, *value;
	bool good;
};

static void check_rows(const struct row *rows, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		bool h = hostd_accepts(rows[i].key, rows[i].value),
		     v = vmm_accepts(rows[i].key, rows[i].value);
		if (h != rows[i].good || v != rows[i].good)
			fail_msg("%s = %s: hostd %s, keel-vmm %s, the rule says %s", rows[i].key,
				 rows[i].value, h ? "accepts" : "refuses",
				 v ? "accepts" : "refuses", rows[i].good ? "good" : "bad");
	}
}

static void test_names(void **state)
{
	(void)state;
	static const struct row rows[] = {
	    {"name", "\"web1\"", true},
	    {"name", "\"a\"", true},
	    {"name", "\"Web_1.prod-2\"", true},
	    {"name", "\"_x\"", true},
	    {"name", "\"a.\"", true},
	    {"name", "\"a-\"", true},
	    {"name", "\"1234567890123456789012345678901234567890123456789012345678901234\"", true},
	    {"name", "\"12345678901234567890123456789012345678901234567890123456789012345\"",
	     false},
	    {"name", "\"\"", false},
	    {"name", "\".\"", false},
	    {"name", "\"..\"", false},
	    {"name", "\".hidden\"", false},
	    {"name", "\"-x\"", false},
	    {"name", "\"a/b\"", false},
	    {"name", "\"a b\"", false},
	    {"name", "\"a\\tb\"", false},
	    {"name", "\"a\\nb\"", false},
	    {"name", "\" a\"", false},
	    {"name", "\"a \"", false},
	    {"name", "\"a:b\"", false},
	    {"name", "\"a\\\\b\"", false},
	    {"name", "\"caf\\u00e9\"", false},
	    {"name", "\"a\\u0000b\"", false},
	    {"name", "42", false},
	};
	check_rows(rows, ARRAY_SIZE(rows));
	for (size_t i = 0; i < ARRAY_SIZE(rows); i++) {
		json_t *s = json_loads(rows[i].value, JSON_DECODE_ANY | JSON_ALLOW_NUL, NULL);
		if (json_is_string(s) && strlen(json_string_value(s)) == json_string_length(s))
			assert_int_equal(vm_name_valid(json_string_value(s)), rows[i].good);
		json_decref(s);
	}
}

static void test_macs(void **state)
{
	(void)state;
	static const struct row rows[] = {
	    {"mac", "\"52:54:00:12:34:56\"", true},
	    {"mac", "\"52:54:00:AB:cd:EF\"", true},
	    {"mac", "\"02:00:00:00:00:01\"", true},
	    {"mac", "\"00:00:00:00:00:01\"", true},
	    {"mac", "\"00:00:00:00:00:00\"", false}, /* all zeros */
	    {"mac", "\"01:00:5e:00:00:01\"", false}, /* multicast */
	    {"mac", "\"ff:ff:ff:ff:ff:ff\"", false}, /* broadcast */
	    {"mac", "\"52:54:00:12:34\"", false},
	    {"mac", "\"52:54:00:12:34:56:78\"", false},
	    {"mac", "\"52-54-00-12-34-56\"", false},
	    {"mac", "\"52:54:00:12:34:5g\"", false},
	    {"mac", "\"5:254:00:12:34:56\"", false},
	    {"mac", "\" 52:54:00:12:34:5\"", false},
	    {"mac", "\"\"", false},
	    {"mac", "\"52:54:00:12:34:56\\u0000\"", false},
	    {"mac", "null", false},
	    {"mac", "42", false},
	};
	check_rows(rows, ARRAY_SIZE(rows));

	/* both write the same default MAC, and the text form round-trips */
	uint8_t m[6], back[6];
	char text[MAC_TEXT_LEN];
	mac_default("web1", 0, m);
	assert_int_equal(m[0], 0x52);
	mac_format(m, text);
	assert_int_equal(mac_parse(text, back), 0);
	assert_memory_equal(m, back, 6);
	char err[256];
	struct vm_config c;
	json_t *body = json_loads(
	    "{\"name\":\"web1\",\"memory_mib\":64,\"kernel\":\"local/k\",\"nics\":[{},{}]}", 0,
	    NULL);
	assert_int_equal(vmconf_build(body, NULL, HOST_MEM, &c, err, sizeof(err)), 0);
	json_decref(body);
	struct vmm_config v;
	assert_int_equal(
	    vmmconf_parse("{\"name\":\"web1\",\"vcpus\":1,\"memory_mib\":64,"
			  "\"kernel\":\"/k\",\"nics\":[{\"tap\":\"a\"},{\"tap\":\"b\"}]}",
			  &v, err, sizeof(err)),
	    0);
	assert_memory_equal(c.nics[0].mac, v.nics[0].mac, 6);
	assert_memory_equal(c.nics[1].mac, v.nics[1].mac, 6);
	assert_memory_not_equal(c.nics[0].mac, c.nics[1].mac, 6);
	vmmconf_free(&v);
}

static char *cmdline_of(size_t n)
{
	char *s = malloc(n + 3);
	assert_non_null(s);
	s[0] = '"';
	memset(s + 1, 'x', n);
	strcpy(s + 1 + n, "\"");
	return s;
}

static void test_sizes(void **state)
{
	(void)state;
	char max_vcpus[16], over_vcpus[16], min_mem[16], under_mem[16], max_mem[16], over_mem[16];
	snprintf(max_vcpus, sizeof(max_vcpus), "%d", VM_MAX_VCPUS);
	snprintf(over_vcpus, sizeof(over_vcpus), "%d", VM_MAX_VCPUS + 1);
	snprintf(min_mem, sizeof(min_mem), "%d", VM_MIN_MEM_MIB);
	snprintf(under_mem, sizeof(under_mem), "%d", VM_MIN_MEM_MIB - 1);
	snprintf(max_mem, sizeof(max_mem), "%d", VM_MAX_MEM_MIB);
	snprintf(over_mem, sizeof(over_mem), "%d", VM_MAX_MEM_MIB + 1);
	char *cmd_max = cmdline_of(VM_CMDLINE_MAX), *cmd_over = cmdline_of(VM_CMDLINE_MAX + 1);
	const struct row rows[] = {
	    {"vcpus", "1", true},
	    {"vcpus", max_vcpus, true},
	    {"vcpus", over_vcpus, false},
	    {"vcpus", "0", false},
	    {"vcpus", "-1", false},
	    {"vcpus", "1.5", false},
	    {"memory_mib", min_mem, true},
	    {"memory_mib", max_mem, true},
	    {"memory_mib", under_mem, false},
	    {"memory_mib", over_mem, false},
	    {"cmdline", "\"\"", true},
	    {"cmdline", cmd_max, true},
	    {"cmdline", cmd_over, false},
	};
	check_rows(rows, ARRAY_SIZE(rows));
	free(cmd_max);
	free(cmd_over);

	/* as many disks and NICs as the rule allows, and not one more */
	for (int extra = 0; extra <= 1; extra++) {
		char disks[2048] = "[", vdisks[2048] = "[", nics[1024] = "[", vnics[1024] = "[";
		for (int i = 0; i < VM_MAX_DISKS + extra; i++) {
			snprintf(disks + strlen(disks), sizeof(disks) - strlen(disks),
				 "%s{\"path\":\"local/d%d\"}", i ? "," : "", i);
			snprintf(vdisks + strlen(vdisks), sizeof(vdisks) - strlen(vdisks),
				 "%s{\"path\":\"/d%d\"}", i ? "," : "", i);
		}
		for (int i = 0; i < VM_MAX_NICS + extra; i++) {
			snprintf(nics + strlen(nics), sizeof(nics) - strlen(nics), "%s{}",
				 i ? "," : "");
			snprintf(vnics + strlen(vnics), sizeof(vnics) - strlen(vnics),
				 "%s{\"tap\":\"t%d\"}", i ? "," : "", i);
		}
		strcat(disks, "]");
		strcat(vdisks, "]");
		strcat(nics, "]");
		strcat(vnics, "]");
		assert_int_equal(hostd_accepts("disks", disks), !extra);
		assert_int_equal(vmm_accepts("disks", vdisks), !extra);
		assert_int_equal(hostd_accepts("nics", nics), !extra);
		assert_int_equal(vmm_accepts("nics", vnics), !extra);
	}
}

/* The TAP name hostd gives a VM's NIC, and reads back to find the VM. */
static void test_tap_names(void **state)
{
	(void)state;
	char tap[VM_TAP_NAME_LEN];
	int64_t id;
	unsigned nic;
	vm_tap_name(tap, 42, 3);
	assert_string_equal(tap, "kv42.3");
	assert_true(vm_tap_parse(tap, &id, &nic));
	assert_int_equal(id, 42);
	assert_int_equal(nic, 3);
	vm_tap_name(tap, 99999999, VM_MAX_NICS - 1);
	assert_true(strlen(tap) < VM_TAP_NAME_LEN);
	assert_true(vm_tap_parse(tap, &id, &nic));
	static const char *const not_taps[] = {"eth0",	 "kv",	  "kv1",    "kv1.",  "kv0.0",
					       "kv-1.0", "kv1.4", "kv1.0x", "kvx.0", "vSwitch0"};
	for (size_t i = 0; i < ARRAY_SIZE(not_taps); i++)
		if (vm_tap_parse(not_taps[i], &id, &nic))
			fail_msg("%s taken for a VM's TAP", not_taps[i]);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_names),
	    cmocka_unit_test(test_macs),
	    cmocka_unit_test(test_sizes),
	    cmocka_unit_test(test_tap_names),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
