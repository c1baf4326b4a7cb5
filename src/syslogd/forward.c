#include "syslogd/forward.h"

#include "common/log.h"
#include "common/syslogfwd.h"
#include "common/util.h"
#include "syslogd/fwdfmt.h"
#include "syslogd/fwdqueue.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <gnutls/crypto.h>
#include <gnutls/gnutls.h>
#include <gnutls/x509.h>
#include <linux/sockios.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <syslog.h>
#include <unistd.h>

enum state { DOWN, CONNECTING, HANDSHAKE, UP };

struct target {
	char url[SYSLOG_URL_MAX];
	struct syslog_target t;
	struct fwd_queue q; /* under fw.lock */
	/* the sender's own */
	enum state state;
	int fd;
	gnutls_session_t tls;
	uint64_t wire; /* bytes written to this connection's socket */
	time_t retry_at, since;
	int backoff_s;
	int said_failing;
	char why[SYSLOG_WHY_MAX];    /* the last failure */
	int online;		     /* under fw.lock: connected (for fwd_drain) */
	char out[2 * FWD_FRAME_MAX]; /* what is being written */
	size_t out_len, out_off;
	uint64_t out_seq;
	unsigned long out_lost;
	int out_busy;
};

static struct {
	pthread_mutex_t lock;
	struct target *targets[SYSLOG_TARGETS_MAX]; /* changed by the sender, under lock */
	enum syslog_format format;
	/* the settings asked for, taken by the sender */
	int reconfigure;
	unsigned long asked, applied; /* configurations given, taken */
	struct hostconf next;
	int wake[2];
	/* the sender's own */
	gnutls_certificate_credentials_t cred;
	char fingerprint[SYSLOG_FP_LEN + 1];
	char *ca; /* SYSLOG_CA_FILE's text, or NULL */
} fw = {.lock = PTHREAD_MUTEX_INITIALIZER, .wake = {-1, -1}};

static time_t now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec;
}

static int64_t now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void fwd_submit(const struct timespec *when, const char *host, const struct logmsg *m,
		const char *msgid)
{
	static char msg[FWD_MSG_MAX + 1];
	pthread_mutex_lock(&fw.lock);
	if (fw.targets[0]) {
		size_t len = fwd_format(msg, fw.format, when, host, m, msgid);
		for (int i = 0; i < SYSLOG_TARGETS_MAX && fw.targets[i]; i++)
			fwd_queue_push(&fw.targets[i]->q, msg, len);
		if (write(fw.wake[1], "", 1) < 0) {
			/* full: the sender is awake already */
		}
	}
	pthread_mutex_unlock(&fw.lock);
}

void fwd_configure(const struct hostconf *hc)
{
	pthread_mutex_lock(&fw.lock);
	fw.next = *hc;
	fw.reconfigure = 1;
	fw.asked++;
	pthread_mutex_unlock(&fw.lock);
	if (fw.wake[1] >= 0 && write(fw.wake[1], "", 1) < 0) {
		/* full: the sender is awake already */
	}
}

/* --- connections ---------------------------------------------------------- */

static void disconnect(struct target *t)
{
	if (t->tls) {
		gnutls_deinit(t->tls);
		t->tls = NULL;
	}
	if (t->fd >= 0)
		close(t->fd);
	t->fd = -1;
	t->state = DOWN;
	t->out_busy = 0;
	pthread_mutex_lock(&fw.lock);
	t->online = 0;
	fwd_queue_rewind(&t->q);
	pthread_mutex_unlock(&fw.lock);
}

