#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "common/util.h"
#include "hostd/datastore.h"
#include "common/vmspec.h"
#include "common/vmmconf.h"
#include "hostd/vmconf.h"

#define HOST_MEM 4096

/* --- helpers -------------------------------------------------------------- */

static json_t *J(const char *text)
{
	json_error_t e;
	json_t *v = json_loads(text, JSON_DECODE_ANY, &e);
	if (!v)
		fail_msg("bad JSON in test: %s: %s", text, e.text);
	return v;
}

/* The smallest valid create body, with `key` set to `v` (stolen) if given. */
static json_t *body_with(const char *key, json_t *v)
{
	json_t *b = J("{\"name\":\"web1\",\"memory_mib\":512,\"kernel\":\"local/vmlinuz\"}");
	if (key)
		json_object_set_new(b, key, v);
	return b;
}

/* The configuration as the tests look at it: its canonical JSON, with each
 * disk to create carrying its "size_mib" as the API gave it. */
static json_t *to_json(const struct vm_config *c)
{
	json_t *j = vmconf_json(c);
	for (unsigned i = 0; i < c->ndisks; i++)
		if (c->disks[i].create_mib)
			json_object_set_new(json_array_get(json_object_get(j, "disks"), i),
					    "size_mib",
					    json_integer((json_int_t)c->disks[i].create_mib));
	return j;
}

/* vmconf_build with a base given as JSON (NULL: a create); the result as
 * JSON (to_json), or NULL with the message in err. */
static json_t *build(const json_t *body, const json_t *base, int64_t mem, char *err, size_t errlen)
{
	struct vm_config b, c;
	if (base && vmconf_from_json(base, &b, err, errlen) < 0)
		fail_msg("base: %s", err);
	if (vmconf_build(body, base ? &b : NULL, mem, &c, err, errlen) < 0)
		return NULL;
	return to_json(&c);
}

static json_t *build_ok_j(json_t *body, const json_t *base, int64_t mem)
{
	char err[512] = "";
	json_t *c = build(body, base, mem, err, sizeof(err));
	if (!c) {
		char *s = json_dumps(body, JSON_COMPACT);
		fail_msg("refused %s: %s", s, err);
	}
	json_decref(body);
	return c;
}

static json_t *build_ok(const char *text, const json_t *base, int64_t mem)
{
	return build_ok_j(J(text), base, mem);
}

/* Builds `body` (stolen), expects a refusal whose message starts with
 * `prefix`. */
static void build_err_j(json_t *body, const json_t *base, int64_t mem, const char *prefix)
{
	char err[512] = "";
	json_t *c = build(body, base, mem, err, sizeof(err));
	if (c) {
		char *s = json_dumps(body, JSON_COMPACT), *t = json_dumps(c, JSON_COMPACT);
		fail_msg("accepted %s as %s (wanted: %s)", s, t, prefix);
	}
	if (strncmp(err, prefix, strlen(prefix)) != 0) {
		char *s = json_dumps(body, JSON_COMPACT);
		fail_msg("%s: message \"%s\" does not start with \"%s\"", s, err, prefix);
	}
	json_decref(body);
}

static void build_err(const char *text, const json_t *base, int64_t mem, const char *prefix)
{
	build_err_j(J(text), base, mem, prefix);
}

/* A field of `key` set to the JSON `val` is refused, naming the field. */
static void field_err(const char *key, const char *val, const char *prefix)
{
	build_err_j(body_with(key, J(val)), NULL, HOST_MEM, prefix);
}

static json_t *field_ok(const char *key, const char *val)
{
	return build_ok_j(body_with(key, J(val)), NULL, HOST_MEM);
}

static const char *str(const json_t *o, const char *key)
{
	const char *s = json_string_value(json_object_get(o, key));
	if (!s)
		fail_msg("%s: not a string", key);
	return s;
}

static json_int_t num(const json_t *o, const char *key)
{
	json_t *v = json_object_get(o, key);
	if (!json_is_integer(v))
		fail_msg("%s: not an integer", key);
	return json_integer_value(v);
}

static json_t *at(const json_t *o, const char *key, size_t i)
{
	json_t *v = json_array_get(json_object_get(o, key), i);
	assert_non_null(v);
	return v;
}

static char *repeat(char c, size_t n)
{
	char *s = malloc(n + 1);
	assert_non_null(s);
	memset(s, c, n);
	s[n] = '\0';
	return s;
}

/* --- create: required fields and defaults -------------------------------- */

static void test_create_defaults(void **state)
{
	(void)state;
	json_t *c = build_ok("{\"name\":\"web1\",\"memory_mib\":512,\"kernel\":\"local/vmlinuz\"}",
			     NULL, HOST_MEM);
	json_t *want = J(
	    "{\"name\":\"web1\",\"vcpus\":1,\"memory_mib\":512,\"firmware\":\"none\","
	    "\"kernel\":\"local/vmlinuz\",\"initrd\":\"\",\"cmdline\":\"console=ttyS0\","
	    "\"disks\":[],\"boot_order\":[],\"nics\":[],\"autostart\":false,\"autostart_order\":0,"
	    "\"autostart_delay_s\":0,\"cloud_init\":null}");
	if (!json_equal(c, want)) {
		char *s = json_dumps(c, JSON_SORT_KEYS | JSON_COMPACT);
		fail_msg("defaults: %s", s);
	}
	assert_true(json_is_false(json_object_get(c, "autostart")));
	json_decref(want);
	json_decref(c);
}

static void test_create_all_fields(void **state)
{
	(void)state;
	json_t *c = build_ok(
	    "{\"name\":\"db\",\"vcpus\":4,\"memory_mib\":2048,\"kernel\":\"local/k/vmlinuz\","
	    "\"initrd\":\"nfs/boot/initrd.img\",\"cmdline\":\"console=ttyS0 quiet\","
	    "\"disks\":[{\"path\":\"local/db/root.img\"}],\"nics\":[{}],\"autostart\":true,"
	    "\"autostart_order\":3,\"autostart_delay_s\":10}",
	    NULL, HOST_MEM);
	assert_string_equal(str(c, "name"), "db");
	assert_int_equal(num(c, "vcpus"), 4);
	assert_int_equal(num(c, "memory_mib"), 2048);
	assert_string_equal(str(c, "kernel"), "local/k/vmlinuz");
	assert_string_equal(str(c, "initrd"), "nfs/boot/initrd.img");
	assert_string_equal(str(c, "cmdline"), "console=ttyS0 quiet");
	assert_int_equal(json_array_size(json_object_get(c, "disks")), 1);
	assert_int_equal(json_array_size(json_object_get(c, "nics")), 1);
	assert_true(json_is_true(json_object_get(c, "autostart")));
	assert_int_equal(num(c, "autostart_order"), 3);
	assert_int_equal(num(c, "autostart_delay_s"), 10);
	assert_int_equal(json_object_size(c), 14);
	json_decref(c);
}

static void test_create_required(void **state)
{
	(void)state;
	build_err("{\"memory_mib\":512,\"kernel\":\"local/vmlinuz\"}", NULL, HOST_MEM, "name:");
	build_err("{\"name\":\"web1\",\"kernel\":\"local/vmlinuz\"}", NULL, HOST_MEM,
		  "memory_mib: missing");
	build_err("{\"name\":\"web1\",\"memory_mib\":512,\"firmware\":\"none\"}", NULL, HOST_MEM,
		  "kernel: firmware \"none\" boots a kernel");
	build_err("{\"name\":\"web1\"}", NULL, HOST_MEM, "memory_mib: missing");
	build_err("{}", NULL, HOST_MEM, "name:");
	/* the body itself */
	build_err("[]", NULL, HOST_MEM, "the body must be a JSON object");
	build_err("\"x\"", NULL, HOST_MEM, "the body must be a JSON object");
	build_err("null", NULL, HOST_MEM, "the body must be a JSON object");
	/* a required field present but null is a type error, not a default */
	field_err("memory_mib", "null", "memory_mib:");
	field_err("kernel", "null", "kernel:");
}

