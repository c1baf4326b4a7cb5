/* libFuzzer target: keel vm import's readers of untrusted appliances
 * (src/cli/ova.c, src/cli/ovf.c). The input is an OVA: its members are
 * listed, each read (and a descriptor parsed), the manifest checked; the
 * whole input is also parsed as a descriptor. Every member lies within the
 * file, and what the descriptor gives stays within a VM's limits. (The
 * readers' messages go to stderr, among libFuzzer's.) */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/ova.h"
#include "cli/ovf.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void ignore(const char *what, void *ctx)
{
	(void)what, (void)ctx;
}

static void parse(const char *xml, size_t len)
{
	struct ovf_vm vm;
	char err[256];
	if (ovf_parse(xml, len, &vm, ignore, NULL, err, sizeof(err)) < 0)
		return;
	if (vm.ndisks > VM_MAX_DISKS || vm.nnics > VM_MAX_NICS || vm.vcpus < 1 ||
	    vm.vcpus > VM_MAX_VCPUS)
		abort();
	for (size_t i = 0; i < vm.ndisks; i++)
		if (strchr(vm.disks[i].file, '/') || vm.disks[i].file[0] == '.')
			abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static char path[64];
	if (!path[0]) {
		strcpy(path, "/tmp/keel-fuzz-ova-XXXXXX");
		int fd = mkstemp(path);
		if (fd < 0)
			abort();
		close(fd);
	}
	FILE *f = fopen(path, "w+");
	if (!f || (size && fwrite(data, 1, size, f) != size) || fflush(f) != 0)
		abort();
	struct ova_member *m;
	size_t n;
	if (ova_list(fileno(f), "fuzz", &m, &n) == 0) {
		for (size_t i = 0; i < n; i++) {
			if (m[i].offset > (uint64_t)size && m[i].size > 0)
				continue; /* a member past the end: unreadable, as it must be */
			char *text = ova_read(fileno(f), &m[i], 1 << 16, "fuzz");
			if (text && m[i].offset + m[i].size > (uint64_t)size)
				abort(); /* read what is not there */
			if (text && strstr(m[i].name, ".ovf"))
				parse(text, m[i].size);
			if (text && strstr(m[i].name, ".mf"))
				ova_check_manifest(fileno(f), m, n, text, "fuzz");
			free(text);
		}
		free(m);
	}
	fclose(f);
	parse((const char *)data, size);
	return 0;
}
