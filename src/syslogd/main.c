/* keel-syslogd: the host's log service (common/logfiles.h).
 *
 * Receives syslog(3) datagrams on /dev/log and the kernel's records from
 * /dev/kmsg (from the start of its ring buffer, so the boot is kept), and
 * writes each as one line to its source's file under /scratch/log, rotated
 * by size and count (host.conf's log.size_kib and log.keep, read again on
 * SIGHUP; with /scratch in RAM, a fixed total, said once on the console).
 *
 * Two threads: the main one receives, parses and formats into a bounded
 * queue; the writer empties the queue into the files. A sender is never
 * held up by the disk: when the queue is full, messages are dropped and
 * counted, and the writer puts a line saying how many were lost into the
 * file they were meant for. Every message is also queued for the remote
 * targets of host.conf (forward.h; its sender is a third thread), and so
 * are keel-hostd's audit records, which come on SYSLOG_AUDIT_SOCKET and go
 * only there (they are in audit.log already), as authpriv with MSGID
 * "audit". Its own messages go to the console only. */
#include "common/hostconf.h"
#include "common/log.h"
#include "common/logfiles.h"
#include "common/runstate.h"
#include "common/syslogfwd.h"
#include "common/util.h"
#include "syslogd/forward.h"
#include "syslogd/logfile.h"
#include "syslogd/msg.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/magic.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/un.h>
#include <syslog.h>
#include <unistd.h>

#define QUEUE_SLOTS 4096
#define QUEUE_BYTES (4 << 20)
#define KMSG_RECORD (LOG_MSG_MAX + 1024)

struct item {
	enum logfile_id id;
	size_t len;
	char *line;
};

static struct {
	pthread_mutex_t lock;
	pthread_cond_t cond;
	struct item q[QUEUE_SLOTS];
	size_t head, n, bytes;
	unsigned long lost[LOGFILE_COUNT];
	int any_lost;
	long max; /* rotation: bytes per file, old files kept */
	int keep;
	int stop;
} g = {.lock = PTHREAD_MUTEX_INITIALIZER, .cond = PTHREAD_COND_INITIALIZER};

static void count_lost(enum logfile_id id)
{
	pthread_mutex_lock(&g.lock);
	g.lost[id]++;
	g.any_lost = 1;
	pthread_cond_signal(&g.cond);
	pthread_mutex_unlock(&g.lock);
}

static void enqueue(enum logfile_id id, const char *line, size_t len)
{
	char *copy = malloc(len);
	pthread_mutex_lock(&g.lock);
	if (!copy || g.n == QUEUE_SLOTS || g.bytes + len > QUEUE_BYTES) {
		pthread_mutex_unlock(&g.lock);
		free(copy);
		count_lost(id);
		return;
	}
	memcpy(copy, line, len);
	g.q[(g.head + g.n) % QUEUE_SLOTS] = (struct item){id, len, copy};
	g.n++;
	g.bytes += len;
	pthread_cond_signal(&g.cond);
	pthread_mutex_unlock(&g.lock);
}

static void host_name(char *buf, size_t n)
{
	if (gethostname(buf, n) < 0 || !buf[0])
		str_copy(buf, n, "-");
	buf[n - 1] = '\0';
}

/* formats m, received at `when`, into its file's queue */
static void submit(const struct timespec *when, const struct logmsg *m)
{
	static char line[MSG_LINE_MAX];
	char host[HOST_NAME_MAX + 1];
	host_name(host, sizeof(host));
	size_t len = msg_format(line, sizeof(line), when, host, m);
	enqueue(logfile_for_app(m->app), line, len);
	fwd_submit(when, host, m, NULL);
}