static void test_create_bad_name(void **state)
{
	(void)state;
	char *n64 = repeat('a', 64), *n65 = repeat('a', 65);
	const char *bad[] = {"\"\"",  "\".x\"", "\"-x\"", "\"a/b\"", "\"a b\"",
			     "\"/\"", "5",	"null",	  "true",    "[\"web1\"]"};
	for (size_t i = 0; i < ARRAY_SIZE(bad); i++)
		field_err("name", bad[i], "name:");
	json_decref(build_ok_j(body_with("name", json_string(n64)), NULL, HOST_MEM));
	build_err_j(body_with("name", json_string(n65)), NULL, HOST_MEM, "name:");
	free(n64);
	free(n65);
}

/* --- create: each field's type and range ---------------------------------- */

static void test_vcpus(void **state)
{
	(void)state;
	const char *bad[] = {"0", "-1", "65", "1000", "\"2\"", "2.0", "1.5", "true", "null", "[]"};
	for (size_t i = 0; i < ARRAY_SIZE(bad); i++)
		field_err("vcpus", bad[i], "vcpus: must be an integer from 1 to 64");
	json_t *c = field_ok("vcpus", "1");
	assert_int_equal(num(c, "vcpus"), 1);
	json_decref(c);
	c = field_ok("vcpus", "64");
	assert_int_equal(num(c, "vcpus"), 64);
	json_decref(c);
}

static void test_memory(void **state)
{
	(void)state;
	const char *bad[] = {"31", "0", "-512", "\"512\"", "512.0", "false", "{}"};
	for (size_t i = 0; i < ARRAY_SIZE(bad); i++)
		field_err("memory_mib", bad[i], "memory_mib: must be an integer from 32 to 4096");
	/* the upper bound is the host's memory */
	field_err("memory_mib", "4097", "memory_mib: must be an integer from 32 to 4096");
	json_t *c = field_ok("memory_mib", "32");
	assert_int_equal(num(c, "memory_mib"), 32);
	json_decref(c);
	c = field_ok("memory_mib", "4096");
	assert_int_equal(num(c, "memory_mib"), 4096);
	json_decref(c);

	/* a different host */
	build_err_j(body_with("memory_mib", json_integer(1025)), NULL, 1024,
		    "memory_mib: must be an integer from 32 to 1024");
	c = build_ok_j(body_with("memory_mib", json_integer(1024)), NULL, 1024);
	json_decref(c);
	c = build_ok_j(body_with("memory_mib", json_integer(100000)), NULL, 100000);
	json_decref(c);

	/* never more than keel-vmm's limit (1 TiB), however large the host */
	c = build_ok_j(body_with("memory_mib", json_integer(1048576)), NULL, 4 * 1048576);
	json_decref(c);
	build_err_j(body_with("memory_mib", json_integer(1048577)), NULL, 4 * 1048576,
		    "memory_mib: must be an integer from 32 to 1048576");
}

static void test_kernel(void **state)
{
	(void)state;
	const char *bad[] = {"5",
			     "\"nods\"",
			     "\"local\"",
			     "\"/abs\"",
			     "\"/local/vmlinuz\"",
			     "\"local/\"",
			     "\"local//vmlinuz\"",
			     "\"local/../x\"",
			     "\"local/a/../../x\"",
			     "\"local/./x\"",
			     "\"local/.hidden\"",
			     "\"local/a\\\\b\"",
			     "\"local/a\\nb\"",
			     "\"local/dir/\"",
			     "null",
			     "[\"local/vmlinuz\"]"};
	for (size_t i = 0; i < ARRAY_SIZE(bad); i++)
		field_err("kernel", bad[i], "kernel:");
	field_err("kernel", "\"nods\"", "kernel: want DATASTORE/PATH");
	field_err("kernel", "\"/abs\"", "kernel: want DATASTORE/PATH");
	field_err("kernel", "5", "kernel: a string is needed");

	json_t *c = field_ok("kernel", "\"nfs/boot/vmlinuz-6.6\"");
	assert_string_equal(str(c, "kernel"), "nfs/boot/vmlinuz-6.6");
	json_decref(c);

	/* the datastore name: at most 63 bytes */
	char *ds63 = repeat('d', 63), *ds64 = repeat('d', 64), p[128];
	snprintf(p, sizeof(p), "%s/vmlinuz", ds63);
	json_decref(build_ok_j(body_with("kernel", json_string(p)), NULL, HOST_MEM));
	snprintf(p, sizeof(p), "%s/vmlinuz", ds64);
	build_err_j(body_with("kernel", json_string(p)), NULL, HOST_MEM, "kernel:");
	free(ds63);
	free(ds64);
}

static void test_initrd(void **state)
{
	(void)state;
	const char *bad[] = {"5",
			     "null",
			     "\"nods\"",
			     "\"/abs\"",
			     "\"local\"",
			     "\"local/../x\"",
			     "\"local/.x\"",
			     "\"local/\"",
			     "\"local//x\"",
			     "false"};
	for (size_t i = 0; i < ARRAY_SIZE(bad); i++)
		field_err("initrd", bad[i], "initrd:");
	json_t *c = field_ok("initrd", "\"\"");
	assert_string_equal(str(c, "initrd"), "");
	json_decref(c);
	c = field_ok("initrd", "\"local/initrd.img\"");
	assert_string_equal(str(c, "initrd"), "local/initrd.img");
	json_decref(c);
}

static void test_cmdline(void **state)
{
	(void)state;
	field_err("cmdline", "5", "cmdline: must be a string of at most 2048 bytes");
	field_err("cmdline", "null", "cmdline: must be a string of at most 2048 bytes");
	field_err("cmdline", "[\"x\"]", "cmdline: must be a string of at most 2048 bytes");
	field_err("cmdline", "\"console=ttyS0\\nquiet\"", "cmdline: control characters");
	field_err("cmdline", "\"a\\tb\"", "cmdline: control characters");
	field_err("cmdline", "\"a\\u007fb\"", "cmdline: control characters");
	field_err("cmdline", "\"\\u0001\"", "cmdline: control characters");

	char *s2048 = repeat('x', 2048), *s2049 = repeat('x', 2049);
	json_t *c = build_ok_j(body_with("cmdline", json_string(s2048)), NULL, HOST_MEM);
	assert_int_equal(strlen(str(c, "cmdline")), 2048);
	json_decref(c);
	build_err_j(body_with("cmdline", json_string(s2049)), NULL, HOST_MEM,
		    "cmdline: must be a string of at most 2048 bytes");
	free(s2048);
	free(s2049);

	c = field_ok("cmdline", "\"\"");
	assert_string_equal(str(c, "cmdline"), "");
	json_decref(c);
	/* UTF-8 is not a control character */
	c = field_ok("cmdline", "\"root=/dev/vda caf\\u00e9\"");
	assert_string_equal(str(c, "cmdline"), "root=/dev/vda caf\xc3\xa9");
	json_decref(c);
}

static void test_autostart_fields(void **state)
{
	(void)state;
	const char *bad_bool[] = {"1", "0", "\"true\"", "null", "[]"};
	for (size_t i = 0; i < ARRAY_SIZE(bad_bool); i++)
		field_err("autostart", bad_bool[i], "autostart: must be true or false");
	json_t *c = field_ok("autostart", "true");
	assert_true(json_is_true(json_object_get(c, "autostart")));
	json_decref(c);

	const char *bad_order[] = {"-1", "1000001", "\"1\"", "1.0", "true", "null"};
	for (size_t i = 0; i < ARRAY_SIZE(bad_order); i++)
		field_err("autostart_order", bad_order[i],
			  "autostart_order: must be an integer from 0 to 1000000");
	c = field_ok("autostart_order", "1000000");
	assert_int_equal(num(c, "autostart_order"), 1000000);
	json_decref(c);

	const char *bad_delay[] = {"-1", "3601", "\"5\"", "2.5", "false", "null"};
	for (size_t i = 0; i < ARRAY_SIZE(bad_delay); i++)
		field_err("autostart_delay_s", bad_delay[i],
			  "autostart_delay_s: must be an integer from 0 to 3600");
	c = field_ok("autostart_delay_s", "3600");
	assert_int_equal(num(c, "autostart_delay_s"), 3600);
	json_decref(c);
	c = field_ok("autostart_delay_s", "0");
	assert_int_equal(num(c, "autostart_delay_s"), 0);
	json_decref(c);
}

