#!/bin/bash
# Builds the Keel appliance image: the Debian kernel and an initramfs that
# holds only Keel's binaries, the shared libraries they need, and the kernel
# modules of image/modules.list (with their dependencies).
#
#   image/mkimage.sh BUILD_DIR OUT_DIR [product|test|bench]
#
# The test variant adds keel-testhook (the harness's way in) and a service
# that cannot start; the bench variant adds keel-testhook, QEMU (the VMM
# that `make bench` compares keel-vmm with) and iperf3 (the host end of the
# network figures). Neither is ever shipped.
# Outputs, in OUT_DIR:
#   vmlinuz, initramfs.img (or initramfs-test.img), manifest.txt,
#   initramfs.list (or initramfs-test.list): every file with its size.
set -euo pipefail
BUILD=$(realpath "$1")
OUT=$(mkdir -p "$2" && realpath "$2")
VARIANT=${3:-product}
SRC=$(cd "$(dirname "$0")/.." && pwd)

KDIR=$("$SRC/scripts/fetch-kernel.sh")
KROOT=$KDIR/root
KVER=$(ls "$KROOT/lib/modules")
KPKG=$(cat "$KDIR/package")
KPKGVER=$(cat "$KDIR/version")
[ -f "$KROOT/lib/modules/$KVER/modules.dep" ] || depmod -b "$KROOT" "$KVER"

ST=$(mktemp -d)
trap 'rm -rf "$ST"' EXIT
mkdir -p "$ST"/{sbin,etc/keel,proc,sys,dev,run,tmp,config,scratch,datastores}

# --- binaries and the shared libraries they use
bins=("$BUILD/src/init/keel-init" "$BUILD/src/init/keel-dhcpc" "$BUILD/src/syslogd/keel-syslogd" "$BUILD/src/vmm/keel-vmm"
	"$BUILD/src/hostd/keel-hostd" "$BUILD/src/dcui/keel-dcui" /usr/sbin/chronyd /usr/bin/chronyc
	/usr/sbin/dropbear /usr/bin/dropbearkey
	"$BUILD/src/shell/keel-shell" "$BUILD/src/cli/keel-host-cli")
[ "$VARIANT" != product ] && bins+=("$BUILD/src/testhook/keel-testhook")
[ "$VARIANT" = bench ] && bins+=(/usr/bin/qemu-system-x86_64 /usr/bin/iperf3)
for b in "${bins[@]}"; do
	[ -x "$b" ] || { echo "mkimage: $b is not built" >&2; exit 1; }
	install -m 0755 -s "$b" "$ST/sbin/$(basename "$b")"
	ldd "$b" | awk '/=> \// { print $3 } /^\t\/lib/ { print $1 }' | while read -r lib; do
		mkdir -p "$ST$(dirname "$lib")"
		cp -L "$lib" "$ST$lib"
	done
done
# keel-shell's `keel`: the host's CLI (no libxml2), where keel-shell runs it
mv "$ST/sbin/keel-host-cli" "$ST/sbin/keel"
# chronyd's user (common/chrony.h); root for getpwnam("root")
printf 'root:x:0:0:root:/:/nonexistent\n_chrony:x:64:64:chronyd:/nonexistent:/nonexistent\n' >"$ST/etc/passwd"
printf 'root:x:0:\n_chrony:x:64:\n' >"$ST/etc/group"
# tech support mode's shell is the only login shell (dropbear checks), and
# the console UI's terminals: a VT, a serial line, a terminal emulator
echo /sbin/keel-shell >"$ST/etc/shells"
for t in l/linux v/vt100 v/vt220 x/xterm x/xterm-256color; do
	mkdir -p "$ST/lib/terminfo/${t%/*}"
	cp -L "/lib/terminfo/$t" "$ST/lib/terminfo/$t"
done
# the kernel starts /init
ln -s sbin/keel-init "$ST/init"
# glibc's loader lives in /lib64 on amd64; Debian's /lib64 is a real directory
# holding a link into /lib/x86_64-linux-gnu, which ldd resolved for us above

# --- kernel modules: the list, their dependencies, and a modules.dep for them
MODDIR=lib/modules/$KVER
mkdir -p "$ST/$MODDIR"
sed 's/#.*//' "$SRC/image/modules.list" | awk 'NF { print $1 }' |
while read -r m; do
	modprobe -d "$KROOT" -S "$KVER" --show-depends "$m" | awk '$1 == "insmod" { print $2 }'
