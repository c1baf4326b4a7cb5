"""keel-hostd's API where the appliance adds nothing, so hostd runs on this
machine (native.py): a 1 GiB upload with hostd's memory flat; URL captures
checked against their grammars before anything else. One hostd for the
module."""
import collections
import concurrent.futures
import hashlib
import http.client
import io
import json
import os
import re
import resource
import socket
import ssl
import subprocess
import sys
import threading
import time

import pytest

from api import Api, connect

PW = "Correct-Horse-7"  # meets the default policy


@pytest.fixture(scope="module")
def api(native_host):
    return connect(native_host, address=native_host.address)


def hostd_rss_kib(pid):
    with open(f"/proc/{pid}/status") as f:
        return int(re.search(r"VmRSS:\s+(\d+)", f.read()).group(1))


class Stream:
    """1 GiB of pseudo-random bytes, read in pieces, never held whole."""

    def __init__(self, size):
        self.left = size
        self.block = os.urandom(1 << 20)

    def read(self, n=-1):
        n = self.left if n < 0 else min(n, self.left)
        n = min(n, len(self.block))
        self.left -= n
        return self.block[:n]


def test_1gib_upload_memory_flat(api, native_host):
    size = 1 << 30
    before = hostd_rss_kib(native_host.pid)
    samples, done = [], threading.Event()

    def sample():
        while not done.wait(0.2):
            samples.append(hostd_rss_kib(native_host.pid))

    t = threading.Thread(target=sample)
    t.start()
    try:
        r = api.call("PUT", "/datastores/local/files/big/one.bin", Stream(size),
                     headers={"Content-Length": str(size)}, timeout=1800)
    finally:
        done.set()
        t.join()
    assert r["size"] == size
    assert api.call("GET", "/datastores/local/browse/big/one.bin")["size"] == size
    peak = max(samples + [hostd_rss_kib(native_host.pid)])
    print(f"hostd RSS before {before} KiB, peak during a 1 GiB upload {peak} KiB "
          f"({len(samples)} samples)")
    assert len(samples) >= 3
    assert peak - before < 16 * 1024, (before, samples)
    api.call("DELETE", "/datastores/local/files/big/one.bin")


def make_user(root, name, grants=()):
    """A user with a role on each entity of `grants` [(entity, role)]."""
    root.call("POST", "/users", {"name": name, "password": PW})
    for entity, role in grants:
        root.call("PUT", "/permissions", {"user": name, "entity": entity, "role": role})
    return Api(root.port, root.fingerprint, address=root.address).login(name, PW)


def raw_reply(api, request_line):
    """(status, body) of a request sent byte for byte (http.client refuses
    control characters in a path); status None when there is no HTTP reply."""
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.check_hostname, ctx.verify_mode = False, ssl.CERT_NONE
    with socket.create_connection((api.address, api.port), timeout=30) as s:
        with ctx.wrap_socket(s) as t:
            t.sendall(request_line + b" HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer " +
                      api.token.encode() + b"\r\nConnection: close\r\n\r\n")
            reply = b""
            while chunk := t.recv(4096):
                reply += chunk
    if not reply.startswith(b"HTTP/"):
        return None, b""
    return int(reply.split(b" ", 2)[1]), reply.split(b"\r\n\r\n", 1)[-1]


# Spellings of the VM "42" (and of nothing) that must not reach another VM,
# nor VM 42 past its permission: percent-encodings, NUL, trailing slash,
# dot segments, double slashes, overlong names. `same` marks those that are
# VM 42 itself (its permission applies: 403 for the user it denies).
SPELLINGS = [
    ("%0142", False), ("42%00", False), ("42%00x", False), ("%00", False), ("%00/42", False),
    ("%2e%2e", False), ("..", False), (".", False), ("%2e", False), ("42%2F", False),
    ("42%2f", False),
    ("42%2f..", False), ("%2F42", False), ("42%20", False), ("%2042", False), ("42%0a", False),
    ("42%E2%80%8B", False), ("x%2F..%2F42", False), ("./42", False), ("../vms/42", False),
    ("/42", False), ("42" + "2" * 70, False), ("%34%32%ff", False), ("-42", False),
    ("42/", True), ("4%32", True), ("%34%32", True),
]


@pytest.fixture(scope="module")
def vms(api):
    """VMs "42" and "x42" (no guest: they are never started)."""
    api.call("PUT", "/datastores/local/files/k/vmlinuz", b"not a kernel")
    for name in ("42", "x42"):
        api.call("POST", "/vms", {"name": name, "memory_mib": 64,
                                  "kernel": "local/k/vmlinuz"})
    return ["42", "x42"]


def test_captures_checked_before_authorization(api, vms):
    """A capture that fails its entity's grammar is refused (404; 400 for an
    encoded NUL) before authentication's result matters, before the
    privilege check and before any handler: no spelling of a name reaches
    another entity or gets past a permission, and nothing changes."""
    denied = make_user(api, "denied42", [("host", "Administrator"), ("vm/42", "NoAccess")])
    nobody = make_user(api, "nobody42")  # no permission anywhere
    before = api.call("GET", "/vms")
    assert denied.error("GET", "/vms/42") == (403, "forbidden")
    requests = [("GET", ""), ("GET", "/stats"), ("GET", "/console"), ("PATCH", ""),
                ("POST", "/power/on"), ("DELETE", "")]
    for spelling, same in SPELLINGS:
        for method, tail in requests:
            path = f"/vms/{spelling}{tail}"
            body = {"vcpus": 2} if method == "PATCH" else None
            # VM 42 itself under another spelling: its permission applies
            # (root could change it: only the users who may not are tried)
            for who in (denied, nobody) if same else (api, denied, nobody):
                status, _, data = who.raw(method, "/api/v1" + path, body)
                if same:
                    assert status == 403 or (status == 404 and tail), (path, method, status)
                else:
                    assert status in (400, 404), (who is api, method, path, status, data)
        assert api.call("GET", "/vms") == before, spelling