static void test_unknown_fields(void **state)
{
	(void)state;
	field_err("foo", "1", "foo: unknown field");
	field_err("id", "7", "id: unknown field");
	field_err("state", "\"running\"", "state: unknown field");
	field_err("Name", "\"x\"", "Name: unknown field");
	field_err("memory", "512", "memory: unknown field");
}

/* --- disks ---------------------------------------------------------------- */

static void test_disks(void **state)
{
	(void)state;
	json_t *c =
	    field_ok("disks", "[{\"path\":\"local/web1/root.img\"},"
			      "{\"path\":\"local/iso/x.iso\",\"readonly\":true},"
			      "{\"path\":\"nfs/data.img\",\"readonly\":false,\"size_mib\":1024}]");
	json_t *want = J("[{\"path\":\"local/web1/root.img\",\"readonly\":false},"
			 "{\"path\":\"local/iso/x.iso\",\"readonly\":true},"
			 "{\"path\":\"nfs/data.img\",\"readonly\":false,\"size_mib\":1024}]");
	if (!json_equal(json_object_get(c, "disks"), want)) {
		char *s = json_dumps(json_object_get(c, "disks"), JSON_COMPACT);
		fail_msg("disks: %s", s);
	}
	/* readonly is always there, and a boolean */
	assert_true(json_is_false(json_object_get(at(c, "disks", 0), "readonly")));
	assert_true(json_is_true(json_object_get(at(c, "disks", 1), "readonly")));
	assert_int_equal(num(at(c, "disks", 2), "size_mib"), 1024);
	json_decref(want);
	json_decref(c);

	c = field_ok("disks", "[]");
	assert_int_equal(json_array_size(json_object_get(c, "disks")), 0);
	json_decref(c);
}

static void test_disk_paths(void **state)
{
	(void)state;
	const char *bad[] = {"local/../x", "/abs",     "local", "nods",	    "local/",
			     "local//x",   "/local/x", "",	"local/.x", "local/a/..",
			     "local/./a",  "../x/y",   "a b/x", ".ds/x",    "-ds/x"};
	for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
		json_t *d = json_pack("[{s:s}]", "path", bad[i]);
		build_err_j(body_with("disks", d), NULL, HOST_MEM, "disks[0].path:");
	}
	build_err_j(body_with("disks", json_pack("[{s:s}]", "path", "nods")), NULL, HOST_MEM,
		    "disks[0].path: want DATASTORE/PATH");
	build_err_j(body_with("disks", json_pack("[{s:s}]", "path", "/abs")), NULL, HOST_MEM,
		    "disks[0].path: want DATASTORE/PATH");
	/* the index of the bad disk is named */
	field_err("disks",
		  "[{\"path\":\"local/a\"},{\"path\":\"local/b\"},{\"path\":\"local/../c\"}]",
		  "disks[2].path:");
	field_err("disks", "[{\"path\":5}]", "disks[0].path: a string is needed");
	field_err("disks", "[{\"path\":null}]", "disks[0].path: a string is needed");
	field_err("disks", "[{}]", "disks[0].path: a string is needed");
	field_err("disks", "[{\"readonly\":true}]", "disks[0].path: a string is needed");
}

static void test_disk_fields(void **state)
{
	(void)state;
	field_err("disks", "{}", "disks: must be an array of at most 8 disks");
	field_err("disks", "\"local/a\"", "disks: must be an array of at most 8 disks");
	field_err("disks", "null", "disks: must be an array of at most 8 disks");
	field_err("disks", "[\"local/a\"]", "disks[0]: must be an object");
	field_err("disks", "[{\"path\":\"local/a\"},5]", "disks[1]: must be an object");
	field_err("disks", "[{\"path\":\"local/a\",\"serial\":\"x\"}]",
		  "disks[0].serial: unknown field");
	field_err("disks", "[{\"path\":\"local/a\",\"readonly\":1}]",
		  "disks[0].readonly: must be true or false");
	field_err("disks", "[{\"path\":\"local/a\",\"readonly\":\"yes\"}]",
		  "disks[0].readonly: must be true or false");
	field_err("disks", "[{\"path\":\"local/a\",\"readonly\":null}]",
		  "disks[0].readonly: must be true or false");

	/* size_mib: 1 MiB to DS_DISK_MAX */
	char max[64];
	snprintf(max, sizeof(max), "%llu", (unsigned long long)(DS_DISK_MAX >> 20));
	const char *bad_size[] = {"0", "-1", "\"10\"", "1.5", "true", "null", "67108865"};
	for (size_t i = 0; i < ARRAY_SIZE(bad_size); i++) {
		char b[128], want[128];
		snprintf(b, sizeof(b), "[{\"path\":\"local/a\",\"size_mib\":%s}]", bad_size[i]);
		snprintf(want, sizeof(want), "disks[0].size_mib: must be an integer from 1 to %s",
			 max);
		field_err("disks", b, want);
	}
	json_t *c = field_ok("disks", "[{\"path\":\"local/a\",\"size_mib\":67108864},"
				      "{\"path\":\"local/b\",\"size_mib\":1}]");
	assert_int_equal(num(at(c, "disks", 0), "size_mib"), 67108864);
	assert_int_equal(num(at(c, "disks", 1), "size_mib"), 1);
	json_decref(c);
}

static void test_disk_duplicates(void **state)
{
	(void)state;
	field_err("disks", "[{\"path\":\"local/a\"},{\"path\":\"local/a\"}]",
		  "disks[1].path: local/a is already disk 0");
	field_err("disks",
		  "[{\"path\":\"local/a\"},{\"path\":\"local/b\"},"
		  "{\"path\":\"local/b\",\"readonly\":true}]",
		  "disks[2].path: local/b is already disk 1");
	/* the same path on another datastore is another file */
	json_t *c = field_ok("disks", "[{\"path\":\"local/a\"},{\"path\":\"nfs/a\"}]");
	assert_int_equal(json_array_size(json_object_get(c, "disks")), 2);
	json_decref(c);
}

static void test_disk_count(void **state)
{
	(void)state;
	json_t *d = json_array();
	for (int i = 0; i < VM_MAX_DISKS; i++) {
		char p[32];
		snprintf(p, sizeof(p), "local/d%d.img", i);
		json_array_append_new(d, json_pack("{s:s}", "path", p));
	}
	json_t *c = build_ok_j(body_with("disks", json_deep_copy(d)), NULL, HOST_MEM);
	assert_int_equal(json_array_size(json_object_get(c, "disks")), 8);
	json_decref(c);
	json_array_append_new(d, json_pack("{s:s}", "path", "local/d8.img"));
	build_err_j(body_with("disks", d), NULL, HOST_MEM,
		    "disks: must be an array of at most 8 disks");
}

/* --- nics ----------------------------------------------------------------- */

static int mac_format_ok(const char *m)
{
	if (strlen(m) != 17)
		return 0;
	for (int i = 0; i < 17; i++)
		if (i % 3 == 2 ? m[i] != ':' : !strchr("0123456789abcdef", m[i]))
			return 0;
	return 1;
}

