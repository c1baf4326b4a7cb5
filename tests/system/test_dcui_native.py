"""keel-dcui, the Direct Console UI, driven as a person at a serial terminal
would drive it: keel-hostd runs on this machine (native.py), keel-dcui in
its namespaces on a pty with TERM=vt220, and what it writes goes into a
terminal emulator (pyte); each test sends keys and checks the screen's text
after each, then the effect through the HTTPS API. One hostd for the
module; a keel-dcui per test."""
import fcntl
import json
import os
import re
import select
import struct
import termios
import threading
import time

import pyte
import pytest

from api import FINGERPRINT_RX, PASSWORD_RX, Api, ApiError, LocalApi
from native import NativeHost

PW = "Correct-Horse-7"  # meets the default policy
F2, F12 = b"\x1bOQ", b"\x1b[24~"  # a vt220's
UP, DOWN, ENTER, ESC, CTRL_U = b"\x1b[A", b"\x1b[B", b"\r", b"\x1b", b"\x15"
SOCKET = os.path.join("run", "keel", "local.sock")


@pytest.fixture(scope="module")
def host(native_host):
    """The native host, once its local API socket is there."""
    path = os.path.join(native_host.root, SOCKET)
    deadline = time.time() + 10
    while not os.path.exists(path):
        if time.time() > deadline:
            pytest.skip("keel-hostd serves no local API (/run/keel/local.sock)")
        time.sleep(0.2)
    native_host.root_password = re.search(PASSWORD_RX, native_host.all_console()).group(1)
    return native_host


def https(host, user="root", password=None):
    """An HTTPS API session (api.py) as user."""
    fp = host.wait_for(FINGERPRINT_RX).group(1)
    return Api(host.api_port, fp, address=host.address).login(
        user, password or host.root_password)


def idle_summary(host):
    """Whether hostd answers the idle screen's GETs on the local socket
    without a login (the public summary)."""
    local = LocalApi(os.path.join(host.root, SOCKET))
    return all(local.raw("GET", "/api/v1" + p)[0] == 200
               for p in ("/host", "/network/management", "/security/lockdown"))


class Console:
    """keel-dcui on a pty of 80x25, the terminal a pyte screen."""

    def __init__(self, host, log, term="vt220", by_path=False, idle=60):
        master, slave = os.openpty()
        fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 25, 80, 0, 0))
        self.master = master
        self.screen = pyte.Screen(80, 25)
        self.stream = pyte.ByteStream(self.screen)
        self.lock = threading.Lock()
        env = {"TERM": term, "PATH": "/usr/sbin:/usr/bin:/sbin:/bin"}
        with open(log, "ab") as err:
            if by_path:
                # as keel-init starts it: a TTY to open and make its own. The
                # fake root's /dev/pts is empty (a bind of /dev alone), but
                # /proc/self/fd/0 leads to the pty itself.
                self.proc = host.spawn(["/sbin/keel-dcui", "/proc/self/fd/0"], env=env,
                                       stdin=slave, stdout=err, stderr=err)
            else:
                self.proc = host.spawn(["/sbin/keel-dcui", "--idle-timeout", str(idle), "-"],
                                       env=env, stdin=slave, stdout=slave, stderr=err,
                                       start_new_session=True)
        os.close(slave)
        self.stopping = False
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()

    def _read(self):
        while not self.stopping:
            if not select.select([self.master], [], [], 0.1)[0]:
                continue
            try:
                data = os.read(self.master, 65536)
            except OSError:
                return
            if not data:
                return
            with self.lock:
                self.stream.feed(data)

    def text(self):
        with self.lock:
            return "\n".join(line.rstrip() for line in self.screen.display)

    def wait_for(self, pattern, timeout=15):
        """Waits for a regex on the screen; returns the match."""
        deadline = time.time() + timeout
        while True:
            m = re.search(pattern, self.text())
            if m:
                return m
            if time.time() > deadline:
                raise AssertionError(f"not on the screen: {pattern!r}\n{self.text()}")
            if self.proc.poll() is not None:
                raise AssertionError(f"keel-dcui ended ({self.proc.returncode})\n{self.text()}")
            time.sleep(0.1)

    def wait_gone(self, pattern, timeout=15):
        deadline = time.time() + timeout
        while re.search(pattern, self.text()):
            if time.time() > deadline:
                raise AssertionError(f"still on the screen: {pattern!r}\n{self.text()}")
            time.sleep(0.1)

    def send(self, *keys):
        for k in keys:
            os.write(self.master, k if isinstance(k, bytes) else k.encode())
            time.sleep(0.3 if k == ESC else 0.05)  # a lone Esc is told by the pause after it

    def login(self, user, password):
        """From the idle screen: F2, the user (replacing "root"), the password."""
        self.send(F2)
        self.wait_for("Login Name:")
        self.send(CTRL_U, user, ENTER, password, ENTER)

    def hang_up(self):
        """Closes the pty's master: the terminal is gone."""
        self.stopping = True
        self.reader.join()  # its read must not hold the master open
        os.close(self.master)
        self.master = None

    def close(self):
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait()
        if self.master is not None:
            self.hang_up()


