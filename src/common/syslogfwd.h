/* Remote syslog forwarding: the settings keel-hostd writes to host.conf
 * and keel-syslogd reads (common/hostconf.h: syslog.targets,
 * syslog.format, syslog.fingerprint; the CA bundle in SYSLOG_CA_FILE).
 *
 * A target is a URL of exactly this grammar (case-sensitive, nothing else):
 *     target = scheme "://" host [ ":" port ]
 *     scheme = "udp" | "tcp" | "tls"    (default ports 514, 1514, 6514)
 *     host   = IPv4 dotted quad | "[" IPv6 "]" | host name
 *              (valid_hostname, whose last label is not all digits)
 *     port   = 1 to 5 digits, no leading zero, 1..65535
 * at most SYSLOG_URL_MAX - 1 bytes. Up to SYSLOG_TARGETS_MAX targets.
 *
 * A TLS target's certificate is checked against the CA bundle
 * SYSLOG_CA_FILE (and its name or address against the target's host) or,
 * when syslog.fingerprint is set, only against that SHA-256 fingerprint of
 * the server's certificate (64 hex digits, pairs optionally separated by
 * ':'; kept as 64 lower-case digits). */
#ifndef KEEL_SYSLOGFWD_H
#define KEEL_SYSLOGFWD_H

#include <stddef.h>

#define SYSLOG_TARGETS_MAX 3
#define SYSLOG_URL_MAX	   96 /* with its terminating NUL */
#define SYSLOG_HOST_MAX	   64 /* a host name (63) or an address, unbracketed */
#define SYSLOG_FP_LEN	   64 /* hex digits of a SHA-256 fingerprint */
#define SYSLOG_CA_FILE	   "/config/syslog-ca.pem"
#define SYSLOG_CA_MAX	   (64 * 1024) /* bytes of PEM */
/* keel-hostd's audit records, for forwarding only (keel-syslogd does not
 * write them to its files: they are in audit.log already); datagrams in
 * syslog(3)'s format, root only */
#define SYSLOG_AUDIT_SOCKET "/run/keel/syslog-audit.sock"

/* keel-syslogd's view of its targets, for keel-hostd to show: a line per
 * target, "URL STATE QUEUED LOST[ WHY]\n", STATE one of syslog_state_name,
 * QUEUED the messages in its queue, LOST those dropped since keel-syslogd
 * started, WHY the last failure (free text, to the end of the line).
 * Written whole (renamed into place) when a state changes, and at most
 * every second while the counts do. */
#define SYSLOG_STATE_FILE "/run/keel/syslog-forward.state"
#define SYSLOG_WHY_MAX	  160

enum syslog_state { SYSLOG_DOWN, SYSLOG_CONNECTING, SYSLOG_CONNECTED };

struct syslog_status {
	char url[SYSLOG_URL_MAX];
	enum syslog_state state;
	unsigned long queued, lost;
	char why[SYSLOG_WHY_MAX]; /* "" if none */
};

/* "down", "connecting", "connected" */
const char *syslog_state_name(enum syslog_state s);
/* One line of SYSLOG_STATE_FILE (without its newline) into *st: 0, or -1. */
int syslog_status_parse(const char *line, struct syslog_status *st);

enum syslog_proto { SYSLOG_UDP, SYSLOG_TCP, SYSLOG_TLS };
enum syslog_format { SYSLOG_RFC5424, SYSLOG_RFC3164 };

struct syslog_target {
	enum syslog_proto proto;
	char host[SYSLOG_HOST_MAX]; /* IPv6 without its brackets */
	unsigned port;
};

/* Parses a target URL. 0, or -1 (and *t unspecified) if it is not one. */
int syslog_url_parse(const char *url, struct syslog_target *t);
/* "udp", "tcp", "tls" */
const char *syslog_proto_name(enum syslog_proto p);
/* "rfc5424" or "rfc3164" into *f: 0, or -1 */
int syslog_format_parse(const char *s, enum syslog_format *f);
const char *syslog_format_name(enum syslog_format f);
/* A SHA-256 fingerprint as the operator writes it (64 hex digits, or 32
 * pairs joined by ':', either case) into out (SYSLOG_FP_LEN + 1 bytes) as
 * 64 lower-case digits. 0, or -1. */
int syslog_fingerprint_parse(const char *s, char *out);

#endif