static void test_nic_default_mac(void **state)
{
	(void)state;
	json_t *c = field_ok("nics", "[{},{},{},{}]");
	json_t *again = field_ok("nics", "[{},{},{},{}]");
	const char *m[4];
	for (size_t i = 0; i < 4; i++) {
		json_t *n = at(c, "nics", i);
		assert_int_equal(json_object_size(n), 2);
		assert_string_equal(str(n, "portgroup"), "VM Network"); /* the default */
		m[i] = str(n, "mac");
		assert_true(mac_format_ok(m[i])); /* lowercase hex */
		assert_memory_equal(m[i], "52:54:00:", 9);
		unsigned first = (unsigned)strtoul(m[i], NULL, 16);
		assert_int_equal(first & 1, 0); /* unicast */
		/* stable: the same name gives the same MACs */
		assert_string_equal(m[i], str(at(again, "nics", i), "mac"));
		for (size_t j = 0; j < i; j++)
			assert_string_not_equal(m[i], m[j]);
	}
	/* stable across versions too (guests' network config depends on it):
	 * 52:54:00 + the low three bytes of FNV-1a("web1", index), the same as
	 * keel-vmm's own default */
	assert_string_equal(m[0], "52:54:00:72:9d:a0");
	assert_string_equal(m[1], "52:54:00:72:9f:33");
	assert_string_equal(m[2], "52:54:00:72:a0:c6");
	assert_string_equal(m[3], "52:54:00:72:a2:59");

	/* another name, other MACs */
	json_t *b = body_with("nics", J("[{}]"));
	json_object_set_new(b, "name", json_string("web2"));
	json_t *c2 = build_ok_j(b, NULL, HOST_MEM);
	assert_string_equal(str(at(c2, "nics", 0), "mac"), "52:54:00:7a:0c:db");
	assert_string_not_equal(str(at(c2, "nics", 0), "mac"), m[0]);
	json_decref(c2);

	/* a NIC's default depends on its index, not on the NICs before it */
	json_t *c3 = field_ok("nics", "[{\"mac\":\"52:54:00:00:00:01\"},{}]");
	assert_string_equal(str(at(c3, "nics", 0), "mac"), "52:54:00:00:00:01");
	assert_string_equal(str(at(c3, "nics", 1), "mac"), "52:54:00:72:9f:33");
	json_decref(c3);
	json_decref(again);
	json_decref(c);
}

static void test_nic_mac(void **state)
{
	(void)state;
	json_t *c =
	    field_ok("nics", "[{\"mac\":\"52:54:00:AB:cd:EF\"},{\"mac\":\"02:00:00:00:00:01\"},"
			     "{\"mac\":\"FE:FF:FF:FF:FF:FF\"}]");
	assert_string_equal(str(at(c, "nics", 0), "mac"), "52:54:00:ab:cd:ef");
	assert_string_equal(str(at(c, "nics", 1), "mac"), "02:00:00:00:00:01");
	assert_string_equal(str(at(c, "nics", 2), "mac"), "fe:ff:ff:ff:ff:ff");
	json_decref(c);

	const char *bad[] = {"\"01:00:5e:00:00:01\"", /* multicast */
			     "\"01:23:45:67:89:ab\"",
			     "\"33:33:00:00:00:01\"",
			     "\"ff:ff:ff:ff:ff:ff\"", /* broadcast */
			     "\"00:00:00:00:00:00\"", /* all zero */
			     "\"52:54:00:12:34\"",
			     "\"52:54:00:12:34:56:78\"",
			     "\"52:54:00:12:34:5\"",
			     "\"52:54:00:12:34:567\"",
			     "\"52-54-00-12-34-56\"",
			     "\"5254.0012.3456\"",
			     "\"525400123456\"",
			     "\"52:54:00:12:34:5g\"",
			     "\"52:54:00:12:34:-5\"",
			     "\"+2:54:00:12:34:56\"",
			     "\" 52:54:00:12:34:5\"",
			     "\"\"",
			     "5",
			     "null",
			     "true",
			     "[]"};
	for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
		char b[128];
		snprintf(b, sizeof(b), "[{},{\"mac\":%s}]", bad[i]);
		field_err("nics", b, "nics[1].mac: want a unicast MAC");
	}
	/* two NICs of one VM never share a MAC, however it is written */
	field_err("nics", "[{\"mac\":\"52:54:00:ab:cd:ef\"},{\"mac\":\"52:54:00:AB:CD:EF\"}]",
		  "nics[1].mac: 52:54:00:ab:cd:ef is already NIC 0's");
}

static void test_nic_shape(void **state)
{
	(void)state;
	field_err("nics", "{}", "nics: must be an array of at most 4 NICs");
	field_err("nics", "null", "nics: must be an array of at most 4 NICs");
	field_err("nics", "\"52:54:00:12:34:56\"", "nics: must be an array of at most 4 NICs");
	field_err("nics", "[5]", "nics[0]: must be {} or");
	field_err("nics", "[\"52:54:00:12:34:56\"]", "nics[0]: must be {} or");
	field_err("nics", "[{},[]]", "nics[1]: must be {} or");
	field_err("nics", "[{\"tap\":\"x\"}]", "nics[0]: must be {} or");
	field_err("nics", "[{\"mac\":\"52:54:00:12:34:56\",\"tap\":\"x\"}]",
		  "nics[0]: must be {} or");

	field_err("nics", "[{\"portgroup\":\"\"}]", "nics[0].portgroup: a port group name");
	field_err("nics", "[{\"portgroup\":5}]", "nics[0].portgroup: a port group name");
	field_err("nics", "[{\"portgroup\":\"a\",\"mac\":\"52:54:00:12:34:56\",\"x\":1}]",
		  "nics[0]: must be {} or");

	json_t *c = field_ok("nics", "[{\"portgroup\":\"VLAN 10\",\"mac\":\"52:54:00:12:34:56\"}]");
	assert_string_equal(str(at(c, "nics", 0), "portgroup"), "VLAN 10");
	assert_string_equal(str(at(c, "nics", 0), "mac"), "52:54:00:12:34:56");
	json_decref(c);
	c = field_ok("nics", "[]");
	assert_int_equal(json_array_size(json_object_get(c, "nics")), 0);
	json_decref(c);
	c = field_ok("nics", "[{},{},{},{}]");
	assert_int_equal(json_array_size(json_object_get(c, "nics")), 4);
	json_decref(c);
	field_err("nics", "[{},{},{},{},{}]", "nics: must be an array of at most 4 NICs");
}

/* --- update --------------------------------------------------------------- */

static json_t *make_base(void)
{
	return build_ok("{\"name\":\"web1\",\"vcpus\":2,\"memory_mib\":1024,"
			"\"kernel\":\"local/vmlinuz\",\"initrd\":\"local/initrd\","
			"\"disks\":[{\"path\":\"local/web1/root.img\"}],\"nics\":[{}],"
			"\"autostart\":true,\"autostart_order\":5}",
			NULL, HOST_MEM);
}

static void test_update_changes(void **state)
{
	(void)state;
	json_t *base = make_base(), *copy = json_deep_copy(base);
	json_t *c =
	    build_ok("{\"vcpus\":4,\"cmdline\":\"quiet\",\"autostart\":false}", base, HOST_MEM);
	assert_int_equal(num(c, "vcpus"), 4);
	assert_string_equal(str(c, "cmdline"), "quiet");
	assert_true(json_is_false(json_object_get(c, "autostart")));
	/* everything else is kept */
	json_t *expect = json_deep_copy(base);
	json_object_set_new(expect, "vcpus", json_integer(4));
	json_object_set_new(expect, "cmdline", json_string("quiet"));
	json_object_set_new(expect, "autostart", json_false());
	assert_true(json_equal(c, expect));
	/* the base is not touched */
	assert_true(json_equal(base, copy));
	json_decref(expect);
	json_decref(c);

	/* an empty update is the base */
	c = build_ok("{}", base, HOST_MEM);
	assert_true(json_equal(c, base));
	assert_ptr_not_equal(c, base);
	json_decref(c);

	/* initrd removed; disks replaced as a whole */
	c = build_ok("{\"initrd\":\"\",\"disks\":[{\"path\":\"local/new.img\",\"size_mib\":8}]}",
		     base, HOST_MEM);
	assert_string_equal(str(c, "initrd"), "");
	assert_int_equal(json_array_size(json_object_get(c, "disks")), 1);
	assert_string_equal(str(at(c, "disks", 0), "path"), "local/new.img");
	assert_int_equal(num(at(c, "disks", 0), "size_mib"), 8);
	assert_string_equal(str(c, "name"), "web1");
	json_decref(c);

	/* new NICs get the defaults of the VM's (base's) name */
	c = build_ok("{\"nics\":[{},{}]}", base, HOST_MEM);
	assert_string_equal(str(at(c, "nics", 0), "mac"), "52:54:00:72:9d:a0");
	assert_string_equal(str(at(c, "nics", 1), "mac"), "52:54:00:72:9f:33");
	json_decref(c);

	/* memory: the host's bound applies on update too */
	build_err("{\"memory_mib\":4097}", base, HOST_MEM, "memory_mib:");
	c = build_ok("{\"memory_mib\":4097}", base, 8192);
	assert_int_equal(num(c, "memory_mib"), 4097);
	json_decref(c);

	assert_true(json_equal(base, copy));
	json_decref(copy);
	json_decref(base);
}

