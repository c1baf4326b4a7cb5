"""The host's consoles on a booted product appliance, one for the module:
- the console UI (keel-dcui) on the serial console, as an operator at a
  serial terminal sees it: keel-init starts it on ttyS0 once keel-hostd
  serves, and a terminal model (pyte, vt220, 80x24: the size a serial line
  without one gets) reads what QEMU's serial port carries while the test
  types on it: the idle screen, a login, the tech support switch, the
  lockdown matrix's console cells (normal: root only; strict: stopped);
- tech support mode over SSH with Debian's OpenSSH client (dropbear started
  and stopped by keel-init, keel-shell as the login shell, passwords and
  public keys, the time-outs, every command in the audit trail, lockdown);
- last, a factory reset asked through the API (a reboot into a first boot).
(The matrix cell by cell, through the local API, is test_console_native.py's;
each screen and key of the console UI, test_dcui_native.py's; each command
of keel-shell, test_shell_native.py's.)"""
import os
import re
import socket
import subprocess
import threading
import time

import pyte
import pytest

from api import PASSWORD_RX, Api, ApiError, connect
from harness import module_host

PW = "Correct-Horse-7"
# F2's key for a serial terminal: under emulation a function key's escape
# sequence may come apart by more than the console UI's escape delay
F2, ENTER, ESC, CTRL_U = b"2", b"\r", b"\x1b", b"\x15"
SSH_BASE = ["-o", "StrictHostKeyChecking=no", "-o", "UserKnownHostsFile=/dev/null",
            "-o", "LogLevel=ERROR", "-o", "ConnectTimeout=30"]


class LenientScreen(pyte.Screen):
    """pyte's screen, which takes a cursor position with more numbers than
    two (a serial line under emulation may run two sequences together) as
    its first two, rather than failing the whole stream."""

    def cursor_position(self, line=None, column=None, *rest, **kwargs):
        super().cursor_position(line, column)


class SerialConsole:
    """The appliance's serial line: what it carried since boot (QEMU's log
    of it) into a pyte screen; keys typed through QEMU's socket."""

    def __init__(self, host):
        self.host = host
        self.screen = LenientScreen(80, 24)
        self.stream = pyte.ByteStream(self.screen)
        self.offset = 0
        self.sock = socket.socket(socket.AF_UNIX)
        self.sock.connect(host.serial_socket)
        # what comes on the socket is in QEMU's log too, which the screen
        # reads from the start: the socket is drained only, or QEMU stops
        # sending, and the guest's writes to its serial port block
        self.drain = threading.Thread(target=self._drain, daemon=True)
        self.drain.start()

    def _drain(self):
        try:
            while self.sock.recv(65536):
                pass
        except OSError:
            pass

    def text(self):
        with open(self.host.log + ".boot", "rb") as f:
            f.seek(self.offset)
            data = f.read()
        self.offset += len(data)
        self.stream.feed(data)
        return "\n".join(line.rstrip() for line in self.screen.display)

    def wait_for(self, pattern, timeout=60):
        deadline = time.time() + timeout
        while True:
            text = self.text()
            m = re.search(pattern, text)
            if m:
                return m
            if time.time() > deadline:
                raise AssertionError(f"not on the screen: {pattern!r}\n{text}")
            time.sleep(0.3)

    def send(self, *keys):
        for k in keys:
            self.sock.sendall(k if isinstance(k, bytes) else k.encode())
            time.sleep(0.5 if k == ESC else 0.1)  # a lone Esc is told by the pause after it

    def login(self, user, password):
        self.send(F2)
        self.wait_for("Login Name:")
        self.send(CTRL_U, user, ENTER, password, ENTER)

    def close(self):
        try:
            self.sock.shutdown(socket.SHUT_RDWR)  # ends the drain's recv: QEMU sees the end
        except OSError:
            pass  # that QEMU is gone (the host rebooted)
        self.drain.join()
        self.sock.close()