@pytest.fixture
def console(host, tmp_path):
    c = Console(host, str(tmp_path / "dcui-stderr.log"))
    try:
        c.wait_for(r"<F2 or 2> Customize System/View Logs")
        yield c
    finally:
        c.close()


def test_idle_screen(console, host):
    """The idle screen: product and version, host name, the API's URL, the
    certificate's fingerprint as GET /api/v1/host says, the keys."""
    if not idle_summary(host):
        pytest.skip("keel-hostd has no public summary on the local socket yet")
    root = https(host)
    info = root.call("GET", "/host")
    screen = console.wait_for(r"Host name:\s+" + re.escape(info["hostname"])).string
    assert f"Keel {info['version']}" in screen
    addresses = root.call("GET", "/network/management")["current"]["addresses"]
    for a in addresses:  # none natively: hostd has no management NIC here
        assert f"https://{a.split('/')[0]}/" in screen
    if not addresses:
        assert "No management address: press F2 to configure the" in screen
    fp = info["certificate_sha256"]
    assert fp[:48] in screen and fp[48:] in screen
    assert re.search(r"VMs running:\s+0", screen)
    assert re.search(r"Lockdown mode:\s+off", screen)
    assert "<F12 or 9> Shut Down/Restart" in screen


def test_login_refused_then_menu(console, host):
    """A wrong password shows the API's message and goes back to the idle
    screen after a key; the right one opens the menu, which Esc leaves
    (and logs out)."""
    console.login("root", "wrong-password")
    console.wait_for("Login refused")
    screen = console.text()
    assert "wrong-password" not in screen  # never echoed
    assert re.search(r"(?i)user or password|password", screen.split("Login refused")[1])
    console.send(ENTER)
    console.wait_for("<F2 or 2> Customize System/View Logs")
    console.login("root", host.root_password)
    screen = console.wait_for("System Customization").string
    for item in ("1. Configure Management Network", "2. Change Root Password",
                 "3. Restart Management Agents", "4. View System Logs",
                 "5. Test Management Network", "6. Troubleshooting Options",
                 "8. Reset System Configuration"):
        assert item in screen
    assert "Disable Lockdown Mode" not in screen  # lockdown is off
    assert host.root_password not in screen
    sessions = https(host).call("GET", "/sessions")["sessions"]
    assert any(s["user"] == "root" and s["source"] == "dcui" for s in sessions), sessions
    console.send(ESC)
    console.wait_for("<F2 or 2> Customize System/View Logs")


