/* extensions.c with real extension bundles, made and signed by keel-bundle's
 * own code (bundlemake.c), of fake kernel modules (an ELF header, a
 * vermagic, the signature's marker at the end): the install into a folder
 * standing in for the booted bank (the folder, its files, its `modules`,
 * the status file), the list with keel-init's status lines, every refusal
 * (the kernel, a module's vermagic, its signature, its ELF header, the
 * kind, the acceptance level, a downgrade, a changed byte, one extension
 * too many) with nothing written, an upgrade, the removal, the lowest
 * acceptance level, and the carry-over into the bank an update wrote
 * (directly, and through update_install). Then bundle.json of kind
 * "extension": its grammar, and a round trip. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
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
#include "hostd/update.h"
#include "hostd/verify.h"
#include "rm_rf.h"

#define KERNEL "6.1.0-test"

static char dir[] = "/tmp/keel-ext-XXXXXX";
static char bank[256], trusted[256], status[256];
static char err[1024];
static json_t *last; /* ext_install's description of the last extension installed */

/* dir/name, in one of a few buffers that take turns */
static const char *at(const char *name)
{
	static char bufs[64][512];
	static int next;
	char *p = bufs[next++ % 64];
	snprintf(p, 512, "%s/%s", dir, name);
	return p;
}

static void put(const char *name, const void *data, size_t len)
{
	assert_int_equal(write_file(at(name), data, len, 0644), 0);
}

static char *slurp(const char *path, size_t *len)
{
	char *buf = read_file(path, 16 << 20, len);
	if (!buf)
		fail_msg("cannot read %s: %s", path, strerror(errno));
	return buf;
}

/* the text of a file, "" if it is not there */
static char *text_of(const char *path)
{
	char *buf = read_file(path, 1 << 20, NULL);
	return buf ? buf : strdup("");
}

static void same_file(const char *x, const char *y)
{
	size_t n, m;
	char *a = slurp(x, &n), *b = slurp(y, &m);
	if (n != m || memcmp(a, b, n) != 0)
		fail_msg("%s and %s differ", x, y);
	free(a);
	free(b);
}

static void gone(const char *path)
{
	if (access(path, F_OK) == 0)
		fail_msg("%s is there", path);
}

static void there(const char *path)
{
	if (access(path, F_OK) < 0)
		fail_msg("%s is not there", path);
}

enum { ELF = 1, SIGNED = 2, GOOD = ELF | SIGNED };

/* A fake kernel module at dir/name: an ELF header, `tag` (so that each
 * module's bytes are its own), "vermagic=KERNEL SMP mod_unload " (none if
 * kernel is NULL), padding, and the marker a signed module ends with. */
static void module(const char *name, const char *kernel, int how, const char *tag)
{
	char buf[4096];
	size_t n = 0;
	memset(buf, 0, 64);
	memcpy(buf,
	       how & ELF ? "\x7f"
			   "ELF\x02\x01\x01"
			 : "#!/bin/sh\n",
	       how & ELF ? 7 : 10);
	n = 64;
	n += (size_t)sprintf(buf + n, "module %s, %s", name, tag) + 1;
	for (int i = 0; i < 300; i++)
		buf[n++] = (char)(i * 7 + 3);
	if (kernel) {
		n += (size_t)sprintf(buf + n, "vermagic=%s SMP mod_unload ", kernel);
		buf[n++] = '\0';
	}
	for (int i = 0; i < 200; i++)
		buf[n++] = (char)(i * 13 + 1);
	const char *marker =
	    how & SIGNED ? "~Module signature appended~\n" : "not signed at all~\n";
	memcpy(buf + n, marker, strlen(marker));
	n += strlen(marker);
	put(name, buf, n);
}

/* an extension bundle at dir/out of the modules dir/mods[i] (NULL-terminated) */
static int make_ext_rc(const char *out, const char *name, const char *kernel, const char *version,
		       int acceptance, const char *const *mods)
{
	static char paths[BUNDLE_FILES_MAX][512];
	char outpath[512], key[512];
	snprintf(outpath, sizeof(outpath), "%s/%s", dir, out);
	snprintf(key, sizeof(key), "%s/keys/private.pem", dir);
	struct bundle_make m = {.kind = BUNDLE_EXTENSION,
				.key = key,
				.name = name,
				.kernel = kernel,
				.version = version,
				.build = "e1e1e1",
				.arch = "x86_64",
				.acceptance = acceptance,
				.out = outpath};
	for (; mods[m.nfiles]; m.nfiles++) {
		snprintf(paths[m.nfiles], sizeof(paths[0]), "%s/%s", dir, mods[m.nfiles]);
		m.files[m.nfiles] = paths[m.nfiles];
	}
	err[0] = '\0';
	return bundle_make(&m, err, sizeof(err));
}

static void make_ext(const char *out, const char *name, const char *kernel, const char *version,
		     int acceptance, const char *const *mods)
{
	if (make_ext_rc(out, name, kernel, version, acceptance, mods) < 0)
		fail_msg("bundle_make %s: %s", out, err);
}

#define MODS(...) ((const char *const[]){__VA_ARGS__, NULL})

/* the host: the booted bank dir/bank, running KERNEL, taking partner or above */
static struct ext_host host(void)
{
	return (struct ext_host){.bank_dir = bank,
				 .trusted_dir = trusted,
				 .status = status,
				 .kernel = KERNEL,
				 .acceptance = BUNDLE_PARTNER};
}

static int install_on(const struct ext_host *h, const char *bundle, bool allow_downgrade)
{
	int fd = open(at(bundle), O_RDONLY);
	assert_true(fd >= 0);
	json_decref(last);
	last = NULL;
	err[0] = '\0';
	int rc = ext_install(h, fd, allow_downgrade, &last, err, sizeof(err));
	close(fd);
	if (rc < 0)
		assert_null(last);
	return rc;
}

static int install(const char *bundle, bool allow_downgrade)
{
	struct ext_host h = host();
	return install_on(&h, bundle, allow_downgrade);
}

static void installs(const char *bundle)
{
	if (install(bundle, false) < 0)
		fail_msg("%s: %s", bundle, err);
}

/* refused (-EINVAL) with exactly `why` */
static void refused(const struct ext_host *h, const char *bundle, bool allow_downgrade,
		    const char *why)
{
	int rc = install_on(h, bundle, allow_downgrade);
	if (rc != -EINVAL || strcmp(err, why) != 0)
		fail_msg("%s: %d \"%s\", not -EINVAL \"%s\"", bundle, rc, err, why);
}

/* what bank/ext holds (names, sizes), and the status file */
static char *snapshot(void)
{
	char cmd[1024];
	snprintf(cmd, sizeof(cmd),
		 "cd %s && find ext -printf '%%p %%s\\n' 2>/dev/null | LC_ALL=C sort; cat %s "
		 "2>/dev/null",
		 bank, status);
	FILE *p = popen(cmd, "r");
	char *out = calloc(1, 65536);
	size_t n = fread(out, 1, 65535, p);
	out[n] = '\0';
	pclose(p);
	return out;
}

