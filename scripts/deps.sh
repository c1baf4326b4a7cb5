#!/bin/bash
# Installs the Debian packages that the build, the image and the tests need,
# but only those that are missing: a second run installs nothing.
set -euo pipefail

PACKAGES=(
	# build
	gcc make meson ninja-build pkg-config
	libjansson-dev libseccomp-dev libmnl-dev libmicrohttpd-dev libgnutls28-dev
	libcurl4-gnutls-dev libsqlite3-dev libcrypt-dev
	# the CLI only (keel vm import's OVF descriptors), never in the image
	libxml2-dev
	# unit tests (cmocka; ASan/UBSan come with gcc); fuzzing (clang's libFuzzer)
	libcmocka-dev clang libclang-rt-14-dev
	# image and disk
	cpio zstd kmod fdisk dosfstools mtools e2fsprogs
	# NTP: chronyd and chronyc go into the image; the time test serves with chronyd
	chrony
	# the console UI (ncurses; its terminfo goes into the image) and remote
	# tech support mode (dropbear); the tests drive them with a terminal
	# model (pyte) and Debian's OpenSSH client
	libncurses-dev ncurses-base dropbear-bin python3-pyte openssh-client
	# guest firmware (into the image): SeaBIOS (a VM's BIOS), OVMF (its UEFI)
	seabios ovmf
	# the Keel disk's boot loader (image/mkdisk.sh: GRUB for UEFI, with its
	# environment block for the boot banks; grub-editenv comes with it)
	grub-efi-amd64-bin
	# the syslog test's receiver (rsyslogd with its TLS driver; certtool)
	rsyslog rsyslog-gnutls gnutls-bin
	# system tests and `make run`
	qemu-system-x86 qemu-utils python3 python3-pytest python3-pytest-xdist openssl
	# the management VLAN test's DHCP server, on a network of the test's own
	# (tests/system/tagnet.py)
	dnsmasq-base
	# the systemd test guest (Debian from its packages)
	debootstrap
	# test and bench guests only (never in the product image)
	busybox-static fio iperf3 iputils-ping
	# the test guests' firmware-booted disks (tests/system/bootdisks.py): boot
	# loaders for UEFI and BIOS, and the ISO 9660 image's tools (the cloud-init seed test reads
	# its image with xorriso too)
	systemd-boot-efi grub-pc-bin syslinux syslinux-common isolinux xorriso
)

missing=()
for p in "${PACKAGES[@]}"; do
	if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed'; then
		missing+=("$p")
	fi
done

if [ ${#missing[@]} -eq 0 ]; then
	exit 0
fi

echo "deps: installing ${missing[*]}"
SUDO=
if [ "$(id -u)" -ne 0 ]; then
	SUDO=sudo
fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
