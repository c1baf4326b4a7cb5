"""Test guests for keel-vmm: the appliance's own Debian kernel with a busybox
initramfs built here (busybox-static is for test guests only; it never goes
into the product image).

The guest's /init prints a marker line with its CPU count, writes the boot
timer port, then does what `keel.test=` on the kernel command line says:
poweroff, reboot, wait (for the ACPI power button, then power off), echo
(each console input line back), virtio (load the virtio drivers, report the
disks and the entropy source, do what `keel.disk=` says, e.g. print the
cloud-init seed's files, power off), root
(load the drivers and hand over to the init on the ext4 disk /dev/vda: the
systemd guest of debian_guest.py), efivar (write a UEFI variable through
efivarfs, power off), or idle."""
import os
import shutil
import subprocess
import tempfile

from harness import OUT, ROOT

MARKER = "KEEL-GUEST-UP"
# drivers the "virtio" mode loads (with their dependencies)
# (virtio_mmio: QEMU microvm's transport, for the bench)
# (isofs, nls_utf8: the cloud-init seed, ISO 9660 with Joliet names)
VIRTIO_MODULES = ["virtio_pci", "virtio_mmio", "virtio_blk", "virtio-rng", "ext4", "virtio_net",
                  "isofs", "nls_utf8"]

INIT = r"""#!/bin/busybox sh
/bin/busybox --install -s /bin
export PATH=/bin
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs dev /dev
printf K | dd of=/dev/port bs=1 seek=1088 count=1 2>/dev/null
echo "KEEL-GUEST-UP cpus=$(grep -c ^processor /proc/cpuinfo) online=$(cat /sys/devices/system/cpu/online)"
mode=idle
for arg in $(cat /proc/cmdline); do
    case "$arg" in keel.test=*) mode=${arg#keel.test=} ;; esac
done
case "$mode" in
poweroff) poweroff -f ;;
echo) while read -r line; do echo "KEEL-GUEST-GOT $line"; done ;;
reboot) reboot -f ;;
virtio)
    # the drivers, in dependency order; then report what the guest sees
    for m in $(cat /lib/modules.order); do insmod /lib/$m; done
    echo "KEEL-GUEST-BLOCK $(cd /sys/block && echo vd*)"
    for d in /sys/block/vd*; do
        echo "KEEL-GUEST-DISK ${d##*/} ro=$(cat $d/ro) sectors=$(cat $d/size) serial=$(cat $d/serial)"
    done
    if [ -e /dev/hwrng ]; then
        echo "KEEL-GUEST-RNG $(cat /sys/class/misc/hw_random/rng_current) $(dd if=/dev/hwrng bs=64 count=1 2>/dev/null | od -An -tx1 | tr -d ' \n')"
    fi
    for arg in $(cat /proc/cmdline); do
        case "$arg" in
        keel.disk=format)
            mke2fs -q /dev/vda && mount /dev/vda /mnt && seq 1 100000 >/mnt/data && sync &&
                echo "KEEL-GUEST-WROTE $(sha256sum /mnt/data)" && umount /mnt ;;
        keel.disk=verify)
            mount -o ro /dev/vda /mnt && echo "KEEL-GUEST-READ $(sha256sum /mnt/data)" ;;
        keel.disk=cidata)
            # the cloud-init seed, found by its label as cloud-init does;
            # each file's bytes in base64 (MISSING when it is not there)
            dev=$(findfs LABEL=cidata) && mount -t iso9660 -o ro $dev /mnt &&
                echo "KEEL-CIDATA-DEV $dev" &&
                for f in user-data meta-data network-config; do
                    if [ -f /mnt/$f ]; then echo "KEEL-CIDATA $f $(base64 /mnt/$f | tr -d '\n')"
                    else echo "KEEL-CIDATA $f MISSING"; fi
                done && umount /mnt || echo "KEEL-CIDATA-FAILED" ;;
        keel.mtu=*)
            ip link set eth0 mtu ${arg#keel.mtu=} ;;
        keel.pingsize=*)
            # with iputils' ping (in the initrd): this size, don't fragment
            psize="-M do -s ${arg#keel.pingsize=}" ;;
        keel.ip=*)
            # up, with the virtio features the driver took (a string of bits)
            ip addr add ${arg#keel.ip=} dev eth0 && ip link set eth0 up &&
                echo "KEEL-GUEST-NET $(cat /sys/class/net/eth0/address) up features=$(cat /sys/class/net/eth0/device/features)" ;;
        keel.serve=*)
            # busybox httpd serves /www/f: the numbers 1..N, a line each
            mkdir -p /www && seq 1 ${arg#keel.serve=} >/www/f && httpd -p 80 -h /www &&
                echo "KEEL-GUEST-SERVING" ;;
        keel.fetch=*)
            # that file over TCP from the peer, and what arrived
            echo "KEEL-GUEST-FETCHED $(wget -q -O - http://${arg#keel.fetch=}/f | sha256sum)" ;;
        keel.ping=*)
            for peer in $(echo ${arg#keel.ping=} | tr , ' '); do
                # (a path, not a name: busybox's shell prefers its own applets)
                /bin/ping -c 3 -W 10 $psize $peer >/tmp/ping 2>&1
                echo "KEEL-GUEST-PING $peer status=$? $(tail -1 /tmp/ping)"
            done ;;
        keel.wait=*)
            sleep ${arg#keel.wait=} ;;
        keel.fiojobs=*)
            fiojobs=$(echo ${arg#keel.fiojobs=} | tr , ' ') ;;
        keel.fio=*)
            # the bench's disk figures (fio in the guest, on the raw image
            # /dev/vda): IOPS and KiB/s of each job keel.fiojobs= (given
            # before) names, from fio's terse output
            for job in $fiojobs; do
                set -- $(echo $job | tr : ' ')
                fio --name=$1-$2-qd$3 --filename=/dev/vda --direct=1 --ioengine=libaio \
                    --rw=$1 --bs=$2 --iodepth=$3 --time_based --runtime=${arg#keel.fio=} \
                    --ramp_time=1 --output-format=terse --terse-version=3 2>/tmp/fio.err |
                    awk -F';' '{ print "KEEL-FIO " $3 " read_iops=" $8 " read_kib_s=" $7 " write_iops=" $49 " write_kib_s=" $48 }'
            done ;;
        keel.iperfdirs=*)
            iperfdirs=$(echo ${arg#keel.iperfdirs=} | tr , ' ') ;;
        keel.iperf=*)
            # the bench's network figures: iperf3 against the host's bridge,
            # guest to host (up) or host to guest (down, -R), in Mbit/s,
            # in the directions keel.iperfdirs= (given before) names
            for dir in $iperfdirs; do
                flag=; [ $dir = down ] && flag=-R
                iperf3 -c ${arg#keel.iperf=} -t 5 -f m $flag 2>&1 |
                    awk -v d=$dir '/receiver/ { print "KEEL-IPERF " d " " $7 }'
            done ;;
        keel.disk=bench)
            # O_DIRECT, queue depth 1: what the device path costs per request
            for t in "w 1M 32" "r 1M 32" "w 4k 2048" "r 4k 2048"; do
                set -- $t
                if [ $1 = w ]; then io="if=/dev/zero of=/dev/vda oflag=direct"
                else io="if=/dev/vda of=/dev/null iflag=direct"; fi
                t0=$(cut -d' ' -f1 /proc/uptime)
                dd $io bs=$2 count=$3 2>/dev/null
                t1=$(cut -d' ' -f1 /proc/uptime)
                echo "KEEL-GUEST-BENCH $1 bs=$2 count=$3 seconds=$(awk "BEGIN { print $t1 - $t0 }")"
            done ;;
        keel.disk=rowrite)
            dd if=/dev/zero of=/dev/vdb bs=512 count=1 conv=fsync 2>/dev/null
            echo "KEEL-GUEST-ROWRITE status=$?" ;;
        esac
    done
    echo "KEEL-GUEST-DONE"
    poweroff -f ;;
root)
    # the systemd guest (debian_guest.py): the drivers, then its init on /dev/vda
    for m in $(cat /lib/modules.order) evdev.ko button.ko; do insmod /lib/$m; done
    mkdir -p /newroot
    mount -t ext4 -o rw /dev/vda /newroot || { echo "KEEL-GUEST-ROOT-FAILED"; exec sleep 1d; }
    umount /proc /sys
    mount --move /dev /newroot/dev
    exec switch_root /newroot /sbin/init ;;
efivar)
    # a UEFI variable of the guest's own through efivarfs (attributes:
    # non-volatile, boot and runtime access; one write), then power off
    insmod /lib/efivarfs.ko
    mount -t efivarfs efivarfs /sys/firmware/efi/efivars &&
        printf '\007\000\000\000KEEL-EFIVAR-DATA' >/tmp/var &&
        dd if=/tmp/var of=/sys/firmware/efi/efivars/KeelTest-4b45454c-0000-4000-8000-000000000001 bs=64 2>/dev/null &&
        echo "KEEL-GUEST-EFIVAR written" || echo "KEEL-GUEST-EFIVAR failed"
    poweroff -f ;;
wait)
    insmod /lib/evdev.ko
    insmod /lib/button.ko
    for d in /sys/class/input/event*; do
        grep -q "Power Button" $d/device/name && ev=/dev/input/${d##*/}
    done
    exec 3<$ev  # open before saying so: a press from now on is kept for us
    echo "KEEL-GUEST-WAITING $ev"
    # one input_event (24 bytes on x86_64): the key press
    dd bs=24 count=1 of=/dev/null <&3 || { echo "KEEL-GUEST-EVDEV-FAILED"; exec sleep 1d; }
    echo "KEEL-GUEST-POWER-BUTTON"
    poweroff -f ;;
esac
while true; do sleep 1; echo "KEEL-GUEST-TICK $(cat /proc/uptime)"; done
"""


