"""The local API (src/common/localapi.h) and the lockdown matrix, with
keel-hostd on this machine (native.py): logins through each door (the
console UI, tech support mode on a console and over SSH) in each lockdown
mode, by root, an Administrator and a ReadOnly user; tech support mode's
settings and its availability time-out; keel-shell's command records. The
programs behind the doors are tested in test_dcui_native.py,
test_shell_native.py and, with dropbear and OpenSSH, in the appliance."""
import os
import stat
import subprocess
import time

import pytest

from api import Api, ApiError, LocalApi, connect

PW = "Correct-Horse-7"
DOORS = ("dcui", "tsm-local", "tsm-ssh")
# lockdown mode -> door -> who gets in (common/localapi.h)
MATRIX = {
    "off": {"api": {"root", "ada", "rex"}, "dcui": {"root", "ada"},
            "tsm-local": {"root", "ada"}, "tsm-ssh": {"root", "ada"}},
    "normal": {"api": {"ada"}, "dcui": {"root"}, "tsm-local": set(), "tsm-ssh": set()},
    "strict": {"api": {"ada"}, "dcui": set(), "tsm-local": set(), "tsm-ssh": set()},
}


@pytest.fixture(scope="module")
def root(native_host):
    api = connect(native_host, address=native_host.address)
    for name, role in (("ada", "Administrator"), ("rex", "ReadOnly")):
        api.call("POST", "/users", {"name": name, "password": PW})
        api.call("PUT", "/permissions", {"user": name, "entity": "host", "role": role})
    return api


@pytest.fixture(scope="module")
def socket_path(native_host):
    return os.path.join(native_host.root, "run/keel/local.sock")


def local(socket_path):
    return LocalApi(socket_path)


def login(root, socket_path, door, user):
    """The status of a login of `user` (root's password for root) through
    `door`."""
    password = root.password if user == "root" else PW
    try:
        if door == "api":
            Api(root.port, root.fingerprint, address=root.address).login(user, password)
        elif door == "tsm-ssh":
            local(socket_path).login(user, channel=door, peer="192.0.2.7")
        else:
            local(socket_path).login(user, password, channel=door)
        return 201
    except ApiError as e:
        return e.status


def host_conf(native_host):
    with open(os.path.join(native_host.root, "config/host.conf")) as f:
        return f.read()


def test_local_socket_is_roots_alone(socket_path):
    st = os.stat(socket_path)
    assert stat.S_ISSOCK(st.st_mode)
    assert stat.S_IMODE(st.st_mode) == 0o600 and st.st_uid == 0


def test_logins_name_their_door(root, socket_path):
    # on the local API a login names its door; over HTTPS it cannot
    assert local(socket_path).error("POST", "/session",
                                    {"user": "root", "password": root.password})[0] == 400
    assert root.error("POST", "/session", {"user": "root", "password": root.password,
                                           "channel": "dcui"})[0] == 400
    assert local(socket_path).error("POST", "/session", {
        "user": "root", "password": root.password, "channel": "shell"})[0] == 400
    # an SSH login comes without a password (dropbear checked it), with its peer
    assert local(socket_path).error("POST", "/session", {
        "user": "root", "password": root.password, "channel": "tsm-ssh",
        "peer": "192.0.2.7"})[0] == 400
    assert local(socket_path).error("POST", "/session", {
        "user": "root", "channel": "tsm-ssh", "peer": "not an address"})[0] == 400
    # a wrong password is a wrong password at the console too
    assert local(socket_path).error("POST", "/session", {
        "user": "root", "password": "wrong-Password-1", "channel": "dcui"})[0] == 401
    # the session's source is its door, in the sessions list
    s = local(socket_path).login("root", root.password)
    sources = {x["source"] for x in root.call("GET", "/sessions")["sessions"]}
    assert "dcui" in sources
    assert s.call("GET", "/host")["version"]


def set_lockdown(root, mode):
    root.call("PUT", "/security/lockdown", {"mode": mode, "exceptions": ["ada"]})


