"""keel-dcui on a booted product appliance's serial console, as an operator
at a serial terminal sees it: keel-init starts it on ttyS0 once keel-hostd
serves, and a terminal model (pyte, vt220, 80x24: the size a serial line without one gets) reads what QEMU's serial
port carries while the test types on it. The idle screen, a login, the
lockdown matrix's console cells (normal: root only; strict: the console UI
is stopped), with the effects checked through the API. (Every screen and
key in detail: test_dcui_native.py.)"""
import re
import socket
import threading
import time

import pyte
import pytest

from api import PASSWORD_RX, Api, connect
from harness import module_host

PW = "Correct-Horse-7"
# F2's key for a serial terminal: under emulation a function key's escape
# sequence may come apart by more than the console UI's escape delay
F2, ENTER, ESC, CTRL_U = b"2", b"\r", b"\x1b", b"\x15"


class SerialConsole:
    """The appliance's serial line: what it carried since boot (QEMU's log
    of it) into a pyte screen; keys typed through QEMU's socket."""

    def __init__(self, host):
        self.host = host
        self.screen = pyte.Screen(80, 24)
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
        self.sock.shutdown(socket.SHUT_RDWR)  # ends the drain's recv: QEMU sees the end
        self.drain.join()
        self.sock.close()


@pytest.fixture(scope="module")
def host(images, pristine_disk, tmp_path_factory):
    sock = str(tmp_path_factory.mktemp("serial") / "ttyS0")
    # the console UI where it runs on a real host: tty1 and the serial console
    h = module_host(tmp_path_factory, pristine_disk, "dcui", variant="product", append="",
                    serial_socket=sock)
    yield h
    h.kill()


@pytest.fixture(scope="module")
def root(host):
    api = connect(host)
    api.call("POST", "/users", {"name": "ada", "password": PW})
    api.call("PUT", "/permissions", {"user": "ada", "entity": "host", "role": "Administrator"})
    return api


@pytest.fixture(scope="module")
def console(host):
    c = SerialConsole(host)
    yield c
    c.close()


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
    # lockdown off: keel-init starts the console UI again, and F2 works
    deadline = time.time() + 60
    while "Login Name:" not in console.text():
        assert time.time() < deadline, console.text()
        console.send(F2)
        time.sleep(3)
    console.send(ESC)
