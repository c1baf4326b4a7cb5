"""Virtual networking through the API: switches (Linux bridges with VLAN
filtering), port groups, uplinks, MTU, diagnostics, and the management
network's live change with confirm-or-rollback. Real guests on the port
groups ping each other (or must not). One appliance for the module, with a
spare NIC for uplinks and a second address forwarded for the management
tests."""
import os
import re
import time
from urllib.parse import quote

import pytest

import guest
from api import Api, ApiError, connect, wait_management
from harness import OUT, module_host
from test_hostd import guest_fault, vm_spec, wait_console

NEW_IP = "10.0.2.50"  # the static management address the tests move to


@pytest.fixture(scope="module")
def host(images, pristine_disk, tmp_path_factory):
    a = module_host(tmp_path_factory, pristine_disk, "network", spare_nics=1, alt_ip=NEW_IP)
    yield a
    a.kill()


@pytest.fixture(scope="module")
def api(host):
    return connect(host)


@pytest.fixture(scope="module")
def guest_files(api, tmp_path_factory):
    """The guest, with iputils' ping (for don't-fragment pings), uploaded."""
    return guest.upload(api, tmp_path_factory.mktemp("guest"), programs=["/usr/bin/ping"])


def state(api):
    return api.call("GET", "/network/switches"), api.call("GET", "/network/portgroups")


def links(host):
    return {line.split(":")[0].strip() for line in
            host.hook("cat /proc/net/dev").decode().splitlines()[2:]}


def start_vm(api, guest_files, name, portgroup, mode):
    api.call("POST", "/vms", vm_spec(name, guest_files, "virtio " + mode, memory_mib=128,
                                     nics=[{"portgroup": portgroup}]))
    api.call("POST", f"/vms/{name}/power/on")


def ping_result(api, name, peer):
    m = wait_console(api, name, rf"KEEL-GUEST-PING {re.escape(peer)} status=(\d+) (.*)",
                     timeout=300)
    return int(m.group(1)), m.group(2)


def assert_ping_ok(api, name, peer, *vms):
    """`name` pinged `peer` with replies; else the failure shows the VMs'
    consoles and stats (and whether the platform struck one of them)."""
    status, line = ping_result(api, name, peer)
    assert status == 0, line + "".join(f"\n--- {vm}:\n{console_tail(api, vm)}" for vm in vms)


def console_tail(api, name):
    """The end of a VM's console and its stats, to tell a hung guest on failure."""
    _, _, text = api.raw("GET", f"/api/v1/vms/{name}/console?bytes=2000")
    text = text.decode(errors="replace")
    _, _, stats = api.raw("GET", f"/api/v1/vms/{name}/stats")  # (409 once it is off)
    return f"{text}\n{stats.decode(errors='replace')}\n{guest_fault(api, name, text)}"


