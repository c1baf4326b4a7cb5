/* The control socket of a running VM: the protocol between keel-hostd (the
 * client) and keel-vmm (the server), on the unix socket named by the
 * "control" field of keel-vmm's configuration.
 *
 * A request is one line of JSON, {"cmd": "NAME"} and a newline, at most
 * CONTROL_REQUEST_MAX bytes; the answer is one line of JSON, at most
 * CONTROL_REPLY_MAX bytes: {"ok": true, ...} with the command's fields, or
 * {"ok": false, "error": "why"}. A client may send several requests on one
 * connection. The commands:
 *   state     "state" (running|paused|stopping), "name", "vcpus",
 *             "memory_mib", "uptime_ms", "boot_ms" (null until the guest
 *             reported it), "console_pty" (a pty console only)
 *   pause     stops the vCPUs; "state"
 *   resume    runs them again; "state"
 *   stop      ends the VM now (as pulling the plug); "state"
 *   shutdown  presses the ACPI power button; "state"
 *   stats     "vcpus": [{"id", "exits": {KIND: count}, "run_ns", "cpu_ns"}]
 *   probe     tries, from inside keel-vmm, what its jail and filter must
 *             stop (open the inventory, a datastore, /proc/1; make a
 *             socket; signal every process it can see; map more memory
 *             than its limit), undoing whatever succeeds; "attempts":
 *             {WHAT: "refused (ERRNO)" | "SUCCEEDED"}. For the tests and
 *             for an operator who wants to see the jail hold. */
#ifndef KEEL_CONTROL_H
#define KEEL_CONTROL_H

#include <stddef.h>

#define CONTROL_REQUEST_MAX 4096
#define CONTROL_REPLY_MAX   65536

enum control_cmd {
	CONTROL_STATE,
	CONTROL_PAUSE,
	CONTROL_RESUME,
	CONTROL_STOP,
	CONTROL_SHUTDOWN,
	CONTROL_STATS,
	CONTROL_PROBE,
	CONTROL_CMDS /* how many */
};

const char *control_cmd_name(enum control_cmd cmd);
/* The request line for cmd (with its newline); returns its length, or -1
 * if it does not fit in n bytes. */
int control_request_format(enum control_cmd cmd, char *buf, size_t n);
/* The command of a request line (without its newline); -1 when it is not a
 * request for a known command. */
int control_request_parse(const char *line, enum control_cmd *cmd);

#endif
