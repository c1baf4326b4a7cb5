#include "common/vmspec.h"

#include "common/util.h"

#include <stdio.h>
#include <string.h>

static bool name_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	       c == '.' || c == '_' || c == '-';
}

bool vm_name_valid(const char *name)
{
	size_t n = strnlen(name, VM_NAME_MAX + 1);
	if (n == 0 || n > VM_NAME_MAX || name[0] == '.' || name[0] == '-')
		return false;
	for (size_t i = 0; i < n; i++)
		if (!name_char(name[i]))
			return false;
	return true;
}

int mac_parse(const char *text, uint8_t mac[6])
{
	if (!text || strnlen(text, MAC_TEXT_LEN) != MAC_TEXT_LEN - 1)
		return -1;
	uint8_t m[6], any = 0;
	for (int k = 0; k < 6; k++) {
		const char *p = text + 3 * k;
		int hi = hex_digit(p[0]), lo = hex_digit(p[1]);
		if (hi < 0 || lo < 0 || (k < 5 && p[2] != ':'))
			return -1;
		m[k] = (uint8_t)(hi << 4 | lo);
		any |= m[k];
	}
	if ((m[0] & 1) || !any) /* multicast, or all zeros */
		return -1;
	memcpy(mac, m, 6);
	return 0;
}

void mac_format(const uint8_t mac[6], char out[MAC_TEXT_LEN])
{
	snprintf(out, MAC_TEXT_LEN, "%02x:%02x:%02x:%02x:%02x:%02x", mac[0], mac[1], mac[2], mac[3],
		 mac[4], mac[5]);
}

void mac_default(const char *name, unsigned index, uint8_t mac[6])
{
	uint32_t h = 2166136261u;
	for (const char *p = name; *p; p++)
		h = (h ^ (uint8_t)*p) * 16777619u;
	h = (h ^ (uint8_t)index) * 16777619u;
	const uint8_t m[6] = {0x52, 0x54, 0x00, (uint8_t)(h >> 16), (uint8_t)(h >> 8), (uint8_t)h};
	memcpy(mac, m, 6);
}

void vm_tap_name(char out[VM_TAP_NAME_LEN], int64_t vm_id, unsigned nic)
{
	snprintf(out, VM_TAP_NAME_LEN, VM_TAP_PREFIX "%d.%u", (int)(vm_id % 100000000), nic);
}

bool vm_tap_parse(const char *ifname, int64_t *vm_id, unsigned *nic)
{
	long long id;
	unsigned n;
	char tail;
	if (sscanf(ifname, VM_TAP_PREFIX "%lld.%u%c", &id, &n, &tail) != 2 || id <= 0 ||
	    n >= VM_MAX_NICS)
		return false;
	*vm_id = id;
	*nic = n;
	return true;
}

static const char *const firmware_names[] = {
    [VM_FIRMWARE_NONE] = "none", [VM_FIRMWARE_BIOS] = "bios", [VM_FIRMWARE_UEFI] = "uefi"};

const char *vm_firmware_name(enum vm_firmware f)
{
	return firmware_names[f];
}

int vm_firmware_parse(const char *name)
{
	for (size_t i = 0; i < sizeof(firmware_names) / sizeof(*firmware_names); i++)
		if (strcmp(name, firmware_names[i]) == 0)
			return (int)i;
	return -1;
}
