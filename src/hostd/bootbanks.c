#include "hostd/bootbanks.h"

#include "common/bootenv.h"
#include "common/util.h"
#include "hostd/error.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER; /* the environment block */

char bootbanks_booted(void)
{
	char *cmdline = read_file("/proc/cmdline", 4096, NULL);
	char bank = bootenv_booted(cmdline);
	free(cmdline);
	return bank;
}

/* The boot device's name into dev (BOOT_DEVICE_FILE; "" when unknown);
 * whether it is still there. */
static int boot_device(char dev[64])
{
	char *text = read_file(BOOT_DEVICE_FILE, 64, NULL);
	dev[0] = '\0';
	if (text) {
		text[strcspn(text, "\n")] = '\0';
		if (!strchr(text, '/') && strcmp(text, "..") != 0)
			str_copy(dev, 64, text);
	}
	free(text);
	char path[128];
	snprintf(path, sizeof(path), "/sys/class/block/%s", dev);
	return *dev && access(path, F_OK) == 0;
}

/* the other bank's image failed to boot: the loader fell back from it */
static int other_failed(char booted, const struct bootenv *env)
{
	return env->bank == booted && strcmp(env->reason, "fellback") == 0;
}

static json_t *bank_json(char name, const struct bootbank_image *b, char booted,
			 const struct bootenv *env)
{
	const char *state = !*b->version     ? "empty"
			    : name != booted ? (other_failed(booted, env) ? "failed" : "previous")
			    : env->bank == name && env->tries >= 0 ? "on trial"
								   : "good";
	return json_pack("{s:s#,s:s?,s:s?,s:b,s:b,s:s}", "bank", &name, (size_t)1, "version",
			 *b->version ? b->version : NULL, "commit", *b->commit ? b->commit : NULL,
			 "booted", name == booted, "next", name == env->bank, "state", state);
}

/* lock held */
static json_t *describe(char booted, const struct bootenv *env)
{
	if (!booted)
		return json_pack("{s:n,s:n,s:n,s:n,s:[]}", "booted", "next", "reason", "tries_left",
				 "banks");
	struct bootbank_image b[2];
	bootenv_bank_image(BOOT_BANK_DIR, &b[booted - 'a']);
	bootenv_bank_image(BOOT_ALTBANK_DIR, &b[bootenv_other(booted) - 'a']);
	char dev[64];
	int present = boot_device(dev);
	return json_pack("{s:s#,s:s#,s:s?,s:o,s:[o,o],s:{s:s,s:b}}", "booted", &booted, (size_t)1,
			 "next", &env->bank, (size_t)1, "reason", *env->reason ? env->reason : NULL,
			 "tries_left", env->tries >= 0 ? json_integer(env->tries) : json_null(),
			 "banks", bank_json('a', &b[0], booted, env),
			 bank_json('b', &b[1], booted, env), "boot_device", "name", dev, "present",
			 present);
}

json_t *bootbanks_describe(void)
{
	struct bootenv env = {.bank = 'a', .tries = -1};
	char booted = bootbanks_booted();
	pthread_mutex_lock(&lock);
	if (booted && bootenv_read(BOOT_ESP_DIR, &env) < 0)
		env = (struct bootenv){.bank = booted, .tries = -1};
	json_t *out = describe(booted, &env);
	pthread_mutex_unlock(&lock);
	return out;
}

int bootbanks_rollback(json_t **out, char *err, size_t errlen)
{
	*out = NULL;
	char booted = bootbanks_booted(), other = booted ? bootenv_other(booted) : 0;
	struct bootenv env;
	struct bootbank_image b;
	char dev[64];
	int rc = 0;
	pthread_mutex_lock(&lock);
	if (!booted)
		rc = error_set(err, errlen, -EBUSY,
			       "this host did not boot from its boot banks (no keel.bank= on its "
			       "kernel command line): there is nothing to roll back to");
	else if (!boot_device(dev))
		rc = error_set(err, errlen, -EBUSY,
			       "the boot device %s is gone: put it back and reboot first",
			       *dev ? dev : "(unknown)");
	else if (bootenv_read(BOOT_ESP_DIR, &env) < 0)
		rc = error_set(err, errlen, -EIO, "cannot read %s: %s", BOOTENV_FILE,
			       strerror(errno));
	else if (bootenv_bank_image(BOOT_ALTBANK_DIR, &b), !*b.version)
		rc = error_set(err, errlen, -EBUSY, "bank %c holds no image", other);
	else if (env.bank == other && env.tries >= 0)
		rc = error_set(err, errlen, -EBUSY,
			       "bank %c holds a new image that has not booted yet (an update): "
			       "there is nothing to roll back to until it has",
			       other);
	else if (other_failed(booted, &env))
		rc =
		    error_set(err, errlen, -EBUSY,
			      "bank %c's image did not boot (the loader fell back from it)", other);
	else {
		env = (struct bootenv){.bank = other, .tries = -1, .reason = "rollback"};
		if (bootenv_write(BOOT_ESP_DIR, &env) < 0)
			rc = error_set(err, errlen, -EIO, "cannot write %s: %s", BOOTENV_FILE,
				       strerror(errno));
		else
			*out = describe(booted, &env);
	}
	pthread_mutex_unlock(&lock);
	return rc;
}

int bootbanks_set_next(const char *esp, const struct bootenv *env)
{
	pthread_mutex_lock(&lock);
	int rc = bootenv_write(esp, env);
	pthread_mutex_unlock(&lock);
	return rc;
}

bool bootbanks_mounted(const char *dir)
{
	char parent[256];
	struct stat st, up;
	snprintf(parent, sizeof(parent), "%s/..", dir);
	return stat(dir, &st) == 0 && stat(parent, &up) == 0 && st.st_dev != up.st_dev;
}
