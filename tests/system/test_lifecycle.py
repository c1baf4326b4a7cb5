"""The host's own lifecycle, booted as a server boots: UEFI firmware (Debian's
OVMF), GRUB on the disk's ESP, the system image of the active boot bank
(image/mkdisk.sh, src/common/bootenv.h). A new image on the other bank gets
its tries and is declared good once keel-hostd serves; a rollback by request
boots the previous image; a new image that does not boot is given up after
its tries, and the loader falls back by itself.

New images are written here while the host is off, as an update writes
them (test_update.py: the host itself, from a bundle): the bank's files,
then the loader's environment block with grub-editenv, GRUB's own tool."""
import os
import re
import subprocess

import pytest

from api import Api, FINGERPRINT_RX, connect
from bootbanks import image, installed_host, loader_env, reboot_into, write_image
from harness import ROOT


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
