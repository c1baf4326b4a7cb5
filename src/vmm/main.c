/* keel-vmm: the per-VM monitor. One process runs one VM on KVM.
 *
 *   keel-vmm CONFIG.json
 *   keel-vmm --config-fd FD     the configuration is open on FD (keel-hostd)
 *
 * Exit status: 0 the guest powered off or was stopped (control socket
 * "stop", SIGTERM); 1 the guest crashed (triple fault, KVM error) or the
 * host failed; 2 the configuration is bad (nothing was started); 3 the
 * guest rebooted and on_reboot is "exit". See docs/vmm.md. */
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include "common/control.h"
#include "common/log.h"
#include "common/util.h"
#include "common/vmmconf.h"
#include "vmm/conlog.h"
#include "vmm/jail.h"
#include "vmm/sandbox.h"
#include "vmm/vm.h"

#define EXIT_CRASH   1
#define EXIT_CONFIG  2
#define EXIT_REBOOT  3
#define EXIT_NO_BOOT 4
#define MAX_CLIENTS  8

struct client {
	int fd;
	size_t len;
	char buf[CONTROL_REQUEST_MAX];
};

static struct {
	struct vmm_config cfg;
	struct vm vm;
	int epoll;
	int sigfd;
	int con_in, con_out;	/* console descriptors; -1 if none */
	struct conlog con_file; /* a file console (con_out is then -1) */
	bool con_is_file;
	int con_listen; /* socket console: listening socket */
	int con_client; /* socket console: the attached client */
	char pty[64];
	int pty_slave; /* held open so that the master never hangs up */
	int ctl_listen;
	struct client clients[MAX_CLIENTS];
} g = {.con_in = -1,
       .con_out = -1,
       .con_listen = -1,
       .con_client = -1,
       .pty_slave = -1,
       .ctl_listen = -1};

static void noop(int sig)
{
	(void)sig;
}

static void watch(int fd)
{
	struct epoll_event ev = {.events = EPOLLIN, .data.fd = fd};
	if (epoll_ctl(g.epoll, EPOLL_CTL_ADD, fd, &ev) < 0)
		log_errno("epoll_ctl");
}

/* Console output, from a vCPU thread: never blocks; bytes nobody can take
 * are dropped rather than stalling the guest. */
static void console_out(void *opaque, uint8_t byte)
{
	(void)opaque;
	if (g.con_is_file) {
		conlog_put(&g.con_file, byte);
		return;
	}
	int fd = __atomic_load_n(&g.con_out, __ATOMIC_RELAXED);
	if (fd >= 0 && send(fd, &byte, 1, MSG_DONTWAIT | MSG_NOSIGNAL) < 0 && errno == ENOTSOCK) {
		ssize_t r = write(fd, &byte, 1);
		(void)r;
	}
}

static int listen_unix(const char *path)
{
	struct sockaddr_un a = {.sun_family = AF_UNIX};
	if (str_copy(a.sun_path, sizeof(a.sun_path), path) < 0) {
		errno = ENAMETOOLONG;
		return -1;
	}
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0)
		return -1;
	unlink(path);		  /* a socket left by an earlier run */
	mode_t old = umask(0177); /* created 0600: no window where others may connect */
	int r = bind(fd, (struct sockaddr *)&a, sizeof(a));
	umask(old);
	if (r < 0 || listen(fd, MAX_CLIENTS) < 0) {
		int e = errno;
		close(fd);
		errno = e;
		return -1;
	}
	return fd;
}

/* A listening socket keel-hostd passed: made non-blocking and ours. */
static int listening(int fd)
{
	int flags = fcntl(fd, F_GETFL);
	if (flags < 0 || fcntl(fd, F_SETFL, flags | O_NONBLOCK) < 0 ||
	    fcntl(fd, F_SETFD, FD_CLOEXEC) < 0)
		return -1;
	return fd;
}

