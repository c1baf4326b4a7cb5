"""A Keel host booted as a server boots: UEFI firmware (Debian's OVMF), GRUB
on the disk's ESP, the system image of the active boot bank
(image/mkdisk.sh, src/common/bootenv.h); its disk read and written while
it is off, with mtools and GRUB's own grub-editenv. For test_lifecycle and
test_update."""
import json
import os
import subprocess

from api import Api, FINGERPRINT_RX
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
             "boot.cfg": 'set keel_cmdline="console=ttyS0,115200 loglevel=4 panic=1 '
                         f'module.sig_enforce=1 {cmdline}"\n'}
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


def installed_host(tmp_path_factory, name):
    """A test appliance on a disk of its own, installed with the test image
    in bank A, to boot through OVMF and GRUB (not QEMU's -kernel); not
    started. Its folder is .tmp."""
    d = tmp_path_factory.mktemp(name)
    disk = str(d / "keel-disk.img")
    subprocess.run([MKDISK, disk, "8", os.path.join(OUT, "vmlinuz"),
                    os.path.join(OUT, "initramfs-test.img"), os.path.join(OUT, "manifest.txt"),
                    "keel.dcui=none"], check=True, stdout=subprocess.DEVNULL)
    a = Appliance(str(d), "test", disk, name)
    a.uefi_vars = str(d / "OVMF_VARS.fd")
    a.tmp = str(d)
    return a


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
