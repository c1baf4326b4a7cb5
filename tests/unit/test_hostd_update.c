/* update.c with real bundles, made and signed by keel-bundle's own code
 * (bundlemake.c): a good one verifies; every refusal of update.h, each with
 * its reason (a changed byte anywhere, a key not trusted, a bundle cut
 * short, a downgrade, a lower acceptance level, another architecture, a
 * member name outside the grammar, a header whose size lies, bundle.json
 * with a field more, two signatures or none, bytes after the end). Then
 * the install into folders standing in for the banks and the ESP, whose
 * environment block grub-editenv (Debian's grub-common) made: the files, the
 * switch, and a failure that leaves the next boot on the booted bank. */
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
#include "common/bootenv.h"
#include "common/bundlefmt.h"
#include "common/util.h"
#include "hostd/update.h"
#include "hostd/verify.h"
#include "rm_rf.h"

static char dir[] = "/tmp/keel-update-XXXXXX";

/* dir/name, in one of a few buffers that take turns */
static const char *at(const char *name)
{
	static char bufs[8][256];
	static int next;
	char *p = bufs[next++ % 8];
	snprintf(p, 256, "%s/%s", dir, name);
	return p;
}

static void put(const char *name, const void *data, size_t len)
{
	assert_int_equal(write_file(at(name), data, len, 0644), 0);
}

static void put_random(const char *name, size_t len)
{
	unsigned char *buf = malloc(len);
	for (size_t i = 0; i < len; i++)
		buf[i] = (unsigned char)(rand() & 0xff);
	put(name, buf, len);
	free(buf);
}

static char *slurp(const char *path, size_t *len)
{
	char *buf = read_file(path, 16 << 20, len);
	assert_non_null(buf);
	return buf;
}

/* a bundle of img/ at `out`, manifest.txt saying `version` */
static void make(const char *out, const char *key, const char *version, int acceptance,
		 const char *arch)
{
	char manifest[128], err[512];
	int n = snprintf(manifest, sizeof(manifest), "keel-version: %s\nkeel-commit: c0ffee1\n",
			 version);
	put("img/manifest.txt", manifest, (size_t)n);
	char files[3][256];
	snprintf(files[0], 256, "%s", at("img/vmlinuz"));
	snprintf(files[1], 256, "%s", at("img/initramfs.img"));
	snprintf(files[2], 256, "%s", at("img/manifest.txt"));
	struct bundle_make m = {.kind = BUNDLE_IMAGE,
				.key = at(key),
				.version = version,
				.build = "c0ffee1",
				.arch = arch,
				.acceptance = acceptance,
				.nfiles = 3,
				.files = {files[0], files[1], files[2]},
				.out = at(out)};
	if (bundle_make(&m, err, sizeof(err)) < 0)
		fail_msg("bundle_make: %s", err);
}

static struct verify_policy policy(void)
{
	static char trusted[256]; /* not one of at()'s buffers, which take turns */
	snprintf(trusted, sizeof(trusted), "%s/trusted", dir);
	return (struct verify_policy){.trusted_dir = trusted,
				      .kind = BUNDLE_IMAGE,
				      .running_version = "0.1.0",
				      .acceptance = BUNDLE_PARTNER};
}

static char err[512];

static int verify_with(const char *name, const struct verify_policy *p, struct verified_bundle *b)
{
	int fd = open(at(name), O_RDONLY);
	assert_true(fd >= 0);
	err[0] = '\0';
	int rc = verify_bundle(fd, p, b, err, sizeof(err));
	close(fd);
	return rc;
}

/* refused (-EINVAL), with `why` in the message */
static void refused(const char *name, const struct verify_policy *p, const char *why)
{
	struct verified_bundle b;
	assert_int_equal(verify_with(name, p, &b), -EINVAL);
	if (!strstr(err, why))
		fail_msg("%s: \"%s\" does not say \"%s\"", name, err, why);
}

