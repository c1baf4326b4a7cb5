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
#   image/mkdisk.sh DISK SIZE_GIB [KERNEL INITRAMFS MANIFEST]
#
# With the image files given, bootbank A holds them (boot loaders come in a
# later issue; QEMU boots the kernel directly for now).
set -euo pipefail
DISK=$1
SIZE_GIB=${2:-16}
[ "$SIZE_GIB" -ge 4 ] || { echo "mkdisk: at least 4 GiB" >&2; exit 1; }

rm -f "$DISK"
truncate -s "${SIZE_GIB}G" "$DISK"
sfdisk --quiet --label gpt "$DISK" <<'PARTS'
size=64MiB,  type=C12A7328-F81F-11D2-BA4B-00A0C93EC93B, name=KEEL-ESP
size=512MiB, type=EBD0A0A2-B9E5-4433-87C0-68B6B72699C7, name=KEEL-BOOTBANK-A
size=512MiB, type=EBD0A0A2-B9E5-4433-87C0-68B6B72699C7, name=KEEL-BOOTBANK-B
size=256MiB, type=0FC63DAF-8483-4772-8E79-3D69D8477DE4, name=KEEL-CONFIG
size=2GiB,   type=0FC63DAF-8483-4772-8E79-3D69D8477DE4, name=KEEL-SCRATCH
             type=0FC63DAF-8483-4772-8E79-3D69D8477DE4, name=KEEL-DATASTORE
PARTS

# start and size (in 512-byte sectors) of partition N
part() { sfdisk --json "$DISK" | python3 -c "
import json, sys
p = json.load(sys.stdin)['partitiontable']['partitions'][$1 - 1]
print(p['start'], p['size'])"; }

mkfat() {
	read -r start size < <(part "$1")
	mkfs.vfat -F 32 -s 1 -n "$2" --offset "$start" "$DISK" $((size / 2)) >/dev/null 2>&1
}
mkext4() {
	read -r start size < <(part "$1")
	mke2fs -q -F -t ext4 -L "$2" -E offset=$((start * 512)) "$DISK" $((size / 2))k
}

mkfat 1 KEEL-ESP
mkfat 2 BOOTBANK-A
mkfat 3 BOOTBANK-B
mkext4 4 keel-config
mkext4 5 keel-scratch
mkext4 6 keel-data

if [ $# -ge 5 ]; then
	read -r start _ < <(part 2)
	MTOOLS_SKIP_CHECK=1 mcopy -i "$DISK@@$((start * 512))" "$3" ::vmlinuz
	MTOOLS_SKIP_CHECK=1 mcopy -i "$DISK@@$((start * 512))" "$4" ::initramfs.img
	MTOOLS_SKIP_CHECK=1 mcopy -i "$DISK@@$((start * 512))" "$5" ::manifest.txt
fi
echo "disk: $DISK (${SIZE_GIB} GiB sparse, $(du -h "$DISK" | cut -f1) used)"