static void *writer(void *arg)
{
	(void)arg;
	struct logfile files[LOGFILE_COUNT];
	for (int i = 0; i < LOGFILE_COUNT; i++)
		logfile_init(&files[i], LOG_DIR, logfile_name((enum logfile_id)i));
	int failing = 0;
	for (;;) {
		pthread_mutex_lock(&g.lock);
		while (!g.n && !g.any_lost && !g.stop)
			pthread_cond_wait(&g.cond, &g.lock);
		if (!g.n && !g.any_lost) {
			pthread_mutex_unlock(&g.lock);
			break;
		}
		unsigned long lost[LOGFILE_COUNT];
		memcpy(lost, g.lost, sizeof(lost));
		memset(g.lost, 0, sizeof(g.lost));
		g.any_lost = 0;
		struct item it = {0};
		if (g.n) {
			it = g.q[g.head];
			g.head = (g.head + 1) % QUEUE_SLOTS;
			g.n--;
			g.bytes -= it.len;
		}
		long max = g.max;
		int keep = g.keep;
		pthread_mutex_unlock(&g.lock);

		int rc = 0;
		for (int i = 0; i < LOGFILE_COUNT; i++) {
			if (!lost[i])
				continue;
			char text[96], line[256], host[HOST_NAME_MAX + 1];
			struct timespec now;
			clock_gettime(CLOCK_REALTIME, &now);
			host_name(host, sizeof(host));
			int n = snprintf(text, sizeof(text), "%lu messages lost (too many at once)",
					 lost[i]);
			struct logmsg m = {.pri = LOG_SYSLOG | LOG_WARNING,
					   .app = "keel-syslogd",
					   .pid = (long)getpid(),
					   .text = text,
					   .len = (size_t)n};
			size_t len = msg_format(line, sizeof(line), &now, host, &m);
			rc |= logfile_write(&files[i], line, len, max, keep);
		}
		if (it.line) {
			rc |= logfile_write(&files[it.id], it.line, it.len, max, keep);
			free(it.line);
		}
		if (rc < 0 && !failing)
			log_errno("cannot write to %s (said once)", LOG_DIR);
		failing |= rc < 0;
	}
	for (int i = 0; i < LOGFILE_COUNT; i++)
		logfile_close(&files[i]);
	return NULL;
}

/* host.conf's rotation, or the RAM cap; its forwarding */
static void read_limits(int announce)
{
	struct hostconf hc;
	hostconf_defaults(&hc);
	char *text = read_file(HOSTCONF_FILE, 65536, NULL);
	if (text)
		hostconf_parse(&hc, text, NULL, 0); /* keel-init reports its errors */
	free(text);
	struct statfs sf;
	int in_ram =
	    statfs(LOG_DIR, &sf) == 0 && (sf.f_type == TMPFS_MAGIC || sf.f_type == RAMFS_MAGIC);
	long max;
	int keep;
	logfile_limits(hc.log_size_kib, hc.log_keep, in_ram, &max, &keep);
	if (in_ram && announce)
		log_msg("/scratch is in RAM: the logs in %s are kept within %d KiB in total, "
			"and lost at power-off",
			LOG_DIR, LOG_RAM_CAP_KIB);
	pthread_mutex_lock(&g.lock);
	g.max = max;
	g.keep = keep;
	pthread_mutex_unlock(&g.lock);
	fwd_configure(&hc);
}

static int open_socket(const char *path, mode_t mode, int must)
{
	int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	str_copy(sa.sun_path, sizeof(sa.sun_path), path);
	int big = 1 << 20;
	unlink(path); /* a stale one, from before a restart */
	if (fd < 0 || bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 || chmod(path, mode) < 0) {
		log_errno("cannot listen on %s", path);
		if (must)
			exit(1);
		if (fd >= 0)
			close(fd);
		return -1;
	}
	setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &big, sizeof(big));
	return fd;
}

/* The datagrams waiting on fd: /dev/log's, or (audit) keel-hostd's audit
 * records, which are forwarded only (audit.log has them), as authpriv. */
static void read_datagrams(int fd, bool audit)
{
	static char buf[LOG_MSG_MAX + 1];
	ssize_t n;
	while ((n = recv(fd, buf, sizeof(buf), MSG_DONTWAIT)) >= 0) {
		struct timespec now;
		clock_gettime(CLOCK_REALTIME, &now);
		struct logmsg m;
		msg_parse_syslog(buf, (size_t)n, &m);
		if (!audit) {
			submit(&now, &m);
			continue;
		}
		m.pri = LOG_AUTHPRIV | (m.pri & 7);
		char host[HOST_NAME_MAX + 1];
		host_name(host, sizeof(host));
		fwd_submit(&now, host, &m, "audit");
	}
}