/* member i's header offset and data size in an archive */
static size_t member_at(const char *buf, int index, uint64_t *size)
{
	size_t off = 0;
	char name[BUNDLE_NAME_MAX];
	for (int i = 0;; i++) {
		assert_int_equal(
		    bundle_member_parse((const unsigned char *)buf + off, name, size, err, 512), 0);
		if (i == index)
			return off;
		off += TAR_BLOCK + *size + tar_padding(*size);
	}
}

/* out: buf with [from, to) replaced by `ins` */
static void splice_to(const char *out, const char *buf, size_t len, size_t from, size_t to,
		      const void *ins, size_t inslen)
{
	char *n = malloc(len - (to - from) + inslen);
	memcpy(n, buf, from);
	memcpy(n + from, ins, inslen);
	memcpy(n + from + inslen, buf + to, len - to);
	put(out, n, len - (to - from) + inslen);
	free(n);
}

static int setup(void **state)
{
	(void)state;
	char err2[512];
	if (!mkdtemp(dir))
		return -1;
	srand(19);
	/* the trusted key (its public half in trusted/, as an image has it),
	 * and another */
	if (bundle_keygen(at("keys"), err2, sizeof(err2)) < 0 ||
	    bundle_keygen(at("other"), err2, sizeof(err2)) < 0) {
		fprintf(stderr, "%s\n", err2);
		return -1;
	}
	mkdir(at("trusted"), 0755);
	size_t len;
	char *pub = read_file(at("keys/public.pem"), 4096, &len);
	write_file(at("trusted/keel.pem"), pub, len, 0644);
	free(pub);
	write_file(at("trusted/README"), "not a key\n", 10, 0644); /* passed over */
	write_file(at("trusted/broken.pem"), "-----BEGIN PUBLIC KEY-----\n", 27, 0644);
	mkdir(at("img"), 0755);
	put_random("img/vmlinuz", 70001);
	put_random("img/initramfs.img", 30007);
	make("good.bundle", "keys/private.pem", "0.2.0", BUNDLE_CERTIFIED, "x86_64");
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	rm_rf(dir);
	return 0;
}

static void test_good(void **state)
{
	(void)state;
	struct verify_policy p = policy();
	struct verified_bundle b;
	assert_int_equal(verify_with("good.bundle", &p, &b), 0);
	assert_string_equal(b.info.version, "0.2.0");
	assert_string_equal(b.info.build, "c0ffee1");
	assert_string_equal(b.info.arch, "x86_64");
	assert_int_equal(b.info.acceptance, BUNDLE_CERTIFIED);
	assert_string_equal(b.key, "keel.pem");
	assert_string_equal(b.info.files[0].name, "vmlinuz");
	assert_int_equal(b.info.files[0].size, 70001);
	assert_int_equal(b.offset[0], 3 * TAR_BLOCK + 1024 /* bundle.json */ + TAR_BLOCK);
	/* tar reads it too */
	char cmd[512];
	snprintf(cmd, sizeof(cmd), "tar -tf %s | tr '\\n' ' '", at("good.bundle"));
	FILE *f = popen(cmd, "r");
	char list[256] = "";
	assert_non_null(fgets(list, sizeof(list), f));
	pclose(f);
	assert_string_equal(list, "bundle.json bundle.sig vmlinuz initramfs.img manifest.txt ");
}

/* one byte changed anywhere: refused, whatever it is (every byte of the
 * headers, bundle.json and bundle.sig; one in 61 elsewhere) */
