/* The host routes: the API's root, the host summary, restarting the
 * management agents, the TLS certificate, the clock (hosttime.c), tech
 * support mode (techsupport.c) and the system images (bootbanks.c). */
#include "hostd/api.h"

#include "hostd/vms.h"

#include "common/hostconf.h"
#include "common/localapi.h"
#include "common/log.h"
#include "common/util.h"
#include "hostd/audit.h"
#include "hostd/authz.h"
#include "hostd/bootbanks.h"
#include "hostd/db.h"
#include "hostd/hostsyslog.h"
#include "hostd/hosttime.h"
#include "hostd/secret.h"
#include "hostd/techsupport.h"

#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <linux/magic.h>
#include <sys/statfs.h>
#include <sys/sysinfo.h>
#include <unistd.h>

static struct host_info *host;
static const char *tls_dir;

void api_host_init(struct host_info *info, const char *dir)
{
	host = info;
	tls_dir = dir;
}

const struct host_info *api_host_info(void)
{
	return host;
}

void api_root(struct req *r)
{
	reply_json(
	    r, 200,
	    json_pack("{s:s,s:s,s:s}", "product", "keel", "version", host->version, "api", "v1"));
}

/* MemAvailable from /proc/meminfo, in MiB */
static long mem_available_mib(void)
{
	char *text = read_file("/proc/meminfo", 65536, NULL);
	char *p = text ? strstr(text, "MemAvailable:") : NULL;
	long kib = p ? strtol(p + 13, NULL, 10) : 0;
	free(text);
	return kib / 1024;
}

void api_host(struct req *r)
{
	struct sysinfo si;
	sysinfo(&si);
	size_t nvms;
	free(db_vm_list(&nvms));
	int kvm = access("/dev/kvm", R_OK | W_OK) == 0;
	char name[65] = ""; /* the management network may have changed it */
	gethostname(name, sizeof(name) - 1);
	/* no Keel disk: /config is in RAM (keel-init), and lost at power-off */
	struct statfs fs;
	int on_disk =
	    statfs("/config", &fs) == 0 && fs.f_type != TMPFS_MAGIC && fs.f_type != RAMFS_MAGIC;
	reply_json(r, 200,
		   json_pack("{s:s,s:s,s:I,s:i,s:I,s:I,s:b,s:I,s:i,s:s,s:b}", "hostname", name,
			     "version", host->version, "uptime_s", (json_int_t)si.uptime, "cpus",
			     (int)sysconf(_SC_NPROCESSORS_ONLN), "memory_mib",
			     (json_int_t)((uint64_t)si.totalram * si.mem_unit >> 20),
			     "memory_free_mib", (json_int_t)mem_available_mib(), "kvm", kvm, "vms",
			     (json_int_t)nvms, "vms_running", vms_count_running(),
			     "certificate_sha256", host->fingerprint, "config_on_disk", on_disk));
}

void api_host_restart(struct req *r)
{
	atomic_store(&host->restart_requested, true);
	reply_json(r, 202, json_pack("{s:b}", "restarting", 1));
}

/* The host reboots or powers off: each running VM's guest is asked to
 * shut down (its ACPI power button), those still running after timeout_s
 * are stopped, then keel-init stops the host (main.c). A factory reset is a
 * reboot after which keel-init empties /config (common/hostconf.h). */
void api_host_power(struct req *r)
{
	json_t *body = req_json(r);
	if (!body)
		return;
	json_t *t = json_object_get(body, "timeout_s");
	if (req_only_fields(r, body, (const char *const[]){"timeout_s", NULL}) < 0) {
		json_decref(body);
		return;
	}
	if (t &&
	    (!json_is_integer(t) || json_integer_value(t) < 0 || json_integer_value(t) > 3600)) {
		reply_error(r, 400, "timeout_s: an integer from 0 to 3600");
	} else {
		int reset = strcmp(r->route->action, "factory-reset") == 0;
		int reboot = reset || strcmp(r->route->action, "reboot") == 0;
		int none = HOST_RUNNING;
		if (reset && atomic_load(&host->power_request) == HOST_RUNNING &&
		    write_file_atomic(FACTORY_RESET_FILE, "", 0, 0600) < 0) {
			reply_error(r, 500, "cannot write %s", FACTORY_RESET_FILE);
			json_decref(body);
			return;
		}
		if (reset)
			log_notice("factory reset asked for by %s from %s: the host reboots into "
				   "its first boot",
				   r->user, r->source);
		atomic_store(&host->power_timeout_s, t ? (int)json_integer_value(t) : 60);
		if (!atomic_compare_exchange_strong(&host->power_request, &none,
						    reboot ? HOST_REBOOT : HOST_POWEROFF))
			reply_error(r, 409, "the host is already stopping");
		else
			reply_json(r, 202,
				   json_pack("{s:s,s:i,s:i}", "state",
					     reboot ? "rebooting" : "shutting down", "vms_running",
					     vms_count_running(), "timeout_s",
					     atomic_load(&host->power_timeout_s)));
	}
	json_decref(body);
}

static json_t *maintenance_json(void)
{
	static const char *const names[] = {"off", "entering", "on"};
	return json_pack("{s:s,s:i}", "maintenance", names[vms_maintenance()], "vms_running",
			 vms_count_running());
}

void api_host_maintenance(struct req *r)
{
	reply_json(r, 200, maintenance_json());
}

/* {"shutdown_vms": bool, "timeout_s": 0..3600}: 200 in maintenance mode,
 * 202 entering it (the guests shut down), 409 VMs running */
