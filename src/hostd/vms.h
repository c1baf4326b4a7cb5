/* Layer: domain. Includes: db.h, network.h, vmconf.h, vmmjail.h, error.h; never
 * http.h or api.h.
 *
 * VM supervision: each running VM is one keel-vmm process, started in its
 * own session so that it outlives keel-hostd. This module owns the table of
 * running VMs and one lock over it; the inventory (db.h) holds what VMs
 * exist and their configuration.
 *
 * Files per VM: RUNDIR/NAME/{vmm.json,control.sock,pid} (pid holds the pid
 * and the process's start time, so that a recycled pid is never mistaken
 * for the VM) and LOGDIR/NAME/{console.log,vmm.log}. */
#ifndef KEEL_HOSTD_VMS_H
#define KEEL_HOSTD_VMS_H

#include "hostd/vmconf.h"

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

void vms_init(const char *vmm_path, const char *rundir, const char *logdir,
	      vmconf_resolve_fn resolve);

/* At start: finds the keel-vmm processes of inventory VMs (left by an
 * earlier keel-hostd) and manages them again. Returns how many. */
int vms_reattach(void);

/* At the first start after a host boot: queues the autostart VMs. */
void vms_autostart(void);

/* Called about every 200 ms: reaps exited VMs, escalates shutdowns that
 * timed out, starts queued autostart VMs. */
void vms_tick(void);

/* The lock over the running-VM table: held by callers that check a VM is
 * off and then change the inventory (update, delete). */
void vms_lock(void);
void vms_unlock(void);
int vms_running_locked(const char *name);

/* Adds "state" (poweredOff, running, paused, stopping) and, while it runs,
 * "pid" and "uptime_s" to `vm` (a canonical configuration). */
void vms_describe(json_t *vm);
int vms_count_running(void);

/* Power actions: "on", "shutdown", "off", "reset", "kill". Returns 0 when
 * done or under way, or a negative errno with a message in err: -ENOENT (no
 * such VM or action), -EBUSY (powered off, already on, a file is gone, too
 * many VMs), -EIO (keel-vmm failed). */
int vms_power(const char *name, const char *action, int timeout_s, char *err, size_t errlen);

/* Maintenance mode (ESXi's): no VM powers on and autostart is suspended;
 * the host is updated (update.c) in it. It is kept in the inventory (a
 * setting) and outlasts reboots. Entering needs no VM running; with
 * shutdown_vms, each running guest gets its power button and timeout_s to
 * shut down (then it is powered off), and the host is in maintenance mode
 * once none runs: until then it is "entering", and a VM that still runs
 * 10 s after the time-out leaves it off. */
enum vms_maintenance { VMS_MAINT_OFF, VMS_MAINT_ENTERING, VMS_MAINT_ON };
enum vms_maintenance vms_maintenance(void);
/* 0: in maintenance mode; 1: entering it; -EBUSY: VMs run (without
 * shutdown_vms), with a message. */
int vms_maintenance_enter(const char *user, bool shutdown_vms, int timeout_s, char *err,
			  size_t errlen);
/* 0 (also when not in it), or -EIO with a message. */
int vms_maintenance_exit(const char *user, char *err, size_t errlen);

/* The stats of a running VM (NULL with a message when it is off). */
json_t *vms_stats(const char *name, char *err, size_t errlen);

/* The last `max` bytes of the VM's console log (malloc'ed; "" if none). */
char *vms_console_tail(const char *name, size_t max, size_t *len);

/* The first VM (by inventory order) whose configuration uses "DS/PATH" as
 * its kernel, initrd or a disk (vmconf_uses), among the running VMs only
 * when `running_only`: its name copied to `who`, which is returned; NULL
 * when none does. */
const char *vms_file_user(const char *dspath, bool running_only, char *who, size_t wholen);
/* Removes the VM's run and log folders (after it is deleted). */
void vms_forget(const char *name);

#endif