def test_defaults_diagnostics_and_bad_input(api, host):
    sws, pgs = state(api)
    assert sws["switches"] == [{"name": "vSwitch0", "mtu": 1500, "uplinks": [],
                                "portgroups": ["VM Network"]}]
    assert pgs["portgroups"] == [{"name": "VM Network", "switch": "vSwitch0", "vlan": None,
                                  "vms": []}]
    # a real bridge, with VLAN filtering
    assert host.hook("cat /sys/class/net/vSwitch0/bridge/vlan_filtering") == b"1\n"
    nics = {n["name"]: n for n in api.call("GET", "/network/nics")["nics"]}
    assert nics["eth0"]["use"] == "management" and nics["eth0"]["link"] == "up"
    assert nics["eth0"]["driver"] == "virtio_net"
    assert re.fullmatch(r"([0-9a-f]{2}:){5}[0-9a-f]{2}", nics["eth0"]["mac"])
    assert nics["eth1"]["use"] is None
    conns = api.call("GET", "/network/connections")["connections"]
    assert any(c["local"].endswith(":443") and c["state"] == "LISTEN" for c in conns), conns
    assert any(c["local"].endswith(":443") and c["state"] == "ESTABLISHED" for c in conns)
    neigh = api.call("GET", "/network/neighbours")["neighbours"]
    assert any(n["ip"] == "10.0.2.2" and n["interface"] == "eth0" for n in neigh), neigh

    before, kernel = state(api), links(host)
    bad = [
        ("POST", "/network/portgroups", {"name": "v", "switch": "vSwitch0", "vlan": 4095}, 400),
        ("POST", "/network/portgroups", {"name": "v", "switch": "vSwitch0", "vlan": 0}, 400),
        ("POST", "/network/portgroups", {"name": "v", "switch": "vSwitch0", "vlan": "10"}, 400),
        ("POST", "/network/portgroups", {"name": "v", "switch": "missing"}, 400),
        ("POST", "/network/portgroups", {"name": "VM Network", "switch": "vSwitch0"}, 409),
        ("POST", "/network/portgroups", {"name": "a/b", "switch": "vSwitch0"}, 400),
        ("POST", "/network/switches", {"name": "big", "mtu": 20000}, 400),
        ("POST", "/network/switches", {"name": "small", "mtu": 1279}, 400),
        ("POST", "/network/switches", {"name": "sw1", "uplinks": ["eth9"]}, 400),
        ("POST", "/network/switches", {"name": "sw1", "uplinks": ["lo"]}, 400),
        ("POST", "/network/switches", {"name": "a-name-too-long-for-linux"}, 400),
        ("POST", "/network/switches", {"name": "eth1"}, 409),
        ("POST", "/network/switches", {"name": "sw1", "colour": "red"}, 400),
        ("PATCH", "/network/switches/vSwitch0", {"uplinks": ["eth0"]}, 400),
        ("PATCH", "/network/switches/vSwitch0", {"mtu": 9001}, 400),
        ("PATCH", "/network/switches/nope", {"mtu": 9000}, 404),
        ("PATCH", "/network/portgroups/" + quote("VM Network"), {"vlan": 4095}, 400),
        ("DELETE", "/network/portgroups/nope", None, 404),
    ]
    for method, path, body, status in bad:
        assert api.error(method, path, body)[0] == status, (method, path, body)
    assert state(api) == before and links(host) == kernel
    # a VM on "VM Network" pins it and its switch
    api.call("POST", "/vms", {"name": "pinned", "memory_mib": 64, "kernel": "local/none",
                              "nics": [{}]}, expect=(400,))
    with open(os.path.join(OUT, "vmlinuz"), "rb") as f:
        api.call("PUT", "/datastores/local/files/k/vmlinuz", f)
    vm = api.call("POST", "/vms", {"name": "pinned", "memory_mib": 64,
                                   "kernel": "local/k/vmlinuz", "nics": [{}]})
    assert vm["nics"][0]["portgroup"] == "VM Network"
    before = state(api)
    assert api.error("POST", "/vms", {"name": "p2", "memory_mib": 64, "kernel": "local/k/vmlinuz",
                                      "nics": [{"portgroup": "nope"}]})[0] == 400
    status, _, body = api.raw("DELETE", "/api/v1/network/portgroups/" + quote("VM Network"))
    assert status == 409 and b"pinned" in body, body
    assert api.error("DELETE", "/network/switches/vSwitch0")[0] == 409
    assert state(api) == before and links(host) == kernel
    assert api.call("GET", "/network/portgroups/" + quote("VM Network"))["vms"] == ["pinned"]
    api.call("DELETE", "/vms/pinned")


def test_uplinks_and_mtu(api, host):
    sw = api.call("POST", "/network/switches", {"name": "vSwitch1", "mtu": 9000,
                                               "uplinks": ["eth1"]})
    assert sw == {"name": "vSwitch1", "mtu": 9000, "uplinks": ["eth1"], "portgroups": [],
                  "ports": [{"name": "eth1", "mtu": 9000, "pvid": 1, "tagged": [], "vm": None}]}
    assert host.hook("cat /sys/class/net/vSwitch1/mtu") == b"9000\n"
    assert host.hook("cat /sys/class/net/eth1/mtu") == b"9000\n"
    assert host.hook("cat /sys/class/net/vSwitch1/brif/eth1/port_no").startswith(b"0x")
    nics = {n["name"]: n for n in api.call("GET", "/network/nics")["nics"]}
    assert nics["eth1"]["use"] == "uplink" and nics["eth1"]["switch"] == "vSwitch1"
    # the uplink trunks the port groups' VLANs; untagged is the native VLAN,
    # the lowest one no port group uses
    for name, vlan in (("Trunk1", 1), ("Trunk30", 30), ("Untagged", None)):
        api.call("POST", "/network/portgroups", {"name": name, "switch": "vSwitch1", "vlan": vlan})
    ports = api.call("GET", "/network/switches/vSwitch1")["ports"]
    assert ports == [{"name": "eth1", "mtu": 9000, "pvid": 2, "tagged": [1, 30], "vm": None}]
    for name in ("Trunk1", "Trunk30", "Untagged"):
        api.call("DELETE", f"/network/portgroups/{name}")
    assert api.call("GET", "/network/switches/vSwitch1")["ports"][0]["tagged"] == []
    # an uplink belongs to one switch
    assert api.error("PATCH", "/network/switches/vSwitch0", {"uplinks": ["eth1"]})[0] == 400
    api.call("PATCH", "/network/switches/vSwitch1", {"uplinks": []})
    assert host.hook("cat /sys/class/net/eth1/brport/state").startswith(b"ERR")
    # a switch no VM uses goes, its bridge with it
    api.call("POST", "/network/switches", {"name": "scratch"})
    assert "scratch" in links(host)
    api.call("DELETE", "/network/switches/scratch")
    assert "scratch" not in links(host)
    assert api.error("GET", "/network/switches/scratch")[0] == 404