@pytest.fixture(scope="module")
def host(images, pristine_disk, tmp_path_factory):
    sock = str(tmp_path_factory.mktemp("serial") / "ttyS0")
    # the console UI where it runs on a real host (tty1 and the serial
    # console), port 22 forwarded
    h = module_host(tmp_path_factory, pristine_disk, "console", variant="product", append="",
                    serial_socket=sock, more_forwards={22: None})
    yield h
    h.kill()


@pytest.fixture(scope="module")
def root(host):
    api = connect(host)
    api.call("POST", "/users", {"name": "ada", "password": PW})
    api.call("PUT", "/permissions", {"user": "ada", "entity": "host", "role": "Administrator"})
    api.call("POST", "/users", {"name": "rex", "password": PW})
    api.call("PUT", "/permissions", {"user": "rex", "entity": "host", "role": "ReadOnly"})
    return api


@pytest.fixture(scope="module")
def console(host):
    c = SerialConsole(host)
    yield c
    c.close()


@pytest.fixture(scope="module")
def askpass(tmp_path_factory):
    """An SSH_ASKPASS program that answers with $KEEL_TEST_PASSWORD: the
    OpenSSH client's way to take a password without a terminal."""
    path = tmp_path_factory.mktemp("askpass") / "askpass"
    path.write_text('#!/bin/sh\nprintf "%s\\n" "$KEEL_TEST_PASSWORD"\n')
    path.chmod(0o700)
    return str(path)


def ssh(host, askpass, user, *command, password=None, key=None, timeout=120, input=None,
        options=()):
    """Runs the OpenSSH client against the host's port 22; returns the
    CompletedProcess (output as text)."""
    args = ["ssh", "-p", str(host.more_forwards[22]), *SSH_BASE, *options]
    env = {k: v for k, v in os.environ.items() if not k.startswith("SSH_")}
    if key:
        args += ["-i", key, "-o", "BatchMode=yes", "-o", "PasswordAuthentication=no"]
    else:
        args += ["-o", "PubkeyAuthentication=no", "-o", "NumberOfPasswordPrompts=1",
                 "-o", "PreferredAuthentications=password"]
        env.update(SSH_ASKPASS=askpass, SSH_ASKPASS_REQUIRE="force", DISPLAY=":0",
                   KEEL_TEST_PASSWORD=password or "")
    return subprocess.run(args + [f"{user}@127.0.0.1", *command], capture_output=True,
                          text=True, timeout=timeout, env=env, input=input,
                          stdin=None if input is not None else subprocess.DEVNULL)


def sshd_listening(host):
    """Whether something answers on the host's port 22 with an SSH banner
    (QEMU's forward accepts the connection itself, then closes it when the
    host refuses)."""
    try:
        with socket.create_connection(("127.0.0.1", host.more_forwards[22]), timeout=10) as s:
            s.settimeout(10)
            return s.recv(64).startswith(b"SSH-")
    except OSError:
        return False


def wait_until(what, check, timeout=60):
    deadline = time.time() + timeout
    while not check():
        assert time.time() < deadline, f"timed out waiting for {what}"
        time.sleep(1)


def audited(root, user, command):
    trail = root.call("GET", "/audit?lines=200")["entries"]
    return any(e["action"] == "shell" and e["user"] == user and e["target"] == command
               and e["source"].startswith("ssh ") for e in trail)


def test_idle_screen_on_the_serial_console(host, root, console):
    info = root.call("GET", "/host")
    console.wait_for(r"Keel " + re.escape(info["version"]))
    text = console.wait_for(r"https://10\.0\.2\.15/").string
    assert re.search(r"Host name:\s+keel", text)
    fp = info["certificate_sha256"]
    assert fp[:47] in text and fp[48:] in text
    # the first boot's password, which the console UI took over from the log
    password = re.search(PASSWORD_RX, host.console()).group(1)
    assert f"Root password (first boot): {password}" in text