def test_lockdown_matrix_cell_by_cell(root, socket_path, native_host):
    admin = Api(root.port, root.fingerprint, address=root.address).login("ada", PW)
    try:
        for mode, doors in MATRIX.items():
            if mode == "off":
                admin.call("PUT", "/host/tech-support", {"local": True, "ssh": True})
            set_lockdown(admin, mode)
            for door, allowed in doors.items():
                for user in ("root", "ada", "rex"):
                    want = 201 if user in allowed else 403
                    got = login(root, socket_path, door, user)
                    assert got == want, (mode, door, user, got)
            if mode != "off":
                # lockdown turned tech support mode off, and strict the console UI
                ts = admin.call("GET", "/host/tech-support")
                assert (ts["local"], ts["ssh"], ts["dcui_running"]) == \
                    (False, False, mode != "strict")
                assert ("console.dcui = off" in host_conf(native_host)) == (mode == "strict")
                assert admin.error("PUT", "/host/tech-support", {"ssh": True})[0] == 403
                assert admin.call("GET", "/host/tech-support")["ssh"] is False
    finally:
        set_lockdown(admin, "off")
        root.login("root", root.password)  # lockdown ended root's API session
    # each refusal is on record, with its door as the source
    denied = root.call("GET", "/audit?log=denied&lines=500")["entries"]
    assert any(e["source"] == "dcui" and e["user"] == "rex" and e["result"] == "lockdown"
               for e in denied), denied[-5:]
    assert any(e["source"] == "ssh 192.0.2.7" and e["result"] == "lockdown" for e in denied)


def test_console_sessions_follow_lockdown(root, socket_path):
    root.call("PUT", "/host/tech-support", {"ssh": True})
    dcui = local(socket_path).login("root", root.password)
    ssh = local(socket_path).login("ada", channel="tsm-ssh", peer="192.0.2.8")
    try:
        set_lockdown(root, "normal")
        # root at the console keeps working (and may end lockdown there);
        # the tech support session ended with lockdown
        assert dcui.call("GET", "/security/lockdown")["mode"] == "normal"
        assert ssh.error("GET", "/host")[0] == 401
        dcui.call("PUT", "/security/lockdown", {"mode": "off"})
    finally:
        root.login("root", root.password)
        set_lockdown(root, "off")


def test_tech_support_settings_and_availability_timeout(root, socket_path, native_host):
    bad = [{"ssh": "yes"}, {"local": 1}, {"availability_timeout_s": -1},
           {"idle_timeout_s": 7 * 24 * 3600 + 1}, {"colour": "red"}, {"ssh": None}]
    before = root.call("GET", "/host/tech-support")
    for body in bad:
        assert root.error("PUT", "/host/tech-support", body)[0] == 400, body
    assert root.call("GET", "/host/tech-support") == before
    rex = Api(root.port, root.fingerprint, address=root.address).login("rex", PW)
    assert rex.error("PUT", "/host/tech-support", {"ssh": True})[0] == 403
    root.call("PUT", "/host/tech-support", {"ssh": False, "local": False})
    try:
        ts = root.call("PUT", "/host/tech-support",
                       {"availability_timeout_s": 3, "idle_timeout_s": 600})
        assert (ts["ssh"], ts["availability_timeout_s"], ts["idle_timeout_s"]) == \
            (False, 3, 600)
        t0 = time.time()
        ts = root.call("PUT", "/host/tech-support", {"ssh": True})
        assert ts["ssh"] is True and t0 + 2 <= ts["ssh_until"] <= time.time() + 4
        conf = host_conf(native_host)
        assert "tsm.ssh = on" in conf and "tsm.idle_s = 600" in conf
        # past its time: off at once for the API, and in host.conf (for
        # keel-init) at hostd's next turn
        deadline = time.time() + 20
        while (root.call("GET", "/host/tech-support")["ssh"] or
               "tsm.ssh = on" in host_conf(native_host)):
            assert time.time() < deadline, host_conf(native_host)
            time.sleep(0.5)
        ts = root.call("GET", "/host/tech-support")
        assert ts["ssh"] is False and ts["ssh_until"] is None
        assert login(root, socket_path, "tsm-ssh", "root") == 403
    finally:
        root.call("PUT", "/host/tech-support", {"availability_timeout_s": 0})


