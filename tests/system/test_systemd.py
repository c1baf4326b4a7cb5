"""A real Debian 12 with systemd, on an ext4 root disk, as a VM of keel-hostd
(debian_guest.py): it boots to multi-user.target, reboots itself through
systemd and finds on its disk what its first boot wrote, is configured by
systemd-networkd on a port group where a busybox guest pings it, and powers
off through systemd-logind on the ACPI power button. One appliance for the
module; its datastore is seeded with the guest's files before it boots."""
import os
import re
import secrets

import pytest

import debian_guest
import guest
from api import connect
from harness import OUT, module_host
from test_hostd import vm_spec, wait_console, wait_state

BOOT_TIMEOUT = 420  # a systemd boot takes 60-100 s here, more under load
TOKEN = secrets.token_hex(8)
IP = "10.0.0.5"


@pytest.fixture(scope="module")
def host(images, pristine_disk, tmp_path_factory):
    initrd = guest.build_initrd(str(tmp_path_factory.mktemp("guest") / "initrd.img"))
    a = module_host(tmp_path_factory, pristine_disk, "systemd", seed={
        "guest/vmlinuz": os.path.join(OUT, "vmlinuz"), "guest/initrd.img": initrd,
        "deb/root.img": debian_guest.disk_image()})
    yield a
    a.kill()


@pytest.fixture(scope="module")
def api(host):
    return connect(host)


@pytest.fixture(scope="module")
def deb(api):
    """The systemd VM, powered on: its first boot writes the token, then
    reboots the guest through systemd."""
    spec = vm_spec("deb", ("local/guest/vmlinuz", "local/guest/initrd.img"), "root",
                   cmdline=f"{debian_guest.CMDLINE} keel.token={TOKEN} keel.reboot=1 "
                   f"keel.ip={IP}/24",
                   memory_mib=512, disks=[{"path": "local/deb/root.img"}],
                   nics=[{"portgroup": "VM Network"}])
    api.call("POST", "/vms", spec)
    api.call("POST", "/vms/deb/power/on")
    return "deb"


def test_systemd_guest_reboots_and_keeps_its_disk(api, deb):
    first = wait_console(api, deb, r"KEEL-SYSTEMD-UP boot=1 system=(\S+)", timeout=BOOT_TIMEOUT)
    assert first.group(1) in ("starting", "running", "degraded"), first.group(0)
    wait_console(api, deb, rf"(?s)KEEL-SYSTEMD-DATA {TOKEN}.*KEEL-SYSTEMD-REBOOTING", timeout=60)
    # systemd stops its units and the kernel restarts: keel-vmm boots the
    # guest again, and what the first boot wrote is on the disk
    again = wait_console(api, deb, r"(?s)KEEL-SYSTEMD-REBOOTING.*reboot: Restarting system"
                         r".*KEEL-SYSTEMD-UP boot=2 .*KEEL-SYSTEMD-DATA (\w+)", timeout=BOOT_TIMEOUT)
    assert again.group(1) == TOKEN
    assert api.call("GET", f"/vms/{deb}")["state"] == "running"


def test_systemd_networkd_guest_answers_on_a_port_group(api, deb, host):
    net = wait_console(api, deb, r"(?s)KEEL-SYSTEMD-UP boot=2 .*?KEEL-SYSTEMD-NET ([^\r\n]*)",
                       timeout=BOOT_TIMEOUT)
    assert re.search(rf"\b(en\w+|eth\d+)={re.escape(IP)}/24", net.group(1)), net.group(0)
    kernel, initrd = "local/guest/vmlinuz", "local/guest/initrd.img"
    api.call("POST", "/vms", vm_spec("peer", (kernel, initrd),
                                     f"virtio keel.ip=10.0.0.6/24 keel.ping={IP}",
                                     memory_mib=128, nics=[{"portgroup": "VM Network"}]))
    api.call("POST", "/vms/peer/power/on")
    m = wait_console(api, "peer", rf"KEEL-GUEST-PING {re.escape(IP)} status=(\d+) (.*)",
                     timeout=300)
    assert m.group(1) == "0", m.group(0)
    wait_state(api, "peer", "poweredOff")


def test_systemd_guest_powers_off_on_the_acpi_button(api, deb):
    wait_console(api, deb, r"KEEL-SYSTEMD-UP boot=2", timeout=BOOT_TIMEOUT)
    assert api.call("POST", f"/vms/{deb}/power/shutdown", {"timeout_s": 240})["state"] == "stopping"
    # logind sees the button and systemd takes the system down
    wait_console(api, deb, r"(?s)KEEL-SYSTEMD-UP boot=2.*System Power Off.*reboot: Power down",
                 timeout=240)
    wait_state(api, deb, "poweredOff")
