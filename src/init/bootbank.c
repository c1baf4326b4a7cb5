#include "init/bootbank.h"

#include "common/bootenv.h"
#include "common/localapi.h"
#include "common/log.h"
#include "common/runstate.h"
#include "common/util.h"
#include "init/disk.h"

#include <errno.h>
#include <limits.h>
#include <linux/netlink.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

static int trial;	   /* this boot is a new image's: keel_tries is counting */
static char boot_bank;	   /* the bank of this boot */
static char boot_disk[64]; /* the ESP's disk, in /sys/class/block */
static int events = -1;	   /* NETLINK_KOBJECT_UEVENT */
static int ready_timeout = BOOT_READY_TIMEOUT_S; /* keel.boot_timeout= */

/* The disk of partition `dev` ("/dev/sdb1" → "sdb"): its parent in sysfs. */
static void disk_of(const char *dev, char *out, size_t n)
{
	char path[128], real[PATH_MAX];
	snprintf(path, sizeof(path), "/sys/class/block/%s/..", dev + 5);
	const char *base = realpath(path, real) ? strrchr(real, '/') : NULL;
	str_copy(out, n, base ? base + 1 : "");
}

static int mount_fat(const char *label, const char *dir)
{
	char dev[80];
	int found = disk_find("/sys/class/block", label, dev, sizeof(dev));
	if (!found) {
		log_msg("boot: no partition labelled %s", label);
		return -1;
	}
	if (strcmp(dir, BOOT_ESP_DIR) == 0)
		disk_of(dev, boot_disk, sizeof(boot_disk));
	mkdir(dir, 0755);
	if (mount(dev, dir, "vfat", MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC, "") < 0) {
		log_errno("boot: cannot mount %s (%s) on %s", label, dev, dir);
		return -1;
	}
	return 0;
}

/* "Keel 0.1.0 (fd6959a)" from a bank's manifest.txt, or "no image" */
static void bank_version(const char *dir, char *out, size_t n)
{
	struct bootbank_image img;
	bootenv_bank_image(dir, &img);
	if (*img.version)
		snprintf(out, n, "Keel %s (%s)", img.version, *img.commit ? img.commit : "?");
	else
		snprintf(out, n, "no image");
}

