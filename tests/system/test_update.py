"""Signed offline updates (src/common/bundlefmt.h, src/hostd/update.h) on a
host booted as a server boots (bootbanks.py: UEFI, GRUB, the test image in
bank A, an older image in bank B). Bundles the host must refuse, each sent
to POST /host/update and answered 400 with its reason, with nothing written
(bank B and the loader's environment block as they were); then a bundle
of the test image as Keel 0.2.0, signed with the build tree's key (the one
the image trusts), goes in with `keel host update apply --reboot`: bank B
holds it, the loader's next boot is B on trial, and after the reboot 0.2.0
serves, declared good. The binaries are the same (keel-hostd still calls
itself 0.1.0): the version is the bundle's and its manifest's.

Extensions (src/common/extension.h) ride along: Debian's own modules that
the image leaves out (tap, macvlan and macvtap; ifb; dummy), signed into
extension bundles, go into bank A before the update; the update carries
them into bank B, and after its reboot keel-init has loaded them, under
module.sig_enforce=1, but for the one whose module signature was changed,
which the kernel refuses."""
import glob
import json
import os
import re
import struct
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


def kernel_modules():
    """The folder of Debian's modules of the image's kernel (make image
    unpacked its package there), and the kernel release."""
    (moddir,) = glob.glob(os.path.join(ROOT, ".cache", "kernel", "*", "root", "lib", "modules",
                                       "*"))
    return moddir, os.path.basename(moddir)


def make_extension(tmp, tag, name, modules, acceptance="partner", version="1.0.0", kernel=None):
    """An extension bundle of `modules` (paths), in that order, as TAG.bundle."""
    out = str(tmp / f"{tag}.bundle")
    subprocess.run([TOOL, "extension", "--key", os.path.join(KEYS, "private.pem"),
                    "--name", name, "--kernel", kernel or kernel_modules()[1],
                    "--version", version, "--build", "debian", "--acceptance", acceptance,
                    "-o", out] + modules, check=True, stdout=subprocess.DEVNULL)
    return out


