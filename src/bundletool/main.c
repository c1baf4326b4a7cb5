/* keel-bundle: makes signed update bundles (common/bundlefmt.h) on the build
 * machine; never part of a host's image.
 *
 *   keel-bundle keygen DIR
 *   keel-bundle make --key PRIVATE.pem --version V --build B
 *                    --acceptance certified|partner|community [--arch A]
 *                    -o FILE vmlinuz initramfs.img manifest.txt
 *   keel-bundle extension --key PRIVATE.pem --name N --kernel RELEASE
 *                    --version V --build B --acceptance LEVEL [--arch A]
 *                    -o FILE MODULE.ko...
 *
 * keygen: a new Ed25519 key pair, DIR/private.pem (mode 0600) and
 * DIR/public.pem (what hosts trust: image/mkimage.sh puts it into the
 * image). make: the bundle of one system image, signed with the key;
 * manifest.txt's keel-version must be V. extension: the bundle of an
 * extension, kernel modules built for kernel RELEASE, in the order they
 * load. Exit status 0, 1 on failure, 2 on bad arguments. */
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
			"                        -o FILE vmlinuz initramfs.img manifest.txt\n"
			"       keel-bundle extension --key PRIVATE.pem --name N --kernel RELEASE\n"
			"                        --version V --build B --acceptance LEVEL "
			"[--arch A]\n"
			"                        -o FILE MODULE.ko...\n");
	return 2;
}

static int make(int kind, int argc, char **argv)
{
	static const struct option opts[] = {{"key", required_argument, NULL, 'k'},
					     {"version", required_argument, NULL, 'v'},
					     {"build", required_argument, NULL, 'b'},
					     {"acceptance", required_argument, NULL, 'a'},
					     {"arch", required_argument, NULL, 'A'},
					     {"output", required_argument, NULL, 'o'},
					     {"name", required_argument, NULL, 'n'},
					     {"kernel", required_argument, NULL, 'K'},
					     {0}};
	struct bundle_make m = {.kind = kind, .arch = BUNDLE_ARCH, .acceptance = -1};
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
		else if (c == 'n' && kind == BUNDLE_EXTENSION)
			m.name = optarg;
		else if (c == 'K' && kind == BUNDLE_EXTENSION)
			m.kernel = optarg;
		else
			return usage();
	}
	m.nfiles = (size_t)(argc - optind);
	if (!m.key || !m.version || !m.build || !acceptance || !m.out ||
	    (kind == BUNDLE_IMAGE && m.nfiles != BUNDLE_FILES) ||
	    (kind == BUNDLE_EXTENSION &&
	     (!m.name || !m.kernel || m.nfiles < 1 || m.nfiles > BUNDLE_FILES_MAX)))
		return usage();
	if ((m.acceptance = bundle_acceptance_parse(acceptance)) < 0) {
		fprintf(stderr, "keel-bundle: --acceptance: certified, partner or community\n");
		return 2;
	}
	for (size_t i = 0; i < m.nfiles; i++)
		m.files[i] = argv[optind + (int)i];
	char err[512];
	if (bundle_make(&m, err, sizeof(err)) < 0) {
		fprintf(stderr, "keel-bundle: %s\n", err);
		return 1;
	}
	printf("%s: %s %s (%s), %s, %s\n", m.out, kind == BUNDLE_IMAGE ? "Keel" : m.name, m.version,
	       m.build, m.arch, acceptance);
	return 0;
}

int main(int argc, char **argv)
{
	if (argc >= 2 && strcmp(argv[1], "make") == 0)
		return make(BUNDLE_IMAGE, argc - 1, argv + 1);
	if (argc >= 2 && strcmp(argv[1], "extension") == 0)
		return make(BUNDLE_EXTENSION, argc - 1, argv + 1);
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