def test_raw_nul_and_other_entities(api, vms):
    """A NUL byte sent as is, and bad names of the other entities: users,
    roles, sessions, switches, port groups, datastores, datastore paths."""
    # libmicrohttpd (0.9.75) reads a request line only up to a raw NUL: the
    # name is then what precedes it, checked and acted on as one string
    denied = make_user(api, "denied43", [("host", "Administrator"), ("vm/42", "NoAccess")])
    for line in (b"GET /api/v1/vms/42\x00x", b"DELETE /api/v1/vms/42\x00",
                 b"PATCH /api/v1/vms/42\x00/", b"GET /api/v1/vms/%0142\x00"):
        status, _ = raw_reply(denied, line)
        assert status in (None, 400, 403, 404), (line, status)
    for line in (b"GET /api/v1/vms/%0142\x00", b"GET /api/v1/vms/4\x002",
                 b"GET /api/v1/vms/x\x0042"):
        status, body = raw_reply(api, line)
        assert status in (None, 400, 404), (line, status, body)
    status, body = raw_reply(api, b"GET /api/v1/vms/x42\x00junk")
    assert status is None or status >= 400 or json.loads(body)["name"] == "x42"
    assert api.call("GET", "/vms/42")["name"] == "42"
    assert api.call("GET", "/vms/x42")["name"] == "x42"
    nobody = make_user(api, "nobody43")
    users = api.call("GET", "/users")
    for path in ("/users/root%00", "/users/%2e%2e", "/users/root%0a", "/users/.root",
                 "/users/" + "u" * 65, "/roles/Administrator%00x", "/roles/%2e",
                 "/sessions/" + "0" * 15 + "%00", "/sessions/ABCDEF0123456789",
                 "/sessions/%2e%2e", "/network/switches/vSwitch0%00", "/network/switches/..",
                 "/network/portgroups/VM%20Network%00", "/network/portgroups/%2e%2e",
                 "/network/portgroups/VM%20Network%0a", "/datastores/local%00/files/k/vmlinuz",
                 "/datastores/..%2Flocal/files/k/vmlinuz", "/datastores/local/files/%2e%2e/x",
                 "/datastores/local/files/k/%2e%2e/k/vmlinuz", "/datastores/local/files/k//vmlinuz",
                 "/datastores/local/files/k/vmlinuz%00", "/datastores/local/files/k%5Cvmlinuz",
                 "/datastores/local/browse/%2e%2e"):
            for method in ("GET", "DELETE", "PATCH"):
                for who in (api, nobody):
                    status, _, data = who.raw(method, "/api/v1" + path,
                                              {} if method == "PATCH" else None)
                    assert status in (400, 404), (method, path, status, data)
    assert api.call("GET", "/users") == users
    assert api.call("GET", "/datastores/local/browse/k/vmlinuz")["size"] == len(b"not a kernel")
    assert api.call("GET", "/network/portgroups/VM%20Network")["name"] == "VM Network"
    # the audit log names what was refused as it was asked for
    entries = api.call("GET", "/audit?lines=10000")["entries"]
    assert not [e for e in entries if e["result"] == "ok" and "%00" in e["action"]]


# idle clients from IDLE_SOURCES addresses, IDLE_PER_SOURCE each (hostd
# allows 64 connections per address)
IDLE_SOURCES, IDLE_PER_SOURCE = 16, 63
# the first bytes of a TLS ClientHello whose rest never comes
HALF_HELLO = bytes.fromhex("1603010200010001fc0303") + bytes(16)
# hostd closes a connection whose first request has not arrived whole
# FIRST_DEADLINE s after it accepted it (http.c, CONN_FIRST_DEADLINE),
# however much it trickles, and one idle 120 s once a request has arrived:
# CLOSE_BOUND is well over the one, under the other
FIRST_DEADLINE, CLOSE_BOUND = 10, 80
# a client that sends a byte every TRICKLE s is never idle long enough for
# an idle timeout; DEADLINE_SLACK: how late past the deadline it may close
TRICKLE, DEADLINE_SLACK = 2, 3


def closed_by_peer(s, timeout):
    """Whether the peer closes `s` (end of stream or reset) within
    `timeout` seconds (a TLS alert may come first)."""
    deadline = time.monotonic() + timeout
    try:
        while (left := deadline - time.monotonic()) > 0:
            s.settimeout(left)
            if s.recv(4096) == b"":
                return True
    except TimeoutError:
        pass
    except (ConnectionResetError, ssl.SSLError):
        return True
    return False


def still_open(s):
    """Whether the peer has neither closed `s` nor sent anything."""
    s.settimeout(0)
    try:
        return s.recv(1, socket.MSG_PEEK) == b"x"  # (never: it sends nothing)
    except BlockingIOError:
        return True
    except ConnectionResetError:
        return False


def test_idle_connections_lock_nobody_out(api, native_host, vms):
    """About a thousand connections that send nothing, or half a TLS hello,
    from 16 addresses: while they are held, a client logs in and lists the
    VMs; then hostd closes every one of them (their first request never
    came)."""
    count = IDLE_SOURCES * IDLE_PER_SOURCE
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < count + 256:
        resource.setrlimit(resource.RLIMIT_NOFILE, (min(count + 256, hard), hard))
    held = []
    try:
        for src in native_host.add_sources(IDLE_SOURCES):
            for i in range(IDLE_PER_SOURCE):
                s = socket.socket()
                held.append(s)
                s.settimeout(30)
                s.bind((src, 0))
                s.connect((api.address, api.port))
                if i % 2:
                    s.sendall(HALF_HELLO)
        assert len([s for s in held if still_open(s)]) == count
        user = make_user(api, "idle44", [("host", "Administrator")])
        assert "42" in [vm["name"] for vm in user.call("GET", "/vms")["vms"]]
        print(f"{count} idle connections held while a client logged in and listed VMs")
        left = [s for s in held if not closed_by_peer(s, CLOSE_BOUND)]
        assert not left, f"{len(left)} of {count} idle connections not closed by hostd"
    finally:
        for s in held:
            s.close()


# hostd's connections per source (an IPv4 address or an IPv6 /64)
PER_SOURCE = 64


def test_connections_counted_per_ipv6_64(api, native_host):
    """hostd listens on IPv6 too; 72 idle connections from 12 addresses of
    one /64 are one source's: 64 are held, the rest refused; a client from
    another /64 is still served (its own limit)."""
    one = native_host.add_sources6(1, 12)
    other = native_host.add_sources6(2, 1)[0]
    held = []
    try:
        for src in one:
            for _ in range(6):
                s = socket.socket(socket.AF_INET6)
                held.append(s)
                s.settimeout(5)
                s.bind((src, 0))
                s.connect((native_host.address6, api.port))
        time.sleep(1)  # hostd refuses (closes) those past the limit
        assert len([s for s in held if still_open(s)]) == PER_SOURCE
        v6 = Api(api.port, api.fingerprint, api.token, address=native_host.address6,
                 source=other)
        assert v6.call("GET", "/host")["hostname"]
        with pytest.raises(OSError):  # closed at once, from the full /64
            Api(api.port, api.fingerprint, api.token, address=native_host.address6,
                source=one[0]).raw("GET", "/api/v1/host", timeout=5)
    finally:
        for s in held:
            s.close()


