/* Layer: domain. Includes: error.h.
 *
 * Starting keel-vmm in its jail (docs/operations.md, "Security model"):
 * keel-hostd opens everything a VM uses and passes the descriptors, so that
 * keel-vmm never opens a path; puts the process in a cgroup of its own that
 * limits its memory and tasks; starts it as the first process of a PID
 * namespace of its own; and has it switch to the VM's own uid and gid
 * (VMM_JAIL_ID_BASE + the VM's inventory id) in an empty root (keel-vmm's
 * side: src/vmm/jail.h). */
#ifndef KEEL_HOSTD_VMMJAIL_H
#define KEEL_HOSTD_VMMJAIL_H

#include "common/vmmconf.h"

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define VMM_JAIL_ID_BASE 100000u
#define VMM_CGROUPS	 "/sys/fs/cgroup/keel-vms" /* one group per running VM: vm-ID */

/* Once at start: the empty directory keel-vmm mounts its root on
 * (RUNDIR/.jail; no VM name starts with '.'), and the parent cgroup with
 * the memory and pids controllers. Logs what fails. */
void vmmjail_init(const char *rundir);

/* Where keel-hostd keeps the configuration keel-vmm gets, and keel-vmm's
 * log (its stdout and stderr). */
struct vmmjail_files {
	const char *config_path, *log_path;
};

/* Opens what the configuration c (paths resolved, as vmconf_vmm fills it)
 * names, adds the descriptors and the jail to c, writes it to
 * files->config_path (what keel-vmm gets) and starts `vmm` on it. Returns
 * keel-vmm's pid, or a negative errno with a message in err (nothing is
 * left running). */
pid_t vmmjail_spawn(const char *vmm, struct vmm_config *c, int64_t id,
		    const struct vmmjail_files *files, char *err, size_t errlen);

/* After the VM with inventory id `id` ended: removes its cgroup. */
void vmmjail_cleanup(int64_t id);

#endif
