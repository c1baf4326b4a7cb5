#include "cli/http.h"

#include <curl/curl.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cmd.h"
#include "cli/interrupt.h"
#include "cli/mem.h"
#include "cli/output.h"

#define BODY_MAX (16u << 20) /* the largest answer held in memory */

struct xfer {
	struct http *h;
	struct request *r;
	size_t cap;
	bool too_large, shown;
	int src_errno, dst_errno;
	double last_shown;
};

/* the libcurl handle of a struct http */
struct curl_transport {
	CURL *curl;
	char errbuf[CURL_ERROR_SIZE];
};

static CURL *curl_of(const struct http *h)
{
	return ((struct curl_transport *)h->transport)->curl;
}

static char *errbuf_of(const struct http *h)
{
	return ((struct curl_transport *)h->transport)->errbuf;
}

int http_global_init(void)
{
	if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
		error_msg("cannot initialise libcurl");
		return -1;
	}
	return 0;
}

void http_global_cleanup(void)
{
	curl_global_cleanup();
}

int http_open(struct http *h)
{
	if (http_is_local(h)) {
		error_msg("KEEL_LOCAL_SOCKET and KEEL_SESSION_TOKEN are for the host's CLI "
			  "(keel-shell's keel)");
		return -1;
	}
	struct curl_transport *t = xmalloc(sizeof(*t));
	memset(t, 0, sizeof(*t));
	t->curl = curl_easy_init();
	if (!t->curl) {
		error_msg("cannot initialise libcurl");
		free(t);
		return -1;
	}
	h->transport = t;
	return 0;
}

void http_close(struct http *h)
{
	struct curl_transport *t = h->transport;
	if (t)
		curl_easy_cleanup(t->curl);
	free(t);
	h->transport = NULL;
}

static size_t on_write(char *p, size_t size, size_t n, void *ud)
{
	struct xfer *x = ud;
	struct request *r = x->r;
	size_t len = size * n;
	long status = 0;
	curl_easy_getinfo(curl_of(x->h), CURLINFO_RESPONSE_CODE, &status);
	if (r->sink && status / 100 == 2) {
		errno = 0;
		if (r->sink(p, len, r->sink_ctx) == 0)
			return len;
		x->dst_errno = errno ? errno : EIO;
		return 0;
	}
	if (r->len + len > BODY_MAX) {
		x->too_large = true;
		return 0;
	}
	if (r->len + len + 1 > x->cap) {
		x->cap = (r->len + len + 1) * 2;
		r->body = xrealloc(r->body, x->cap);
	}
	memcpy(r->body + r->len, p, len);
	r->len += len;
	r->body[r->len] = '\0';
	return len;
}

static size_t on_read(char *p, size_t size, size_t n, void *ud)
{
	struct xfer *x = ud;
	size_t got = fread(p, 1, size * n, x->r->src);
	if (got == 0 && ferror(x->r->src)) {
		x->src_errno = errno ? errno : EIO;
		return CURL_READFUNC_ABORT;
	}
	return got;
}

static void show_progress(struct xfer *x, curl_off_t done, curl_off_t total)
{
	char a[SIZE_LEN], b[SIZE_LEN];
	if (total > 0)
		fprintf(stderr, "\r%7s / %-7s %3d%%", fmt_size(a, done), fmt_size(b, total),
			(int)(done * 100 / total));
	else
		fprintf(stderr, "\r%7s", fmt_size(a, done));
	x->shown = true;
}

static int on_progress(void *ud, curl_off_t dltotal, curl_off_t dlnow, curl_off_t ultotal,
		       curl_off_t ulnow)
{
	struct xfer *x = ud;
	if (interrupted() && !x->r->uninterruptible)
		return 1;
	double t = clock_now();
	if (!x->r->progress || t - x->last_shown < 0.25)
		return 0;
	x->last_shown = t;
	if (x->r->src) {
		show_progress(x, ulnow, ultotal);
	} else {
		long status = 0;
		curl_easy_getinfo(curl_of(x->h), CURLINFO_RESPONSE_CODE, &status);
		if (status / 100 == 2)
			show_progress(x, dlnow, dltotal);
	}
	return 0;
}