/* the files and folders under root/sub, "sub sub/x ..." in name order */
static char *tree(const char *root, const char *sub)
{
	char cmd[1024];
	snprintf(cmd, sizeof(cmd), "cd %s && find %s | LC_ALL=C sort | tr '\\n' ' '", root, sub);
	FILE *p = popen(cmd, "r");
	char *out = calloc(1, 4096);
	size_t n = fread(out, 1, 4095, p);
	out[n] = '\0';
	pclose(p);
	return out;
}

/* an empty booted bank, no status file */
static void fresh(void)
{
	rm_rf(bank);
	assert_int_equal(mkdir(bank, 0755), 0);
	unlink(status);
}

static json_t *list(const struct ext_host *h)
{
	json_t *out = NULL;
	assert_int_equal(ext_list(h, &out, err, sizeof(err)), 0);
	assert_non_null(out);
	return out;
}

static const char *str(json_t *obj, const char *key)
{
	const char *s = json_string_value(json_object_get(obj, key));
	if (!s)
		fail_msg("no string \"%s\"", key);
	return s;
}

/* the names of a JSON list of strings, as "a b c" */
static void names_are(json_t *arr, const char *want)
{
	char got[1024] = "";
	size_t i;
	json_t *v;
	assert_true(json_is_array(arr));
	json_array_foreach(arr, i, v)
	{
		assert_true(json_is_string(v));
		snprintf(got + strlen(got), sizeof(got) - strlen(got), "%s%s", i ? " " : "",
			 json_string_value(v));
	}
	assert_string_equal(got, want);
}

static int setup(void **state)
{
	(void)state;
	char e[512];
	if (!mkdtemp(dir))
		return -1;
	snprintf(bank, sizeof(bank), "%s/bank", dir);
	snprintf(trusted, sizeof(trusted), "%s/trusted", dir);
	snprintf(status, sizeof(status), "%s/status", dir);
	if (bundle_keygen(at("keys"), e, sizeof(e)) < 0 ||
	    bundle_keygen(at("other"), e, sizeof(e)) < 0) {
		fprintf(stderr, "%s\n", e);
		return -1;
	}
	mkdir(trusted, 0755);
	size_t len;
	char *pub = read_file(at("keys/public.pem"), 4096, &len);
	write_file(at("trusted/keel.pem"), pub, len, 0644);
	free(pub);
	mkdir(at("m1"), 0755);
	mkdir(at("m2"), 0755);
	mkdir(at("bad"), 0755);
	/* nic 1.0.0: zz_core.ko loads before aa_pci.ko */
	module("m1/zz_core.ko", KERNEL, GOOD, "1.0.0");
	module("m1/aa_pci.ko", KERNEL, GOOD, "1.0.0");
	make_ext("nic.bundle", "nic", KERNEL, "1.0.0", BUNDLE_PARTNER,
		 MODS("m1/zz_core.ko", "m1/aa_pci.ko"));
	/* nic 2.0.0: zz_core.ko changed, aa_pci.ko gone, mm_new.ko new */
	module("m2/zz_core.ko", KERNEL, GOOD, "2.0.0");
	module("m2/mm_new.ko", KERNEL, GOOD, "2.0.0");
	make_ext("nic2.bundle", "nic", KERNEL, "2.0.0", BUNDLE_PARTNER,
		 MODS("m2/mm_new.ko", "m2/zz_core.ko"));
	module("m1/raid.ko", KERNEL, GOOD, "raid");
	make_ext("raid.bundle", "raid", KERNEL, "0.3.1", BUNDLE_CERTIFIED, MODS("m1/raid.ko"));
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	json_decref(last);
	rm_rf(dir);
	return 0;
}

static void test_install(void **state)
{
	(void)state;
	struct ext_host h = host();
	fresh();
	installs("nic.bundle");
	/* what the install says */
	assert_string_equal(str(last, "name"), "nic");
	assert_string_equal(str(last, "version"), "1.0.0");
	assert_string_equal(str(last, "build"), "e1e1e1");
	assert_string_equal(str(last, "acceptance"), "partner");
	assert_string_equal(str(last, "kernel"), KERNEL);
	assert_string_equal(str(last, "signed_by"), "keel.pem");
	assert_true(json_is_true(json_object_get(last, "reboot_needed")));
	names_are(json_object_get(last, "modules"), "zz_core.ko aa_pci.ko");
	/* the folder: the modules byte for byte, extension.json (the bundle's
	 * bundle.json, as it was signed), `modules` in load order */
	same_file(at("bank/ext/nic/zz_core.ko"), at("m1/zz_core.ko"));
	same_file(at("bank/ext/nic/aa_pci.ko"), at("m1/aa_pci.ko"));
	char *order = text_of(at("bank/ext/nic/modules"));
	assert_string_equal(order, "zz_core.ko\naa_pci.ko\n");
	free(order);
	size_t len;
	char *bundle = slurp(at("nic.bundle"), &len), name[BUNDLE_NAME_MAX];
	uint64_t size;
	assert_int_equal(bundle_member_parse((unsigned char *)bundle, name, &size, err, 512), 0);
	assert_string_equal(name, "bundle.json");
	char *info = slurp(at("bank/ext/nic/extension.json"), &len);
	assert_int_equal(len, size);
	assert_memory_equal(info, bundle + TAR_BLOCK, size);
	free(info);
	free(bundle);
	char *listing = tree(bank, "ext");
	assert_string_equal(listing, "ext ext/nic ext/nic/aa_pci.ko ext/nic/extension.json "
				     "ext/nic/modules ext/nic/zz_core.ko ");
	free(listing);
	char *st0 = text_of(status);
	assert_string_equal(st0, "nic installed\n");
	free(st0);
	gone(at("bank/ext/.nic.new"));
	gone(at("bank/ext/.nic.old"));
	gone(at("bank/ext/nic/.zz_core.ko.new"));
	/* the list: installed, to be loaded at the next boot */
	json_t *l = list(&h);
	assert_string_equal(str(l, "acceptance"), "partner");
	json_t *exts = json_object_get(l, "extensions");
	assert_int_equal(json_array_size(exts), 1);
	json_t *e = json_array_get(exts, 0);
	assert_string_equal(str(e, "name"), "nic");
	assert_string_equal(str(e, "version"), "1.0.0");
	assert_string_equal(str(e, "build"), "e1e1e1");
	assert_string_equal(str(e, "acceptance"), "partner");
	assert_string_equal(str(e, "kernel"), KERNEL);
	assert_string_equal(str(e, "state"), "installed");
	assert_null(json_object_get(e, "error"));
	names_are(json_object_get(e, "modules"), "zz_core.ko aa_pci.ko");
	json_decref(l);

	/* a second one, its line after the first's */
	installs("raid.bundle");
	char *st = text_of(status);
	assert_string_equal(st, "nic installed\nraid installed\n");
	free(st);
	/* keel-init's lines at the last boot: one loaded, one failed; a line
	 * of another extension whose name starts with one's is not its */
	const char *boot = "nic-extra failed x.ko: No such file or directory\n"
			   "nic loaded\n"
			   "raid failed raid.ko: Key was rejected by service\n"
			   "gone loaded\n";
	assert_int_equal(write_file(status, boot, strlen(boot), 0644), 0);
	l = list(&h);
	exts = json_object_get(l, "extensions");
	assert_int_equal(json_array_size(exts), 2);
	e = json_array_get(exts, 0);
	assert_string_equal(str(e, "name"), "nic");
	assert_string_equal(str(e, "state"), "loaded");
	assert_null(json_object_get(e, "error"));
	e = json_array_get(exts, 1);
	assert_string_equal(str(e, "name"), "raid");
	assert_string_equal(str(e, "acceptance"), "certified");
	assert_string_equal(str(e, "version"), "0.3.1");
	assert_string_equal(str(e, "state"), "failed");
	assert_string_equal(str(e, "error"), "raid.ko: Key was rejected by service");
	json_decref(l);
	/* no status file at all (keel-init did not write it): installed */
	unlink(status);
	l = list(&h);
	assert_string_equal(str(json_array_get(json_object_get(l, "extensions"), 1), "state"),
			    "installed");
	json_decref(l);
}

