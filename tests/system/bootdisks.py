"""Disks that boot through firmware, made by the test harness without root
from Debian's packages (nothing mounted, nothing downloaded): each holds a
boot loader, a Debian kernel and an initramfs (the test guest of guest.py)
and boots them with the given kernel command line.

- uefi_disk: GPT, one EFI system partition (FAT, made with mkfs.fat and
  filled with mtools) with systemd-boot as \\EFI\\BOOT\\BOOTX64.EFI and a
  loader entry for the kernel and initramfs.
- bios_disk: MBR, one active FAT partition with the kernel and initramfs,
  and a boot loader for the BIOS: "grub" (GRUB for i386-pc: its boot.img
  in the MBR, its core image in the gap after it, with an embedded
  configuration that loads the kernel; no /boot/grub) or "syslinux"
  (SYSLINUX installed into the FAT file system with `syslinux --install`,
  its MBR code in the MBR).
- iso_image: an ISO 9660 hybrid image (xorriso): ISOLINUX for BIOS (El
  Torito, and isohybrid's MBR when it is a disk), and an El Torito EFI
  image (FAT, systemd-boot, the kernel and initramfs) that is also a GPT
  partition, for UEFI.

Each function makes its image in the folder it is given (a sparse file,
about 0.3 s) and returns its path."""
import os
import shutil
import subprocess
import tempfile

SYSTEMD_BOOT = "/usr/lib/systemd/boot/efi/systemd-bootx64.efi"
GRUB_PC = "/usr/lib/grub/i386-pc"
SYSLINUX_MBR = "/usr/lib/syslinux/mbr/mbr.bin"
SYSLINUX_BIOS = "/usr/lib/syslinux/modules/bios"
ISOLINUX = "/usr/lib/ISOLINUX/isolinux.bin"
ISOHYBRID_MBR = "/usr/lib/ISOLINUX/isohdpfx.bin"
ESP_TYPE = "C12A7328-F81F-11D2-BA4B-00A0C93EC93B"
MIB = 1 << 20
PART_START = MIB  # the first partition, 1 MiB in (sector 2048)


def run(*cmd, **kw):
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL, **kw)


def fat_size_mib(*files):
    """A FAT size with room for files and the file system's own tables."""
    return 8 + sum(os.path.getsize(f) for f in files) * 5 // 4 // MIB


def make_fat(path, size_mib, label, hidden=0):
    """An empty FAT file system image; hidden: the sectors before it on its
    disk (its partition's start, which boot sectors add to theirs)."""
    run("mkfs.fat", "-C", "-n", label, "-h", str(hidden), path, str(size_mib * 1024))


def fat_put(image, files):
    """Copies files {"/dir/name": local path or bytes} into a FAT image
    with mtools, making the folders on the way."""
    made = set()
    for dest, src in sorted(files.items()):
        parts = dest.strip("/").split("/")
        for i in range(1, len(parts)):
            d = "/".join(parts[:i])
            if d not in made:
                run("mmd", "-D", "s", "-i", image, "::/" + d)
                made.add(d)
        if isinstance(src, bytes):
            with tempfile.NamedTemporaryFile() as t:
                t.write(src)
                t.flush()
                run("mcopy", "-o", "-i", image, t.name, "::" + dest)
        else:
            run("mcopy", "-o", "-i", image, src, "::" + dest)


def partitioned(path, label, part_image, ptype, bootable=False):
    """A sparse disk of one partition (at 1 MiB, filling it) whose contents
    are part_image, with a partition table made by sfdisk (a 1 MiB end gap
    for GPT's backup header)."""
    size = os.path.getsize(part_image)
    with open(path, "wb") as f:
        f.truncate(PART_START + size + MIB)
    table = (f"label: {label}\n"
             f"start={PART_START // 512}, size={size // 512}, type={ptype}"
             + (", bootable" if bootable else "") + "\n")
    run("sfdisk", "--quiet", "--no-reread", "--no-tell-kernel", path, input=table.encode())
    with open(part_image, "rb") as src, open(path, "r+b") as dst:
        dst.seek(PART_START)
        shutil.copyfileobj(src, dst, MIB)


def set_mbr_code(path, code):
    """Writes boot code into the MBR's first 440 bytes (the partition table
    and the signature after them are kept)."""
    with open(path, "r+b") as f:
        f.write(code[:440])


def systemd_boot_files(kernel, initrd, cmdline):
    """The files of an ESP that boots kernel and initrd with systemd-boot."""
    return {
        "/EFI/BOOT/BOOTX64.EFI": SYSTEMD_BOOT,
        "/loader/loader.conf": b"default keel.conf\ntimeout 0\nconsole-mode keep\n",
        "/loader/entries/keel.conf": (f"title Keel test guest\nlinux /vmlinuz\n"
                                      f"initrd /initrd.img\noptions {cmdline}\n").encode(),
        "/vmlinuz": kernel,
        "/initrd.img": initrd,
    }


