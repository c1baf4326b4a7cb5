/* Layer: domain. Includes: error.h, mgmt.h and src/common's syslogfwd.h;
 * never http.h or api.h.
 *
 * Remote syslog forwarding's settings (common/syslogfwd.h): kept in
 * host.conf by mgmt.c, the CA bundle in SYSLOG_CA_FILE, applied by
 * keel-syslogd on the SIGHUP keel-init passes on. */
#ifndef KEEL_HOSTD_HOSTSYSLOG_H
#define KEEL_HOSTD_HOSTSYSLOG_H

#include <jansson.h>
#include <stddef.h>

/* {targets: [URL...], format: "rfc5424"|"rfc3164", fingerprint: HEX or
 * null, ca: PEM or null} */
json_t *hostsyslog_describe(void);
/* `body`: any of {targets: [up to 3 URLs], format, fingerprint: HEX or
 * null, ca: PEM or null}; what is left out stays. The result must be
 * whole: a tls:// target needs a CA bundle or a fingerprint, not both.
 * 0, or -EINVAL (nothing changed) or -EIO, with a message. */
int hostsyslog_change(const json_t *body, char *err, size_t errlen);

#endif
