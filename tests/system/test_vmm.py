"""keel-vmm inside the appliance: real Debian guests boot on KVM, power off,
reboot, are paused, resumed and stopped over the control socket, and bad
configurations are refused (its devices: test_vmm_devices.py). One
appliance serves the whole module."""
import json
import lzma
import os
import re
import struct
import time

import pytest

import bootdisks
import guest
from harness import OUT
from vmmhost import GUEST_CMDLINE, GUEST_TIMEOUT, config, start, vmm_appliance


@pytest.fixture(scope="module")
def host(images, tmp_path_factory):
    yield from vmm_appliance(tmp_path_factory, "vmm")


@pytest.mark.parametrize("vcpus", [1, 2])
def test_guest_boots_and_powers_off(host, vcpus):
    # (not quiet: the kernel's own line for the power-off is asserted)
    vm = start(host, f"boot{vcpus}", vcpus=vcpus, cmdline="console=ttyS0 keel.test=poweroff")
    assert vm.wait_exit() == 0
    console = vm.console()
    online = "0" if vcpus == 1 else f"0-{vcpus - 1}"
    assert f"{guest.MARKER} cpus={vcpus} online={online}" in console
    assert "ACPI: PM: Preparing to enter system sleep state S5" in console
    log = vm.vmm_log()
    m = re.search(r"boot timer: guest signalled after ([0-9.]+) ms", log)
    assert m, log
    print(f"keel-vmm start to guest /init marker, {vcpus} vCPU: {m.group(1)} ms")
    assert "guest powered off" in log


def test_pause_resume_stats_stop(host):
    vm = start(host, "ctl", vcpus=2, mode="idle")
    vm.wait_console(r"KEEL-GUEST-TICK")
    state = vm.ctl("state")
    assert state["ok"] and state["state"] == "running" and state["vcpus"] == 2
    assert state["boot_ms"] > 0

    # what keel-vmm costs beyond the guest's own memory, idle after boot
    rss_total, _, guest_rss = vm.host.memory(vm.pid, 256 << 20)
    print(f"keel-vmm RSS {rss_total} KiB, of which guest memory {guest_rss} KiB: "
          f"{rss_total - guest_rss} KiB beyond guest memory")
    assert guest_rss > 0
    # guest RAM starts on a 2 MiB boundary and huge pages back it (docs/vmm.md)
    smaps = vm.host.hook(f"cat /proc/{vm.pid}/smaps").decode()
    ram = [m for m in re.finditer(r"(?m)^([0-9a-f]+)-([0-9a-f]+) .*\n(?:(?![0-9a-f]+-).*\n)*", smaps)
           if int(m.group(2), 16) - int(m.group(1), 16) == 256 << 20]
    assert len(ram) == 1, smaps
    assert int(ram[0].group(1), 16) % (2 << 20) == 0, ram[0].group(0)
    assert int(re.search(r"AnonHugePages:\s+(\d+)", ram[0].group(0)).group(1)) > 0, ram[0].group(0)

    assert vm.ctl("pause") == {"ok": True, "state": "paused"}
    assert vm.ctl("state")["state"] == "paused"
    before = vm.console().count("KEEL-GUEST-TICK")
    time.sleep(6)  # the guest ticks every second when it runs
    assert vm.console().count("KEEL-GUEST-TICK") == before
    assert vm.ctl("pause")["ok"] is False  # already paused

    assert vm.ctl("resume") == {"ok": True, "state": "running"}
    vm.wait_console(r"KEEL-GUEST-TICK", count=before + 2, timeout=60)

    stats = vm.ctl("stats")
    assert stats["ok"] and len(stats["vcpus"]) == 2
    assert stats["vcpus"][0]["exits"]["io"] > 0  # the console is port I/O
    assert all(c["run_ns"] > 0 and c["cpu_ns"] > 0 for c in stats["vcpus"])
    assert vm.ctl("reboot-now")["ok"] is False

    assert vm.ctl("stop")["ok"]
    assert vm.wait_exit(timeout=30) == 0
    assert "stopped" in vm.vmm_log()


def test_shutdown_request_presses_power_button(host):
    vm = start(host, "shut", mode="wait")
    vm.wait_console(r"KEEL-GUEST-WAITING /dev/input/event\d")
    time.sleep(2)
    assert "KEEL-GUEST-POWER-BUTTON" not in vm.console()
    assert vm.exit_code() is None
    assert vm.ctl("shutdown")["ok"]
    assert vm.wait_exit(timeout=60) == 0
    assert "KEEL-GUEST-POWER-BUTTON" in vm.console()


