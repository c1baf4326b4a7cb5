"""The management network on an 802.1Q VLAN. The appliance's management NIC
is on a network of the test's own (tagnet.py) instead of QEMU's user
network, which drops tagged frames: a trunk port with an untagged segment
(10.10.0.0/24) and VLAN 20 (10.20.0.0/24), dnsmasq serving DHCP on each.
The host moves onto VLAN 20 live (DHCP, then static), confirmed over the
VLAN; a change to VLAN 30 (which the switch does not carry) is rolled
back; keel-init brings VLAN 20 back at boot; the CLI takes it off."""
import os
import socket
import struct
import subprocess
import time

import pytest

from api import Api, FINGERPRINT_RX, connect, wait_management
from harness import ROOT, Appliance
from tagnet import TagNet

SEGMENTS = {0: "10.10.0.1/24", 20: "10.20.0.1/24"}
KEEL = os.path.join(ROOT, "build", "src", "cli", "keel")


@pytest.fixture(scope="module")
def net(tmp_path_factory):
    n = TagNet(str(tmp_path_factory.mktemp("tagnet")), SEGMENTS).start()
    yield n
    n.close()


@pytest.fixture(scope="module")
def host(images, pristine_disk, tmp_path_factory, net):
    """A test appliance on its own copy of the disk (as harness.module_host),
    on `net`; killed at teardown even when its boot failed, before `net`
    goes."""
    d = tmp_path_factory.mktemp("mgmtvlan")
    disk = str(d / "keel-disk.img")
    subprocess.check_call(["cp", "--sparse=always", pristine_disk, disk])
    a = Appliance(str(d), "test", disk, "mgmtvlan")
    a.net = net  # forwarded to net.target_ip: segment 0's lease, at first
    try:
        yield a.start().wait_ready()
    finally:
        a.kill()


@pytest.fixture(scope="module")
def api(host):
    return connect(host)


def test_untagged_dhcp_lease_api_and_hook_through_the_forwards(host, net, api):
    # the host took dnsmasq's lease on the untagged segment
    host.wait_for(r"keel-dhcpc: lease eth0 10\.10\.0\.100/24 gw 10\.10\.0\.1 ")
    assert net.wait_dhcpack(0) == "10.10.0.100"
    # the API and the hook answer through the forwards
    mgmt = api.call("GET", "/network/management")
    assert mgmt["interface"] == "eth0" and mgmt["mode"] == "dhcp", mgmt
    assert mgmt["current"]["addresses"] == ["10.10.0.100/24"], mgmt
    assert mgmt["current"]["gateway"] == "10.10.0.1", mgmt
    assert host.hook("cat /sys/class/net/eth0/operstate") == b"up\n"
    # all of it untagged: frames on segment 0 only, none dropped
    frames = dict(net.frames)
    assert frames.get(0, 0) > 10 and set(frames) == {0}, frames
    assert not net.dropped, dict(net.dropped)


def wait_frames(net, vid, more_than, timeout=60):
    """Until the relay has seen more than `more_than` frames tagged vid."""
    deadline = time.monotonic() + timeout
    while net.frames.get(vid, 0) <= more_than:
        assert time.monotonic() < deadline, f"no frames tagged {vid}: {dict(net.frames)}"
        time.sleep(0.5)


def links(host):
    return set(host.hook("ls /sys/class/net").decode().split())