def test_logs_view(console, host):
    """View System Logs lists the logs and shows the end of hostd's."""
    line = f"keel-hostd: the console's test {int(time.time())}"
    logdir = os.path.join(host.root, "scratch", "log")
    os.makedirs(logdir, exist_ok=True)
    with open(os.path.join(logdir, "hostd.log"), "a") as f:
        f.write(f"2026-12-04T00:00:00Z {line}\n")
    console.login("root", host.root_password)
    console.wait_for("System Customization")
    console.send("4")
    number = console.wait_for(r"(\d)\. hostd\s").group(1)
    console.send(number)
    console.wait_for(re.escape(line))
    console.send("q")
    console.wait_for(r"\d\. hostd\s")
    console.send(ESC)
    console.wait_for("System Customization")
    console.send(ESC)
    console.wait_for("<F2 or 2> Customize System/View Logs")


def test_network_form_checks_fields(console, host):
    """The management network's form refuses a bad address before asking
    hostd, and changing nothing changes nothing."""
    console.login("root", host.root_password)
    console.wait_for("System Customization")
    console.send("1")
    console.wait_for(r"IPv4 \(dhcp or static\):")
    console.send(ENTER, CTRL_U, "static", ENTER, CTRL_U, "10.0.0.300/24", ENTER, ENTER, ENTER,
                 ENTER, ENTER, ENTER)
    console.wait_for(r"IPv4 address: a\.b\.c\.d/prefix")
    console.send(ESC)
    console.wait_for("System Customization")
    console.send("1")
    console.wait_for(r"VLAN ID \(empty: none\):")
    console.send(CTRL_U, "4095", *([ENTER] * 8))
    console.wait_for(r"VLAN ID: 1 to 4094, or empty for none")
    console.send(ESC)
    console.wait_for("System Customization")
    console.send("1")
    console.wait_for("Host name:")
    console.send(*([ENTER] * 8))
    console.wait_for("Nothing was changed.")
    # the host name alone is saved at once, without a confirmation
    console.send(ENTER)
    console.wait_for("System Customization")
    console.send("1")
    console.wait_for("Host name:")
    console.send(*([ENTER] * 7), CTRL_U, "console-test", ENTER)
    console.wait_for("Saved.")
    assert https(host).call("GET", "/network/management")["hostname"] == "console-test"


def test_tech_support_toggle(console, host):
    """Troubleshooting Options turn local tech support mode on; the API
    says so."""
    root = https(host)
    try:
        before = root.call("GET", "/host/tech-support")
    except ApiError as e:
        pytest.skip(f"no tech support route in keel-hostd yet ({e.status})")
    console.login("root", host.root_password)
    console.wait_for("System Customization")
    console.send("6")
    state = "enabled" if before["local"] else "disabled"
    console.wait_for(r"Local tech support: " + state)
    console.send("1")
    console.wait_for(r"Local tech support: " + ("disabled" if before["local"] else "enabled"))
    assert root.call("GET", "/host/tech-support")["local"] is (not before["local"])
    console.send("1")
    console.wait_for(r"Local tech support: " + state)
    assert root.call("GET", "/host/tech-support")["local"] is before["local"]
    # a time-out: a number of seconds, checked on the screen first
    console.send("3")
    console.wait_for("Availability time-out:")
    console.send(CTRL_U, "ten", ENTER)
    console.wait_for("A number of seconds from 0")
    console.send(CTRL_U, "600", ENTER)
    console.wait_for(r"3\. Availability time-out: 600 s")
    assert root.call("GET", "/host/tech-support")["availability_timeout_s"] == 600


def test_tech_support_shell_from_the_console(console, host):
    """With local tech support mode on, Troubleshooting Options opens
    keel-shell on the console's own terminal, with a login of its own;
    exit comes back to the console UI."""
    root = https(host)
    root.call("PUT", "/host/tech-support", {"local": True})
    try:
        console.login("root", host.root_password)
        console.wait_for("System Customization")
        console.send("6")
        console.wait_for("Open a tech support shell here")
        console.send("5")
        console.wait_for("login:")
        console.send("root", ENTER)
        console.wait_for("Password:")
        console.send(host.root_password, ENTER)
        console.wait_for(r"\[root@\S+\] keel>")
        console.send("vms", ENTER)
        console.wait_for("NAME +STATE")
        console.send("exit", ENTER)
        console.wait_for("Troubleshooting Options")
        trail = root.call("GET", "/audit?lines=100")["entries"]
        assert any(e["action"] == "shell" and e["target"] == "vms" and
                   e["source"] == "tsm-local" for e in trail)
        # local tech support mode off: the item is gone
        root.call("PUT", "/host/tech-support", {"local": False})
        console.send(ESC, "6")
        console.wait_for("Local tech support: disabled")
        assert "Open a tech support shell here" not in console.text()
    finally:
        root.call("PUT", "/host/tech-support", {"local": False})


