"""keel-shell, tech support mode's command interpreter (src/shell/), with
keel-hostd on this machine (native.py): started as dropbear starts it
(`keel-shell -c LINE` with USER and SSH_CLIENT, or an interactive session)
in hostd's namespaces and fake root, against the local API. The logins'
lockdown matrix is test_console_native.py's; here: what the commands show,
what they refuse (files outside /config, /scratch and /datastores, the
secrets under /config, programs), the audit record of every line, the CLI
run as the logged-in user, and the idle time-out."""
import os
import pty
import select
import signal
import struct
import subprocess
import time

import pytest

from api import connect

PW = "Correct-Horse-7"
PEER = "192.0.2.44"
ENV = {"PATH": "/usr/sbin:/usr/bin:/sbin:/bin", "TERM": "xterm"}


@pytest.fixture(scope="module")
def root(native_host):
    api = connect(native_host, address=native_host.address)
    for name, role in (("ada", "Administrator"), ("rex", "ReadOnly")):
        api.call("POST", "/users", {"name": name, "password": PW})
        api.call("PUT", "/permissions", {"user": name, "entity": "host", "role": role})
    api.call("PUT", "/host/tech-support", {"ssh": True, "local": True,
                                           "availability_timeout_s": 0, "idle_timeout_s": 0})
    return api


def env_for(user):
    return dict(ENV, USER=user, SSH_CLIENT=f"{PEER} 50022 22")


def shell(host, line, user="ada", timeout=60):
    """`keel-shell -c LINE` as dropbear runs it for `ssh USER@host LINE`:
    (exit status, stdout, stderr)."""
    p = host.spawn(["/sbin/keel-shell", "-c", line], env=env_for(user),
                   stdout=subprocess.PIPE, stderr=subprocess.PIPE, stdin=subprocess.DEVNULL)
    out, err = p.communicate(timeout=timeout)
    return p.returncode, out.decode(errors="replace"), err.decode(errors="replace")


def ok(host, line, user="ada"):
    rc, out, err = shell(host, line, user)
    assert rc == 0, (line, out, err)
    return out


def refused(host, line, user="ada"):
    rc, out, err = shell(host, line, user)
    assert rc != 0, (line, out, err)
    return err


def path(host, p):
    return os.path.join(host.root, p.lstrip("/"))


def trail(root, n=500):
    return root.call("GET", f"/audit?lines={n}")["entries"]


def make_secrets(host):
    """A TLS key and an SSH host key where the host keeps them."""
    os.makedirs(path(host, "/config/tls"), exist_ok=True)
    os.makedirs(path(host, "/config/ssh"), exist_ok=True)
    for secret in ("/config/tls/test-key.pem", "/config/ssh/dropbear_ed25519_host_key"):
        if not os.path.exists(path(host, secret)):
            with open(path(host, secret), "w") as f:
                f.write("SECRET KEY MATERIAL\n")


def test_files_are_confined_and_secrets_hidden(root, native_host):
    make_secrets(native_host)
    with open(path(native_host, "/scratch/note.txt"), "w") as f:
        f.write("line one\nline \x1b[31mtwo\x07\n" + "".join(f"n{i}\n" for i in range(30)))
    links = {"/scratch/to-key": "/config/tls/test-key.pem", "/scratch/to-passwd": "/etc/passwd",
             "/scratch/to-db": "../config/keel.db", "/scratch/to-note": "note.txt"}
    for link, target in links.items():
        if not os.path.lexists(path(native_host, link)):
            os.symlink(target, path(native_host, link))

    listing = ok(native_host, "ls /config")
    assert "keel.db" in listing and "tls" in listing
    assert [ln for ln in listing.splitlines() if ln.endswith("keel.db  (hidden: holds secrets)")]
    assert "hidden: holds secrets" in ok(native_host, "ls /config/tls/test-key.pem")
    assert "tls" in ok(native_host, "ls /config/../config/")
    for secret in ("/config/keel.db", "/config/tls/test-key.pem",
                   "/config/ssh/dropbear_ed25519_host_key", "/scratch/to-key", "/scratch/to-db",
                   "/config/./tls/../keel.db"):
        for cmd in ("cat", "tail"):
            err = refused(native_host, f"{cmd} {secret}")
            assert "hidden: holds secrets" in err and "SECRET" not in err, (cmd, secret)
    for outside in ("/etc/passwd", "/scratch/to-passwd", "/scratch/../etc/passwd", "/proc/1/environ",
                    "/config/../../etc/shadow", "/"):
        assert "outside /config, /scratch and /datastores" in refused(native_host, f"cat {outside}")
    assert "outside" in refused(native_host, "ls /etc")
    # text is shown with its control characters made harmless
    out = ok(native_host, "cat /scratch/to-note")
    assert "line ?[31mtwo?" in out and "\x1b" not in out and "\x07" not in out
    assert ok(native_host, "tail -n 2 /scratch/note.txt") == "n28\nn29\n"
    assert "the line is" in refused(native_host, "cat " + "a" * 1100)


