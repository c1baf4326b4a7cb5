"""Access control in keel-hostd, through its API with a standard client:
users, roles and permissions (on the host and on one VM), account lock-out,
lockdown mode (normal and strict, across a host reboot), the audit trail of
all of it, TLS, the certificate's replacement, and 500 hostile requests.
One appliance for the module; the tests run in order."""
import json
import socket
import ssl
import subprocess
import time

import pytest

import guest
from api import Api, connect
from harness import module_host
from test_hostd import alive, hostd_rss_kib, vm_spec

PW = "Correct-Horse-7"  # meets the default policy: 12+ characters, 3 classes


@pytest.fixture(scope="module")
def host(images, pristine_disk, tmp_path_factory):
    a = module_host(tmp_path_factory, pristine_disk, "security")
    yield a
    a.kill()


@pytest.fixture(scope="module")
def root(host):
    return connect(host)


@pytest.fixture(scope="module")
def vms(root, tmp_path_factory):
    """Two powered-off VMs, a1 and a2, on the test guest."""
    files = guest.upload(root, tmp_path_factory.mktemp("guest"))
    for name in ("a1", "a2"):
        root.call("POST", "/vms", vm_spec(name, files, "idle"))
    return ["a1", "a2"]


def user(root, name, role=None, entity="host"):
    root.call("POST", "/users", {"name": name, "password": PW})
    if role:
        root.call("PUT", "/permissions", {"user": name, "entity": entity, "role": role})
    return Api(root.port, root.fingerprint).login(name, PW)


def audit(root, **match):
    """Audit entries with every field of `match`."""
    entries = root.call("GET", "/audit?lines=10000")["entries"]
    return [e for e in entries if all(e.get(k) == v for k, v in match.items())]


def test_readonly_user_cannot_power_on(root, vms):
    ro = user(root, "viewer", "ReadOnly")
    assert [v["name"] for v in ro.call("GET", "/vms")["vms"]] == vms
    assert ro.error("POST", "/vms/a1/power/on") == (403, "forbidden")
    assert ro.error("PATCH", "/vms/a1", {"vcpus": 2}) == (403, "forbidden")
    assert ro.error("POST", "/users", {"name": "x", "password": PW}) == (403, "forbidden")
    assert root.call("GET", "/vms/a1")["state"] == "poweredOff"
    assert root.call("GET", "/vms/a1")["vcpus"] == 1
    assert audit(root, user="viewer", action="POST /api/v1/vms/a1/power/on",
                 target="vm/a1", result="denied", status=403)
    # a user with no permission at all sees nothing
    nobody = user(root, "nobody")
    assert nobody.call("GET", "/vms")["vms"] == []
    assert nobody.error("GET", "/host") == (403, "forbidden")


def test_permission_on_one_vm_and_custom_role(root, vms, host):
    role = root.call("POST", "/roles", {"name": "Starter",
                                        "privileges": ["VirtualMachine.PowerOn", "System.View"]})
    assert role["privileges"] == ["VirtualMachine.PowerOn", "System.View"]
    assert root.error("POST", "/roles", {"name": "Bad", "privileges": ["Root.Everything"]}) \
        == (400, "bad_request")
    op = user(root, "operator", "Starter", "vm/a1")
    assert [v["name"] for v in op.call("GET", "/vms")["vms"]] == ["a1"]
    vm = op.call("POST", "/vms/a1/power/on")
    assert vm["state"] == "running" and alive(host, vm["pid"])
    assert op.error("POST", "/vms/a2/power/on") == (403, "forbidden")
    assert op.error("PATCH", "/vms/a1", {"memory_mib": 512}) == (403, "forbidden")
    assert op.error("POST", "/vms/a1/power/off") == (403, "forbidden")
    assert root.call("GET", "/vms/a2")["state"] == "poweredOff"
    assert root.call("GET", "/vms/a1")["memory_mib"] == 256
    # a role in use cannot go; built-in roles never
    assert root.error("DELETE", "/roles/Starter") == (409, "conflict")
    assert root.error("DELETE", "/roles/Administrator") == (409, "conflict")
    root.call("POST", "/vms/a1/power/off")
    assert audit(root, user="operator", action="POST /api/v1/vms/a1/power/on", result="ok")
    assert audit(root, user="operator", action="POST /api/v1/vms/a2/power/on",
                 result="denied", status=403)
    assert audit(root, user="operator", action="PATCH /api/v1/vms/a1", result="denied")