static void test_changed_byte(void **state)
{
	(void)state;
	struct verify_policy p = policy();
	struct verified_bundle b;
	int fd = open(at("good.bundle"), O_RDWR);
	struct stat st;
	assert_true(fd >= 0 && fstat(fd, &st) == 0);
	for (off_t off = 0; off < st.st_size; off += off < 2560 ? 1 : 61) {
		unsigned char c, x;
		assert_int_equal(pread(fd, &c, 1, off), 1);
		x = c ^ 0x20;
		assert_int_equal(pwrite(fd, &x, 1, off), 1);
		if (verify_bundle(fd, &p, &b, err, sizeof(err)) != -EINVAL)
			fail_msg("a byte changed at %lld: not refused", (long long)off);
		assert_int_equal(pwrite(fd, &c, 1, off), 1);
	}
	assert_int_equal(verify_bundle(fd, &p, &b, err, sizeof(err)), 0);
	/* what each place says */
	size_t len;
	char *buf = slurp(at("good.bundle"), &len);
	uint64_t size;
	size_t vmlinuz = member_at(buf, 2, &size) + TAR_BLOCK;
	buf[TAR_BLOCK + 20] ^= 1; /* bundle.json */
	put("x.bundle", buf, len);
	refused("x.bundle", &p, "bundle.json does not match its signature by keel.pem");
	buf[TAR_BLOCK + 20] ^= 1;
	buf[vmlinuz + 1000] ^= 1;
	put("x.bundle", buf, len);
	refused("x.bundle", &p, "vmlinuz: its SHA-256 is not the one bundle.json lists");
	buf[vmlinuz + 1000] ^= 1;
	buf[vmlinuz + size + 3] = 'x'; /* its padding */
	put("x.bundle", buf, len);
	refused("x.bundle", &p, "vmlinuz's padding is not zeros");
	buf[vmlinuz + size + 3] = 0;
	buf[len - 7] = 1;
	put("x.bundle", buf, len);
	refused("x.bundle", &p, "the end of the archive is not zeros");
	buf[len - 7] = 0;
	buf[vmlinuz - TAR_BLOCK + 136] ^= 1; /* the mtime of vmlinuz's header */
	put("x.bundle", buf, len);
	refused("x.bundle", &p, "vmlinuz: its header is not a bundle's");
	free(buf);
	close(fd);
}

static void test_unknown_key(void **state)
{
	(void)state;
	struct verify_policy p = policy();
	make("other.bundle", "other/private.pem", "0.2.0", BUNDLE_CERTIFIED, "x86_64");
	refused("other.bundle", &p, "signed by a key this host does not trust (key ID sha256:");
	/* no trusted key at all */
	p.trusted_dir = at("nonexistent");
	refused("good.bundle", &p, "does not trust");
}

static void test_truncated(void **state)
{
	(void)state;
	struct verify_policy p = policy();
	size_t len;
	char *buf = slurp(at("good.bundle"), &len);
	const size_t cuts[] = {0, 100, 512, 1000, 2600, 50000, len - 1024 - 1, len - 1};
	for (size_t i = 0; i < ARRAY_SIZE(cuts); i++) {
		put("cut.bundle", buf, cuts[i]);
		refused("cut.bundle", &p, "the bundle is truncated: it ends inside");
	}
	put("cut.bundle", buf, 2600);
	refused("cut.bundle", &p, "ends inside member 3's header (vmlinuz)");
	put("cut.bundle", buf, 50000);
	refused("cut.bundle", &p, "ends inside vmlinuz (at byte 50000)");
	/* and bytes after the end */
	char *more = calloc(1, len + TAR_BLOCK);
	memcpy(more, buf, len);
	put("long.bundle", more, len + TAR_BLOCK);
	refused("long.bundle", &p, "512 bytes follow the end of the archive");
	free(more);
	free(buf);
}

static void test_downgrade(void **state)
{
	(void)state;
	struct verify_policy p = policy();
	struct verified_bundle b;
	make("old.bundle", "keys/private.pem", "0.0.9", BUNDLE_CERTIFIED, "x86_64");
	refused("old.bundle", &p, "Keel 0.0.9 is older than the running 0.1.0: a downgrade");
	make("same.bundle", "keys/private.pem", "0.1.0", BUNDLE_CERTIFIED, "x86_64");
	refused("same.bundle", &p, "Keel 0.1.0 is the same as the running 0.1.0");
	p.allow_downgrade = true;
	assert_int_equal(verify_with("old.bundle", &p, &b), 0);
	assert_int_equal(verify_with("same.bundle", &p, &b), 0);
	/* numbers, not text: 0.10.0 is newer than 0.9.0 */
	p = policy();
	p.running_version = "0.9.0";
	make("ten.bundle", "keys/private.pem", "0.10.0", BUNDLE_CERTIFIED, "x86_64");
	assert_int_equal(verify_with("ten.bundle", &p, &b), 0);
	p.running_version = "0.10.1";
	refused("ten.bundle", &p, "older than");
}