def signature_cut(module, tmp, changed):
    """A copy of a signed module whose appended signature is changed in a
    byte (changed) or taken off: the marker, struct module_signature (its
    last 4 bytes: the signature's length, big-endian), the signature."""
    data = bytearray(open(module, "rb").read())
    marker = b"~Module signature appended~\n"
    assert data.endswith(marker)
    (siglen,) = struct.unpack(">I", data[-len(marker) - 4:-len(marker)])
    if changed:
        data[-len(marker) - 12 - siglen // 2] ^= 0x55
    else:
        data = data[:-len(marker) - 12 - siglen]
    out = tmp / ("changed" if changed else "unsigned") / os.path.basename(module)
    out.parent.mkdir(exist_ok=True)
    out.write_bytes(bytes(data))
    return str(out)


@pytest.fixture(scope="module")
def extensions(images, tmp_path_factory):
    tmp = tmp_path_factory.mktemp("extensions")
    moddir, _ = kernel_modules()
    net = os.path.join(moddir, "kernel", "drivers", "net")
    ifb = os.path.join(net, "ifb.ko")
    return {
        # macvtap needs macvlan and tap (modules.dep): they load first
        "net": make_extension(tmp, "net", "net", [os.path.join(net, m) for m in
                                           ("tap.ko", "macvlan.ko", "macvtap.ko")]),
        "lab": make_extension(tmp, "lab", "lab", [os.path.join(net, "dummy.ko")],
                              acceptance="community"),
        "changed": make_extension(tmp, "changed", "ifb", [signature_cut(ifb, tmp, True)]),
        "unsigned": make_extension(tmp, "unsigned", "ifb", [signature_cut(ifb, tmp, False)]),
        "other kernel": make_extension(tmp, "other", "ifb", [ifb], kernel="6.1.0-0-amd64"),
    }


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
    dst = os.path.join(host.tmp, f"read-{bank}-{name.replace('/', '-')}")
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


def upload(api, path, bundle):
    with open(bundle, "rb") as f:
        status, _, data = api.raw("POST", "/api/v1" + path, f.read(),
                                  headers={"Content-Type": "application/octet-stream"})
    return status, json.loads(data)


def installed(api):
    return {e["name"]: e for e in api.call("GET", "/host/extensions")["extensions"]}


def test_extensions_install(host, extensions, tmp_path):
    """Into bank A, the booted one; refusals first, each changing nothing."""
    api = host.api
    assert installed(api) == {}
    assert api.call("GET", "/host/acceptance") == {"level": "partner"}
    for case, why in (("unsigned", "ifb.ko is not signed: this host loads only modules "
                                   "signed by its kernel's builder (module.sig_enforce)"),
                      ("other kernel", "its modules are built for kernel 6.1.0-0-amd64; this "
                                       "host runs " + kernel_modules()[1]),
                      ("lab", "the bundle's acceptance level is community; this host takes "
                              "partner or above")):
        status, r = upload(api, "/host/extensions", extensions[case])
        assert status == 400 and why in r["error"]["message"], (case, r)
        assert installed(api) == {}
    # an update bundle is not an extension's, and the other way round
    status, r = upload(api, "/host/update", extensions["net"])
    assert status == 400 and "this is an extension bundle, not an image one: it goes in " \
        "with keel host extension install" in r["error"]["message"], r

    # the community one once the host takes community; then the level
    # cannot go back up until it is removed
    api.call("PUT", "/host/acceptance", {"level": "community"})
    status, r = upload(api, "/host/extensions", extensions["lab"])
    assert status == 200 and r["acceptance"] == "community", r
    status, _, data = api.raw("PUT", "/api/v1/host/acceptance", {"level": "certified"})
    assert status == 400 and b"an installed extension's acceptance level is community" in data
    api.call("DELETE", "/host/extensions/lab")
    assert api.error("DELETE", "/host/extensions/lab")[0] == 404
    api.call("PUT", "/host/acceptance", {"level": "partner"})

    creds = api.write_cli_credentials(tmp_path / "creds")
    env = {k: v for k, v in os.environ.items() if not k.startswith("KEEL_")}
    r = subprocess.run([KEEL, "--credentials", creds, "host", "extension", "install",
                        extensions["net"]], capture_output=True, text=True, env=env, timeout=300)
    assert r.returncode == 0, r.stderr
    assert "Extension net 1.0.0 (partner, kernel " in r.stdout and \
        "tap.ko, macvlan.ko, macvtap.ko load at the next boot" in r.stdout, r.stdout
    status, r = upload(api, "/host/extensions", extensions["changed"])
    assert status == 200, r  # its signature is the kernel's to judge
    ext = installed(api)
    assert ext["net"]["state"] == "installed" and ext["net"]["version"] == "1.0.0", ext
    assert ext["net"]["modules"] == ["tap.ko", "macvlan.ko", "macvtap.ko"], ext
    assert set(ext) == {"net", "ifb"}, ext
    # on the disk, in bank A: the modules as Debian built them
    moddir = kernel_modules()[0]
    assert bank_file(host, "a", "ext/net/macvtap.ko") == \
        open(os.path.join(moddir, "kernel", "drivers", "net", "macvtap.ko"), "rb").read()
    assert bank_file(host, "a", "ext/net/modules") == b"tap.ko\nmacvlan.ko\nmacvtap.ko\n"
    assert b"macvtap" not in host.hook("cat /proc/modules", timeout=30)


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
    assert "Extensions it keeps: ifb, net" in r.stdout, r.stdout
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
    # the extensions came along into bank B, and keel-init loaded them,
    # all but the module whose signature was changed
    ext = installed(api)
    assert ext["net"]["state"] == "loaded", ext
    assert ext["ifb"]["state"] == "failed" and \
        ext["ifb"]["error"] == "ifb.ko: Key was rejected by service", ext
    modules = host.hook("cat /proc/modules", timeout=30).decode()
    for m in ("tap", "macvlan", "macvtap"):
        assert re.search(rf"^{m} ", modules, re.M), modules
    assert not re.search(r"^ifb ", modules, re.M), modules
    host.wait_for(r"keel-init: extensions: ifb not loaded: ifb\.ko: Key was rejected by service")
    # removed: gone from the list now, unloaded at the next boot (the
    # power cut's, below)
    api.call("DELETE", "/host/extensions/ifb")
    api.call("DELETE", "/host/extensions/net")
    assert installed(api) == {}
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
    assert installed(api) == {}
    assert "macvtap" not in host.hook("cat /proc/modules", timeout=30).decode()
    # and the update goes in again, whole
    status, _, out = api.raw("POST", "/api/v1/host/update", data,
                             headers={"Content-Type": "application/octet-stream"})
    assert status == 200, out
    r, banks = image(api)
    assert r["next"] == "a" and r["tries_left"] == 3 and banks["a"]["version"] == "0.2.0", r