def test_captures_checked_against_their_grammars(root, vms):
    """Every spelling of a VM name in the URL other than its own is refused
    (404, or 400 for %00 and an encoded '/') before the privilege check:
    none reaches another VM or gets past a NoAccess, and nothing changes.
    (test_hostd_native.py tries many more, on every kind of name.)"""
    fenced = user(root, "fenced", "Administrator")
    root.call("PUT", "/permissions", {"user": "fenced", "entity": "vm/a1", "role": "NoAccess"})
    before = root.call("GET", "/vms")
    assert fenced.error("GET", "/vms/a1") == (403, "forbidden")
    for spelling in ("%01a1", "a1%00", "a1%00x", "%00", "%2e%2e", "..", "a1%2F", "%2Fa1",
                     "a1%20", "%E2%80%8Ba1", "a" + "1" * 70, "./a1", "x/../a1"):
        for method, tail in (("GET", ""), ("PATCH", ""), ("DELETE", ""),
                             ("POST", "/power/on")):
            for who in (root, fenced):
                status, _, _ = who.raw(method, f"/api/v1/vms/{spelling}{tail}",
                                       {"vcpus": 2} if method == "PATCH" else None)
                assert status in (400, 404), (spelling, method, status)
    for spelling in ("a1/", "%61%31", "a%31"):  # a1 itself: its NoAccess holds
        assert fenced.raw("PATCH", f"/api/v1/vms/{spelling}", {"vcpus": 2})[0] == 403
        assert fenced.raw("DELETE", f"/api/v1/vms/{spelling}")[0] == 403
    assert root.call("GET", "/vms") == before
    for path in ("/datastores/local/files/%2e%2e/etc/passwd", "/datastores/local%00/browse",
                 "/users/root%00", "/roles/%2e%2e", "/network/portgroups/VM%20Network%0a"):
        assert fenced.raw("GET", "/api/v1" + path)[0] in (400, 404), path
    root.call("DELETE", "/users/fenced")


def test_failed_logins_lock_the_account(root, host):
    root.call("PUT", "/security/policy", {"lockout_failures": 3, "lockout_seconds": 8})
    user(root, "clumsy", "ReadOnly")
    anon = Api(root.port, root.fingerprint)
    for i in range(3):
        status, _, body = anon.raw("POST", "/api/v1/session",
                                   {"user": "clumsy", "password": "wrong"})
        assert status == 401
    assert b"wrong user name or password" in body and b"locked" not in body
    # the user from this address waits (lockout_seconds caps the wait); the
    # right password waits too
    status, headers, body = anon.raw("POST", "/api/v1/session",
                                     {"user": "clumsy", "password": PW})
    assert status == 429 and 0 < int(headers["Retry-After"]) <= 8
    assert root.call("GET", "/users/clumsy")["locked"] is True
    time.sleep(9)
    Api(root.port, root.fingerprint).login("clumsy", PW)
    assert audit(root, user="clumsy", action="login", result="throttled")
    assert audit(root, user="clumsy", action="login", result="ok")
    # the password policy: too short, too few kinds of characters
    assert root.error("POST", "/users", {"name": "weak", "password": "short1A"}) == \
        (400, "bad_request")
    assert root.error("POST", "/users", {"name": "weak", "password": "alllowercaseletters"}) \
        == (400, "bad_request")
    assert root.error("PATCH", "/users/root", {"disabled": True}) == (409, "conflict")
    assert root.error("DELETE", "/users/root") == (409, "conflict")
    root.call("PUT", "/security/policy", {"lockout_failures": 5, "lockout_seconds": 900})


