#include "hostd/source.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

int source_key(const struct sockaddr *sa, socklen_t len, unsigned char key[SOURCE_KEY_SIZE])
{
	memset(key, 0, SOURCE_KEY_SIZE);
	if (sa->sa_family == AF_INET && len >= sizeof(struct sockaddr_in)) {
		key[0] = 4;
		memcpy(key + 1, &((const struct sockaddr_in *)sa)->sin_addr, 4);
		return 0;
	}
	if (sa->sa_family != AF_INET6 || len < sizeof(struct sockaddr_in6))
		return -EAFNOSUPPORT;
	const struct in6_addr *a = &((const struct sockaddr_in6 *)sa)->sin6_addr;
	if (IN6_IS_ADDR_V4MAPPED(a)) {
		key[0] = 4;
		memcpy(key + 1, a->s6_addr + 12, 4);
	} else {
		key[0] = 6;
		memcpy(key + 1, a->s6_addr, 8);
	}
	return 0;
}

int source_name(const char *addr, char *out, size_t outlen)
{
	struct sockaddr_in s4 = {.sin_family = AF_INET};
	struct sockaddr_in6 s6 = {.sin6_family = AF_INET6};
	unsigned char key[SOURCE_KEY_SIZE];
	char text[INET6_ADDRSTRLEN];
	int rc = -EINVAL;
	if (inet_pton(AF_INET, addr, &s4.sin_addr) == 1)
		rc = source_key((struct sockaddr *)&s4, sizeof(s4), key);
	else if (inet_pton(AF_INET6, addr, &s6.sin6_addr) == 1)
		rc = source_key((struct sockaddr *)&s6, sizeof(s6), key);
	if (rc < 0) {
		snprintf(out, outlen, "%s", addr);
		return -EINVAL;
	}
	if (key[0] == 4) {
		inet_ntop(AF_INET, key + 1, text, sizeof(text));
		snprintf(out, outlen, "%s", text);
	} else {
		memset(&s6.sin6_addr, 0, sizeof(s6.sin6_addr));
		memcpy(&s6.sin6_addr, key + 1, 8);
		inet_ntop(AF_INET6, &s6.sin6_addr, text, sizeof(text));
		snprintf(out, outlen, "%s/64", text);
	}
	return 0;
}