def make_admin(root, name):
    root.call("POST", "/users", {"name": name, "password": PW})
    root.call("PUT", "/permissions", {"user": name, "entity": "host", "role": "Administrator"})


def test_lockdown_at_the_console(console, host):
    """Normal lockdown: an Administrator is refused at the console, root is
    not, and root's menu offers to end it; strict: root is refused too."""
    root = https(host)
    make_admin(root, "consoleadmin")
    make_admin(root, "keeper")
    root.call("PUT", "/security/lockdown", {"mode": "normal", "exceptions": ["keeper"]})
    keeper = https(host, "keeper", PW)
    try:
        if idle_summary(host):
            console.wait_for(r"Lockdown mode:\s+normal")
        console.login("consoleadmin", PW)
        console.wait_for("Login refused")
        console.send(ENTER)
        console.wait_for("<F2 or 2>")
        console.login("root", host.root_password)
        console.wait_for("7. Disable Lockdown Mode")
        console.send("7")
        console.wait_for(r"Turn lockdown mode off\?")
        console.send("y")
        console.wait_for("Lockdown mode is off.")
        assert keeper.call("GET", "/security/lockdown")["mode"] == "off"
        console.send(ENTER)
        console.wait_for("System Customization")
        console.send(ESC)
        console.wait_for("<F2 or 2>")
        keeper.call("PUT", "/security/lockdown", {"mode": "strict", "exceptions": ["keeper"]})
        if idle_summary(host):
            console.wait_for(r"Lockdown mode:\s+strict")
        console.login("root", host.root_password)
        console.wait_for("Login refused")
        assert "lockdown" in console.text().lower()
        console.send(ENTER)
    finally:
        keeper.call("PUT", "/security/lockdown", {"mode": "off"})


def test_root_password_change(console, host):
    """Change Root Password, asked twice: two that differ are refused on
    the screen; then the new one logs in over HTTPS (and the old one not),
    and the idle screen no longer shows the first boot's password."""
    new = "Another-Horse-8"
    # until then the idle screen shows the first boot's password
    console.wait_for(r"Root password \(first boot\): " + re.escape(host.root_password))
    console.login("root", host.root_password)
    console.wait_for("System Customization")
    console.send("2")
    console.wait_for("Confirm password:")
    console.send(new, ENTER, new + "x", ENTER)
    console.wait_for("The two passwords differ")
    console.send(new, ENTER, new, ENTER)
    console.wait_for("Root's password is changed.")
    assert new not in console.text()
    console.send(ENTER)
    console.wait_for("System Customization")
    console.send(ESC)
    console.wait_for("<F2 or 2>")
    console.wait_gone(r"Root password \(first boot\)")
    old, host.root_password = host.root_password, new
    https(host)  # logs in with the new one
    with pytest.raises(ApiError):
        https(host, password=old)