def test_management_vlan_live_rollback_reboot(host, net, api):
    # refused, and nothing changes
    for vlan in (4095, -1, "20", 1.5, True):
        status, _ = api.error("PUT", "/network/management", {"vlan": vlan})
        assert status == 400, vlan
    mgmt = api.call("GET", "/network/management")
    assert mgmt["vlan"] == 0 and mgmt["pending"] is None
    assert mgmt["current"]["interface"] == "eth0"

    # onto VLAN 20 with DHCP: the host's frames are tagged 20 from then on,
    # dnsmasq on VLAN 20 leases it .100, and it is confirmed over there
    tagged = net.frames.get(20, 0)
    r = api.call("PUT", "/network/management", {"vlan": 20, "confirm_timeout_s": 120})
    assert r["confirm_timeout_s"] == 120 and r["management"]["vlan"] == 20
    net.target_ip = net.lease_ip(20)
    assert net.wait_dhcpack(20) == "10.20.0.100"
    mgmt = wait_management(api, 90)
    assert mgmt["vlan"] == 20 and mgmt["interface"] == "eth0", mgmt
    assert mgmt["current"] == {"interface": "mgmt.20", "addresses": ["10.20.0.100/24"],
                               "gateway": "10.20.0.1"}, mgmt
    api.call("POST", "/network/management/confirm")
    assert net.frames[20] > tagged
    assert b"mgmt.vlan = 20\n" in host.hook("cat /config/host.conf")
    assert "mgmt.20" in links(host)
    # the NIC itself has no address or route left
    assert b"eth0" not in host.hook("cat /proc/net/route")
    host.wait_for(r"keel-dhcpc: eth0: moving to mgmt\.20")

    # onto VLAN 30, which this switch port does not carry: the host asks for
    # a lease there (frames tagged 30, dropped), nobody confirms, and it is
    # back on VLAN 20 with its lease, VLAN 30's interface gone
    before = net.frames.get(30, 0)
    api.call("PUT", "/network/management", {"vlan": 30, "confirm_timeout_s": 10})
    wait_frames(net, 30, before)
    time.sleep(12)
    mgmt = wait_management(api, 90)
    assert mgmt["pending"] is None and mgmt["vlan"] == 20, mgmt
    assert mgmt["current"]["addresses"] == ["10.20.0.100/24"], mgmt
    assert net.wait_dhcpack(20, count=2) == "10.20.0.100"
    assert "mgmt.30" not in links(host) and "mgmt.20" in links(host)
    assert b"mgmt.vlan = 20\n" in host.hook("cat /config/host.conf")
    audit = api.call("GET", "/audit?lines=50")["entries"]
    assert any(e["action"] == "rollback" and e["result"] == "rolledback" for e in audit)

    # a static address on VLAN 20, confirmed on that address
    api.call("PUT", "/network/management",
             {"mode": "static", "address": "10.20.0.50/24", "gateway": "10.20.0.1",
              "dns": ["10.20.0.1"], "confirm_timeout_s": 120})
    net.target_ip = "10.20.0.50"
    mgmt = wait_management(api, 90)
    assert mgmt["current"] == {"interface": "mgmt.20", "addresses": ["10.20.0.50/24"],
                               "gateway": "10.20.0.1"}, mgmt
    api.call("POST", "/network/management/confirm")

    # keel-init makes VLAN 20's interface at boot and puts the address there
    assert host.hook("poweroff") == b"OK\n"
    host.wait_off()
    host.start().wait_ready()
    host.wait_for(r"keel-init: net: mgmt\.20 static 10\.20\.0\.50/24 gw 10\.20\.0\.1")
    fp = host.wait_for(FINGERPRINT_RX).group(1)
    host.wait_for(r"keel-hostd: API ready")
    again = Api(host.api_port, fp).login("root", api.password)
    mgmt = again.call("GET", "/network/management")
    assert mgmt["vlan"] == 20 and mgmt["mode"] == "static", mgmt
    assert mgmt["current"]["interface"] == "mgmt.20"
    assert mgmt["current"]["addresses"] == ["10.20.0.50/24"], mgmt
    assert b"static mgmt.20\n" == host.hook("cat /run/keel/mgmt.mode")

    # the CLI takes it off the VLAN, back to DHCP, untagged
    untagged = net.frames.get(0, 0)
    creds = again.write_cli_credentials(os.path.join(host.workdir, "creds"))
    r = subprocess.run([KEEL, "--credentials", creds, "network", "mgmt", "set", "--vlan",
                        "none", "--dhcp"], capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    assert "Confirm within 60 s" in r.stdout, r.stdout
    net.target_ip = net.lease_ip(0)
    r = subprocess.run([KEEL, "--credentials", creds, "network", "mgmt", "confirm"],
                       capture_output=True, text=True, timeout=120)
    for _ in range(60):  # until the host has its untagged lease again
        if r.returncode == 0:
            break
        time.sleep(1)
        r = subprocess.run([KEEL, "--credentials", creds, "network", "mgmt", "confirm"],
                           capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    assert "Confirmed" in r.stdout and "eth0" in r.stdout, r.stdout
    assert net.frames[0] > untagged
    assert "mgmt.20" not in links(host)
    assert b"mgmt.vlan" not in host.hook("cat /config/host.conf")


def arp_request(src_mac, src_ip, dst_ip, vid=None):
    """An Ethernet frame asking who has dst_ip, tagged vid (None: untagged)."""
    tag = b"" if vid is None else struct.pack("!HH", 0x8100, vid)
    return (b"\xff" * 6 + src_mac + tag + b"\x08\x06" +
            struct.pack("!HHBBH", 1, 0x0800, 6, 4, 1) + src_mac + socket.inet_aton(src_ip) +
            b"\0" * 6 + socket.inet_aton(dst_ip)).ljust(60 if vid is None else 64, b"\0")


def test_relay_is_a_trunk_port(tmp_path):
    """tagnet's relay on its own, with this test in QEMU's place: ARP
    requests tagged 20, untagged, and tagged 30 (no such segment); the
    namespace answers the first two on the segment they belong to."""
    with TagNet(str(tmp_path), SEGMENTS) as n, \
            socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as qemu:
        qemu.bind(("127.0.0.1", n.qemu_port))
        qemu.settimeout(10)
        relay = ("127.0.0.1", n.relay_port)
        mac = bytes.fromhex("525400aabbcc")
        for ip, gw, vid in (("10.20.0.100", "10.20.0.1", 20), ("10.10.0.100", "10.10.0.1", None),
                            ("10.30.0.100", "10.30.0.1", 30)):
            qemu.sendto(arp_request(mac, ip, gw, vid), relay)
        replies = {}
        while len(replies) < 2:  # the ARP replies to mac (not IPv6 and such)
            frame = qemu.recv(65536)
            if frame[:6] == mac:
                tagged = frame[12:14] == b"\x81\x00"
                vid = struct.unpack("!H", frame[14:16])[0] if tagged else None
                body = frame[16:] if tagged else frame[12:]
                assert body[:2] == b"\x08\x06" and body[8:10] == b"\0\2", frame.hex()
                replies[vid] = socket.inet_ntoa(body[16:20])  # the sender's address
        assert replies == {20: "10.20.0.1", None: "10.10.0.1"}
        # the relay's thread counts the frame tagged 30 in its own time: the
        # replies to the other two can come back first
        deadline = time.monotonic() + 10
        while (n.frames != {20: 1, 0: 1, 30: 1} or n.dropped != {30: 1}) and \
                time.monotonic() < deadline:
            time.sleep(0.05)
        assert n.frames == {20: 1, 0: 1, 30: 1} and n.dropped == {30: 1}
