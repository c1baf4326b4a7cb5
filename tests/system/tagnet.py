"""A network of the test's own for one appliance's management NIC, in place of
QEMU's user network (slirp), which drops 802.1Q-tagged frames: a tagged peer,
for the management VLAN tests.

The build machine's kernel has neither 8021q nor bridge VLAN filtering, so the
tags are handled here, in Python, as a switch's trunk port would:

    QEMU -netdev socket (UDP, a frame a datagram)
      <-> relay thread (tags added and removed)
      <-> TAP segN, one per segment (VLAN N; seg0: untagged), in a network
          namespace of the test's own, where dnsmasq serves DHCP on each

and TCP forwarders take slirp's hostfwd's place: a port on 127.0.0.1 here,
connected through the namespace to the host's address there.

The namespace is that of a `sleep infinity` started with `unshare -n`; the
threads that work in it enter it for themselves only (setns(2) changes the
calling thread's namespace, not the process's). Everything goes at close():
the namespace, and the TAPs with it, once its last process and fd are gone."""
import collections
import ctypes
import fcntl
import ipaddress
import os
import re
import select
import socket
import struct
import subprocess
import threading
import time

CLONE_NEWNET = 0x40000000
TUNSETIFF = 0x400454CA
IFF_TAP, IFF_NO_PI = 0x0002, 0x1000
ETH_P_8021Q = 0x8100
LEASE_HOST = 100  # dnsmasq hands out a.b.c.100 on each segment
CONNECT_TIMEOUT = 10  # seconds, for a forwarded connection to the host

_libc = ctypes.CDLL(None, use_errno=True)


def _enter_netns(fd):
    """Moves the calling thread (only) into the network namespace fd."""
    if _libc.setns(fd, CLONE_NEWNET) != 0:
        err = ctypes.get_errno()
        raise OSError(err, f"setns: {os.strerror(err)}")


