"""The host's own lifecycle, booted as a server boots: UEFI firmware (Debian's
OVMF), GRUB on the disk's ESP, the system image of the active boot bank
(image/mkdisk.sh, src/common/bootenv.h). A new image on the other bank gets
its tries and is declared good once keel-hostd serves; a rollback by request
boots the previous image; a new image that does not boot is given up after
its tries, and the loader falls back by itself, whether its kernel panics
or its keel-hostd never serves (keel-init's time limit, keel.boot_timeout).

New images are written here while the host is off, as an update writes
them (test_update.py: the host itself, from a bundle): the bank's files,
then the loader's environment block with grub-editenv, GRUB's own tool."""
import os
import re
import subprocess

import pytest

from api import Api, FINGERPRINT_RX, connect
from bootbanks import image, installed_host, loader_env, reboot_into, write_image
from harness import OUT, ROOT


@pytest.fixture(scope="module")
def host(images, tmp_path_factory):
    """A test appliance installed with the test image in bank A, booted
    through OVMF and GRUB."""
    a = installed_host(tmp_path_factory, "lifecycle")
    try:
        yield a.start().wait_ready()
    finally:
        a.kill()


def test_installed_image_boots_from_the_disk(host):
    host.wait_for(r"Keel: booting bank a")  # GRUB's line
    host.wait_for(r"keel-init: boot: bank a, Keel 0\.1\.0 \(\w+\), installed; bank b: no image")
    api = connect(host)
    r, banks = image(api)
    assert r["booted"] == "a" and r["next"] == "a" and r["reason"] == "installed", r
    assert r["tries_left"] is None
    assert banks["a"]["state"] == "good" and banks["a"]["version"] == "0.1.0", r
    assert banks["b"]["state"] == "empty" and banks["b"]["version"] is None, r
    # nothing to roll back to: refused, nothing changes
    assert api.error("POST", "/host/image/rollback")[0] == 409
    assert image(api)[0] == r
    host.api = api


def test_new_image_on_trial_then_good_then_rollback(host):
    """A new image on bank B with its tries: it boots, keel-hostd serves,
    and keel-init declares it good; a rollback boots bank A again."""
    api = host.api
    assert host.hook("poweroff") == b"OK\n"
    host.wait_off(timeout=300)
    write_image(host.disk, "b", host.tmp, "0.2.0")
    loader_env(host.disk, host.tmp, keel_bank="b", keel_tries="3", keel_reason="updated")
    host.start().wait_ready()
    host.wait_for(r"Keel: booting bank b, a new image: 2 more tries after this one")
    host.wait_for(r"keel-init: boot: bank b, Keel 0\.2\.0 \(\w+\), updated: on trial, 2 more "
                  r"boots if this one fails")
    host.wait_for(r"keel-init: boot: keel-hostd serves: this image is good")
    fp = host.wait_for(FINGERPRINT_RX).group(1)
    host.wait_for(r"keel-hostd: API ready")
    api = Api(host.api_port, fp).login("root", api.password)
    r, banks = image(api)
    assert r["booted"] == "b" and r["next"] == "b" and r["tries_left"] is None, r
    assert banks["b"]["state"] == "good" and banks["b"]["version"] == "0.2.0", r
    assert banks["a"]["state"] == "previous" and banks["a"]["version"] == "0.1.0", r

    # rolled back by request: the next boot is bank A's, known good
    r = api.call("POST", "/host/image/rollback")
    assert r["next"] == "a" and r["reason"] == "rollback" and r["booted"] == "b", r
    assert api.call("POST", "/host/reboot", {"timeout_s": 10})["state"] == "rebooting"
    api = reboot_into(host, api, r"keel-init: boot: bank a, Keel 0\.1\.0 \(\w+\), rolled back "
                                 r"by request; bank b: Keel 0\.2\.0")
    r, banks = image(api)
    assert r["booted"] == "a" and r["reason"] == "rollback", r
    assert banks["b"]["state"] == "previous", r
    audit = api.call("GET", "/audit?lines=100")["entries"]
    assert any(e["action"] == "POST /api/v1/host/image/rollback" and e["result"] == "ok"
               for e in audit), audit
    host.api = api


