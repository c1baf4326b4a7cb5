"""Remote syslog forwarding against Debian's rsyslog on this machine
(reached from the appliance at 10.0.2.2, QEMU's user network): messages
from keel-hostd, the kernel and the audit trail over UDP, TCP and TLS
with their RFC 5424 fields; a receiver stopped for 30 s loses nothing
sent over TCP and TLS meanwhile; RFC 3164; a pinned fingerprint; the
configuration checked (400, nothing changed) and guarded (403); the CLI.
One appliance for the module."""
import datetime
import json
import re
import shutil
import signal
import socket
import subprocess
import time

import pytest

from api import Api, connect
from harness import module_host
from test_cli import cli_for

SERVER = "10.0.2.2"  # this machine, seen from the appliance
PW = "Correct-Horse-7"
RFC5424 = re.compile(r"^<(\d+)>1 (\S+) (\S+) (\S+) (\S+) (\S+) (-|\[.*?\]) (.*)$")
STAMP = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$")
DOWN_S = 30


def free_port(kind):
    with socket.socket(socket.AF_INET, kind) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Rsyslog:
    """rsyslogd in the foreground with a configuration of its own in `d`:
    imudp, imtcp and imtcp with the gtls driver on 127.0.0.1, each input
    writing the raw messages it gets to its own file (udp.log, tcp.log,
    tls.log), one per line."""

    def __init__(self, d):
        self.d = d
        self.ports = {"udp": free_port(socket.SOCK_DGRAM), "tcp": free_port(socket.SOCK_STREAM),
                      "tls": free_port(socket.SOCK_STREAM)}
        self.proc = None
        conf = [
            f'global(workDirectory="{d}" maxMessageSize="64k"',
            f'       defaultNetstreamDriverCAFile="{d}/ca.pem"',
            f'       defaultNetstreamDriverCertFile="{d}/server.pem"',
            f'       defaultNetstreamDriverKeyFile="{d}/server.key")',
            'module(load="imudp")',
            'module(load="imtcp")',
            'template(name="raw" type="string" string="%rawmsg%\\n")',
        ]
        for kind in self.ports:
            conf.append(f'ruleset(name="{kind}") {{ action(type="omfile" '
                        f'file="{d}/{kind}.log" template="raw") }}')
        conf.append(f'input(type="imudp" address="127.0.0.1" port="{self.ports["udp"]}" '
                    'ruleset="udp")')
        conf.append(f'input(type="imtcp" address="127.0.0.1" port="{self.ports["tcp"]}" '
                    'ruleset="tcp")')
        conf.append(f'input(type="imtcp" address="127.0.0.1" port="{self.ports["tls"]}" '
                    'ruleset="tls" streamDriver.name="gtls" streamDriver.mode="1" '
                    'streamDriver.authMode="anon")')
        (d / "rsyslog.conf").write_text("\n".join(conf) + "\n")

    def url(self, kind):
        return f"{kind}://{SERVER}:{self.ports[kind]}"

    def start(self):
        log = open(self.d / "rsyslogd.out", "a")
        self.proc = subprocess.Popen(
            ["rsyslogd", "-n", "-f", str(self.d / "rsyslog.conf"), "-i",
             str(self.d / "rsyslogd.pid")], stdout=log, stderr=subprocess.STDOUT)
        # listening: a TCP connection to each stream port is accepted
        deadline = time.monotonic() + 30
        for kind in ("tcp", "tls"):
            while True:
                assert self.proc.poll() is None, (self.d / "rsyslogd.out").read_text()
                try:
                    socket.create_connection(("127.0.0.1", self.ports[kind]), 1).close()
                    break
                except OSError:
                    assert time.monotonic() < deadline, f"rsyslogd does not listen on {kind}"
                    time.sleep(0.2)

    def stop(self):
        self.proc.send_signal(signal.SIGTERM)
        self.proc.wait(30)

    def lines(self, kind):
        p = self.d / f"{kind}.log"
        return p.read_text(errors="replace").splitlines() if p.exists() else []


def certtool(*args):
    subprocess.run(["certtool", *args], check=True, capture_output=True)