def test_failed_logins_counted_per_ipv6_64(api, native_host):
    """Failed logins from many addresses of one /64 count as one source's:
    for a user's lock-out (per user and source) and for the limit of
    failures per source (SESSION_MAX_FAILS); another /64 is not affected."""
    one = native_host.add_sources6(3, 11)
    other = native_host.add_sources6(4, 1)[0]
    policy = api.call("GET", "/security/policy")
    api.call("PUT", "/security/policy", {"lockout_failures": 3, "lockout_seconds": 900})
    make_user(api, "guess6", [("host", "ReadOnly")])

    def login(src, user, password):
        return Api(api.port, api.fingerprint, address=native_host.address6,
                   source=src).raw("POST", "/api/v1/session",
                                   {"user": user, "password": password})[0]
    try:
        # 3 failures of guess6 from three addresses: guess6 waits in that /64
        assert [login(src, "guess6", "x-Wrong-1") for src in one[:3]] == [401] * 3
        assert login(one[3], "guess6", PW) == 429
        assert login(other, "guess6", PW) == 201
        # 7 more failures (of other names, not throttled as pairs) from 7
        # more addresses: 10 failures from the /64, which now waits
        assert [login(src, f"nosuch6{i}", "x-Wrong-1") for i, src in
                enumerate(one[4:10])] == [401] * 6
        assert login(one[10], "nosuch6x", "x-Wrong-1") == 401
        assert login(one[0], "root", api.password) == 429
        assert login(other, "root", api.password) == 201
    finally:
        api.call("PATCH", "/users/guess6", {"locked": False})
        api.call("PUT", "/security/policy", {k: policy[k] for k in ("lockout_failures",
                                                                     "lockout_seconds")})


def trickle(s, data, start):
    """Sends `data` on `s` a byte every TRICKLE s until the peer closes `s`:
    the seconds from `start` to the close, or None if `s` is still open
    past the deadline and its slack."""
    for byte in data:
        try:
            s.send(bytes([byte]))
        except OSError:
            return time.monotonic() - start
        if closed_by_peer(s, TRICKLE):
            return time.monotonic() - start
        if time.monotonic() - start > FIRST_DEADLINE + DEADLINE_SLACK:
            return None
    raise AssertionError("trickled all of the data")


