#include "common/bootenv.h"

#include "common/util.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/statvfs.h>
#include <unistd.h>

#define HEADER "# GRUB Environment Block\n"

static const char *const reasons[] = {"installed", "updated", "fellback", "rollback"};

static int valid_reason(const char *s)
{
	for (size_t i = 0; i < sizeof(reasons) / sizeof(reasons[0]); i++)
		if (strcmp(s, reasons[i]) == 0)
			return 1;
	return 0;
}

int bootenv_parse(const char *buf, size_t n, struct bootenv *env)
{
	*env = (struct bootenv){.bank = 'a', .tries = -1};
	if (n != BOOTENV_SIZE || memcmp(buf, HEADER, strlen(HEADER)) != 0)
		return -1;
	const char *p = buf, *end = buf + n;
	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		if (!nl)
			break;
		size_t len = (size_t)(nl - p);
		const char *eq = memchr(p, '=', len);
		if (*p != '#' && eq) {
			size_t klen = (size_t)(eq - p), vlen = len - klen - 1;
			char value[32];
			if (vlen < sizeof(value)) {
				memcpy(value, eq + 1, vlen);
				value[vlen] = '\0';
				if (klen == 9 && memcmp(p, "keel_bank", 9) == 0 && vlen == 1 &&
				    (value[0] == 'a' || value[0] == 'b'))
					env->bank = value[0];
				else if (klen == 10 && memcmp(p, "keel_tries", 10) == 0 &&
					 vlen == 1 && value[0] >= '0' &&
					 value[0] <= '0' + BOOT_TRIES)
					env->tries = value[0] - '0';
				else if (klen == 11 && memcmp(p, "keel_reason", 11) == 0 &&
					 valid_reason(value))
					memcpy(env->reason, value, vlen + 1);
			}
		}
		p = nl + 1;
	}
	return 0;
}

int bootenv_format(const struct bootenv *env, char buf[BOOTENV_SIZE])
{
	if ((env->bank != 'a' && env->bank != 'b') || env->tries < -1 || env->tries > BOOT_TRIES ||
	    (env->reason[0] && !valid_reason(env->reason)))
		return -1;
	char tries[2] = "";
	if (env->tries >= 0)
		tries[0] = (char)('0' + env->tries);
	memset(buf, '#', BOOTENV_SIZE);
	int k = snprintf(buf, BOOTENV_SIZE,
			 HEADER "# Keel's boot banks: see src/common/bootenv.h\n"
				"keel_bank=%c\nkeel_tries=%s\nkeel_reason=%s\n",
			 env->bank, tries, env->reason);
	if (k < 0 || k >= BOOTENV_SIZE)
		return -1;
	buf[k] = '#'; /* snprintf's terminator: padding, as GRUB's */
	return 0;
}

int bootenv_read(const char *esp, struct bootenv *env)
{
	char path[256], buf[BOOTENV_SIZE + 1];
	snprintf(path, sizeof(path), "%s/keel/grubenv", esp);
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	ssize_t n = read(fd, buf, sizeof(buf));
	int e = errno;
	close(fd);
	if (n < 0) {
		errno = e;
		return -1;
	}
	if (bootenv_parse(buf, (size_t)n, env) < 0) {
		errno = EINVAL;
		return -1;
	}
	return 0;
}

int bootenv_remount(const char *dir, int rw)
{
	struct statvfs st;
	if (statvfs(dir, &st) < 0 || ((st.f_flag & ST_RDONLY) == 0) == (rw != 0))
		return 0;
	unsigned long flags = MS_REMOUNT | MS_NOSUID | MS_NODEV | MS_NOEXEC | (rw ? 0 : MS_RDONLY);
	return mount(NULL, dir, NULL, flags, NULL) == 0;
}

int bootenv_write(const char *esp, const struct bootenv *env)
{
	char path[256], buf[BOOTENV_SIZE];
	if (bootenv_format(env, buf) < 0) {
		errno = EINVAL;
		return -1;
	}
	snprintf(path, sizeof(path), "%s/keel/grubenv", esp);
	int made_rw = bootenv_remount(esp, 1);
	int rc = -1, fd = open(path, O_WRONLY | O_CLOEXEC); /* in place: no O_TRUNC */
	if (fd >= 0) {
		rc = pwrite(fd, buf, BOOTENV_SIZE, 0) == BOOTENV_SIZE && fsync(fd) == 0 ? 0 : -1;
		int e = errno;
		close(fd);
		errno = e;
	}
	int e = errno;
	if (made_rw)
		bootenv_remount(esp, 0);
	errno = e;
	return rc;
}

char bootenv_other(char bank)
{
	return bank == 'a' ? 'b' : 'a';
}

char bootenv_booted(const char *cmdline)
{
	char bank = 0;
	for (const char *w = cmdline; w && *w;) {
		size_t len = strcspn(w, " \t\n");
		if (len == 11 && strncmp(w, "keel.bank=", 10) == 0 &&
		    (w[10] == 'a' || w[10] == 'b'))
			bank = w[10];
		w += len;
		w += strspn(w, " \t\n");
	}
	return bank;
}

int bootenv_ready_timeout(const char *cmdline, int *seconds, const char **value)
{
	static const char key[] = "keel.boot_timeout=";
	const size_t klen = sizeof(key) - 1;
	const char *given = NULL;
	size_t given_len = 0;
	for (const char *w = cmdline; w && *w;) {
		size_t len = strcspn(w, " \t\n");
		if (len >= klen && strncmp(w, key, klen) == 0) {
			given = w + klen;
			given_len = len - klen;
		}
		w += len;
		w += strspn(w, " \t\n");
	}
	*seconds = BOOT_READY_TIMEOUT_S;
	if (!given)
		return 0;
	/* at most 4 digits: 3600 fits, and nothing overflows */
	int n = 0;
	int plain = given_len >= 1 && given_len <= 4 && given[0] != '0';
	for (size_t i = 0; plain && i < given_len; i++) {
		plain = given[i] >= '0' && given[i] <= '9';
		n = n * 10 + (given[i] - '0');
	}
	if (!plain || n < BOOT_READY_TIMEOUT_MIN_S || n > BOOT_READY_TIMEOUT_MAX_S) {
		if (value)
			*value = given;
		return -1;
	}
	*seconds = n;
	return 1;
}

void bootenv_bank_image(const char *dir, struct bootbank_image *img)
{
	char path[256];
	memset(img, 0, sizeof(*img));
	snprintf(path, sizeof(path), "%s/manifest.txt", dir);
	char *text = read_file(path, 65536, NULL), *save = NULL;
	for (char *l = text ? strtok_r(text, "\n", &save) : NULL; l;
	     l = strtok_r(NULL, "\n", &save))
		if (strncmp(l, "keel-version: ", 14) == 0)
			str_copy(img->version, sizeof(img->version), l + 14);
		else if (strncmp(l, "keel-commit: ", 13) == 0)
			str_copy(img->commit, sizeof(img->commit), l + 13);
		else if (strncmp(l, "kernel-release: ", 16) == 0)
			str_copy(img->kernel, sizeof(img->kernel), l + 16);
	free(text);
}
