/* Supervision of Keel's services by keel-init.
 *
 * The service table is read from a file (/etc/keel/services in the image):
 * one service per line, "name /absolute/path [args...]", '#' comments.
 * keel-init starts each one, writes its pid to /run/keel/NAME.pid, restarts
 * it when it dies (with back-off, see backoff.h), and stops them all at
 * poweroff. */
#ifndef KEEL_SERVICES_H
#define KEEL_SERVICES_H

#include <sys/types.h>
#include <time.h>

#define SVC_MAX	 16
#define SVC_ARGS 16

struct service {
	char name[32];
	char *argv[SVC_ARGS + 1];
	pid_t pid;	   /* 0 when not running */
	double started;	   /* uptime at last start */
	double restart_at; /* uptime at which to restart; 0 if none scheduled */
	long backoff_ms;
	int off;	 /* stopped on purpose: not restarted (svc_stop) */
	int restart_now; /* started again at once when it exits (svc_restart) */
	char term[16];	 /* its TERM ("" : linux) */
};

struct svctab {
	int n;
	struct service svc[SVC_MAX];
};

/* Parses the service table text. Returns the number of lines rejected
 * (reported through log_msg). */
int svctab_parse(struct svctab *t, const char *text);
void svctab_free(struct svctab *t);
/* Adds one service by hand (e.g. the DHCP client). Returns 0 or -1. */
int svctab_add(struct svctab *t, const char *name, char *const argv[]);

/* The service of that name, or NULL. */
struct service *svctab_find(struct svctab *t, const char *name);

/* Starts a service now; on failure to exec, logs why and schedules a retry. */
void svc_start(struct service *s);
/* Stops it (SIGTERM) and keeps it stopped until svc_restart. */
void svc_stop(struct service *s);
/* Starts it, or stops it and starts it again at once, with a fresh
 * back-off (e.g. after its configuration changed). */
void svc_restart(struct service *s);
/* A child exited: if it is a service, logs it and schedules a restart
 * (unless `stopping`). Returns 1 if pid belonged to a service. */
int svctab_reaped(struct svctab *t, pid_t pid, int status, int stopping);
/* Starts services whose restart time has come. Returns the uptime of the
 * next scheduled restart, or 0 if none. */
double svctab_tick(struct svctab *t);
/* Sends SIGTERM to all, waits up to `grace` seconds, then SIGKILL. */
void svctab_stop_all(struct svctab *t, double grace);

#endif
