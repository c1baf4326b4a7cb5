/* The local API: how the host's own console programs (keel-dcui, keel-shell)
 * reach keel-hostd. keel-hostd serves its whole HTTP API there, the same
 * routes, privilege checks and audit as over HTTPS (docs/api.md), in plain
 * HTTP/1.1 on a unix socket that only root on the host can reach (mode
 * 0600). A client sets libcurl's CURLOPT_UNIX_SOCKET_PATH to
 * LOCAL_API_SOCKET and asks for LOCAL_API_URL "/...".
 *
 * Only the login differs. A login there names the door the person came
 * through (the channel), and keel-hostd applies the lockdown matrix
 * (docs/operations.md, "The console") to that door:
 *
 *   POST /api/v1/session {"user", "password", "channel": "dcui"}
 *   POST /api/v1/session {"user", "password", "channel": "tsm-local"}
 *   POST /api/v1/session {"user", "channel": "tsm-ssh", "peer": "ADDRESS"}
 *
 * The last is an SSH login that dropbear has already authenticated (against
 * the same password hashes, or a public key set through the API): no
 * password, since only root can reach this socket. The reply is the API's
 * ({"token": ...}); the session's source, in the audit trail and the
 * sessions list, is "dcui", "tsm-local" or "ssh ADDRESS". A login without a
 * channel on this socket is refused (400), and a channel over HTTPS too.
 *
 * Who may log in where (the lockdown matrix; "Administrators": users with
 * the Administrator role on the host):
 *   channel     lockdown off              normal      strict
 *   dcui        root and Administrators   root only   nobody
 *   tsm-local   root and Administrators   nobody      nobody
 *   tsm-ssh     root and Administrators   nobody      nobody
 * and tech support mode must be enabled for its door (tsm-local, tsm-ssh:
 * GET/PUT /api/v1/host/tech-support). */
#ifndef KEEL_COMMON_LOCALAPI_H
#define KEEL_COMMON_LOCALAPI_H

#define LOCAL_API_SOCKET "/run/keel/local.sock"
#define LOCAL_API_URL	 "http://localhost/api/v1"

/* tech support mode's shell: every tech support account's login shell
 * (keel-hostd writes them), started on tty2 by keel-init and by the
 * console UI (keel-shell --login-here) */
#define KEEL_SHELL_PATH "/sbin/keel-shell"

#define CHANNEL_DCUI	  "dcui"
#define CHANNEL_TSM_LOCAL "tsm-local"
#define CHANNEL_TSM_SSH	  "tsm-ssh"

/* A first boot's root password (keel-hostd makes one when root has none),
 * for the console UI to show until root's password is changed: mode 0600,
 * in /run (gone at the next boot), removed by keel-hostd when root's
 * password is set. It is also shown once on the console as hostd starts;
 * when the console UI owns the console, its idle screen is where the
 * operator finds it. */
#define FIRST_BOOT_PASSWORD_FILE "/run/keel/first-boot-password"

/* keel-shell records each command it runs, before running it:
 *   POST /api/v1/host/tech-support/commands {"command": "TEXT"}
 * with its session's token (only sessions of the tsm-* channels may); the
 * command goes to the audit trail (action "shell", target the command) and
 * to hostd's log with the user and source. At most SHELL_COMMAND_MAX bytes. */
#define SHELL_COMMAND_MAX 1024

#endif
