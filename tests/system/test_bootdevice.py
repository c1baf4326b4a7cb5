"""A host that boots from a USB stick, as ESXi hosts often do: the stick
holds the ESP and the boot banks (image/mkdisk.sh --boot), a disk beside it
the config, scratch and datastore (--data). The system image is loaded
into RAM, so pulling the stick out (QEMU's device_del) stops nothing: the
API serves, a running VM runs on, and the log says the boot device is
gone; what needs it (a rollback) is refused."""
import os
import re
import subprocess
import time

import pytest

import guest
from api import connect
from harness import OUT, ROOT, Appliance

MKDISK = os.path.join(ROOT, "image", "mkdisk.sh")


@pytest.fixture(scope="module")
def host(images, tmp_path_factory):
    d = tmp_path_factory.mktemp("bootdevice")
    stick, data = str(d / "usb-stick.img"), str(d / "data.img")
    subprocess.run([MKDISK, "--boot", stick, "2", os.path.join(OUT, "vmlinuz"),
                    os.path.join(OUT, "initramfs-test.img"), os.path.join(OUT, "manifest.txt"),
                    "keel.dcui=none"], check=True, stdout=subprocess.DEVNULL)
    subprocess.run([MKDISK, "--data", data, "8"], check=True, stdout=subprocess.DEVNULL)
    a = Appliance(str(d), "test", data, "bootdevice")
    a.uefi_vars = str(d / "OVMF_VARS.fd")
    a.more_args = ["-device", "qemu-xhci,id=xhci",
                   "-drive", f"file={stick},if=none,id=stick,format=raw",
                   "-device", "usb-storage,bus=xhci.0,drive=stick,id=usbstick,bootindex=0"]
    try:
        yield a.start().wait_ready()
    finally:
        a.kill()


def console(api, name):
    _, _, body = api.raw("GET", f"/api/v1/vms/{name}/console?bytes=65536",
                         headers={"Authorization": "Bearer " + api.token})
    return body.decode(errors="replace")


def ticks(api, name):
    return len(re.findall(r"KEEL-GUEST-TICK", console(api, name)))


def wait_until(what, check, timeout=180):
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, what
        time.sleep(1)


def test_host_runs_on_when_its_usb_boot_stick_is_pulled(host, tmp_path):
    host.wait_for(r"keel-init: boot: bank a, Keel 0\.1\.0")
    host.wait_for(r"keel-init: disk: KEEL-CONFIG \(/dev/vda1\) mounted on /config")
    api = connect(host)
    r = api.call("GET", "/host/image")
    assert r["booted"] == "a" and r["boot_device"]["present"], r
    stick = r["boot_device"]["name"]
    assert stick.startswith("sd"), r  # the USB stick, not the virtio disk (vda)

    kernel, initrd = guest.upload(api, tmp_path)
    api.call("POST", "/vms", {"name": "runner", "memory_mib": 256, "kernel": kernel,
                              "initrd": initrd, "cmdline": "console=ttyS0 quiet keel.test=idle"})
    api.call("POST", "/vms/runner/power/on")
    wait_until("the guest did not come up", lambda: ticks(api, "runner") > 0)

    reply = host.qmp("device_del", {"id": "usbstick"})
    assert "return" in reply, reply
    host.wait_for(rf"keel-init: boot: the boot device {stick} is gone; the host runs on")

    # the API serves, the VM runs on, and what needs the stick is refused
    r = api.call("GET", "/host/image")
    assert r["boot_device"] == {"name": stick, "present": False}, r
    status, _ = api.error("POST", "/host/image/rollback")
    assert status == 409
    before = ticks(api, "runner")
    wait_until("the guest stopped ticking", lambda: ticks(api, "runner") > before + 2, 60)
    assert api.call("GET", "/vms/runner")["state"] == "running"
    assert host.hook("cat /proc/mounts").count(b"/bootbank") == 0
    api.call("POST", "/vms/runner/power/off")