static void test_update_refused(void **state)
{
	(void)state;
	json_t *base = make_base(), *copy = json_deep_copy(base);
	build_err("{\"name\":\"web2\"}", base, HOST_MEM, "name: cannot be changed");
	build_err("{\"name\":\"web1\"}", base, HOST_MEM, "name: cannot be changed");
	build_err("{\"name\":\"web2\",\"vcpus\":3}", base, HOST_MEM, "name: cannot be changed");
	build_err("[]", base, HOST_MEM, "the body must be a JSON object");
	/* good fields first, then a bad one: nothing of it reaches the base */
	build_err("{\"vcpus\":8,\"cmdline\":\"x\",\"disks\":[],\"nics\":[],\"memory_mib\":0}", base,
		  HOST_MEM, "memory_mib:");
	build_err("{\"vcpus\":8,\"disks\":[{\"path\":\"local/a\"},{\"path\":\"local/a\"}]}", base,
		  HOST_MEM, "disks[1].path:");
	build_err("{\"autostart\":false,\"bogus\":1}", base, HOST_MEM, "bogus: unknown field");
	build_err("{\"kernel\":\"local/../etc/passwd\"}", base, HOST_MEM, "kernel:");
	build_err("{\"nics\":[{\"mac\":\"01:00:00:00:00:00\"}]}", base, HOST_MEM, "nics[0].mac:");
	assert_true(json_equal(base, copy));
	json_decref(copy);
	json_decref(base);
}

/* --- disks to create ------------------------------------------------------ */

/* A disk's size_mib says "create it": it is in the struct, never in the
 * canonical JSON (shown and stored), and a stored configuration read back
 * has nothing to create. */
static void test_sizes_not_shown(void **state)
{
	(void)state;
	char err[256];
	json_t *body = body_with("disks", J("[{\"path\":\"local/a\",\"size_mib\":10},"
					    "{\"path\":\"local/b\",\"readonly\":true},"
					    "{\"path\":\"local/c\",\"size_mib\":20}]"));
	struct vm_config c, back;
	assert_int_equal(vmconf_build(body, NULL, HOST_MEM, &c, err, sizeof(err)), 0);
	assert_int_equal(c.ndisks, 3);
	assert_int_equal(c.disks[0].create_mib, 10);
	assert_int_equal(c.disks[1].create_mib, 0);
	assert_int_equal(c.disks[2].create_mib, 20);
	json_t *shown = vmconf_json(&c);
	json_t *want = J("[{\"path\":\"local/a\",\"readonly\":false},"
			 "{\"path\":\"local/b\",\"readonly\":true},"
			 "{\"path\":\"local/c\",\"readonly\":false}]");
	assert_true(json_equal(json_object_get(shown, "disks"), want));
	assert_int_equal(json_object_size(shown), 14);
	/* with a size in the stored text, nothing is to be created either */
	assert_int_equal(vmconf_from_json(body, &back, err, sizeof(err)), 0);
	for (unsigned i = 0; i < back.ndisks; i++)
		assert_int_equal(back.disks[i].create_mib, 0);
	assert_int_equal(vmconf_from_json(shown, &back, err, sizeof(err)), 0);
	json_t *again = vmconf_json(&back);
	assert_true(json_equal(again, shown));
	json_decref(again);
	json_decref(want);
	json_decref(shown);
	json_decref(body);
}

/* A stored configuration that no longer passes the checks is refused. */
static void test_from_json_checks(void **state)
{
	(void)state;
	char err[256] = "";
	struct vm_config c;
	json_t *bad = J("{\"name\":\"../x\",\"memory_mib\":64,\"kernel\":\"local/k\"}");
	assert_int_equal(vmconf_from_json(bad, &c, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "name"));
	json_decref(bad);
	/* more memory than this host has is still a VM (it was another host's) */
	json_t *big = J("{\"name\":\"x\",\"memory_mib\":1048576,\"kernel\":\"local/k\"}");
	assert_int_equal(vmconf_from_json(big, &c, err, sizeof(err)), 0);
	assert_int_equal(c.memory_mib, 1048576);
	json_decref(big);
}

/* --- vmconf_vmm ----------------------------------------------------------- */

static int resolve_calls;

/* "local/X" is /datastores/local/X; every other datastore is unknown */
static int fake_resolve(const char *dspath, char *out, size_t outlen, char *err, size_t errlen)
{
	resolve_calls++;
	if (!dspath)
		return errorf(err, errlen, "(null): no path");
	if (strncmp(dspath, "local/", 6) != 0) {
		size_t n = strcspn(dspath, "/");
		return errorf(err, errlen, "%.*s: no such datastore", (int)n, dspath);
	}
	if ((size_t)snprintf(out, outlen, "/datastores/%s", dspath) >= outlen)
		return errorf(err, errlen, "%s: path too long", dspath);
	return 0;
}

/* vmconf_vmm of the configuration `conf` (JSON), parsed back. */
static json_t *vmm_json(const json_t *conf, int64_t id, const char *console, const char *control,
			char *err, size_t errlen)
{
	static const unsigned mtu[VM_MAX_NICS] = {1500, 9000, 1500, 1500};
	struct vm_config c;
	if (vmconf_from_json(conf, &c, err, errlen) < 0)
		fail_msg("conf: %s", err);
	const struct vmconf_host host = {
	    .id = id,
	    .mtu = mtu,
	    .console_path = console,
	    .control_path = control,
	    .firmware = c.firmware == VM_FIRMWARE_NONE ? NULL : "/fw/code.fd",
	    .nvram = c.firmware == VM_FIRMWARE_UEFI ? "/datastores/local/a/a.nvram" : NULL,
	    .resolve = fake_resolve};
	struct vmm_config vc;
	if (vmconf_vmm(&c, &host, &vc, err, errlen) < 0)
		return NULL;
	char *text = vmmconf_format(&vc, err, errlen);
	vmmconf_free(&vc);
	json_t *v = text ? J(text) : NULL;
	free(text);
	return v;
}