static int open_pty(void)
{
	int m = posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC | O_NONBLOCK);
	if (m < 0 || grantpt(m) < 0 || unlockpt(m) < 0 || ptsname_r(m, g.pty, sizeof(g.pty)) != 0)
		return -1;
	g.pty_slave = open(g.pty, O_RDWR | O_NOCTTY | O_CLOEXEC);
	struct termios t;
	if (g.pty_slave < 0 || tcgetattr(g.pty_slave, &t) < 0)
		return -1;
	cfmakeraw(&t);
	tcsetattr(g.pty_slave, TCSANOW, &t);
	g.con_in = g.con_out = m;
	return 0;
}

static int open_console(void)
{
	const struct vmm_config *c = &g.cfg;
	switch (c->console) {
	case CONSOLE_STDIO:
		g.con_in = 0;
		g.con_out = 1;
		return 0;
	case CONSOLE_FILE: {
		int fd = c->fd.console >= 0
			     ? c->fd.console
			     : open(c->console_path, O_WRONLY | O_CREAT | O_CLOEXEC, 0640);
		if (fd < 0 || conlog_init(&g.con_file, fd, VMM_CONSOLE_FILE_MAX) < 0) {
			log_errno("console.path: %s", c->console_path);
			return -1;
		}
		g.con_is_file = true;
		return 0;
	}
	case CONSOLE_PTY:
		if (open_pty() < 0) {
			log_errno("console: cannot open a pty");
			return -1;
		}
		log_msg("console on %s", g.pty);
		return 0;
	case CONSOLE_SOCKET:
		g.con_listen =
		    c->fd.console >= 0 ? listening(c->fd.console) : listen_unix(c->console_path);
		if (g.con_listen < 0) {
			log_errno("console.path: %s", c->console_path);
			return -1;
		}
		return 0;
	}
	return -1;
}

/* --- control socket */

static double since_ms(const struct timespec *t0)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)(t.tv_sec - t0->tv_sec) * 1e3 + (double)(t.tv_nsec - t0->tv_nsec) / 1e6;
}

static const char *state_name(void)
{
	static const char *const names[] = {"running", "paused", "stopping"};
	return names[g.vm.state];
}

static json_t *stats(void)
{
	json_t *cpus = json_array();
	for (unsigned i = 0; i < g.cfg.vcpus; i++) {
		struct vcpu *c = &g.vm.vcpus[i];
		json_t *exits = json_object();
		for (int k = 0; k < EXIT_KINDS; k++)
			json_object_set_new(exits, exit_kind_names[k],
					    json_integer((json_int_t)__atomic_load_n(
						&c->exits[k], __ATOMIC_RELAXED)));
		struct timespec cpu = {0};
		clockid_t clk;
		if (c->started && pthread_getcpuclockid(c->thread, &clk) == 0)
			clock_gettime(clk, &cpu);
		json_array_append_new(
		    cpus, json_pack("{s:i, s:o, s:I, s:I}", "id", (int)i, "exits", exits, "run_ns",
				    (json_int_t)__atomic_load_n(&c->run_ns, __ATOMIC_RELAXED),
				    "cpu_ns", (json_int_t)cpu.tv_sec * 1000000000 + cpu.tv_nsec));
	}
	return json_pack("{s:b, s:o}", "ok", 1, "vcpus", cpus);
}

static json_t *error(const char *msg)
{
	return json_pack("{s:b, s:s}", "ok", 0, "error", msg);
}

static json_t *ok_state(void)
{
	return json_pack("{s:b, s:s}", "ok", 1, "state", state_name());
}