void api_host_maintenance_enter(struct req *r)
{
	json_t *body = req_json(r);
	if (!body)
		return;
	json_t *shut = json_object_get(body, "shutdown_vms"),
	       *t = json_object_get(body, "timeout_s");
	char err[256];
	int rc;
	if (req_only_fields(r, body, (const char *const[]){"shutdown_vms", "timeout_s", NULL}) <
	    0) {
		json_decref(body);
		return;
	}
	if (shut && !json_is_boolean(shut))
		reply_error(r, 400, "shutdown_vms: true or false");
	else if (t &&
		 (!json_is_integer(t) || json_integer_value(t) < 0 || json_integer_value(t) > 3600))
		reply_error(r, 400, "timeout_s: an integer from 0 to 3600");
	else if ((rc = vms_maintenance_enter(r->user, json_is_true(shut),
					     t ? (int)json_integer_value(t) : 60, err,
					     sizeof(err))) < 0)
		reply_errno(r, rc, err);
	else
		reply_json(r, rc ? 202 : 200, maintenance_json());
	json_decref(body);
}

void api_host_maintenance_exit(struct req *r)
{
	char err[256];
	int rc = vms_maintenance_exit(r->user, err, sizeof(err));
	if (rc < 0)
		reply_errno(r, rc, err);
	else
		reply_json(r, 200, maintenance_json());
}

void api_host_image(struct req *r)
{
	reply_json(r, 200, bootbanks_describe());
}

void api_host_rollback(struct req *r)
{
	char err[256];
	json_t *out;
	int rc = bootbanks_rollback(&out, err, sizeof(err));
	if (rc < 0) {
		reply_errno(r, rc, err);
		return;
	}
	log_notice("%s from %s rolled back: bank %s boots next", r->user, r->source,
		   json_string_value(json_object_get(out, "next")));
	reply_json(r, 200, out);
}

void api_host_certificate(struct req *r)
{
	json_t *body = req_json(r);
	const char *cert, *key;
	char err[256], fp[96];
	if (!body ||
	    req_only_fields(r, body, (const char *const[]){"certificate", "key", NULL}) < 0)
		goto out;
	if (json_unpack(body, "{s:s,s:s}", "certificate", &cert, "key", &key) < 0) {
		reply_error(r, 400, "want {\"certificate\": PEM string, \"key\": PEM string}");
		goto out;
	}
	if (secret_tls_install(tls_dir, key, cert, fp, err, sizeof(err)) < 0) {
		reply_error(r, 400, "%s", err);
		goto out;
	}
	atomic_store(&host->restart_requested, true); /* to serve the new certificate */
	reply_json(r, 202, json_pack("{s:s}", "certificate_sha256", fp));
out:
	json_decref(body);
}

void api_host_time(struct req *r)
{
	reply_json(r, 200, hosttime_describe());
}

void api_host_time_set(struct req *r)
{
	json_t *body = req_json(r);
	char err[256];
	if (!body ||
	    req_only_fields(r, body, (const char *const[]){"ntp_servers", "time", NULL}) < 0)
		goto out;
	int rc = hosttime_change(body, err, sizeof(err));
	if (rc < 0)
		reply_errno(r, rc, err);
	else
		reply_json(r, 200, hosttime_describe());
out:
	json_decref(body);
}

void api_host_syslog(struct req *r)
{
	reply_json(r, 200, hostsyslog_describe());
}

void api_host_syslog_set(struct req *r)
{
	json_t *body = req_json(r);
	char err[256];
	if (!body ||
	    req_only_fields(
		r, body, (const char *const[]){"targets", "format", "fingerprint", "ca", NULL}) < 0)
		goto out;
	int rc = hostsyslog_change(body, err, sizeof(err));
	if (rc < 0)
		reply_errno(r, rc, err);
	else
		reply_json(r, 200, hostsyslog_describe());
out:
	json_decref(body);
}

/* --- tech support mode (techsupport.c) ----------------------------------- */

void api_tsm_get(struct req *r)
{
	reply_json(r, 200, tsm_describe());
}

void api_tsm_put(struct req *r)
{
	json_t *body = req_json(r);
	if (!body)
		return;
	char err[256];
	int rc = tsm_change(body, err, sizeof(err));
	json_decref(body);
	if (rc < 0)
		reply_errno(r, rc, err);
	else
		reply_json(r, 200, tsm_describe());
}

/* keel-shell's record of a command, before it runs it (common/localapi.h):
 * only from a session of tech support mode, on the local API. */
void api_tsm_command(struct req *r)
{
	enum door door = authz_door_of_source(r->source);
	if (!r->local || (door != DOOR_TSM_LOCAL && door != DOOR_TSM_SSH)) {
		reply_error(r, 403, "only keel-shell's sessions record commands");
		return;
	}
	json_t *body = req_json(r);
	if (!body)
		return;
	const char *command = json_string_value(json_object_get(body, "command"));
	if (json_object_size(body) != 1 || !command || !*command ||
	    strlen(command) > SHELL_COMMAND_MAX) {
		reply_error(r, 400, "want {\"command\": text of 1 to %d bytes}", SHELL_COMMAND_MAX);
	} else if (audit_write(r->user, r->source, "shell", command, "ok", 200) < 0) {
		reply_error(r, 503, "the audit trail cannot be written: the command may not run");
	} else {
		log_msg("shell: %s from %s: %s", r->user, r->source, command);
		reply_empty(r, 204);
	}
	json_decref(body);
}
