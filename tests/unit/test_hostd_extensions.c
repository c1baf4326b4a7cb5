/* extensions.c with real extension bundles (keel-bundle's code, a key the
 * test trusts) and modules made to look as a kernel's do (an ELF header,
 * a vermagic, the signature's marker at the end), in a folder standing in
 * for the booted bank: the install (files, order, status), every refusal
 * with nothing written, an upgrade and a downgrade, the list's states,
 * removal, the lowest acceptance level, and the carry-over into another
 * bank. Also keel-init's loader (init/extload.c) over what was installed. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "bundletool/bundlemake.h"
#include "common/bundlefmt.h"
#include "common/extension.h"
#include "common/util.h"
#include "hostd/extensions.h"
#include "hostd/verify.h"
#include "init/extload.h"
#include "rm_rf.h"

#define KERNEL "6.1.0-test"
#define MARKER "~Module signature appended~\n"

static char dir[] = "/tmp/keel-ext-XXXXXX";
static char err[512];

static const char *at(const char *name)
{
	static char bufs[8][256];
	static int next;
	char *p = bufs[next++ % 8];
	snprintf(p, 256, "%s/%s", dir, name);
	return p;
}

/* mod/NAME: a module for `kernel`, signed (the marker) or not, with
 * `fill` bytes in it so that versions differ */
static void module(const char *name, const char *kernel, bool elf, bool sig, char fill)
{
	char buf[600], path[128];
	memset(buf, fill, sizeof(buf));
	if (elf)
		memcpy(buf,
		       "\x7f"
		       "ELF",
		       4);
	int n = snprintf(buf + 100, 200, "vermagic=%s SMP mod_unload ", kernel);
	buf[100 + n] = '\0';
	size_t len = sizeof(buf) - (sig ? 0 : strlen(MARKER));
	if (sig)
		memcpy(buf + sizeof(buf) - strlen(MARKER), MARKER, strlen(MARKER));
	snprintf(path, sizeof(path), "mod/%s", name);
	assert_int_equal(write_file(at(path), buf, len, 0644), 0);
}

/* an extension bundle `out` of mod/'s `mods` (space-separated) */
static void make(const char *out, const char *name, const char *version, int acceptance,
		 const char *kernel, const char *mods)
{
	static char paths[EXT_MODULES_MAX][256];
	char list[256];
	struct bundle_make m = {.kind = BUNDLE_EXTENSION,
				.key = at("keys/private.pem"),
				.name = name,
				.kernel = kernel,
				.version = version,
				.build = "test",
				.arch = BUNDLE_ARCH,
				.acceptance = acceptance,
				.out = at(out)};
	snprintf(list, sizeof(list), "%s", mods);
	char *save = NULL;
	for (char *w = strtok_r(list, " ", &save); w; w = strtok_r(NULL, " ", &save)) {
		snprintf(paths[m.nfiles], 256, "%s/mod/%s", dir, w);
		m.files[m.nfiles] = paths[m.nfiles];
		m.nfiles++;
	}
	if (bundle_make(&m, err, sizeof(err)) < 0)
		fail_msg("bundle_make: %s", err);
}

static struct ext_host host(const char *bank)
{
	static char b[256], t[256], s[256];
	snprintf(b, sizeof(b), "%s/%s", dir, bank);
	snprintf(t, sizeof(t), "%s/trusted", dir);
	snprintf(s, sizeof(s), "%s/status", dir);
	return (struct ext_host){.bank_dir = b,
				 .trusted_dir = t,
				 .status = s,
				 .kernel = KERNEL,
				 .acceptance = BUNDLE_PARTNER};
}

static int install_as(const struct ext_host *h, const char *bundle, bool downgrade)
{
	json_t *out = NULL;
	int fd = open(at(bundle), O_RDONLY);
	assert_true(fd >= 0);
	err[0] = '\0';
	int rc = ext_install(h, fd, downgrade, &out, err, sizeof(err));
	close(fd);
	if (rc == 0) {
		assert_true(json_is_true(json_object_get(out, "reboot_needed")));
		assert_string_equal(json_string_value(json_object_get(out, "signed_by")),
				    "keel.pem");
	}
	json_decref(out);
	return rc;
}

