/* Layer: domain. Includes: chronyc.h, error.h, mgmt.h and src/common's
 * chrony.h; never http.h or api.h.
 *
 * The host's clock: NTP with chronyd (started and stopped by keel-init as
 * host.conf's servers say; common/chrony.h), its state read with chronyc,
 * and a time set by hand while NTP is off (the system clock and the RTC). */
#ifndef KEEL_HOSTD_HOSTTIME_H
#define KEEL_HOSTD_HOSTTIME_H

#include <jansson.h>
#include <stddef.h>

/* {time (UTC, ISO 8601), ntp, servers, synchronized, tracking (chronyc's,
 * or null), sources} */
json_t *hosttime_describe(void);
/* `body`: {ntp_servers?: [up to 4 names], time?: "YYYY-MM-DDTHH:MM:SSZ"}.
 * The servers are saved and applied first; a time only while NTP is (then)
 * off. 0, or -EINVAL (a bad body), -EBUSY (a time while NTP is on), -EIO
 * or another negative errno, with a message. Nothing changes on an error
 * found before the servers are saved. */
int hosttime_change(const json_t *body, char *err, size_t errlen);

#endif
