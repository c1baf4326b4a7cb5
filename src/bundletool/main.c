/* keel-bundle: makes signed update bundles (common/bundlefmt.h) on the build
 * machine; never part of a host's image.
 *
 *   keel-bundle keygen DIR
 *   keel-bundle make --key PRIVATE.pem --version V --build B
 *                    --acceptance certified|partner|community [--arch A]
 *                    -o FILE vmlinuz initramfs.img manifest.txt
 *
 * keygen: a new Ed25519 key pair, DIR/private.pem (mode 0600) and
 * DIR/public.pem (what hosts trust: image/mkimage.sh puts it into the
 * image). make: the bundle of one system image, signed with the key;
 * manifest.txt's keel-version must be V. Exit status 0, 1 on failure, 2
 * on bad arguments. */
#include "bundletool/bundlemake.h"

#include "common/bundlefmt.h"

#include <getopt.h>
#include <stdio.h>
#include <string.h>

static int usage(void)
{
	fprintf(stderr, "usage: keel-bundle keygen DIR\n"
			"       keel-bundle make --key PRIVATE.pem --version V --build B\n"
			"                        --acceptance certified|partner|community "
			"[--arch A]\n"
			"                        -o FILE vmlinuz initramfs.img manifest.txt\n");
	return 2;
}

static int make(int argc, char **argv)
{
	static const struct option opts[] = {{"key", required_argument, NULL, 'k'},
					     {"version", required_argument, NULL, 'v'},
					     {"build", required_argument, NULL, 'b'},
					     {"acceptance", required_argument, NULL, 'a'},
					     {"arch", required_argument, NULL, 'A'},
					     {"output", required_argument, NULL, 'o'},
					     {0}};
	struct bundle_make m = {.arch = BUNDLE_ARCH, .acceptance = -1};
	const char *acceptance = NULL;
	int c;
	while ((c = getopt_long(argc, argv, "o:", opts, NULL)) != -1) {
		if (c == 'k')
			m.key = optarg;
		else if (c == 'v')
			m.version = optarg;
		else if (c == 'b')
			m.build = optarg;
		else if (c == 'a')
			acceptance = optarg;
		else if (c == 'A')
			m.arch = optarg;
		else if (c == 'o')
			m.out = optarg;
		else
			return usage();
	}
	if (!m.key || !m.version || !m.build || !acceptance || !m.out ||
	    argc - optind != BUNDLE_FILES)
		return usage();
	if ((m.acceptance = bundle_acceptance_parse(acceptance)) < 0) {
		fprintf(stderr, "keel-bundle: --acceptance: certified, partner or community\n");
		return 2;
	}
	for (int i = 0; i < BUNDLE_FILES; i++)
		m.files[i] = argv[optind + i];
	char err[512];
	if (bundle_make(&m, err, sizeof(err)) < 0) {
		fprintf(stderr, "keel-bundle: %s\n", err);
		return 1;
	}
	printf("%s: Keel %s (%s), %s, %s\n", m.out, m.version, m.build, m.arch, acceptance);
	return 0;
}

int main(int argc, char **argv)
{
	if (argc >= 2 && strcmp(argv[1], "make") == 0)
		return make(argc - 1, argv + 1);
	if (argc != 3 || strcmp(argv[1], "keygen") != 0)
		return usage();
	char err[512];
	if (bundle_keygen(argv[2], err, sizeof(err)) < 0) {
		fprintf(stderr, "keel-bundle: %s\n", err);
		return 1;
	}
	printf("%s/%s, %s/%s: a new signing key pair\n", argv[2], KEY_PRIVATE, argv[2], KEY_PUBLIC);
	return 0;
}