static void test_acceptance(void **state)
{
	(void)state;
	struct verify_policy p = policy();
	struct verified_bundle b;
	make("community.bundle", "keys/private.pem", "0.2.0", BUNDLE_COMMUNITY, "x86_64");
	refused("community.bundle", &p,
		"the bundle's acceptance level is community; this host takes partner or above");
	make("partner.bundle", "keys/private.pem", "0.2.0", BUNDLE_PARTNER, "x86_64");
	assert_int_equal(verify_with("partner.bundle", &p, &b), 0);
	p.acceptance = BUNDLE_CERTIFIED;
	refused("partner.bundle", &p, "takes certified or above");
	p.acceptance = BUNDLE_COMMUNITY;
	assert_int_equal(verify_with("community.bundle", &p, &b), 0);
}

static void test_arch(void **state)
{
	(void)state;
	struct verify_policy p = policy();
	make("arm.bundle", "keys/private.pem", "0.2.0", BUNDLE_CERTIFIED, "aarch64");
	refused("arm.bundle", &p, "the bundle is for aarch64, this host is x86_64");
}

/* headers rewritten with tar_header itself (a valid checksum): a name
 * outside the grammar, a size that lies */
static void test_headers(void **state)
{
	(void)state;
	struct verify_policy p = policy();
	size_t len;
	char *buf = slurp(at("good.bundle"), &len);
	uint64_t size;
	size_t h = member_at(buf, 2, &size);
	unsigned char orig[TAR_BLOCK];
	memcpy(orig, buf + h, TAR_BLOCK);
	tar_header((unsigned char *)buf + h, "../etc/passwd", size, 0, 0644);
	put("x.bundle", buf, len);
	refused("x.bundle", &p, "member 3: a member named \"../etc/passwd\": a bundle holds only");
	tar_header((unsigned char *)buf + h, "initramfs.img", size, 0, 0644);
	put("x.bundle", buf, len);
	refused("x.bundle", &p, "member 3 is initramfs.img, where the bundle has vmlinuz");
	tar_header((unsigned char *)buf + h, "vm\x01linuz", size, 0, 0644);
	put("x.bundle", buf, len);
	refused("x.bundle", &p, "a member whose name is not one a bundle has");
	tar_header((unsigned char *)buf + h, "vmlinuz", size + TAR_BLOCK, 0, 0644);
	put("x.bundle", buf, len);
	refused("x.bundle", &p, "vmlinuz: its header says 70513 bytes, bundle.json 70001");
	tar_header((unsigned char *)buf + h, "vmlinuz", size - 1, 0, 0644);
	put("x.bundle", buf, len);
	refused("x.bundle", &p, "its header says 70000 bytes");
	/* a size in base-256, which ustar readers take, but no bundle has */
	memcpy(buf + h, orig, TAR_BLOCK);
	tar_header((unsigned char *)buf + h, "vmlinuz", 9ull << 30, 0, 0644);
	put("x.bundle", buf, len);
	refused("x.bundle", &p, "vmlinuz: its header's size is not a size");
	free(buf);
}

