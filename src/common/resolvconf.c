#include "common/resolvconf.h"

#include "common/util.h"

#include <arpa/inet.h>
#include <stdio.h>

int resolvconf_write(const char *path, const struct in_addr *dns, int n)
{
	char text[512];
	size_t used = 0;
	for (int i = 0; i < n; i++) {
		char a[INET_ADDRSTRLEN];
		inet_ntop(AF_INET, &dns[i], a, sizeof(a));
		int len = snprintf(text + used, sizeof(text) - used, "nameserver %s\n", a);
		if (len < 0 || (size_t)len >= sizeof(text) - used)
			break; /* whole lines only */
		used += (size_t)len;
	}
	return write_file_atomic(path, text, used, 0644);
}