/* nothing there: the list is empty, the lowest level 0 */
static void test_empty(void **state)
{
	(void)state;
	struct ext_host h = host();
	fresh();
	json_t *l = list(&h);
	assert_int_equal(json_array_size(json_object_get(l, "extensions")), 0);
	assert_string_equal(str(l, "acceptance"), "partner");
	json_decref(l);
	assert_int_equal(ext_lowest_acceptance(bank), 0);
	/* a folder that is not an extension: cut short (no `modules`), a name
	 * outside the grammar, one whose extension.json names another */
	installs("nic.bundle");
	installs("raid.bundle");
	assert_int_equal(rename(at("bank/ext/raid"), at("bank/ext/Raid")), 0);
	char cmd[2048];
	snprintf(cmd, sizeof(cmd), "cp -a %s/ext/nic %s/ext/other && cp -a %s/ext/nic %s/ext/cut",
		 bank, bank, bank, bank);
	assert_int_equal(system(cmd), 0);
	assert_int_equal(unlink(at("bank/ext/cut/modules")), 0);
	l = list(&h);
	json_t *exts = json_object_get(l, "extensions");
	assert_int_equal(json_array_size(exts), 1);
	assert_string_equal(str(json_array_get(exts, 0), "name"), "nic");
	json_decref(l);
}

static void test_refusals(void **state)
{
	(void)state;
	struct ext_host h = host();
	fresh();
	/* built for another kernel: its bundle.json says so */
	module("bad/other.ko", "6.2.0-other", GOOD, "other");
	make_ext("x.bundle", "other", "6.2.0-other", "1.0.0", BUNDLE_CERTIFIED,
		 MODS("bad/other.ko"));
	refused(&h, "x.bundle", false,
		"its modules are built for kernel 6.2.0-other; this host runs " KERNEL);
	/* a module whose vermagic names another kernel (the second: the first
	 * is good, and nothing is written all the same) */
	make_ext("x.bundle", "nic", KERNEL, "1.0.0", BUNDLE_CERTIFIED,
		 MODS("m1/aa_pci.ko", "bad/other.ko"));
	refused(&h, "x.bundle", false,
		"other.ko is not built for kernel " KERNEL ", the one this host runs (its "
		"vermagic)");
	/* one whose release only starts with the host's */
	module("bad/longer.ko", KERNEL "2", GOOD, "longer");
	make_ext("x.bundle", "nic", KERNEL, "1.0.0", BUNDLE_CERTIFIED, MODS("bad/longer.ko"));
	refused(&h, "x.bundle", false,
		"longer.ko is not built for kernel " KERNEL ", the one this host runs (its "
		"vermagic)");
	/* no vermagic at all */
	module("bad/novermagic.ko", NULL, GOOD, "novermagic");
	make_ext("x.bundle", "nic", KERNEL, "1.0.0", BUNDLE_CERTIFIED, MODS("bad/novermagic.ko"));
	refused(&h, "x.bundle", false,
		"novermagic.ko is not built for kernel " KERNEL ", the one this host runs (its "
		"vermagic)");
	/* not signed */
	module("bad/unsigned.ko", KERNEL, ELF, "unsigned");
	make_ext("x.bundle", "nic", KERNEL, "1.0.0", BUNDLE_CERTIFIED,
		 MODS("m1/aa_pci.ko", "bad/unsigned.ko"));
	refused(&h, "x.bundle", false,
		"unsigned.ko is not signed: this host loads only modules signed by its kernel's "
		"builder (module.sig_enforce)");
	/* not an ELF object */
	module("bad/script.ko", KERNEL, SIGNED, "script");
	make_ext("x.bundle", "nic", KERNEL, "1.0.0", BUNDLE_CERTIFIED, MODS("bad/script.ko"));
	refused(&h, "x.bundle", false, "script.ko is not a kernel module (no ELF header)");
	/* shorter than an ELF header, yet "\x7fELF" */
	put("bad/tiny.ko",
	    "\x7f"
	    "ELF~Module signature appended~\n",
	    32);
	make_ext("x.bundle", "nic", KERNEL, "1.0.0", BUNDLE_CERTIFIED, MODS("bad/tiny.ko"));
	refused(&h, "x.bundle", false, "tiny.ko is not a kernel module (no ELF header)");
	/* a lower acceptance level than the host's */
	make_ext("x.bundle", "nic", KERNEL, "1.0.0", BUNDLE_COMMUNITY, MODS("m1/aa_pci.ko"));
	refused(&h, "x.bundle", false,
		"the bundle's acceptance level is community; this host takes partner or above");
	/* signed by a key the host does not trust */
	char e2[512];
	struct bundle_make m = {.kind = BUNDLE_EXTENSION,
				.key = at("other/private.pem"),
				.name = "nic",
				.kernel = KERNEL,
				.version = "1.0.0",
				.build = "b",
				.arch = "x86_64",
				.acceptance = BUNDLE_CERTIFIED,
				.nfiles = 1,
				.files = {at("m1/aa_pci.ko")},
				.out = at("x.bundle")};
	assert_int_equal(bundle_make(&m, e2, sizeof(e2)), 0);
	assert_int_equal(install("x.bundle", false), -EINVAL);
	assert_non_null(strstr(err, "signed by a key this host does not trust"));
	/* another architecture */
	m.key = at("keys/private.pem");
	m.arch = "aarch64";
	assert_int_equal(bundle_make(&m, e2, sizeof(e2)), 0);
	refused(&h, "x.bundle", false, "the bundle is for aarch64, this host is x86_64");
	/* a changed byte in a module */
	size_t len;
	char *buf = slurp(at("nic.bundle"), &len);
	struct verify_policy p = {.trusted_dir = trusted,
				  .kind = BUNDLE_EXTENSION,
				  .kernel = KERNEL,
				  .acceptance = BUNDLE_PARTNER};
	struct verified_bundle b;
	int fd = open(at("nic.bundle"), O_RDONLY);
	assert_int_equal(verify_bundle(fd, &p, &b, err, sizeof(err)), 0);
	close(fd);
	assert_int_equal(b.info.nfiles, 2);
	buf[b.offset[1] + 100] ^= 0x20; /* aa_pci.ko */
	put("x.bundle", buf, len);
	refused(&h, "x.bundle", false,
		"aa_pci.ko: its SHA-256 is not the one bundle.json lists (a changed byte)");
	free(buf);
	/* none of them wrote anything */
	gone(at("bank/ext"));
	gone(status);
	/* with the host at community, the community bundle goes in */
	make_ext("x.bundle", "nic", KERNEL, "1.0.0", BUNDLE_COMMUNITY, MODS("m1/aa_pci.ko"));
	h.acceptance = BUNDLE_COMMUNITY;
	assert_int_equal(install_on(&h, "x.bundle", false), 0);
	assert_string_equal(str(last, "acceptance"), "community");
}