/* bundle.json replaced by `json`, signed by the trusted key */
static void resigned(const char *out, const char *json)
{
	size_t len;
	char *buf = slurp(at("good.bundle"), &len), sig[BUNDLE_SIG_LEN + 1], err2[512];
	uint64_t size;
	size_t files = member_at(buf, 2, &size), n = strlen(json);
	assert_int_equal(bundle_sign(at("keys/private.pem"), json, sig, err2, sizeof(err2)), 0);
	size_t head =
	    2 * TAR_BLOCK + n + tar_padding(n) + BUNDLE_SIG_LEN + tar_padding(BUNDLE_SIG_LEN);
	char *ins = calloc(1, head);
	bundle_member_header((unsigned char *)ins, BUNDLE_JSON_NAME, n);
	memcpy(ins + TAR_BLOCK, json, n);
	size_t s = TAR_BLOCK + n + tar_padding(n);
	bundle_member_header((unsigned char *)ins + s, BUNDLE_SIG_NAME, BUNDLE_SIG_LEN);
	memcpy(ins + s + TAR_BLOCK, sig, BUNDLE_SIG_LEN);
	splice_to(out, buf, len, 0, files, ins, head);
	free(ins);
	free(buf);
}

static void test_bundle_json(void **state)
{
	(void)state;
	struct verify_policy p = policy();
	struct verified_bundle b;
	size_t len;
	char *buf = slurp(at("good.bundle"), &len);
	uint64_t size;
	size_t json = member_at(buf, 0, &size) + TAR_BLOCK;
	char *text = strndup(buf + json, size);
	/* re-signed as it is: still good (the rebuilding is right) */
	resigned("x.bundle", text);
	assert_int_equal(verify_with("x.bundle", &p, &b), 0);
	char *more = malloc(size + 32);
	snprintf(more, size + 32, "{\"extra\": 1, %s", text + 1);
	resigned("x.bundle", more);
	refused("x.bundle", &p, "bundle.json: unknown field \"extra\"");
	snprintf(more, size + 32, "{\"format\": 1, %s", text + 1);
	resigned("x.bundle", more);
	refused("x.bundle", &p, "bundle.json: not JSON: duplicate object key");
	char *two = strdup(text);
	memcpy(strstr(two, "\"size\""), "\"sise\"", 6);
	resigned("x.bundle", two);
	refused("x.bundle", &p, "files[0]: unknown field \"sise\"");
	free(two);
	two = strdup(text);
	memcpy(strstr(two, "\"format\": 1"), "\"format\": 2", 11);
	resigned("x.bundle", two);
	refused("x.bundle", &p, "format: not 1");
	free(two);
	free(more);
	free(text);
	free(buf);
}

static void test_signatures(void **state)
{
	(void)state;
	struct verify_policy p = policy();
	size_t len;
	char *buf = slurp(at("good.bundle"), &len);
	uint64_t size;
	size_t sig = member_at(buf, 1, &size), files = member_at(buf, 2, &size);
	/* two signatures: bundle.sig twice */
	splice_to("x.bundle", buf, len, files, files, buf + sig, files - sig);
	refused("x.bundle", &p, "member 3 is bundle.sig, where the bundle has vmlinuz");
	/* none */
	splice_to("x.bundle", buf, len, sig, files, "", 0);
	refused("x.bundle", &p, "member 2 is vmlinuz, where the bundle has bundle.sig");
	/* two lines in one bundle.sig: not its one line */
	char two[2 * TAR_BLOCK] = {0}; /* a header, 404 bytes and their padding */
	bundle_member_header((unsigned char *)two, BUNDLE_SIG_NAME, 2 * BUNDLE_SIG_LEN);
	memcpy(two + TAR_BLOCK, buf + sig + TAR_BLOCK, BUNDLE_SIG_LEN);
	memcpy(two + TAR_BLOCK + BUNDLE_SIG_LEN, buf + sig + TAR_BLOCK, BUNDLE_SIG_LEN);
	splice_to("x.bundle", buf, len, sig, files, two, sizeof(two));
	refused("x.bundle", &p, "bundle.sig: 404 bytes, more than its 202");
	free(buf);
}

