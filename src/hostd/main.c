/*
 * keel-hostd: the host agent. Serves the HTTPS API (http.c, api*.c), keeps
 * the inventory (db.c) and supervises one keel-vmm per running VM (vms.c).
 *
 * Start: open the inventory, make sure root has a password (a first boot
 * generates one and shows it once on the console), load or make the TLS
 * identity and show its fingerprint, re-attach to running VMs, queue the
 * autostart VMs at the first start after a host boot, serve. SIGTERM ends
 * keel-hostd but not the VMs, as does POST /api/v1/host/agents/restart
 * (keel-init starts it again).
 */
#include "common/localapi.h"
#include "common/log.h"
#include "common/logfiles.h"
#include "common/util.h"
#include "hostd/api.h"
#include "hostd/backup.h"
#include "hostd/audit.h"
#include "hostd/authz.h"
#include "hostd/datastore_registry.h"
#include "hostd/db.h"
#include "hostd/mgmt.h"
#include "hostd/network.h"
#include "hostd/secret.h"
#include "hostd/session.h"
#include "hostd/techsupport.h"
#include "hostd/vms.h"

#include <errno.h>
#include <malloc.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <unistd.h>

#define CONFIG_DIR "/config"
#define RUN_DIR	   "/run/keel"
#define BOOT_MARK  RUN_DIR "/hostd.booted" /* tmpfs: gone at the next boot */

static void die(const char *what, const char *err)
{
	log_notice("cannot start: %s: %s", what, err);
	exit(1);
}

static int vm_running(const char *name)
{
	vms_lock();
	int r = vms_running_locked(name);
	vms_unlock();
	return r;
}

/* A reboot or poweroff asked for (POST /host/reboot, /host/shutdown): the
 * guests' power buttons first, a hard stop for those that outlast the
 * time-out (vms.c), then keel-init stops the host (SIGTERM reboots,
 * SIGUSR2 powers off). Called on each turn of the main loop. */
