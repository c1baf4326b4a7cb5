"""Runs keel-hostd on the build machine, without the appliance, for the tests
that only need its API: no QEMU, no emulated TLS and network, native speed.

hostd gets namespaces of its own: a network namespace, reached from here
through a veth pair (10.231.X.1/30 on this side, 10.231.X.2/30 on its eth0;
and fd00:X::1/64, fd00:X::2/64 in IPv6, X in hex),
and a mount and UTS namespace in which it is chrooted into a fake root under
the test's folder. There /usr and /etc are this machine's, read-only (bin,
lib, lib64 as here: links into usr on a merged /usr); /dev, /proc and /sys are
bound in (/sys as `ip netns exec` mounts it: the namespace's interfaces); and
what hostd writes, /config, /scratch, /run, /datastores and /tmp, are plain
folders of the fake root. /sbin holds only keel-hostd, keel-vmm, keel-dcui,
keel-shell and keel (the host's CLI, keel-host-cli), the ones built by meson
(`make build`). The mounts vanish with hostd's mount
namespace, the veth pair with the network namespace."""
import os
import shlex
import subprocess

from harness import ROOT, wait_for_output

BUILD = os.path.join(ROOT, "build", "src")
BINARIES = {"keel-hostd": os.path.join(BUILD, "hostd", "keel-hostd"),
            "keel-vmm": os.path.join(BUILD, "vmm", "keel-vmm"),
            "keel-dcui": os.path.join(BUILD, "dcui", "keel-dcui"),
            # tech support mode's shell, and the host's CLI it runs as /sbin/keel
            "keel-shell": os.path.join(BUILD, "shell", "keel-shell"),
            "keel": os.path.join(BUILD, "cli", "keel-host-cli")}
API_PORT = 443  # the namespace is hostd's alone, as the appliance is
START_TIMEOUT = 30