void bootbank_init(const char *cmdline)
{
	const char *given = NULL;
	if (bootenv_ready_timeout(cmdline, &ready_timeout, &given) < 0)
		log_msg("boot: keel.boot_timeout=%.*s ignored (not %d to %d seconds): the limit "
			"stays %d s",
			(int)strcspn(given, " \t\n"), given, BOOT_READY_TIMEOUT_MIN_S,
			BOOT_READY_TIMEOUT_MAX_S, ready_timeout);
	char bank = bootenv_booted(cmdline);
	if (!bank) {
		log_msg("boot: not from a boot bank (no keel.bank= on the command line)");
		return;
	}
	/* a USB stick's disk shows up a few seconds after the controller */
	char dev[80];
	for (int i = 0; i < BOOT_DEVICE_WAIT_S * 10 &&
			!disk_find("/sys/class/block", LABEL_ESP, dev, sizeof(dev));
	     i++)
		usleep(100 * 1000);
	const char *labels[] = {LABEL_BOOTA, LABEL_BOOTB};
	mount_fat(LABEL_ESP, BOOT_ESP_DIR);
	mount_fat(labels[bank - 'a'], BOOT_BANK_DIR);
	mount_fat(labels[bootenv_other(bank) - 'a'], BOOT_ALTBANK_DIR);
	if (*boot_disk) {
		char line[80];
		int k = snprintf(line, sizeof(line), "%s\n", boot_disk);
		mkdir(KEEL_RUN_DIR, 0755);
		if (write_file(BOOT_DEVICE_FILE, line, (size_t)k, 0644) < 0)
			log_errno("boot: cannot write %s", BOOT_DEVICE_FILE);
		events = socket(AF_NETLINK, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK,
				NETLINK_KOBJECT_UEVENT);
		struct sockaddr_nl sa = {.nl_family = AF_NETLINK, .nl_groups = 1};
		if (events >= 0 && bind(events, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
			close(events);
			events = -1;
		}
	}
	char booted[96], other[96];
	bank_version(BOOT_BANK_DIR, booted, sizeof(booted));
	bank_version(BOOT_ALTBANK_DIR, other, sizeof(other));
	struct bootenv env;
	if (bootenv_read(BOOT_ESP_DIR, &env) < 0) {
		log_errno("boot: bank %c, %s; cannot read %s", bank, booted, BOOTENV_FILE);
		return;
	}
	boot_bank = bank;
	trial = env.bank == bank && env.tries >= 0;
	const char *why = !*env.reason				? ""
			  : strcmp(env.reason, "fellback") == 0 ? ", after the other bank's new "
								  "image failed to boot"
			  : strcmp(env.reason, "rollback") == 0 ? ", rolled back by request"
			  : strcmp(env.reason, "updated") == 0	? ", updated"
								: ", installed";
	if (trial)
		log_msg("boot: bank %c, %s%s: on trial, %d more boot%s if this one fails; "
			"keel-hostd has %d s to serve",
			bank, booted, why, env.tries, env.tries == 1 ? "" : "s", ready_timeout);
	else
		log_msg("boot: bank %c, %s%s; bank %c: %s", bank, booted, why, bootenv_other(bank),
			other);
	if (env.bank != bank)
		log_msg("boot: the loader's next boot is bank %c", env.bank);
}

int bootbank_tick(double uptime)
{
	if (!trial)
		return 0;
	if (access(LOCAL_API_SOCKET, F_OK) == 0) {
		trial = 0;
		struct bootenv env;
		if (bootenv_read(BOOT_ESP_DIR, &env) < 0) {
			log_errno("boot: cannot read %s", BOOTENV_FILE);
			return 0;
		}
		if (env.bank != boot_bank) /* an update came first: its trial is its own */
			return 0;
		env.tries = -1;
		if (bootenv_write(BOOT_ESP_DIR, &env) < 0)
			log_errno("boot: cannot write %s", BOOTENV_FILE);
		else
			log_msg("boot: keel-hostd serves: this image is good");
		return 0;
	}
	if (uptime < ready_timeout)
		return 1;
	trial = 0;
	log_msg("boot: keel-hostd did not serve within %d s: rebooting (the loader has counted "
		"this try)",
		ready_timeout);
	return -1;
}

int bootbank_events_fd(void)
{
	return events;
}

/* Whether a device event (NUL-separated "KEY=value" after its header)
 * says that the boot disk went away. */
static int boot_disk_removed(const char *msg, size_t len)
{
	int remove = 0, disk = 0, ours = 0;
	for (size_t off = 0; off < len;) {
		const char *f = msg + off;
		size_t flen = strnlen(f, len - off);
		remove |= flen == 13 && strncmp(f, "ACTION=remove", 13) == 0;
		disk |= flen == 12 && strncmp(f, "DEVTYPE=disk", 12) == 0;
		ours |= flen > 8 && strncmp(f, "DEVNAME=", 8) == 0 &&
			strlen(boot_disk) == flen - 8 && strncmp(f + 8, boot_disk, flen - 8) == 0;
		off += flen + 1;
	}
	return remove && disk && ours;
}

void bootbank_event(void)
{
	char msg[8192];
	ssize_t n;
	while ((n = recv(events, msg, sizeof(msg), 0)) > 0) {
		if (!boot_disk_removed(msg, (size_t)n))
			continue;
		log_msg("boot: the boot device %s is gone; the host runs on from memory (an "
			"update or a rollback needs it back, then a reboot)",
			boot_disk);
		const char *dirs[] = {BOOT_ESP_DIR, BOOT_BANK_DIR, BOOT_ALTBANK_DIR};
		for (size_t i = 0; i < sizeof(dirs) / sizeof(dirs[0]); i++)
			umount2(dirs[i], MNT_DETACH);
		trial = 0; /* nothing to write the good boot to */
		close(events);
		events = -1;
		return;
	}
}