static int install(const char *bundle, bool downgrade)
{
	struct ext_host h = host("a");
	return install_as(&h, bundle, downgrade);
}

static void same(const char *path, const char *want)
{
	size_t n, m;
	char *a = read_file(at(path), 1 << 20, &n), *b = read_file(at(want), 1 << 20, &m);
	assert_non_null(a);
	assert_non_null(b);
	assert_int_equal(n, m);
	assert_memory_equal(a, b, n);
	free(a);
	free(b);
}

static char *text(const char *path)
{
	char *t = read_file(at(path), 1 << 20, NULL);
	assert_non_null(t);
	return t;
}

/* the extensions of bank a as ext_list shows them */
static json_t *listed(void)
{
	struct ext_host h = host("a");
	json_t *out = NULL;
	assert_int_equal(ext_list(&h, &out, err, sizeof(err)), 0);
	assert_string_equal(json_string_value(json_object_get(out, "acceptance")), "partner");
	json_t *list = json_incref(json_object_get(out, "extensions"));
	json_decref(out);
	return list;
}

static int setup(void **state)
{
	(void)state;
	char e[512];
	if (!mkdtemp(dir) || bundle_keygen(at("keys"), e, sizeof(e)) < 0)
		return -1;
	mkdir(at("trusted"), 0755);
	size_t len;
	char *pub = read_file(at("keys/public.pem"), 4096, &len);
	write_file(at("trusted/keel.pem"), pub, len, 0644);
	free(pub);
	mkdir(at("mod"), 0755);
	mkdir(at("a"), 0755);
	mkdir(at("b"), 0755);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	rm_rf(dir);
	return 0;
}

/* nothing under bank a's ext/ but what is listed */
static void only(const char *names)
{
	json_t *list = listed(), *e;
	size_t i;
	char got[256] = "";
	json_array_foreach(list, i, e)
	{
		size_t l = strlen(got);
		snprintf(got + l, sizeof(got) - l, "%s%s", l ? " " : "",
			 json_string_value(json_object_get(e, "name")));
	}
	assert_string_equal(got, names);
	json_decref(list);
	assert_int_equal(access(at("a/ext/.net.new"), F_OK), -1);
	assert_int_equal(access(at("a/ext/.net.old"), F_OK), -1);
}

static void refused(const char *bundle, const char *why)
{
	assert_int_equal(install(bundle, false), -EINVAL);
	if (!strstr(err, why))
		fail_msg("%s: \"%s\" does not say \"%s\"", bundle, err, why);
}

/* keel-init's loader stand-in: the modules it is given, in turn; the
 * kernel refuses macvlan.ko */
static char seen[256];
static int record(int fd)
{
	char link[64], path[256];
	snprintf(link, sizeof(link), "/proc/self/fd/%d", fd);
	ssize_t n = readlink(link, path, sizeof(path) - 1);
	path[n > 0 ? n : 0] = '\0';
	const char *base = strrchr(path, '/') + 1;
	size_t l = strlen(seen);
	snprintf(seen + l, sizeof(seen) - l, "%s ", base);
	return strcmp(base, "macvlan.ko") == 0 ? -EKEYREJECTED : 0;
}