@pytest.fixture(scope="module")
def receiver(tmp_path_factory):
    if not shutil.which("rsyslogd") or not shutil.which("certtool"):
        pytest.skip("needs rsyslog, rsyslog-gnutls and gnutls-bin (scripts/deps.sh)")
    d = tmp_path_factory.mktemp("rsyslog")
    (d / "ca.tmpl").write_text('cn = "Keel test CA"\nca\ncert_signing_key\nexpiration_days = 2\n')
    (d / "server.tmpl").write_text(f'cn = "{SERVER}"\nip_address = "{SERVER}"\ntls_www_server\n'
                                   'encryption_key\nsigning_key\nexpiration_days = 2\n')
    certtool("--generate-privkey", "--key-type", "ecdsa", "--outfile", str(d / "ca.key"))
    certtool("--generate-self-signed", "--load-privkey", str(d / "ca.key"), "--template",
             str(d / "ca.tmpl"), "--outfile", str(d / "ca.pem"))
    certtool("--generate-privkey", "--key-type", "ecdsa", "--outfile", str(d / "server.key"))
    certtool("--generate-certificate", "--load-privkey", str(d / "server.key"),
             "--load-ca-certificate", str(d / "ca.pem"), "--load-ca-privkey", str(d / "ca.key"),
             "--template", str(d / "server.tmpl"), "--outfile", str(d / "server.pem"))
    r = Rsyslog(d)
    r.start()
    yield r
    if r.proc.poll() is None:
        r.stop()


@pytest.fixture(scope="module")
def host(images, pristine_disk, tmp_path_factory):
    a = module_host(tmp_path_factory, pristine_disk, "syslog")
    yield a
    a.kill()


@pytest.fixture(scope="module")
def api(host):
    return connect(host)


def settings(api):
    """GET /host/syslog without keel-syslogd's status, which moves."""
    s = api.call("GET", "/host/syslog")
    s.pop("status")
    return s


def status(api):
    return {st["target"]: st for st in api.call("GET", "/host/syslog")["status"]}


def wait_state(api, url, state):
    deadline = time.monotonic() + 120
    while (st := status(api)[url])["state"] != state:
        assert time.monotonic() < deadline, st
        time.sleep(0.5)
    return st


def wait_lines(receiver, kind, match, want=1, timeout=180):
    """The lines of `kind` for which match(line) is true, once there are
    `want` of them (a wait, not a timed assertion: the deadline only ends
    a test that would otherwise hang)."""
    deadline = time.monotonic() + timeout
    while True:
        got = [line for line in receiver.lines(kind) if match(line)]
        if len(got) >= want:
            return got
        assert time.monotonic() < deadline, (kind, want, len(got), receiver.lines(kind)[-20:])
        time.sleep(0.5)


def fields(line):
    m = RFC5424.match(line)
    assert m, line
    pri, stamp, host, app, pid, msgid, sd, msg = m.groups()
    return {"pri": int(pri), "time": stamp, "host": host, "app": app, "pid": pid,
            "msgid": msgid, "sd": sd, "msg": msg}


def check_time(stamp):
    assert STAMP.match(stamp), stamp
    t = datetime.datetime.strptime(stamp, "%Y-%m-%dT%H:%M:%S.%fZ").replace(
        tzinfo=datetime.timezone.utc).timestamp()
    assert abs(t - time.time()) < 600, stamp  # the appliance's RTC is this machine's clock


def syslog(host, text, app="keel-test", pid=4242, pri=14):
    """A datagram to the appliance's /dev/log, as syslog(3) sends it."""
    assert host.hook("syslog", f"<{pri}>Dec  3 10:00:00 {app}[{pid}]: {text}".encode()) \
        == b"OK\n"


BAD = [
    {"targets": ["http://10.0.2.2"]}, {"targets": ["udp://10.0.2.2:0"]},
    {"targets": ["udp://10.0.2.2:65536"]}, {"targets": ["udp://bad name"]},
    {"targets": ["tcp://10.0.2.999"]}, {"targets": ["udp://2001:db8::1"]},
    {"targets": ["udp://a", "udp://b", "udp://c", "udp://d"]},
    {"targets": ["udp://a", "udp://a"]}, {"targets": "udp://a"}, {"targets": [514]},
    {"targets": ["udp://x.example;rm"]}, {"targets": ["udp://" + "a" * 100]},
    {"targets": ["tls://10.0.2.2"]},  # neither a CA nor a fingerprint
    {"format": "json"}, {"format": None},
    {"fingerprint": "00"}, {"fingerprint": "zz" * 32}, {"fingerprint": 5},
    {"ca": "not a certificate"}, {"ca": 5},
    {"fingerprint": "ab" * 32, "ca": "see test"},  # both
    {"targets": []} | {"colour": "red"}, {},
]