static void test_vmm(void **state)
{
	(void)state;
	json_t *conf = build_ok(
	    "{\"name\":\"web1\",\"vcpus\":2,\"memory_mib\":1024,\"kernel\":\"local/boot/vmlinuz\","
	    "\"cmdline\":\"console=ttyS0 root=/dev/vda\",\"autostart\":true,"
	    "\"disks\":[{\"path\":\"local/web1/root.img\"},"
	    "{\"path\":\"local/iso/tools.iso\",\"readonly\":true}],"
	    "\"nics\":[{},{\"mac\":\"52:54:00:AA:BB:CC\"}]}",
	    NULL, HOST_MEM);
	char err[256] = "";
	resolve_calls = 0;
	json_t *v = vmm_json(conf, 42, "/scratch/vms/web1.log", "/run/keel/vms/web1.sock", err,
			     sizeof(err));
	if (!v)
		fail_msg("vmconf_vmm: %s", err);
	assert_int_equal(resolve_calls, 3); /* kernel and two disks; no initrd */

	assert_string_equal(str(v, "name"), "web1");
	assert_int_equal(num(v, "vcpus"), 2);
	assert_int_equal(num(v, "memory_mib"), 1024);
	assert_string_equal(str(v, "kernel"), "/datastores/local/boot/vmlinuz");
	assert_null(json_object_get(v, "initrd")); /* "" means none: left out */
	assert_string_equal(str(v, "cmdline"), "console=ttyS0 root=/dev/vda");
	json_t *con = json_object_get(v, "console");
	assert_true(json_is_object(con));
	assert_int_equal(json_object_size(con), 2);
	assert_string_equal(str(con, "type"), "file");
	assert_string_equal(str(con, "path"), "/scratch/vms/web1.log");
	assert_string_equal(str(v, "control"), "/run/keel/vms/web1.sock");
	assert_string_equal(str(v, "on_reboot"), "restart");
	assert_true(json_is_true(json_object_get(v, "rng")));

	json_t *want_disks = J("[{\"path\":\"/datastores/local/web1/root.img\",\"readonly\":false,"
			       "\"serial\":\"disk0\"},"
			       "{\"path\":\"/datastores/local/iso/tools.iso\",\"readonly\":true,"
			       "\"serial\":\"disk1\"}]");
	if (!json_equal(json_object_get(v, "disks"), want_disks)) {
		char *s = json_dumps(json_object_get(v, "disks"), JSON_COMPACT);
		fail_msg("disks: %s", s);
	}
	json_t *want_nics = J("[{\"tap\":\"kv42.0\",\"mac\":\"52:54:00:72:9d:a0\",\"mtu\":1500},"
			      "{\"tap\":\"kv42.1\",\"mac\":\"52:54:00:aa:bb:cc\",\"mtu\":9000}]");
	if (!json_equal(json_object_get(v, "nics"), want_nics)) {
		char *s = json_dumps(json_object_get(v, "nics"), JSON_COMPACT);
		fail_msg("nics: %s", s);
	}
	/* nothing of hostd's own (autostart...) goes to keel-vmm */
	const char *keys[] = {"name",	 "vcpus",      "memory_mib", "kernel",
			      "cmdline", "console",    "control",    "on_reboot",
			      "rng",	 "boot_timer", "disks",	     "nics"};
	assert_int_equal(json_object_size(v), ARRAY_SIZE(keys));
	for (size_t i = 0; i < ARRAY_SIZE(keys); i++)
		if (!json_object_get(v, keys[i]))
			fail_msg("%s: missing", keys[i]);
	json_decref(want_nics);
	json_decref(want_disks);
	json_decref(v);
	json_decref(conf);
}

static void test_vmm_initrd_and_empty(void **state)
{
	(void)state;
	json_t *conf = build_ok("{\"name\":\"tiny\",\"memory_mib\":64,\"kernel\":\"local/vmlinuz\","
				"\"initrd\":\"local/initrd.img\"}",
				NULL, HOST_MEM);
	char err[256] = "";
	json_t *v = vmm_json(conf, 7, "/c", "/s", err, sizeof(err));
	if (!v)
		fail_msg("vmconf_vmm: %s", err);
	assert_string_equal(str(v, "initrd"), "/datastores/local/initrd.img");
	assert_int_equal(num(v, "vcpus"), 1);
	assert_string_equal(str(v, "cmdline"), "console=ttyS0");
	assert_true(json_is_array(json_object_get(v, "disks")));
	assert_int_equal(json_array_size(json_object_get(v, "disks")), 0);
	assert_true(json_is_array(json_object_get(v, "nics")));
	assert_int_equal(json_array_size(json_object_get(v, "nics")), 0);
	json_decref(v);

	/* a large id: TAP names stay within IFNAMSIZ */
	json_t *c2 = build_ok("{\"name\":\"n\",\"memory_mib\":64,\"kernel\":\"local/k\","
			      "\"nics\":[{},{},{},{}]}",
			      NULL, HOST_MEM);
	v = vmm_json(c2, 99999999, "/c", "/s", err, sizeof(err));
	assert_non_null(v);
	for (size_t i = 0; i < 4; i++) {
		const char *tap = str(at(v, "nics", i), "tap");
		char want[32];
		snprintf(want, sizeof(want), "kv99999999.%zu", i);
		assert_string_equal(tap, want);
		assert_true(strlen(tap) < 16);
	}
	json_decref(v);
	json_decref(c2);
	json_decref(conf);
}

static void test_vmm_resolve_fails(void **state)
{
	(void)state;
	char err[256];
	/* the kernel */
	json_t *conf = build_ok("{\"name\":\"a\",\"memory_mib\":64,\"kernel\":\"nfs/vmlinuz\"}",
				NULL, HOST_MEM);
	strcpy(err, "");
	assert_null(vmm_json(conf, 1, "/c", "/s", err, sizeof(err)));
	assert_string_equal(err, "nfs: no such datastore");
	json_decref(conf);

	/* the initrd */
	conf = build_ok("{\"name\":\"a\",\"memory_mib\":64,\"kernel\":\"local/vmlinuz\","
			"\"initrd\":\"gone/initrd\"}",
			NULL, HOST_MEM);
	strcpy(err, "");
	assert_null(vmm_json(conf, 1, "/c", "/s", err, sizeof(err)));
	assert_string_equal(err, "gone: no such datastore");
	json_decref(conf);

	/* a disk after a good one (nothing leaks: ASan) */
	conf = build_ok("{\"name\":\"a\",\"memory_mib\":64,\"kernel\":\"local/vmlinuz\","
			"\"disks\":[{\"path\":\"local/ok.img\"},{\"path\":\"san/lun0\"}],"
			"\"nics\":[{}]}",
			NULL, HOST_MEM);
	strcpy(err, "");
	assert_null(vmm_json(conf, 1, "/c", "/s", err, sizeof(err)));
	assert_string_equal(err, "san: no such datastore");
	json_decref(conf);
}

/* --- cloud_init --------------------------------------------------------------- */