def test_login_and_tech_support_at_the_console(root, console):
    console.wait_for("<F2 or 2>")
    console.login("root", root.password)
    console.wait_for("System Customization")
    console.send("6")
    console.wait_for(r"SSH")
    before = root.call("GET", "/host/tech-support")["ssh"]
    console.send("2")  # the second switch: remote tech support mode
    deadline = time.time() + 30
    while root.call("GET", "/host/tech-support")["ssh"] == before:
        assert time.time() < deadline, console.text()
        time.sleep(0.5)
    sessions = root.call("GET", "/sessions")["sessions"]
    assert any(s["source"] == "dcui" and s["user"] == "root" for s in sessions)
    console.send(ESC, ESC, ESC)
    console.wait_for("<F2 or 2>")
    root.call("PUT", "/host/tech-support", {"ssh": False})


def test_lockdown_cells_at_the_console(host, root, console):
    ada = Api(root.port, root.fingerprint).login("ada", PW)
    try:
        ada.call("PUT", "/security/lockdown", {"mode": "normal", "exceptions": ["ada"]})
        console.wait_for("<F2 or 2>")
        console.login("ada", PW)
        console.wait_for("only root may log in")
        console.send(ENTER)
        console.wait_for("<F2 or 2>")
        console.login("root", root.password)
        console.wait_for("System Customization")
        console.send(ESC)
        console.wait_for("<F2 or 2>")
        # strict: keel-init stops the console UI; F2 brings nothing up
        ada.call("PUT", "/security/lockdown", {"mode": "strict", "exceptions": ["ada"]})
        time.sleep(5)
        console.send(F2)
        time.sleep(5)
        assert "Login Name:" not in console.text()
    finally:
        ada.call("PUT", "/security/lockdown", {"mode": "off"})
        root.login("root", root.password)  # lockdown ended root's API session
    # lockdown off: keel-init starts the console UI again, and F2 works
    deadline = time.time() + 60
    while "Login Name:" not in console.text():
        assert time.time() < deadline, console.text()
        console.send(F2)
        time.sleep(3)
    console.send(ESC)


def test_ssh_off_unless_enabled(host, root):
    assert root.call("GET", "/host/tech-support")["ssh"] is False
    wait_until("dropbear to stop", lambda: not sshd_listening(host))


def test_ssh_runs_keel_shell_and_is_audited(host, root, askpass, tmp_path):
    root.call("PUT", "/host/tech-support", {"ssh": True})
    wait_until("dropbear", lambda: sshd_listening(host))
    r = ssh(host, askpass, "root", "vms", password=root.password)
    assert r.returncode == 0, r.stderr
    assert audited(root, "root", "vms")
    # an Administrator, with a public key set through the API
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(tmp_path / "id")],
                   check=True)
    root.call("PATCH", "/users/ada", {"ssh_keys": [(tmp_path / "id.pub").read_text().strip()]})
    r = ssh(host, askpass, "ada", "ip", "addr", key=str(tmp_path / "id"))
    assert r.returncode == 0 and "10.0.2.15" in r.stdout, r.stderr + r.stdout
    assert audited(root, "ada", "ip addr")
    # an arbitrary program is no command of keel-shell, and never runs
    r = ssh(host, askpass, "ada", "/bin/sh -c id", key=str(tmp_path / "id"))
    assert r.returncode != 0 and "uid=" not in r.stdout
    # not an Administrator: dropbear takes the password, keel-hostd refuses
    # the session (and says so in the audit trail); nothing runs
    r = ssh(host, askpass, "rex", "vms", password=PW)
    assert r.returncode != 0 and "only root and Administrators" in r.stderr, r.stderr
    denied = root.call("GET", "/audit?log=denied&lines=100")["entries"]
    assert any(e["user"] == "rex" and e["source"].startswith("ssh ") and
               e["result"] == "not allowed" for e in denied), denied[-3:]
    assert not audited(root, "rex", "vms")
    # a wrong password: no way in
    assert ssh(host, askpass, "root", "vms", password="wrong-Password-9").returncode == 255
    # a client's environment cannot make it another user
    r = ssh(host, askpass, "ada", "whoami", key=str(tmp_path / "id"),
            options=["-o", "SetEnv=USER=root LOGNAME=root"])
    assert "root" not in r.stdout
    assert audited(root, "ada", "whoami")