@pytest.mark.parametrize("body", BAD)
def test_bad_config_changes_nothing(api, host, receiver, body):
    if body.get("ca") == "see test":
        body = dict(body, ca=(receiver.d / "ca.pem").read_text())
    before = settings(api)
    conf = host.hook("cat /config/host.conf")
    assert api.error("PUT", "/host/syslog", body) == (400, "bad_request"), body
    assert settings(api) == before
    assert host.hook("cat /config/host.conf") == conf


def test_needs_the_privilege(api, receiver):
    api.call("POST", "/users", {"name": "viewer", "password": PW})
    api.call("PUT", "/permissions", {"user": "viewer", "entity": "host", "role": "ReadOnly"})
    ro = Api(api.port, api.fingerprint).login("viewer", PW)
    before = settings(api)
    assert ro.call("GET", "/host/syslog")["targets"] == before["targets"]
    assert ro.error("PUT", "/host/syslog", {"targets": [receiver.url("udp")]}) == (
        403, "forbidden")
    assert settings(api) == before


def test_forwarded_over_udp_tcp_and_tls(api, host, receiver):
    ca = (receiver.d / "ca.pem").read_text()
    urls = [receiver.url(k) for k in ("udp", "tcp", "tls")]
    s = api.call("PUT", "/host/syslog", {"targets": urls, "ca": ca})
    assert [st["target"] for st in s.pop("status")] == urls
    assert s == {"targets": urls, "format": "rfc5424", "fingerprint": None, "ca": ca}
    conf = host.hook("cat /config/host.conf").decode()
    assert f"syslog.targets = {', '.join(urls)}\n" in conf  # kept for the next boot
    for u in urls[1:]:
        host.wait_for(re.escape(f"keel-syslogd: forward {u}: connected"))
    for u in urls:
        st = wait_state(api, u, "connected")
        assert (st["lost"], st["error"]) == (0, None), st

    name = api.call("GET", "/host")["hostname"]
    hostd_pid = host.hook("cat /run/keel/hostd.pid").decode().strip()
    # keel-hostd logs the change (and the audit trail records it)
    api.call("PUT", "/host/syslog", {"targets": urls})
    # the kernel's own: SysRq's help (printed whatever kernel.sysrq allows)
    assert host.hook("write /proc/sysrq-trigger", b"h") == b"OK\n"
    for kind in ("udp", "tcp", "tls"):
        f = fields(wait_lines(receiver, kind, lambda l: "syslog: forwarding to 3 targets" in l)[-1])
        assert (f["pri"], f["host"], f["app"], f["pid"], f["msgid"], f["sd"]) == (
            3 * 8 + 6, name, "keel-hostd", hostd_pid, "-", "-"), f  # daemon.info
        check_time(f["time"])

        f = fields(wait_lines(receiver, kind, lambda l: "sysrq: HELP" in l)[-1])
        assert (f["pri"] >> 3, f["host"], f["app"], f["pid"], f["msgid"]) == (
            0, name, "kernel", "-", "-"), f  # facility kern
        assert f["msg"].startswith("sysrq: HELP"), f
        check_time(f["time"])

        audit = [fields(l) for l in wait_lines(
            receiver, kind, lambda l: " audit - {" in l and "PUT /api/v1/host/syslog" in l, 2)]
        for f in audit:
            assert (f["pri"], f["host"], f["app"], f["pid"], f["msgid"]) == (
                10 * 8 + 6, name, "keel-hostd", hostd_pid, "audit"), f  # authpriv.info
            check_time(f["time"])
        records = [json.loads(f["msg"]) for f in audit]
        assert {(r["user"], r["action"], r["result"]) for r in records} >= {
            ("root", "PUT /api/v1/host/syslog", "started")}
    # the audit trail is forwarded only: keel-syslogd's own files do not have it
    for f in ("hostd.log", "other.log", "init.log"):
        text = host.hook(f"cat /scratch/log/{f}").decode(errors="replace")
        assert '"action":' not in text, f