static void test_format(void **state)
{
	(void)state;
	unsigned v[3];
	assert_int_equal(bundle_version_parse("999999999.0.12", v), 0);
	assert_int_equal(v[0], 999999999);
	assert_int_equal(v[2], 12);
	const char *bad[] = {"1.2",    "01.2.3", "1.2.3.4", "1.2.-3", "1000000000.0.0",
			     "1.2.3 ", "",	 "a.b.c",   "1..2"};
	for (size_t i = 0; i < ARRAY_SIZE(bad); i++)
		assert_int_equal(bundle_version_parse(bad[i], v), -1);
	assert_int_equal(bundle_acceptance_parse("partner"), BUNDLE_PARTNER);
	assert_int_equal(bundle_acceptance_parse("Partner"), -1);
	/* a bundle.json of the tool reads back the same */
	struct bundle_info info = {.kind = BUNDLE_IMAGE,
				   .version = "1.2.3",
				   .build = "abc",
				   .arch = "x86_64",
				   .acceptance = BUNDLE_PARTNER,
				   .nfiles = BUNDLE_FILES};
	for (int i = 0; i < BUNDLE_FILES; i++) {
		strcpy(info.files[i].name, bundle_file_names[i]);
		info.files[i].size = (uint64_t)i + 1;
		info.files[i].sha256[i] = 0xef;
	}
	char *text = bundle_info_format(&info);
	struct bundle_info back;
	assert_int_equal(bundle_info_parse(text, strlen(text), &back, err, sizeof(err)), 0);
	assert_memory_equal(&back.files, &info.files, sizeof(info.files));
	assert_string_equal(back.version, "1.2.3");
	/* an uppercase hash is not the one spelling */
	char *up = strstr(text, "ef");
	up[0] = 'E';
	assert_int_equal(bundle_info_parse(text, strlen(text), &back, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "sha256: not 64 lowercase"));
	free(text);
	strcpy(info.build, "a b");
	assert_null(bundle_info_format(&info));
}

/* --- the install */

static const char *booted_cfg = "set keel_cmdline=\"console=ttyS0 keel.dcui=none\"\n";

static char *editenv(const char *args)
{
	char cmd[512];
	snprintf(cmd, sizeof(cmd), "grub-editenv %s %s", at("esp/keel/grubenv"), args);
	FILE *p = popen(cmd, "r");
	char *out = calloc(1, 4096);
	size_t n = fread(out, 1, 4095, p);
	out[n] = '\0';
	assert_int_equal(pclose(p), 0);
	return out;
}

/* bank a (booted) holds 0.1.0, bank b 0.0.1; the loader's next boot: `env` */
static void banks(const char *env)
{
	rm_rf(at("esp"));
	rm_rf(at("a"));
	rm_rf(at("b"));
	mkdir(at("esp"), 0755);
	mkdir(at("esp/keel"), 0755);
	free(editenv("create"));
	free(editenv(env));
	const char *names[] = {"a", "b"};
	for (int i = 0; i < 2; i++) {
		char path[64], text[64];
		mkdir(at(names[i]), 0755);
		int n = snprintf(text, sizeof(text), "keel-version: %s\n", i ? "0.0.1" : "0.1.0");
		snprintf(path, sizeof(path), "%s/manifest.txt", names[i]);
		put(path, text, (size_t)n);
		snprintf(path, sizeof(path), "%s/vmlinuz", names[i]);
		put(path, "old kernel", 10);
		snprintf(path, sizeof(path), "%s/initramfs.img", names[i]);
		put(path, "old initramfs", 13);
		snprintf(path, sizeof(path), "%s/boot.cfg", names[i]);
		const char *cfg = i ? "set keel_cmdline=\"old\"\n" : booted_cfg;
		put(path, cfg, strlen(cfg));
	}
}

static int install(const char *bundle, int after_verify_fd_change)
{
	struct verify_policy p = policy();
	struct verified_bundle b;
	const char *a = at("a"), *bank = at("b"), *esp = at("esp");
	struct update_target t = {.esp = esp, .booted_dir = a, .bank_dir = bank, .booted = 'a'};
	int fd = open(at(bundle), O_RDWR);
	assert_true(fd >= 0);
	assert_int_equal(verify_bundle(fd, &p, &b, err, sizeof(err)), 0);
	if (after_verify_fd_change) { /* the file changes under the verifier's feet */
		char c = 'X';
		assert_int_equal(pwrite(fd, &c, 1, b.offset[1] + 100), 1);
	}
	json_t *kept = json_array(), *dropped = json_array();
	int rc = update_install(fd, &b, &t, kept, dropped, err, sizeof(err));
	json_decref(kept);
	json_decref(dropped);
	close(fd);
	return rc;
}

