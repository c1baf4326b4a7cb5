/* Layer: domain. Includes: authz.h, db.h, mgmt.h (host.conf's owner),
 * error.h; never http.h or api.h.
 *
 * Tech support mode (keel-shell on a local console, and over SSH with
 * dropbear) and the console UI's switch: the console.* and tsm.* settings of
 * host.conf (common/hostconf.h), which keel-init follows (SIGHUP) to start
 * and stop keel-dcui, keel-shell's login on tty2 and dropbear.
 *
 * - Either service may be enabled only while lockdown is off; entering
 *   lockdown turns both off (tsm_follow_lockdown).
 * - The console UI runs when the operator wants it (the "dcui" setting, on
 *   by default), but never in strict lockdown.
 * - The availability time-out: a service enabled at T turns itself off at
 *   T + availability_timeout_s (tsm_tick); sessions already open stay.
 * - The idle time-out: keel-shell and dropbear end a session idle that long.
 * - The accounts dropbear checks: /etc/passwd and /etc/shadow get an entry
 *   for each user that is not disabled, all uid 0 with keel-shell as their
 *   shell and their Keel password hash, and only while lockdown is off
 *   (tsm_accounts_write). dropbear only authenticates: keel-shell's first
 *   act is its login through the tsm-ssh door, where keel-hostd applies the
 *   lockdown matrix (root and Administrators) and audits a refusal, as at
 *   every other door. */
#ifndef KEEL_HOSTD_TECHSUPPORT_H
#define KEEL_HOSTD_TECHSUPPORT_H

#include <jansson.h>
#include <stddef.h>

#define TSM_PASSWD_FILE "/etc/passwd"
#define TSM_SHADOW_FILE "/etc/shadow"
#define TSM_HOME_DIR	"/run/keel/tsm" /* NAME/.ssh/authorized_keys */
#define TSM_GECOS	"Keel tech support"

/* {local, ssh, local_until, ssh_until (seconds since the epoch, or null),
 * availability_timeout_s, idle_timeout_s, dcui (wanted), dcui_running} */
json_t *tsm_describe(void);
/* body: any of local, ssh, dcui (booleans), availability_timeout_s and
 * idle_timeout_s (0 to TSM_TIMEOUT_MAX: new time-outs take effect at the
 * next enable and the next session). -EINVAL (bad body), -EPERM (enabling
 * in lockdown), -EIO (host.conf), with a message. */
int tsm_change(const json_t *body, char *err, size_t errlen);
/* 1 while the service (ssh: 1, local: 0) is enabled and not past its time. */
int tsm_enabled(int ssh);
/* Turns off what is past its time; called every fraction of a second. */
void tsm_tick(void);
/* After a change of lockdown mode: the services and the console UI as the
 * mode allows, and the accounts rewritten. */
void tsm_follow_lockdown(void);
/* Rewrites the accounts dropbear checks (after a change of users,
 * permissions or lockdown). 0, or -1 (logged). */
int tsm_accounts_write(void);

#endif