def test_reboot_exits_or_restarts(host):
    vm = start(host, "rbx", mode="reboot", on_reboot="exit")
    assert vm.wait_exit() == 3
    assert "guest rebooted" in vm.vmm_log()

    vm = start(host, "rbr", mode="reboot")  # on_reboot defaults to restart
    vm.wait_console(guest.MARKER, count=2, timeout=2 * GUEST_TIMEOUT)
    assert vm.exit_code() is None
    assert "guest rebooted: restarting it" in vm.vmm_log()
    assert vm.ctl("stop")["ok"]
    assert vm.wait_exit(timeout=30) == 0


def test_sigterm_stops_cleanly(host):
    vm = start(host, "term", mode="idle")
    vm.wait_console(guest.MARKER)
    assert host.hook(f"kill {vm.pid} 15").startswith(b"OK")
    assert vm.wait_exit(timeout=30) == 0
    log = vm.vmm_log()
    assert "signal 15: stopping the VM" in log and "stopped" in log


def test_socket_console_carries_input_and_output(host):
    vm = start(host, "sockcon", mode="echo",
               console={"type": "socket", "path": "/tmp/sockcon.console.sock"})
    deadline = time.time() + GUEST_TIMEOUT
    while vm.ctl("state")["boot_ms"] is None:  # the guest's /init is running
        assert time.time() < deadline and vm.exit_code() is None, vm.vmm_log()
        time.sleep(1)
    time.sleep(2)
    # the first line back is the guest's tty echoing our input, or its answer
    reply = host.hook("unix /tmp/sockcon.console.sock", b"hello-keel\n").decode()
    assert "hello-keel" in reply, reply
    assert vm.ctl("stop")["ok"]
    assert vm.wait_exit(timeout=30) == 0


def test_seccomp_kills_a_forbidden_system_call(host):
    cfg = config("sec", mode="idle")
    assert host.hook("write /tmp/sec.json", json.dumps(cfg).encode()) == b"OK\n"
    out = host.hook("run /sbin/keel-vmm --seccomp-test /tmp/sec.json").decode()
    assert "seccomp test: calling execve" in out, out
    assert "still alive" not in out
    assert out.rstrip().endswith("EXIT 159"), out  # 128 + SIGSYS


OVMF_CODE = "/usr/share/OVMF/OVMF_CODE_4M.fd"  # Debian's ovmf, as it ships it
OVMF_VARS = "/usr/share/OVMF/OVMF_VARS_4M.fd"


def test_uefi_boots_a_gpt_disk_and_keeps_its_variables(host, tmp_path):
    """Debian's OVMF in keel-vmm boots a GPT disk whose ESP holds
    systemd-boot, the test guest's kernel and initrd: from the reset vector
    through SEC, PEI and DXE (the PM timer where OVMF moves the ACPI block,
    the variable store's flash, COM1 under the ISA bridge as its console,
    the virtio disk) to the boot loader and the guest's /init. The guest
    then writes a UEFI variable of its own through efivarfs (the runtime
    services, the flash again) and powers off: the variable is in the VM's
    own copy of the variable store afterwards, beside the boot option
    OVMF's boot manager made for the disk, so both survive the power
    cycle. On this platform it needs the outer QEMU's shim
    (tools/qemu_tcg_shim.c): without it, OVMF's first interrupt handlers
    abort the appliance."""
    kernel, initrd = guest_kernel_initrd(tmp_path)
    disk = bootdisks.uefi_disk(tmp_path, kernel, initrd, GUEST_CMDLINE + " keel.test=efivar")
    with open(OVMF_VARS, "rb") as f:
        template = f.read()
    for src, dst in ((OVMF_CODE, "/tmp/ovmf.fd"), (disk, "/tmp/gpt.img")):
        with open(src, "rb") as f:
            assert host.hook(f"write {dst}", f.read()) == b"OK\n"
    assert host.hook("write /tmp/gpt.nvram", template) == b"OK\n"
    vm = start(host, "uefi", kernel=None, initrd=None, cmdline=None,
               firmware="/tmp/ovmf.fd", nvram="/tmp/gpt.nvram",
               disks=[{"path": "/tmp/gpt.img", "readonly": False}])
    assert vm.wait_exit(timeout=2 * GUEST_TIMEOUT) == 0, vm.failure()
    console = vm.console()
    assert 'BdsDxe: starting Boot0001 "UEFI Misc Device" from PciRoot(0x0)/Pci(0x1,0x0)' in console, \
        console[-3000:]
    assert f"{guest.MARKER} cpus=1" in console and "KEEL-GUEST-EFIVAR written" in console, \
        console[-3000:]
    m = re.search(r"boot timer: guest signalled after ([0-9.]+) ms", vm.vmm_log())
    assert m, vm.vmm_log()
    print(f"keel-vmm start to the guest's /init through OVMF and systemd-boot: {m.group(1)} ms")
    nvram = host.hook("cat /tmp/gpt.nvram")
    assert len(nvram) == len(template)
    for name in ("UEFI Misc Device", "KeelTest"):
        assert name.encode("utf-16-le") not in template and name.encode("utf-16-le") in nvram, name
    assert b"KEEL-EFIVAR-DATA" in nvram


