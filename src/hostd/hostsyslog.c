#include "hostd/hostsyslog.h"

#include "common/hostconf.h"
#include "common/log.h"
#include "common/syslogfwd.h"
#include "common/util.h"
#include "hostd/error.h"
#include "hostd/mgmt.h"

#include <errno.h>
#include <gnutls/x509.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* keel-syslogd's state of `url` (SYSLOG_STATE_FILE, `state` its text) */
static json_t *status_of(const char *url, const char *state)
{
	char line[SYSLOG_URL_MAX + SYSLOG_WHY_MAX + 64];
	for (const char *p = state, *nl; p && *p; p = nl ? nl + 1 : NULL) {
		nl = strchr(p, '\n');
		size_t n = nl ? (size_t)(nl - p) : strlen(p);
		if (n >= sizeof(line))
			continue;
		memcpy(line, p, n);
		line[n] = '\0';
		struct syslog_status st;
		if (syslog_status_parse(line, &st) < 0 || strcmp(st.url, url) != 0)
			continue;
		json_t *why = st.why[0] ? json_string(st.why) : NULL;
		return json_pack("{s:s,s:s,s:I,s:I,s:o}", "target", url, "state",
				 syslog_state_name(st.state), "queued", (json_int_t)st.queued,
				 "lost", (json_int_t)st.lost, "error", why ? why : json_null());
	}
	/* not (yet) taken by keel-syslogd */
	return json_pack("{s:s,s:s,s:n,s:n,s:n}", "target", url, "state", "unknown", "queued",
			 "lost", "error");
}

json_t *hostsyslog_describe(void)
{
	struct hostconf hc;
	mgmt_saved(&hc);
	json_t *list = json_array(), *status = json_array();
	char *state = read_file(SYSLOG_STATE_FILE, 4096, NULL);
	for (int i = 0; i < SYSLOG_TARGETS_MAX && hc.syslog_targets[i][0]; i++) {
		json_array_append_new(list, json_string(hc.syslog_targets[i]));
		json_array_append_new(status, status_of(hc.syslog_targets[i], state));
	}
	free(state);
	char *ca = read_file(SYSLOG_CA_FILE, SYSLOG_CA_MAX, NULL);
	json_t *out =
	    json_pack("{s:o,s:o,s:s,s:o,s:o}", "targets", list, "status", status, "format",
		      syslog_format_name(hc.syslog_format), "fingerprint",
		      hc.syslog_fingerprint[0] ? json_string(hc.syslog_fingerprint) : json_null(),
		      "ca", ca ? json_string(ca) : json_null());
	free(ca);
	return out;
}

/* one or more PEM certificates, and nothing that is not */
static int valid_ca(const char *pem, char *err, size_t errlen)
{
	size_t len = strlen(pem);
	if (len == 0 || len > SYSLOG_CA_MAX)
		return error_set(err, errlen, -EINVAL, "ca: PEM certificates, at most %d bytes",
				 SYSLOG_CA_MAX);
	gnutls_x509_crt_t *certs = NULL;
	unsigned n = 0;
	gnutls_datum_t d = {.data = (unsigned char *)pem, .size = (unsigned)len};
	int rc = gnutls_x509_crt_list_import2(&certs, &n, &d, GNUTLS_X509_FMT_PEM, 0);
	for (unsigned i = 0; rc >= 0 && i < n; i++)
		gnutls_x509_crt_deinit(certs[i]);
	gnutls_free(certs);
	if (rc < 0 || n == 0)
		return error_set(err, errlen, -EINVAL, "ca: not PEM certificates (%s)",
				 rc < 0 ? gnutls_strerror(rc) : "none");
	return 0;
}

static int parse_targets(const json_t *v, struct hostconf *hc, char *err, size_t errlen)
{
	if (!json_is_array(v) || json_array_size(v) > SYSLOG_TARGETS_MAX)
		return error_set(err, errlen, -EINVAL, "targets: a list of at most %d URLs",
				 SYSLOG_TARGETS_MAX);
	memset(hc->syslog_targets, 0, sizeof(hc->syslog_targets));
	size_t i;
	json_t *s;
	json_array_foreach(v, i, s)
	{
		const char *url = json_string_value(s);
		struct syslog_target t;
		if (!url || syslog_url_parse(url, &t) < 0)
			return error_set(err, errlen, -EINVAL,
					 "targets: each udp://HOST[:PORT], tcp://HOST[:PORT] or "
					 "tls://HOST[:PORT] (HOST a name, an IPv4 address or "
					 "[IPv6]; PORT 1-65535)");
		for (size_t j = 0; j < i; j++)
			if (strcmp(hc->syslog_targets[j], url) == 0)
				return error_set(err, errlen, -EINVAL, "targets: %s twice", url);
		memcpy(hc->syslog_targets[i], url, strlen(url) + 1);
	}
	return 0;
}

