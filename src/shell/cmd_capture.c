/* capture IFACE [-c N] [-s SECONDS] FILE: the packets an interface sends
 * and receives (an AF_PACKET socket bound to it), written in pcap format
 * (pcap.h) to a new file CAPTURE_DIR/FILE, never anywhere else, and never
 * over an existing file. Bounded: N packets (default 100, at most
 * 100000), SECONDS (default 10, at most 600) and CAPTURE_BYTES_MAX bytes
 * of file, whichever comes first; Ctrl-C ends it too. */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/if_ether.h>
#include <linux/if_packet.h>
#include <net/if.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "shell/cmd.h"
#include "shell/intr.h"
#include "shell/out.h"
#include "shell/pcap.h"

#define CAPTURE_COUNT_DEFAULT 100
#define CAPTURE_COUNT_MAX     100000
#define CAPTURE_SECONDS_DEF   10
#define CAPTURE_SECONDS_MAX   600
#define CAPTURE_SNAPLEN	      65535
#define CAPTURE_BYTES_MAX     (256L << 20)

static int write_all(int fd, const void *data, size_t len)
{
	const char *p = data;
	while (len > 0) {
		ssize_t n = write(fd, p, len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return -1;
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

/* the new file; -1 after a message */
static int create_file(struct shell *sh, const char *file, char *path, size_t n)
{
	const char *name = file;
	size_t dl = strlen(CAPTURE_DIR);
	if (!strncmp(file, CAPTURE_DIR "/", dl + 1))
		name = file + dl + 1;
	if (!pcap_file_name_valid(name)) {
		say_error("capture",
			  "%s: give a file name (letters, digits, '.', '_', '-'), created "
			  "in " CAPTURE_DIR,
			  file);
		return -1;
	}
	char dir[1024];
	snprintf(dir, sizeof(dir), "%s" CAPTURE_DIR, sh->root);
	if (mkdir(dir, 0700) < 0 && errno != EEXIST) {
		say_error("capture", "%s: %s", dir, strerror(errno));
		return -1;
	}
	snprintf(path, n, "%s/%s", dir, name);
	int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	int fd = dfd >= 0
		     ? openat(dfd, name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600)
		     : -1;
	if (fd < 0)
		say_error("capture", "%s: %s", path, strerror(errno));
	if (dfd >= 0)
		close(dfd);
	return fd;
}

static int open_packet_socket(const char *iface)
{
	unsigned index = if_nametoindex(iface);
	if (!index) {
		errno = ENODEV;
		return -1;
	}
	int fd = socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC, htons(ETH_P_ALL));
	if (fd < 0)
		return -1;
	struct sockaddr_ll ll = {
	    .sll_family = AF_PACKET, .sll_protocol = htons(ETH_P_ALL), .sll_ifindex = (int)index};
	if (bind(fd, (struct sockaddr *)&ll, sizeof(ll)) < 0) {
		int e = errno;
		close(fd);
		errno = e;
		return -1;
	}
	return fd;
}

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int cmd_capture(struct shell *sh, int argc, char **argv)
{
	long count = CAPTURE_COUNT_DEFAULT, seconds = CAPTURE_SECONDS_DEF;
	const char *iface = NULL, *file = NULL;
	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "-c") && i + 1 < argc) {
			if (cmd_number("capture", "-c", argv[++i], 1, CAPTURE_COUNT_MAX, &count) <
			    0)
				return 1;
		} else if (!strcmp(argv[i], "-s") && i + 1 < argc) {
			if (cmd_number("capture", "-s", argv[++i], 1, CAPTURE_SECONDS_MAX,
				       &seconds) < 0)
				return 1;
		} else if (argv[i][0] != '-' && !iface) {
			iface = argv[i];
		} else if (argv[i][0] != '-' && !file) {
			file = argv[i];
		} else {
			iface = file = NULL;
			break;
		}
	}
	if (!iface || !file) {
		say_error("capture", "usage: capture IFACE [-c N] [-s SECONDS] FILE");
		return 1;
	}
	if (strlen(iface) >= IF_NAMESIZE) {
		say_error("capture", "%.32s: no such interface", iface);
		return 1;
	}
	int sock = open_packet_socket(iface);
	if (sock < 0) {
		say_error("capture", "%s: %s", iface, strerror(errno));
		return 1;
	}
	char path[PATH_MAX];
	int out = create_file(sh, file, path, sizeof(path));
	if (out < 0) {
		close(sock);
		return 1;
	}
	static uint8_t packet[CAPTURE_SNAPLEN];
	uint8_t head[PCAP_GLOBAL_LEN];
	pcap_global_header(head, CAPTURE_SNAPLEN, PCAP_LINKTYPE_ETHERNET);
	int rc = write_all(out, head, sizeof(head));
	long got = 0, bytes = PCAP_GLOBAL_LEN;
	double end = now_s() + (double)seconds;
	printf("capturing on %s: %ld packets or %ld s (Ctrl-C ends it)\n", iface, count, seconds);
	fflush(stdout);
	while (rc == 0 && got < count && !intr_pending()) {
		double left = end - now_s();
		if (left <= 0)
			break;
		struct pollfd p = {.fd = sock, .events = POLLIN};
		int n = poll(&p, 1, (int)(left * 1000) + 1);
		if (n <= 0)
			continue;
		ssize_t len = recv(sock, packet, sizeof(packet), MSG_TRUNC | MSG_DONTWAIT);
		if (len < 0)
			continue;
		uint32_t caplen = len > CAPTURE_SNAPLEN ? CAPTURE_SNAPLEN : (uint32_t)len;
		if (bytes + PCAP_RECORD_LEN + (long)caplen > CAPTURE_BYTES_MAX) {
			say_error("capture", "the file reached %ld MiB: stopped",
				  CAPTURE_BYTES_MAX >> 20);
			break;
		}
		struct timespec ts;
		clock_gettime(CLOCK_REALTIME, &ts);
		uint8_t rec[PCAP_RECORD_LEN];
		pcap_record_header(rec, (uint32_t)ts.tv_sec, (uint32_t)(ts.tv_nsec / 1000), caplen,
				   (uint32_t)len);
		rc = write_all(out, rec, sizeof(rec));
		if (rc == 0)
			rc = write_all(out, packet, caplen);
		bytes += PCAP_RECORD_LEN + (long)caplen;
		got++;
	}
	close(sock);
	if (rc == 0 && fsync(out) < 0)
		rc = -1;
	if (close(out) < 0)
		rc = -1;
	if (rc < 0) {
		say_error("capture", "%s: cannot write: %s", path, strerror(errno));
		return 1;
	}
	printf("%ld packets written to %s\n", got, path);
	return 0;
}