def test_quoting_and_no_expansion(root, native_host):
    with open(path(native_host, "/scratch/a file; rm -rf"), "w") as f:
        f.write("quoted\n")
    assert ok(native_host, "cat \"/scratch/a file; rm -rf\"") == "quoted\n"
    assert ok(native_host, "cat '/scratch/a file; rm -rf'") == "quoted\n"
    assert "No such file" in refused(native_host, "cat /scratch/*")
    assert "unterminated" in refused(native_host, "cat '/scratch/x")
    for line in ("sh", "/bin/sh", "busybox", "exec /bin/sh", "$(id)", "`id`"):
        assert "unknown command" in refused(native_host, line), line
    # a pipe is three words for cat
    assert "usage: cat PATH" in refused(native_host, "cat /scratch/x | sh")


def test_system_and_network_views(root, native_host):
    out = ok(native_host, "ip addr")
    assert "eth0" in out and f"{native_host.address}/30" in out
    assert "eth0" in ok(native_host, "ip link")
    assert "dev eth0" in ok(native_host, "ip route")
    ok(native_host, "ip neigh")
    assert "usage" in refused(native_host, "ip rule")
    ps = ok(native_host, "ps")
    assert "keel-hostd" in ps and "PID" in ps.splitlines()[0]
    top = ok(native_host, "top")
    assert "load average" in top and "%CPU" in top and "keel-hostd" in top
    conns = ok(native_host, "connections")
    assert any(":443 " in ln and "LISTEN" in ln for ln in conns.splitlines()), conns
    assert "/sbin/keel-shell" in ok(native_host, "mounts")
    assert "MOUNT POINT" in ok(native_host, "df")
    assert "NAME" in ok(native_host, "disks")
    ns = ["ip", "-n", native_host.netns]
    # a VLAN-filtering bridge where the kernel has them (not every build machine's does)
    filtering = subprocess.run(ns + ["link", "add", "br-t", "type", "bridge", "vlan_filtering",
                                     "1"], capture_output=True).returncode == 0
    cmds = [ns + ["link", "add", "vt0", "type", "veth", "peer", "name", "vt1"],
            ns + ["link", "set", "vt0", "master", "br-t"]]
    if filtering:
        cmds += [["bridge", "-n", native_host.netns, "vlan", "add", "dev", "vt0", "vid", "10",
                  "pvid", "untagged"],
                 ["bridge", "-n", native_host.netns, "vlan", "add", "dev", "vt0", "vid", "20-22"]]
    else:
        cmds.insert(0, ns + ["link", "add", "br-t", "type", "bridge"])
    for cmd in cmds:
        subprocess.run(cmd, check=True, capture_output=True)
    out = ok(native_host, "bridges")
    assert any(ln.split()[:2] == ["br-t", "filter" if filtering else "off"] and "vt0" in ln
               for ln in out.splitlines()), out
    if filtering:
        port = [ln for ln in out.splitlines() if ln.startswith("vt0 (br-t)")]
        assert port and " 10PU" in port[0] and " 20 21 22" in port[0], out
    assert "has address 127.0.0.1" in ok(native_host, "lookup localhost")
    peer = f"10.231.{native_host.x}.1"
    assert "1 received" in ok(native_host, f"ping -c 1 {peer}")
    assert "1 received" in ok(native_host, f"ping -c 1 fd00:{native_host.x:x}::1")  # IPv6
    out = shell(native_host, "ping -c 1 192.0.2.1")  # TEST-NET-1: nobody answers
    assert out[0] == 1 and ("no reply" in out[1] or "unreachable" in out[1] + out[2]), out
    assert "expected a number" in refused(native_host, f"ping -c 1000 {peer}")


