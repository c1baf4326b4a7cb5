"""A plain HTTPS client for keel-hostd's API in the system tests (Python's
standard http.client, nothing of ours): it pins the host's certificate by
its SHA-256 fingerprint, as the console shows it, before sending anything."""
import hashlib
import http.client
import json
import os
import re
import ssl
import time

# up to the end of the line: the console may hold half of it yet
PASSWORD_RX = r"root password \(first boot, shown once\): (\S+)\r?\n"
FINGERPRINT_RX = r"TLS certificate SHA-256 ([0-9A-F:]{95})"


class ApiError(Exception):
    def __init__(self, status, body):
        super().__init__(f"HTTP {status}: {body}")
        self.status = status
        self.body = body


class Api:
    def __init__(self, port, fingerprint, token=None, address="127.0.0.1", source=None):
        self.address = address
        self.source = source  # the client's address (None: the system's choice)
        self.port = port
        self.fingerprint = fingerprint.replace(":", "").lower()
        self.token = token

    def _connect(self, timeout):
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        ctx.check_hostname = False
        ctx.verify_mode = ssl.CERT_NONE  # pinned below instead
        conn = http.client.HTTPSConnection(self.address, self.port, context=ctx,
                                           timeout=timeout,
                                           source_address=self.source and (self.source, 0))
        conn.connect()
        der = conn.sock.getpeercert(binary_form=True)
        if hashlib.sha256(der).hexdigest() != self.fingerprint:
            conn.close()
            raise ssl.SSLError("the host's certificate does not match the fingerprint")
        return conn

    def raw(self, method, path, body=None, headers=None, timeout=120):
        """(status, headers, body bytes); `body` may be bytes, a file, or an
        object (sent as JSON)."""
        h = dict(headers or {})
        if self.token:
            h.setdefault("Authorization", "Bearer " + self.token)
        if body is not None and not isinstance(body, (bytes, str)) and not hasattr(body, "read"):
            body = json.dumps(body)
            h.setdefault("Content-Type", "application/json")
        conn = self._connect(timeout)
        try:
            conn.request(method, path, body=body, headers=h)
            resp = conn.getresponse()
            return resp.status, dict(resp.getheaders()), resp.read()
        finally:
            conn.close()

    def call(self, method, path, body=None, expect=(200, 201, 202, 204), **kw):
        """The decoded JSON reply (None for 204); ApiError on another status."""
        status, _, data = self.raw(method, "/api/v1" + path, body, **kw)
        if status not in expect:
            raise ApiError(status, data.decode(errors="replace"))
        if status == 204 or not data:
            return None
        return json.loads(data)

    def error(self, method, path, body=None, **kw):
        """(status, error code) of a call that must fail with the one error shape."""
        status, _, data = self.raw(method, "/api/v1" + path, body, **kw)
        doc = json.loads(data)
        assert set(doc) == {"error"} and set(doc["error"]) == {"code", "message"}, doc
        return status, doc["error"]["code"]

    def write_cli_credentials(self, path, user="root"):
        """A credentials file (docs/cli.md) with which the keel CLI logs in
        as `user` (this session's password) and pins this host's
        certificate; returns its path as a string."""
        fp = ":".join(self.fingerprint.upper()[i:i + 2] for i in range(0, 64, 2))
        with open(path, "w") as f:
            f.write(f"host={self.address}:{self.port}\nuser={user}\npassword={self.password}\n"
                    f"fingerprint={fp}\n")
        os.chmod(path, 0o600)
        return str(path)

    def login(self, user, password):
        self.token = None
        self.token = self.call("POST", "/session", {"user": user, "password": password})["token"]
        self.password = password
        return self


def wait_management(client, timeout):
    """GET /network/management once the host answers (after a change of its
    management address, over the new one)."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            return client.call("GET", "/network/management", timeout=5)
        except (OSError, ApiError, ValueError):
            if time.monotonic() > deadline:
                raise
            time.sleep(1)


def connect(appliance, password=None, address="127.0.0.1"):
    """An Api logged in as root on a booted appliance, from its console;
    `address`: where its API port is (a native host's, native.py)."""
    fp = appliance.wait_for(FINGERPRINT_RX).group(1)
    appliance.wait_for(r"keel-hostd: API ready")
    if password is None:
        password = re.search(PASSWORD_RX, appliance.all_console()).group(1)
    api = Api(appliance.api_port, fp, address=address).login("root", password)
    api.host = appliance  # for a failed test's diagnostics (its VMs' keel-vmm logs)
    return api


class _UnixConnection(http.client.HTTPConnection):
    def __init__(self, path, timeout):
        super().__init__("localhost", timeout=timeout)
        self.path = path

    def connect(self):
        import socket
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.settimeout(self.timeout)
        self.sock.connect(self.path)


class LocalApi(Api):
    """keel-hostd's local API (src/common/localapi.h): plain HTTP on the unix
    socket `path`, as keel-dcui and keel-shell reach it."""

    def __init__(self, path, token=None):
        super().__init__(0, "", token=token)
        self.path = path

    def _connect(self, timeout):
        conn = _UnixConnection(self.path, timeout)
        conn.connect()
        return conn

    def login(self, user, password=None, channel="dcui", peer=None):
        """A login through the door `channel`; ApiError when refused."""
        body = {"user": user, "channel": channel}
        if password is not None:
            body["password"] = password
        if peer is not None:
            body["peer"] = peer
        self.token = self.call("POST", "/session", body)["token"]
        return self