def test_ssh_idle_and_availability_timeouts(host, root, askpass):
    """An idle session ends after idle_timeout_s; the service turns itself
    off availability_timeout_s after it was enabled, and a session opened
    before goes on."""
    root.call("PUT", "/host/tech-support", {"ssh": False, "idle_timeout_s": 5})
    root.call("PUT", "/host/tech-support", {"ssh": True})
    wait_until("dropbear", lambda: sshd_listening(host))
    t0 = time.time()
    idle = ssh(host, askpass, "root", password=root.password, input="",
               options=["-tt"], timeout=60)
    # ended by the host (keel-shell's time-out or dropbear's, the same)
    assert 4 <= time.time() - t0 < 45
    out = idle.stdout + idle.stderr
    assert "idle" in out or "closed by remote host" in out, out
    # a session held open across the service's end: it keeps working
    env = {k: v for k, v in os.environ.items() if not k.startswith("SSH_")}
    env.update(SSH_ASKPASS=askpass, SSH_ASKPASS_REQUIRE="force", DISPLAY=":0",
               KEEL_TEST_PASSWORD=root.password)
    root.call("PUT", "/host/tech-support",
              {"ssh": False, "idle_timeout_s": 0, "availability_timeout_s": 20})
    wait_until("dropbear to stop", lambda: not sshd_listening(host))
    root.call("PUT", "/host/tech-support", {"ssh": True})
    wait_until("dropbear", lambda: sshd_listening(host))
    held = subprocess.Popen(["ssh", "-p", str(host.more_forwards[22]), *SSH_BASE, "-tt",
                             "-o", "PubkeyAuthentication=no", "root@127.0.0.1"],
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, env=env)
    try:
        wait_until("the service's end",
                   lambda: not root.call("GET", "/host/tech-support")["ssh"], timeout=90)
        wait_until("dropbear to stop", lambda: not sshd_listening(host))
        held.stdin.write(b"vms\nexit\n")
        held.stdin.flush()
        out, _ = held.communicate(timeout=60)
        assert held.returncode == 0, out
    finally:
        held.kill()
    assert audited(root, "root", "vms")
    root.call("PUT", "/host/tech-support", {"availability_timeout_s": 0})


def test_lockdown_stops_ssh(host, root, askpass):
    root.call("PUT", "/host/tech-support", {"ssh": True})
    wait_until("dropbear", lambda: sshd_listening(host))
    root.call("PUT", "/security/lockdown", {"mode": "normal", "exceptions": ["ada"]})
    ada = Api(root.port, root.fingerprint).login("ada", PW)
    try:
        wait_until("dropbear to stop", lambda: not sshd_listening(host))
        assert ada.call("GET", "/host/tech-support")["ssh"] is False
        with pytest.raises(ApiError) as e:
            ada.call("PUT", "/host/tech-support", {"ssh": True})
        assert e.value.status == 403
    finally:
        ada.call("PUT", "/security/lockdown", {"mode": "off"})
    root.login("root", root.password)


def test_factory_reset_reboots_into_a_first_boot(host, root):
    """Last: a factory reset through the API reboots the host (the VMs'
    guests would be shut down first), which comes back as at its first boot:
    a new root password, no other user, tech support mode off; the
    datastore's files are kept."""
    root.call("PUT", "/datastores/local/files/keep/me.txt", b"still here")
    root.call("PUT", "/host/tech-support", {"ssh": True})
    reply = root.call("POST", "/host/factory-reset", {"timeout_s": 10})
    assert reply["state"] == "rebooting"
    console = host.wait_off(180)
    assert "keel-init: reboot: done" in console  # keel-init's lines are back at the end
    host.start().wait_ready()
    assert "keel-init: factory reset: done" in host.console()
    # the new first-boot password, on this boot's console
    fresh = connect(host, password=host.wait_for(PASSWORD_RX).group(1))
    assert fresh.password != root.password
    assert fresh.fingerprint != root.fingerprint
    assert {u["name"] for u in fresh.call("GET", "/users")["users"]} == {"root"}
    assert fresh.call("GET", "/host/tech-support")["ssh"] is False
    assert not sshd_listening(host)
    status, _, data = fresh.raw("GET", "/api/v1/datastores/local/files/keep/me.txt")
    assert (status, data) == (200, b"still here")
