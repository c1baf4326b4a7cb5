/* bridges and connections: the host's bridges (/sys/class/net/BR/bridge,
 * their ports in brif/), each port's VLANs (rtnetlink's AF_BRIDGE dump:
 * Keel's switches are VLAN-filtering bridges) and VLAN devices
 * (/proc/net/vlan/config); its
 * TCP and UDP sockets (/proc/net/tcp, tcp6, udp, udp6, decoded by
 * netproc.h) with the process that holds each (by the socket's inode among
 * /proc/PID/fd). */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/rtnetlink.h>
#include <net/if.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/util.h"
#include "shell/cmd.h"
#include "shell/brvlan.h"
#include "shell/netdump.h"
#include "shell/netproc.h"
#include "shell/out.h"
#include "shell/procfs.h"

#define SOCKET_OWNERS_MAX 65536
#define NET_LINE_MAX	  512

static int print_ports(const char *root, const char *bridge)
{
	char path[PATH_MAX];
	snprintf(path, sizeof(path), "%s/sys/class/net/%s/brif", root, bridge);
	DIR *d = opendir(path);
	int n = 0;
	for (struct dirent *e; d && (e = readdir(d));) {
		if (e->d_name[0] == '.' || strlen(e->d_name) >= 16)
			continue;
		char name[16];
		str_copy(name, sizeof(name), e->d_name);
		text_printable_name(name);
		printf("%s%s", n++ ? " " : "", name);
	}
	if (d)
		closedir(d);
	return n;
}

/* one bridge port's VLANs: "PORT (BRIDGE)  VID..." with P (its PVID) and
 * U (egress untagged) after a VLAN, A-B for a range */
static int port_vlans_cb(const struct nlmsghdr *nlh, void *ctx)
{
	int *ports = ctx;
	const struct nlattr *tb[IFLA_MAX + 1];
	static const enum mnl_attr_data_type types[IFLA_MAX + 1] = {
	    [IFLA_IFNAME] = MNL_TYPE_NUL_STRING,
	    [IFLA_MASTER] = MNL_TYPE_U32,
	    [IFLA_AF_SPEC] = MNL_TYPE_NESTED,
	};
	if (nlh->nlmsg_type != RTM_NEWLINK ||
	    netdump_attrs(nlh, sizeof(struct ifinfomsg), tb, IFLA_MAX, types) < 0 ||
	    !tb[IFLA_IFNAME] || !tb[IFLA_MASTER] || !tb[IFLA_AF_SPEC])
		return MNL_CB_OK; /* a bridge's own entry, or no VLANs */
	char name[IF_NAMESIZE + 1], master[IF_NAMESIZE + 1];
	str_copy(name, sizeof(name), mnl_attr_get_str(tb[IFLA_IFNAME]));
	text_printable_name(name);
	if (!if_indextoname(mnl_attr_get_u32(tb[IFLA_MASTER]), master))
		snprintf(master, sizeof(master), "?");
	text_printable_name(master);
	if ((*ports)++ == 0)
		printf("\n%-24s %s\n", "PORT (BRIDGE)", "VLANS (P: PVID, U: untagged)");
	char head[48], vlans[8192];
	snprintf(head, sizeof(head), "%s (%s)", name, master);
	printf("%-24s %s\n", head,
	       brvlan_format(tb[IFLA_AF_SPEC], vlans, sizeof(vlans)) ? vlans : "none");
	return MNL_CB_OK;
}

int cmd_bridges(struct shell *sh, int argc, char **argv)
{
	(void)argv;
	if (argc != 1) {
		say_error("bridges", "usage: bridges");
		return 1;
	}
	char dir[1024];
	snprintf(dir, sizeof(dir), "%s/sys/class/net", sh->root);
	DIR *d = opendir(dir);
	if (!d) {
		say_error("bridges", "%s: %s", dir, strerror(errno));
		return 1;
	}
	printf("%-16s %-8s %-5s %s\n", "BRIDGE", "VLANS", "STP", "PORTS");
	for (struct dirent *e; (e = readdir(d));) {
		if (e->d_name[0] == '.' || strlen(e->d_name) >= 16)
			continue;
		char path[PATH_MAX], filtering[8] = "?", stp[8] = "?", name[16];
		snprintf(path, sizeof(path), "%s/%s/bridge", dir, e->d_name);
		if (access(path, F_OK) < 0)
			continue;
		snprintf(path, sizeof(path), "%s/%s/bridge/vlan_filtering", dir, e->d_name);
		sysfs_line(path, filtering, sizeof(filtering));
		snprintf(path, sizeof(path), "%s/%s/bridge/stp_state", dir, e->d_name);
		sysfs_line(path, stp, sizeof(stp));
		str_copy(name, sizeof(name), e->d_name);
		text_printable_name(name);
		printf("%-16s %-8s %-5s ", name, strcmp(filtering, "1") ? "off" : "filter",
		       strcmp(stp, "0") ? "on" : "off");
		if (!print_ports(sh->root, e->d_name))
			printf("-");
		putchar('\n');
	}
	closedir(d);
	char err[256];
	int ports = 0;
	if (netdump(RTM_GETLINK, AF_BRIDGE, RTEXT_FILTER_BRVLAN, port_vlans_cb, &ports, err,
		    sizeof(err)) < 0)
		say_error("bridges", "the ports' VLANs: %s", err);
	/* VLAN devices: "NAME | VID | PARENT" after two header lines */
	char path[PATH_MAX], line[NET_LINE_MAX];
	snprintf(path, sizeof(path), "%s/proc/net/vlan/config", sh->root);
	FILE *f = fopen(path, "re");
	if (!f) {
		puts("\nVLAN devices: none (no 802.1Q module loaded)");
		return 0;
	}
	printf("\n%-16s %-5s %s\n", "VLAN DEVICE", "VID", "PARENT");
	for (int n = 0; fgets(line, sizeof(line), f); n++) {
		char name[32], parent[32];
		unsigned vid;
		if (n < 2 || sscanf(line, "%31s | %u | %31s", name, &vid, parent) != 3 ||
		    vid > 4095)
			continue;
		text_printable_name(name);
		text_printable_name(parent);
		printf("%-16s %-5u %s\n", name, vid, parent);
	}
	fclose(f);
	return 0;
}

