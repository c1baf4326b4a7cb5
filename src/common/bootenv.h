/* The boot banks and the boot loader's state: the contract between the
 * boot loader's script (image/grub.cfg, GRUB from Debian, on the ESP),
 * image/mkdisk.sh, keel-init and keel-hostd.
 *
 * A Keel disk holds two banks (FAT partitions KEEL-BOOTBANK-A and -B, file
 * system labels BOOTBANK-A and -B), each one complete system image:
 * vmlinuz, initramfs.img, manifest.txt (keel-version: ..., keel-commit:
 * ...) and boot.cfg (the kernel command line, a line of GRUB script:
 * `set keel_cmdline="..."`). The loader's environment block (GRUB's, on
 * the ESP: BOOTENV_FILE) says which bank boots:
 *
 *  - keel_bank: "a" or "b", the bank to boot;
 *  - keel_tries: empty when that bank's image is known good; else the
 *    boots it has left to prove itself ("3" down to "0"). The loader
 *    counts one down at each boot of it; keel-init empties it (the boot
 *    is good) once keel-hostd serves its API. A boot with "0" left goes
 *    to the other bank instead, with keel_reason "fellback";
 *  - keel_reason: why keel_bank is the bank: "installed", "updated",
 *    "fellback" or "rollback".
 *
 * How long a new image's boot may take: keel-init waits BOOT_READY_TIMEOUT_S
 * seconds of uptime for keel-hostd to serve, then reboots (the loader has
 * counted the try). keel.boot_timeout=SECONDS on the kernel command line
 * (a bank's boot.cfg, which an update copies from the bank booted) sets
 * another limit, BOOT_READY_TIMEOUT_MIN_S to BOOT_READY_TIMEOUT_MAX_S;
 * keel-init ignores any other value, and says so.
 *
 * The loader passes keel.bank=a|b on the kernel command line. keel-init
 * mounts the ESP on BOOT_ESP_DIR, the bank it booted from on
 * BOOT_BANK_DIR and the other on BOOT_ALTBANK_DIR, all read-only, and
 * writes BOOT_DEVICE_FILE; what
 * writes the environment block remounts the ESP read-write for the
 * time of the write (bootenv_write). */
#ifndef KEEL_BOOTENV_H
#define KEEL_BOOTENV_H

#include <stddef.h>

#define BOOT_ESP_DIR	 "/esp"
#define BOOT_BANK_DIR	 "/bootbank"
#define BOOT_ALTBANK_DIR "/altbootbank"
#define BOOTENV_FILE	 BOOT_ESP_DIR "/keel/grubenv"
#define BOOTENV_SIZE	 1024 /* GRUB's environment block: exactly this long */
#define BOOT_TRIES	 3    /* the boots a newly written image gets */
/* the seconds of uptime a new image's boot has for keel-hostd to serve:
 * the default, and the bounds of keel.boot_timeout= */
#define BOOT_READY_TIMEOUT_S	 300
#define BOOT_READY_TIMEOUT_MIN_S 10
#define BOOT_READY_TIMEOUT_MAX_S 3600
/* The disk the host booted from (its ESP's), as keel-init found it: its
 * name in /sys/class/block and a newline. The host runs on from RAM if it
 * goes (a USB stick pulled out); /sys/class/block/NAME then is gone too. */
#define BOOT_DEVICE_FILE "/run/keel/boot-device"

struct bootenv {
	char bank;	 /* 'a' or 'b' */
	int tries;	 /* -1: known good; else boots left (0..BOOT_TRIES) */
	char reason[16]; /* "installed", "updated", "fellback", "rollback" */
};

/* Reads a GRUB environment block (n bytes, as in the file). Unknown
 * variables are ignored; a missing or bad keel_bank means 'a', a missing
 * or bad keel_tries -1. Returns 0, or -1 if it is not an environment block
 * (no GRUB header, or not BOOTENV_SIZE bytes). */
int bootenv_parse(const char *buf, size_t n, struct bootenv *env);

/* Writes env as a GRUB environment block of exactly BOOTENV_SIZE bytes
 * into buf. Returns 0, or -1 if env holds an invalid value. */
int bootenv_format(const struct bootenv *env, char buf[BOOTENV_SIZE]);

/* Reads BOOTENV_FILE under `esp` (BOOT_ESP_DIR but in tests). 0 or -1
 * with errno set (EINVAL: not an environment block). */
int bootenv_read(const char *esp, struct bootenv *env);

/* Rewrites it in place (the loader writes it in place too: the block
 * keeps its place on the disk) and syncs it. If `esp` is a read-only
 * mount, it is remounted read-write for the write and read-only again
 * after. 0 or -1 with errno set. */
int bootenv_write(const char *esp, const struct bootenv *env);

/* Remounts `dir` (the ESP, a bank) read-write (rw = 1) or read-only, if it
 * is a mount that is not so already; returns whether it changed it (0 for
 * a directory that is no mount, or a remount that failed). */
int bootenv_remount(const char *dir, int rw);

/* What a bank holds, from its manifest.txt under `dir` (keel-version,
 * keel-commit, kernel-release): all "" when it holds no image. */
struct bootbank_image {
	char version[32], commit[32], kernel[65];
};
void bootenv_bank_image(const char *dir, struct bootbank_image *img);

/* The other bank. */
char bootenv_other(char bank);

/* The bank the loader booted: keel.bank= on the kernel command line
 * `cmdline` (the text of /proc/cmdline), 'a' or 'b'; 0 if there is none
 * (the kernel came from elsewhere: QEMU's -kernel, a PXE server). */
char bootenv_booted(const char *cmdline);

/* The time limit keel.boot_timeout= on `cmdline` sets (the last such word
 * counts): *seconds is its value, a whole number of seconds written plainly
 * (no sign, no leading zero) from BOOT_READY_TIMEOUT_MIN_S to
 * BOOT_READY_TIMEOUT_MAX_S, else BOOT_READY_TIMEOUT_S. Returns 1 when the
 * command line set it, 0 when it says nothing of it, -1 when its value is
 * not one of those (*value, if value is not NULL, then points at it in
 * `cmdline`, up to the next blank). */
int bootenv_ready_timeout(const char *cmdline, int *seconds, const char **value);

#endif