def kernel_root():
    kdir = subprocess.check_output([os.path.join(ROOT, "scripts", "fetch-kernel.sh")],
                                   text=True).strip()
    return os.path.join(kdir, "root")


def add_program(root, program):
    """Copies a host program and the shared libraries it needs into root."""
    shutil.copy(program, os.path.join(root, "bin", os.path.basename(program)))
    for line in subprocess.check_output(["ldd", program], text=True).splitlines():
        parts = line.split()
        lib = parts[2] if "=>" in parts and len(parts) > 2 else parts[0]
        if lib.startswith("/"):
            dest = os.path.join(root, lib.lstrip("/"))
            os.makedirs(os.path.dirname(dest), exist_ok=True)
            shutil.copy(lib, dest)


def build_initrd(path, programs=()):
    """Writes the guest initramfs (an uncompressed newc cpio) to path, with
    `programs` (host binaries, e.g. fio for the bench) and their libraries."""
    kroot = kernel_root()
    kver = os.listdir(os.path.join(kroot, "lib", "modules"))[0]
    kmod = os.path.join(kroot, "lib", "modules", kver, "kernel")
    with tempfile.TemporaryDirectory() as st:
        for d in ("bin", "dev", "proc", "sys", "lib", "mnt", "tmp"):
            os.mkdir(os.path.join(st, d))
        shutil.copy("/bin/busybox", os.path.join(st, "bin", "busybox"))
        shutil.copy(os.path.join(kmod, "drivers", "acpi", "button.ko"), os.path.join(st, "lib"))
        shutil.copy(os.path.join(kmod, "drivers", "input", "evdev.ko"), os.path.join(st, "lib"))
        shutil.copy(os.path.join(kmod, "fs", "efivarfs", "efivarfs.ko"), os.path.join(st, "lib"))
        order = []
        for m in VIRTIO_MODULES:
            deps = subprocess.check_output(["modprobe", "-d", kroot, "-S", kver, "--show-depends", m],
                                           text=True)
            for line in deps.splitlines():
                ko = line.split()[1]
                if line.startswith("insmod ") and os.path.basename(ko) not in order:
                    shutil.copy(ko, os.path.join(st, "lib"))
                    order.append(os.path.basename(ko))
        with open(os.path.join(st, "lib", "modules.order"), "w") as f:
            f.write("\n".join(order) + "\n")
        for program in programs:
            add_program(st, program)
        with open(os.path.join(st, "init"), "w") as f:
            f.write(INIT)
        os.chmod(os.path.join(st, "init"), 0o755)
        files = subprocess.check_output(["find", ".", "-mindepth", "1"], cwd=st)
        with open(path, "wb") as out:
            subprocess.run(["cpio", "-o", "-H", "newc", "--owner=0:0", "--quiet"], cwd=st,
                           input=files, stdout=out, check=True)
    return path


