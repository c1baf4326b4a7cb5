#!/bin/bash
# Makes a sparse GPT Keel disk image with the target layout, every
# partition labelled, using only standard tools (no mounting, no root):
#
#   1 KEEL-ESP          FAT32   64 MiB   EFI system partition (boot loader)
#   2 KEEL-BOOTBANK-A   FAT32  512 MiB   system image: kernel, initramfs, manifest
#   3 KEEL-BOOTBANK-B   FAT32  512 MiB   the previous image (rollback target)
#   4 KEEL-CONFIG       ext4   256 MiB   host state
#   5 KEEL-SCRATCH      ext4     2 GiB   logs, core dumps, support bundles
#   6 KEEL-DATASTORE    ext4    the rest  datastore "local": VM folders
#
#   image/mkdisk.sh [--boot|--data] DISK SIZE_GIB [KERNEL INITRAMFS MANIFEST [CMDLINE...]]
#
# --boot makes partitions 1-3 only (a USB stick to boot from), --data 4-6
# only (as 1-3: the disk beside it); keel-init finds them by name.
#
# The ESP gets GRUB for UEFI (EFI/BOOT/BOOTX64.EFI, the fallback path
# firmware boots without any NVRAM entry), its script image/grub.cfg and
# its environment block (keel/grubenv: bank a, installed; see
# src/common/bootenv.h). With the image files given, bootbank A holds them
# and boot.cfg, the kernel command line: console=tty0 console=ttyS0,115200
# loglevel=4 panic=10 module.sig_enforce=1 (only the kernel builder's signed
# modules load), then the words after MANIFEST.
#
#   image/mkdisk.sh --refresh DISK KERNEL INITRAMFS MANIFEST
#
# puts the image into the bank the loader boots next, in place of what it
# held (`make run`: the disk boots what was just built).
set -euo pipefail
export MTOOLS_SKIP_CHECK=1