static void test_cloud_init(void **state)
{
	(void)state;
	/* user_data alone: the others "" */
	json_t *c = field_ok("cloud_init", "{\"user_data\":\"#cloud-config\\n\"}");
	json_t *want = J("{\"user_data\":\"#cloud-config\\n\",\"meta_data\":\"\","
			 "\"network_config\":\"\"}");
	assert_true(json_equal(json_object_get(c, "cloud_init"), want));
	json_decref(want);
	json_decref(c);
	/* all three, with tabs, CRs, LFs, quotes and UTF-8; an empty user_data */
	const char *all = "{\"user_data\":\"#cloud-config\\r\\n\\tx: '\\\"\u00e9'\\n\","
			  "\"meta_data\":\"instance-id: a\\n\",\"network_config\":\"version: 2\"}";
	c = field_ok("cloud_init", all);
	want = J(all);
	assert_true(json_equal(json_object_get(c, "cloud_init"), want));
	json_decref(want);
	json_decref(c);
	c = field_ok("cloud_init", "{\"user_data\":\"\"}");
	assert_true(json_is_object(json_object_get(c, "cloud_init")));
	json_decref(c);
	c = field_ok("cloud_init", "null");
	assert_true(json_is_null(json_object_get(c, "cloud_init")));
	json_decref(c);

	static const struct {
		const char *value, *prefix;
	} bad[] = {
	    {"{}", "cloud_init: null, or"},
	    {"\"#cloud-config\"", "cloud_init: null, or"},
	    {"[]", "cloud_init: null, or"},
	    {"{\"meta_data\":\"a: b\"}", "cloud_init: null, or"},
	    {"{\"user_data\":\"\",\"vendor_data\":\"\"}", "cloud_init.vendor_data: unknown field"},
	    {"{\"user_data\":1}", "cloud_init.user_data: must be a string"},
	    {"{\"user_data\":null}", "cloud_init.user_data: must be a string"},
	    {"{\"user_data\":\"\",\"network_config\":false}",
	     "cloud_init.network_config: must be a string"},
	    {"{\"user_data\":\"a\\u0001b\"}", "cloud_init.user_data: control characters"},
	    {"{\"user_data\":\"a\\u007fb\"}", "cloud_init.user_data: control characters"},
	    {"{\"user_data\":\"\",\"meta_data\":\" \\n{\\\"a\\\": 1}\"}",
	     "cloud_init.meta_data: a block-style YAML mapping"},
	    {"{\"user_data\":\"\",\"meta_data\":\"[1]\"}",
	     "cloud_init.meta_data: a block-style YAML mapping"},
	};
	for (size_t i = 0; i < ARRAY_SIZE(bad); i++)
		field_err("cloud_init", bad[i].value, bad[i].prefix);

	/* a NUL inside */
	json_t *ci = json_pack("{s:o}", "user_data", json_stringn("a\0b", 3));
	build_err_j(body_with("cloud_init", ci), NULL, HOST_MEM,
		    "cloud_init.user_data: must be a string");

	/* sizes: each at its limit, and one byte over */
	static const struct {
		const char *key;
		size_t max;
	} limits[] = {{"user_data", VM_USER_DATA_MAX},
		      {"meta_data", VM_META_DATA_MAX},
		      {"network_config", VM_NETWORK_CONFIG_MAX}};
	for (size_t i = 0; i < ARRAY_SIZE(limits); i++) {
		char *text = malloc(limits[i].max + 2);
		memset(text, 'x', limits[i].max + 1);
		text[limits[i].max] = '\0';
		ci = json_pack("{s:s,s:s}", "user_data", "", limits[i].key, text);
		c = build_ok_j(body_with("cloud_init", ci), NULL, HOST_MEM);
		assert_int_equal(json_string_length(json_object_get(
				     json_object_get(c, "cloud_init"), limits[i].key)),
				 limits[i].max);
		json_decref(c);
		text[limits[i].max] = 'x';
		text[limits[i].max + 1] = '\0';
		ci = json_pack("{s:s,s:s}", "user_data", "", limits[i].key, text);
		char prefix[64];
		snprintf(prefix, sizeof(prefix), "cloud_init.%s: must be a string of at most",
			 limits[i].key);
		build_err_j(body_with("cloud_init", ci), NULL, HOST_MEM, prefix);
		free(text);
	}
}

/* The seed is one more disk, in the VM's folder. */
static void test_cloud_init_disks(void **state)
{
	(void)state;
	json_t *disks = json_array();
	for (int i = 0; i < VM_MAX_DISKS - 1; i++) {
		char path[32];
		snprintf(path, sizeof(path), "local/d%d", i);
		json_array_append_new(disks, json_pack("{s:s}", "path", path));
	}
	json_t *b = body_with("disks", json_deep_copy(disks));
	json_object_set_new(b, "cloud_init", J("{\"user_data\":\"\"}"));
	json_t *c = build_ok_j(b, NULL, HOST_MEM);
	/* one more disk: refused with cloud_init, in a create or an update */
	json_array_append_new(disks, json_pack("{s:s}", "path", "local/last"));
	b = body_with("disks", json_deep_copy(disks));
	json_object_set_new(b, "cloud_init", J("{\"user_data\":\"\"}"));
	build_err_j(b, NULL, HOST_MEM, "cloud_init: its seed is one more disk");
	b = json_pack("{s:O}", "disks", disks);
	build_err_j(b, c, HOST_MEM, "cloud_init: its seed is one more disk");
	/* ... and fine without it */
	b = json_pack("{s:O,s:n}", "disks", disks, "cloud_init");
	json_t *c2 = build_ok_j(b, c, HOST_MEM);
	assert_int_equal(json_array_size(json_object_get(c2, "disks")), VM_MAX_DISKS);
	json_decref(c2);
	json_decref(disks);
	json_decref(c);

	/* no folder: a UEFI VM without disks */
	build_err("{\"name\":\"u\",\"memory_mib\":64,\"cloud_init\":{\"user_data\":\"\"}}", NULL,
		  HOST_MEM, "cloud_init: the VM needs a disk or a kernel");
}

/* An update keeps, replaces or removes cloud_init; the stored JSON reads
 * back the same, and one stored before cloud_init existed reads as none. */
static void test_cloud_init_update_and_stored(void **state)
{
	(void)state;
	json_t *base = field_ok("cloud_init", "{\"user_data\":\"one\",\"meta_data\":\"a: b\"}");
	json_t *c = build_ok("{\"vcpus\":2}", base, HOST_MEM);
	assert_true(
	    json_equal(json_object_get(c, "cloud_init"), json_object_get(base, "cloud_init")));
	json_decref(c);
	c = build_ok("{\"cloud_init\":{\"user_data\":\"two\"}}", base, HOST_MEM);
	assert_string_equal(str(json_object_get(c, "cloud_init"), "user_data"), "two");
	assert_string_equal(str(json_object_get(c, "cloud_init"), "meta_data"), "");
	json_decref(c);
	c = build_ok("{\"cloud_init\":null}", base, HOST_MEM);
	assert_true(json_is_null(json_object_get(c, "cloud_init")));
	json_decref(c);

	char err[256] = "";
	struct vm_config conf;
	assert_int_equal(vmconf_from_json(base, &conf, err, sizeof(err)), 0);
	assert_true(conf.cloud_init.on);
	assert_string_equal(conf.cloud_init.user_data, "one");
	assert_string_equal(conf.cloud_init.meta_data, "a: b");
	assert_string_equal(conf.cloud_init.network_config, "");
	json_t *again = vmconf_json(&conf);
	assert_true(json_equal(again, base));
	json_decref(again);

	json_t *old =
	    J("{\"name\":\"web1\",\"vcpus\":1,\"memory_mib\":512,\"firmware\":\"none\","
	      "\"kernel\":\"local/vmlinuz\",\"initrd\":\"\",\"cmdline\":\"console=ttyS0\","
	      "\"disks\":[],\"boot_order\":[],\"nics\":[],\"autostart\":false,"
	      "\"autostart_order\":0,\"autostart_delay_s\":0}");
	assert_int_equal(vmconf_from_json(old, &conf, err, sizeof(err)), 0);
	assert_false(conf.cloud_init.on);
	again = vmconf_json(&conf);
	assert_true(json_is_null(json_object_get(again, "cloud_init")));
	json_decref(again);
	json_decref(old);
	json_decref(base);
}

/* The support bundle's copy: cloud_init's texts by their sizes only. */
static void test_cloud_init_redacted(void **state)
{
	(void)state;
	json_t *c = field_ok("cloud_init", "{\"user_data\":\"password: hunter2\","
					   "\"meta_data\":\"a: b\"}");
	vmconf_redact(c);
	json_t *want = J("{\"user_data\":\"(17 bytes, not included)\","
			 "\"meta_data\":\"(4 bytes, not included)\","
			 "\"network_config\":\"(0 bytes, not included)\"}");
	assert_true(json_equal(json_object_get(c, "cloud_init"), want));
	assert_string_equal(str(c, "name"), "web1"); /* the rest as it was */
	json_decref(want);
	json_decref(c);
	c = field_ok("cloud_init", "null");
	vmconf_redact(c);
	assert_true(json_is_null(json_object_get(c, "cloud_init")));
	json_decref(c);
	vmconf_redact(NULL);
}