/* a connection failed or ended: try again after the back-off */
static void failed(struct target *t, const char *why)
{
	size_t i = 0;
	for (; why[i] && i < sizeof(t->why) - 1; i++) /* one line of ASCII */
		t->why[i] = why[i] >= 0x20 && why[i] < 0x7f ? why[i] : ' ';
	t->why[i] = '\0';
	size_t in_flight = 0;
	pthread_mutex_lock(&fw.lock);
	in_flight = fwd_queue_in_flight(&t->q);
	pthread_mutex_unlock(&fw.lock);
	if (t->state == UP)
		log_msg("forward %s: connection lost (%s); the %zu messages written in its last "
			"moments are sent again",
			t->url, why, in_flight);
	else if (!t->said_failing)
		log_msg("forward %s: cannot connect (%s); trying again (said once)", t->url, why);
	t->said_failing |= t->state != UP;
	disconnect(t);
	t->retry_at = now_s() + t->backoff_s;
	t->backoff_s = t->backoff_s * 2 > FWD_BACKOFF_MAX_S ? FWD_BACKOFF_MAX_S : t->backoff_s * 2;
}

static void up(struct target *t)
{
	pthread_mutex_lock(&fw.lock);
	t->online = 1;
	pthread_mutex_unlock(&fw.lock);
	t->state = UP;
	t->why[0] = '\0';
	t->backoff_s = 1;
	t->said_failing = 0;
	log_msg("forward %s: connected", t->url);
}

static ssize_t tls_push(gnutls_transport_ptr_t p, const void *data, size_t len)
{
	struct target *t = p;
	ssize_t n = send(t->fd, data, len, MSG_NOSIGNAL | MSG_DONTWAIT);
	if (n > 0)
		t->wire += (uint64_t)n;
	else if (n < 0)
		gnutls_transport_set_errno(t->tls, errno);
	return n;
}

static ssize_t tls_pull(gnutls_transport_ptr_t p, void *data, size_t len)
{
	struct target *t = p;
	ssize_t n = recv(t->fd, data, len, MSG_DONTWAIT);
	if (n < 0)
		gnutls_transport_set_errno(t->tls, errno);
	return n;
}

/* the pinned fingerprint: the server's certificate, nothing else */
static int check_fingerprint(gnutls_session_t s)
{
	unsigned n = 0;
	const gnutls_datum_t *certs = gnutls_certificate_get_peers(s, &n);
	unsigned char digest[32];
	if (!certs || n == 0 ||
	    gnutls_hash_fast(GNUTLS_DIG_SHA256, certs[0].data, certs[0].size, digest) < 0)
		return -1;
	char hex[SYSLOG_FP_LEN + 1];
	for (int i = 0; i < 32; i++)
		snprintf(hex + 2 * i, 3, "%02x", digest[i]);
	return strcmp(hex, fw.fingerprint) == 0 ? 0 : -1;
}

static int start_tls(struct target *t)
{
	if (!fw.cred || gnutls_init(&t->tls, GNUTLS_CLIENT | GNUTLS_NONBLOCK) < 0)
		return -1;
	gnutls_set_default_priority(t->tls);
	gnutls_credentials_set(t->tls, GNUTLS_CRD_CERTIFICATE, fw.cred);
	struct in6_addr a;
	int is_name =
	    inet_pton(AF_INET, t->t.host, &a) != 1 && inet_pton(AF_INET6, t->t.host, &a) != 1;
	if (is_name)
		gnutls_server_name_set(t->tls, GNUTLS_NAME_DNS, t->t.host, strlen(t->t.host));
	if (!fw.fingerprint[0])
		gnutls_session_set_verify_cert(t->tls, t->t.host, 0);
	gnutls_transport_set_ptr(t->tls, t);
	gnutls_transport_set_push_function(t->tls, tls_push);
	gnutls_transport_set_pull_function(t->tls, tls_pull);
	t->state = HANDSHAKE;
	return 0;
}

static void connected(struct target *t);