def test_api_errors_shown_and_nothing_done_unasked(console, host):
    """Test Management Network shows each check's result; a refusal is
    shown with the API's own message (a gateway outside the static
    address's subnet, which only hostd checks); the questions that guard
    restarting the agents and the factory reset change nothing when
    answered no."""
    root = https(host)
    result = root.call("POST", "/network/management/test", {})
    console.login("root", host.root_password)
    console.wait_for("System Customization")
    console.send("5")
    screen = console.wait_for(r"Resolving the host name (\S+)\s+(OK|FAILED)").string
    assert result["hostname"]["name"] in screen
    for dns in result["dns"]:
        assert re.search(r"Pinging the DNS server " + re.escape(dns["address"]), screen)
    if result["gateway"] is None:
        assert "No default gateway is set." in screen
    console.send(ENTER)
    console.wait_for("System Customization")
    # refused by hostd: its message on the screen, nothing changed
    body = {"mode": "static", "address": "10.9.8.7/24", "gateway": "192.0.2.1", "dns": []}
    status, _, answer = root.raw("PUT", "/api/v1/network/management", body)
    assert status == 400
    message = json.loads(answer)["error"]["message"]
    console.send("1")
    console.wait_for("Host name:")
    console.send(ENTER, CTRL_U, "static", ENTER, CTRL_U, "10.9.8.7/24", ENTER, CTRL_U,
                 "192.0.2.1", ENTER, *([ENTER] * 4))
    console.wait_for(re.escape(message[:60]))
    assert root.call("GET", "/network/management")["mode"] == "dhcp"
    console.send(ENTER)
    console.wait_for("System Customization")
    console.send("3")
    console.wait_for(r"Restart the management agents\?")
    console.send("n")
    console.wait_for("System Customization")
    console.send("8")
    console.wait_for("Type yes to go on:")
    console.send("no", ENTER)
    console.wait_for("Nothing was reset.")
    console.send(ENTER)
    console.send("8")
    console.wait_for("Type yes to go on:")
    console.send("yes", ENTER)
    console.wait_for(r"Reset the system configuration now\?")
    console.send("n")
    console.wait_for("Nothing was reset.")
    console.send(ENTER)
    console.wait_for("System Customization")
    assert root.call("GET", "/host")  # the same hostd, the same session


@pytest.fixture
def vt100(host, tmp_path):
    """keel-dcui with TERM=vt100, which has no F12 in terminfo, given its
    TTY by path."""
    c = Console(host, str(tmp_path / "dcui-stderr.log"), term="vt100", by_path=True)
    try:
        c.wait_for(r"<F2 or 2> Customize System/View Logs")
        yield c
    finally:
        c.close()