def test_trickling_clients_closed_at_the_deadline(api):
    """Clients that trickle a byte every 2 s, one in the TLS handshake (its
    ClientHello), one inside its request's headers, are never idle, yet
    hostd closes each FIRST_DEADLINE s after it accepted it."""
    closed = {}

    def hello():
        start = time.monotonic()
        with socket.create_connection((api.address, api.port), timeout=30) as s:
            closed["hello"] = trickle(s, HALF_HELLO + bytes(64), start)

    def headers():
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        ctx.check_hostname, ctx.verify_mode = False, ssl.CERT_NONE
        start = time.monotonic()
        with socket.create_connection((api.address, api.port), timeout=30) as s:
            with ctx.wrap_socket(s) as t:
                closed["headers"] = trickle(t, b"GET /api/v1/host HTTP/1.1\r\nHost: x\r\n"
                                            b"X-Slow: " + b"x" * 64, start)

    threads = [threading.Thread(target=f) for f in (hello, headers)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    print(f"trickling clients closed after {closed} s")
    for what in ("hello", "headers"):
        assert closed[what] is not None, f"{what}: still open after " \
            f"{FIRST_DEADLINE + DEADLINE_SLACK} s"
        assert FIRST_DEADLINE - 1 <= closed[what] <= FIRST_DEADLINE + DEADLINE_SLACK, closed


def test_silent_connection_closed(api):
    """A connection that never sends a byte is closed by hostd before the
    long timeout a request in progress gets."""
    with socket.create_connection((api.address, api.port), timeout=30) as s:
        assert closed_by_peer(s, CLOSE_BOUND)


def files(api, folder):
    return sorted(e["name"] for e in
                  api.call("GET", f"/datastores/local/browse/{folder}").get("entries", []))


def test_vm_privileges_stop_at_the_vm(api, vms):
    """VirtualMachine.Config on one VM gives no datastore file and no port
    group: attaching another VM's disk (or any file) needs Datastore.Browse,
    creating a disk Datastore.AllocateSpace, choosing a port group
    Network.Assign; a refusal changes nothing. delete_disks=true leaves a
    disk another VM uses."""
    for name in ("vma", "vmb"):
        api.call("POST", "/vms", {"name": name, "memory_mib": 64, "kernel": "local/k/vmlinuz",
                                  "disks": [{"path": f"local/{name}/disk0.img", "size_mib": 1}]})
    api.call("POST", "/roles", {"name": "VmConfig", "privileges": [
        "System.View", "VirtualMachine.Config", "VirtualMachine.Inventory"]})
    cfg = make_user(api, "cfg", [("vm/vma", "VmConfig")])
    before = api.call("GET", "/vms/vma")
    before_files = {f: files(api, f) for f in ("vma", "vmb", "k")}
    own = {"path": "local/vma/disk0.img", "readonly": False}
    for change in ({"disks": [own, {"path": "local/vmb/disk0.img"}]},
                   {"disks": [{"path": "local/vmb/disk0.img"}]},
                   {"kernel": "local/vmb/disk0.img"},
                   {"initrd": "local/vmb/disk0.img"},
                   {"disks": [own, {"path": "local/vma/disk1.img", "size_mib": 1}]},
                   {"disks": [own, {"path": "local/vmb/big.img", "size_mib": 64 << 20}]},
                   {"nics": [{}]},
                   {"nics": [{"portgroup": "VM Network"}]}):
        assert cfg.error("PATCH", "/vms/vma", change) == (403, "forbidden"), change
    assert api.call("GET", "/vms/vma") == before
    assert {f: files(api, f) for f in ("vma", "vmb", "k")} == before_files
    # what the VM already uses needs nothing more
    assert cfg.call("PATCH", "/vms/vma", {"vcpus": 2, "disks": [own]})["vcpus"] == 2
    # with the privileges on the host, the same changes are made
    api.call("POST", "/roles", {"name": "VmBuilder", "privileges": [
        "Datastore.Browse", "Datastore.AllocateSpace", "Network.Assign"]})
    api.call("PUT", "/permissions", {"user": "cfg", "entity": "host", "role": "VmBuilder"})
    vm = cfg.call("PATCH", "/vms/vma", {"nics": [{}], "disks": [
        own, {"path": "local/vmb/disk0.img"}, {"path": "local/vma/disk1.img", "size_mib": 1}]})
    assert [d["path"] for d in vm["disks"]] == ["local/vma/disk0.img", "local/vmb/disk0.img",
                                                "local/vma/disk1.img"]
    assert vm["nics"][0]["portgroup"] == "VM Network"
    # deleting vma with its disks leaves vmb's, which vmb uses
    cfg.call("DELETE", "/vms/vma?delete_disks=true")
    assert files(api, "vma") == []
    assert files(api, "vmb") == ["disk0.img"]
    api.call("DELETE", "/vms/vmb?delete_disks=true")
    assert files(api, "vmb") == []


def test_password_change_ends_other_sessions(api):
    """A new password ends the user's other sessions: their own change keeps
    the session that made it; an administrator's change ends them all."""
    one = make_user(api, "pwuser", [("host", "ReadOnly")])
    two = Api(api.port, api.fingerprint, address=api.address).login("pwuser", PW)
    new = PW + "x"
    one.call("POST", "/session/password", {"current_password": PW, "new_password": new})
    assert one.call("GET", "/host")["hostname"]
    assert two.error("GET", "/host") == (401, "unauthorized")
    two.login("pwuser", new)
    api.call("PATCH", "/users/pwuser", {"password": PW})
    assert one.error("GET", "/host") == (401, "unauthorized")
    assert two.error("GET", "/host") == (401, "unauthorized")
    # an administrator changing their own password keeps that session only
    admin = make_user(api, "admin6", [("host", "Administrator")])
    other = Api(api.port, api.fingerprint, address=api.address).login("admin6", PW)
    kept = make_user(api, "bystander6", [("host", "ReadOnly")])
    admin.call("PATCH", "/users/admin6", {"password": new})
    assert admin.call("GET", "/host")["hostname"]
    assert other.error("GET", "/host") == (401, "unauthorized")
    assert kept.call("GET", "/host")["hostname"]  # nobody else's


def anonymous_flood(api, source, n, path):
    """n requests without a token from `source`, one after the other (a new
    connection for each: hostd closes it after a 401); the statuses they
    got, counted."""
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.check_hostname, ctx.verify_mode = False, ssl.CERT_NONE
    conn = http.client.HTTPSConnection(api.address, api.port, context=ctx, timeout=30,
                                       source_address=(source, 0))
    statuses = collections.Counter()
    try:
        for _ in range(n):
            conn.request("GET", path)
            r = conn.getresponse()
            r.read()
            statuses[r.status] += 1
    finally:
        conn.close()
    return statuses


def has_entry(entries, **match):
    return any(all(e.get(k) == v for k, v in match.items()) for e in entries)


# requests without a token, from each of FLOOD_SOURCES addresses, for a
# datastore path of about 1 KB (hostd closes the connection after each
# 401): written line by line, as before audit-denied.log and the counting,
# some 2.2 KB each (action and target), they would fill more than the 6 MiB
# that audit.log and its five rotations then kept
FLOOD_SOURCES, FLOOD_PER_SOURCE = 3, 1000
FLOOD_PATH = "/api/v1/datastores/local/browse/" + "/".join(["f" * 250] * 4)


def test_audit_trail_survives_anonymous_flood(api, native_host):
    """Thousands of requests without a token leave the record of what root
    did before them in place; they show as a few entries per source whose
    counts add up to the requests."""
    api.call("POST", "/roles", {"name": "BeforeFlood", "privileges": ["System.View"]})
    sources = native_host.add_sources(FLOOD_SOURCES, first=201)
    with concurrent.futures.ThreadPoolExecutor(FLOOD_SOURCES) as pool:
        for statuses in pool.map(lambda src: anonymous_flood(api, src, FLOOD_PER_SOURCE,
                                                             FLOOD_PATH), sources):
            assert statuses == {401: FLOOD_PER_SOURCE}, statuses
    entries = api.call("GET", "/audit?lines=10000")["entries"]
    for result in ("started", "ok"):
        assert has_entry(entries, user="root", action="POST /api/v1/roles", result=result)
    for src in sources:
        mine = [e for e in entries if e["source"] == src]
        assert all(e["user"] == "" and e["status"] == 401 and e["result"] == "denied"
                   for e in mine), mine
        assert sum(e["count"] for e in mine) == FLOOD_PER_SOURCE, mine
        # the first at once, with what it asked for; the rest counted (one
        # more of each if a minute ended during the flood)
        assert 2 <= len(mine) <= 4, mine
        assert ("GET " + FLOOD_PATH).startswith(mine[0]["action"]) and mine[0]["count"] == 1
        assert any(e["action"] == "unauthenticated requests" and e["count"] > 1 and
                   e["first"] <= e["last"] for e in mine), mine
    trail = api.call("GET", "/audit?lines=10000&log=trail")["entries"]
    assert has_entry(trail, user="root", action="POST /api/v1/roles", result="ok")
    assert not [e for e in trail if e["source"] in sources]
    denied = api.call("GET", "/audit?lines=10000&log=denied")["entries"]
    assert sum(e.get("count", 0) for e in denied if e["source"] in sources) == \
        FLOOD_SOURCES * FLOOD_PER_SOURCE
    assert api.error("GET", "/audit?log=other") == (400, "bad_request")


def test_audit_fails_closed(api, native_host):
    """While audit.log cannot be written (a folder in its place), a change is
    refused 503 and not made, an upload too; reading still works. While
    audit-denied.log cannot be written either, a login is refused 503 too.
    Once both are back, changes are made and recorded again."""
    log = os.path.join(native_host.root, "scratch", "log")
    trail, denied = os.path.join(log, "audit.log"), os.path.join(log, "audit-denied.log")
    api.call("POST", "/roles", {"name": "Recorded", "privileges": ["System.View"]})
    roles = api.call("GET", "/roles")

    def recorded(**match):
        """How many entries of the trail have every field of `match`."""
        trail = api.call("GET", "/audit?lines=10000&log=trail")["entries"]
        return len([e for e in trail if all(e.get(k) == v for k, v in match.items())])

    created = {"user": "root", "action": "POST /api/v1/roles", "result": "ok"}
    logins = {"user": "root", "action": "login", "result": "ok"}
    before = recorded(**created), recorded(**logins)
    sessions = [s["id"] for s in api.call("GET", "/sessions")["sessions"]]
    held = []

    def block(path):
        """A folder in the place of the file (root ignores permissions)."""
        if os.path.exists(path):
            os.rename(path, path + ".held")
            held.append(path)
        os.mkdir(path)

    block(trail)
    try:
        assert api.error("POST", "/roles", {"name": "Unrecorded", "privileges": []}) == \
            (503, "audit_unavailable")
        assert api.error("DELETE", "/roles/Recorded") == (503, "audit_unavailable")
        assert api.error("PUT", "/datastores/local/files/unrecorded/x.bin", b"data") == \
            (503, "audit_unavailable")
        assert api.call("GET", "/roles") == roles
        assert api.error("GET", "/datastores/local/browse/unrecorded") == \
            (404, "not_found")
        assert api.call("GET", "/audit?lines=10")["entries"]
        block(denied)
        anon = Api(api.port, api.fingerprint, address=api.address)
        assert anon.error("POST", "/session", {"user": "root", "password": api.password}) == \
            (503, "audit_unavailable")
        assert [s["id"] for s in api.call("GET", "/sessions")["sessions"]] == sessions
    finally:
        for path in (trail, denied):
            if os.path.isdir(path):
                os.rmdir(path)
            if path in held:
                os.rename(path + ".held", path)
    assert "audit: cannot record" in native_host.console()
    api.call("POST", "/roles", {"name": "RecordedAgain", "privileges": []})
    Api(api.port, api.fingerprint, address=api.address).login("root", api.password)
    assert (recorded(**created), recorded(**logins)) == (before[0] + 1, before[1] + 1)
    api.call("DELETE", "/roles/RecordedAgain")


LOGIN_SCRIPT = """
import http.client, json, ssl, sys
ctx = ssl._create_unverified_context()
c = http.client.HTTPSConnection("127.0.0.1", int(sys.argv[1]), context=ctx, timeout=30)
c.request("POST", "/api/v1/session", json.dumps({"user": sys.argv[2], "password": sys.argv[3]}),
          {"Content-Type": "application/json"})
r = c.getresponse()
print(r.status)
print(r.read().decode())
"""


def login_from_netns(host, port, user, password):
    """(status, body) of a login from inside hostd's network namespace (its
    loopback: a source address other than the test's)."""
    out = subprocess.run(["ip", "netns", "exec", host.netns, sys.executable, "-c",
                          LOGIN_SCRIPT, str(port), user, password],
                         check=True, capture_output=True, text=True).stdout
    status, body = out.split("\n", 1)
    return int(status), body


def test_unknown_user_answered_as_wrong_password(api):
    """An unknown user and a wrong password get the same status and body;
    the audit still tells them apart."""
    make_user(api, "known7", [("host", "ReadOnly")])
    anon = Api(api.port, api.fingerprint, address=api.address)
    unknown = anon.raw("POST", "/api/v1/session", {"user": "nosuch7", "password": "x-Wrong-1"})
    wrong = anon.raw("POST", "/api/v1/session", {"user": "known7", "password": "x-Wrong-1"})
    assert unknown[0] == wrong[0] == 401
    assert unknown[2] == wrong[2]
    assert b"locked" not in wrong[2] and b"known7" not in wrong[2]


def test_failures_from_one_address_do_not_lock_out_another(api, native_host):
    """Failed logins of root from address A make A wait (429), for root and
    for an unknown name alike; root still logs in from address B (the
    namespace's own loopback: a second source on the same hostd)."""
    policy = api.call("GET", "/security/policy")
    api.call("PUT", "/security/policy", {"lockout_failures": 3, "lockout_seconds": 900})
    anon = Api(api.port, api.fingerprint, address=api.address)
    try:
        for name in ("root", "nosuch8"):
            for _ in range(3):
                assert anon.raw("POST", "/api/v1/session",
                                {"user": name, "password": "x-Wrong-1"})[0] == 401
        waits = [anon.raw("POST", "/api/v1/session", {"user": name, "password": "x-Wrong-1"})
                 for name in ("root", "nosuch8")]
        assert [w[0] for w in waits] == [429, 429]
        assert int(waits[0][1]["Retry-After"]) > 0
        # a wait does not tell who exists (but for the seconds left)
        assert re.sub(rb"\d+ s", b"N s", waits[0][2]) == re.sub(rb"\d+ s", b"N s", waits[1][2])
        assert api.call("GET", "/users/root")["locked"] is True
        # root's right password from A waits too ...
        assert anon.raw("POST", "/api/v1/session",
                        {"user": "root", "password": api.password})[0] == 429
        # ... but not from B
        status, body = login_from_netns(native_host, api.port, "root", api.password)
        assert status == 201, body
        assert len(json.loads(body)["token"]) == 64
    finally:
        api.call("PATCH", "/users/root", {"locked": False})
        api.call("PUT", "/security/policy", {k: policy[k] for k in ("lockout_failures",
                                                                     "lockout_seconds")})


# --- the host's logs and the support bundle ------------------------------------

LOG_T0 = 1796300000  # 2026-12-03T...Z: the fake lines' times, a second apart


def log_line(n):
    t = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(LOG_T0 + n))
    return f"{t}.000Z keel keel-hostd[7] info: line {n}\n"