static void same_file(const char *x, const char *y)
{
	size_t n, m;
	char *a = slurp(x, &n), *b = slurp(y, &m);
	assert_int_equal(n, m);
	assert_memory_equal(a, b, n);
	free(a);
	free(b);
}

static void no_temporaries(void)
{
	const char *names[] = {"b/.vmlinuz.new", "b/.initramfs.img.new", "b/.manifest.txt.new",
			       "b/.boot.cfg.new"};
	for (size_t i = 0; i < ARRAY_SIZE(names); i++)
		assert_int_equal(access(at(names[i]), F_OK), -1);
}

static void test_install(void **state)
{
	(void)state;
	make("good.bundle", "keys/private.pem", "0.2.0", BUNDLE_CERTIFIED, "x86_64");
	banks("set keel_bank=a keel_tries= keel_reason=installed");
	assert_int_equal(install("good.bundle", 0), 0);
	same_file(at("b/vmlinuz"), at("img/vmlinuz"));
	same_file(at("b/initramfs.img"), at("img/initramfs.img"));
	same_file(at("b/manifest.txt"), at("img/manifest.txt"));
	same_file(at("b/boot.cfg"), at("a/boot.cfg")); /* the host's command line */
	no_temporaries();
	char *list = editenv("list");
	assert_string_equal(list, "keel_bank=b\nkeel_tries=3\nkeel_reason=updated\n");
	free(list);
	/* the booted bank as it was */
	size_t n;
	char *m = slurp(at("a/manifest.txt"), &n);
	assert_string_equal(m, "keel-version: 0.1.0\n");
	free(m);
}

/* a failure before the switch: the next boot is the booted bank's, even
 * after a rollback had pointed it at the bank being written */
static void test_install_failure(void **state)
{
	(void)state;
	banks("set keel_bank=b keel_tries= keel_reason=rollback");
	unlink(at("a/boot.cfg"));
	assert_int_equal(install("good.bundle", 0), -EIO);
	assert_non_null(strstr(err, "boot.cfg"));
	char *list = editenv("list");
	assert_string_equal(list, "keel_bank=a\nkeel_tries=\nkeel_reason=rollback\n");
	free(list);
	/* bank b shows as empty: no rollback to a half-written image */
	assert_int_equal(access(at("b/manifest.txt"), F_OK), -1);
	no_temporaries();

	/* the bundle changed after it was verified: caught as it is copied */
	banks("set keel_bank=a keel_tries= keel_reason=installed");
	size_t n;
	char *copy = slurp(at("good.bundle"), &n);
	put("changing.bundle", copy, n);
	free(copy);
	assert_int_equal(install("changing.bundle", 1), -EIO);
	assert_non_null(strstr(err, "initramfs.img changed since it was verified"));
	list = editenv("list");
	assert_string_equal(list, "keel_bank=a\nkeel_tries=\nkeel_reason=installed\n");
	free(list);
	no_temporaries();
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_good),
	    cmocka_unit_test(test_changed_byte),
	    cmocka_unit_test(test_unknown_key),
	    cmocka_unit_test(test_truncated),
	    cmocka_unit_test(test_downgrade),
	    cmocka_unit_test(test_acceptance),
	    cmocka_unit_test(test_arch),
	    cmocka_unit_test(test_headers),
	    cmocka_unit_test(test_bundle_json),
	    cmocka_unit_test(test_signatures),
	    cmocka_unit_test(test_format),
	    cmocka_unit_test(test_install),
	    cmocka_unit_test(test_install_failure),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
