"""The management network on an 802.1Q VLAN. The appliance's management NIC
is on a network of the test's own (tagnet.py) instead of QEMU's user
network, which drops tagged frames: a trunk port with an untagged segment
(10.10.0.0/24) and VLAN 20 (10.20.0.0/24), dnsmasq serving DHCP on each."""
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