static void connect_target(struct target *t)
{
	char port[8];
	snprintf(port, sizeof(port), "%u", t->t.port);
	struct addrinfo hints = {.ai_socktype = t->t.proto == SYSLOG_UDP ? SOCK_DGRAM : SOCK_STREAM,
				 .ai_flags = AI_NUMERICSERV},
			*res = NULL;
	int rc = getaddrinfo(t->t.host, port, &hints, &res);
	if (rc != 0) {
		failed(t, gai_strerror(rc));
		return;
	}
	t->fd = socket(res->ai_family, res->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	t->wire = 0;
	t->since = now_s();
	if (t->fd < 0) {
		freeaddrinfo(res);
		failed(t, strerror(errno));
		return;
	}
	if (t->t.proto != SYSLOG_UDP) {
		int on = 1, idle = 10, ms = 30000;
		setsockopt(t->fd, SOL_SOCKET, SO_KEEPALIVE, &on, sizeof(on));
		setsockopt(t->fd, IPPROTO_TCP, TCP_KEEPIDLE, &idle, sizeof(idle));
		/* unacknowledged data for this long: the peer is gone */
		setsockopt(t->fd, IPPROTO_TCP, TCP_USER_TIMEOUT, &ms, sizeof(ms));
	}
	rc = connect(t->fd, res->ai_addr, res->ai_addrlen);
	freeaddrinfo(res);
	if (rc < 0 && errno != EINPROGRESS) {
		failed(t, strerror(errno));
		return;
	}
	t->state = CONNECTING;
	if (rc == 0) /* at once (UDP, or a local peer) */
		connected(t);
}

static void connected(struct target *t)
{
	int err = 0;
	socklen_t len = sizeof(err);
	if (getsockopt(t->fd, SOL_SOCKET, SO_ERROR, &err, &len) < 0 || err) {
		failed(t, strerror(err ? err : errno));
		return;
	}
	if (t->t.proto == SYSLOG_TLS) {
		if (start_tls(t) < 0)
			failed(t, "cannot start TLS");
	} else {
		up(t);
	}
}

static void handshake(struct target *t)
{
	int rc = gnutls_handshake(t->tls);
	if (rc == GNUTLS_E_AGAIN || rc == GNUTLS_E_INTERRUPTED)
		return;
	if (rc < 0) {
		char why[160];
		snprintf(why, sizeof(why), "TLS: %s", gnutls_strerror(rc));
		if (rc == GNUTLS_E_CERTIFICATE_VERIFICATION_ERROR) {
			gnutls_datum_t text;
			unsigned status = gnutls_session_get_verify_cert_status(t->tls);
			if (gnutls_certificate_verification_status_print(status, GNUTLS_CRT_X509,
									 &text, 0) == 0) {
				snprintf(why, sizeof(why), "TLS: %s", text.data);
				gnutls_free(text.data);
			}
		}
		failed(t, why);
		return;
	}
	if (fw.fingerprint[0] && check_fingerprint(t->tls) < 0) {
		failed(t, "TLS: the server's certificate is not the pinned one");
		return;
	}
	up(t);
}

/* --- sending ---------------------------------------------------------------- */

/* the next message (after a record of those lost before it) into t->out */
static int take(struct target *t)
{
	static char lost_msg[FWD_MSG_MAX + 1];
	pthread_mutex_lock(&fw.lock);
	struct fwd_entry *e = fwd_queue_next(&t->q, &t->out_seq);
	if (!e) {
		pthread_mutex_unlock(&fw.lock);
		return 0;
	}
	int stream = t->t.proto != SYSLOG_UDP;
	size_t len = 0;
	t->out_lost = e->lost;
	if (e->lost) {
		char text[160];
		int n = snprintf(text, sizeof(text),
				 "%lu messages lost: the queue for %s was full (oldest dropped)",
				 e->lost, t->url);
		char host[HOST_NAME_MAX + 1] = "-";
		gethostname(host, sizeof(host) - 1);
		struct timespec ts;
		clock_gettime(CLOCK_REALTIME, &ts);
		struct logmsg m = {.pri = LOG_SYSLOG | LOG_WARNING,
				   .app = "keel-syslogd",
				   .pid = (long)getpid(),
				   .text = text,
				   .len = (size_t)n};
		size_t k = fwd_format(lost_msg, fw.format, &ts, host, &m, "lost");
		len = stream ? fwd_frame(t->out, lost_msg, k) : k;
		if (!stream)
			memcpy(t->out, lost_msg, k);
	}
	if (stream) {
		len += fwd_frame(t->out + len, e->msg, e->len);
	} else if (len) {
		/* a datagram each: the record now, the message at the next take */
		e->lost = 0;
		t->out_lost = 0;
		t->out_seq = UINT64_MAX;
	} else {
		memcpy(t->out, e->msg, e->len);
		len = e->len;
	}
	pthread_mutex_unlock(&fw.lock);
	t->out_len = len;
	t->out_off = 0;
	t->out_busy = 1;
	return 1;
}

/* writes what is queued until the socket is full; -1 if the connection failed */
static int send_some(struct target *t)
{
	for (;;) {
		if (!t->out_busy && !take(t))
			return 0;
		ssize_t n;
		if (t->t.proto == SYSLOG_TLS) {
			n = gnutls_record_send(t->tls, t->out + t->out_off,
					       t->out_len - t->out_off);
			if (n == GNUTLS_E_AGAIN || n == GNUTLS_E_INTERRUPTED)
				return 0;
			if (n < 0)
				return -1;
		} else {
			n = send(t->fd, t->out + t->out_off, t->out_len - t->out_off,
				 MSG_NOSIGNAL | MSG_DONTWAIT);
			if (n < 0 && (errno == EAGAIN || errno == EINTR))
				return 0;
			if (n < 0 && t->t.proto == SYSLOG_UDP) /* refused: UDP is lossy */
				n = (ssize_t)(t->out_len - t->out_off);
			if (n < 0)
				return -1;
			if (t->t.proto == SYSLOG_TCP)
				t->wire += (uint64_t)n;
		}
		t->out_off += (size_t)n;
		if (t->out_off < t->out_len)
			continue;
		t->out_busy = 0;
		if (t->out_seq == UINT64_MAX) /* a datagram of its own: the lost record */
			continue;
		pthread_mutex_lock(&fw.lock);
		fwd_queue_sent(&t->q, t->out_seq, t->out_lost, t->wire);
		if (t->t.proto == SYSLOG_UDP)
			fwd_queue_delivered(&t->q, t->wire, now_ms(), 0);
		pthread_mutex_unlock(&fw.lock);
	}
}

/* what the peer's TCP acknowledged leaves the queue */
static void acknowledged(struct target *t)
{
	int unacked = 0;
	if (t->t.proto == SYSLOG_UDP || ioctl(t->fd, SIOCOUTQ, &unacked) < 0 || unacked < 0)
		return;
	pthread_mutex_lock(&fw.lock);
	fwd_queue_delivered(&t->q, t->wire - (uint64_t)unacked, now_ms(), FWD_HOLD_MS);
	pthread_mutex_unlock(&fw.lock);
}

/* readable: TLS's own records, or the end */
static int drain(struct target *t)
{
	char buf[4096];
	for (;;) {
		ssize_t n;
		if (t->tls) {
			n = gnutls_record_recv(t->tls, buf, sizeof(buf));
			if (n == GNUTLS_E_AGAIN || n == GNUTLS_E_INTERRUPTED)
				return 0;
		} else {
			n = recv(t->fd, buf, sizeof(buf), MSG_DONTWAIT);
			if (n < 0 && (errno == EAGAIN || errno == EINTR))
				return 0;
		}
		if (n <= 0 && !(t->tls && n == GNUTLS_E_REHANDSHAKE))
			return -1;
	}
}

/* --- configuration ------------------------------------------------------------ */

/* the TLS checks of host.conf and SYSLOG_CA_FILE; 1 if they changed */
static int load_tls(const struct hostconf *hc)
{
	size_t len = 0;
	char *ca = read_file(SYSLOG_CA_FILE, SYSLOG_CA_MAX, &len);
	int same = fw.cred && strcmp(fw.fingerprint, hc->syslog_fingerprint) == 0 &&
		   ((!ca && !fw.ca) || (ca && fw.ca && strcmp(ca, fw.ca) == 0));
	if (same) {
		free(ca);
		return 0;
	}
	if (fw.cred)
		gnutls_certificate_free_credentials(fw.cred);
	fw.cred = NULL;
	free(fw.ca);
	fw.ca = ca;
	memcpy(fw.fingerprint, hc->syslog_fingerprint, sizeof(fw.fingerprint));
	if (gnutls_certificate_allocate_credentials(&fw.cred) < 0) {
		fw.cred = NULL;
		return 1;
	}
	int tls = 0;
	for (int i = 0; i < SYSLOG_TARGETS_MAX; i++)
		tls |= strncmp(hc->syslog_targets[i], "tls://", 6) == 0;
	if (!fw.fingerprint[0]) {
		gnutls_datum_t pem = {.data = (unsigned char *)ca, .size = (unsigned)len};
		int certs =
		    ca ? gnutls_certificate_set_x509_trust_mem(fw.cred, &pem, GNUTLS_X509_FMT_PEM)
		       : 0;
		if (certs <= 0 && tls)
			log_msg("forward: no CA certificate in %s: TLS targets cannot be checked",
				SYSLOG_CA_FILE);
	}
	return 1;
}

static void apply(void)
{
	pthread_mutex_lock(&fw.lock);
	struct hostconf hc = fw.next;
	unsigned long taking = fw.asked;
	fw.reconfigure = 0;
	pthread_mutex_unlock(&fw.lock);
	int tls_changed = load_tls(&hc);
	/* fw.targets changes only at the end, under the lock: fwd_submit
	 * reads it meanwhile (and only this thread writes it) */
	struct target *old[SYSLOG_TARGETS_MAX], *next[SYSLOG_TARGETS_MAX] = {0};
	memcpy(old, fw.targets, sizeof(old));
	for (int i = 0; i < SYSLOG_TARGETS_MAX && hc.syslog_targets[i][0]; i++) {
		for (int j = 0; j < SYSLOG_TARGETS_MAX && !next[i]; j++) {
			if (old[j] && strcmp(old[j]->url, hc.syslog_targets[i]) == 0) {
				next[i] = old[j];
				old[j] = NULL;
			}
		}
		if (next[i]) {
			if (tls_changed && next[i]->t.proto == SYSLOG_TLS &&
			    next[i]->state != DOWN) {
				disconnect(next[i]); /* with the new checks */
				next[i]->retry_at = 0;
			}
			continue;
		}
		struct target *t = calloc(1, sizeof(*t));
		if (!t || syslog_url_parse(hc.syslog_targets[i], &t->t) < 0 ||
		    fwd_queue_init(&t->q, FWD_QUEUE_COUNT, FWD_QUEUE_BYTES) < 0) {
			free(t);
			continue;
		}
		str_copy(t->url, sizeof(t->url), hc.syslog_targets[i]);
		t->fd = -1;
		t->backoff_s = 1;
		next[i] = t;
		log_msg("forward: to %s (%s)", t->url, syslog_format_name(hc.syslog_format));
	}
	pthread_mutex_lock(&fw.lock);
	/* keep them together, in the order configured */
	int n = 0;
	for (int i = 0; i < SYSLOG_TARGETS_MAX; i++)
		if (next[i])
			fw.targets[n++] = next[i];
	for (; n < SYSLOG_TARGETS_MAX; n++)
		fw.targets[n] = NULL;
	fw.format = hc.syslog_format;
	fw.applied = taking;
	pthread_mutex_unlock(&fw.lock);
	/* no longer reachable by anyone else */
	for (int j = 0; j < SYSLOG_TARGETS_MAX; j++) {
		if (!old[j])
			continue;
		disconnect(old[j]);
		log_msg("forward: no longer to %s", old[j]->url);
		fwd_queue_free(&old[j]->q);
		free(old[j]);
	}
}

/* --- the state file ------------------------------------------------------------ */

static const enum syslog_state shown[] = {[DOWN] = SYSLOG_DOWN,
					  [CONNECTING] = SYSLOG_CONNECTING,
					  [HANDSHAKE] = SYSLOG_CONNECTING,
					  [UP] = SYSLOG_CONNECTED};

/* SYSLOG_STATE_FILE, when it changed: at once for a state, at most each
 * second for the counts. Returns 1 if a change waits to be written. */
static int write_state(void)
{
	static char last[SYSLOG_TARGETS_MAX * 320], last_states[SYSLOG_TARGETS_MAX + 1];
	static int64_t last_ms;
	char text[sizeof(last)], states[SYSLOG_TARGETS_MAX + 1] = "";
	size_t len = 0;
	text[0] = '\0';
	pthread_mutex_lock(&fw.lock);
	for (int i = 0; i < SYSLOG_TARGETS_MAX && fw.targets[i]; i++) {
		struct target *t = fw.targets[i];
		int n = snprintf(text + len, sizeof(text) - len, "%s %s %zu %lu%s%s\n", t->url,
				 syslog_state_name(shown[t->state]), t->q.count, t->q.dropped,
				 t->why[0] ? " " : "", t->why);
		if (n > 0 && (size_t)n < sizeof(text) - len)
			len += (size_t)n;
		states[i] = (char)('0' + t->state);
		states[i + 1] = '\0';
	}
	pthread_mutex_unlock(&fw.lock);
	if (strcmp(text, last) == 0)
		return 0;
	int64_t now = now_ms();
	if (strcmp(states, last_states) == 0 && now - last_ms < 1000)
		return 1;
	if (write_file_atomic(SYSLOG_STATE_FILE, text, len, 0644) < 0)
		return 0; /* no /run/keel: nobody to tell */
	memcpy(last, text, sizeof(last));
	memcpy(last_states, states, sizeof(states));
	last_ms = now;
	return 0;
}

/* --- the sender --------------------------------------------------------------- */

static int has_work(struct target *t)
{
	if (t->out_busy)
		return 1;
	pthread_mutex_lock(&fw.lock);
	uint64_t seq;
	int any = fwd_queue_next(&t->q, &seq) != NULL;
	pthread_mutex_unlock(&fw.lock);
	return any;
}

static void *sender(void *arg)
{
	(void)arg;
	for (;;) {
		pthread_mutex_lock(&fw.lock);
		int again = fw.reconfigure;
		pthread_mutex_unlock(&fw.lock);
		if (again)
			apply(); /* only this thread changes fw.targets */
		struct pollfd p[1 + SYSLOG_TARGETS_MAX];
		p[0] = (struct pollfd){.fd = fw.wake[0], .events = POLLIN};
		time_t now = now_s();
		int timeout = -1, in_flight = 0;
		for (int i = 0; i < SYSLOG_TARGETS_MAX; i++) {
			struct target *t = fw.targets[i];
			p[1 + i] = (struct pollfd){.fd = -1};
			if (!t)
				continue;
			if (t->state == DOWN && now >= t->retry_at)
				connect_target(t);
			if ((t->state == CONNECTING || t->state == HANDSHAKE) &&
			    now - t->since >= FWD_CONNECT_S)
				failed(t, "timed out");
			if (t->state == HANDSHAKE) {
				handshake(t);
				if (t->state == HANDSHAKE)
					p[1 + i].events =
					    gnutls_record_get_direction(t->tls) ? POLLOUT : POLLIN;
			}
			if (t->state == UP && has_work(t) && send_some(t) < 0)
				failed(t, "write failed");
			if (t->state == CONNECTING)
				p[1 + i].events = POLLOUT;
			if (t->state == UP) {
				/* UDP: only to write (and clear an ICMP error) */
				if (t->t.proto != SYSLOG_UDP)
					p[1 + i].events = POLLIN | POLLRDHUP;
				if (has_work(t))
					p[1 + i].events |= POLLOUT;
				if (t->t.proto != SYSLOG_UDP) {
					acknowledged(t);
					pthread_mutex_lock(&fw.lock);
					in_flight |= fwd_queue_in_flight(&t->q) > 0;
					pthread_mutex_unlock(&fw.lock);
				}
			}
			if (p[1 + i].events)
				p[1 + i].fd = t->fd;
			int wait_ms = t->state == DOWN ? (int)(t->retry_at - now) * 1000
				      : t->state == UP ? -1
						       : 1000;
			if (wait_ms < 0 && t->state == DOWN)
				wait_ms = 0;
			if (wait_ms >= 0 && (timeout < 0 || wait_ms < timeout))
				timeout = wait_ms;
		}
		if (write_state() && (timeout < 0 || timeout > 1000))
			timeout = 1000;
		/* acknowledgements, and the end of a hold, come without an event */
		if (in_flight && (timeout < 0 || timeout > 250))
			timeout = 250;
		if (poll(p, 1 + SYSLOG_TARGETS_MAX, timeout) < 0)
			continue;
		if (p[0].revents & POLLIN) {
			char buf[256];
			while (read(fw.wake[0], buf, sizeof(buf)) > 0) {
			}
		}
		for (int i = 0; i < SYSLOG_TARGETS_MAX; i++) {
			struct target *t = fw.targets[i];
			short ev = p[1 + i].revents;
			if (!t || !ev)
				continue;
			if (t->state == CONNECTING)
				connected(t);
			else if (t->state == HANDSHAKE)
				handshake(t);
			else if (t->state == UP && t->t.proto == SYSLOG_UDP) {
				int err;
				socklen_t len = sizeof(err);
				if (ev & POLLERR) /* a port unreachable, say: UDP is lossy */
					getsockopt(t->fd, SOL_SOCKET, SO_ERROR, &err, &len);
			} else if (t->state == UP) {
				if ((ev & POLLIN) && drain(t) < 0)
					failed(t, "closed by the receiver");
				else if (ev & (POLLRDHUP | POLLHUP | POLLERR))
					failed(t, "closed by the receiver");
			}
		}
	}
	return NULL;
}

int fwd_start(void)
{
	unlink(SYSLOG_STATE_FILE); /* an earlier instance's */
	if (pipe2(fw.wake, O_CLOEXEC | O_NONBLOCK) < 0)
		return -1;
	/* the targets of host.conf before the first message: the kernel's
	 * lines of the boot are forwarded too */
	if (fw.reconfigure)
		apply();
	pthread_t tid;
	if (pthread_create(&tid, NULL, sender, NULL) != 0)
		return -1;
	pthread_detach(tid);
	return 0;
}

void fwd_drain(int timeout_ms)
{
	for (int waited = 0; waited < timeout_ms; waited += 50) {
		int pending = 0;
		pthread_mutex_lock(&fw.lock);
		for (int i = 0; i < SYSLOG_TARGETS_MAX && fw.targets[i]; i++)
			pending |= fw.targets[i]->online && !fwd_queue_settled(&fw.targets[i]->q);
		pthread_mutex_unlock(&fw.lock);
		if (!pending)
			return;
		struct timespec ts = {.tv_nsec = 50 * 1000000};
		nanosleep(&ts, NULL);
	}
}

int fwd_configured(void)
{
	pthread_mutex_lock(&fw.lock);
	int done = fw.applied == fw.asked;
	pthread_mutex_unlock(&fw.lock);
	return done;
}
