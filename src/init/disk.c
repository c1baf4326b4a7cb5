#include "init/disk.h"

#include "common/util.h"

#include <dirent.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static int uevent_get(const char *text, const char *key, char *out, size_t n)
{
	size_t kl = strlen(key);
	const char *p = text;
	while (p && *p) {
		if (strncmp(p, key, kl) == 0 && p[kl] == '=') {
			const char *v = p + kl + 1;
			size_t len = strcspn(v, "\n");
			if (len == 0 || len >= n)
				return -1;
			memcpy(out, v, len);
			out[len] = '\0';
			return 0;
		}
		p = strchr(p, '\n');
		if (p)
			p++;
	}
	return -1;
}

int uevent_parse(const char *text, char *devname, size_t dn, char *partname, size_t pn)
{
	if (uevent_get(text, "DEVNAME", devname, dn) < 0)
		return -1;
	if (strchr(devname, '/') || strstr(devname, ".."))
		return -1;
	return uevent_get(text, "PARTNAME", partname, pn);
}

int label_matches(const char *partname, const char *label)
{
	return strcmp(partname, label) == 0;
}

static uint32_t le32(const unsigned char *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static uint16_t le16(const unsigned char *p)
{
	return (uint16_t)(p[0] | p[1] << 8);
}

enum ext4_state ext4_sb_state(const unsigned char *sb, size_t len)
{
	if (len < 1024 || le16(sb + 0x38) != 0xEF53)
		return EXT4_NOT_EXT4;
	uint16_t state = le16(sb + 0x3A);
	uint32_t incompat = le32(sb + 0x60);
	const uint16_t valid = 0x1, errors = 0x2;
	const uint32_t recover = 0x4;
	if (!(state & valid) || (state & errors) || (incompat & recover))
		return EXT4_DIRTY;
	return EXT4_CLEAN;
}

enum ext4_state ext4_dev_state(const char *dev)
{
	unsigned char sb[1024];
	int fd = open(dev, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return EXT4_NOT_EXT4;
	ssize_t n = pread(fd, sb, sizeof(sb), 1024);
	close(fd);
	return ext4_sb_state(sb, n > 0 ? (size_t)n : 0);
}

int disk_find(const char *sysblock, const char *label, char *dev, size_t n)
{
	DIR *d = opendir(sysblock);
	if (!d)
		return 0;
	int found = 0;
	struct dirent *e;
	/* readdir order is not stable; pick the lowest device name */
	char best[64] = "";
	while ((e = readdir(d))) {
		if (e->d_name[0] == '.')
			continue;
		char path[512];
		snprintf(path, sizeof(path), "%s/%s/uevent", sysblock, e->d_name);
		char *text = read_file(path, 4096, NULL);
		if (!text)
			continue;
		char devname[64], part[72];
		if (uevent_parse(text, devname, sizeof(devname), part, sizeof(part)) == 0 &&
		    label_matches(part, label)) {
			if (!found || strcmp(devname, best) < 0)
				str_copy(best, sizeof(best), devname);
			found++;
		}
		free(text);
	}
	closedir(d);
	if (found)
		snprintf(dev, n, "/dev/%s", best);
	return found;
}