static void test_install_list_remove(void **state)
{
	(void)state;
	module("tap.ko", KERNEL, true, true, 'a');
	module("macvlan.ko", KERNEL, true, true, 'b');
	make("net.bundle", "net", "1.0.0", BUNDLE_PARTNER, KERNEL, "tap.ko macvlan.ko");
	assert_int_equal(install("net.bundle", false), 0);
	same("a/ext/net/tap.ko", "mod/tap.ko");
	same("a/ext/net/macvlan.ko", "mod/macvlan.ko");
	char *order = text("a/ext/net/modules"), *status = text("status");
	assert_string_equal(order, "tap.ko\nmacvlan.ko\n");
	assert_string_equal(status, "net installed\n");
	free(order);
	free(status);
	only("net");

	/* keel-init's lines give the states */
	write_file(at("status"), "net loaded\nifb failed ifb.ko: Key was rejected by service\n", 56,
		   0644);
	module("ifb.ko", KERNEL, true, true, 'c');
	make("ifb.bundle", "ifb", "2.0.0", BUNDLE_CERTIFIED, KERNEL, "ifb.ko");
	assert_int_equal(install("ifb.bundle", false), 0);
	json_t *list = listed();
	assert_int_equal(json_array_size(list), 2);
	json_t *ifb = json_array_get(list, 0), *net = json_array_get(list, 1);
	assert_string_equal(json_string_value(json_object_get(net, "state")), "loaded");
	assert_string_equal(json_string_value(json_object_get(net, "version")), "1.0.0");
	assert_string_equal(json_string_value(json_object_get(net, "kernel")), KERNEL);
	assert_string_equal(json_string_value(json_array_get(json_object_get(net, "modules"), 1)),
			    "macvlan.ko");
	/* installed again since keel-init's line: at the next boot */
	assert_string_equal(json_string_value(json_object_get(ifb, "state")), "installed");
	assert_null(json_object_get(ifb, "error"));
	json_decref(list);
	write_file(at("status"), "ifb failed ifb.ko: Key was rejected by service\n", 47, 0644);
	list = listed();
	ifb = json_array_get(list, 0);
	assert_string_equal(json_string_value(json_object_get(ifb, "state")), "failed");
	assert_string_equal(json_string_value(json_object_get(ifb, "error")),
			    "ifb.ko: Key was rejected by service");
	json_decref(list);
	assert_int_equal(ext_lowest_acceptance(at("a")), BUNDLE_PARTNER);

	/* keel-init loads what was installed: by name, each in its order */
	char out[512];
	seen[0] = '\0';
	assert_int_equal(extload_all(at("a"), record, out, sizeof(out)), 1);
	assert_string_equal(seen, "ifb.ko tap.ko macvlan.ko ");
	assert_string_equal(out,
			    "ifb loaded\nnet failed macvlan.ko: Key was rejected by service\n");

	struct ext_host h = host("a");
	assert_int_equal(ext_remove(&h, "ifb", err, sizeof(err)), 0);
	assert_int_equal(ext_remove(&h, "ifb", err, sizeof(err)), -ENOENT);
	assert_int_equal(ext_remove(&h, "../a", err, sizeof(err)), -ENOENT);
	status = text("status");
	assert_null(strstr(status, "ifb"));
	free(status);
	only("net");
}

static void test_refusals(void **state)
{
	(void)state;
	rm_rf(at("a/ext"));
	module("m.ko", KERNEL, true, true, 'm');
	module("other.ko", "6.1.0-9-amd64", true, true, 'o');
	module("unsigned.ko", KERNEL, true, false, 'u');
	module("notelf.ko", KERNEL, false, true, 'e');
	make("kernel.bundle", "x", "1.0.0", BUNDLE_PARTNER, "6.1.0-9-amd64", "m.ko");
	refused("kernel.bundle", "its modules are built for kernel 6.1.0-9-amd64; this host runs "
				 "6.1.0-test");
	make("vermagic.bundle", "x", "1.0.0", BUNDLE_PARTNER, KERNEL, "m.ko other.ko");
	refused("vermagic.bundle", "other.ko is not built for kernel 6.1.0-test, the one this "
				   "host runs (its vermagic)");
	make("unsigned.bundle", "x", "1.0.0", BUNDLE_PARTNER, KERNEL, "unsigned.ko");
	refused("unsigned.bundle", "unsigned.ko is not signed");
	make("notelf.bundle", "x", "1.0.0", BUNDLE_PARTNER, KERNEL, "notelf.ko");
	refused("notelf.bundle", "notelf.ko is not a kernel module (no ELF header)");
	make("community.bundle", "x", "1.0.0", BUNDLE_COMMUNITY, KERNEL, "m.ko");
	refused("community.bundle", "the bundle's acceptance level is community; this host takes "
				    "partner or above");
	/* a changed byte in a module */
	make("good.bundle", "x", "1.0.0", BUNDLE_PARTNER, KERNEL, "m.ko");
	size_t len;
	char *b = read_file(at("good.bundle"), 1 << 20, &len);
	b[len - 1024 - 424 - 300] ^= 1; /* in m.ko: its 600 bytes, 424 of padding, the end */
	write_file(at("changed.bundle"), b, len, 0644);
	free(b);
	refused("changed.bundle", "m.ko: its SHA-256 is not the one bundle.json lists");
	assert_int_equal(access(at("a/ext"), F_OK), -1); /* nothing written */

	/* the kinds do not cross */
	struct verify_policy p = {.trusted_dir = host("a").trusted_dir,
				  .kind = BUNDLE_IMAGE,
				  .running_version = "0.1.0",
				  .acceptance = BUNDLE_PARTNER};
	struct verified_bundle ub;
	int fd = open(at("good.bundle"), O_RDONLY);
	assert_int_equal(verify_bundle(fd, &p, &ub, err, sizeof(err)), -EINVAL);
	close(fd);
	assert_non_null(strstr(err, "this is an extension bundle, not an image one"));
}