def test_uefi_without_a_bootable_disk_ends_the_vm(host):
    """OVMF with a blank disk: its boot manager finds nothing to boot and
    goes on to its built-in shell, which keel-vmm takes for what it is,
    no bootable disk (exit status 4), rather than leave the VM at a shell
    prompt."""
    for src, dst in ((OVMF_CODE, "/tmp/ovmf.fd"), (OVMF_VARS, "/tmp/blank.nvram")):
        with open(src, "rb") as f:
            assert host.hook(f"write {dst}", f.read()) == b"OK\n"
    assert host.hook("write /tmp/blank.img", bytes(1 << 20)) == b"OK\n"
    vm = start(host, "uefi-blank", kernel=None, initrd=None, cmdline=None,
               firmware="/tmp/ovmf.fd", nvram="/tmp/blank.nvram",
               disks=[{"path": "/tmp/blank.img", "readonly": True}])
    assert vm.wait_exit(timeout=2 * GUEST_TIMEOUT) == 4, vm.failure()
    assert 'firmware: no bootable disk (it said "BdsDxe: loading ... "EFI Internal Shell"")' \
        in vm.vmm_log(), vm.vmm_log()
    assert re.search(r'BdsDxe: loading Boot\d+ "EFI Internal Shell"', vm.console())


def vmlinux_from_bzimage():
    """The ELF vmlinux inside the bzImage (Debian compresses it with xz)."""
    with open(os.path.join(OUT, "vmlinuz"), "rb") as f:
        data = f.read()
    start = data.find(b"\xfd7zXZ\x00")
    assert start > 0, "no xz stream in the kernel"
    elf = lzma.LZMADecompressor().decompress(data[start:])
    assert elf[:4] == b"\x7fELF"
    return elf


SEABIOS = "/usr/share/seabios/bios-256k.bin"  # Debian's seabios, as it ships it


def test_bios_boots_a_disk(host):
    """Debian's SeaBIOS in keel-vmm: from the reset vector through its
    POST (the firmware configuration device, the CMOS, PCI enumeration, the
    other vCPU) to the boot sector of the virtio disk the boot order puts
    first, whose BIOS calls reach the serial console."""
    with open(SEABIOS, "rb") as f:
        assert host.hook("write /tmp/bios.bin", f.read()) == b"OK\n"
    assert host.hook("write /tmp/other.img", guest.boot_sector(b"KEEL-OTHER-DISK\r\n")) == b"OK\n"
    assert host.hook("write /tmp/mbr.img", guest.boot_sector(b"KEEL-BIOS-BOOT\r\n")) == b"OK\n"
    # two bootable disks: the boot order (fw_cfg's bootorder) puts the
    # second first
    vm = start(host, "bios", vcpus=2, kernel=None, initrd=None, cmdline=None,
               firmware="/tmp/bios.bin", boot_order=[1, 0],
               disks=[{"path": "/tmp/other.img", "readonly": True},
                      {"path": "/tmp/mbr.img", "readonly": True}])
    vm.wait_console(r"KEEL-BIOS-BOOT\r\n")
    assert "KEEL-OTHER-DISK" not in vm.console()
    log = vm.vmm_log()
    assert "firmware: Found 2 cpu(s) max supported 2 cpu(s)" in log, log
    assert "firmware: found virtio-blk at 00:01.0" in log, log
    m = re.search(r"boot timer: guest signalled after ([0-9.]+) ms", log)
    assert m, log
    print(f"keel-vmm start to the boot sector through SeaBIOS: {m.group(1)} ms")
    vm.ctl("stop")
    assert vm.wait_exit() == 0


