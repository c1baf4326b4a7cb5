"""The management network on an 802.1Q VLAN. The appliance's management NIC
is on a network of the test's own (tagnet.py) instead of QEMU's user
network, which drops tagged frames: a trunk port with an untagged segment
(10.10.0.0/24) and VLAN 20 (10.20.0.0/24), dnsmasq serving DHCP on each."""
import socket
import struct
import subprocess

import pytest

from api import connect
from harness import Appliance
from tagnet import TagNet

SEGMENTS = {0: "10.10.0.1/24", 20: "10.20.0.1/24"}


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
        assert n.frames == {20: 1, 0: 1, 30: 1} and n.dropped == {30: 1}
