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
#include "hostd/backup.h"
#include "hostd/bootbanks.h"
#include "hostd/error.h"
#include "hostd/db.h"
#include "hostd/hostsyslog.h"
#include "hostd/hosttime.h"
#include "hostd/secret.h"
#include "hostd/techsupport.h"

#include <errno.h>
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
		   json_pack("{s:s,s:s,s:s,s:I,s:i,s:I,s:I,s:b,s:I,s:i,s:s,s:b}", "hostname", name,
			     "uuid", backup_host_uuid(), "version", host->version, "uptime_s",
			     (json_int_t)si.uptime, "cpus", (int)sysconf(_SC_NPROCESSORS_ONLN),
			     "memory_mib", (json_int_t)((uint64_t)si.totalram * si.mem_unit >> 20),
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

/* {"passphrase"} → the backup file (backup.h) */
void api_host_backup(struct req *r)
{
	json_t *body = req_json(r);
	if (!body)
		return;
	const char *pass = json_string_value(json_object_get(body, "passphrase"));
	char err[256];
	int fd, rc;
	uint64_t size;
	if (req_only_fields(r, body, (const char *const[]){"passphrase", NULL}) < 0) {
		json_decref(body);
		return;
	}
	if (!pass)
		reply_error(r, 400, "passphrase: a string of at least %d characters",
			    BACKUP_PASSPHRASE_MIN);
	else if ((rc = backup_make(pass, &fd, &size, err, sizeof(err))) < 0)
		reply_errno(r, rc, err);
	else
		reply_file(r, fd, size);
	json_decref(body);
}

/* A restore comes in two steps: the file (PUT .../restore/file, kept in
 * memory's /run until the host reboots), then its passphrase (POST
 * .../restore), so that no secret travels in a header or a URL. Both in
 * maintenance mode only. */
#define RESTORE_UPLOAD "/run/keel/restore.kbk"

static int in_maintenance(struct req *r)
{
	if (vms_maintenance() == VMS_MAINT_ON)
		return 1;
	reply_error(r, 409, "the host must be in maintenance mode to be restored");
	return 0;
}

/* the file, in memory (a backup is small) */
struct restore_sink {
	unsigned char *p;
	size_t len;
};

static int restore_write(void *sink, const char *data, size_t len, char *err, size_t errlen)
{
	struct restore_sink *s = sink;
	if (len > BACKUP_MAX - s->len)
		return error_set(err, errlen, -EFBIG, "a backup is at most %u bytes", BACKUP_MAX);
	unsigned char *p = realloc(s->p, s->len + len);
	if (!p)
		return error_set(err, errlen, -ENOMEM, "out of memory");
	memcpy(p + s->len, data, len);
	s->p = p;
	s->len += len;
	return 0;
}

static void restore_abort(void *sink)
{
	struct restore_sink *s = sink;
	free(s->p);
	free(s);
}

void api_host_restore_file(struct req *r)
{
	if (!r->upload_done) {
		struct restore_sink *s;
		if (!in_maintenance(r))
			return;
		if (!(s = calloc(1, sizeof(*s)))) {
			reply_error(r, 500, "out of memory");
			return;
		}
		r->upload = s;
		r->upload_write = restore_write;
		r->upload_abort = restore_abort;
		return;
	}
	struct restore_sink *s = r->upload;
	r->upload = NULL;
	char err[256];
	json_t *info = NULL;
	int rc = r->upload_error;
	if (rc < 0)
		reply_errno(r, rc, r->upload_err);
	else if ((rc = backup_describe(s->p, s->len, &info, err, sizeof(err))) < 0)
		reply_errno(r, rc, err);
	else if (write_file_atomic(RESTORE_UPLOAD, s->p, s->len, 0600) < 0)
		reply_error(r, 500, "cannot keep the file: %s", strerror(errno));
	else
		reply_json(r, 200, json_incref(info));
	json_decref(info);
	restore_abort(s);
}

/* {"passphrase", "force"}: the file sent is checked and staged; the host
 * reboots, and keel-init applies it */
void api_host_restore(struct req *r)
{
	json_t *body = req_json(r);
	if (!body)
		return;
	const char *pass = json_string_value(json_object_get(body, "passphrase"));
	json_t *force = json_object_get(body, "force");
	char err[256];
	size_t len;
	unsigned char *data = NULL;
	int rc, none = HOST_RUNNING;
	if (req_only_fields(r, body, (const char *const[]){"passphrase", "force", NULL}) < 0 ||
	    !in_maintenance(r)) {
		json_decref(body);
		return;
	}
	if (!pass)
		reply_error(r, 400, "passphrase: the backup's, a string");
	else if (force && !json_is_boolean(force))
		reply_error(r, 400, "force: true or false");
	else if (!(data = (unsigned char *)read_file(RESTORE_UPLOAD, BACKUP_MAX, &len)))
		reply_error(r, 409,
			    "no backup file was sent (PUT /api/v1/host/config/restore/file)");
	else if ((rc = backup_restore(data, len, pass, json_is_true(force), err, sizeof(err))) < 0)
		reply_errno(r, rc, err);
	else if (!atomic_compare_exchange_strong(&host->power_request, &none, HOST_REBOOT))
		reply_error(r, 409,
			    "the host is already stopping; the restore is applied at its "
			    "next boot");
	else {
		unlink(RESTORE_UPLOAD);
		log_notice("restore asked for by %s from %s: the host reboots into the restored "
			   "configuration",
			   r->user, r->source);
		reply_json(r, 202, json_pack("{s:s}", "state", "rebooting"));
	}
	free(data);
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