def test_image_that_does_not_boot_falls_back(host):
    """A new image on bank B whose kernel panics (its initramfs is not one):
    two tries, each a failed boot, then the loader boots bank A by itself."""
    api = host.api
    assert host.hook("poweroff") == b"OK\n"
    host.wait_off(timeout=300)
    junk = os.path.join(host.tmp, "junk.img")
    with open(junk, "wb") as f:
        f.write(os.urandom(4096))
    write_image(host.disk, "b", host.tmp, "0.3.0", initramfs=junk)
    loader_env(host.disk, host.tmp, keel_bank="b", keel_tries="2", keel_reason="updated")
    for left in (1, 0):  # each boot of bank B panics; -no-reboot ends QEMU
        host.start()
        host.wait_for(rf"Keel: booting bank b, a new image: {left} more tries after this one")
        host.wait_for(r"Kernel panic")
        host.wait_off(timeout=120)
    env = loader_env(host.disk, host.tmp)
    assert env["keel_bank"] == "b" and env["keel_tries"] == "0", env
    api = reboot_into(host, api, r"keel-init: boot: bank a, Keel 0\.1\.0 \(\w+\), after the "
                                 r"other bank's new image failed to boot")
    host.wait_for(r"Keel: the new image did not boot; back to bank a")
    r, banks = image(api)
    assert r["booted"] == "a" and r["next"] == "a" and r["reason"] == "fellback", r
    assert banks["b"]["state"] == "failed" and banks["b"]["version"] == "0.3.0", r
    assert banks["a"]["state"] == "good", r
    # the failed image is no rollback target
    status, _ = api.error("POST", "/host/image/rollback")
    assert status == 409
    # the CLI says the same, in a table and a sentence
    creds = api.write_cli_credentials(os.path.join(host.tmp, "creds"))
    out = subprocess.run([os.path.join(ROOT, "build", "src", "cli", "keel"), "--credentials",
                          creds, "host", "image"], capture_output=True, text=True,
                         check=True).stdout
    assert re.search(r"^a\s+0\.1\.0\s+\w+\s+good\s+yes\s+yes$", out, re.M), out
    assert re.search(r"^b\s+0\.3\.0\s+\w+\s+failed\s+no\s+no$", out, re.M), out
    assert "Bank a: fell back: the other bank's new image did not boot." in out, out
    env = loader_env(host.disk, host.tmp)
    assert env == {"keel_bank": "a", "keel_tries": "", "keel_reason": "fellback"}, env
    host.api = api


def initramfs_hostd_never_serves(tmp):
    """The test initramfs and, after it, one more archive (uncompressed
    newc): the kernel unpacks them in turn, a later file replacing an
    earlier one. Its /etc/keel/services runs keel-vmm as hostd, which
    without arguments exits at once: keel-hostd never serves."""
    d = os.path.join(tmp, "never-serves")
    os.makedirs(os.path.join(d, "etc", "keel"), exist_ok=True)
    with open(os.path.join(d, "etc", "keel", "services"), "w") as f:
        f.write("# keel-hostd never serves: its program exits at once\n"
                "hostd /sbin/keel-vmm\n"
                "testhook /sbin/keel-testhook\n")
    archive = subprocess.run(["cpio", "-o", "-H", "newc", "--owner=0:0", "--quiet"],
                             input=b"etc/keel/services\n", cwd=d, capture_output=True,
                             check=True).stdout
    with open(os.path.join(OUT, "initramfs-test.img"), "rb") as f:
        first = f.read()
    img = os.path.join(tmp, "initramfs-never-serves.img")
    with open(img, "wb") as f:
        # the kernel looks for the next archive's header at a multiple of 4
        f.write(first + b"\0" * (-len(first) % 4) + archive)
    return img


def test_image_whose_hostd_never_serves_falls_back(host):
    """A new image on bank B, on its last try, whose keel-hostd never
    serves, and keel.boot_timeout=10 in its boot.cfg: keel-init gives up
    after 10 s and reboots, and the loader boots bank A by itself (the
    count down of several tries is test_image_that_does_not_boot_falls_back's)."""
    api = host.api
    assert host.hook("poweroff") == b"OK\n"
    host.wait_off(timeout=300)
    write_image(host.disk, "b", host.tmp, "0.4.0",
                initramfs=initramfs_hostd_never_serves(host.tmp),
                cmdline="keel.dcui=none keel.boot_timeout=10")
    loader_env(host.disk, host.tmp, keel_bank="b", keel_tries="1", keel_reason="updated")
    host.start()
    host.wait_for(r"Keel: booting bank b, a new image: 0 more tries after this one")
    host.wait_for(r"keel-init: boot: bank b, Keel 0\.4\.0 \(\w+\), updated: on trial, "
                  r"0 more boots if this one fails; keel-hostd has 10 s to serve")
    # (hostd, keel-vmm in its place, exits at once with status 2 and is
    # restarted; on a loaded machine the limit, which counts from the
    # kernel's start, can pass before keel-init has started it)
    m = host.wait_for(r"\[\s*([\d.]+)\] keel-init: boot: keel-hostd did not serve within "
                      r"10 s: rebooting")
    assert float(m.group(1)) >= 10, m.group(0)
    console = host.wait_off(timeout=120)
    assert "keel-init: reboot: done" in console, console[-2000:]
    assert "this image is good" not in console, console[-2000:]
    env = loader_env(host.disk, host.tmp)
    assert env == {"keel_bank": "b", "keel_tries": "0", "keel_reason": "updated"}, env
    api = reboot_into(host, api, r"keel-init: boot: bank a, Keel 0\.1\.0 \(\w+\), after the "
                                 r"other bank's new image failed to boot")
    host.wait_for(r"Keel: the new image did not boot; back to bank a")
    r, banks = image(api)
    assert r["booted"] == "a" and r["next"] == "a" and r["reason"] == "fellback", r
    assert r["tries_left"] is None, r
    assert banks["b"]["state"] == "failed" and banks["b"]["version"] == "0.4.0", r
    assert banks["a"]["state"] == "good", r
    env = loader_env(host.disk, host.tmp)
    assert env == {"keel_bank": "a", "keel_tries": "", "keel_reason": "fellback"}, env