/* an image's bundle is not an extension's, and the other way round */
static void test_kinds(void **state)
{
	(void)state;
	struct ext_host h = host();
	fresh();
	mkdir(at("img"), 0755);
	put("img/vmlinuz", "kernel", 6);
	put("img/initramfs.img", "initramfs", 9);
	const char *manifest = "keel-version: 0.2.0\nkernel-release: " KERNEL "\n";
	put("img/manifest.txt", manifest, strlen(manifest));
	char e2[512];
	struct bundle_make m = {
	    .kind = BUNDLE_IMAGE,
	    .key = at("keys/private.pem"),
	    .version = "0.2.0",
	    .build = "c0ffee1",
	    .arch = "x86_64",
	    .acceptance = BUNDLE_CERTIFIED,
	    .nfiles = 3,
	    .files = {at("img/vmlinuz"), at("img/initramfs.img"), at("img/manifest.txt")},
	    .out = at("image.bundle")};
	if (bundle_make(&m, e2, sizeof(e2)) < 0)
		fail_msg("%s", e2);
	refused(&h, "image.bundle", false,
		"this is an image bundle, not an extension one: it goes in with keel host update "
		"apply");
	refused(&h, "image.bundle", true,
		"this is an image bundle, not an extension one: it goes in with keel host update "
		"apply");
	gone(at("bank/ext"));
	struct verify_policy p = {.trusted_dir = trusted,
				  .kind = BUNDLE_IMAGE,
				  .running_version = "0.1.0",
				  .acceptance = BUNDLE_PARTNER};
	struct verified_bundle b;
	int fd = open(at("nic.bundle"), O_RDONLY);
	assert_int_equal(verify_bundle(fd, &p, &b, err, sizeof(err)), -EINVAL);
	assert_string_equal(err, "this is an extension bundle, not an image one: it goes in with "
				 "keel host extension install");
	/* as an extension, it verifies */
	p.kind = BUNDLE_EXTENSION;
	p.kernel = KERNEL;
	p.running_version = NULL;
	assert_int_equal(verify_bundle(fd, &p, &b, err, sizeof(err)), 0);
	assert_int_equal(b.info.kind, BUNDLE_EXTENSION);
	assert_string_equal(b.info.name, "nic");
	assert_string_equal(b.info.kernel, KERNEL);
	assert_string_equal(b.key, "keel.pem");
	close(fd);
	/* keel-bundle's own refusals */
	m.kind = BUNDLE_EXTENSION;
	m.name = "nic";
	m.kernel = KERNEL;
	m.version = "1.0.0";
	m.nfiles = 1;
	m.files[0] = at("img/vmlinuz");
	assert_int_equal(bundle_make(&m, e2, sizeof(e2)), -1);
	assert_non_null(strstr(e2, "img/vmlinuz: not a kernel module's file name (NAME.ko)"));
	m.nfiles = 0;
	assert_int_equal(bundle_make(&m, e2, sizeof(e2)), -1);
	assert_string_equal(e2, "0 files: an image has 3, an extension 1 to 32");
	m.nfiles = 1;
	m.files[0] = at("m1/raid.ko");
	m.name = "Nic";
	assert_int_equal(bundle_make(&m, e2, sizeof(e2)), -1);
	assert_non_null(strstr(e2, "not of the grammar"));
	m.name = "nic";
	m.kernel = "6.1 test";
	assert_int_equal(bundle_make(&m, e2, sizeof(e2)), -1);
	assert_non_null(strstr(e2, "not of the grammar"));
	gone(at("image.bundle.tmp"));
}

static void test_downgrade(void **state)
{
	(void)state;
	struct ext_host h = host();
	fresh();
	installs("nic2.bundle");
	char *before = snapshot();
	refused(&h, "nic.bundle", false,
		"nic 1.0.0 is older than the installed 2.0.0: a downgrade is asked for with "
		"allow_downgrade");
	refused(&h, "nic2.bundle", false,
		"nic 2.0.0 is the same as the installed 2.0.0: a downgrade is asked for with "
		"allow_downgrade");
	char *after = snapshot();
	assert_string_equal(after, before);
	free(after);
	free(before);
	/* another extension's version does not count */
	make_ext("x.bundle", "other", KERNEL, "0.0.1", BUNDLE_PARTNER, MODS("m1/raid.ko"));
	installs("x.bundle");
	/* asked for: the older one back, whole */
	assert_int_equal(install("nic.bundle", true), 0);
	same_file(at("bank/ext/nic/zz_core.ko"), at("m1/zz_core.ko"));
	same_file(at("bank/ext/nic/aa_pci.ko"), at("m1/aa_pci.ko"));
	gone(at("bank/ext/nic/mm_new.ko"));
	char *order = text_of(at("bank/ext/nic/modules"));
	assert_string_equal(order, "zz_core.ko\naa_pci.ko\n");
	free(order);
	/* and the same version again */
	assert_int_equal(install("nic.bundle", true), 0);
	char *st = text_of(status);
	assert_string_equal(st, "other installed\nnic installed\n");
	free(st);
}

