/* For unit tests that work in a temporary folder: removes it and all it
 * holds, never following symlinks (nftw with FTW_PHYS). */
#ifndef KEEL_TESTS_RM_RF_H
#define KEEL_TESTS_RM_RF_H

#include <ftw.h>
#include <stdio.h>
#include <unistd.h>

static inline int rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)ftw;
	return flag == FTW_DP ? rmdir(path) : unlink(path);
}

static inline void rm_rf(const char *path)
{
	nftw(path, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

#endif