def log_dir(native_host):
    return os.path.join(native_host.root, "scratch", "log")


def write_hostd_logs(native_host):
    """hostd.log.2 (lines 0-9), .1 (10-19) and hostd.log (20-24) as
    keel-syslogd rotates them; the current file's last line is half written."""
    d = log_dir(native_host)
    for name, lines in (("hostd.log.2", range(0, 10)), ("hostd.log.1", range(10, 20)),
                        ("hostd.log", range(20, 25))):
        with open(os.path.join(d, name), "w") as f:
            f.write("".join(log_line(n) for n in lines))
    with open(os.path.join(d, "hostd.log"), "a") as f:
        f.write("2026-12-03T00:00:00.000Z half a li")  # no '\n' yet: not given


def rotate_hostd(native_host):
    d = log_dir(native_host)
    for k in (2, 1):
        os.replace(os.path.join(d, f"hostd.log.{k}"), os.path.join(d, f"hostd.log.{k + 1}"))
    os.replace(os.path.join(d, "hostd.log"), os.path.join(d, "hostd.log.1"))
    open(os.path.join(d, "hostd.log"), "w").close()


def append_hostd(native_host, text):
    with open(os.path.join(log_dir(native_host), "hostd.log"), "a") as f:
        f.write(text)


def read_log(api, query):
    status, headers, data = api.raw("GET", "/api/v1/logs/" + query)
    assert status == 200, (query, status, data)
    assert headers["Content-Type"].startswith("text/plain")
    return data.decode(), headers


