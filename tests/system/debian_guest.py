"""The systemd test guest: a Debian 12 userland with systemd on an ext4 root
disk, built here from Debian's packages (debootstrap) and cached under
.cache/debian-guest/, rebuilt only when the recipe below changes.

It boots with the appliance's Debian kernel and the busybox guest initrd in
its `root` mode (guest.py), which loads the virtio, ext4, button and evdev
modules and hands over to systemd on /dev/vda: the root disk carries no
kernel modules. Everything else is stock systemd:

- systemd-networkd configures the NIC from `keel.ip=ADDR/LEN` on the kernel
  command line (keel-net.service writes the .network file before networkd
  starts, as systemd-network-generator does for `ip=`);
- systemd-logind (with dbus) powers the guest off on the ACPI power button;
- keel-report.service, once multi-user.target is reached, prints on the
  console (through /dev/kmsg) `KEEL-SYSTEMD-UP boot=N` (N counts the boots of this disk,
  kept on it), `KEEL-SYSTEMD-DATA <token>` (`keel.token=` as the first boot
  wrote it to the disk and synced it) and `KEEL-SYSTEMD-NET <addresses>`; with
  `keel.reboot=1` on the first boot, it then runs `systemctl reboot`.
"""
import hashlib
import os
import shutil
import subprocess
import sys
import tempfile

from harness import ROOT

MARKER = "KEEL-SYSTEMD-UP"
# how the tests boot it: loglevel=5, not quiet, so that the console keeps the
# kernel's warnings (the KEEL- lines through /dev/kmsg among them) and
# systemd's lines for its targets, and not the rest (vmmhost.py says why)
CMDLINE = "console=ttyS0 loglevel=5 keel.test=root"
SUITE = "bookworm"
PACKAGES = ["systemd-sysv", "udev", "dbus", "iproute2"]
SIZE_MIB = 512

FILES = {
    "etc/hostname": "keel-debian\n",
    "etc/fstab": "/dev/vda / ext4 rw,errors=remount-ro 0 1\n",
    "etc/systemd/system/keel-net.service": """[Unit]
Description=Keel test guest: the NIC's address from keel.ip= on the command line
DefaultDependencies=no
Before=systemd-networkd.service
[Service]
Type=oneshot
ExecStart=/usr/local/sbin/keel-net
[Install]
WantedBy=systemd-networkd.service
""",
    "usr/local/sbin/keel-net": """#!/bin/sh
mkdir -p /run/systemd/network
for arg in $(cat /proc/cmdline); do
    case "$arg" in keel.ip=*)
        printf '[Match]\\nName=en* eth*\\n[Network]\\nAddress=%s\\n' "${arg#keel.ip=}" \\
            >/run/systemd/network/10-keel.network ;;
    esac
done
""",
    "etc/systemd/system/keel-report.service": """[Unit]
Description=Keel test guest: boot count, kept data and network on the console
After=multi-user.target
[Service]
Type=oneshot
ExecStart=/usr/local/sbin/keel-report
[Install]
WantedBy=multi-user.target
""",
    "usr/local/sbin/keel-report": """#!/bin/sh
# to the console through the kernel's log: a getty's vhangup() on ttyS0
# would cut off a service writing there
exec >/dev/kmsg 2>&1
state=/var/lib/keel-test
mkdir -p $state
boots=$(( $(cat $state/boots 2>/dev/null || echo 0) + 1 ))
echo $boots >$state/boots
reboot=
for arg in $(cat /proc/cmdline); do
    case "$arg" in
    keel.token=*) [ $boots = 1 ] && echo "${arg#keel.token=}" >$state/token ;;
    keel.reboot=1) reboot=1 ;;
    keel.ip=*) ip=${arg#keel.ip=} ;;
    esac
done
# systemd-networkd configures the address: wait for it (at most 30 s)
for i in $(seq 30); do
    [ -z "$ip" ] || ip -o addr show | grep -q " $ip " && break
    sleep 1
done
sync
echo "KEEL-SYSTEMD-UP boot=$boots system=$(systemctl is-system-running) uptime=$(cut -d' ' -f1 /proc/uptime)"
echo "KEEL-SYSTEMD-DATA $(cat $state/token 2>/dev/null || echo none)"
echo "KEEL-SYSTEMD-NET $(ip -o -4 addr show scope global | awk '{ print $2 "=" $4 }' | tr '\\n' ' ')"
if [ -n "$reboot" ] && [ $boots = 1 ]; then
    echo "KEEL-SYSTEMD-REBOOTING"
    systemctl --no-block reboot
fi
""",
}
ENABLE = ["systemd-networkd", "keel-net", "keel-report"]
# timers and services that a test guest does not need and that only slow it
MASK = ["apt-daily.timer", "apt-daily-upgrade.timer", "e2scrub_all.timer",
        "e2scrub_reap.service"]
STRIP = ["usr/share/doc", "usr/share/man", "usr/share/locale", "usr/share/info",
         "var/cache/apt", "var/lib/apt/lists"]


def recipe():
    """Everything the image is made from: its hash names the cached image."""
    return repr((SUITE, PACKAGES, SIZE_MIB, sorted(FILES.items()), ENABLE, MASK, STRIP))


def mirror():
    """The Debian mirror that apt here uses (a deb822 or a one-line source)."""
    for path in ("/etc/apt/sources.list.d/debian.sources", "/etc/apt/sources.list"):
        try:
            with open(path) as f:
                for line in f:
                    words = line.split()
                    if words[:1] in (["URIs:"], ["deb"]):
                        for uri in words[1:]:
                            if "://" in uri and "security" not in uri:
                                return uri
        except FileNotFoundError:
            continue
    return "http://deb.debian.org/debian"


def build(path):
    """Builds the root disk image at path."""
    with tempfile.TemporaryDirectory(dir=os.path.dirname(path)) as tmp:
        root = os.path.join(tmp, "root")
        subprocess.run(["debootstrap", "--variant=minbase", "--include=" + ",".join(PACKAGES),
                        SUITE, root, mirror()], check=True, stdout=subprocess.DEVNULL)
        for name, text in FILES.items():
            dest = os.path.join(root, name)
            os.makedirs(os.path.dirname(dest), exist_ok=True)
            with open(dest, "w") as f:
                f.write(text)
            os.chmod(dest, 0o755 if "/sbin/" in name else 0o644)
        subprocess.run(["chroot", root, "systemctl", "enable", *ENABLE], check=True,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        subprocess.run(["chroot", root, "systemctl", "mask", *MASK], check=True,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        for d in STRIP:
            shutil.rmtree(os.path.join(root, d), ignore_errors=True)
        image = os.path.join(tmp, "root.img")
        subprocess.run(["mke2fs", "-q", "-t", "ext4", "-L", "debian", "-d", root, image,
                        f"{SIZE_MIB}M"], check=True)
        os.rename(image, path)


def disk_image():
    """The cached root disk image (a raw ext4 file system), built when the
    recipe has changed."""
    cache = os.path.join(ROOT, ".cache", "debian-guest")
    os.makedirs(cache, exist_ok=True)
    path = os.path.join(cache, hashlib.sha256(recipe().encode()).hexdigest()[:16] + ".img")
    if not os.path.exists(path):
        if os.geteuid() != 0:
            raise RuntimeError("building the systemd test guest (debootstrap) needs root")
        for old in os.listdir(cache):
            if old.endswith(".img"):  # an older recipe's
                os.unlink(os.path.join(cache, old))
        build(path)
    return path


if __name__ == "__main__":
    print(disk_image())
    sys.exit(0)
