/* keel vm import of an appliance in keel-host-cli, the CLI of the host's
 * image (keel-shell's `keel`): the OVF reader needs libxml2, which the
 * image does not carry (import.h). Disk images still import. */
#include <stdbool.h>

#include "cli/cmd.h"
#include "cli/import.h"
#include "cli/output.h"

int import_appliance(struct import *im, const char *file, bool ova, json_t **created)
{
	(void)im;
	(void)created;
	error_msg("%s: importing an %s is not available on the host; run keel vm import from a "
		  "client",
		  file, ova ? "OVA" : "OVF");
	return EXIT_FAIL;
}