def test_serial_keys(vt100, host):
    """keel-dcui takes the TTY it is given as its terminal. On a vt100 the
    digit keys stand for F2 and F12: 2 opens the login,
    9 the shut down/restart screen (after a login, as on ESXi); answering
    no there shuts nothing down."""
    root = https(host)

    def dcui_sessions():
        return {s["id"] for s in root.call("GET", "/sessions")["sessions"]
                if s["source"] == "dcui"}

    before = dcui_sessions()
    with open(f"/proc/{vt100.proc.pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    assert int(fields[4]) != 0 and fields[3] == str(vt100.proc.pid)  # a session with the tty
    vt100.send("2")
    vt100.wait_for("Login Name:")
    vt100.send(ESC)
    vt100.wait_for("<F12 or 9> Shut Down/Restart")
    vt100.send("9")
    vt100.wait_for("Shut Down/Restart: Authentication Required")
    vt100.send(ENTER, host.root_password, ENTER)
    vt100.wait_for("1. Shut down the host")
    assert len(dcui_sessions() - before) == 1
    vt100.send("2")
    vt100.wait_for(r"Restart the host now\?")
    vt100.send("n")  # never "y": hostd here is this machine's root
    vt100.wait_for("<F2 or 2> Customize System/View Logs")
    assert dcui_sessions() == before  # logged out


def test_idle_logout_and_hangup(host, tmp_path):
    """A console left alone in the menu is logged out after the idle time
    and back at the idle screen; a terminal that hangs up ends keel-dcui
    (keel-init starts it again)."""
    root = https(host)

    def dcui_sessions():
        return {s["id"] for s in root.call("GET", "/sessions")["sessions"]
                if s["source"] == "dcui"}

    c = Console(host, str(tmp_path / "dcui-stderr.log"), idle=3)
    try:
        c.wait_for("<F2 or 2>")
        before = dcui_sessions()
        c.login("root", host.root_password)
        c.wait_for("System Customization")
        assert len(dcui_sessions() - before) == 1
        c.wait_gone("System Customization", timeout=10)
        c.wait_for("<F2 or 2> Customize System/View Logs")
        assert dcui_sessions() == before
        c.hang_up()
        assert c.proc.wait(timeout=10) == 1
    finally:
        c.close()


def test_factory_reset_then_restart(console, host):
    """Last (hostd is stopping after it): a factory reset typed and
    confirmed is asked of hostd, which then restarts the host (here, where
    PID 1 is not keel-init, it stops only the VMs); the console logs out.
    Then F12's restart is refused with the API's message."""
    console.login("root", host.root_password)
    console.wait_for("System Customization")
    console.send("8")
    console.wait_for("Type yes to go on:")
    console.send("YES", ENTER)
    console.wait_for(r"Reset the system configuration now\?")
    console.send("y")
    console.wait_for("The host restarts now and comes back with the factory defaults")
    assert os.path.exists(os.path.join(host.root, "config", "factory-reset"))
    host.wait_for(r"factory reset asked for by root from dcui")
    console.send(ENTER)
    console.wait_for("<F2 or 2> Customize System/View Logs")  # logged out
    console.send(F12)
    console.wait_for("Shut Down/Restart: Authentication Required")
    console.send(ENTER, host.root_password, ENTER)
    console.wait_for("2. Restart the host")
    console.send("2")
    console.wait_for(r"Restart the host now\?")
    console.send("y")
    console.wait_for("the host is already stopping")


@pytest.fixture
def managed_host(tmp_path):
    """A hostd of its own that manages its eth0 (host.conf's
    mgmt.interface): its management network can be changed and rolled
    back; it is gone after the test."""
    h = NativeHost(str(tmp_path / "managed"))
    os.makedirs(os.path.join(h.root, "config"))
    with open(os.path.join(h.root, "config", "host.conf"), "w") as f:
        f.write("mgmt.interface=eth0\n")
    try:
        h.start()
        h.root_password = re.search(PASSWORD_RX, h.all_console()).group(1)
        yield h
    finally:
        h.kill()


def test_management_network_confirm_or_rollback(managed_host, tmp_path):
    """A change of the IP settings is applied, then the console asks to keep
    it with a countdown: N rolls it back, Y confirms it (host.conf has it)."""
    host = managed_host
    local = LocalApi(os.path.join(host.root, SOCKET)).login("root", host.root_password)
    was = local.call("GET", "/network/management")
    assert was["interface"] == "eth0" and was["mode"] == "dhcp"
    address = f"{host.address}/30"  # the one it has: the test keeps reaching it
    c = Console(host, str(tmp_path / "dcui-stderr.log"))
    try:
        c.wait_for("<F2 or 2>")
        for answer, outcome, mode in (("n", "The previous configuration is back.", "dhcp"),
                                      ("y", "The new configuration is kept.", "static")):
            c.login("root", host.root_password)
            c.wait_for("System Customization")
            c.send("1")
            c.wait_for("Host name:")
            c.wait_for(r"VLAN ID \(empty: none\):")  # the first field, left as it is
            c.send(ENTER, CTRL_U, "static", ENTER, CTRL_U, address, ENTER, *([ENTER] * 5))
            c.wait_for(r"Keep this configuration\?")
            c.wait_for(r"Rolling back in \d+ s without an answer")
            pending = local.call("GET", "/network/management")["pending"]
            assert pending and pending["seconds_left"] > 0
            c.send(answer)
            c.wait_for(re.escape(outcome))
            now = local.call("GET", "/network/management")
            assert now["mode"] == mode and now["pending"] is None, now
            c.send(ENTER, ESC)
            c.wait_for("<F2 or 2>")
        with open(os.path.join(host.root, "config", "host.conf")) as f:
            conf = f.read()
        assert "mgmt.mode = static" in conf and f"mgmt.address = {address}" in conf, conf
    finally:
        c.close()