if __name__ == "__main__":
    # `make guest`: the demo guest of the README (kernel and initramfs)
    import sys
    out = sys.argv[1]
    os.makedirs(out, exist_ok=True)
    kroot = kernel_root()
    kver = os.listdir(os.path.join(kroot, "lib", "modules"))[0]
    shutil.copy(os.path.join(kroot, "boot", "vmlinuz-" + kver), os.path.join(out, "vmlinuz"))
    build_initrd(os.path.join(out, "initrd.img"))
    import bootdisks
    disk = bootdisks.uefi_disk(out, os.path.join(out, "vmlinuz"), os.path.join(out, "initrd.img"),
                               "console=ttyS0 keel.test=wait")
    os.replace(disk, os.path.join(out, "disk.img"))
    print(f"guest: {out}/vmlinuz (the host's Debian kernel) and {out}/initrd.img (busybox);"
          f" {out}/disk.img, a GPT disk whose ESP holds systemd-boot and both")


def upload(api, workdir, programs=()):
    """Builds the guest initrd (with `programs`) and uploads it and the
    kernel to local/guest/; returns their datastore paths."""
    initrd = os.path.join(str(workdir), "initrd.img")
    build_initrd(initrd, programs)
    for local, remote in ((os.path.join(OUT, "vmlinuz"), "vmlinuz"), (initrd, "initrd.img")):
        with open(local, "rb") as f:
            api.call("PUT", f"/datastores/local/files/guest/{remote}", f)
    return "local/guest/vmlinuz", "local/guest/initrd.img"