def test_bios_guest_reset_comes_back_through_the_firmware(host):
    """A guest that resets the PC (here through the keyboard controller, as
    a boot loader's reboot does) starts again at the reset vector: SeaBIOS's
    POST runs again and boots the disk again."""
    with open(SEABIOS, "rb") as f:
        assert host.hook("write /tmp/bios.bin", f.read()) == b"OK\n"
    assert host.hook("write /tmp/reset.img",
                     guest.boot_sector(b"KEEL-BIOS-RESET\r\n", reset=True)) == b"OK\n"
    vm = start(host, "bios-reset", kernel=None, initrd=None, cmdline=None,
               firmware="/tmp/bios.bin", disks=[{"path": "/tmp/reset.img", "readonly": True}])
    vm.wait_console(r"(?s)SeaBIOS \(version.*KEEL-BIOS-RESET.*SeaBIOS \(version.*KEEL-BIOS-RESET")
    assert "guest rebooted: restarting it" in vm.vmm_log(), vm.vmm_log()
    vm.ctl("stop")
    assert vm.wait_exit() == 0


def boot_linux_through_seabios(host, name, image, readonly, loader_sign, vcpus=1):
    """Boots a disk made by bootdisks.py (the test guest's kernel and
    initrd behind a boot loader) through SeaBIOS to the guest's marker; the
    VM, still running."""
    with open(SEABIOS, "rb") as f:
        assert host.hook("write /tmp/bios.bin", f.read()) == b"OK\n"
    with open(image, "rb") as f:
        assert host.hook(f"write /tmp/{name}.img", f.read()) == b"OK\n"
    vm = start(host, name, vcpus=vcpus, kernel=None, initrd=None, cmdline=None,
               firmware="/tmp/bios.bin", disks=[{"path": f"/tmp/{name}.img", "readonly": readonly}])
    # (the slowest: GRUB's `linux`, 40-55 s here: on the nested platform its
    # kernel's decompressor reads memory the guest never wrote, which maps
    # the host's huge zero page, and its writes then fault it in 4 KiB at a
    # time, some 25000 nested page faults; `linux16` and ISOLINUX take 20 s)
    console = vm.wait_console(f"{guest.MARKER} cpus={vcpus}", timeout=2 * GUEST_TIMEOUT)
    assert loader_sign in console, console[-3000:]
    m = re.search(r"boot timer: guest signalled after ([0-9.]+) ms", vm.vmm_log())
    assert m, vm.vmm_log()
    print(f"keel-vmm start to the guest's /init through SeaBIOS and {name}: {m.group(1)} ms")
    return vm


def guest_kernel_initrd(tmp_path):
    return os.path.join(OUT, "vmlinuz"), guest.build_initrd(str(tmp_path / "initrd.img"))


def test_bios_boots_a_linux_disk(host, tmp_path):
    """An MBR disk with GRUB for the BIOS (boot.img, its core image after
    the MBR, the kernel and initrd on a FAT partition) boots the test
    guest."""
    kernel, initrd = guest_kernel_initrd(tmp_path)
    disk = bootdisks.bios_disk(tmp_path, kernel, initrd, GUEST_CMDLINE + " keel.test=idle", "grub")
    # two vCPUs: the guest finds both in the ACPI tables SeaBIOS placed
    # (fw_cfg's table-loader), not only in SeaBIOS's MP table
    vm = boot_linux_through_seabios(host, "grub", disk, False, "KEEL-GRUB booting", vcpus=2)
    assert vm.ctl("stop")["ok"]
    assert vm.wait_exit(timeout=30) == 0


def test_bios_boots_an_iso_image(host, tmp_path):
    """An ISO 9660 hybrid image, a read-only disk, boots the test guest
    with ISOLINUX (through isohybrid's MBR)."""
    kernel, initrd = guest_kernel_initrd(tmp_path)
    iso = bootdisks.iso_image(tmp_path, kernel, initrd, GUEST_CMDLINE + " keel.test=wait")
    vm = boot_linux_through_seabios(host, "isolinux", iso, True, "ISOLINUX 6.04")
    # the ACPI power button of the firmware's tables powers the guest off
    vm.wait_console(r"KEEL-GUEST-WAITING /dev/input/event\d")
    assert vm.ctl("shutdown")["ok"]
    assert vm.wait_exit(timeout=60) == 0
    assert "KEEL-GUEST-POWER-BUTTON" in vm.console()