static void test_upgrade_and_downgrade(void **state)
{
	(void)state;
	rm_rf(at("a/ext"));
	module("v1.ko", KERNEL, true, true, '1');
	module("v2.ko", KERNEL, true, true, '2');
	make("v1.bundle", "drv", "1.0.0", BUNDLE_PARTNER, KERNEL, "v1.ko");
	make("v2.bundle", "drv", "1.1.0", BUNDLE_PARTNER, KERNEL, "v2.ko");
	assert_int_equal(install("v1.bundle", false), 0);
	refused("v1.bundle", "drv 1.0.0 is the same as the installed 1.0.0");
	assert_int_equal(install("v2.bundle", false), 0);
	same("a/ext/drv/v2.ko", "mod/v2.ko");
	assert_int_equal(access(at("a/ext/drv/v1.ko"), F_OK), -1); /* replaced whole */
	refused("v1.bundle", "drv 1.0.0 is older than the installed 1.1.0");
	assert_int_equal(install("v1.bundle", true), 0);
	same("a/ext/drv/v1.ko", "mod/v1.ko");
	assert_int_equal(access(at("a/ext/.drv.old"), F_OK), -1);
	assert_int_equal(access(at("a/ext/.drv.new"), F_OK), -1);
}

static void test_carry_over(void **state)
{
	(void)state;
	rm_rf(at("a/ext"));
	module("k.ko", KERNEL, true, true, 'k');
	module("old.ko", "6.1.0-1-old", true, true, 'o');
	make("k.bundle", "keep", "1.0.0", BUNDLE_PARTNER, KERNEL, "k.ko");
	make("old.bundle", "old", "1.0.0", BUNDLE_PARTNER, "6.1.0-1-old", "old.ko");
	assert_int_equal(install("k.bundle", false), 0);
	struct ext_host h = host("a");
	h.kernel = "6.1.0-1-old";
	assert_int_equal(install_as(&h, "old.bundle", false), 0);
	/* bank b held an older image's extension */
	mkdir(at("b/ext"), 0755);
	mkdir(at("b/ext/stale"), 0755);
	write_file(at("b/ext/stale/modules"), "s.ko\n", 5, 0644);
	json_t *kept = json_array(), *dropped = json_array();
	assert_int_equal(ext_carry_over(at("a"), at("b"), KERNEL, kept, dropped, err, sizeof(err)),
			 0);
	assert_string_equal(json_string_value(json_array_get(kept, 0)), "keep");
	assert_int_equal(json_array_size(kept), 1);
	assert_string_equal(json_string_value(json_array_get(dropped, 0)), "old");
	assert_int_equal(json_array_size(dropped), 1);
	json_decref(kept);
	json_decref(dropped);
	same("b/ext/keep/k.ko", "mod/k.ko");
	same("b/ext/keep/modules", "a/ext/keep/modules");
	assert_int_equal(access(at("b/ext/old"), F_OK), -1);
	assert_int_equal(access(at("b/ext/stale"), F_OK), -1);
	assert_int_equal(ext_lowest_acceptance(at("b")), BUNDLE_PARTNER);
	assert_int_equal(ext_lowest_acceptance(at("nowhere")), 0);
}