def diag_role(api):
    api.call("POST", "/roles", {"name": "Diagnostics", "privileges": ["Host.Diagnostics"]})


def test_logs_list_and_read(api, native_host):
    """The list, the last N lines and the lines since a time across the
    rotated files, and a cursor followed across two rotations: nothing is
    missed, nothing repeated."""
    write_hostd_logs(native_host)
    logs = {e["name"]: e for e in api.call("GET", "/logs")["logs"]}
    assert set(logs) == {"init", "hostd", "vmm", "dcui", "kernel", "chrony", "other", "audit",
                         "audit-denied"}
    hostd = logs["hostd"]
    assert hostd["rotated"] == 2 and hostd["size"] > 0 and hostd["modified"].endswith("Z")
    assert hostd["rotated_bytes"] == sum(len(log_line(n)) for n in range(20))
    assert logs["init"] == {"name": "init", "size": 0, "modified": None, "rotated": 0,
                            "rotated_bytes": 0}
    text, headers = read_log(api, "hostd?lines=8")  # 3 of hostd.log.1, 5 of hostd.log
    assert text == "".join(log_line(n) for n in range(17, 25))
    assert headers["X-Keel-Log-More"] == "0" and headers["X-Keel-Log-Gap"] == "0"
    text, _ = read_log(api, "hostd")  # the default: 100 lines, all 25 here
    assert text == "".join(log_line(n) for n in range(25))
    since = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(LOG_T0 + 5))
    text, _ = read_log(api, "hostd?since=" + since)
    assert text == "".join(log_line(n) for n in range(5, 25))
    text, _ = read_log(api, "hostd?since=" + since.replace("Z", ".5Z"))
    assert text.startswith(log_line(6))
    # follow: the cursor of the tail, then what follows it
    _, headers = read_log(api, "hostd?lines=1")
    cursor = headers["X-Keel-Log-Next"]
    text, headers = read_log(api, "hostd?after=" + cursor)
    assert text == "" and headers["X-Keel-Log-Next"] == cursor
    append_hostd(native_host, "ne\n" + log_line(25))  # the half line ends
    text, headers = read_log(api, "hostd?after=" + cursor)
    assert text == "2026-12-03T00:00:00.000Z half a line\n" + log_line(25)
    cursor = headers["X-Keel-Log-Next"]
    append_hostd(native_host, log_line(26))
    rotate_hostd(native_host)
    append_hostd(native_host, log_line(27))
    rotate_hostd(native_host)
    append_hostd(native_host, log_line(28) + log_line(29))
    text, headers = read_log(api, "hostd?after=" + cursor)
    assert text == "".join(log_line(n) for n in range(26, 30))
    assert headers["X-Keel-Log-Gap"] == "0"
    cursor = headers["X-Keel-Log-Next"]
    # rotated away entirely (more rotations than files kept): the gap is said
    for _ in range(4):
        rotate_hostd(native_host)
        append_hostd(native_host, log_line(30))
    for k in range(3, 6):
        path = os.path.join(log_dir(native_host), f"hostd.log.{k}")
        if os.path.exists(path):
            os.remove(path)
    text, headers = read_log(api, "hostd?after=" + cursor)
    assert headers["X-Keel-Log-Gap"] == "1" and text == log_line(30) * 3
    # the audit trail is a log too (System.Audit)
    text, _ = read_log(api, "audit?lines=1")
    assert len(text.splitlines()) == 1 and json.loads(text)["action"]
    text, _ = read_log(api, "audit?since=2026-01-01T00:00:00Z")
    assert json.loads(text.splitlines()[0])["action"] == "login"
    assert read_log(api, "audit?since=2099-01-01T00:00:00Z")[0] == ""


def test_logs_refused(api, native_host):
    """Host.Diagnostics for the host's logs, System.Audit for the audit
    trail; bad names and query values refused; nothing changes."""
    write_hostd_logs(native_host)
    diag_role(api)
    plain = make_user(api, "nodiag", [("host", "ReadOnly")])
    diag = make_user(api, "diag", [("host", "Diagnostics")])
    before = {n: open(os.path.join(log_dir(native_host), n), "rb").read()
              for n in ("hostd.log", "hostd.log.1", "hostd.log.2")}
    users = api.call("GET", "/users")
    for path in ("/logs", "/logs/hostd", "/logs/audit", "/logs/kernel?lines=5",
                 "/host/support-bundle"):
        assert plain.error("GET", path) == (403, "forbidden"), path
    assert [e["name"] for e in diag.call("GET", "/logs")["logs"]] == \
        ["init", "hostd", "vmm", "dcui", "kernel", "chrony", "other"]
    assert read_log(diag, "hostd?lines=1")[0] == log_line(24)
    for name in ("audit", "audit-denied"):
        assert diag.error("GET", "/logs/" + name) == (403, "forbidden")
    for name in ("..%2Fx", "%2e%2e", "..", "hostd.log", "HOSTD", "hostd%00", "audit.log",
                 "..%2F..%2Fconfig%2Fkeel.db", "%2e%2e%2fconfig", "x" * 300):
        status, _, data = api.raw("GET", "/api/v1/logs/" + name)
        assert status in (400, 404), (name, status, data)
    status, _ = raw_reply(api, b"GET /api/v1/logs/../../config/keel.db")
    assert status in (400, 404)
    for query in ("lines=0", "lines=-1", "lines=10001", "lines=1e3", "lines=%205", "lines=5x",
                  "lines=", "lines=99999999999999999999999", "lines=0x10",
                  "since=yesterday", "since=2026-13-01T00:00:00Z", "since=2026-12-03",
                  "since=2026-12-03T17:00:00", "since=2026-12-03T17:00:00%2B01:00",
                  "after=x", "after=1-2-", "after=-1-2", "after=1-2", "after=1-2-3-4",
                  "after=18446744073709551616-0-0", "after=1-%2B2-3",
                  "lines=5&since=2026-12-03T17:00:00Z", "lines=5&after=0-0-0"):
        status, _, data = api.raw("GET", "/api/v1/logs/hostd?" + query)
        assert status == 400, (query, status, data)
        assert json.loads(data)["error"]["code"] == "bad_request"
    assert api.call("GET", "/users") == users
    assert {n: open(os.path.join(log_dir(native_host), n), "rb").read()
            for n in before} == before