def test_capture_writes_pcap_under_scratch_captures(root, native_host):
    # this machine pings hostd's side of the veth pair meanwhile
    pinger = subprocess.Popen(["ping", "-c", "20", "-i", "0.2", native_host.address],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        out = ok(native_host, "capture eth0 -c 3 -s 5 t1.pcap")
    finally:
        pinger.kill()
        pinger.wait()
    assert "3 packets written to /scratch/captures/t1.pcap" in out, out
    with open(path(native_host, "/scratch/captures/t1.pcap"), "rb") as f:
        data = f.read()
    magic, major, minor, _, _, snaplen, linktype = struct.unpack("<IHHiIII", data[:24])
    assert (magic, major, minor, linktype) == (0xa1b2c3d4, 2, 4, 1)
    _, _, caplen, length = struct.unpack("<IIII", data[24:40])
    assert 14 <= caplen <= length and len(data) >= 40 + caplen
    # never over a file, never elsewhere
    assert "File exists" in refused(native_host, "capture eth0 -c 1 -s 1 t1.pcap")
    for bad in ("../x.pcap", "/config/x.pcap", "/scratch/x.pcap", ".hidden"):
        assert "give a file name" in refused(native_host, f"capture eth0 -c 1 -s 1 {bad}")
    assert "expected a number" in refused(native_host, "capture eth0 -s 100000 t2.pcap")
    assert "No such device" in refused(native_host, "capture nosuch0 -c 1 -s 1 t3.pcap")


def test_api_commands_and_the_cli_as_the_user(root, native_host):
    make_secrets(native_host)
    assert "NAME" in ok(native_host, "vms")
    assert "nosuchvm" in refused(native_host, "vm stats nosuchvm")
    out = ok(native_host, "keel vm list")
    assert "NAME" in out
    # the CLI goes through this session: who am I, by the sessions list
    out = ok(native_host, "keel --json session list")
    assert f"ssh {PEER}" in out
    # the API's refusals come through as the CLI prints them
    assert "(HTTP 4" in refused(native_host, "keel vm show 'no such/vm'")
    # the host's CLI (keel-host-cli) alone has no session: it is keel-shell's tool
    p = native_host.spawn(["/sbin/keel", "vm", "list"], env=dict(ENV), stdout=subprocess.PIPE,
                          stderr=subprocess.PIPE)
    out, err = p.communicate(timeout=30)
    assert p.returncode != 0 and b"works in tech support mode only" in err, err
    # the CLI's connection is the session's; files of the host are not its
    for line, why in (("keel --host 10.0.0.1 vm list", "only --json"),
                      ("keel --credentials /config/x vm list", "only --json"),
                      ("keel datastore upload /config/keel.db local/x", "run it from a client"),
                      ("keel datastore download local/x /scratch/y", "run it from a client"),
                      ("keel host certificate --cert /scratch/a --key /scratch/b",
                       "run it from a client"),
                      ("keel host support-bundle -o /scratch/b.tgz", "run it from a client"),
                      ("keel vm import /config/keel.db", "hidden: holds secrets"),
                      ("keel vm import /etc/passwd", "outside"),
                      ("keel vm import --name x ../etc/passwd", "outside"),
                      ("keel user ssh-keys ada /etc/shadow", "outside"),
                      ("keel user ssh-keys ada /config/ssh/dropbear_ed25519_host_key",
                       "hidden: holds secrets"),
                      ("keel vm create x --memory 64M --kernel local/k --cloud-init=/etc/passwd",
                       "reads a file of this host")):
        assert why in refused(native_host, line), line
    # an appliance is not imported on the host (no libxml2 there)
    with open(path(native_host, "/scratch/app.ovf"), "w") as f:
        f.write("<?xml version='1.0'?><Envelope/>\n")
    err = refused(native_host, "keel vm import /scratch/app.ovf")
    assert "not available on the host; run keel vm import from a client" in err
    # the logs, through the CLI (keel host logs) and the API's privileges
    assert "audit" in ok(native_host, "logs") and "hostd" in ok(native_host, "logs")
    ok(native_host, "logs hostd -n 5")
    assert "expected a number" in refused(native_host, "logs hostd -n 0")


def test_readonly_user_and_unknown_users_are_refused_at_login(root, native_host):
    before = len(trail(root))
    rc, out, err = shell(native_host, "ls /config", user="rex")
    assert rc == 1 and "login refused" in err and "keel.db" not in out
    rc, out, err = shell(native_host, "ls /config", user="nobody-here")
    assert rc == 1 and "login refused" in err
    rc, out, err = shell(native_host, "ls /config", user="")
    assert rc == 1
    assert not [e for e in trail(root)[before:] if e["action"] == "shell"]


def test_every_command_is_in_the_audit_trail(root, native_host):
    lines = ["ls /scratch", "cat /etc/passwd", "no-such-command x", "ip addr",
             "keel vm list"]
    for line in lines:
        shell(native_host, line)
    entries = trail(root)
    recorded = [e["target"] for e in entries if e["action"] == "shell" and e["user"] == "ada"
                and e["source"] == f"ssh {PEER}"]
    for line in lines:
        assert line in recorded, (line, recorded[-10:])
    # each -c session logged out: none of ada's ssh sessions is left open
    sessions = root.call("GET", "/sessions")["sessions"]
    assert not [s for s in sessions if s["source"] == f"ssh {PEER}"], sessions


def interactive(host, user="ada"):
    return host.spawn(["/sbin/keel-shell"], env=env_for(user), stdin=subprocess.PIPE,
                      stdout=subprocess.PIPE, stderr=subprocess.STDOUT)


def test_interactive_session(root, native_host):
    p = interactive(native_host)
    out, _ = p.communicate(b"help\nls /config\n  \nexit\nls /scratch\n", timeout=60)
    text = out.decode(errors="replace")
    assert p.returncode == 0, text
    assert "[ada@" in text and "] keel> " in text
    assert "capture IFACE" in text and "keel.db" in text
    # nothing after exit ran
    assert "note.txt" not in text


def test_hangup_logs_out(root, native_host):
    p = interactive(native_host)
    out = b""
    deadline = time.time() + 20
    while b"] keel> " not in out and time.time() < deadline:
        r, _, _ = select.select([p.stdout], [], [], 0.5)
        if r:
            out += os.read(p.stdout.fileno(), 4096)
    assert b"] keel> " in out, out
    sources = [s["source"] for s in root.call("GET", "/sessions")["sessions"]]
    assert f"ssh {PEER}" in sources
    p.send_signal(signal.SIGHUP)  # the SSH connection is gone
    assert p.wait(timeout=10) == 0
    sources = [s["source"] for s in root.call("GET", "/sessions")["sessions"]]
    assert f"ssh {PEER}" not in sources


def test_a_revoked_session_runs_nothing_more(root, native_host):
    """The audit record fails closed: once the host no longer knows the
    session, no command runs, and the interactive session ends."""
    p = interactive(native_host)
    out = b""
    deadline = time.time() + 20
    while b"] keel> " not in out and time.time() < deadline:
        r, _, _ = select.select([p.stdout], [], [], 0.5)
        if r:
            out += os.read(p.stdout.fileno(), 4096)
    mine = [x for x in root.call("GET", "/sessions")["sessions"] if x["source"] == f"ssh {PEER}"]
    assert len(mine) == 1, mine
    root.call("DELETE", f"/sessions/{mine[0]['id']}")
    rest, _ = p.communicate(b"ls /config\nls /scratch\n", timeout=30)
    text = rest.decode(errors="replace")
    assert "not run: it could not be recorded in the audit trail" in text, text
    assert "the session has ended" in text and "keel.db" not in text, text
    assert "logout" not in text, text
    assert "ls /scratch" not in [e["target"] for e in trail(root) if e["action"] == "shell"][-3:]


def test_idle_timeout_ends_the_session(root, native_host):
    root.call("PUT", "/host/tech-support", {"idle_timeout_s": 2})
    try:
        p = interactive(native_host)
        t0 = time.time()
        out = b""
        while p.poll() is None and time.time() - t0 < 20:
            r, _, _ = select.select([p.stdout], [], [], 0.5)
            if r:
                out += os.read(p.stdout.fileno(), 4096)
        out += p.stdout.read()
        p.stdin.close()
        assert p.wait(timeout=5) == 0
        assert b"idle for 2 s: session ended" in out, out
        assert 1.5 <= time.time() - t0 < 15
    finally:
        root.call("PUT", "/host/tech-support", {"idle_timeout_s": 0})
    sessions = root.call("GET", "/sessions")["sessions"]
    assert not [s for s in sessions if s["source"] == f"ssh {PEER}"], sessions


def test_no_login_without_tech_support_mode(root, native_host):
    root.call("PUT", "/host/tech-support", {"ssh": False})
    try:
        rc, out, err = shell(native_host, "ls /config")
        assert rc == 1 and "login refused" in err
    finally:
        root.call("PUT", "/host/tech-support", {"ssh": True})


class Terminal:
    """The master side of a pty whose slave keel-shell --login takes."""

    def __init__(self):
        self.master, self.slave = pty.openpty()
        self.name = os.ttyname(self.slave)
        self.seen = b""

    def expect(self, text, timeout=20):
        deadline = time.time() + timeout
        while text.encode() not in self.seen:
            left = deadline - time.time()
            assert left > 0, f"no {text!r} on the terminal: {self.seen[-800:]!r}"
            r, _, _ = select.select([self.master], [], [], left)
            if r:
                try:
                    self.seen += os.read(self.master, 4096)
                except OSError:  # EIO: nobody has the slave open (yet, or any more)
                    time.sleep(0.1)
        assert text.encode() in self.seen, self.seen[-800:]
        at = self.seen.index(text.encode()) + len(text)
        before, self.seen = self.seen[:at], self.seen[at:]
        return before.decode(errors="replace")

    def type(self, text):
        os.write(self.master, text.encode())


def test_local_login_on_a_terminal(root, native_host):
    root.call("PUT", "/host/tech-support", {"local": True})
    # the fake root's /dev is a plain bind of this machine's: its ptys too
    subprocess.run(["nsenter", "-t", str(native_host.pid), "-m", "--", "mount", "--bind",
                    "/dev/pts", path(native_host, "/dev/pts")], check=True)
    with open(path(native_host, "/scratch/follow.txt"), "w") as f:
        f.write("".join(f"f{i}\n" for i in range(30)))
    term = Terminal()
    p = native_host.spawn(["/sbin/keel-shell", "--login", term.name], env=dict(ENV),
                          stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                          stderr=subprocess.PIPE)
    try:
        term.expect("login: ")
        term.type("ada\n")
        term.expect("Password: ")
        term.type("wrong-Password-1\n")
        term.expect("Login refused: ")
        term.expect("login: ")
        term.type("rex\n")  # ReadOnly: not at this door
        term.expect("Password: ")
        term.type(PW + "\n")
        term.expect("Login refused: ")
        term.expect("login: ")
        term.type("ada\n")
        term.expect("Password: ")
        term.type(PW + "\n")
        shown = term.expect("] keel> ")
        assert PW not in shown  # the password was not echoed
        sources = [s["source"] for s in root.call("GET", "/sessions")["sessions"]]
        assert "tsm-local" in sources
        term.type("tail -f /scratch/follow.txt\n")
        term.expect("f29")
        with open(path(native_host, "/scratch/follow.txt"), "a") as f:
            f.write("appended\n")
        term.expect("appended")
        time.sleep(0.5)
        term.type("\x03")  # Ctrl-C ends the command, not the shell
        term.expect("] keel> ")
        term.type("ls /config\n")
        assert "keel.db" in term.expect("] keel> ")
        term.type("exit\n")
        term.expect("login: ")  # logged out, and a new login
        sources = [s["source"] for s in root.call("GET", "/sessions")["sessions"]]
        assert "tsm-local" not in sources
        entries = trail(root)
        assert any(e["action"] == "shell" and e["target"] == "tail -f /scratch/follow.txt"
                   and e["source"] == "tsm-local" and e["user"] == "ada" for e in entries)
    finally:
        p.kill()
        _, err = p.communicate()
        os.close(term.master)
        os.close(term.slave)
        print("keel-shell's stderr:", err.decode(errors="replace"))