static void test_upgrade_remove(void **state)
{
	(void)state;
	struct ext_host h = host();
	fresh();
	installs("nic.bundle");
	installs("raid.bundle");
	const char *boot = "nic loaded\nraid failed raid.ko: Key was rejected by service\n";
	assert_int_equal(write_file(status, boot, strlen(boot), 0644), 0);
	/* the upgrade: the new version's files only */
	installs("nic2.bundle");
	assert_string_equal(str(last, "version"), "2.0.0");
	same_file(at("bank/ext/nic/zz_core.ko"), at("m2/zz_core.ko"));
	same_file(at("bank/ext/nic/mm_new.ko"), at("m2/mm_new.ko"));
	gone(at("bank/ext/nic/aa_pci.ko"));
	gone(at("bank/ext/.nic.old"));
	gone(at("bank/ext/.nic.new"));
	char *order = text_of(at("bank/ext/nic/modules"));
	assert_string_equal(order, "mm_new.ko\nzz_core.ko\n");
	free(order);
	/* the status: nic's line says installed, raid's is kept */
	char *st = text_of(status);
	assert_string_equal(st, "raid failed raid.ko: Key was rejected by service\n"
				"nic installed\n");
	free(st);
	json_t *l = list(&h);
	json_t *e = json_array_get(json_object_get(l, "extensions"), 0);
	assert_string_equal(str(e, "version"), "2.0.0");
	assert_string_equal(str(e, "state"), "installed");
	names_are(json_object_get(e, "modules"), "mm_new.ko zz_core.ko");
	json_decref(l);
	/* an upgrade after one cut short (a ".nic.new" left behind) */
	assert_int_equal(mkdir(at("bank/ext/.nic.new"), 0755), 0);
	put("bank/ext/.nic.new/junk.ko", "junk", 4);
	assert_int_equal(install("nic2.bundle", true), 0);
	gone(at("bank/ext/.nic.new"));

	/* the removal: the folder and the status line */
	assert_int_equal(ext_remove(&h, "nic", err, sizeof(err)), 0);
	gone(at("bank/ext/nic"));
	gone(at("bank/ext/.nic.old"));
	there(at("bank/ext/raid/raid.ko"));
	st = text_of(status);
	assert_string_equal(st, "raid failed raid.ko: Key was rejected by service\n");
	free(st);
	l = list(&h);
	assert_int_equal(json_array_size(json_object_get(l, "extensions")), 1);
	json_decref(l);
	/* not there (any more) */
	assert_int_equal(ext_remove(&h, "nic", err, sizeof(err)), -ENOENT);
	assert_string_equal(err, "no extension nic is installed");
	/* names outside the grammar, whatever the disk holds */
	put("x.ko", "x", 1);
	const char *bad[] = {"../x", "..", ".", "", "Raid", "raid/", "-raid", "ext/raid"};
	for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
		assert_int_equal(ext_remove(&h, bad[i], err, sizeof(err)), -ENOENT);
		char want[128];
		snprintf(want, sizeof(want), "no extension %s is installed", bad[i]);
		assert_string_equal(err, want);
	}
	there(at("x.ko"));
	there(at("bank/ext/raid/raid.ko"));
	/* an install cut short is not one to remove */
	assert_int_equal(mkdir(at("bank/ext/half"), 0755), 0);
	assert_int_equal(ext_remove(&h, "half", err, sizeof(err)), -ENOENT);
	there(at("bank/ext/half"));
	/* the last one */
	assert_int_equal(ext_remove(&h, "raid", err, sizeof(err)), 0);
	gone(at("bank/ext/raid"));
	st = text_of(status);
	assert_string_equal(st, "");
	free(st);
	/* and again after a removal: it installs */
	installs("nic.bundle");
	same_file(at("bank/ext/nic/aa_pci.ko"), at("m1/aa_pci.ko"));
}

static void test_lowest_acceptance(void **state)
{
	(void)state;
	struct ext_host h = host();
	fresh();
	assert_int_equal(ext_lowest_acceptance(bank), 0);
	installs("raid.bundle"); /* certified */
	assert_int_equal(ext_lowest_acceptance(bank), BUNDLE_CERTIFIED);
	/* the lowest, not the first in name order */
	make_ext("x.bundle", "aaa", KERNEL, "1.0.0", BUNDLE_CERTIFIED, MODS("m1/raid.ko"));
	installs("x.bundle");
	installs("nic.bundle"); /* partner */
	assert_int_equal(ext_lowest_acceptance(bank), BUNDLE_PARTNER);
	/* a community one whose install was cut short does not count */
	make_ext("x.bundle", "comm", KERNEL, "1.0.0", BUNDLE_COMMUNITY, MODS("m1/raid.ko"));
	h.acceptance = BUNDLE_COMMUNITY;
	assert_int_equal(install_on(&h, "x.bundle", false), 0);
	assert_int_equal(ext_lowest_acceptance(bank), BUNDLE_COMMUNITY);
	assert_int_equal(unlink(at("bank/ext/comm/modules")), 0);
	assert_int_equal(ext_lowest_acceptance(bank), BUNDLE_PARTNER);
	assert_int_equal(ext_remove(&h, "nic", err, sizeof(err)), 0);
	assert_int_equal(ext_lowest_acceptance(bank), BUNDLE_CERTIFIED);
}

/* EXT_MAX extensions: no other one goes in; an upgrade of one does */
static void test_too_many(void **state)
{
	(void)state;
	struct ext_host h = host();
	fresh();
	assert_int_equal(mkdir(at("bank/ext"), 0755), 0);
	struct bundle_info info = {.kind = BUNDLE_EXTENSION,
				   .kernel = KERNEL,
				   .version = "1.0.0",
				   .build = "b",
				   .arch = "x86_64",
				   .acceptance = BUNDLE_CERTIFIED,
				   .nfiles = 1,
				   .files = {{.name = "raid.ko", .size = 1}}};
	for (int i = 0; i < EXT_MAX; i++) {
		char name[64];
		snprintf(info.name, sizeof(info.name), "e%02d", i);
		char *json = bundle_info_format(&info);
		assert_non_null(json);
		snprintf(name, sizeof(name), "bank/ext/e%02d", i);
		assert_int_equal(mkdir(at(name), 0755), 0);
		snprintf(name, sizeof(name), "bank/ext/e%02d/extension.json", i);
		put(name, json, strlen(json));
		snprintf(name, sizeof(name), "bank/ext/e%02d/modules", i);
		put(name, "raid.ko\n", 8);
		free(json);
	}
	json_t *l = list(&h);
	assert_int_equal(json_array_size(json_object_get(l, "extensions")), EXT_MAX);
	json_decref(l);
	refused(&h, "raid.bundle", false, "this host has 64 extensions, as many as it takes");
	gone(at("bank/ext/raid"));
	make_ext("x.bundle", "e07", KERNEL, "1.0.1", BUNDLE_PARTNER, MODS("m1/raid.ko"));
	installs("x.bundle");
	same_file(at("bank/ext/e07/raid.ko"), at("m1/raid.ko"));
}

/* a bank with the extension `name` of a kernel, built from m1/raid.ko */
static void carry_setup(void)
{
	rm_rf(at("a"));
	rm_rf(at("b"));
	mkdir(at("a"), 0755);
	mkdir(at("b"), 0755);
	struct ext_host h = host();
	h.bank_dir = at("a");
	/* drop: for the kernel running now; keep: for the new image's */
	make_ext("x.bundle", "drop", KERNEL, "1.0.0", BUNDLE_PARTNER, MODS("m1/raid.ko"));
	assert_int_equal(install_on(&h, "x.bundle", false), 0);
	module("m2/new_core.ko", "6.2.0-new", GOOD, "new");
	module("m2/new_pci.ko", "6.2.0-new", GOOD, "new pci");
	make_ext("x.bundle", "keep", "6.2.0-new", "1.0.0", BUNDLE_PARTNER,
		 MODS("m2/new_pci.ko", "m2/new_core.ko"));
	h.kernel = "6.2.0-new";
	assert_int_equal(install_on(&h, "x.bundle", false), 0);
	/* b's extensions, of the image it held before */
	mkdir(at("b/ext"), 0755);
	mkdir(at("b/ext/stale"), 0755);
	put("b/ext/stale/old.ko", "old", 3);
	put("b/ext/stale/modules", "old.ko\n", 7);
	mkdir(at("b/ext/keep"), 0755);
	put("b/ext/keep/older.ko", "older", 5);
	mkdir(at("b/ext/.junk.new"), 0755);
	put("b/ext/.junk.new/x.ko", "x", 1);
	put("b/ext/file", "f", 1);
}