def test_port_groups_connect_and_vlans_isolate(api, host, guest_files):
    api.call("POST", "/network/portgroups", {"name": "VLAN10", "switch": "vSwitch0", "vlan": 10})
    api.call("POST", "/network/portgroups", {"name": "VLAN20", "switch": "vSwitch0", "vlan": 20})
    start_vm(api, guest_files, "na", "VM Network", "keel.ip=10.0.0.1/24 keel.wait=600")
    start_vm(api, guest_files, "va", "VLAN10", "keel.ip=10.0.1.1/24 keel.wait=600")
    for name in ("na", "va"):
        wait_console(api, name, "KEEL-GUEST-NET .* up", timeout=300)
    start_vm(api, guest_files, "nb", "VM Network", "keel.ip=10.0.0.2/24 keel.ping=10.0.0.1")
    start_vm(api, guest_files, "vb", "VLAN20", "keel.ip=10.0.1.2/24 keel.ping=10.0.1.1")
    start_vm(api, guest_files, "vc", "VLAN10", "keel.ip=10.0.1.3/24 keel.ping=10.0.1.1")
    assert_ping_ok(api, "nb", "10.0.0.1", "na")  # same port group
    assert_ping_ok(api, "vc", "10.0.1.1", "va")  # same VLAN
    status, line = ping_result(api, "vb", "10.0.1.1")
    assert status != 0, line  # VLAN 20 does not reach VLAN 10
    ports = {p["vm"]: p for p in api.call("GET", "/network/switches/vSwitch0")["ports"]}
    assert ports["va"]["pvid"] == 10 and ports["na"]["pvid"] == 1
    assert all(p["tagged"] == [] for p in ports.values())
    pgs = {p["name"]: p for p in api.call("GET", "/network/portgroups")["portgroups"]}
    assert pgs["VLAN10"]["vms"] == ["va", "vc"] and pgs["VLAN10"]["vlan"] == 10
    assert pgs["VM Network"]["vms"] == ["na", "nb"]
    # a port group in use stays
    assert api.error("DELETE", "/network/portgroups/VLAN20")[0] == 409
    # the TAPs go with their VMs
    for name in ("na", "nb", "va", "vb", "vc"):  # (the pingers power off by themselves)
        api.call("POST", f"/vms/{name}/power/off", expect=(202, 409))
    deadline = time.monotonic() + 60
    while any(n.startswith("kv") for n in links(host)) and time.monotonic() < deadline:
        time.sleep(1)
    assert not any(n.startswith("kv") for n in links(host)), links(host)


def test_jumbo_frames_cross_an_mtu_9000_switch(api, host, guest_files):
    api.call("POST", "/network/switches", {"name": "vJumbo", "mtu": 9000})
    api.call("POST", "/network/portgroups", {"name": "Jumbo", "switch": "vJumbo"})
    start_vm(api, guest_files, "ja", "Jumbo", "keel.mtu=9000 keel.ip=10.0.9.1/24 keel.wait=600")
    wait_console(api, "ja", "KEEL-GUEST-NET .* up", timeout=300)
    start_vm(api, guest_files, "jb", "Jumbo",
             "keel.mtu=9000 keel.ip=10.0.9.2/24 keel.pingsize=8972 keel.ping=10.0.9.1")
    # 8972 bytes of ICMP payload + 28 of headers, not fragmented: the path
    # (guest, TAP, bridge, TAP, guest) carries 9000-byte packets
    assert_ping_ok(api, "jb", "10.0.9.1", "ja", "jb")
    for name in ("ja", "jb"):
        api.call("POST", f"/vms/{name}/power/off", expect=(202, 409))


def alt_api(host, api):
    """The same session, through the forward to the new address."""
    return Api(host.alt_api_port, api.fingerprint, api.token)


