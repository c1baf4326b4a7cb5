#include "common/runstate.h"

#include "common/util.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int mgmt_mode_write(const char *path, enum net_mode mode, const char *ifname)
{
	char line[64];
	int n =
	    snprintf(line, sizeof(line), "%s %s\n", mode == NET_STATIC ? "static" : "dhcp", ifname);
	if (n < 0 || (size_t)n >= sizeof(line) || strlen(ifname) >= 16) {
		errno = EINVAL;
		return -1;
	}
	return write_file_atomic(path, line, (size_t)n, 0644);
}

int mgmt_mode_read(const char *path, enum net_mode *mode, char ifname[16])
{
	char *text = read_file(path, 64, NULL);
	if (!text)
		return -1;
	char *word = str_trim(text), *name = word + strcspn(word, " \t");
	if (*name)
		*name++ = '\0';
	name = str_trim(name);
	int rc = 0;
	*mode = NET_DHCP;
	if (strcmp(word, "static") == 0)
		*mode = NET_STATIC;
	else if (strcmp(word, "dhcp") != 0)
		rc = 1;
	ifname[0] = '\0';
	if (!*name || strpbrk(name, "/ \t") || str_copy(ifname, 16, name) < 0) {
		ifname[0] = '\0';
		*mode = NET_DHCP;
		rc = 1;
	}
	free(text);
	return rc;
}

int dhcpc_state_format(const struct dhcpc_state *st, char *buf, size_t n)
{
	int len;
	if (st->phase == DHCPC_BOUND) {
		char a[INET_ADDRSTRLEN], g[INET_ADDRSTRLEN] = "-";
		inet_ntop(AF_INET, &st->addr, a, sizeof(a));
		if (st->gateway.s_addr)
			inet_ntop(AF_INET, &st->gateway, g, sizeof(g));
		len = snprintf(buf, n, "bound %s/%u gw %s lease %u\n", a, st->prefix, g,
			       (unsigned)st->lease_s);
	} else {
		len = snprintf(buf, n, "%s\n", st->phase == DHCPC_IDLE ? "idle" : "discovering");
	}
	return len < 0 || (size_t)len >= n ? -1 : len;
}

int dhcpc_state_parse(const char *text, struct dhcpc_state *st)
{
	char a[INET_ADDRSTRLEN + 1], g[INET_ADDRSTRLEN + 1];
	unsigned prefix, lease;
	int end = -1;
	memset(st, 0, sizeof(*st));
	if (strcmp(text, "idle\n") == 0 || strcmp(text, "discovering\n") == 0) {
		st->phase = text[0] == 'i' ? DHCPC_IDLE : DHCPC_DISCOVERING;
		return 0;
	}
	if (sscanf(text, "bound %16[0-9.]/%u gw %16[0-9.-] lease %u%n", a, &prefix, g, &lease,
		   &end) != 4 ||
	    end < 0 || strcmp(text + end, "\n") != 0 || prefix > 32 ||
	    inet_pton(AF_INET, a, &st->addr) != 1 ||
	    (strcmp(g, "-") != 0 && inet_pton(AF_INET, g, &st->gateway) != 1))
		return -1;
	st->phase = DHCPC_BOUND;
	st->prefix = prefix;
	st->lease_s = lease;
	return 0;
}

int dhcpc_state_write(const char *path, const struct dhcpc_state *st)
{
	char line[128];
	int n = dhcpc_state_format(st, line, sizeof(line));
	if (n < 0) {
		errno = EOVERFLOW;
		return -1;
	}
	return write_file_atomic(path, line, (size_t)n, 0644);
}

int dhcpc_state_read(const char *path, struct dhcpc_state *st)
{
	char *text = read_file(path, 128, NULL);
	if (!text)
		return -1;
	int rc = dhcpc_state_parse(text, st);
	free(text);
	if (rc < 0)
		errno = EINVAL;
	return rc;
}
