"""The test harness's firmware-booted disks (bootdisks.py) boot the test
guest under plain QEMU on this machine (TCG, no appliance, no Keel): these
prove the disks, not keel-vmm. UEFI is Debian's OVMF, BIOS its SeaBIOS,
the firmware keel-vmm runs. Only the disks keel-vmm cannot boot here are
proven so: the UEFI ones (docs/vmm.md, "Firmware") and SYSLINUX's; the
GRUB disk and the ISO under BIOS boot in keel-vmm (test_vmm.py)."""
import glob
import os
import shutil
import subprocess
import time

import pytest

import bootdisks
import guest

OVMF_CODE = "/usr/share/OVMF/OVMF_CODE_4M.fd"
OVMF_VARS = "/usr/share/OVMF/OVMF_VARS_4M.fd"
SEABIOS = "/usr/share/seabios/bios-256k.bin"
CMDLINE = "console=ttyS0 keel.test=poweroff"
TIMEOUT = 120  # about 15 s each on an idle 2-core machine


@pytest.fixture(scope="module")
def guest_files(tmp_path_factory):
    """The test guest: the Debian kernel (the appliance's) and its busybox
    initramfs."""
    work = tmp_path_factory.mktemp("bootdisks")
    kernel = glob.glob(os.path.join(guest.kernel_root(), "boot", "vmlinuz-*"))[0]
    return work, kernel, guest.build_initrd(str(work / "initrd.img"))


def qemu_boot(disk, firmware, tmp_path, readonly=False):
    """Boots disk (a virtio disk) under QEMU q35 with firmware ("uefi" or
    "bios") until the guest powers off; returns the console and seconds."""
    cmd = ["qemu-system-x86_64", "-accel", "tcg", "-machine", "q35", "-m", "512",
           "-nographic", "-no-reboot", "-nic", "none"]
    if firmware == "uefi":
        nvram = str(tmp_path / "OVMF_VARS.fd")
        shutil.copy(OVMF_VARS, nvram)
        cmd += ["-drive", f"if=pflash,format=raw,readonly=on,file={OVMF_CODE}",
                "-drive", f"if=pflash,format=raw,file={nvram}"]
    else:
        cmd += ["-bios", SEABIOS]
    cmd += ["-drive", f"file={disk},if=virtio,format=raw" + (",readonly=on" if readonly else "")]
    start = time.monotonic()
    try:
        out = subprocess.run(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                             stderr=subprocess.STDOUT, timeout=TIMEOUT).stdout
    except subprocess.TimeoutExpired as e:
        out = e.stdout or b""
    return out.decode(errors="replace"), time.monotonic() - start


def assert_booted(console, seconds, what, loader_sign):
    print(f"{what}: firmware to guest power-off under QEMU TCG in {seconds:.1f} s")
    assert loader_sign in console, console[-3000:]
    assert f"{guest.MARKER} cpus=1" in console, console[-3000:]
    assert "reboot: Power down" in console, console[-3000:]


def test_uefi_gpt_disk_boots_systemd_boot(guest_files, tmp_path):
    work, kernel, initrd = guest_files
    disk = bootdisks.uefi_disk(tmp_path, kernel, initrd, CMDLINE)
    out = subprocess.check_output(["sfdisk", "--dump", disk], text=True)
    assert "label: gpt" in out and bootdisks.ESP_TYPE in out, out
    console, seconds = qemu_boot(disk, "uefi", tmp_path)
    # systemd-boot passes the initrd it loaded on the command line
    assert_booted(console, seconds, "UEFI GPT disk, systemd-boot", "initrd=\\initrd.img")


def test_syslinux_disk_boots(guest_files, tmp_path):
    work, kernel, initrd = guest_files
    disk = bootdisks.bios_disk(tmp_path, kernel, initrd, CMDLINE, "syslinux")
    console, seconds = qemu_boot(disk, "bios", tmp_path)
    assert_booted(console, seconds, "BIOS disk, syslinux", "SYSLINUX 6.04")


def test_iso_hybrid_boots_under_uefi_as_a_readonly_disk(guest_files, tmp_path):
    work, kernel, initrd = guest_files
    iso = bootdisks.iso_image(tmp_path, kernel, initrd, CMDLINE)
    with open(iso, "rb") as f:
        f.seek(16 * 2048)  # the primary volume descriptor
        assert f.read(6) == b"\x01CD001"
    for attempt in (1, 2):
        console, seconds = qemu_boot(iso, "uefi", tmp_path, readonly=True)
        # On a loaded machine (make check, beside three appliances), QEMU
        # TCG's OVMF now and then resets within seconds of starting the
        # ISO's EFI image, before its loader says a word (2 in about 12
        # loaded runs, none idle): once more, then the verdict.
        if "initrd=\\initrd.img" in console or "BdsDxe: starting" not in console:
            break
    assert_booted(console, seconds, "ISO 9660 hybrid under UEFI", "initrd=\\initrd.img")