def test_console_ui_switch(root, native_host):
    """The console UI can be turned off through the API, and strict lockdown
    keeps it off whatever the switch says."""
    rex = Api(root.port, root.fingerprint, address=root.address).login("rex", PW)
    assert rex.error("PUT", "/host/tech-support", {"dcui": False})[0] == 403
    assert root.error("PUT", "/host/tech-support", {"dcui": "no"})[0] == 400
    ts = root.call("PUT", "/host/tech-support", {"dcui": False})
    assert (ts["dcui"], ts["dcui_running"]) == (False, False)
    assert "console.dcui = off" in host_conf(native_host)
    ts = root.call("PUT", "/host/tech-support", {"dcui": True})
    assert (ts["dcui"], ts["dcui_running"]) == (True, True)
    assert "console.dcui" not in host_conf(native_host)
    set_lockdown(root, "strict")
    ada = Api(root.port, root.fingerprint, address=root.address).login("ada", PW)
    try:
        ts = ada.call("GET", "/host/tech-support")
        assert (ts["dcui"], ts["dcui_running"]) == (True, False)
        assert ada.call("PUT", "/host/tech-support", {"dcui": True})["dcui_running"] is False
    finally:
        set_lockdown(ada, "off")
        root.login("root", root.password)
    assert root.call("GET", "/host/tech-support")["dcui_running"] is True


def test_shell_commands_are_recorded(root, socket_path):
    root.call("PUT", "/host/tech-support", {"ssh": True, "local": True})
    try:
        shell = local(socket_path).login("ada", channel="tsm-ssh", peer="192.0.2.9")
        shell.call("POST", "/host/tech-support/commands", {"command": "ip addr"})
        trail = root.call("GET", "/audit?lines=50")["entries"]
        assert any(e["action"] == "shell" and e["target"] == "ip addr" and e["user"] == "ada"
                   and e["source"] == "ssh 192.0.2.9" for e in trail), trail[-5:]
        for body in ({"command": ""}, {"command": "x" * 1025}, {"cmd": "ls"}):
            assert shell.error("POST", "/host/tech-support/commands", body)[0] == 400
        # only keel-shell's sessions record commands
        dcui = local(socket_path).login("root", root.password)
        assert dcui.error("POST", "/host/tech-support/commands", {"command": "ls"})[0] == 403
        assert root.error("POST", "/host/tech-support/commands", {"command": "ls"})[0] == 403
        # tech support mode off: no more logins through its doors
        root.call("PUT", "/host/tech-support", {"ssh": False, "local": False})
        assert login(root, socket_path, "tsm-ssh", "ada") == 403
        assert login(root, socket_path, "tsm-local", "ada") == 403
    finally:
        root.call("PUT", "/host/tech-support", {"ssh": False, "local": False})


def test_ssh_public_keys(root, native_host, tmp_path):
    """Public keys set through the API reach the file dropbear reads; bad
    ones are refused with nothing changed."""
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "ada@laptop", "-f",
                    str(tmp_path / "id")], check=True)
    key = (tmp_path / "id.pub").read_text().strip()
    root.call("PATCH", "/users/ada", {"ssh_keys": [key]})
    assert root.call("GET", "/users/ada")["ssh_keys"] == [key]
    path = os.path.join(native_host.root, "run/keel/tsm/ada/.ssh/authorized_keys")
    with open(path) as f:
        assert f.read() == key + "\n"
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    kind, b64, _ = key.split(" ")
    bad = [[f'command="/bin/sh" {key}'], [key + "\nssh-ed25519 " + b64], ["ssh-dss " + b64],
           [kind], [f"{kind} not*base64"], [key] * 17, "not a list", [7]]
    for keys in bad:
        assert root.error("PATCH", "/users/ada", {"ssh_keys": keys})[0] == 400, keys
    rex = Api(root.port, root.fingerprint, address=root.address).login("rex", PW)
    assert rex.error("PATCH", "/users/ada", {"ssh_keys": []})[0] == 403
    assert root.call("GET", "/users/ada")["ssh_keys"] == [key]
    root.call("PATCH", "/users/ada", {"ssh_keys": []})
    assert not os.path.exists(path)