static void test_format(void **state)
{
	(void)state;
	assert_true(ext_name_ok("net-extras_2"));
	const char *bad_names[] = {
	    "", "Net", "-net", "_net", "a/b", "..", "abcdefghijklmnopqrstuvwxyz0123456"};
	for (size_t i = 0; i < ARRAY_SIZE(bad_names); i++)
		assert_false(ext_name_ok(bad_names[i]));
	assert_true(ext_module_ok("mlx5_core.ko"));
	const char *bad_mods[] = {".ko", "a.ko.xz", "A.ko", "../a.ko", "a.txt", "a b.ko"};
	for (size_t i = 0; i < ARRAY_SIZE(bad_mods); i++)
		assert_false(ext_module_ok(bad_mods[i]));

	struct bundle_info info = {
	    .kind = BUNDLE_EXTENSION,
	    .name = "net",
	    .kernel = KERNEL,
	    .version = "1.0.0",
	    .build = "b",
	    .arch = "x86_64",
	    .acceptance = BUNDLE_COMMUNITY,
	    .nfiles = 2,
	    .files = {{.name = "a.ko", .size = 1}, {.name = "b.ko", .size = 2}}};
	char *json = bundle_info_format(&info);
	struct bundle_info back;
	assert_int_equal(bundle_info_parse(json, strlen(json), &back, err, sizeof(err)), 0);
	assert_int_equal(back.kind, BUNDLE_EXTENSION);
	assert_string_equal(back.kernel, KERNEL);
	assert_int_equal(back.nfiles, 2);
	assert_memory_equal(back.files, info.files, sizeof(info.files[0]) * 2);
	free(json);
	static const struct {
		const char *json, *why;
	} bad[] = {
	    {"{\"format\":1,\"product\":\"keel\",\"kind\":\"extension\",\"name\":\"Net\","
	     "\"kernel\":\"k\",\"version\":\"1.0.0\",\"build\":\"b\",\"arch\":\"x86_64\","
	     "\"acceptance\":\"partner\",\"files\":[]}",
	     "name: not 1 to 32"},
	    {"{\"format\":1,\"product\":\"keel\",\"kind\":\"extension\",\"name\":\"n\","
	     "\"version\":\"1.0.0\",\"build\":\"b\",\"arch\":\"x86_64\","
	     "\"acceptance\":\"partner\",\"files\":[]}",
	     "no field \"kernel\""},
	    {"{\"format\":1,\"product\":\"keel\",\"kind\":\"image\",\"name\":\"n\","
	     "\"version\":\"1.0.0\",\"build\":\"b\",\"arch\":\"x86_64\","
	     "\"acceptance\":\"partner\",\"files\":[]}",
	     "unknown field \"name\""},
	    {"{\"format\":1,\"product\":\"keel\",\"kind\":\"driver\"}", "kind: not image or "
									"extension"},
	    {"{\"format\":1,\"product\":\"keel\",\"kind\":\"extension\",\"name\":\"n\","
	     "\"kernel\":\"k\",\"version\":\"1.0.0\",\"build\":\"b\",\"arch\":\"x86_64\","
	     "\"acceptance\":\"partner\",\"files\":[]}",
	     "files: not a list of 1 to 32 modules"},
	    {"{\"format\":1,\"product\":\"keel\",\"kind\":\"extension\",\"name\":\"n\","
	     "\"kernel\":\"k\",\"version\":\"1.0.0\",\"build\":\"b\",\"arch\":\"x86_64\","
	     "\"acceptance\":\"partner\",\"files\":[{\"name\":\"vmlinuz\",\"size\":1,"
	     "\"sha256\":\"0000000000000000000000000000000000000000000000000000000000000000\"}]}",
	     "files[0]: not a kernel module's name"},
	};
	for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
		assert_int_equal(
		    bundle_info_parse(bad[i].json, strlen(bad[i].json), &back, err, sizeof(err)),
		    -1);
		if (!strstr(err, bad[i].why))
			fail_msg("%zu: \"%s\" does not say \"%s\"", i, err, bad[i].why);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_format),     cmocka_unit_test(test_install_list_remove),
	    cmocka_unit_test(test_refusals),   cmocka_unit_test(test_upgrade_and_downgrade),
	    cmocka_unit_test(test_carry_over),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
