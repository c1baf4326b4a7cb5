/* Layer: shared (transport and domain). Includes: nothing of hostd.
 *
 * The one rule of what a client's source is, for every limit that counts
 * clients (connections per source in http.c, failed logins per source in
 * session.c and per (user, source) in throttle.c): an IPv4 address, also
 * when it comes IPv4-mapped on the dual-stack socket (::ffff:192.0.2.7);
 * an IPv6 address by its /64, as one host may hold a whole /64. */
#ifndef KEEL_HOSTD_SOURCE_H
#define KEEL_HOSTD_SOURCE_H

#include <stddef.h>
#include <sys/socket.h>

#define SOURCE_KEY_SIZE 16
#define SOURCE_NAME_MAX 64 /* room for any source_name */

/* The source of the socket address `sa` (`len` bytes) in SOURCE_KEY_SIZE
 * bytes (equal keys, one source): 0, or -EAFNOSUPPORT for another family
 * or a short address. */
int source_key(const struct sockaddr *sa, socklen_t len, unsigned char key[SOURCE_KEY_SIZE]);

/* The source of `addr`, an IPv4 or IPv6 address as text, as text:
 * "192.0.2.7" (also for "::ffff:192.0.2.7"), "2001:db8:1:2::/64" (for any
 * address in that /64). 0, or -EINVAL for text that is no address (such
 * as "unknown"), which then is a source of its own: `out` is `addr`. */
int source_name(const char *addr, char *out, size_t outlen);

#endif