static void host_power_tick(struct host_info *host)
{
	static double deadline;
	int what = atomic_load(&host->power_request);
	if (what == HOST_RUNNING || deadline < 0)
		return;
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	double now = (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
	int timeout = atomic_load(&host->power_timeout_s);
	if (deadline == 0) {
		deadline = now + timeout + 10; /* the hard stops take a moment too */
		size_t n = 0;
		struct vm_config *list = db_vm_list(&n);
		char err[256];
		for (size_t i = 0; i < n; i++)
			if (vm_running(list[i].name) &&
			    vms_power(list[i].name, "shutdown", timeout, err, sizeof(err)) < 0)
				log_msg("vm %s: %s", list[i].name, err);
		free(list);
		log_notice("host %s: shutting down %d VM%s first (up to %d s)",
			   what == HOST_REBOOT ? "reboot" : "poweroff", vms_count_running(),
			   vms_count_running() == 1 ? "" : "s", timeout);
	}
	if (vms_count_running() > 0 && now < deadline)
		return;
	deadline = -1; /* once */
	log_notice("host %s: VMs stopped; asking keel-init",
		   what == HOST_REBOOT ? "reboot" : "poweroff");
	mgmt_signal_init(what == HOST_REBOOT ? SIGTERM : SIGUSR2);
}

int main(int argc, char **argv)
{
	unsigned port = 443;
	if (argc == 2 && strcmp(argv[1], "--routes") == 0) {
		api_print_routes(stdout); /* for docs/api.md */
		return 0;
	}
	if (argc == 3 && strcmp(argv[1], "--port") == 0) {
		port = (unsigned)atoi(argv[2]);
	} else if (argc != 1) {
		fprintf(stderr, "usage: keel-hostd [--port N | --routes]\n");
		return 2;
	}
	/* two malloc arenas, not one per worker thread: what a burst of large
	 * requests leaves free is shared, rather than kept by each thread */
	mallopt(M_ARENA_MAX, 2);
	log_init("keel-hostd", 1, LOG_SOCKET);
	log_console_quiet(); /* the rest is in hostd.log */
	umask(077);
	/* room for the API's thousands of connections (http.c): the soft limit
	 * up to 8192 (VMs and other children inherit it), or to the hard one */
	struct rlimit rl;
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < 8192 && rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max < 8192 ? rl.rlim_max : 8192;
		if (setrlimit(RLIMIT_NOFILE, &rl) < 0)
			log_msg("cannot raise the limit of open files: %s", strerror(errno));
	}
	signal(SIGPIPE, SIG_IGN);
	sigset_t mask;
	sigemptyset(&mask);
	sigaddset(&mask, SIGTERM);
	sigaddset(&mask, SIGINT);
	sigaddset(&mask, SIGHUP);
	sigprocmask(SIG_BLOCK, &mask, NULL);
	int sfd = signalfd(-1, &mask, SFD_CLOEXEC);

	static struct host_info host = {.version = KEEL_VERSION};
	gethostname(host.hostname, sizeof(host.hostname) - 1);
	char err[512], pw[64];
	if (db_open(CONFIG_DIR "/keel.db", err, sizeof(err)) < 0)
		die("inventory", err);
	if (audit_init("/scratch/log", err, sizeof(err)) < 0)
		die("audit log", err);
	if (secret_dummy_init() < 0) /* unknown users' logins cost a hash too */
		die("password hash", "cannot make the dummy hash");
	if (session_init_root(pw, sizeof(pw), err, sizeof(err)) < 0)
		die("root account", err);
	if (*pw) {
		/* on the console only: never in hostd.log (keel-syslogd), where
		 * Host.Diagnostics and the support bundle would show it */
		log_console("****************************************************************");
		log_console("root password (first boot, shown once): %s", pw);
		log_console("****************************************************************");
		log_msg("root password (first boot): made, and shown on the console only");
		mkdir(RUN_DIR, 0755);
		if (write_file_atomic(FIRST_BOOT_PASSWORD_FILE, pw, strlen(pw), 0600) < 0)
			log_errno("cannot write " FIRST_BOOT_PASSWORD_FILE);
		explicit_bzero(pw, sizeof(pw));
	}
	char *key = NULL, *cert = NULL, tls_warning[512];
	int created = 0;
	if (secret_tls_identity(CONFIG_DIR "/tls", host.hostname, &key, &cert, host.fingerprint,
				&created, tls_warning, sizeof(tls_warning), err, sizeof(err)) < 0)
		die("TLS identity", err);
	if (tls_warning[0])
		log_notice("WARNING: TLS identity: %s", tls_warning);
	log_notice("TLS certificate SHA-256 %s%s", host.fingerprint, created ? " (new)" : "");
	if (datastores_open(err, sizeof(err)) < 0)
		die("datastore", err);
	/* uploads, disks and copies a power cut interrupted (nothing is under
	 * way yet: hostd is the datastores' only writer) */
	for (size_t i = 0; datastore_at(i); i++) {
		int removed = ds_remove_temporaries(datastore_at(i), err, sizeof(err));
		if (removed < 0)
			log_msg("datastore: not every stale temporary file was removed: %s", err);
		else if (removed > 0)
			log_msg("datastore %s: removed %d stale temporary file%s",
				datastore_at(i)->name, removed, removed == 1 ? "" : "s");
	}

	mkdir(RUN_DIR, 0755);
	vms_init("/sbin/keel-vmm", RUN_DIR "/vms", "/scratch/vms", datastore_resolve);
	int n = vms_reattach();
	if (n)
		log_msg("managing %d running VM%s again", n, n == 1 ? "" : "s");
	mgmt_init();
	network_prune(vm_running);
	if (network_reconcile(err, sizeof(err)) < 0)
		log_notice("network: not all of the virtual switches could be set up: %s", err);
	if (access(BOOT_MARK, F_OK) < 0) {
		write_file(BOOT_MARK, "", 0, 0644);
		vms_autostart();
	}
	api_host_init(&host, CONFIG_DIR "/tls");
	log_msg("host UUID %s", backup_host_uuid()); /* made now if it must be */
	static const struct http_checks checks = {
	    .authenticate = session_authenticate,
	    .allowed = authz_allowed,
	};
	if (http_start(port, key, cert, api_routes, &checks, err, sizeof(err)) < 0)
		die("API", err);
	if (http_start_local(LOCAL_API_SOCKET, err, sizeof(err)) < 0)
		die("local API", err);
	tsm_follow_lockdown(); /* the consoles and accounts as lockdown allows */
	explicit_bzero(key, strlen(key));
	free(key);
	free(cert);
	log_notice("API ready on port %u", port);

	for (;;) {
		struct pollfd p = {.fd = sfd, .events = POLLIN};
		if (poll(&p, 1, 200) > 0) {
			struct signalfd_siginfo si;
			if (read(sfd, &si, sizeof(si)) == (ssize_t)sizeof(si)) {
				log_notice("signal %u: stopping (running VMs keep running)",
					   si.ssi_signo);
				break;
			}
		}
		vms_tick();
		session_follow_clock();
		audit_tick(time(NULL));
		tsm_tick();
		host_power_tick(&host);
		if (atomic_load(&host.restart_requested)) {
			usleep(500 * 1000); /* lets the reply go out */
			log_notice("restarting the management agent (running VMs keep running)");
			break;
		}
	}
	http_stop();
	audit_flush(); /* the counts of requests without a known user */
	db_close();
	return 0;
}