static json_t *request(const char *line)
{
	enum control_cmd cmd;
	json_t *reply;
	if (control_request_parse(line, &cmd) < 0)
		return error(
		    "a request is {\"cmd\": \"state|pause|resume|stop|shutdown|stats|probe\"}");
	switch (cmd) {
	case CONTROL_STATE:
		reply =
		    json_pack("{s:b, s:s, s:s, s:i, s:I, s:f}", "ok", 1, "state", state_name(),
			      "name", g.cfg.name, "vcpus", (int)g.cfg.vcpus, "memory_mib",
			      (json_int_t)g.cfg.memory_mib, "uptime_ms", since_ms(&g.vm.started));
		json_object_set_new(reply, "boot_ms",
				    g.vm.boot_ms >= 0 ? json_real(g.vm.boot_ms) : json_null());
		if (g.pty[0])
			json_object_set_new(reply, "console_pty", json_string(g.pty));
		break;
	case CONTROL_PAUSE:
		reply = vm_pause(&g.vm) == 0 ? ok_state() : error("the VM is not running");
		if (json_is_true(json_object_get(reply, "ok")))
			log_msg("paused");
		break;
	case CONTROL_RESUME:
		reply = vm_resume(&g.vm) == 0 ? ok_state() : error("the VM is not paused");
		if (json_is_true(json_object_get(reply, "ok")))
			log_msg("resumed");
		break;
	case CONTROL_STOP:
		log_msg("stop requested on the control socket");
		vm_end(&g.vm, END_STOP);
		reply = ok_state();
		break;
	case CONTROL_SHUTDOWN:
		log_msg("shutdown requested: pressing the power button");
		vm_power_button(&g.vm);
		reply = ok_state();
		break;
	case CONTROL_STATS:
		reply = stats();
		break;
	case CONTROL_PROBE:
		reply = json_pack("{s:b, s:b, s:o}", "ok", 1, "jailed", g.cfg.jailed, "attempts",
				  jail_probe(&g.cfg));
		break;
	default:
		reply = error("unknown cmd");
		break;
	}
	return reply;
}

static void drop_client(struct client *c)
{
	close(c->fd);
	c->fd = -1;
	c->len = 0;
}

static void client_input(struct client *c)
{
	ssize_t n = read(c->fd, c->buf + c->len, sizeof(c->buf) - c->len);
	if (n <= 0) {
		if (n == 0 || errno != EAGAIN)
			drop_client(c);
		return;
	}
	c->len += (size_t)n;
	char *nl;
	while (c->fd >= 0 && (nl = memchr(c->buf, '\n', c->len))) {
		*nl = '\0';
		json_t *reply = request(c->buf);
		char *text = json_dumps(reply, JSON_COMPACT);
		json_decref(reply);
		if (text) {
			size_t len = strlen(text);
			text[len] = '\n'; /* replaces the NUL; written with it */
			if (send(c->fd, text, len + 1, MSG_NOSIGNAL) != (ssize_t)len + 1)
				drop_client(c);
			free(text);
		}
		size_t used = (size_t)(nl - c->buf) + 1;
		if (c->fd >= 0) {
			memmove(c->buf, nl + 1, c->len - used);
			c->len -= used;
		}
	}
	if (c->fd >= 0 && c->len == sizeof(c->buf)) {
		static const char msg[] = "{\"ok\":false,\"error\":\"request line too long\"}\n";
		ssize_t r = send(c->fd, msg, sizeof(msg) - 1, MSG_NOSIGNAL);
		(void)r;
		drop_client(c);
	}
}