def test_support_bundle(api, native_host, vms, tmp_path):
    """The bundle: streamed, in bounded memory, with what it should hold and
    none of the host's secrets in any member (the password, its hash, the
    TLS key, a live session's token and its hash, a VM's cloud-init user
    data); on record."""
    import sqlite3
    import tarfile
    write_hostd_logs(native_host)
    # a large rotated log: the bundle streams it (hostd's memory stays flat)
    big = os.path.join(log_dir(native_host), "vmm.log.1")
    with open(big, "w") as f:
        for i in range(48):
            f.write("".join(log_line(i * 10000 + n) for n in range(10000)) +
                    os.urandom(256 * 1024).hex() + "\n")
    os.makedirs(os.path.join(native_host.root, "scratch", "vms", "42"), exist_ok=True)
    with open(os.path.join(native_host.root, "scratch", "vms", "42", "console.log"), "wb") as f:
        f.write(b"x" * (3 << 20) + b"console tail\n")
    db = sqlite3.connect(f"file:{native_host.root}/config/keel.db?mode=ro", uri=True)
    root_hash = db.execute("SELECT hash FROM users WHERE name = 'root'").fetchone()[0]
    token_hashes = [h for (h,) in db.execute("SELECT token_hash FROM sessions")]
    db.close()
    with open(os.path.join(native_host.root, "config", "tls", "host.key")) as f:
        key = f.read()
    body = [ln for ln in key.splitlines() if ln and not ln.startswith("-----")]
    secrets = {"password": api.password.encode(), "hash": root_hash.encode(),
               "token": api.token.encode(),
               "token hash": hashlib.sha256(api.token.encode()).hexdigest().encode(),
               "key body": "".join(body).encode(), "key line": body[1].encode(),
               "key chunk": body[-2][8:40].encode()}
    # a VM's cloud-init user data (its seed is made in the VM's folder)
    user_data = "#cloud-config\npassword: hunter2-in-user-data\n"
    api.call("PATCH", "/vms/x42", {"cloud_init": {"user_data": user_data}})
    secrets["user data"] = b"hunter2-in-user-data"
    assert secrets["token hash"].decode() in token_hashes
    for i, h in enumerate(token_hashes):
        secrets[f"session {i} hash"] = h.encode()
    before = hostd_rss_kib(native_host.pid)
    out = tmp_path / "bundle.tgz"
    conn = api._connect(300)
    conn.request("GET", "/api/v1/host/support-bundle",
                 headers={"Authorization": "Bearer " + api.token})
    resp = conn.getresponse()
    assert resp.status == 200 and resp.getheader("Content-Type") == "application/gzip"
    assert re.match(r'attachment; filename="keel-support-.*\.tgz"',
                    resp.getheader("Content-Disposition"))
    peak = before
    with open(out, "wb") as f:
        while chunk := resp.read(1 << 20):
            f.write(chunk)
            peak = max(peak, hostd_rss_kib(native_host.pid))
    conn.close()
    print(f"support bundle: {out.stat().st_size} bytes; hostd RSS {before} KiB before, "
          f"{peak} KiB at most while it streamed")
    assert peak - before < 16 * 1024, (before, peak)
    with tarfile.open(out, "r:gz") as tar:
        members = {m.name.split("/", 1)[1]: m for m in tar.getmembers()}
        top = {m.name.split("/", 1)[0] for m in tar.getmembers()}
        assert len(top) == 1 and top.pop().startswith("keel-support-")
        for name in ("README.txt", "version.txt", "proc/version", "proc/cmdline",
                     "proc/mounts", "disks.txt", "logs/hostd.log", "logs/hostd.log.1",
                     "logs/hostd.log.2", "logs/vmm.log.1", "logs/audit.log",
                     "kernel/dmesg.txt", "config/files.txt", "config/tls/host.crt",
                     "inventory.json", "network/links.txt", "network/api.json",
                     "network/proc/route", "network/proc/tcp", "network/proc/dev",
                     "processes.txt", "vms/42/config.json", "vms/42/console.log",
                     "vms/x42/config.json", "skipped.txt"):
            assert name in members, (name, sorted(members))
        data = {n: tar.extractfile(m).read() for n, m in members.items() if m.isfile()}
    # no secret in any member, whatever its name
    for name, content in data.items():
        for what, secret in secrets.items():
            assert secret not in content, (what, name)
    assert data["logs/hostd.log.1"] == "".join(log_line(n) for n in range(10, 20)).encode()
    assert os.path.getsize(big) == len(data["logs/vmm.log.1"])
    console = data["vms/42/console.log"]
    assert len(console) == 1 << 20 and console.endswith(b"console tail\n")
    assert b"keel-version: " in data["version.txt"]
    assert b"eth0" in data["network/links.txt"]
    assert b"keel-hostd" in data["processes.txt"]
    inv = json.loads(data["inventory.json"])
    assert {u["name"] for u in inv["tables"]["users"]} >= {"root"}
    assert all(set(u) == {"name", "disabled", "failed", "locked_until"}
               for u in inv["tables"]["users"])
    assert "users.hash" in inv["omitted"] and "sessions.token_hash" in inv["omitted"]
    assert json.loads(data["vms/42/config.json"])["name"] == "42"
    # cloud-init's texts (passwords, keys) by their sizes only
    shown = {"user_data": f"({len(user_data)} bytes, not included)",
             "meta_data": "(0 bytes, not included)", "network_config": "(0 bytes, not included)"}
    assert json.loads(data["vms/x42/config.json"])["cloud_init"] == shown
    rows = {r["name"]: json.loads(r["config"]) for r in inv["tables"]["vms"]}
    assert rows["x42"]["cloud_init"] == shown and rows["42"]["cloud_init"] is None
    api.call("PATCH", "/vms/x42", {"cloud_init": None})
    assert b"GET /api/v1/host/support-bundle" in data["logs/audit.log"]  # its "started"
    # on record: who took it
    trail = api.call("GET", "/audit?log=trail&lines=50")["entries"]
    took = [e for e in trail if e["action"] == "GET /api/v1/host/support-bundle"]
    assert [e["result"] for e in took[-2:]] == ["started", "ok"] and took[-1]["user"] == "root"