int hostsyslog_change(const json_t *body, char *err, size_t errlen)
{
	struct hostconf hc;
	mgmt_saved(&hc);
	const json_t *targets = json_object_get(body, "targets");
	const json_t *format = json_object_get(body, "format");
	const json_t *fp = json_object_get(body, "fingerprint");
	const json_t *ca = json_object_get(body, "ca");
	if (!targets && !format && !fp && !ca)
		return error_set(err, errlen, -EINVAL, "want targets, format, fingerprint or ca");
	if (targets && parse_targets(targets, &hc, err, errlen) < 0)
		return -EINVAL;
	if (format && (!json_is_string(format) ||
		       syslog_format_parse(json_string_value(format), &hc.syslog_format) < 0))
		return error_set(err, errlen, -EINVAL, "format: \"rfc5424\" or \"rfc3164\"");
	if (fp && json_is_null(fp))
		hc.syslog_fingerprint[0] = '\0';
	else if (fp && (!json_is_string(fp) ||
			syslog_fingerprint_parse(json_string_value(fp), hc.syslog_fingerprint) < 0))
		return error_set(err, errlen, -EINVAL,
				 "fingerprint: the SHA-256 of the server's certificate, 64 hex "
				 "digits (pairs may be joined by ':'), or null");
	if (ca && !json_is_null(ca) &&
	    (!json_is_string(ca) || valid_ca(json_string_value(ca), err, errlen) < 0))
		return json_is_string(ca)
			   ? -EINVAL
			   : error_set(err, errlen, -EINVAL, "ca: PEM text, or null");
	int have_ca = ca ? !json_is_null(ca) : access(SYSLOG_CA_FILE, F_OK) == 0;
	if (have_ca && hc.syslog_fingerprint[0])
		return error_set(err, errlen, -EINVAL,
				 "either a CA bundle or a fingerprint, not both (set the other "
				 "to null)");
	for (int i = 0; i < SYSLOG_TARGETS_MAX && hc.syslog_targets[i][0]; i++)
		if (strncmp(hc.syslog_targets[i], "tls://", 6) == 0 && !have_ca &&
		    !hc.syslog_fingerprint[0])
			return error_set(err, errlen, -EINVAL,
					 "%s: a TLS target needs a CA bundle (ca) or the "
					 "server's fingerprint",
					 hc.syslog_targets[i]);

	/* the CA bundle first, put back if host.conf cannot be written */
	size_t old_len = 0;
	char *old = read_file(SYSLOG_CA_FILE, SYSLOG_CA_MAX, &old_len);
	int rc = 0;
	if (ca && json_is_string(ca)) {
		const char *pem = json_string_value(ca);
		if (write_file_atomic(SYSLOG_CA_FILE, pem, strlen(pem), 0644) < 0)
			rc = error_set(err, errlen, -EIO, "cannot write " SYSLOG_CA_FILE);
	} else if (ca && unlink(SYSLOG_CA_FILE) < 0 && errno != ENOENT) {
		rc = error_set(err, errlen, -EIO, "cannot remove " SYSLOG_CA_FILE);
	}
	if (rc == 0 && (rc = mgmt_set_syslog(&hc, err, errlen)) < 0 && ca) {
		if (old ? write_file_atomic(SYSLOG_CA_FILE, old, old_len, 0644) < 0
			: unlink(SYSLOG_CA_FILE) < 0)
			log_errno("syslog: cannot put back " SYSLOG_CA_FILE);
	}
	free(old);
	if (rc == 0)
		log_msg("syslog: forwarding to %d targets", (int)(hc.syslog_targets[0][0] != 0) +
								(hc.syslog_targets[1][0] != 0) +
								(hc.syslog_targets[2][0] != 0));
	return rc;
}
