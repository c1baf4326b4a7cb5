"""The host's own lifecycle, booted as a server boots: UEFI firmware (Debian's
OVMF), GRUB on the disk's ESP, the system image of the active boot bank
(image/mkdisk.sh, src/common/bootenv.h). A new image on the other bank gets
its tries and is declared good once keel-hostd serves; a rollback by request
boots the previous image; a new image that does not boot is given up after
its tries, and the loader falls back by itself.

New images are written here while the host is off, as the update path
will write them (the bank's files, then the loader's environment block
with grub-editenv, GRUB's own tool)."""
import json
import os
import re
import subprocess

import pytest

from api import Api, FINGERPRINT_RX, connect
from harness import OUT, ROOT, Appliance

MKDISK = os.path.join(ROOT, "image", "mkdisk.sh")
ESP, BANK = 1, {"a": 2, "b": 3}


def fs(disk, n):
    """mtools' name for partition n's file system."""
    out = subprocess.run(["sfdisk", "--json", disk], capture_output=True, text=True,
                         check=True).stdout
    start = json.loads(out)["partitiontable"]["partitions"][n - 1]["start"]
    return f"{disk}@@{start * 512}"


def mcopy(disk, n, src, dst):
    subprocess.run(["mcopy", "-o", "-i", fs(disk, n), src, dst], check=True,
                   env={**os.environ, "MTOOLS_SKIP_CHECK": "1"})


def write_image(disk, bank, tmp, version, initramfs=None, cmdline="keel.dcui=none"):
    """A system image into `bank`: out/'s kernel, the test initramfs (or
    `initramfs`), a manifest saying `version`, and its command line."""
    with open(os.path.join(OUT, "manifest.txt")) as f:
        manifest = "".join(f"keel-version: {version}\n" if line.startswith("keel-version:")
                           else line for line in f)
    files = {"manifest.txt": manifest,
             "boot.cfg": f'set keel_cmdline="console=ttyS0,115200 loglevel=4 panic=1 {cmdline}"\n'}
    for name, text in files.items():
        with open(os.path.join(tmp, name), "w") as f:
            f.write(text)
        mcopy(disk, BANK[bank], os.path.join(tmp, name), f"::{name}")
    mcopy(disk, BANK[bank], os.path.join(OUT, "vmlinuz"), "::vmlinuz")
    mcopy(disk, BANK[bank], initramfs or os.path.join(OUT, "initramfs-test.img"),
          "::initramfs.img")


def loader_env(disk, tmp, **set_vars):
    """The loader's environment block: set_vars written (grub-editenv), then
    all of it as a dict."""
    env = os.path.join(tmp, "grubenv")
    mcopy(disk, ESP, "::keel/grubenv", env)
    if set_vars:
        subprocess.run(["grub-editenv", env, "set", *(f"{k}={v}" for k, v in set_vars.items())],
                       check=True)
        mcopy(disk, ESP, env, "::keel/grubenv")
    out = subprocess.run(["grub-editenv", env, "list"], capture_output=True, text=True,
                         check=True).stdout
    return dict(line.split("=", 1) for line in out.splitlines())


@pytest.fixture(scope="module")
def host(images, tmp_path_factory):
    """A test appliance on a disk of its own, installed with the test image
    in bank A; booted through OVMF and GRUB (not QEMU's -kernel)."""
    d = tmp_path_factory.mktemp("lifecycle")
    disk = str(d / "keel-disk.img")
    subprocess.run([MKDISK, disk, "8", os.path.join(OUT, "vmlinuz"),
                    os.path.join(OUT, "initramfs-test.img"), os.path.join(OUT, "manifest.txt"),
                    "keel.dcui=none"], check=True, stdout=subprocess.DEVNULL)
    a = Appliance(str(d), "test", disk, "lifecycle")
    a.uefi_vars = str(d / "OVMF_VARS.fd")
    a.tmp = str(d)
    try:
        yield a.start().wait_ready()
    finally:
        a.kill()


def image(api):
    r = api.call("GET", "/host/image")
    return r, {b["bank"]: b for b in r["banks"]}


def reboot_into(host, api, pattern):
    """Powers the host off, or lets its reboot end QEMU (-no-reboot), boots
    it again; returns a new session once `pattern` is on the console."""
    host.wait_off(timeout=300)
    host.start().wait_ready()
    host.wait_for(pattern)
    fp = host.wait_for(FINGERPRINT_RX).group(1)
    host.wait_for(r"keel-hostd: API ready")
    return Api(host.api_port, fp).login("root", api.password)


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