def test_management_address_change_confirm_reboot_rollback(api, host):
    mgmt = api.call("GET", "/network/management")
    assert mgmt["mode"] == "dhcp" and mgmt["interface"] == "eth0"
    assert "10.0.2.15/24" in mgmt["current"]["addresses"]
    assert mgmt["pending"] is None
    # refused, and nothing changes
    for body in ({"mode": "static"}, {"mode": "static", "address": "10.0.2.50"},
                 {"mode": "static", "address": "10.0.2.50/24", "gateway": "192.168.1.1"},
                 {"mode": "static", "address": "127.0.0.1/8"}, {"dns": ["x"]},
                 {"hostname": "-bad-"}, {"confirm_timeout_s": 5}, {"mode": "bootp"}):
        assert api.error("PUT", "/network/management", body)[0] == 400, body
    assert api.call("GET", "/network/management")["pending"] is None
    assert api.error("POST", "/network/management/confirm")[0] == 409

    # the host name alone: at once, no confirmation
    r = api.call("PUT", "/network/management", {"hostname": "esx-lab-02"})
    assert r["management"]["hostname"] == "esx-lab-02"
    assert api.call("GET", "/host")["hostname"] == "esx-lab-02"

    # a static address: applied, confirmed over the new address
    r = api.call("PUT", "/network/management",
                 {"mode": "static", "address": f"{NEW_IP}/24", "gateway": "10.0.2.2",
                  "dns": ["10.0.2.3"], "confirm_timeout_s": 60})
    assert r["confirm_timeout_s"] == 60 and r["management"]["pending"]
    new = alt_api(host, api)
    mgmt = wait_management(new, 60)
    assert mgmt["mode"] == "static" and f"{NEW_IP}/24" in mgmt["current"]["addresses"]
    assert mgmt["current"]["gateway"] == "10.0.2.2"
    new.call("POST", "/network/management/confirm")
    assert new.call("GET", "/network/management")["pending"] is None
    conf = host.hook_port
    host.hook_port = host.alt_hook_port
    assert f"{NEW_IP}/24".split("/")[0].encode() in host.hook("cat /config/host.conf")
    assert host.hook("cat /etc/resolv.conf") == b"nameserver 10.0.2.3\n"
    host.hook_port = conf

    # it survives a reboot (keel-init applies host.conf); from now on the
    # forwards go to the static address, and the spare ones to DHCP's
    host.guest_ip, host.alt_ip = NEW_IP, "10.0.2.15"
    host.hook_port = host.alt_hook_port
    assert host.hook("poweroff") == b"OK\n"
    host.wait_off()
    host.start().wait_ready().wait_for(r"keel-hostd: API ready")
    api = Api(host.api_port, api.fingerprint).login("root", api.password)
    mgmt = api.call("GET", "/network/management")
    assert mgmt["mode"] == "static" and f"{NEW_IP}/24" in mgmt["current"]["addresses"]
    assert mgmt["hostname"] == "esx-lab-02"

    # a change nobody confirms is rolled back
    api.call("PUT", "/network/management", {"address": "10.0.2.60/24", "confirm_timeout_s": 10})
    time.sleep(3)
    with pytest.raises((OSError, ApiError)):
        api.call("GET", "/network/management", timeout=5)
    mgmt = wait_management(api, 60)
    assert mgmt["pending"] is None and mgmt["address"] == f"{NEW_IP}/24"
    assert f"{NEW_IP}/24" in mgmt["current"]["addresses"]
    assert "10.0.2.60/24" not in mgmt["current"]["addresses"]
    assert host.hook("cat /config/host.conf").count(NEW_IP.encode()) == 1
    audit = api.call("GET", "/audit?lines=50")["entries"]
    assert any(e["action"] == "rollback" and e["result"] == "rolledback" for e in audit)

    # back to DHCP (keel-dhcpc, told live), confirmed over DHCP's address
    api.call("PUT", "/network/management", {"mode": "dhcp", "confirm_timeout_s": 60})
    dhcp = Api(host.alt_api_port, api.fingerprint, api.token)
    mgmt = wait_management(dhcp, 60)
    assert mgmt["mode"] == "dhcp" and "10.0.2.15/24" in mgmt["current"]["addresses"]
    dhcp.call("POST", "/network/management/confirm")
    host.hook_port = host.alt_hook_port
    assert b"mgmt.mode = dhcp" in host.hook("cat /config/host.conf")

    # a restart of hostd cuts a change short: it is rolled back at once
    dhcp.call("PUT", "/network/management",
              {"mode": "static", "address": "10.0.2.15/24", "gateway": "10.0.2.2",
               "dns": ["10.0.2.4"], "confirm_timeout_s": 600})
    deadline = time.monotonic() + 30
    while host.hook("cat /etc/resolv.conf") != b"nameserver 10.0.2.4\n":
        assert time.monotonic() < deadline, "the static settings were not applied"
        time.sleep(0.5)
    assert host.hook(f"kill {int(host.hook('cat /run/keel/hostd.pid'))} 9").startswith(b"OK")
    host.wait_for(r"hostd restarted during an unconfirmed change: rolling back")
    mgmt = wait_management(dhcp, 60)
    assert mgmt["mode"] == "dhcp" and mgmt["pending"] is None
    assert host.hook("cat /run/keel/mgmt.mode") == b"dhcp eth0\n"
    assert b"mgmt.mode = dhcp" in host.hook("cat /config/host.conf")
