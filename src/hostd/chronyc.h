/* Layer: domain support. Includes: nothing of hostd; never http.h or api.h.
 *
 * chronyc's CSV output (`chronyc -c tracking`, `chronyc -c sources`, chrony
 * 4.x) as the API shows it. Pure: text in, JSON out. */
#ifndef KEEL_HOSTD_CHRONYC_H
#define KEEL_HOSTD_CHRONYC_H

#include <jansson.h>

/* The tracking line: {reference_id, reference, stratum, offset_s (NTP time
 * minus the system clock: negative when the clock is fast), last_offset_s,
 * rms_offset_s, frequency_ppm, root_delay_s, root_dispersion_s,
 * update_interval_s, leap, synchronized}, or NULL if `csv` is not one. */
json_t *chronyc_tracking(const char *csv);
/* The source lines: [{mode ("server", "peer", "refclock"), state
 * ("selected", "combined", "not_combined", "unreachable", "falseticker",
 * "too_variable"), name, stratum, poll_log2_s, reach (the 8-bit register),
 * last_rx_s, offset_s, error_s}], or NULL if a line is not one. */
json_t *chronyc_sources(const char *csv);

#endif