static void accept_client(void)
{
	int fd = accept4(g.ctl_listen, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
	if (fd < 0)
		return;
	for (int i = 0; i < MAX_CLIENTS; i++)
		if (g.clients[i].fd < 0) {
			g.clients[i].fd = fd;
			g.clients[i].len = 0;
			watch(fd);
			return;
		}
	close(fd); /* too many clients */
}

/* --- console input */

static void console_input(int fd)
{
	uint8_t buf[UART_RX_FIFO];
	pthread_mutex_lock(&g.vm.lock);
	size_t room = uart_room(&g.vm.uart);
	pthread_mutex_unlock(&g.vm.lock);
	if (room == 0) {
		struct timespec t = {0, 1000000}; /* the guest is slow to read: let it */
		nanosleep(&t, NULL);
		return;
	}
	ssize_t n = read(fd, buf, room < sizeof(buf) ? room : sizeof(buf));
	if (n > 0) {
		vm_console_input(&g.vm, buf, (size_t)n);
		return;
	}
	if (n < 0 && errno == EAGAIN)
		return;
	epoll_ctl(g.epoll, EPOLL_CTL_DEL, fd, NULL);
	if (fd == g.con_client) {
		__atomic_store_n(&g.con_out, -1, __ATOMIC_RELAXED);
		close(fd);
		g.con_client = -1;
	}
}

static void accept_console(void)
{
	int fd = accept4(g.con_listen, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
	if (fd < 0)
		return;
	if (g.con_client >= 0) { /* one console client at a time */
		close(fd);
		return;
	}
	g.con_client = fd;
	__atomic_store_n(&g.con_out, fd, __ATOMIC_RELAXED);
	watch(fd);
}

/* Runs the VM until it ends; returns why. */
static enum vm_end run_vm(void)
{
	watch(g.vm.end_fd);
	for (;;) {
		struct epoll_event ev[16];
		int n = epoll_wait(g.epoll, ev, 16, -1);
		for (int i = 0; i < n; i++) {
			int fd = ev[i].data.fd;
			if (fd == g.vm.end_fd) {
				epoll_ctl(g.epoll, EPOLL_CTL_DEL, fd, NULL);
				return g.vm.end;
			} else if (fd == g.sigfd) {
				struct signalfd_siginfo si;
				if (read(g.sigfd, &si, sizeof(si)) == sizeof(si)) {
					log_msg("signal %u: stopping the VM", si.ssi_signo);
					vm_end(&g.vm, END_STOP);
				}
			} else if (fd == g.ctl_listen) {
				accept_client();
			} else if (g.con_is_file && fd == g.con_file.wake) {
				if (conlog_trim(&g.con_file) < 0)
					log_errno("console: cannot trim %s", g.cfg.console_path);
			} else if (fd == g.con_listen) {
				accept_console();
			} else if (fd == g.con_in || fd == g.con_client) {
				console_input(fd);
			} else {
				for (int k = 0; k < MAX_CLIENTS; k++)
					if (g.clients[k].fd == fd)
						client_input(&g.clients[k]);
			}
		}
	}
}

static int setup(void)
{
	if (open_console() < 0)
		return EXIT_CONFIG;
	if (g.cfg.control) {
		g.ctl_listen = g.cfg.fd.control >= 0 ? listening(g.cfg.fd.control)
						     : listen_unix(g.cfg.control);
		if (g.ctl_listen < 0) {
			log_errno("control: %s", g.cfg.control);
			return EXIT_CONFIG;
		}
	}
	g.epoll = epoll_create1(EPOLL_CLOEXEC);
	sigset_t set;
	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGHUP);
	sigaddset(&set, SIGUSR1);
	pthread_sigmask(SIG_BLOCK, &set, NULL); /* vCPU threads unblock SIGUSR1 */
	sigdelset(&set, SIGUSR1);
	g.sigfd = signalfd(-1, &set, SFD_CLOEXEC);
	/* handlers, though the signals are read from sigfd: a PID namespace's
	 * first process (a jailed keel-vmm) is sent no signal it has none for */
	struct sigaction sa = {.sa_handler = noop};
	sigaction(SIGUSR1, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
	if (g.epoll < 0 || g.sigfd < 0) {
		log_errno("epoll/signalfd");
		return EXIT_CRASH;
	}
	watch(g.sigfd);
	if (g.ctl_listen >= 0)
		watch(g.ctl_listen);
	if (g.con_listen >= 0)
		watch(g.con_listen);
	if (g.con_is_file)
		watch(g.con_file.wake);
	if (g.con_in >= 0) {
		struct epoll_event ev = {.events = EPOLLIN, .data.fd = g.con_in};
		if (epoll_ctl(g.epoll, EPOLL_CTL_ADD, g.con_in, &ev) < 0)
			g.con_in = -1; /* e.g. stdin is a regular file: no input */
	}
	for (int i = 0; i < MAX_CLIENTS; i++)
		g.clients[i].fd = -1;
	return 0;
}

int main(int argc, char **argv)
{
	static char tag[80];
	int rc;
	clock_gettime(CLOCK_MONOTONIC, &g.vm.started); /* the boot timer counts from here */
	log_init("keel-vmm", 2, NULL);
	/* --seccomp-test: once the VM runs, try a forbidden system call; the
	 * filter must kill the process (for the tests; see docs/vmm.md) */
	bool seccomp_test = argc == 3 && strcmp(argv[1], "--seccomp-test") == 0;
	bool by_fd = argc == 3 && strcmp(argv[1], "--config-fd") == 0;
	char *end = NULL;
	long cfg_fd = by_fd ? strtol(argv[2], &end, 10) : -1;
	if ((argc != 2 && !seccomp_test && !by_fd) || (!by_fd && argv[argc - 1][0] == '-') ||
	    (by_fd && (end == argv[2] || *end || cfg_fd < 0 || cfg_fd > VMM_FD_MAX))) {
		fprintf(stderr, "usage: keel-vmm CONFIG.json | keel-vmm --config-fd FD\n");
		return EXIT_CONFIG;
	}
	const char *path = by_fd ? NULL : argv[argc - 1];
	char err[256];
	if (vmmconf_load(path, (int)cfg_fd, &g.cfg, err, sizeof(err)) < 0) {
		log_msg("%s: %s", path ? path : "--config-fd", err);
		return EXIT_CONFIG;
	}
	if (by_fd)
		close((int)cfg_fd);
	snprintf(tag, sizeof(tag), "keel-vmm[%s]", g.cfg.name);
	log_init(tag, 2, NULL);
	rc = jail_open(&g.cfg);
	if (rc < 0)
		return rc == -2 ? EXIT_CRASH : EXIT_CONFIG;
	rc = setup();
	if (rc)
		return rc;
	/* glibc reads the time zone at the first time conversion (the CMOS
	 * clock's): now, while files can still be opened */
	tzset();
	if (g.cfg.jailed && jail_enter(&g.cfg) < 0)
		return EXIT_CRASH;
	if (sandbox_enter(SANDBOX_MAIN) < 0)
		return EXIT_CRASH;
	for (;;) {
		rc = vm_create(&g.vm, &g.cfg, g.cfg.fd.kvm);
		if (rc == 0) {
			g.vm.console_out = console_out;
			log_msg("starting: %u vCPU, %llu MiB, %s %s", g.cfg.vcpus,
				(unsigned long long)g.cfg.memory_mib,
				g.cfg.firmware ? "firmware" : "kernel",
				g.cfg.firmware ? g.cfg.firmware : g.cfg.kernel);
			if (vm_start(&g.vm) < 0)
				rc = EXIT_CRASH;
		}
		if (rc == 0 && seccomp_test) {
			log_msg("seccomp test: calling execve, which the filter forbids");
			execv("/sbin/keel-vmm", argv);
			log_msg("seccomp test: still alive after execve");
			return 99;
		}
		if (rc) {
			vm_destroy(&g.vm);
			break;
		}
		enum vm_end why = run_vm();
		vm_destroy(&g.vm);
		if (why == END_RESET && !g.cfg.reboot_exits) {
			log_msg("guest rebooted: restarting it");
			clock_gettime(CLOCK_MONOTONIC, &g.vm.started);
			continue;
		}
		static const char *const what[] = {"",
						   "guest powered off",
						   "guest rebooted",
						   "guest crashed",
						   "stopped",
						   "the firmware found no bootable disk"};
		static const int codes[] = {0, 0, EXIT_REBOOT, EXIT_CRASH, 0, EXIT_NO_BOOT};
		log_msg("%s", what[why]);
		rc = codes[why];
		break;
	}
	/* the sockets' files stay (the filter allows no unlink): whoever made
	 * them removes them; keel-vmm run by hand replaces them when it starts */
	vmmconf_free(&g.cfg);
	return rc;
}