def test_elf_vmlinux_boots(host):
    assert host.hook("write /tmp/vmlinux", vmlinux_from_bzimage()) == b"OK\n"
    vm = start(host, "elf", kernel="/tmp/vmlinux")
    assert vm.wait_exit() == 0
    assert f"{guest.MARKER} cpus=1" in vm.console()


def test_triple_fault_dumps_registers(host):
    # an ELF "kernel" whose entry executes ud2 with no IDT: #UD, then a
    # double fault, then a triple fault
    code = b"\x0f\x0b"
    entry = 0x200000
    ehdr = struct.pack("<4sBBBBB7xHHIQQQIHHHHHH", b"\x7fELF", 2, 1, 1, 0, 0, 2, 62, 1,
                       entry, 64, 0, 0, 64, 56, 1, 0, 0, 0)
    phdr = struct.pack("<IIQQQQQQ", 1, 5, 120, entry, entry, len(code), len(code), 0x1000)
    assert host.hook("write /tmp/crash.elf", ehdr + phdr + code) == b"OK\n"
    vm = start(host, "crash", kernel="/tmp/crash.elf", initrd=None)
    assert vm.wait_exit(timeout=60) == 1
    log = vm.vmm_log()
    assert "triple fault" in log
    assert re.search(r"vcpu0: rip [0-9a-f]{16}", log), log
    assert "guest crashed" in log


BAD_CONFIGS = [
    ({"kernel": "/tmp/nonexistent"}, "kernel: /tmp/nonexistent: No such file"),
    ({"kernel": "/tmp"}, "kernel: /tmp: Is a directory"),
    ({"kernel": "/tmp/initrd"}, "kernel: /tmp/initrd: not a Linux kernel"),
    ({"initrd": "/tmp/nonexistent"}, "initrd: /tmp/nonexistent: No such file"),
    ({"vcpus": 0}, "vcpus: must be an integer from 1 to 64"),
    ({"vcpus": 1000}, "vcpus: must be an integer from 1 to 64"),
    ({"memory_mib": 0}, "memory_mib: must be an integer"),
    ({"memory_mib": 1 << 30}, "memory_mib: must be an integer"),
    ({"memory_mib": 512 * 1024}, "memory_mib: 524288 MiB requested, the host has"),
    ({"memory_mib": 32}, "memory_mib is too small"),
    ({"name": "no spaces"}, "name: must be"),
    ({"bogus": 1}, "bogus: unknown field"),
    ({"console": {"type": "file", "path": "/tmp/x", "colour": "red"}}, "console.colour: unknown field"),
    ({"console": {"type": "file", "path": "/nonexistent/dir/console"}},
     "console.path: /nonexistent/dir/console: No such file"),
    ({"on_reboot": "sometimes"}, "on_reboot: must be"),
    ({"cmdline": 42}, "cmdline: must be a string"),
    ({"disks": [{"path": "/tmp/nonexistent.img"}]},
     "disks[0].path: /tmp/nonexistent.img: No such file"),
    ({"disks": [{"path": "/tmp"}]}, "disks[0].path: /tmp: Is a directory"),
    ({"disks": [{"path": "/tmp/initrd", "size": 1}]}, "disks[0].size: unknown field"),
    ({"rng": "yes"}, "rng: must be true or false"),
    ({"nics": [{"tap": "ktapx", "mac": "01:00:5e:00:00:01"}]}, "nics[0].mac: must be a unicast"),
    ({"nics": [{"tap": "a/b"}]}, "nics[0].tap: must be an interface name"),
]


@pytest.mark.parametrize("change,message", BAD_CONFIGS,
                         ids=[next(iter(c)) + str(i) for i, (c, _) in enumerate(BAD_CONFIGS)])
def test_bad_config_is_refused(host, change, message):
    cfg = config("bad")
    cfg.update(change)
    assert host.hook("write /tmp/bad.json", json.dumps(cfg).encode()) == b"OK\n"
    out = host.hook("run /sbin/keel-vmm /tmp/bad.json").decode()
    assert message in out, out
    assert out.rstrip().endswith("EXIT 2"), out
    assert "starting" not in out  # no guest was started


def test_config_that_is_not_json_is_refused(host):
    assert host.hook("write /tmp/bad.json", b"{ name: oops") == b"OK\n"
    out = host.hook("run /sbin/keel-vmm /tmp/bad.json").decode()
    assert "not valid JSON" in out and out.rstrip().endswith("EXIT 2"), out
    out = host.hook("run /sbin/keel-vmm /tmp/missing.json").decode()
    assert "/tmp/missing.json: No such file" in out and out.rstrip().endswith("EXIT 2"), out