# start and size (in 512-byte sectors) of partition N of $DISK
part() { sfdisk --json "$DISK" | python3 -c "
import json, sys
p = json.load(sys.stdin)['partitiontable']['partitions'][$1 - 1]
print(p['start'], p['size'])"; }
# mtools' name for partition N's file system
fs() { read -r start _ < <(part "$1"); echo "$DISK@@$((start * 512))"; }

# the image files (and boot.cfg, if given) into partition N
bank_write() {
	local to
	to=$(fs "$1")
	mcopy -o -i "$to" "$2" ::vmlinuz
	mcopy -o -i "$to" "$3" ::initramfs.img
	mcopy -o -i "$to" "$4" ::manifest.txt
	[ -z "${5:-}" ] || mcopy -o -i "$to" "$5" ::boot.cfg
}

if [ "$1" = --refresh ]; then
	DISK=$2
	tmp=$(mktemp -d)
	trap 'rm -rf "$tmp"' EXIT
	mcopy -i "$(fs 1)" ::keel/grubenv "$tmp/grubenv" 2>/dev/null || {
		echo "mkdisk: $DISK has no boot loader (an older layout): make disk FORCE=1" >&2
		exit 1
	}
	bank=$(grub-editenv "$tmp/grubenv" list | sed -n 's/^keel_bank=//p')
	[ "$bank" = b ] || bank=a
	bank_write "$([ "$bank" = a ] && echo 2 || echo 3)" "$3" "$4" "$5"
	echo "disk: $DISK: bank $bank holds the image of $(dirname "$3")"
	exit 0
fi

# --boot: the ESP and the banks only (a USB stick or SD card to boot from);
# --data: the config, scratch and datastore partitions only (the disk
# beside it); the default: all six
layout=all
case "$1" in --boot | --data) layout=${1#--}; shift ;; esac
DISK=$1
SIZE_GIB=${2:-16}
min=$([ $layout = boot ] && echo 2 || echo 4)
[ "$SIZE_GIB" -ge "$min" ] || { echo "mkdisk: at least $min GiB" >&2; exit 1; }

rm -f "$DISK"
truncate -s "${SIZE_GIB}G" "$DISK"
{
	[ $layout = data ] || cat <<'BOOT'
size=64MiB,  type=C12A7328-F81F-11D2-BA4B-00A0C93EC93B, name=KEEL-ESP
size=512MiB, type=EBD0A0A2-B9E5-4433-87C0-68B6B72699C7, name=KEEL-BOOTBANK-A
size=512MiB, type=EBD0A0A2-B9E5-4433-87C0-68B6B72699C7, name=KEEL-BOOTBANK-B
BOOT
	[ $layout = boot ] || cat <<'DATA'
size=256MiB, type=0FC63DAF-8483-4772-8E79-3D69D8477DE4, name=KEEL-CONFIG
size=2GiB,   type=0FC63DAF-8483-4772-8E79-3D69D8477DE4, name=KEEL-SCRATCH
             type=0FC63DAF-8483-4772-8E79-3D69D8477DE4, name=KEEL-DATASTORE
DATA
} | sfdisk --quiet --label gpt "$DISK"

mkfat() {
	read -r start size < <(part "$1")
	mkfs.vfat -F 32 -s 1 -n "$2" --offset "$start" "$DISK" $((size / 2)) >/dev/null 2>&1
}
mkext4() {
	read -r start size < <(part "$1")
	mke2fs -q -F -t ext4 -L "$2" -E offset=$((start * 512)) "$DISK" $((size / 2))k
}

if [ $layout = boot ]; then
	# the banks' file system labels are GRUB's way to them (grub.cfg)
	mkfat 1 KEEL-ESP && mkfat 2 BOOTBANK-A && mkfat 3 BOOTBANK-B
elif [ $layout = data ]; then
	mkext4 1 keel-config && mkext4 2 keel-scratch && mkext4 3 keel-data
	echo "disk: $DISK (${SIZE_GIB} GiB sparse, data partitions only)"
	exit 0
else
	mkfat 1 KEEL-ESP && mkfat 2 BOOTBANK-A && mkfat 3 BOOTBANK-B
	mkext4 4 keel-config && mkext4 5 keel-scratch && mkext4 6 keel-data
fi

# GRUB with every module it needs built in; its early script finds the ESP
# by label, and grub.cfg there does the rest
GRUB_MODULES=(part_gpt fat search search_label normal configfile loadenv test echo linux
	gzio sleep halt reboot efi_gop all_video)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cat >"$tmp/early.cfg" <<'EARLY'
search --no-floppy --label KEEL-ESP --set=root
set prefix=($root)/keel
EARLY
grub-mkimage -O x86_64-efi -o "$tmp/BOOTX64.EFI" -p /keel -c "$tmp/early.cfg" "${GRUB_MODULES[@]}"
grub-editenv "$tmp/grubenv" create
grub-editenv "$tmp/grubenv" set keel_bank=a keel_tries= keel_reason=installed
esp=$(fs 1)
mmd -i "$esp" ::EFI ::EFI/BOOT ::keel
mcopy -i "$esp" "$tmp/BOOTX64.EFI" ::EFI/BOOT/BOOTX64.EFI
mcopy -i "$esp" "$(dirname "$0")/grub.cfg" ::keel/grub.cfg
mcopy -i "$esp" "$tmp/grubenv" ::keel/grubenv

if [ $# -ge 5 ]; then
	cmdline="console=tty0 console=ttyS0,115200 loglevel=4 panic=10 module.sig_enforce=1${6:+ ${*:6}}"
	printf 'set keel_cmdline="%s"\n' "$cmdline" >"$tmp/boot.cfg"
	bank_write 2 "$3" "$4" "$5" "$tmp/boot.cfg"
fi
echo "disk: $DISK (${SIZE_GIB} GiB sparse, $(du -h "$DISK" | cut -f1) used)"