def boot_sector(text, reset=False, serial=False):
    """A disk whose MBR writes the boot timer port, prints text through the
    BIOS (int 10h, which SeaBIOS's serial console carries) or, with
    `serial`, straight to COM1, and waits with interrupts on (the serial
    console sends its last characters from the timer interrupt); with
    `reset`, after half a second (the BIOS's tick count), it resets the PC
    through the keyboard controller."""
    msg = 0x7c40
    code = bytes([0xb0, 0x4b, 0xba, 0x40, 0x04, 0xee,  # out 0x440, 'K'
                  0xbe, msg & 0xff, msg >> 8])  # mov si, msg
    if serial:
        code += bytes([0xba, 0xf8, 0x03,  # mov dx, 0x3f8
                       0xac, 0x08, 0xc0, 0x74, 0x03,  # lodsb; or al, al; jz halt
                       0xee, 0xeb, 0xf8])  # out dx, al; jmp lodsb
    else:
        code += bytes([0xb4, 0x0e, 0x31, 0xdb,  # mov ah, 0x0e; xor bx, bx
                       0xac, 0x08, 0xc0, 0x74, 0x04,  # lodsb; or al, al; jz halt
                       0xcd, 0x10, 0xeb, 0xf7])  # int 0x10; jmp lodsb
    if reset:
        code += bytes([0xfb, 0xa1, 0x6c, 0x04,  # sti; mov ax, [0x46c]: the BIOS's tick count
                       0x05, 0x09, 0x00,  # add ax, 9: half a second of 18.2 Hz ticks
                       0xf4, 0x39, 0x06, 0x6c, 0x04, 0x72, 0xf9,  # wait: hlt; cmp [0x46c], ax; jb wait
                       0xb0, 0xfe, 0xe6, 0x64, 0xeb, 0xfe])  # out 0x64, 0xfe; jmp $
    else:
        code += bytes([0xfb, 0xf4, 0xeb, 0xfc])  # halt: sti; hlt; jmp halt
    sector = bytearray(512)
    sector[:len(code)] = code
    sector[msg - 0x7c00:msg - 0x7c00 + len(text) + 1] = text + b"\0"
    sector[510:] = b"\x55\xaa"
    return bytes(sector) + bytes(1 << 20)
