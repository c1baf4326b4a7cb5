#include "hostd/acceptance.h"

#include "common/bundlefmt.h"
#include "hostd/db.h"
#include "hostd/error.h"
#include "hostd/extensions.h"

#include <errno.h>
#include <stdlib.h>

#define SETTING "acceptance" /* the level's name */

_Static_assert(ACCEPTANCE_DEFAULT == BUNDLE_PARTNER, "partner by default");

int acceptance_get(void)
{
	char *name = db_setting_get(SETTING);
	int level = name ? bundle_acceptance_parse(name) : -1;
	free(name);
	return level > 0 ? level : ACCEPTANCE_DEFAULT;
}

int acceptance_set(const char *bank_dir, int level, char *err, size_t errlen)
{
	int lowest = ext_lowest_acceptance(bank_dir);
	if (lowest && lowest < level)
		return error_set(err, errlen, -EINVAL,
				 "an installed extension's acceptance level is %s: remove it "
				 "first (keel host extension list)",
				 bundle_acceptance_name(lowest));
	return db_setting_put(SETTING, bundle_acceptance_name(level), err, errlen) < 0 ? -EIO : 0;
}
