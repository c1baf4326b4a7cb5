#include "shell/netproc.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#include "common/util.h"

/* n hex digits at *p into *v (n <= 8), then past them */
static int hex_field(const char **p, int n, uint32_t *v)
{
	uint32_t x = 0;
	for (int i = 0; i < n; i++) {
		int d = hex_digit((*p)[i]);
		if (d < 0)
			return -1;
		x = (x << 4) | (uint32_t)d;
	}
	*v = x;
	*p += n;
	return 0;
}

/* ADDR:PORT; the address's 32-bit words are in host order */
static int addr_field(const char **p, bool ipv6, unsigned char addr[16], uint16_t *port)
{
	int words = ipv6 ? 4 : 1;
	memset(addr, 0, 16);
	for (int i = 0; i < words; i++) {
		uint32_t w;
		if (hex_field(p, 8, &w) < 0)
			return -1;
		memcpy(addr + 4 * i, &w, 4); /* host order, as the kernel printed it */
	}
	uint32_t v;
	if (**p != ':')
		return -1;
	(*p)++;
	if (hex_field(p, 4, &v) < 0)
		return -1;
	*port = (uint16_t)v;
	return 0;
}

static void skip_blanks(const char **p)
{
	while (**p == ' ')
		(*p)++;
}

/* a decimal number up to the next blank */
static int dec_field(const char **p, unsigned long *v)
{
	unsigned long x = 0;
	const char *s = *p;
	if (*s < '0' || *s > '9')
		return -1;
	for (; *s >= '0' && *s <= '9'; s++) {
		if (x > (~0ul - 9) / 10)
			return -1;
		x = x * 10 + (unsigned long)(*s - '0');
	}
	*v = x;
	*p = s;
	return 0;
}

/* skips one blank-separated field */
static int skip_field(const char **p)
{
	const char *s = *p;
	while (*s && *s != ' ')
		s++;
	if (s == *p)
		return -1;
	*p = s;
	return 0;
}

int netproc_parse(const char *line, bool ipv6, struct netproc_sock *s)
{
	const char *p = line;
	uint32_t st;
	memset(s, 0, sizeof(*s));
	s->family = ipv6 ? AF_INET6 : AF_INET;
	skip_blanks(&p);
	const char *colon = strchr(p, ':');
	if (!colon || colon == p)
		return -1;
	for (const char *q = p; q < colon; q++)
		if (*q < '0' || *q > '9')
			return -1;
	p = colon + 1;
	skip_blanks(&p);
	if (addr_field(&p, ipv6, s->local, &s->lport) < 0 || *p != ' ')
		return -1;
	skip_blanks(&p);
	if (addr_field(&p, ipv6, s->remote, &s->rport) < 0 || *p != ' ')
		return -1;
	skip_blanks(&p);
	if (hex_field(&p, 2, &st) < 0 || *p != ' ')
		return -1;
	s->state = st;
	/* tx_queue:rx_queue tr:tm->when retrnsmt */
	for (int i = 0; i < 3; i++) {
		skip_blanks(&p);
		if (skip_field(&p) < 0)
			return -1;
	}
	skip_blanks(&p);
	if (dec_field(&p, &s->uid) < 0)
		return -1;
	skip_blanks(&p);
	if (skip_field(&p) < 0) /* timeout */
		return -1;
	skip_blanks(&p);
	if (dec_field(&p, &s->inode) < 0)
		return -1;
	return 0;
}

const char *netproc_tcp_state(unsigned state)
{
	static const char *const names[] = {
	    "?",     "ESTABLISHED", "SYN_SENT", "SYN_RECV", "FIN_WAIT1", "FIN_WAIT2",	"TIME_WAIT",
	    "CLOSE", "CLOSE_WAIT",  "LAST_ACK", "LISTEN",   "CLOSING",	 "NEW_SYN_RECV"};
	return state < ARRAY_SIZE(names) ? names[state] : "?";
}

void netproc_format(const struct netproc_sock *s, bool local, char *out, size_t n)
{
	char a[INET6_ADDRSTRLEN];
	const unsigned char *addr = local ? s->local : s->remote;
	unsigned port = local ? s->lport : s->rport;
	if (!inet_ntop(s->family, addr, a, sizeof(a)))
		snprintf(a, sizeof(a), "?");
	if (s->family == AF_INET6)
		snprintf(out, n, "[%s]:%u", a, port);
	else
		snprintf(out, n, "%s:%u", a, port);
}
