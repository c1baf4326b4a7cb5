"""Signed offline updates (src/common/bundlefmt.h, src/hostd/update.h) on a
host booted as a server boots (bootbanks.py: UEFI, GRUB, the test image in
bank A, an older image in bank B). Bundles the host must refuse, each sent
to POST /host/update and answered 400 with its reason, with nothing written
(bank B and the loader's environment block as they were); then a bundle
of the test image as Keel 0.2.0, signed with the build tree's key (the one
the image trusts), goes in with `keel host update apply --reboot`: bank B
holds it, the loader's next boot is B on trial, and after the reboot 0.2.0
serves, declared good. The binaries are the same (keel-hostd still calls
itself 0.1.0): the version is the bundle's and its manifest's."""
import json
import os
import re
import subprocess
import threading
import time

import pytest

from api import FINGERPRINT_RX, Api, connect
from bootbanks import BANK, image, installed_host, loader_env, mcopy, write_image
from harness import OUT, ROOT

TOOL = os.path.join(ROOT, "build", "src", "bundletool", "keel-bundle")
KEEL = os.path.join(ROOT, "build", "src", "cli", "keel")
# the key `make image-test` put into the image's trusted keys (Makefile)
KEYS = os.environ.get("KEEL_BUNDLE_KEYS") or os.path.join(ROOT, "build", "keys")


def make_bundle(tmp, name, version, acceptance="certified", arch="x86_64",
                key=os.path.join(KEYS, "private.pem")):
    """A bundle of out/'s kernel and test initramfs, with out/'s manifest
    saying `version`; returns its path."""
    with open(os.path.join(OUT, "manifest.txt")) as f:
        lines = f.read().splitlines(keepends=True)
    build = next(line.split()[1] for line in lines if line.startswith("keel-commit:"))
    manifest = tmp / f"manifest-{version}.txt"
    manifest.write_text("".join(f"keel-version: {version}\n" if line.startswith("keel-version:")
                                else line for line in lines))
    out = str(tmp / name)
    subprocess.run([TOOL, "make", "--key", key, "--version", version, "--build", build,
                    "--acceptance", acceptance, "--arch", arch, "-o", out,
                    os.path.join(OUT, "vmlinuz"), os.path.join(OUT, "initramfs-test.img"),
                    str(manifest)], check=True, stdout=subprocess.DEVNULL)
    return out