static struct curl_slist *header(struct curl_slist *hdrs, const char *line)
{
	return xcheck(curl_slist_append(hdrs, line));
}

/* The options of one request; returns its headers (to free after it). */
static struct curl_slist *setup(struct http *h, struct xfer *x)
{
	const struct request *r = x->r;
	CURL *c = curl_of(h);
	struct curl_slist *hdrs = NULL;

	curl_easy_reset(c); /* keeps the connection and the TLS session */
	char *url = xasprintf("%s%s", h->base, r->path);
	curl_easy_setopt(c, CURLOPT_URL, url);
	free(url);
	curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "https");
	curl_easy_setopt(c, CURLOPT_PATH_AS_IS, 1L); /* "a/../b" goes to the host, to refuse */
	curl_easy_setopt(c, CURLOPT_SSLVERSION, (long)CURL_SSLVERSION_TLSv1_2);
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT, 15L);
	curl_easy_setopt(c, CURLOPT_LOW_SPEED_LIMIT, 1L);
	curl_easy_setopt(c, CURLOPT_LOW_SPEED_TIME, 300L);
	if (r->uninterruptible)
		curl_easy_setopt(c, CURLOPT_TIMEOUT, 10L);
	curl_easy_setopt(c, CURLOPT_USERAGENT, "keel/" KEEL_VERSION);
	errbuf_of(h)[0] = '\0';
	curl_easy_setopt(c, CURLOPT_ERRORBUFFER, errbuf_of(h));
	if (h->conf->insecure || h->conf->pinned) {
		curl_easy_setopt(c, CURLOPT_SSL_VERIFYPEER, 0L);
		curl_easy_setopt(c, CURLOPT_SSL_VERIFYHOST, 0L);
	}
	if (h->pin[0])
		curl_easy_setopt(c, CURLOPT_PINNEDPUBLICKEY, h->pin);
	else if (h->conf->pinned)
		curl_easy_setopt(c, CURLOPT_CERTINFO, 1L);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_write);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, x);
	curl_easy_setopt(c, CURLOPT_NOPROGRESS, 0L);
	curl_easy_setopt(c, CURLOPT_XFERINFOFUNCTION, on_progress);
	curl_easy_setopt(c, CURLOPT_XFERINFODATA, x);

	if (!r->anonymous) {
		char *auth = xasprintf("Authorization: Bearer %s", h->token);
		hdrs = header(hdrs, auth);
		explicit_bzero(auth, strlen(auth));
		free(auth);
	}
	if (r->json) {
		curl_easy_setopt(c, CURLOPT_POSTFIELDS, r->json);
		curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)strlen(r->json));
		hdrs = header(hdrs, "Content-Type: application/json");
	} else if (r->src) {
		curl_easy_setopt(c, CURLOPT_UPLOAD, 1L);
		curl_easy_setopt(c, CURLOPT_READFUNCTION, on_read);
		curl_easy_setopt(c, CURLOPT_READDATA, x);
		curl_easy_setopt(c, CURLOPT_INFILESIZE_LARGE, (curl_off_t)r->size);
		char *type =
		    xasprintf("Content-Type: %s", r->type ? r->type : "application/octet-stream");
		hdrs = header(hdrs, type);
		free(type);
	} else if (strcmp(r->method, "POST") == 0) { /* no body: Content-Length: 0 */
		curl_easy_setopt(c, CURLOPT_POSTFIELDS, "");
		curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)0);
		hdrs = header(hdrs, "Content-Type:");
	}
	/* the method curl uses by itself for this body, else an explicit one */
	const char *natural = r->src					  ? "PUT"
			      : r->json || strcmp(r->method, "POST") == 0 ? "POST"
									  : "GET";
	if (strcmp(r->method, natural) != 0)
		curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, r->method);
	curl_easy_setopt(c, CURLOPT_HTTPHEADER, hdrs);
	return hdrs;
}