static void test_carry_over(void **state)
{
	(void)state;
	carry_setup();
	json_t *kept = json_array(), *dropped = json_array();
	assert_int_equal(
	    ext_carry_over(at("a"), at("b"), "6.2.0-new", kept, dropped, err, sizeof(err)), 0);
	names_are(kept, "keep");
	names_are(dropped, "drop");
	json_decref(kept);
	json_decref(dropped);
	const char *files[] = {"modules", "extension.json", "new_pci.ko", "new_core.ko"};
	for (size_t i = 0; i < ARRAY_SIZE(files); i++) {
		char x[64], y[64];
		snprintf(x, sizeof(x), "a/ext/keep/%s", files[i]);
		snprintf(y, sizeof(y), "b/ext/keep/%s", files[i]);
		same_file(at(x), at(y));
	}
	same_file(at("b/ext/keep/new_pci.ko"), at("m2/new_pci.ko"));
	/* nothing else: b's older folder contents are gone, drop is not there */
	char *got = tree(at("b"), "ext");
	assert_string_equal(got, "ext ext/keep ext/keep/extension.json ext/keep/modules "
				 "ext/keep/new_core.ko ext/keep/new_pci.ko ");
	free(got);
	/* the booted bank as it was */
	there(at("a/ext/drop/raid.ko"));
	there(at("a/ext/keep/new_core.ko"));
	/* the new bank lists it (a host booted from it) */
	struct ext_host h = host();
	h.bank_dir = at("b");
	h.kernel = "6.2.0-new";
	json_t *l = list(&h);
	json_t *exts = json_object_get(l, "extensions");
	assert_int_equal(json_array_size(exts), 1);
	assert_string_equal(str(json_array_get(exts, 0), "name"), "keep");
	json_decref(l);

	/* none for that kernel: all dropped, b/ext emptied; b with no ext
	 * folder at all: made */
	kept = json_array();
	dropped = json_array();
	assert_int_equal(
	    ext_carry_over(at("a"), at("b"), "6.3.0-other", kept, dropped, err, sizeof(err)), 0);
	names_are(kept, "");
	names_are(dropped, "drop keep");
	json_decref(kept);
	json_decref(dropped);
	gone(at("b/ext/keep"));
	rm_rf(at("b/ext"));
	kept = json_array();
	dropped = json_array();
	assert_int_equal(ext_carry_over(at("a"), at("b"), KERNEL, kept, dropped, err, sizeof(err)),
			 0);
	names_are(kept, "drop");
	names_are(dropped, "keep");
	json_decref(kept);
	json_decref(dropped);
	same_file(at("b/ext/drop/raid.ko"), at("m1/raid.ko"));
}

/* a module of the booted bank missing or changed: -EIO, not copied */
static void test_carry_over_failure(void **state)
{
	(void)state;
	carry_setup();
	json_t *kept = json_array(), *dropped = json_array();
	/* a byte changed */
	size_t len;
	char *buf = slurp(at("a/ext/keep/new_core.ko"), &len);
	buf[len / 2] ^= 1;
	put("a/ext/keep/new_core.ko", buf, len);
	assert_int_equal(
	    ext_carry_over(at("a"), at("b"), "6.2.0-new", kept, dropped, err, sizeof(err)), -EIO);
	assert_string_equal(err, "new_core.ko changed since it was verified");
	gone(at("b/ext/keep"));
	gone(at("b/ext/.keep.new"));
	names_are(kept, "");
	/* shorter than it was */
	put("a/ext/keep/new_core.ko", buf, len - 1);
	free(buf);
	assert_int_equal(
	    ext_carry_over(at("a"), at("b"), "6.2.0-new", kept, dropped, err, sizeof(err)), -EIO);
	gone(at("b/ext/keep"));
	gone(at("b/ext/.keep.new"));
	names_are(kept, "");
	unlink(at("a/ext/keep/new_core.ko"));
	assert_int_equal(
	    ext_carry_over(at("a"), at("b"), "6.2.0-new", kept, dropped, err, sizeof(err)), -EIO);
	char want[1024];
	snprintf(want, sizeof(want), "cannot read %s: No such file or directory",
		 at("a/ext/keep/new_core.ko"));
	assert_string_equal(err, want);
	gone(at("b/ext/keep"));
	json_decref(kept);
	json_decref(dropped);
}

static char *editenv(const char *args)
{
	char cmd[1024];
	snprintf(cmd, sizeof(cmd), "grub-editenv %s %s", at("esp/keel/grubenv"), args);
	FILE *p = popen(cmd, "r");
	char *out = calloc(1, 4096);
	size_t n = fread(out, 1, 4095, p);
	out[n] = '\0';
	assert_int_equal(pclose(p), 0);
	return out;
}

/* an update carries the extensions for its kernel over to the bank it
 * writes (update_install), before the switch */
static void test_update_carries(void **state)
{
	(void)state;
	carry_setup();
	rm_rf(at("esp"));
	mkdir(at("esp"), 0755);
	mkdir(at("esp/keel"), 0755);
	free(editenv("create"));
	free(editenv("set keel_bank=a keel_tries= keel_reason=installed"));
	put("a/boot.cfg", "set keel_cmdline=\"x\"\n", 21);
	mkdir(at("img"), 0755);
	put("img/vmlinuz", "kernel", 6);
	put("img/initramfs.img", "initramfs", 9);
	const char *manifest = "keel-version: 0.2.0\nkernel-release: 6.2.0-new\n";
	put("img/manifest.txt", manifest, strlen(manifest));
	char e2[512];
	struct bundle_make m = {
	    .kind = BUNDLE_IMAGE,
	    .key = at("keys/private.pem"),
	    .version = "0.2.0",
	    .build = "c0ffee1",
	    .arch = "x86_64",
	    .acceptance = BUNDLE_CERTIFIED,
	    .nfiles = 3,
	    .files = {at("img/vmlinuz"), at("img/initramfs.img"), at("img/manifest.txt")},
	    .out = at("image.bundle")};
	if (bundle_make(&m, e2, sizeof(e2)) < 0)
		fail_msg("%s", e2);
	struct verify_policy p = {.trusted_dir = trusted,
				  .kind = BUNDLE_IMAGE,
				  .running_version = "0.1.0",
				  .acceptance = BUNDLE_PARTNER};
	struct verified_bundle b;
	struct update_target t = {
	    .esp = at("esp"), .booted_dir = at("a"), .bank_dir = at("b"), .booted = 'a'};
	int fd = open(at("image.bundle"), O_RDONLY);
	assert_int_equal(verify_bundle(fd, &p, &b, err, sizeof(err)), 0);
	json_t *kept = json_array(), *dropped = json_array();
	assert_int_equal(update_install(fd, &b, &t, kept, dropped, err, sizeof(err)), 0);
	names_are(kept, "keep");
	names_are(dropped, "drop");
	same_file(at("b/ext/keep/new_core.ko"), at("m2/new_core.ko"));
	gone(at("b/ext/drop"));
	gone(at("b/ext/stale"));
	same_file(at("b/manifest.txt"), at("img/manifest.txt"));
	char *env = editenv("list");
	assert_string_equal(env, "keel_bank=b\nkeel_tries=3\nkeel_reason=updated\n");
	free(env);
	json_decref(kept);
	json_decref(dropped);

	/* a carry-over that fails: the next boot stays on the booted bank */
	free(editenv("set keel_bank=a keel_tries= keel_reason=installed"));
	unlink(at("a/ext/keep/new_pci.ko"));
	kept = json_array();
	dropped = json_array();
	assert_int_equal(update_install(fd, &b, &t, kept, dropped, err, sizeof(err)), -EIO);
	assert_non_null(strstr(err, "new_pci.ko: No such file or directory"));
	env = editenv("list");
	assert_string_equal(env, "keel_bank=a\nkeel_tries=\nkeel_reason=installed\n");
	free(env);
	json_decref(kept);
	json_decref(dropped);
	close(fd);
}