/* The seed goes to keel-vmm after the VM's own disks, read-only. */
static void test_vmm_seed(void **state)
{
	(void)state;
	json_t *conf = build_ok("{\"name\":\"web1\",\"memory_mib\":64,\"kernel\":\"local/k\","
				"\"disks\":[{\"path\":\"local/web1/root.img\"}],"
				"\"cloud_init\":{\"user_data\":\"\"}}",
				NULL, HOST_MEM);
	struct vm_config c;
	char err[256] = "";
	assert_int_equal(vmconf_from_json(conf, &c, err, sizeof(err)), 0);
	static const unsigned mtu[VM_MAX_NICS] = {1500};
	const struct vmconf_host host = {.id = 1,
					 .mtu = mtu,
					 .console_path = "/c",
					 .control_path = "/s",
					 .seed = "/datastores/local/web1/web1.cidata.iso",
					 .resolve = fake_resolve};
	struct vmm_config vc;
	assert_int_equal(vmconf_vmm(&c, &host, &vc, err, sizeof(err)), 0);
	char *text = vmmconf_format(&vc, err, sizeof(err));
	vmmconf_free(&vc);
	assert_non_null(text);
	json_t *v = J(text);
	free(text);
	json_t *want = J("[{\"path\":\"/datastores/local/web1/root.img\",\"readonly\":false,"
			 "\"serial\":\"disk0\"},"
			 "{\"path\":\"/datastores/local/web1/web1.cidata.iso\",\"readonly\":true,"
			 "\"serial\":\"cidata\"}]");
	assert_true(json_equal(json_object_get(v, "disks"), want));
	json_decref(want);
	json_decref(v);
	json_decref(conf);
}

/* --- firmware and boot order ------------------------------------------------ */

static void test_firmware(void **state)
{
	(void)state;
	const char *two = ",\"disks\":[{\"path\":\"local/a/a.img\"},{\"path\":\"local/b.iso\"}]";
	char text[512];
	/* no kernel: UEFI, with nothing of direct boot */
	snprintf(text, sizeof(text), "{\"name\":\"a\",\"memory_mib\":64%s}", two);
	json_t *c = build_ok(text, NULL, HOST_MEM);
	assert_string_equal(str(c, "firmware"), "uefi");
	assert_string_equal(str(c, "kernel"), "");
	assert_string_equal(str(c, "cmdline"), "");
	assert_int_equal(json_array_size(json_object_get(c, "boot_order")), 0);
	struct vm_config vc;
	char err[256], home[VM_DSPATH_MAX + 1];
	assert_int_equal(vmconf_from_json(c, &vc, err, sizeof(err)), 0);
	assert_int_equal(vmconf_home(&vc, home), 0);
	assert_string_equal(home, "local/a");
	/* keel-vmm gets the firmware, the store and the order; no kernel */
	json_t *upd = build_ok("{\"boot_order\":[1,0]}", c, HOST_MEM);
	json_t *v = vmm_json(upd, 7, "/c", "/s", err, sizeof(err));
	if (!v)
		fail_msg("vmconf_vmm: %s", err);
	assert_string_equal(str(v, "firmware"), "/fw/code.fd");
	assert_string_equal(str(v, "nvram"), "/datastores/local/a/a.nvram");
	assert_null(json_object_get(v, "kernel"));
	json_t *want = J("[1,0]");
	assert_true(json_equal(json_object_get(v, "boot_order"), want));
	json_decref(want);
	json_decref(v);
	/* a disk fewer: the order would name a disk that is not there */
	build_err("{\"disks\":[{\"path\":\"local/a/a.img\"}]}", upd, HOST_MEM,
		  "boot_order[0]: there is no disk 1");
	/* back to a kernel: the order goes, unless the body gives it */
	json_t *none =
	    build_ok("{\"firmware\":\"none\",\"kernel\":\"local/vmlinuz\"}", upd, HOST_MEM);
	assert_int_equal(json_array_size(json_object_get(none, "boot_order")), 0);
	build_err("{\"firmware\":\"none\",\"kernel\":\"local/k\",\"boot_order\":[0]}", upd,
		  HOST_MEM, "boot_order: only with firmware");
	build_err("{\"firmware\":\"none\"}", upd, HOST_MEM, "kernel: firmware \"none\" boots");
	/* and to firmware again: the kernel and command line go, unless the
	 * body gives them */
	build_err("{\"firmware\":\"bios\",\"kernel\":\"local/k\"}", none, HOST_MEM,
		  "kernel: only with firmware");
	json_t *bios = build_ok("{\"firmware\":\"bios\"}", none, HOST_MEM);
	assert_string_equal(str(bios, "kernel"), "");
	assert_string_equal(str(bios, "cmdline"), "");
	assert_int_equal(vmconf_from_json(bios, &vc, err, sizeof(err)), 0);
	assert_int_equal(vc.firmware, VM_FIRMWARE_BIOS);
	v = vmm_json(bios, 7, "/c", "/s", err, sizeof(err));
	assert_null(json_object_get(v, "nvram")); /* SeaBIOS keeps none */
	json_decref(v);
	json_decref(bios);
	json_decref(none);
	json_decref(upd);
	json_decref(c);
	/* bad values */
	field_err("firmware", "\"efi\"", "firmware: uefi, bios or none");
	field_err("firmware", "1", "firmware: uefi, bios or none");
	build_err("{\"name\":\"a\",\"memory_mib\":64,\"firmware\":\"uefi\",\"kernel\":\"local/k\"}",
		  NULL, HOST_MEM, "kernel: only with firmware");
	build_err("{\"name\":\"a\",\"memory_mib\":64,\"cmdline\":\"quiet\"}", NULL, HOST_MEM,
		  "cmdline: only with firmware");
	build_err("{\"name\":\"a\",\"memory_mib\":64,\"initrd\":\"local/i\"}", NULL, HOST_MEM,
		  "initrd: only with firmware");
	field_err("boot_order", "[0]", "boot_order: only with firmware");
	const char *orders[][2] = {
	    {"[2]", "boot_order[0]: there is no disk 2"},
	    {"[0,0]", "boot_order[1]: disk 0 is already in it"},
	    {"[\"0\"]", "boot_order[0]: must be an integer"},
	    {"[-1]", "boot_order[0]: must be an integer"},
	    {"{}", "boot_order: an array"},
	    {"[0,1,2,3,4,5,6,7,0]", "boot_order: an array of at most 8"},
	};
	for (size_t i = 0; i < ARRAY_SIZE(orders); i++) {
		snprintf(text, sizeof(text),
			 "{\"name\":\"a\",\"memory_mib\":64,\"boot_order\":%s%s}", orders[i][0],
			 two);
		build_err(text, NULL, HOST_MEM, orders[i][1]);
	}
	/* no disk and no kernel: no folder for its files */
	c = build_ok("{\"name\":\"a\",\"memory_mib\":64}", NULL, HOST_MEM);
	assert_int_equal(vmconf_from_json(c, &vc, err, sizeof(err)), 0);
	assert_int_equal(vmconf_home(&vc, home), -1);
	json_decref(c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_create_defaults),
	    cmocka_unit_test(test_create_all_fields),
	    cmocka_unit_test(test_create_required),
	    cmocka_unit_test(test_create_bad_name),
	    cmocka_unit_test(test_vcpus),
	    cmocka_unit_test(test_memory),
	    cmocka_unit_test(test_kernel),
	    cmocka_unit_test(test_initrd),
	    cmocka_unit_test(test_cmdline),
	    cmocka_unit_test(test_autostart_fields),
	    cmocka_unit_test(test_unknown_fields),
	    cmocka_unit_test(test_disks),
	    cmocka_unit_test(test_disk_paths),
	    cmocka_unit_test(test_disk_fields),
	    cmocka_unit_test(test_disk_duplicates),
	    cmocka_unit_test(test_disk_count),
	    cmocka_unit_test(test_nic_default_mac),
	    cmocka_unit_test(test_nic_mac),
	    cmocka_unit_test(test_nic_shape),
	    cmocka_unit_test(test_update_changes),
	    cmocka_unit_test(test_update_refused),
	    cmocka_unit_test(test_sizes_not_shown),
	    cmocka_unit_test(test_from_json_checks),
	    cmocka_unit_test(test_vmm),
	    cmocka_unit_test(test_vmm_initrd_and_empty),
	    cmocka_unit_test(test_vmm_resolve_fails),
	    cmocka_unit_test(test_firmware),
	    cmocka_unit_test(test_cloud_init),
	    cmocka_unit_test(test_cloud_init_disks),
	    cmocka_unit_test(test_cloud_init_update_and_stored),
	    cmocka_unit_test(test_cloud_init_redacted),
	    cmocka_unit_test(test_vmm_seed),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