static void report_curl(struct http *h, const struct xfer *x, CURLcode rc)
{
	const char *detail = errbuf_of(h)[0] ? errbuf_of(h) : curl_easy_strerror(rc);
	if (x->dst_errno)
		error_msg("cannot write the download: %s", strerror(x->dst_errno));
	else if (x->src_errno)
		error_msg("cannot read the file to upload: %s", strerror(x->src_errno));
	else if (x->too_large)
		error_msg("%s: the answer is too large", http_host(h));
	else if (rc == CURLE_ABORTED_BY_CALLBACK && interrupted())
		error_msg("interrupted");
	else if (rc == CURLE_SSL_PINNEDPUBKEYNOTMATCH)
		error_msg("%s: this is not the certificate that matched the fingerprint; "
			  "nothing more was sent",
			  http_host(h));
	else if (rc == CURLE_PEER_FAILED_VERIFICATION && !h->conf->pinned) {
		error_msg("%s: the host's certificate is not trusted (%s)", http_host(h), detail);
		error_msg("a Keel host's certificate is self-signed: pass --fingerprint with the "
			  "SHA-256 shown on the host's console");
	} else
		error_msg("%s: %s", http_host(h), detail);
}

/* After the first request of a pinned handle: the leaf certificate must
 * have the configured fingerprint; its public key is then pinned. */
static int check_fingerprint(struct http *h)
{
	struct curl_certinfo *ci = NULL;
	const char *pem = NULL;
	if (curl_easy_getinfo(curl_of(h), CURLINFO_CERTINFO, &ci) == CURLE_OK && ci &&
	    ci->num_of_certs > 0)
		for (struct curl_slist *s = ci->certinfo[0]; s && !pem; s = s->next)
			if (strncmp(s->data, "Cert:", 5) == 0)
				pem = s->data + 5;
	unsigned char fp[FP_LEN];
	char pin[PIN_LEN];
	if (!pem || pin_from_pem(pem, fp, pin) < 0) {
		error_msg("%s: cannot read the host's certificate", http_host(h));
		return EXIT_FAIL;
	}
	if (memcmp(fp, h->conf->fingerprint, FP_LEN) != 0) {
		char want[FP_TEXT_LEN], got[FP_TEXT_LEN];
		fp_format(h->conf->fingerprint, want);
		fp_format(fp, got);
		error_msg("%s: the host's certificate does not match the fingerprint",
			  http_host(h));
		fprintf(stderr, "  expected  %s\n  host has  %s\n", want, got);
		error_msg("the password was not sent");
		return EXIT_FAIL;
	}
	memcpy(h->pin, pin, PIN_LEN);
	return 0;
}

int http_perform(struct http *h, struct request *r)
{
	struct xfer x = {.h = h, .r = r, .last_shown = clock_now()};
	struct curl_slist *hdrs = setup(h, &x);
	CURLcode rc = curl_easy_perform(curl_of(h));
	curl_slist_free_all(hdrs);
	curl_easy_getinfo(curl_of(h), CURLINFO_RESPONSE_CODE, &r->status);
	for (int i = 0; i < HTTP_HEADERS_WANTED && r->header_names[i]; i++) {
		struct curl_header *hv = NULL;
		r->header_values[i][0] = '\0';
		if (rc == CURLE_OK && curl_easy_header(curl_of(h), r->header_names[i], 0,
						       CURLH_HEADER, -1, &hv) == CURLHE_OK)
			snprintf(r->header_values[i], sizeof(r->header_values[i]), "%s", hv->value);
	}
	if (x.shown) {
		curl_off_t done = 0;
		if (rc == CURLE_OK && r->src)
			curl_easy_getinfo(curl_of(h), CURLINFO_SIZE_UPLOAD_T, &done);
		else if (rc == CURLE_OK)
			curl_easy_getinfo(curl_of(h), CURLINFO_SIZE_DOWNLOAD_T, &done);
		if (rc == CURLE_OK)
			show_progress(&x, done, done);
		fputc('\n', stderr);
	}
	if (rc != CURLE_OK) {
		if (!r->quiet)
			report_curl(h, &x, rc);
		return EXIT_FAIL;
	}
	if (h->conf->pinned && !h->pin[0] && check_fingerprint(h) != 0)
		return EXIT_FAIL;
	if (r->status / 100 != 2) {
		if (!r->quiet)
			http_report_refusal(r);
		return EXIT_FAIL;
	}
	return 0;
}