/* socket inode -> "PID/COMM" */
struct owner {
	unsigned long inode;
	char who[40];
};

struct owners {
	struct owner *list;
	size_t n, cap;
};

static void add_owner(struct owners *o, unsigned long inode, const char *who)
{
	if (o->n == SOCKET_OWNERS_MAX)
		return;
	if (o->n == o->cap) {
		size_t cap = o->cap ? o->cap * 2 : 256;
		struct owner *l = realloc(o->list, cap * sizeof(*l));
		if (!l)
			return;
		o->list = l;
		o->cap = cap;
	}
	o->list[o->n].inode = inode;
	str_copy(o->list[o->n].who, sizeof(o->list[o->n].who), who);
	o->n++;
}

static void process_sockets(struct owners *o, int procfd, const char *pid)
{
	char path[64], comm[32] = "?", link[64];
	snprintf(path, sizeof(path), "%s/comm", pid);
	int cfd = openat(procfd, path, O_RDONLY | O_CLOEXEC);
	if (cfd >= 0) {
		ssize_t n = read(cfd, comm, sizeof(comm) - 1);
		comm[n > 0 ? n : 0] = '\0';
		comm[strcspn(comm, "\n")] = '\0';
		text_printable_name(comm);
		close(cfd);
	}
	snprintf(path, sizeof(path), "%s/fd", pid);
	int dfd = openat(procfd, path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	DIR *d = dfd >= 0 ? fdopendir(dfd) : NULL;
	if (!d) {
		if (dfd >= 0)
			close(dfd);
		return;
	}
	char who[40];
	snprintf(who, sizeof(who), "%s/%s", pid, comm);
	for (struct dirent *e; (e = readdir(d));) {
		ssize_t n = readlinkat(dirfd(d), e->d_name, link, sizeof(link) - 1);
		unsigned long inode;
		if (n <= 0)
			continue;
		link[n] = '\0';
		if (sscanf(link, "socket:[%lu]", &inode) == 1)
			add_owner(o, inode, who);
	}
	closedir(d);
}

static void find_owners(const char *root, struct owners *o)
{
	char path[PATH_MAX];
	snprintf(path, sizeof(path), "%s/proc", root);
	DIR *d = opendir(path);
	for (struct dirent *e; d && (e = readdir(d));) {
		size_t n = strlen(e->d_name);
		if (n && n <= 10 && strspn(e->d_name, "0123456789") == n)
			process_sockets(o, dirfd(d), e->d_name);
	}
	if (d)
		closedir(d);
}

static const char *owner_of(const struct owners *o, unsigned long inode)
{
	for (size_t i = 0; i < o->n && inode; i++)
		if (o->list[i].inode == inode)
			return o->list[i].who;
	return "-";
}

static void print_table(const char *root, const char *name, bool tcp, bool ipv6,
			const struct owners *o)
{
	char path[PATH_MAX], line[NET_LINE_MAX];
	snprintf(path, sizeof(path), "%s/proc/net/%s", root, name);
	FILE *f = fopen(path, "re");
	if (!f)
		return;
	for (int n = 0; fgets(line, sizeof(line), f); n++) {
		struct netproc_sock s;
		if (n == 0 || !strchr(line, '\n') || netproc_parse(line, ipv6, &s) < 0)
			continue;
		char local[80], remote[80];
		netproc_format(&s, true, local, sizeof(local));
		netproc_format(&s, false, remote, sizeof(remote));
		printf("%-5s %-46s %-46s %-12s %s\n", name, local, remote,
		       tcp	      ? netproc_tcp_state(s.state)
		       : s.state == 7 ? "-"
				      : "CONNECTED",
		       owner_of(o, s.inode));
	}
	fclose(f);
}

int cmd_connections(struct shell *sh, int argc, char **argv)
{
	(void)argv;
	if (argc != 1) {
		say_error("connections", "usage: connections");
		return 1;
	}
	struct owners o = {0};
	find_owners(sh->root, &o);
	printf("%-5s %-46s %-46s %-12s %s\n", "PROTO", "LOCAL", "REMOTE", "STATE", "PROCESS");
	print_table(sh->root, "tcp", true, false, &o);
	print_table(sh->root, "tcp6", true, true, &o);
	print_table(sh->root, "udp", false, false, &o);
	print_table(sh->root, "udp6", false, true, &o);
	free(o.list);
	return 0;
}