/* --- bundle.json of kind "extension" */

static struct bundle_info ext_info(void)
{
	struct bundle_info info = {.kind = BUNDLE_EXTENSION,
				   .name = "nic",
				   .kernel = KERNEL,
				   .version = "1.2.3",
				   .version_num = {1, 2, 3},
				   .build = "abc",
				   .arch = "x86_64",
				   .acceptance = BUNDLE_PARTNER,
				   .nfiles = 2};
	strcpy(info.files[0].name, "nic_core.ko");
	info.files[0].size = 1000;
	info.files[0].sha256[0] = 0xab;
	strcpy(info.files[1].name, "nic.ko");
	info.files[1].size = 2000;
	info.files[1].sha256[31] = 0x01;
	return info;
}

/* bundle.json of ext_info() with `key` set to `value` (NULL: left out) */
static int parse_with(const char *key, json_t *value, struct bundle_info *out)
{
	struct bundle_info info = ext_info();
	char *text = bundle_info_format(&info);
	assert_non_null(text);
	json_t *j = json_loads(text, 0, NULL);
	assert_non_null(j);
	free(text);
	if (value)
		json_object_set_new(j, key, value);
	else
		assert_int_equal(json_object_del(j, key), 0);
	text = json_dumps(j, JSON_PRESERVE_ORDER);
	json_decref(j);
	err[0] = '\0';
	int rc = bundle_info_parse(text, strlen(text), out, err, sizeof(err));
	free(text);
	return rc;
}

static void parse_refused(const char *key, json_t *value, const char *why)
{
	struct bundle_info out;
	if (parse_with(key, value, &out) != -1 || strcmp(err, why) != 0)
		fail_msg("%s: \"%s\", not \"%s\"", key, err, why);
}

static void parse_ok(const char *key, json_t *value)
{
	struct bundle_info out;
	if (parse_with(key, value, &out) != 0)
		fail_msg("%s: %s", key, err);
}

/* a list of n modules m0.ko ... */
static json_t *modules(int n)
{
	json_t *a = json_array();
	for (int i = 0; i < n; i++) {
		char name[16];
		snprintf(name, sizeof(name), "m%d.ko", i);
		json_array_append_new(a,
				      json_pack("{s:s,s:i,s:s}", "name", name, "size", 10, "sha256",
						"00000000000000000000000000000000"
						"00000000000000000000000000000000"));
	}
	return a;
}

static json_t *one_file(const char *name, json_int_t size)
{
	json_t *a = modules(1);
	json_object_set_new(json_array_get(a, 0), "name", json_string(name));
	json_object_set_new(json_array_get(a, 0), "size", json_integer(size));
	return a;
}

