/* The host's log files: what keel-syslogd writes under LOG_DIR, and the
 * limits that keel-syslogd, keel-init and (later) keel-hostd share.
 *
 * keel-syslogd receives syslog(3) datagrams on LOG_SOCKET and the kernel's
 * records from /dev/kmsg, and writes one file per source (logfile_for_app):
 * keel-init and keel-dhcpc to init.log, keel-hostd to hostd.log, keel-vmm
 * to vmm.log, keel-dcui and keel-shell to dcui.log, the kernel to
 * kernel.log, chronyd and chronyc to chrony.log, any other app to
 * other.log. The audit trail (audit*.log in the same folder) is keel-hostd's
 * own and is not among them.
 *
 * Each file is rotated by size: past log.size_kib KiB (host.conf) NAME.log
 * becomes NAME.log.1 (NAME.log.1 becomes NAME.log.2, ...) and log.keep old
 * files are kept. With /scratch in RAM all files together stay within
 * LOG_RAM_CAP_KIB (logfile_limits). */
#ifndef KEEL_LOGFILES_H
#define KEEL_LOGFILES_H

#define LOG_DIR	    "/scratch/log"
#define LOG_SOCKET  "/dev/log"
#define LOG_SERVICE "syslogd" /* keel-syslogd's service name (keel-init) */

/* a syslog message longer than this is cut (bytes, before escaping) */
#define LOG_MSG_MAX (8 * 1024)

/* host.conf's log.size_kib and log.keep: defaults and accepted ranges */
#define LOG_SIZE_KIB_DEFAULT 1024
#define LOG_SIZE_KIB_MIN     64
#define LOG_SIZE_KIB_MAX     (1024 * 1024)
#define LOG_KEEP_DEFAULT     5
#define LOG_KEEP_MIN	     1
#define LOG_KEEP_MAX	     20
/* every file, old ones included, with /scratch in RAM */
#define LOG_RAM_CAP_KIB (8 * 1024)

enum logfile_id {
	LOGFILE_INIT,
	LOGFILE_HOSTD,
	LOGFILE_VMM,
	LOGFILE_DCUI,
	LOGFILE_KERNEL,
	LOGFILE_CHRONY,
	LOGFILE_OTHER,
	LOGFILE_COUNT
};

/* "init.log", ... (the file name in LOG_DIR) */
const char *logfile_name(enum logfile_id id);
/* The file for a syslog app name (the tag; "kernel" for /dev/kmsg). */
enum logfile_id logfile_for_app(const char *app);
/* The size (bytes) and count of old files each file gets: host.conf's
 * settings, or with `in_ram` the share of LOG_RAM_CAP_KIB (one old file). */
void logfile_limits(int size_kib, int keep, int in_ram, long *size_out, int *keep_out);

#endif