def test_sessions_listed_and_revoked(root):
    mine = user(root, "temp", "ReadOnly")
    sessions = root.call("GET", "/sessions")["sessions"]
    ids = [s["id"] for s in sessions if s["user"] == "temp"]
    assert len(ids) == 1
    assert mine.call("GET", "/host")
    root.call("DELETE", f"/sessions/{ids[0]}")
    assert mine.error("GET", "/host") == (401, "unauthorized")
    root.call("DELETE", "/users/temp")
    assert root.error("GET", "/users/temp") == (404, "not_found")


def console_call(host, method, path, body, token=None):
    """A request on the local API (src/common/localapi.h), as the console UI
    makes it, through the test hook: (status, JSON answer)."""
    data = json.dumps(body).encode()
    auth = f"Authorization: Bearer {token}\r\n" if token else ""
    head = (f"{method} /api/v1{path} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n"
            f"{auth}Content-Type: application/json\r\nContent-Length: {len(data)}\r\n\r\n")
    reply = host.hook("unixall /run/keel/local.sock", head.encode() + data).decode()
    status = int(reply.split(" ", 2)[1])
    text = reply.split("\r\n\r\n", 1)[1]
    return status, json.loads(text) if text.strip() else None


def console_lockdown_off(host, password):
    """Lockdown off at the console, as root: (status, answer) of the login
    when refused, else of the change."""
    status, answer = console_call(host, "POST", "/session",
                                  {"user": "root", "password": password, "channel": "dcui"})
    if status != 201:
        return status, answer
    return console_call(host, "PUT", "/security/lockdown", {"mode": "off"}, answer["token"])


def test_lockdown(root, host):
    keeper = user(root, "keeper", "Administrator")
    password = root.password
    assert root.error("PUT", "/security/lockdown", {"mode": "strict"}) == (409, "conflict")
    root.call("PUT", "/security/lockdown", {"mode": "normal", "exceptions": ["keeper"]})
    # root's session ended; root cannot log in; the exception user can
    assert root.error("GET", "/host") == (401, "unauthorized")
    assert Api(root.port, root.fingerprint).error(
        "POST", "/session", {"user": "root", "password": password}) == (403, "lockdown")
    assert keeper.call("GET", "/security/lockdown")["mode"] == "normal"
    # normal lockdown ends at the console, as root
    assert console_lockdown_off(host, "wrong")[0] == 401
    assert console_lockdown_off(host, password)[0] == 200
    root.login("root", password)

    # strict: survives a reboot, and the console cannot end it
    keeper.call("PUT", "/security/lockdown", {"mode": "strict", "exceptions": ["keeper"]})
    status, answer = console_lockdown_off(host, password)
    assert status == 403 and "strict" in answer["error"]["message"]
    host.powerdown()
    host.start().wait_ready()
    host.wait_for(r"keel-hostd: API ready")
    keeper = Api(root.port, root.fingerprint)
    keeper.port = root.port = host.api_port
    assert root.error("POST", "/session", {"user": "root", "password": password}) == \
        (403, "lockdown")
    keeper.login("keeper", PW)
    assert keeper.call("GET", "/security/lockdown")["mode"] == "strict"
    keeper.call("PUT", "/security/lockdown", {"mode": "off"})
    root.login("root", password)

    assert audit(root, user="keeper", action="PUT /api/v1/security/lockdown", result="ok")
    assert audit(root, user="root", action="login", result="lockdown", status=403)
    assert audit(root, user="root", source="dcui", action="PUT /api/v1/security/lockdown",
                 result="ok")