done | sort -u | while read -r ko; do
	rel=${ko#"$KROOT/"}
	mkdir -p "$ST/$(dirname "$rel")"
	cp "$ko" "$ST/$rel"
done
cp "$KROOT/$MODDIR"/modules.{order,builtin,builtin.modinfo} "$ST/$MODDIR/"
depmod -b "$ST" "$KVER"
# keel-init needs modules.dep only
find "$ST/$MODDIR" -maxdepth 1 -type f ! -name modules.dep -delete
cp "$SRC/image/modules.list" "$ST/etc/keel/modules"

# the VMs' firmware (hostd/vmfiles.h names these files): Debian's SeaBIOS,
# and OVMF's code and empty variable store
mkdir -p "$ST/usr/share/keel/firmware"
cp -L /usr/share/seabios/bios-256k.bin /usr/share/OVMF/OVMF_CODE_4M.fd /usr/share/OVMF/OVMF_VARS_4M.fd \
	"$ST/usr/share/keel/firmware/"

# QEMU's firmware for the bench: qboot (microvm), SeaBIOS (q35), and the
# option ROM that boots a kernel given with -kernel
if [ "$VARIANT" = bench ]; then
	mkdir -p "$ST/usr/share/qemu" "$ST/usr/share/seabios"
	cp -L /usr/share/qemu/{qboot.rom,bios-microvm.bin,linuxboot_dma.bin,kvmvapic.bin} "$ST/usr/share/qemu/"
	cp -L /usr/share/seabios/bios-256k.bin "$ST/usr/share/seabios/"
fi

# --- the key that signs update bundles (src/common/bundlefmt.h): the image
# trusts the public key of KEEL_BUNDLE_KEYS (docs/operations.md "Updates");
# unset, the build tree's development pair, made here the first time
KEYS=$(realpath -m "${KEEL_BUNDLE_KEYS:-$BUILD/keys}")
keyname=release
if [ "$KEYS" = "$BUILD/keys" ]; then
	keyname=development
	[ -f "$KEYS/public.pem" ] || "$BUILD/src/bundletool/keel-bundle" keygen "$KEYS" >/dev/null
fi
[ -f "$KEYS/public.pem" ] || { echo "mkimage: no $KEYS/public.pem (KEEL_BUNDLE_KEYS)" >&2; exit 1; }
mkdir -p "$ST/etc/keel/trusted-keys"
install -m 0644 "$KEYS/public.pem" "$ST/etc/keel/trusted-keys/$keyname.pem"

# --- services
if [ "$VARIANT" = bench ]; then
	cat >"$ST/etc/keel/services" <<'SVC'
hostd /sbin/keel-hostd
testhook /sbin/keel-testhook
SVC
	suffix=-bench
elif [ "$VARIANT" = test ]; then
	cat >"$ST/etc/keel/services" <<'SVC'
# test variant: the product's services, the harness's hook, and a service
# that can never start
hostd /sbin/keel-hostd
testhook /sbin/keel-testhook
broken /sbin/keel-does-not-exist
SVC
	suffix=-test
else
	cat >"$ST/etc/keel/services" <<'SVC'
# name  /path/to/program [args...]   (supervised and restarted by keel-init)
hostd /sbin/keel-hostd
SVC
	suffix=
fi

# what this image is, for the support bundle (the manifest beside the image
# adds the files' hashes, which cannot be inside them)
{
	echo "keel-version: $(sed -n "s/.*version : '\(.*\)'.*/\1/p" "$SRC/meson.build" | head -1)"
	echo "keel-commit: $(git -C "$SRC" rev-parse --short HEAD 2>/dev/null || echo unknown)"
	echo "kernel-package: $KPKG"
	echo "kernel-package-version: $KPKGVER"
	echo "kernel-release: $KVER"
	echo "variant: $VARIANT"
} >"$ST/etc/keel/build"

# --- pack (the product as small as zstd makes it; the test and bench
# variants, which only this machine boots, fast to make)
IMG=$OUT/initramfs$suffix.img
level=-19
[ "$VARIANT" = product ] || level=-3
(cd "$ST" && find . -mindepth 1 | LC_ALL=C sort |
	cpio -o -H newc --owner=0:0 --reproducible --quiet) | zstd -q $level -T0 -f -o "$IMG"
(cd "$ST" && find . -mindepth 1 -type f -printf '%10s %P\n' | LC_ALL=C sort -k2) \
	>"$OUT/initramfs$suffix.list"
cp "$KROOT/boot/vmlinuz-$KVER" "$OUT/vmlinuz"

if [ "$VARIANT" = product ]; then
	{
		grep -v '^variant: ' "$ST/etc/keel/build"
		(cd "$OUT" && sha256sum vmlinuz "initramfs.img" | awk '{ print "sha256 " $2 ": " $1 }')
	} >"$OUT/manifest.txt"
fi

ksz=$(stat -c %s "$OUT/vmlinuz")
isz=$(stat -c %s "$IMG")
usz=$(awk '{ s += $1 } END { print s }' "$OUT/initramfs$suffix.list")
printf 'image (%s): kernel %.1f MiB + initramfs %.1f MiB = %.1f MiB (initramfs unpacked %.1f MiB, %d files; listing in %s)\n' \
	"$VARIANT" "$(echo "$ksz/1048576" | bc -l)" "$(echo "$isz/1048576" | bc -l)" \
	"$(echo "($ksz+$isz)/1048576" | bc -l)" "$(echo "$usz/1048576" | bc -l)" \
	"$(wc -l <"$OUT/initramfs$suffix.list")" "$OUT/initramfs$suffix.list"
