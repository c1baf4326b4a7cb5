#include "hostd/update.h"

#include "common/bootenv.h"
#include "common/util.h"
#include "hostd/bootbanks.h"
#include "hostd/error.h"
#include "hostd/extensions.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define BOOTCFG_MAX 65536

static pthread_mutex_t busy = PTHREAD_MUTEX_INITIALIZER; /* one update at a time */

/* the bank's files, under their temporary names, then renamed into place
 * (manifest.txt last) */
static int write_bank(int dirfd, int fd, const struct verified_bundle *b,
		      const struct update_target *t, char *err, size_t errlen)
{
	static const char *const order[] = {"vmlinuz", "initramfs.img", "boot.cfg", "manifest.txt"};
	char path[4096], tmp[32];
	int rc = 0;
	/* manifest.txt first: a bank half written shows as empty (no rollback
	 * goes to it); then the old image's files, for room */
	for (size_t i = ARRAY_SIZE(order); i-- > 0;)
		if (strcmp(order[i], "boot.cfg") && unlinkat(dirfd, order[i], 0) < 0 &&
		    errno != ENOENT)
			return error_set(err, errlen, -errno, "cannot remove %s/%s: %s",
					 t->bank_dir, order[i], strerror(errno));
	for (int i = 0; rc == 0 && i < BUNDLE_FILES; i++)
		rc = verify_put_file(dirfd, b->info.files[i].name, fd, b->offset[i],
				     b->info.files[i].size, b->info.files[i].sha256, err, errlen);
	snprintf(path, sizeof(path), "%s/boot.cfg", t->booted_dir);
	int cfg = rc == 0 ? open(path, O_RDONLY | O_CLOEXEC) : -1;
	struct stat st;
	if (rc == 0 && (cfg < 0 || fstat(cfg, &st) < 0 || st.st_size > BOOTCFG_MAX))
		rc = error_set(err, errlen, -EIO, "cannot read %s: %s", path,
			       cfg < 0 ? strerror(errno) : "too large");
	if (rc == 0)
		rc = verify_put_file(dirfd, "boot.cfg", cfg, 0, (uint64_t)st.st_size, NULL, err,
				     errlen);
	if (cfg >= 0)
		close(cfg);
	for (size_t i = 0; rc == 0 && i < ARRAY_SIZE(order); i++) {
		verify_temp_name(tmp, sizeof(tmp), order[i]);
		if (renameat(dirfd, tmp, dirfd, order[i]) < 0)
			rc = error_set(err, errlen, -errno, "cannot rename %s/%s: %s", t->bank_dir,
				       tmp, strerror(errno));
	}
	if (rc == 0 && fsync(dirfd) < 0)
		rc = error_set(err, errlen, -errno, "cannot sync %s: %s", t->bank_dir,
			       strerror(errno));
	for (size_t i = 0; rc < 0 && i < ARRAY_SIZE(order); i++) {
		verify_temp_name(tmp, sizeof(tmp), order[i]);
		unlinkat(dirfd, tmp, 0);
	}
	return rc;
}

int update_install(int fd, const struct verified_bundle *b, const struct update_target *t,
		   json_t *kept, json_t *dropped, char *err, size_t errlen)
{
	struct bootenv env;
	char other = bootenv_other(t->booted);
	if (bootenv_read(t->esp, &env) < 0)
		return error_set(err, errlen, -EIO, "cannot read %s/keel/grubenv: %s", t->esp,
				 strerror(errno));
	/* the next boot is the booted bank's while the other is rewritten */
	if (env.bank != t->booted) {
		env.bank = t->booted;
		env.tries = -1;
		if (bootbanks_set_next(t->esp, &env) < 0)
			return error_set(err, errlen, -EIO, "cannot write %s/keel/grubenv: %s",
					 t->esp, strerror(errno));
	}
	int made_rw = bootenv_remount(t->bank_dir, 1);
	int dirfd = open(t->bank_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC), rc;
	if (dirfd < 0)
		rc = error_set(err, errlen, -EIO, "cannot open %s: %s", t->bank_dir,
			       strerror(errno));
	else
		rc = write_bank(dirfd, fd, b, t, err, errlen);
	if (dirfd >= 0)
		close(dirfd);
	if (made_rw && !bootenv_remount(t->bank_dir, 0) && rc == 0)
		rc = error_set(err, errlen, -EIO, "cannot remount %s read-only", t->bank_dir);
	struct bootbank_image img;
	bootenv_bank_image(t->bank_dir, &img);
	if (rc == 0)
		rc = ext_carry_over(t->booted_dir, t->bank_dir, img.kernel, kept, dropped, err,
				    errlen);
	if (rc < 0)
		return rc;
	env = (struct bootenv){.bank = other, .tries = BOOT_TRIES, .reason = "updated"};
	if (bootbanks_set_next(t->esp, &env) < 0)
		return error_set(err, errlen, -EIO,
				 "bank %c holds Keel %s, but %s/keel/grubenv "
				 "cannot be written: %s",
				 other, b->info.version, t->esp, strerror(errno));
	return 0;
}

int update_scratch_file(char *err, size_t errlen)
{
	int fd = open(UPDATE_SCRATCH_DIR, O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
	if (fd < 0)
		return error_set(err, errlen, errno == ENOSPC ? -ENOSPC : -EIO,
				 "cannot make a file on %s: %s", UPDATE_SCRATCH_DIR,
				 strerror(errno));
	return fd;
}

int update_apply(int fd, const char *version, int acceptance, bool allow_downgrade, json_t **out,
		 char *err, size_t errlen)
{
	*out = NULL;
	char booted = bootbanks_booted();
	if (!booted)
		return error_set(err, errlen, -EBUSY,
				 "this host did not boot from its boot banks (no keel.bank= on its "
				 "kernel command line): there is no bank to install into");
	if (!bootbanks_mounted(BOOT_ALTBANK_DIR))
		return error_set(err, errlen, -EBUSY,
				 "bank %c is not mounted on %s (keel-init's log says why)",
				 bootenv_other(booted), BOOT_ALTBANK_DIR);
	if (pthread_mutex_trylock(&busy) != 0)
		return error_set(err, errlen, -EBUSY, "another update is being installed");
	struct verify_policy policy = {.trusted_dir = BUNDLE_TRUSTED_DIR,
				       .kind = BUNDLE_IMAGE,
				       .running_version = version,
				       .acceptance = acceptance,
				       .allow_downgrade = allow_downgrade};
	struct update_target target = {.esp = BOOT_ESP_DIR,
				       .booted_dir = BOOT_BANK_DIR,
				       .bank_dir = BOOT_ALTBANK_DIR,
				       .booted = booted};
	struct verified_bundle b;
	char other = bootenv_other(booted);
	json_t *kept = json_array(), *dropped = json_array();
	int rc = verify_bundle(fd, &policy, &b, err, errlen);
	if (rc == 0)
		rc = update_install(fd, &b, &target, kept, dropped, err, errlen);
	pthread_mutex_unlock(&busy);
	if (rc == 0)
		*out = json_pack("{s:s#,s:s,s:s,s:s,s:s,s:b,s:O,s:O}", "bank", &other, (size_t)1,
				 "version", b.info.version, "build", b.info.build, "acceptance",
				 bundle_acceptance_name(b.info.acceptance), "signed_by", b.key,
				 "reboot_needed", 1, "extensions_kept", kept, "extensions_dropped",
				 dropped);
	json_decref(kept);
	json_decref(dropped);
	return rc;
}
