/* keel-init's side of the boot banks (common/bootenv.h): mounting the ESP
 * and the banks, and deciding whether a new image's boot is good. */
#ifndef KEEL_INIT_BOOTBANK_H
#define KEEL_INIT_BOOTBANK_H

/* How long to wait for the boot device (the disk with the ESP) to appear:
 * USB disks are found a few seconds after their controller. */
#define BOOT_DEVICE_WAIT_S 15

/* From `cmdline`, the bank booted (if any): mounts the ESP on
 * BOOT_ESP_DIR, that bank on BOOT_BANK_DIR, the other on
 * BOOT_ALTBANK_DIR (read-only, those found), and says on the log which
 * image booted and why; and the time a new image's boot has for
 * keel-hostd to serve (keel.boot_timeout=, common/bootenv.h), saying so if
 * the value given is ignored. */
void bootbank_init(const char *cmdline);

/* A netlink socket of the kernel's device events (-1 if the host did not
 * boot from a bank): readable when one comes, for bootbank_event. */
int bootbank_events_fd(void);
/* Reads the device events that came: when the boot device goes, says so
 * and lets go of its file systems (the host runs on from RAM). */
void bootbank_event(void);

/* Called from the main loop: once keel-hostd serves its API, a new
 * image's boot is good (its keel_tries are emptied). Returns 1 while that
 * is still to come (call again within a second), 0 when there is nothing
 * left to do, -1 when the time for it (seconds of `uptime`) ran out
 * (reboot). */
int bootbank_tick(double uptime);

#endif