def test_an_8_kib_message(host, receiver):
    """A datagram of 8 KiB (LOG_MSG_MAX, header included) arrives whole
    over UDP, TCP and TLS (one message: octet-counted on the streams)."""
    head = "<14>Dec  3 10:00:00 keel-test[4242]: "
    text = "big-" + "".join(chr(ord("a") + i % 26) for i in range(8192 - len(head) - 4))
    assert host.hook("syslog", (head + text).encode()) == b"OK\n"
    for kind in ("udp", "tcp", "tls"):
        f = fields(wait_lines(receiver, kind, lambda l: "keel-test 4242 - - big-" in l)[-1])
        assert f["msg"] == text, (kind, len(f["msg"]), len(text))


def markers(receiver, kind, prefix):
    return [m.group(1) for line in receiver.lines(kind)
            for m in [re.search(prefix + r"(\d+)", line)] if m]


def test_receiver_down_30s_loses_nothing(api, host, receiver):
    """rsyslogd stopped for 30 s while messages and audit records are
    made, then started again: every one of them arrives over TCP and TLS
    (a few may arrive twice: what was written to the dying connection is
    sent again)."""
    n = 20
    syslog(host, "before-the-stop")
    for kind in ("tcp", "tls"):
        wait_lines(receiver, kind, lambda l: "before-the-stop" in l)
    receiver.stop()
    start = time.monotonic()
    for i in range(n):
        syslog(host, f"while-down-{i}")
        assert api.error("DELETE", f"/vms/down{i}") == (404, "not_found")
        if i == n // 2:
            time.sleep(DOWN_S / 2)  # half of them after the connections were seen dead
    for kind in ("tcp", "tls"):
        host.wait_for(re.escape(f"forward {receiver.url(kind)}: connection lost"))
        deadline = time.monotonic() + 60
        while (st := status(api)[receiver.url(kind)])["state"] == "connected":
            assert time.monotonic() < deadline, st
            time.sleep(0.5)
        assert st["queued"] >= n, st
    time.sleep(max(0, DOWN_S - (time.monotonic() - start)))
    receiver.start()
    want = {str(i) for i in range(n)}
    for kind in ("tcp", "tls"):
        st = wait_state(api, receiver.url(kind), "connected")
        assert st["lost"] == 0, st
        wait_lines(receiver, kind, lambda l: f"while-down-{n - 1}" in l)
        wait_lines(receiver, kind, lambda l: f"DELETE /api/v1/vms/down{n - 1}" in l)
        got = markers(receiver, kind, "while-down-")
        audit = markers(receiver, kind, r"DELETE /api/v1/vms/down")
        assert set(got) == want, (kind, sorted(want - set(got)))
        assert set(audit) == want, (kind, sorted(want - set(audit)))
        # two audit records per request: "started" and its outcome
        print(f"{kind}: {len(got)} messages for {n} and {len(audit)} audit records for "
              f"{2 * n} after {DOWN_S} s down")
    print("".join(l + "\n" for l in host.console().splitlines() if "keel-syslogd: forward" in l))


def test_targets_read_at_start(host, receiver):
    """keel-syslogd restarted (killed: keel-init starts it again) reads its
    targets from host.conf, as at boot."""
    def connected():
        text = host.console()
        return [text.count(f"forward {receiver.url(k)}: connected") for k in ("tcp", "tls")]
    before = connected()
    assert host.hook("kill syslogd 9").startswith(b"OK")
    deadline = time.monotonic() + 120
    while not all(a > b for a, b in zip(connected(), before)):
        assert time.monotonic() < deadline, host.console()[-2000:]
        time.sleep(0.5)
    syslog(host, "after-a-restart")
    for kind in ("udp", "tcp", "tls"):
        wait_lines(receiver, kind, lambda l: "after-a-restart" in l)
    # it reads the kernel's buffer from its start, and forwards it too: the
    # boot's first line
    for kind in ("tcp", "tls"):
        f = fields(wait_lines(receiver, kind, lambda l: " kernel - - - Linux version " in l)[0])
        assert f["pri"] >> 3 == 0, f