@pytest.fixture(scope="module")
def bundles(images, tmp_path_factory):
    tmp = tmp_path_factory.mktemp("bundles")
    subprocess.run([TOOL, "keygen", str(tmp / "stranger")], check=True, stdout=subprocess.DEVNULL)
    b = {"good": make_bundle(tmp, "good.bundle", "0.2.0"),
         "unknown key": make_bundle(tmp, "stranger.bundle", "0.2.0",
                                    key=str(tmp / "stranger" / "private.pem")),
         "downgrade": make_bundle(tmp, "old.bundle", "0.0.9"),
         "community": make_bundle(tmp, "community.bundle", "0.2.0", acceptance="community"),
         "other arch": make_bundle(tmp, "arm.bundle", "0.2.0", arch="aarch64")}
    with open(b["good"], "rb") as f:
        data = bytearray(f.read())
    (tmp / "truncated.bundle").write_bytes(data[:len(data) // 2])
    data[len(data) // 2] ^= 0x01  # in the initramfs
    (tmp / "changed.bundle").write_bytes(data)
    b["truncated"] = str(tmp / "truncated.bundle")
    b["changed byte"] = str(tmp / "changed.bundle")
    return b


@pytest.fixture(scope="module")
def host(images, tmp_path_factory):
    """The test image in bank A (booted), an older one (0.0.5) in bank B."""
    a = installed_host(tmp_path_factory, "update")
    write_image(a.disk, "b", a.tmp, "0.0.5")
    try:
        a.start().wait_ready()
        a.api = connect(a)
        yield a
    finally:
        a.kill()


def bank_file(host, bank, name):
    """A file of a bank, read from the disk (the host fsyncs what it writes)."""
    dst = os.path.join(host.tmp, f"read-{bank}-{name}")
    if os.path.exists(dst):
        os.unlink(dst)
    mcopy(host.disk, BANK[bank], f"::{name}", dst)
    with open(dst, "rb") as f:
        return f.read()


REFUSALS = {
    "changed byte": "initramfs.img: its SHA-256 is not the one bundle.json lists (a changed byte)",
    "unknown key": "signed by a key this host does not trust (key ID sha256:",
    "truncated": "the bundle is truncated: it ends inside initramfs.img",
    "downgrade": "Keel 0.0.9 is older than the running 0.1.0: a downgrade is asked for with "
                 "allow_downgrade",
    "community": "the bundle's acceptance level is community; this host takes partner or above",
    "other arch": "the bundle is for aarch64, this host is x86_64",
}


def test_update_needs_maintenance_mode(host, bundles):
    api = host.api
    with open(bundles["good"], "rb") as f:  # refused before the body: its start will do
        status, _, data = api.raw("POST", "/api/v1/host/update", f.read(4096),
                                  headers={"Content-Type": "application/octet-stream"})
    assert status == 409 and b"maintenance mode" in data, data
    assert image(api)[0]["next"] == "a"
    api.call("POST", "/host/maintenance/enter", {})


@pytest.mark.parametrize("case", list(REFUSALS))
def test_refused(host, bundles, case):
    api = host.api
    before = image(api)[0]
    env = loader_env(host.disk, host.tmp)
    manifest = bank_file(host, "b", "manifest.txt")
    with open(bundles[case], "rb") as f:
        status, _, data = api.raw("POST", "/api/v1/host/update", f.read(),
                                  headers={"Content-Type": "application/octet-stream"})
    assert status == 400, data
    message = json.loads(data)["error"]["message"]
    assert REFUSALS[case] in message, message
    # nothing written: the banks and the loader's next boot as they were
    assert image(api)[0] == before
    assert before["next"] == "a" and before["banks"][1]["version"] == "0.0.5", before
    assert loader_env(host.disk, host.tmp) == env
    assert bank_file(host, "b", "manifest.txt") == manifest


def test_update_and_reboot(host, bundles, tmp_path):
    api = host.api
    creds = api.write_cli_credentials(tmp_path / "creds")
    env = {k: v for k, v in os.environ.items() if not k.startswith("KEEL_")}
    t0 = time.monotonic()
    r = subprocess.run([KEEL, "--credentials", creds, "host", "update", "apply", bundles["good"]],
                       capture_output=True, text=True, env=env, timeout=600)
    t_applied = time.monotonic()
    assert r.returncode == 0, r.stderr
    assert "Keel 0.2.0 (" in r.stdout and ", certified) is in bank b: the next boot runs it, " \
        "on trial" in r.stdout, r.stdout
    # the new image has not run: no rollback to it
    assert api.error("POST", "/host/image/rollback")[0] == 409
    r = subprocess.run([KEEL, "--credentials", creds, "host", "reboot"], capture_output=True,
                       text=True, env=env, timeout=600)
    assert r.returncode == 0 and "the host reboots" in r.stdout, r.stdout + r.stderr
    host.wait_off(timeout=300)
    t_off = time.monotonic()

    # while it is off: bank B holds the bundle's image, with bank A's
    # command line, and the loader boots it next, on trial
    checks = time.monotonic()
    subprocess.run(["tar", "-xf", bundles["good"], "-C", str(tmp_path)], check=True)
    for name in ("vmlinuz", "initramfs.img", "manifest.txt"):
        assert bank_file(host, "b", name) == (tmp_path / name).read_bytes(), name
    assert b"keel-version: 0.2.0\n" in bank_file(host, "b", "manifest.txt")
    assert bank_file(host, "b", "boot.cfg") == bank_file(host, "a", "boot.cfg")
    assert loader_env(host.disk, host.tmp) == \
        {"keel_bank": "b", "keel_tries": "3", "keel_reason": "updated"}
    checks = time.monotonic() - checks

    host.start().wait_ready()
    host.wait_for(r"Keel: booting bank b, a new image: 2 more tries after this one")
    host.wait_for(r"keel-init: boot: bank b, Keel 0\.2\.0 \(\w+\), updated: on trial, 2 more "
                  r"boots if this one fails")
    fp = host.wait_for(FINGERPRINT_RX).group(1)
    host.wait_for(r"keel-hostd: API ready")
    t_ready = time.monotonic()
    host.wait_for(r"keel-init: boot: keel-hostd serves: this image is good")
    api = Api(host.api_port, fp).login("root", api.password)
    r, banks = image(api)
    assert r["booted"] == "b" and r["next"] == "b" and r["reason"] == "updated", r
    assert r["tries_left"] is None, r
    assert banks["b"]["state"] == "good" and banks["b"]["version"] == "0.2.0", r
    assert banks["a"]["state"] == "previous" and banks["a"]["version"] == "0.1.0", r
    audit = api.call("GET", "/audit?lines=100")["entries"]
    assert any(e["action"] == "POST /api/v1/host/update" and e["result"] == "ok"
               for e in audit), audit
    size = os.path.getsize(bundles["good"])
    print(f"\nupdate: bundle {size / 2**20:.1f} MiB; upload, verification and install "
          f"{t_applied - t0:.1f} s, then off in {t_off - t_applied:.1f} s, booted to the "
          f"API in {t_ready - t_off - checks:.1f} s: {t_ready - t0 - checks:.1f} s from the "
          f"upload's start to the new version's API (the disk checks while off, "
          f"{checks:.1f} s, left out)")


def test_power_cut_during_the_bank_write(host, bundles):
    """QEMU killed while the host writes the other bank (bank A now: B
    booted): the loader's next boot stays the booted bank, which boots, and
    the update goes in again afterwards."""
    api = Api(host.api_port, host.wait_for(FINGERPRINT_RX).group(1)).login(
        "root", host.api.password)
    assert image(api)[0]["booted"] == "b"
    assert api.call("GET", "/host/maintenance")["maintenance"] == "on"  # it outlasts reboots
    with open(bundles["good"], "rb") as f:
        data = f.read()
    cut = threading.Event()

    def cut_power_while_writing():
        # bank A is remounted read-write for exactly the time of the write
        while not cut.is_set():
            try:
                mounts = host.hook("cat /proc/mounts", timeout=5)
            except OSError:
                return
            if re.search(rb"^\S+ /altbootbank vfat rw,", mounts, re.M):
                cut.set()  # first: the upload's end is seen before kill() returns
                host.kill()

    for attempt in range(3):  # the write takes a second or two: catch it
        watcher = threading.Thread(target=cut_power_while_writing)
        watcher.start()
        try:
            status, _, _ = api.raw("POST", "/api/v1/host/update", data,
                                   headers={"Content-Type": "application/octet-stream"})
        except OSError as e:
            status = e
        if not cut.is_set():
            cut.set()  # the write went by unseen: stop watching, try again
            watcher.join()
            cut.clear()
            assert status == 200
            continue
        watcher.join()
        break
    else:
        pytest.fail("the bank write was never caught")

    # the next boot is still bank B, known good; bank A holds no image to boot
    env = loader_env(host.disk, host.tmp)
    assert env["keel_bank"] == "b" and env["keel_tries"] == "", env
    host.start().wait_ready()
    host.wait_for(r"keel-init: boot: bank b, Keel 0\.2\.0 \(\w+\)")
    fp = host.wait_for(FINGERPRINT_RX).group(1)
    host.wait_for(r"keel-hostd: API ready")
    api = Api(host.api_port, fp).login("root", host.api.password)
    r, banks = image(api)
    assert r["booted"] == "b" and r["next"] == "b", r
    assert banks["a"]["state"] in ("empty", "previous"), r
    # and the update goes in again, whole
    status, _, out = api.raw("POST", "/api/v1/host/update", data,
                             headers={"Content-Type": "application/octet-stream"})
    assert status == 200, out
    r, banks = image(api)
    assert r["next"] == "a" and r["tries_left"] == 3 and banks["a"]["version"] == "0.2.0", r
