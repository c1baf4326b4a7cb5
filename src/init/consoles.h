/* The host's consoles, as keel-init runs them (common/hostconf.h: the
 * console.* and tsm.* settings, which keel-hostd writes; SIGHUP applies
 * them):
 * - keel-dcui, the console UI, on each console of the DCUI list: tty1 and
 *   the serial console (the last console= of the kernel command line, when
 *   it is a ttyS), or the list keel.dcui=TTY[,TTY...] names (keel.dcui=none:
 *   no console UI). It runs while console.dcui is on (not in strict
 *   lockdown), once keel-hostd serves the local API (so that what hostd
 *   shows at start, the first boot's password and the certificate's
 *   fingerprint, reaches the console first). TERM is "linux" on a VT,
 *   "vt220" on a serial line.
 * - keel-shell's login on tty2 while tsm.local is on and not past its time;
 * - dropbear on port 22 while tsm.ssh is on and not past its time, with the
 *   host keys made once in /config/ssh and keel-shell as every account's
 *   shell (keel-hostd writes the accounts), ending sessions idle tsm.idle_s.
 * A service turned off by its time-out stops listening; the sessions
 * already open stay (a login shell is left to end, dropbear's children are
 * not signalled). */
#ifndef KEEL_INIT_CONSOLES_H
#define KEEL_INIT_CONSOLES_H

#include "common/hostconf.h"
#include "init/services.h"

#define SSH_KEY_DIR "/config/ssh"

/* Reads the kernel command line (its text): the DCUI's consoles. */
void consoles_init(const char *cmdline);
/* 1 when the console UI runs on /dev/console's terminal (a started
 * service): then keel-init
 * and the kernel write there no more (but emergencies). */
int consoles_own_console(struct svctab *t);
/* Starts and stops the consoles' services as hc says. Returns 1 while the
 * console UI waits for keel-hostd: call it again a moment later. */
int consoles_apply(struct svctab *t, const struct hostconf *hc);

#endif