class NativeHost:
    def __init__(self, workdir):
        self.workdir = workdir
        self.root = os.path.join(workdir, "root")
        self.log = os.path.join(workdir, "hostd-console.log")
        self.api_port = API_PORT
        self.netns = self.address = self.address6 = self.proc = self.pid = self.x = None

    def _claim_network(self):
        """Makes a network namespace keel-native-X, for the first X (from this
        process's pid on) whose name is free: `ip netns add` fails on a name
        taken, so concurrent test processes never share one."""
        for i in range(256):
            x = (os.getpid() + i) % 256
            if os.path.exists(f"/sys/class/net/keel-n{x}"):
                continue  # a namespace of that X still being torn down
            if subprocess.run(["ip", "netns", "add", f"keel-native-{x}"],
                              capture_output=True).returncode == 0:
                self.netns = f"keel-native-{x}"
                return x
        raise RuntimeError("no free keel-native-X network namespace")

    def _fake_root(self):
        """Makes the fake root's folders, links and mount points; returns the
        mounts to make in the namespace, as (source, mount point, read-only)."""
        for d in ("usr", "etc", "dev", "proc", "sys", "sbin", "config", "scratch", "run",
                  "tmp", "datastores/local"):
            os.makedirs(os.path.join(self.root, d), exist_ok=True)
        mounts = [("/usr", "usr", True), ("/etc", "etc", True), ("/dev", "dev", False),
                  ("/proc", "proc", False), ("/sys", "sys", False)]
        for d in ("bin", "lib", "lib64"):
            if os.path.islink("/" + d):
                os.symlink(os.readlink("/" + d), os.path.join(self.root, d))
            elif os.path.isdir("/" + d):
                os.mkdir(os.path.join(self.root, d))
                mounts.append(("/" + d, d, True))
        for name, path in BINARIES.items():
            open(os.path.join(self.root, "sbin", name), "w").close()
            mounts.append((path, "sbin/" + name, True))
        return mounts

    def start(self):
        """Starts hostd in new namespaces; returns once its API is ready."""
        x = self.x = self._claim_network()
        self.address = f"10.231.{x}.2"
        self.address6 = f"fd00:{x:x}::2"
        veth, ns = f"keel-n{x}", ["ip", "-n", self.netns]
        for cmd in (["ip", "link", "add", veth, "type", "veth", "peer", "name", "eth0",
                     "netns", self.netns],
                    ["ip", "addr", "add", f"10.231.{x}.1/30", "dev", veth],
                    # nodad: usable at once, without duplicate address detection
                    ["ip", "addr", "add", f"fd00:{x:x}::1/64", "dev", veth, "nodad"],
                    ["ip", "link", "set", veth, "up"],
                    ns + ["addr", "add", f"{self.address}/30", "dev", "eth0"],
                    ns + ["addr", "add", f"{self.address6}/64", "dev", "eth0", "nodad"],
                    ns + ["link", "set", "eth0", "up"],
                    ns + ["link", "set", "lo", "up"]):
            subprocess.run(cmd, check=True, capture_output=True)
        mounts = self._fake_root()
        script = [f"mount --bind {'-o ro ' if ro else ''}{shlex.quote(src)} "
                  f"{shlex.quote(os.path.join(self.root, dest))}" for src, dest, ro in mounts]
        # every step execs the next: the process started here becomes hostd
        script.append(f"exec chroot {shlex.quote(self.root)} /sbin/keel-hostd "
                      f"--port {self.api_port}")
        with open(self.log, "ab") as log:
            self.proc = subprocess.Popen(
                ["ip", "netns", "exec", self.netns, "unshare", "--mount", "--uts",
                 "--propagation", "private", "sh", "-ec", "\n".join(script)],
                stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT)
        self.wait_for(r"keel-hostd: API ready", START_TIMEOUT)
        with open(f"/proc/{self.proc.pid}/comm") as f:
            assert f.read().strip() == "keel-hostd", "not hostd's own pid"
        self.pid = self.proc.pid
        return self

    def add_sources(self, n, first=1):
        """n more addresses of this side, 10.232.X.first to .first+n-1, each a
        client address of its own to hostd (routed there through the veth
        pair); they go with the veth pair."""
        subprocess.run(["ip", "-n", self.netns, "route", "replace", f"10.232.{self.x}.0/24",
                        "via", f"10.231.{self.x}.1"], check=True, capture_output=True)
        sources = [f"10.232.{self.x}.{k}" for k in range(first, first + n)]
        for a in sources:
            subprocess.run(["ip", "addr", "add", f"{a}/32", "dev", f"keel-n{self.x}"],
                           check=True, capture_output=True)
        return sources

    def add_sources6(self, subnet, n):
        """n more IPv6 addresses of this side, all in the /64
        fd00:X:SUBNET::/64 (SUBNET 1 to ffff), fd00:X:SUBNET::1 to ::n (in
        hex), routed there through the veth pair; they go with it."""
        prefix = f"fd00:{self.x:x}:{subnet:x}::"
        subprocess.run(["ip", "-n", self.netns, "route", "add", prefix + "/64",
                        "via", f"fd00:{self.x:x}::1"], check=True, capture_output=True)
        sources = [f"{prefix}{k:x}" for k in range(1, n + 1)]
        for a in sources:
            subprocess.run(["ip", "addr", "add", f"{a}/128", "dev", f"keel-n{self.x}",
                            "nodad"], check=True, capture_output=True)
        return sources

    def spawn(self, argv, **popen_kwargs):
        """Starts argv (a program of the fake root, e.g. /sbin/keel-dcui) as
        root in hostd's namespaces and under its root, as keel-init would
        on the appliance; returns the Popen."""
        return subprocess.Popen(["nsenter", "-t", str(self.pid), "-m", "-n", "-u", "-r", "-w",
                                 "--"] + list(argv), **popen_kwargs)

    def console(self):
        """hostd's output (it logs to stdout), as the appliance's console."""
        try:
            with open(self.log, errors="replace") as f:
                return f.read()
        except FileNotFoundError:
            return ""

    def all_console(self):
        return self.console()

    def wait_for(self, pattern, timeout=START_TIMEOUT):
        """Waits for a regex on hostd's output; returns the match."""
        return wait_for_output(self.console, self.proc, "keel-hostd", pattern, timeout)

    def kill(self):
        """Kills hostd (its mounts go with it) and deletes its network
        namespace (the veth pair goes with it)."""
        if self.proc and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
        if self.netns:
            subprocess.run(["ip", "netns", "del", self.netns], check=True)
            self.netns = None
