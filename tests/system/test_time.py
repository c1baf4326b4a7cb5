"""The host's clock: NTP with chronyd against a chronyd on this machine,
starting from an RTC an hour wrong; a time set by hand only while NTP is
off; server names checked."""
import datetime
import os
import re
import subprocess
import time

import pytest

from api import connect
from harness import module_host
from test_cli import cli_for
from test_hostd import wait_log

WRONG_BY_S = 3600
SERVER = "10.0.2.2"  # this machine, seen from the appliance (QEMU's user network)


def get_time(api):
    """GET /host/time, in the test's one session: a step of the clock (an
    hour forward, years by hand) ends no session (hostd moves their times)."""
    return api.call("GET", "/host/time")


def utc(iso):
    return datetime.datetime.strptime(iso, "%Y-%m-%dT%H:%M:%SZ").replace(
        tzinfo=datetime.timezone.utc).timestamp()


@pytest.fixture(scope="module")
def ntp_server(tmp_path_factory):
    """Debian's chronyd serving this machine's clock on 127.0.0.1:123
    (where QEMU sends what the appliance sends to 10.0.2.2:123); -x: it
    never touches this machine's clock."""
    if os.geteuid() != 0:
        pytest.skip("the NTP server needs port 123: root only")
    d = tmp_path_factory.mktemp("chronyd")
    conf = d / "chrony.conf"
    conf.write_text("port 123\nbindaddress 127.0.0.1\nallow\nlocal stratum 8\n"
                    f"cmdport 0\npidfile {d}/chronyd.pid\n")
    log = open(d / "chronyd.log", "w")
    proc = subprocess.Popen(["chronyd", "-x", "-d", "-u", "root", "-f", str(conf)],
                            stdout=log, stderr=subprocess.STDOUT)
    time.sleep(1)
    assert proc.poll() is None, (d / "chronyd.log").read_text()
    yield proc
    proc.terminate()
    proc.wait(10)


@pytest.fixture(scope="module")
def host(images, pristine_disk, tmp_path_factory):
    wrong = datetime.datetime.now(datetime.timezone.utc) - datetime.timedelta(seconds=WRONG_BY_S)
    a = module_host(tmp_path_factory, pristine_disk, "time",
                    rtc_base=wrong.strftime("%Y-%m-%dT%H:%M:%S"))
    yield a
    a.kill()


@pytest.fixture(scope="module")
def api(host):
    return connect(host)


@pytest.fixture(scope="module")
def cli(host, tmp_path_factory):
    return cli_for(host, tmp_path_factory.mktemp("creds"))


def test_ntp_sets_a_wrong_clock(api, cli, host, ntp_server):
    t = api.call("GET", "/host/time")
    assert t["ntp"] is False and t["servers"] == [] and t["synchronized"] is False
    assert abs(utc(t["time"]) + WRONG_BY_S - time.time()) < 60, t  # the RTC's wrong time
    r = cli("host", "time")
    assert r.returncode == 0 and re.search(r"^ntp +off$", r.stdout, re.M), r

    start = time.monotonic()
    r = cli("host", "time", "set", "--ntp", SERVER)
    assert r.returncode == 0 and re.search(rf"^ntp +{SERVER}$", r.stdout, re.M), r
    deadline = start + 300
    while True:
        t = get_time(api)
        tr = t["tracking"]
        if (t["synchronized"] and tr and abs(tr["offset_s"]) < 0.1
                and abs(tr["last_offset_s"]) < 0.1):
            break
        assert time.monotonic() < deadline, t
        time.sleep(2)
    took = time.monotonic() - start
    print(f"synchronized in {took:.0f} s: offset {tr['offset_s']:+.6f} s, "
          f"last offset {tr['last_offset_s']:+.6f} s, stratum {tr['stratum']}")
    assert abs(utc(t["time"]) - time.time()) < 2, t
    assert tr["stratum"] == 9 and tr["reference"] == SERVER, tr
    assert [(s["name"], s["state"]) for s in t["sources"]] == [(SERVER, "selected")], t
    assert "keel-init: service chronyd: started" in host.console()
    # the CLI's view of the same
    r = cli("host", "time")
    assert r.returncode == 0, r
    assert re.search(r"^synchronized +yes$", r.stdout, re.M), r.stdout
    assert re.search(rf"^reference +{SERVER}, stratum 9$", r.stdout, re.M), r.stdout
    assert re.search(rf"^{SERVER} +selected +8 +\d+ +[-+]\d+\.\d{{6}}$", r.stdout, re.M), r.stdout
    # chronyd logs through the log service, as itself
    wait_log(host, "chrony.log", rf" chronyd\[\d+\] info: Selected source {SERVER}")


def test_manual_time_only_with_ntp_off(api, host):
    t = api.call("GET", "/host/time")
    assert t["ntp"] is True
    assert api.error("PUT", "/host/time", {"time": "2030-01-02T03:04:05Z"}) == (409, "conflict")
    assert abs(utc(api.call("GET", "/host/time")["time"]) - time.time()) < 5

    t = api.call("PUT", "/host/time", {"ntp_servers": [], "time": "2030-01-02T03:04:05Z"})
    assert t["ntp"] is False and t["servers"] == [] and t["tracking"] is None
    assert abs(utc(t["time"]) - utc("2030-01-02T03:04:05Z")) < 5, t
    host.wait_for(r"keel-init: ntp: off")
    host.wait_for(r"service chronyd: pid \d+ exited")
    # written to the RTC too
    assert "rtc_date\t: 2030-01-02" in host.hook("cat /proc/driver/rtc").decode()
    # and a time alone, now that NTP is off (the same session: the step of
    # years ended none)
    t = api.call("PUT", "/host/time", {"time": "2031-05-06T07:08:09Z"})
    assert abs(utc(t["time"]) - utc("2031-05-06T07:08:09Z")) < 5, t


@pytest.mark.parametrize("servers", [
    ["bad name"], ["-lead.example"], ["a" * 64], ["1.2.3.999"], ["x.example;rm"], [""],
    ["a", "b", "c", "d", "e"], "pool.ntp.org", [123]])
def test_bad_servers_change_nothing(api, servers):
    before = get_time(api)
    assert api.error("PUT", "/host/time", {"ntp_servers": servers}) == (400, "bad_request")
    assert api.error("PUT", "/host/time", {"ntp_servers": ["ok.example"], "time": "soon"}) == (
        400, "bad_request")
    after = api.call("GET", "/host/time")
    assert (after["ntp"], after["servers"]) == (before["ntp"], before["servers"])