def build_uefi(path, kernel, initrd, cmdline, tmp):
    esp = os.path.join(tmp, "esp.img")
    make_fat(esp, fat_size_mib(SYSTEMD_BOOT, kernel, initrd), "ESP", PART_START // 512)
    fat_put(esp, systemd_boot_files(kernel, initrd, cmdline))
    partitioned(path, "gpt", esp, ESP_TYPE)


GRUB_MODULES = ["biosdisk", "part_msdos", "fat", "linux", "serial", "terminal", "echo"]


def grub_config(cmdline, root):
    """GRUB's embedded configuration (run by its rescue parser: one command
    a line): the serial console, then straight into the kernel."""
    return (f"serial --unit=0 --speed=115200\n"
            f"terminal_input serial\nterminal_output serial\n"
            f"echo KEEL-GRUB loading the kernel\n"
            f"linux {root}/vmlinuz {cmdline}\n"
            f"echo KEEL-GRUB loading the initrd\n"
            f"initrd {root}/initrd.img\n"
            f"echo KEEL-GRUB booting\n"
            f"boot\n")


def build_bios(path, kernel, initrd, cmdline, tmp, loader):
    part = os.path.join(tmp, "part.img")
    make_fat(part, fat_size_mib(kernel, initrd), "KEELBOOT", PART_START // 512)
    files = {"/vmlinuz": kernel, "/initrd.img": initrd}
    if loader == "syslinux":
        files["/syslinux/syslinux.cfg"] = (
            f"SERIAL 0 115200\nDEFAULT keel\nPROMPT 0\nTIMEOUT 0\n"
            f"LABEL keel\n  KERNEL /vmlinuz\n  INITRD /initrd.img\n  APPEND {cmdline}\n").encode()
    fat_put(part, files)
    if loader == "syslinux":
        run("syslinux", "--install", "--directory", "/syslinux", part)
    partitioned(path, "dos", part, "c", bootable=True)
    if loader == "syslinux":
        with open(SYSLINUX_MBR, "rb") as f:
            set_mbr_code(path, f.read())
        return
    # GRUB: boot.img loads sector 1, the start of the core image
    # (diskboot.img, whose block list grub-mkimage fills for the rest)
    cfg = os.path.join(tmp, "grub.cfg")
    with open(cfg, "w") as f:
        f.write(grub_config(cmdline, "(hd0,msdos1)"))
    core = os.path.join(tmp, "core.img")
    run("grub-mkimage", "-O", "i386-pc", "-d", GRUB_PC, "-o", core, "-c", cfg,
        "-p", "(hd0,msdos1)/boot/grub", *GRUB_MODULES)
    with open(core, "rb") as f:
        core_data = f.read()
    assert 512 + len(core_data) <= PART_START, "GRUB's core image does not fit the gap"
    with open(os.path.join(GRUB_PC, "boot.img"), "rb") as f:
        set_mbr_code(path, f.read())
    with open(path, "r+b") as f:
        f.seek(512)
        f.write(core_data)


def build_iso(path, kernel, initrd, cmdline, tmp):
    tree = os.path.join(tmp, "iso")
    os.makedirs(os.path.join(tree, "isolinux"))
    shutil.copy(ISOLINUX, os.path.join(tree, "isolinux"))
    shutil.copy(os.path.join(SYSLINUX_BIOS, "ldlinux.c32"), os.path.join(tree, "isolinux"))
    with open(os.path.join(tree, "isolinux", "isolinux.cfg"), "w") as f:
        f.write(f"SERIAL 0 115200\nDEFAULT keel\nPROMPT 0\nTIMEOUT 0\n"
                f"LABEL keel\n  KERNEL /vmlinuz\n  INITRD /initrd.img\n  APPEND {cmdline}\n")
    shutil.copy(kernel, os.path.join(tree, "vmlinuz"))
    shutil.copy(initrd, os.path.join(tree, "initrd.img"))
    # the El Torito EFI image: an ESP of its own (systemd-boot finds its
    # entries on the volume it was loaded from)
    efi = os.path.join(tree, "efiboot.img")
    make_fat(efi, fat_size_mib(SYSTEMD_BOOT, kernel, initrd), "KEELEFI")
    fat_put(efi, systemd_boot_files(kernel, initrd, cmdline))
    run("xorriso", "-as", "mkisofs", "-quiet", "-o", path, "-V", "KEEL_GUEST", "-J", "-R",
        "-isohybrid-mbr", ISOHYBRID_MBR,
        "-c", "isolinux/boot.cat", "-b", "isolinux/isolinux.bin",
        "-no-emul-boot", "-boot-load-size", "4", "-boot-info-table",
        "-eltorito-alt-boot", "-e", "efiboot.img", "-no-emul-boot", "-isohybrid-gpt-basdat",
        tree, stderr=subprocess.DEVNULL)


def build(kind, folder, builder):
    """The image of kind, made by builder(path, tmp) as folder/KIND.img (a
    second or less: not worth a cache, and the guest's initramfs differs at
    each build anyway, by its files' times)."""
    path = os.path.join(str(folder), f"{kind}.img")
    with tempfile.TemporaryDirectory() as tmp:
        builder(path, tmp)
    return path


def uefi_disk(folder, kernel, initrd, cmdline):
    return build("uefi", folder, lambda path, tmp: build_uefi(path, kernel, initrd, cmdline, tmp))


def bios_disk(folder, kernel, initrd, cmdline, loader="grub"):
    assert loader in ("grub", "syslinux")
    return build(f"bios-{loader}", folder,
                 lambda path, tmp: build_bios(path, kernel, initrd, cmdline, tmp, loader))


def iso_image(folder, kernel, initrd, cmdline):
    return build("iso", folder, lambda path, tmp: build_iso(path, kernel, initrd, cmdline, tmp))