def test_support_bundle_without_audit(api, native_host):
    """A user with Host.Diagnostics but not System.Audit gets a bundle
    without the audit trail."""
    import tarfile
    if not any(r["name"] == "Diagnostics" for r in api.call("GET", "/roles")["roles"]):
        diag_role(api)
    diag = make_user(api, "diag2", [("host", "Diagnostics")])
    status, _, data = diag.raw("GET", "/api/v1/host/support-bundle", timeout=300)
    assert status == 200
    with tarfile.open(fileobj=io.BytesIO(data), mode="r:gz") as tar:
        names = [m.name.split("/", 1)[1] for m in tar.getmembers()]
        readme = tar.extractfile([m for m in tar.getmembers()
                                  if m.name.endswith("/README.txt")][0]).read()
    assert not [n for n in names if n.startswith("logs/audit")], names
    assert "logs/hostd.log" in names and b"for: diag2" in readme


def test_cli_logs_follow_and_bundle(api, native_host, tmp_path):
    """keel host logs (the list, the last lines, --follow across rotations:
    every line once, in order) and keel host support-bundle -o FILE."""
    import signal
    import tarfile
    keel = os.path.join(os.path.dirname(__file__), "..", "..", "build", "src", "cli", "keel")
    creds = api.write_cli_credentials(tmp_path / "creds")
    env = {k: v for k, v in os.environ.items() if not k.startswith("KEEL_")}

    def run(*args):
        return subprocess.run([keel, "--credentials", str(creds), *args], capture_output=True,
                              text=True, env=env, timeout=300)

    write_hostd_logs(native_host)
    r = run("host", "logs")
    assert r.returncode == 0 and re.search(r"^hostd\s", r.stdout, re.M), r
    r = run("host", "logs", "hostd", "--lines", "2")
    assert r.returncode == 0 and r.stdout == log_line(23) + log_line(24), r
    assert run("host", "logs", "hostd", "--lines", "0").returncode == 2
    r = run("host", "logs", "nope")
    assert r.returncode == 1 and "404" in r.stderr, r
    follower = subprocess.Popen([keel, "--credentials", str(creds), "host", "logs", "hostd",
                                 "--lines", "1", "-f"], stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, text=True, env=env)
    try:
        got = [follower.stdout.readline()]
        assert got == [log_line(24)]
        append_hostd(native_host, "ne\n")
        for n in range(25, 40):  # rotations while it follows, whenever it asks
            append_hostd(native_host, log_line(n))
            if n % 5 == 0:
                rotate_hostd(native_host)
        got += [follower.stdout.readline() for _ in range(16)]
        assert got == [log_line(24), "2026-12-03T00:00:00.000Z half a line\n"] + \
            [log_line(n) for n in range(25, 40)]
    finally:
        follower.send_signal(signal.SIGINT)
        out, err = follower.communicate(timeout=60)
    assert follower.returncode == 0 and out == "", (out, err)
    bundle = tmp_path / "b.tgz"
    r = run("host", "support-bundle", "-o", str(bundle))
    assert r.returncode == 0 and "support bundle written to" in r.stdout, r
    with tarfile.open(bundle, "r:gz") as tar:
        assert any(m.name.endswith("/README.txt") for m in tar.getmembers())
    assert [p.name for p in tmp_path.iterdir() if ".keel-" in p.name] == []


def test_support_bundles_at_a_time(api, native_host):
    """Two bundles at a time: a third is refused (429) while two clients
    hold theirs unread, and is given once they have gone."""
    # larger than any socket buffers could hold: hostd waits on the readers
    with open(os.path.join(log_dir(native_host), "vmm.log.2"), "w") as f:
        for _ in range(32):
            f.write(os.urandom(512 * 1024).hex() + "\n")
    held = []
    for _ in range(2):
        conn = api._connect(120)
        conn.request("GET", "/api/v1/host/support-bundle",
                     headers={"Authorization": "Bearer " + api.token})
        resp = conn.getresponse()
        assert resp.status == 200
        held.append((conn, resp))
    assert api.error("GET", "/host/support-bundle") == (429, "too_many_attempts")
    for conn, _ in held:
        conn.sock.shutdown(socket.SHUT_RDWR)
        conn.close()
    for _ in range(600):  # hostd sees the connections end: a bundle again
        status, _, data = api.raw("GET", "/api/v1/host/support-bundle")
        if status == 200:
            break
        assert status == 429
        time.sleep(0.1)
    assert status == 200 and data[:2] == b"\x1f\x8b"


def test_current_password_failures_are_failed_logins(api):
    """Wrong current_password answers count as failed logins: of the account
    and this address (lock-out policy) and of the address (429 after SESSION_MAX_FAILS, for
    logins too). Last in the module: the address stays blocked a minute."""
    policy = api.call("GET", "/security/policy")
    api.call("PUT", "/security/policy", {"lockout_failures": 3, "lockout_seconds": 900})
    guesser = make_user(api, "guesser", [("host", "ReadOnly")])
    body = {"current_password": "wrong-guess-1A", "new_password": PW + "y"}
    for _ in range(3):
        assert guesser.error("POST", "/session/password", body) == (403, "forbidden")
    assert api.call("GET", "/users/guesser")["locked"] is True
    # the right password waits too, as a login would (this user from this address)
    right = {"current_password": PW, "new_password": PW + "y"}
    assert guesser.error("POST", "/session/password", right) == (429, "too_many_attempts")
    api.call("PUT", "/security/policy", {"lockout_failures": 0})
    api.call("PATCH", "/users/guesser", {"locked": False})
    statuses = [guesser.raw("POST", "/api/v1/session/password", body)[0] for _ in range(8)]
    assert statuses[-1] == 429, statuses  # 10 failures from this address (SESSION_MAX_FAILS)
    status, headers, _ = guesser.raw("POST", "/api/v1/session/password", right)
    assert status == 429 and int(headers["Retry-After"]) > 0
    anon = Api(api.port, api.fingerprint, address=api.address)
    assert anon.error("POST", "/session", {"user": "guesser", "password": PW}) == \
        (429, "too_many_attempts")
    api.call("PUT", "/security/policy", {k: policy[k] for k in ("lockout_failures",
                                                                 "lockout_seconds")})

