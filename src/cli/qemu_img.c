#include "cli/qemu_img.h"

#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cli/mem.h"
#include "cli/output.h"
#include "common/util.h"

#define INFO_MAX (1u << 20) /* qemu-img info's answer, at most */

extern char **environ;

/* the formats keel vm import takes, and how people call them */
static const struct {
	const char *name, *shown;
} formats[] = {
    {"raw", "raw"},   {"qcow2", "qcow2"}, {"vmdk", "VMDK"}, {"vpc", "VHD"},
    {"vhdx", "VHDX"}, {"vdi", "VDI"},	  {"qed", "QED"},
};

/* Runs qemu-img with argv; its stdout goes to *out (malloc'd, NUL-
 * terminated) when out is set, else to stderr. Returns its exit status, or
 * -1 when it could not run or was killed (with a message). */
static int run(char *const argv[], char **out)
{
	int pipefd[2] = {-1, -1};
	posix_spawn_file_actions_t fa;
	posix_spawn_file_actions_init(&fa);
	if (out) {
		*out = NULL;
		if (pipe2(pipefd, O_CLOEXEC) < 0) {
			error_msg("pipe: %s", strerror(errno));
			posix_spawn_file_actions_destroy(&fa);
			return -1;
		}
		posix_spawn_file_actions_adddup2(&fa, pipefd[1], STDOUT_FILENO);
	} else {
		posix_spawn_file_actions_adddup2(&fa, STDERR_FILENO, STDOUT_FILENO);
	}
	pid_t pid;
	int e = posix_spawnp(&pid, argv[0], &fa, NULL, argv, environ);
	posix_spawn_file_actions_destroy(&fa);
	if (pipefd[1] >= 0)
		close(pipefd[1]);
	if (e) {
		if (pipefd[0] >= 0)
			close(pipefd[0]);
		error_msg("cannot run %s: %s%s", argv[0], strerror(e),
			  e == ENOENT ? " (install qemu-utils)" : "");
		return -1;
	}
	size_t len = 0;
	if (out) {
		char *buf = xmalloc(INFO_MAX + 1);
		ssize_t n;
		while ((n = read(pipefd[0], buf + len, INFO_MAX - len)) != 0) {
			if (n < 0 && errno == EINTR)
				continue;
			if (n < 0 || (len += (size_t)n) == INFO_MAX)
				break;
		}
		close(pipefd[0]);
		buf[len] = '\0';
		*out = buf;
	}
	int status;
	while (waitpid(pid, &status, 0) < 0)
		if (errno != EINTR) {
			error_msg("%s: %s", argv[0], strerror(errno));
			return -1;
		}
	if (WIFSIGNALED(status)) {
		error_msg("%s was killed (signal %d)", argv[0], WTERMSIG(status));
		return -1;
	}
	return WEXITSTATUS(status);
}

/* whether a VMDK's extents are all in the file itself */
static bool own_extents(json_t *info)
{
	json_t *data = json_object_get(json_object_get(info, "format-specific"), "data");
	json_t *ext = json_object_get(data, "extents");
	const char *self = jstr(info, "filename");
	size_t i;
	json_t *e;
	json_array_foreach(ext, i, e)
	{
		if (strcmp(jstr(e, "filename"), self) != 0)
			return false;
	}
	return true;
}

/* A fixed VHD is raw data and a 512-byte footer ("conectix"), which
 * qemu-img's probe takes for raw: its footer would travel as data. */
static bool fixed_vhd(const char *path)
{
	char footer[8];
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	off_t end = fd >= 0 ? lseek(fd, 0, SEEK_END) : -1;
	bool vhd = end >= 512 && pread(fd, footer, sizeof(footer), end - 512) == sizeof(footer) &&
		   memcmp(footer, "conectix", sizeof(footer)) == 0;
	if (fd >= 0)
		close(fd);
	return vhd;
}

int image_probe(const char *path, const char *format, struct image_info *info)
{
	if (!format && fixed_vhd(path))
		format = "vpc";
	memset(info, 0, sizeof(*info));
	char *argv[7] = {"qemu-img", "info", "--output=json"};
	int n = 3;
	if (format) {
		argv[n++] = "-f";
		argv[n++] = (char *)format;
	}
	argv[n] = (char *)path;
	char *out = NULL;
	int rc = run(argv, &out);
	json_t *j = rc == 0 ? json_loads(out, 0, NULL) : NULL;
	free(out);
	if (rc != 0 || !json_is_object(j)) {
		if (rc >= 0)
			error_msg("%s: qemu-img cannot read it as a disk image", path);
		json_decref(j);
		return -1;
	}
	const char *fmt = jstr(j, "format");
	const char *shown = NULL;
	for (size_t i = 0; i < ARRAY_SIZE(formats); i++)
		if (strcmp(fmt, formats[i].name) == 0)
			shown = formats[i].shown;
	if (!shown || jint(j, "virtual-size") <= 0) {
		error_msg("%s: %s%s, not a disk image keel vm import takes "
			  "(raw, qcow2, VMDK, VHD, VHDX, VDI, QED; or an OVA/OVF)",
			  path, shown ? "empty " : "qemu-img reads it as ", shown ? shown : fmt);
		json_decref(j);
		return -1;
	}
	str_copy(info->format, sizeof(info->format), fmt);
	json_t *data = json_object_get(json_object_get(j, "format-specific"), "data");
	if (strcmp(fmt, "vmdk") == 0) {
		str_copy(info->subformat, sizeof(info->subformat), jstr(data, "create-type"));
		info->foreign_extents = !own_extents(j);
	}
	info->virtual_size = (uint64_t)jint(j, "virtual-size");
	info->backing = json_object_get(j, "backing-filename") != NULL;
	json_decref(j);
	return 0;
}

int image_convert_raw(const char *path, const char *format, const char *raw, bool progress)
{
	char *argv[10] = {"qemu-img", "convert", "-f", (char *)format, "-O", "raw"};
	int n = 6;
	if (progress)
		argv[n++] = "-p";
	argv[n++] = (char *)path;
	argv[n] = (char *)raw;
	int rc = run(argv, NULL);
	if (rc != 0) {
		if (rc > 0)
			error_msg("%s: qemu-img could not convert it (exit status %d)", path, rc);
		unlink(raw);
		return -1;
	}
	return 0;
}