def test_tls_only_modern(root, host):
    # plain HTTP gets no HTTP answer
    with socket.create_connection(("127.0.0.1", host.api_port), timeout=10) as s:
        s.sendall(b"GET /api/v1 HTTP/1.1\r\nHost: x\r\n\r\n")
        try:
            reply = s.recv(100)
        except ConnectionResetError:
            reply = b""
    assert not reply.startswith(b"HTTP/")
    # TLS 1.1 is refused
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.check_hostname, ctx.verify_mode = False, ssl.CERT_NONE
    ctx.set_ciphers("ALL:@SECLEVEL=0")
    ctx.minimum_version = ctx.maximum_version = ssl.TLSVersion.TLSv1_1
    with pytest.raises((ssl.SSLError, ConnectionResetError)):
        with socket.create_connection(("127.0.0.1", host.api_port), timeout=10) as s:
            ctx.wrap_socket(s).do_handshake()


def test_certificate_replaced(root, host, tmp_path):
    def make(name):
        subprocess.check_call(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt",
                               "ec_paramgen_curve:P-256", "-nodes", "-days", "30", "-subj",
                               "/CN=keel-test", "-keyout", str(tmp_path / f"{name}.key"),
                               "-out", str(tmp_path / f"{name}.crt")],
                              stderr=subprocess.DEVNULL)
        return (tmp_path / f"{name}.crt").read_text(), (tmp_path / f"{name}.key").read_text()

    cert, key = make("a")
    _, other_key = make("b")
    old = root.call("GET", "/host")["certificate_sha256"]
    assert root.error("PUT", "/host/certificate", {"certificate": cert, "key": other_key}) == \
        (400, "bad_request")
    assert root.error("PUT", "/host/certificate", {"certificate": "junk", "key": key}) == \
        (400, "bad_request")
    assert root.call("GET", "/host")["certificate_sha256"] == old
    new = root.call("PUT", "/host/certificate", {"certificate": cert, "key": key})
    fp = new["certificate_sha256"]
    assert fp != old
    root.fingerprint = fp.replace(":", "").lower()  # the client pins the new one
    deadline = time.monotonic() + 60
    while True:
        try:
            if root.call("GET", "/host")["certificate_sha256"] == fp:
                break
        except (OSError, ssl.SSLError):
            pass  # hostd restarting, or still the old certificate
        assert time.monotonic() < deadline
        time.sleep(0.5)


def test_hostile_requests_leave_the_host_serving(root, host):
    before_vms = root.call("GET", "/vms")
    anon = Api(root.port, root.fingerprint)
    bogus = Api(root.port, root.fingerprint, "f" * 64)
    kinds = [
        lambda i: anon.raw("GET", "/api/v1/vms"),
        lambda i: bogus.raw("DELETE", "/api/v1/vms/a1"),
        lambda i: root.raw("POST", "/api/v1/vms", b"{\"name\": " + b"[" * (i % 50)),
        lambda i: root.raw("POST", "/api/v1/vms", b"{\"name\": \"" + b"x" * 70000 + b"\"}"),
        lambda i: root.raw("PATCH", "/api/v1/vms/a1", {"memory_mib": -i}),
        lambda i: root.raw("GET", f"/api/v1/datastores/local/files/{'../' * (i % 9)}etc/passwd"),
        lambda i: root.raw("PUT", "/api/v1/users/" + "u" * (i % 300), {"a": 1}),
        lambda i: anon.raw("POST", "/api/v1/session", b"\xff\xfe" * (i % 40)),
        lambda i: root.raw("BREW", "/api/v1/host"),
        lambda i: root.raw("POST", "/api/v1/vms/a1/power/on", {"timeout_s": "soon"}),
    ]
    statuses, rss = {}, [hostd_rss_kib(host)]
    for _ in range(2):  # the first round warms what hostd keeps (its threads'
        for i in range(300):  # malloc arenas, SQLite's caches); the second must not grow
            status = kinds[i % len(kinds)](i)[0]
            statuses[status] = statuses.get(status, 0) + 1
        rss.append(hostd_rss_kib(host))
    assert all(400 <= s < 500 for s in statuses), statuses
    assert root.call("GET", "/host")["hostname"]
    assert root.call("GET", "/vms") == before_vms
    print(f"600 hostile requests: statuses {statuses}; hostd RSS {rss} KiB")
    assert rss[2] - rss[1] < 2048 and rss[2] - rss[0] < 16384, rss