def free_udp_port():
    """A UDP port free on 127.0.0.1 (for QEMU to bind)."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class TagNet:
    """segments: {vid: "a.b.c.1/24"}, the address of this side on each
    segment; vid 0 is untagged. Usage:

        net = TagNet(workdir, {0: "10.10.0.1/24", 20: "10.20.0.1/24"}).start()
        appliance.net = net      # harness.Appliance boots on it
        ...
        net.close()

    Attributes: netdev (QEMU's -netdev for the management NIC: QEMU on UDP
    port qemu_port, the relay on relay_port), frames and
    dropped ({vid: count} of the frames from QEMU, 0 for untagged; dropped:
    those with no segment to go to), target_ip (where forwarded connections
    go, read at each new one: by default the lease of segment 0)."""

    def __init__(self, workdir, segments):
        self.workdir = workdir
        self.segments = {vid: ipaddress.ip_interface(a) for vid, a in segments.items()}
        assert all(0 <= vid < 4095 for vid in self.segments), segments
        self.target_ip = self.lease_ip(0) if 0 in self.segments else None
        self.frames = collections.Counter()
        self.dropped = collections.Counter()
        self.dhcp_log = os.path.join(workdir, "dnsmasq.log")
        self.ns_proc = self.dnsmasq = self._nsfd = self._udp = None
        self.relay_port = self.qemu_port = None  # UDP, on 127.0.0.1 (netdev)
        self._forwards = {}  # guest port: host port
        self._threads = []
        self._wake_r, self._wake_w = os.pipe()  # written once, at close()
        self._relay_ready = threading.Event()
        self._relay_error = None

    def lease_ip(self, vid):
        """The address dnsmasq hands out on segment vid."""
        return str(self.segments[vid].network.network_address + LEASE_HOST)

    @property
    def netdev(self):
        """QEMU's -netdev for the management NIC: a frame a UDP datagram,
        QEMU binding localaddr and sending to udp (the relay's socket)."""
        return (f"socket,id=mgmt,udp=127.0.0.1:{self.relay_port},"
                f"localaddr=127.0.0.1:{self.qemu_port}")

    def _ns(self, *argv):
        """argv run in the namespace (nsenter execs it: same pid)."""
        return ["nsenter", "-t", str(self.ns_proc.pid), "-n", "--", *argv]

    def start(self):
        """Makes the namespace and its TAPs, starts the relay and dnsmasq."""
        try:
            self._start()
        except BaseException:
            self.close()
            raise
        return self

    def _start(self):
        self.ns_proc = subprocess.Popen(["unshare", "-n", "sleep", "infinity"],
                                        stdin=subprocess.DEVNULL)
        ours = os.readlink("/proc/self/ns/net")
        path = f"/proc/{self.ns_proc.pid}/ns/net"
        deadline = time.monotonic() + 10
        while os.readlink(path) == ours:  # until unshare has unshared
            assert time.monotonic() < deadline and self.ns_proc.poll() is None, \
                "unshare -n did not make a network namespace"
            time.sleep(0.01)
        self._nsfd = os.open(path, os.O_RDONLY | os.O_CLOEXEC)
        cmds = [["ip", "link", "set", "lo", "up"]]
        for vid, addr in self.segments.items():
            tap = f"seg{vid}"
            cmds += [["ip", "tuntap", "add", "dev", tap, "mode", "tap"],
                     ["ip", "addr", "add", str(addr), "dev", tap],
                     ["ip", "link", "set", tap, "up"]]
        for cmd in cmds:
            subprocess.run(self._ns(*cmd), check=True, capture_output=True)

        # the relay's UDP socket, made here: in this (the main) namespace
        self._udp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self._udp.bind(("127.0.0.1", 0))
        self._udp.setblocking(False)
        self.relay_port = self._udp.getsockname()[1]
        self.qemu_port = free_udp_port()
        self._spawn(self._relay, "tagnet-relay")
        self._relay_ready.wait(10)
        if self._relay_error or not self._relay_ready.is_set():
            raise RuntimeError(f"tagnet: the relay did not start: {self._relay_error}")

        # dnsmasq, DHCP only (--port=0: no DNS), a.b.c.100 on each segment
        # with this side's address as the router; its files in the test's
        # folder (root's only: dnsmasq stays root rather than nobody); no
        # ping before an offer (it only delays the first lease);
        # authoritative: a request for an address it does not know (the
        # host's lease of another segment) is refused (NAK) at once, not ignored
        args = ["dnsmasq", "--no-daemon", "--conf-file=/dev/null", "--port=0",
                "--bind-interfaces", "--user=root", "--no-ping",
                "--dhcp-authoritative", "--log-dhcp", f"--log-facility={self.dhcp_log}",
                f"--dhcp-leasefile={os.path.join(self.workdir, 'dnsmasq.leases')}",
                f"--pid-file={os.path.join(self.workdir, 'dnsmasq.pid')}"]
        for vid, addr in self.segments.items():
            lease = self.lease_ip(vid)
            args += [f"--interface=seg{vid}",
                     f"--dhcp-range=set:seg{vid},{lease},{lease},{addr.netmask},1h",
                     f"--dhcp-option=tag:seg{vid},option:router,{addr.ip}"]
        with open(os.path.join(self.workdir, "dnsmasq.out"), "ab") as out:
            self.dnsmasq = subprocess.Popen(self._ns(*args), stdin=subprocess.DEVNULL,
                                            stdout=out, stderr=subprocess.STDOUT)
        self.wait_log(r"DHCP, IP range", "dnsmasq's start", 10, len(self.segments))

    def _spawn(self, target, name, *args):
        t = threading.Thread(target=target, args=args, name=name, daemon=True)
        self._threads.append(t)
        t.start()
        return t

    # --- the relay: a trunk port between QEMU and the segments' TAPs ---

    def _relay(self):
        """Opens the TAPs (in the namespace), then moves frames until close()."""
        taps = {}  # fd: vid
        try:
            _enter_netns(self._nsfd)
            for vid in self.segments:
                fd = os.open("/dev/net/tun", os.O_RDWR | os.O_CLOEXEC)
                taps[fd] = vid
                fcntl.ioctl(fd, TUNSETIFF, struct.pack("16sH22x", f"seg{vid}".encode(),
                                                       IFF_TAP | IFF_NO_PI))
        except Exception as e:  # noqa: BLE001 -- start() reports it
            self._relay_error = e
            for fd in taps:
                os.close(fd)
            return
        self._relay_ready.set()
        tap_of = {vid: fd for fd, vid in taps.items()}
        qemu = ("127.0.0.1", self.qemu_port)
        udp = self._udp.fileno()
        try:
            while True:
                ready, _, _ = select.select([self._wake_r, udp, *taps], [], [])
                if self._wake_r in ready:
                    return
                if udp in ready:
                    try:
                        frame = self._udp.recv(65536)
                    except OSError:  # e.g. ECONNREFUSED left by a QEMU gone
                        frame = b""
                    if len(frame) >= 14:
                        self._from_qemu(frame, tap_of)
                for fd in ready:
                    if fd in taps:
                        frame = os.read(fd, 65536)
                        vid = taps[fd]
                        if vid:
                            frame = frame[:12] + struct.pack("!HH", ETH_P_8021Q, vid) + frame[12:]
                        try:
                            self._udp.sendto(frame, qemu)
                        except OSError:  # QEMU not (yet) there, or a full buffer
                            pass
        finally:
            for fd in taps:
                os.close(fd)

    def _from_qemu(self, frame, tap_of):
        """A frame from the host: counted by VID, untagged to its segment's TAP."""
        vid = 0
        if struct.unpack_from("!H", frame, 12)[0] == ETH_P_8021Q and len(frame) >= 18:
            # a priority-tagged frame (VID 0) counts as untagged, as a switch takes it
            vid = struct.unpack_from("!H", frame, 14)[0] & 0xFFF
            frame = frame[:12] + frame[16:]
        self.frames[vid] += 1
        try:
            os.write(tap_of[vid], frame)
        except (KeyError, OSError):  # no such segment (or a frame the TAP refused)
            self.dropped[vid] += 1

    # --- TCP forwards: slirp's hostfwd, through the namespace ---

    def forward(self, guest_port):
        """A port on 127.0.0.1 whose connections go to (target_ip, guest_port)
        in the namespace; the same port for the same guest port each time."""
        if guest_port not in self._forwards:
            ls = socket.socket()
            ls.bind(("127.0.0.1", 0))
            ls.listen(16)
            self._forwards[guest_port] = ls.getsockname()[1]
            self._spawn(self._accept, f"tagnet-fwd-{guest_port}", ls, guest_port)
        return self._forwards[guest_port]

    def _accept(self, ls, guest_port):
        with ls:
            while True:
                ready, _, _ = select.select([self._wake_r, ls], [], [])
                if self._wake_r in ready:
                    return
                client, _ = ls.accept()
                # a thread of its own, which enters the namespace to connect
                self._spawn(self._pump, f"tagnet-conn-{guest_port}", client, guest_port)

    def _pump(self, client, guest_port):
        """Connects to the host and copies both ways until both sides have
        closed (an EOF is passed on as a shutdown of writing), or close()."""
        with client:
            try:
                _enter_netns(self._nsfd)
                server = socket.create_connection((self.target_ip, guest_port),
                                                  timeout=CONNECT_TIMEOUT)
            except OSError:
                return  # the client sees its connection closed
            with server:
                server.settimeout(None)
                peer = {client: server, server: client}
                reading = [client, server]
                try:
                    while reading:
                        ready, _, _ = select.select([self._wake_r, *reading], [], [])
                        if self._wake_r in ready:
                            return
                        for s in ready:
                            data = s.recv(65536)
                            if data:
                                peer[s].sendall(data)
                            else:
                                reading.remove(s)
                                peer[s].shutdown(socket.SHUT_WR)
                except OSError:
                    return  # a reset: both are closed

    # --- dnsmasq's log ---

    def log(self):
        try:
            with open(self.dhcp_log, errors="replace") as f:
                return f.read()
        except FileNotFoundError:
            return ""

    def wait_log(self, pattern, what, timeout=60, count=1):
        """Waits for count matches of a regex in dnsmasq's log; returns
        them all (re.findall)."""
        deadline = time.monotonic() + timeout
        while True:
            found = re.findall(pattern, self.log())
            if len(found) >= count:
                return found
            if self.dnsmasq and self.dnsmasq.poll() is not None:
                raise AssertionError(f"dnsmasq exited ({self.dnsmasq.returncode}) before "
                                     f"{what}; its log:\n{self.log()[-2000:]}")
            if time.monotonic() > deadline:
                raise AssertionError(f"timed out after {timeout}s waiting for {what} in "
                                     f"dnsmasq's log:\n{self.log()[-2000:]}")
            time.sleep(0.2)

    def wait_dhcpack(self, vid, count=1, timeout=120):
        """Waits for the count-th DHCPACK on segment vid (since dnsmasq
        started); returns the address it acknowledged."""
        return self.wait_log(rf"DHCPACK\(seg{vid}\) ([\d.]+)", f"DHCPACK #{count} on seg{vid}",
                             timeout, count)[count - 1]

    def close(self):
        """Stops the threads, dnsmasq and the namespace (its TAPs go with it)."""
        if self._wake_w is None:
            return  # closed already
        os.write(self._wake_w, b"x")
        for t in self._threads:
            t.join(CONNECT_TIMEOUT + 5)
        for proc in (self.dnsmasq, self.ns_proc):
            if proc and proc.poll() is None:
                proc.kill()
                proc.wait()
        if self._udp:
            self._udp.close()
        if self._nsfd is not None:
            os.close(self._nsfd)
            self._nsfd = None
        os.close(self._wake_r)
        os.close(self._wake_w)
        self._wake_w = None
        self._threads = []

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.close()