static void test_bundle_json(void **state)
{
	(void)state;
	/* the round trip */
	struct bundle_info info = ext_info(), back;
	char *text = bundle_info_format(&info);
	assert_non_null(text);
	assert_int_equal(bundle_info_parse(text, strlen(text), &back, err, sizeof(err)), 0);
	assert_int_equal(back.kind, BUNDLE_EXTENSION);
	assert_string_equal(back.name, "nic");
	assert_string_equal(back.kernel, KERNEL);
	assert_string_equal(back.version, "1.2.3");
	assert_memory_equal(back.version_num, info.version_num, sizeof(info.version_num));
	assert_string_equal(back.build, "abc");
	assert_string_equal(back.arch, "x86_64");
	assert_int_equal(back.acceptance, BUNDLE_PARTNER);
	assert_int_equal(back.nfiles, 2);
	assert_memory_equal(back.files, info.files, sizeof(info.files));
	/* and formatted again, the same text */
	char *again = bundle_info_format(&back);
	assert_string_equal(again, text);
	free(again);
	assert_non_null(strstr(text, "\"kind\": \"extension\""));
	assert_non_null(strstr(text, "\"name\": \"nic\""));
	assert_non_null(strstr(text, "\"kernel\": \"" KERNEL "\""));
	free(text);

	/* names */
	const char *name_why = "bundle.json: name: not 1 to 32 of a-z, 0-9, '_', '-' (a letter "
			       "or digit first)";
	parse_refused("name", json_string("NIC"), name_why);
	parse_refused("name", json_string("Nic"), name_why);
	parse_refused("name", json_string("-nic"), name_why);
	parse_refused("name", json_string("_nic"), name_why);
	parse_refused("name", json_string(""), name_why);
	parse_refused("name", json_string("../x"), name_why);
	parse_refused("name", json_string("a.b"), name_why);
	parse_refused("name", json_string("a b"), name_why);
	parse_refused("name", json_string("aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"), /* 33 */
		      "bundle.json: name: not a string of at most 32 bytes");
	parse_refused("name", json_integer(1),
		      "bundle.json: name: not a string of at most 32 bytes");
	parse_ok("name", json_string("aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa")); /* 32 */
	parse_ok("name", json_string("0a_b-c"));
	/* the kernel */
	parse_refused("kernel", NULL, "bundle.json: no field \"kernel\"");
	parse_refused("name", NULL, "bundle.json: no field \"name\"");
	const char *kernel_why = "bundle.json: kernel: not a kernel release (1 to 64 of 0-9, A-Z, "
				 "a-z, '.', '_', '-', '+')";
	parse_refused("kernel", json_string(""), kernel_why);
	parse_refused("kernel", json_string("6.1.0 test"), kernel_why);
	parse_refused("kernel", json_string("6.1.0/test"), kernel_why);
	char k[70];
	memset(k, 'k', 65);
	k[65] = '\0';
	parse_refused("kernel", json_string(k),
		      "bundle.json: kernel: not a string of at most 64 bytes");
	k[64] = '\0';
	parse_ok("kernel", json_string(k));
	parse_ok("kernel", json_string("6.1.0-27-amd64+rt_X"));
	/* the modules */
	const char *module_why = "bundle.json: files[0]: not a kernel module's name (1 to 60 of "
				 "a-z, 0-9, '_', '-', then .ko)";
	parse_refused("files", one_file("nic.o", 10), module_why);
	parse_refused("files", one_file("nic", 10), module_why);
	parse_refused("files", one_file(".ko", 10), module_why);
	parse_refused("files", one_file("Nic.ko", 10), module_why);
	parse_refused("files", one_file("nic.ko.xz", 10), module_why);
	parse_refused("files", one_file("../x.ko", 10), module_why);
	parse_refused("files", one_file("vmlinuz", 10), module_why);
	parse_refused("files", one_file("a.b.ko", 10), module_why);
	parse_ok("files", one_file("nic-core_2.ko", 10));
	parse_refused("files", one_file("nic.ko", (json_int_t)BUNDLE_MODULE_MAX + 1),
		      "bundle.json: files[0]: size: not a number of bytes from 1 to 33554432");
	parse_ok("files", one_file("nic.ko", (json_int_t)BUNDLE_MODULE_MAX));
	parse_refused("files", one_file("nic.ko", 0),
		      "bundle.json: files[0]: size: not a number of bytes from 1 to 33554432");
	json_t *two = modules(2);
	json_object_set_new(json_array_get(two, 1), "name", json_string("m0.ko"));
	parse_refused("files", two, "bundle.json: files[1]: m0.ko listed twice");
	parse_ok("files", modules(1));
	parse_ok("files", modules(EXT_MODULES_MAX));
	parse_refused("files", modules(EXT_MODULES_MAX + 1),
		      "bundle.json: files: not a list of 1 to 32 modules");
	parse_refused("files", modules(0), "bundle.json: files: not a list of 1 to 32 modules");
	parse_refused("files", json_object(), "bundle.json: files: not a list of 1 to 32 modules");
	/* the kind */
	parse_refused("kind", json_string("driver"), "bundle.json: kind: not image or extension");
	parse_refused("kind", json_string("image"), "bundle.json: unknown field \"name\"");
	parse_refused("extra", json_true(), "bundle.json: unknown field \"extra\"");

	/* an image's bundle.json with an extension's field */
	struct bundle_info img = {.kind = BUNDLE_IMAGE,
				  .version = "1.2.3",
				  .build = "abc",
				  .arch = "x86_64",
				  .acceptance = BUNDLE_CERTIFIED,
				  .nfiles = BUNDLE_FILES};
	for (int i = 0; i < BUNDLE_FILES; i++) {
		strcpy(img.files[i].name, bundle_file_names[i]);
		img.files[i].size = 1;
	}
	text = bundle_info_format(&img);
	assert_non_null(text);
	assert_null(strstr(text, "\"kernel\"")); /* not an extension's fields */
	assert_null(strstr(text, "\"name\": \"\""));
	json_t *j = json_loads(text, 0, NULL);
	free(text);
	json_object_set_new(j, "kernel", json_string(KERNEL));
	text = json_dumps(j, JSON_PRESERVE_ORDER);
	assert_int_equal(bundle_info_parse(text, strlen(text), &back, err, sizeof(err)), -1);
	assert_string_equal(err, "bundle.json: unknown field \"kernel\"");
	free(text);
	json_object_del(j, "kernel");
	json_object_set_new(j, "name", json_string("nic"));
	text = json_dumps(j, JSON_PRESERVE_ORDER);
	assert_int_equal(bundle_info_parse(text, strlen(text), &back, err, sizeof(err)), -1);
	assert_string_equal(err, "bundle.json: unknown field \"name\"");
	free(text);
	/* an image with a module for a file; an extension of an image's files */
	json_object_del(j, "name");
	json_t *files = json_object_get(j, "files");
	json_object_set_new(json_array_get(files, 0), "name", json_string("nic.ko"));
	text = json_dumps(j, JSON_PRESERVE_ORDER);
	assert_int_equal(bundle_info_parse(text, strlen(text), &back, err, sizeof(err)), -1);
	assert_string_equal(err, "bundle.json: files[0]: not a file of an image (vmlinuz, "
				 "initramfs.img, manifest.txt)");
	free(text);
	json_decref(j);

	/* what bundle_info_format refuses to write */
	info = ext_info();
	strcpy(info.name, "Nic");
	assert_null(bundle_info_format(&info));
	info = ext_info();
	info.name[0] = '\0';
	assert_null(bundle_info_format(&info));
	info = ext_info();
	info.kernel[0] = '\0';
	assert_null(bundle_info_format(&info));
	info = ext_info();
	strcpy(info.kernel, "6.1 x");
	assert_null(bundle_info_format(&info));
	info = ext_info();
	info.nfiles = BUNDLE_FILES_MAX + 1;
	assert_null(bundle_info_format(&info));
	info = ext_info();
	info.kind = 3;
	assert_null(bundle_info_format(&info));
}

static void test_names(void **state)
{
	(void)state;
	const char *good[] = {"a",     "0",	 "nic",
			      "a_b-c", "9lives", "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"};
	const char *bad[] = {"",    "A",   "-a",  "_a",
			     ".a",  "a.b", "a/b", "../x",
			     "a b", "é",   "a\n", "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"};
	for (size_t i = 0; i < ARRAY_SIZE(good); i++)
		if (!ext_name_ok(good[i]))
			fail_msg("\"%s\" refused", good[i]);
	for (size_t i = 0; i < ARRAY_SIZE(bad); i++)
		if (ext_name_ok(bad[i]))
			fail_msg("\"%s\" taken", bad[i]);
	char stem60[70], stem61[70];
	memset(stem60, 'm', 60);
	strcpy(stem60 + 60, ".ko");
	memset(stem61, 'm', 61);
	strcpy(stem61 + 61, ".ko");
	const char *gm[] = {"a.ko", "nic.ko", "-x.ko", "_x.ko", "a-b_c.ko", stem60};
	const char *bm[] = {".ko",    "ko",    "a.k",	"a.KO", "A.ko",	   "a.b.ko", "../x.ko",
			    "x/y.ko", "x.ko/", "x.txt", "a ko", "x.ko.xz", stem61};
	for (size_t i = 0; i < ARRAY_SIZE(gm); i++)
		if (!ext_module_ok(gm[i]))
			fail_msg("\"%s\" refused", gm[i]);
	for (size_t i = 0; i < ARRAY_SIZE(bm); i++)
		if (ext_module_ok(bm[i]))
			fail_msg("\"%s\" taken", bm[i]);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_install),
	    cmocka_unit_test(test_empty),
	    cmocka_unit_test(test_refusals),
	    cmocka_unit_test(test_kinds),
	    cmocka_unit_test(test_downgrade),
	    cmocka_unit_test(test_upgrade_remove),
	    cmocka_unit_test(test_lowest_acceptance),
	    cmocka_unit_test(test_too_many),
	    cmocka_unit_test(test_carry_over),
	    cmocka_unit_test(test_carry_over_failure),
	    cmocka_unit_test(test_update_carries),
	    cmocka_unit_test(test_bundle_json),
	    cmocka_unit_test(test_names),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
