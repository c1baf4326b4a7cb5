/* The kernel's socket tables, /proc/net/{tcp,tcp6,udp,udp6}, decoded for
 * `connections`. A line is
 *   "  sl: LOCAL:PORT REMOTE:PORT ST TX:RX TR:WHEN RETR UID TIMEOUT INODE ..."
 * where an IPv4 address is 8 hex digits and an IPv6 one 32 (both the
 * kernel's words in host byte order), the ports 4 hex digits and the state
 * 2. The text is hostile (a kernel of another shape, a truncated read):
 * every field is checked, and a line that does not parse is refused. */
#ifndef KEEL_SHELL_NETPROC_H
#define KEEL_SHELL_NETPROC_H

#include <netinet/in.h>
#include <stdbool.h>
#include <stdint.h>

struct netproc_sock {
	int family; /* AF_INET or AF_INET6 */
	unsigned char local[16], remote[16];
	uint16_t lport, rport;
	unsigned state;
	unsigned long uid, inode;
};

/* Parses one line of the table (not the header). 0, or -1. */
int netproc_parse(const char *line, bool ipv6, struct netproc_sock *s);
/* The TCP state's name ("ESTABLISHED", "LISTEN", ...), or "?" */
const char *netproc_tcp_state(unsigned state);
/* "ADDR:PORT" or "[ADDR6]:PORT" into out (at least 64 bytes) */
void netproc_format(const struct netproc_sock *s, bool local, char *out, size_t n);

#endif