def test_an_untrusted_server_is_not_used(api, host, receiver, tmp_path):
    """A CA bundle that did not sign the server's certificate: the TLS
    target is not connected, and says why."""
    certtool("--generate-privkey", "--key-type", "ecdsa", "--outfile", str(tmp_path / "k"))
    certtool("--generate-self-signed", "--load-privkey", str(tmp_path / "k"), "--template",
             str(receiver.d / "ca.tmpl"), "--outfile", str(tmp_path / "other.pem"))
    api.call("PUT", "/host/syslog", {"ca": (tmp_path / "other.pem").read_text()})
    url = receiver.url("tls")
    host.wait_for(re.escape(f"forward {url}: cannot connect (TLS: ") + r".*[Nn][Oo][Tt] trusted")
    st = wait_state(api, url, "down")
    assert "not trusted" in st["error"].lower(), st
    assert status(api)[receiver.url("tcp")]["state"] == "connected"


def test_rfc3164_and_a_pinned_fingerprint(api, host, receiver):
    pem = (receiver.d / "server.pem").read_text()
    der = subprocess.run(["openssl", "x509", "-outform", "DER"], input=pem.encode(),
                         capture_output=True, check=True).stdout
    fp = subprocess.run(["sha256sum"], input=der, capture_output=True,
                        check=True).stdout.split()[0].decode()
    colons = ":".join(fp[i:i + 2] for i in range(0, 64, 2)).upper()
    s = api.call("PUT", "/host/syslog", {"format": "rfc3164", "fingerprint": colons, "ca": None})
    assert (s["format"], s["fingerprint"], s["ca"]) == ("rfc3164", fp, None)
    name = api.call("GET", "/host")["hostname"]
    syslog(host, "old-style")
    for kind in ("udp", "tcp", "tls"):
        line = wait_lines(receiver, kind, lambda l: "old-style" in l)[-1]
        assert re.match(rf"^<14>[A-Z][a-z][a-z] [ \d]\d \d\d:\d\d:\d\d {re.escape(name)} "
                        r"keel-test\[4242\]: old-style$", line), line
    # a certificate that is not the pinned one: no connection
    api.call("PUT", "/host/syslog", {"fingerprint": "ab" * 32})
    host.wait_for(r"is not the pinned one")
    api.call("PUT", "/host/syslog", {"targets": []})
    assert "syslog.targets" not in host.hook("cat /config/host.conf").decode()


def test_cli(host, receiver, tmp_path):
    cli = cli_for(host, tmp_path)
    r = cli("host", "syslog", "set", "--target", receiver.url("tcp"), "--target",
            receiver.url("tls"), "--ca", str(receiver.d / "ca.pem"), "--format", "rfc5424")
    assert r.returncode == 0, r.stderr
    assert receiver.url("tls") in r.stdout and "CA bundle (1 certificates)" in r.stdout
    show = json.loads(cli("--json", "host", "syslog", "show").stdout)
    assert show["targets"] == [receiver.url("tcp"), receiver.url("tls")]
    r = cli("host", "syslog", "set", "--target", "ftp://x")
    assert r.returncode == 1 and "targets:" in r.stderr
    assert cli("host", "syslog", "set").returncode == 2
    assert cli("host", "syslog", "set", "--none", "--target", "udp://x").returncode == 2
    assert cli("host", "syslog", "set", "--none").returncode == 0
    assert "none (nothing is forwarded)" in cli("host", "syslog", "show").stdout
    # keel-syslogd took every change without a crash (the 9 is
    # test_targets_read_at_start's kill)
    ends = re.findall(r"service syslogd: pid \d+ (.*)", host.console())
    assert all(e.startswith("killed by signal 9 ") for e in ends), ends


def test_shutdown_lines_are_sent(api, host, receiver):
    """At power-off keel-syslogd sends what it has before it ends: the
    host's last lines reach the receiver. (Last: the appliance is off.)"""
    urls = [receiver.url("tcp"), receiver.url("tls")]
    api.call("PUT", "/host/syslog", {"targets": urls, "fingerprint": None,
                                     "ca": (receiver.d / "ca.pem").read_text()})
    for u in urls:
        wait_state(api, u, "connected")
    con = host.powerdown()
    for kind in ("tcp", "tls"):
        try:
            got = wait_lines(receiver, kind, lambda l: "poweroff: stopping services" in l,
                             timeout=60)
        except AssertionError as e:
            raise AssertionError((e, [l for l in con.splitlines() if "syslog" in l
                                      or "poweroff" in l][-20:])) from None
        assert fields(got[-1])["app"] == "keel-init", got