def test_cli_commands(root, native_host, tmp_path):
    """keel host tech-support, user ssh-keys, network mgmt test and the
    factory reset's --yes, against this hostd."""
    creds = root.write_cli_credentials(tmp_path / "creds")
    keel = os.path.join(os.path.dirname(__file__), "..", "..", "build", "src", "cli", "keel")

    def cli(*args):
        env = {k: v for k, v in os.environ.items() if not k.startswith("KEEL_")}
        return subprocess.run([keel, "--credentials", creds, *args], capture_output=True,
                              text=True, timeout=60, env=env)

    r = cli("host", "tech-support", "set", "--ssh", "on", "--idle-timeout", "300")
    assert r.returncode == 0, r.stderr
    assert "on" in r.stdout and "300 s" in r.stdout
    assert root.call("GET", "/host/tech-support")["ssh"] is True
    r = cli("host", "tech-support", "set", "--ssh", "maybe")
    assert r.returncode == 2 and "--ssh: on or off" in r.stderr
    assert cli("host", "tech-support", "set", "--ssh", "off").returncode == 0
    assert "ssh                   off" in cli("host", "tech-support", "show").stdout
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(tmp_path / "k")],
                   check=True)
    (tmp_path / "keys").write_text("# ada's laptop\n" + (tmp_path / "k.pub").read_text())
    r = cli("user", "ssh-keys", "ada", str(tmp_path / "keys"))
    assert r.returncode == 0 and "ada: 1 SSH key" in r.stdout, r.stderr
    assert cli("user", "ssh-keys", "ada", "--none").returncode == 0
    assert root.call("GET", "/users/ada")["ssh_keys"] == []
    # no management NIC here (a veth): no gateway, and the test says so
    r = cli("network", "mgmt", "test")
    assert r.returncode == 1 and "no default gateway" in r.stdout and "FAILED" in r.stdout
    r = cli("host", "factory-reset")
    assert r.returncode == 2 and "--yes" in r.stderr
    assert not os.path.exists(os.path.join(native_host.root, "config/factory-reset"))


def test_host_power_requests_last(root, native_host):
    """Reboot, shutdown and factory reset: refused without the privilege or
    with a bad body; once one is under way, another is refused. (Here hostd's
    PID 1 is not keel-init, so nothing more happens: the appliance test
    reboots for real.) Last in the module: the host is stopping after it."""
    rex = Api(root.port, root.fingerprint, address=root.address).login("rex", PW)
    for path in ("/host/reboot", "/host/shutdown", "/host/factory-reset"):
        assert rex.error("POST", path, {})[0] == 403
        for body in ({"timeout_s": -1}, {"timeout_s": 3601}, {"timeout_s": "5"},
                     {"timeout": 5}):
            assert root.error("POST", path, body)[0] == 400, (path, body)
    reply = root.call("POST", "/host/shutdown", {"timeout_s": 5})
    assert reply == {"state": "shutting down", "vms_running": 0, "timeout_s": 5}
    assert root.error("POST", "/host/reboot", {})[0] == 409
    assert root.error("POST", "/host/factory-reset", {})[0] == 409
    assert not os.path.exists(os.path.join(native_host.root, "config/factory-reset"))
    native_host.wait_for(r"PID 1 is not keel-init: signal 12 not sent", 10)