static void read_kmsg(int fd)
{
	static char buf[KMSG_RECORD];
	for (;;) {
		ssize_t n = read(fd, buf, sizeof(buf));
		if (n < 0 && errno == EPIPE) { /* overwritten before we read it */
			count_lost(LOGFILE_KERNEL);
			continue;
		}
		if (n <= 0)
			return;
		struct logmsg m;
		uint64_t seq, ts;
		if (msg_parse_kmsg(buf, (size_t)n, &m, &seq, &ts) < 0)
			continue;
		/* the record's time since boot, as wall-clock time */
		struct timespec real, mono;
		clock_gettime(CLOCK_REALTIME, &real);
		clock_gettime(CLOCK_MONOTONIC, &mono);
		int64_t ago = ((int64_t)mono.tv_sec * 1000000 + mono.tv_nsec / 1000) - (int64_t)ts;
		int64_t at =
		    ((int64_t)real.tv_sec * 1000000 + real.tv_nsec / 1000) - (ago > 0 ? ago : 0);
		struct timespec when = {.tv_sec = at / 1000000, .tv_nsec = at % 1000000 * 1000};
		submit(&when, &m);
	}
}

int main(void)
{
	log_init("keel-syslogd", 2, NULL);
	sigset_t mask;
	sigemptyset(&mask);
	sigaddset(&mask, SIGHUP);
	sigaddset(&mask, SIGTERM);
	sigaddset(&mask, SIGINT);
	sigprocmask(SIG_BLOCK, &mask, NULL);
	int sfd = signalfd(-1, &mask, SFD_CLOEXEC | SFD_NONBLOCK);
	if (mkdir(LOG_DIR, 0755) < 0 && errno != EEXIST)
		log_errno("cannot make %s", LOG_DIR);
	read_limits(1);
	if (fwd_start() < 0)
		log_msg("cannot start the forwarding thread: nothing is forwarded");
	int lfd = open_socket(LOG_SOCKET, 0666, 1);
	if (mkdir(KEEL_RUN_DIR, 0755) < 0 && errno != EEXIST)
		log_errno("cannot make %s", KEEL_RUN_DIR);
	int afd = open_socket(SYSLOG_AUDIT_SOCKET, 0600, 0);
	int kfd = open("/dev/kmsg", O_RDONLY | O_NONBLOCK | O_CLOEXEC);
	if (kfd < 0)
		log_errno("cannot read /dev/kmsg: no kernel messages");
	pthread_t tid;
	if (pthread_create(&tid, NULL, writer, NULL) != 0) {
		log_msg("cannot start the writer thread");
		return 1;
	}
	for (;;) {
		struct pollfd p[4] = {{.fd = sfd, .events = POLLIN},
				      {.fd = lfd, .events = POLLIN},
				      {.fd = afd, .events = POLLIN},
				      {.fd = kfd, .events = POLLIN}};
		if (poll(p, 4, -1) < 0)
			continue;
		if (p[2].revents & POLLIN)
			read_datagrams(afd, true);
		if (p[1].revents & POLLIN)
			read_datagrams(lfd, false);
		if (kfd >= 0 && (p[3].revents & POLLIN))
			read_kmsg(kfd);
		struct signalfd_siginfo si;
		if ((p[0].revents & POLLIN) && read(sfd, &si, sizeof(si)) == (ssize_t)sizeof(si)) {
			if (si.ssi_signo == SIGHUP) {
				read_limits(0);
				continue;
			}
			break;
		}
	}
	pthread_mutex_lock(&g.lock);
	g.stop = 1;
	pthread_cond_signal(&g.cond);
	pthread_mutex_unlock(&g.lock);
	fwd_drain(FWD_DRAIN_MS); /* meanwhile the writer empties its queue */
	pthread_join(tid, NULL);
	return 0;
}
