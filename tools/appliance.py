#!/usr/bin/env python3
"""Boots a Keel appliance under QEMU: shared by `make run` and the tests.

The accelerator is chosen honestly: KVM with the host CPU only when /dev/kvm
can be opened and the CPU shows vmx or svm; otherwise TCG with `-cpu max`,
which emulates AMD SVM so that KVM works inside the appliance."""
import argparse
import fcntl
import os
import re
import shutil
import socket
import sys
import time

KERNEL_CMDLINE = "console=ttyS0,115200 loglevel=4 panic=10 module.sig_enforce=1"
# Debian's OVMF: the firmware of a host that boots from its disk (uefi_vars)
OVMF_CODE = "/usr/share/OVMF/OVMF_CODE_4M.fd"
OVMF_VARS = "/usr/share/OVMF/OVMF_VARS_4M.fd"


def kvm_usable():
    """/dev/kvm opens and answers KVM_GET_API_VERSION (12), and the CPU
    shows hardware virtualisation (not, e.g., a paravirtual kvm_pvm)."""
    try:
        with open("/proc/cpuinfo") as f:
            flags = set(w for line in f if line.startswith("flags") for w in line.split())
        if not flags & {"vmx", "svm"}:
            return False
        fd = os.open("/dev/kvm", os.O_RDWR | os.O_CLOEXEC)
        try:
            return fcntl.ioctl(fd, 0xAE00) == 12
        finally:
            os.close(fd)
    except OSError:
        return False


def accel_args():
    if kvm_usable():
        return ["-accel", "kvm", "-cpu", "host"]
    # Under TCG: one vCPU, single-threaded. With two vCPUs, KVM's guests
    # inside fault at an interrupt entry (single-threaded TCG) or triple-fault
    # early (multi-threaded TCG); with one they do not (docs/testing.md has
    # the figures of `make platform-check`), and single-threaded TCG gives
    # one vCPU all the speed it has. KEEL_TCG_THREAD, KEEL_TCG_CPU and
    # KEEL_APPLIANCE_CPUS override, for that measurement.
    thread = os.environ.get("KEEL_TCG_THREAD", "single")
    return ["-accel", f"tcg,thread={thread}", "-cpu", os.environ.get("KEEL_TCG_CPU", "max")]


# tools/qemu_tcg_shim.c, built with the rest (meson): under TCG, QEMU runs
# with it preloaded so that UEFI guests of the appliance's KVM do not abort
# it (docs/vmm.md "Firmware")
TCG_SHIM = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))),
                        "build", "tools", "qemu-tcg-shim.so")


def qemu_env():
    """The environment to run QEMU in: with the shim preloaded under TCG."""
    env = dict(os.environ)
    if not kvm_usable():
        if not os.path.exists(TCG_SHIM):
            raise RuntimeError(f"{TCG_SHIM} is missing: build first (make build)")
        env["LD_PRELOAD"] = TCG_SHIM
    return env


def default_cpus():
    return int(os.environ.get("KEEL_APPLIANCE_CPUS") or (2 if kvm_usable() else 1))


def free_port(preferred=0):
    """A TCP port free on localhost: `preferred` if it is, else any."""
    for port in ([preferred] if preferred else []) + [0]:
        s = socket.socket()
        try:
            s.bind(("127.0.0.1", port))
            return s.getsockname()[1]
        except OSError:
            continue
        finally:
            s.close()
    raise RuntimeError("no free port")


def qemu_args(kernel, initrd, disk=None, forwards=None, serial="mon:stdio",
              qmp=None, mem_mib=2048, cpus=None, no_reboot=False, append="", spare_nics=0,
              rtc_base=None, mgmt_netdev=None, uefi_vars=None):
    """forwards: {guest_port: host_port} on 127.0.0.1; a guest port may be
    "ADDRESS:PORT" (another address of the host than the DHCP one).
    spare_nics: more NICs (on networks of their own), e.g. for uplinks.
    rtc_base: what the RTC starts at (QEMU's -rtc base=: "utc", or a UTC
    time "2026-12-03T10:00:00"), e.g. a wrong clock for the NTP test.
    mgmt_netdev: the management NIC's -netdev (with id=mgmt) in place of
    the user network and its forwards (e.g. tests/system/tagnet.py's).
    uefi_vars: a copy of OVMF's variable store (made here if missing): the
    host boots as a server does, through UEFI firmware (OVMF) and the boot
    loader of its disk (image/mkdisk.sh); kernel, initrd and append are
    not used."""
    args = ["qemu-system-x86_64", "-machine", "q35", "-m", str(mem_mib),
            "-smp", str(cpus or default_cpus()), *accel_args(), "-nodefaults", "-display", "none",
            "-serial", serial]
    if uefi_vars:
        if not os.path.exists(uefi_vars):
            shutil.copyfile(OVMF_VARS, uefi_vars)
        args += ["-drive", f"if=pflash,format=raw,readonly=on,file={OVMF_CODE}",
                 "-drive", f"if=pflash,format=raw,file={uefi_vars}"]
    else:
        args += ["-kernel", kernel, "-initrd", initrd,
                 "-append", (KERNEL_CMDLINE + " " + append).strip()]
    fwd = "".join(f",hostfwd=tcp:127.0.0.1:{h}-{g if ':' in str(g) else f':{g}'}"
                  for g, h in (forwards or {}).items())
    args += ["-netdev", mgmt_netdev or "user,id=mgmt" + fwd,
             "-device", "virtio-net-pci,netdev=mgmt"]
    for i in range(spare_nics):
        args += ["-netdev", f"user,id=spare{i},restrict=on",
                 "-device", f"virtio-net-pci,netdev=spare{i}"]
    if disk:
        args += ["-drive", f"file={disk},if=none,id=keeldisk,format=raw",
                 "-device", "virtio-blk-pci,drive=keeldisk"]
    if qmp:
        args += ["-qmp", f"unix:{qmp},server=on,wait=off"]
    if no_reboot:
        args += ["-no-reboot"]
    if rtc_base:
        args += ["-rtc", f"base={rtc_base}"]
    return args


PASSWORD_RX = re.compile(r"root password \(first boot, shown once\): (\S+)\r?\n")
FINGERPRINT_RX = re.compile(r"TLS certificate SHA-256 ([0-9A-F:]{95})")


def read_credentials(path):
    creds = {}
    try:
        with open(path) as f:
            for line in f:
                if "=" in line and not line.startswith("#"):
                    k, v = line.rstrip("\n").split("=", 1)
                    creds[k] = v
    except FileNotFoundError:
        pass
    return creds


def write_credentials(path, creds):
    """The CLI's credentials file (mode 0600), written whole or not at all."""
    tmp = path + ".tmp"
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as f:
        f.write("# written by `make run`: this host's API, its root password (shown once,\n"
                "# at the first boot of this disk) and its certificate's fingerprint\n")
        for k in ("host", "user", "password", "fingerprint"):
            if k in creds:
                f.write(f"{k}={creds[k]}\n")
    os.rename(tmp, path)


def watch_console(log, creds_path, port, qemu_pid):
    """Runs beside QEMU: copies the first-boot root password and the
    certificate fingerprint from the console log into the credentials file."""
    creds = read_credentials(creds_path)
    creds.update(host=f"127.0.0.1:{port}", user=creds.get("user", "root"))
    creds.pop("fingerprint", None)
    deadline = time.monotonic() + 900
    while time.monotonic() < deadline and os.path.exists(f"/proc/{qemu_pid}"):
        try:
            with open(log, errors="replace") as f:
                text = f.read()
        except FileNotFoundError:
            text = ""
        pw, fp = PASSWORD_RX.search(text), FINGERPRINT_RX.search(text)
        if pw:
            creds["password"] = pw.group(1)
        if fp:
            creds["fingerprint"] = fp.group(1)
            write_credentials(creds_path, creds)
            return
        time.sleep(0.5)


def main():
    ap = argparse.ArgumentParser(description="boot a Keel host under QEMU")
    ap.add_argument("--kernel", help="boot this kernel (QEMU's -kernel)")
    ap.add_argument("--initrd")
    ap.add_argument("--disk", help="the Keel disk (image/mkdisk.sh); without --kernel, the "
                    "host boots from it through UEFI (OVMF) and its boot loader")
    ap.add_argument("--api-port", type=int, default=8443)
    ap.add_argument("--rtc-base", help="QEMU's -rtc base=: utc (default) or a UTC time "
                    "such as 2026-12-03T10:00:00, to start with a wrong clock")
    a = ap.parse_args()
    if not a.disk and not (a.kernel and a.initrd):
        ap.error("give --disk, or --kernel and --initrd")
    port = free_port(a.api_port)
    base = os.path.splitext(a.disk)[0] if a.disk else os.path.join(
        os.path.dirname(a.initrd), "keel-ram")
    uefi_vars = None if a.kernel else base + "-OVMF_VARS.fd"
    log, creds = base + "-console.log", base + ".credentials"
    # the console on stdio (with QEMU's monitor: Ctrl-a c), also logged
    args = qemu_args(a.kernel, a.initrd, a.disk, forwards={443: port}, serial="chardev:con0",
                     rtc_base=a.rtc_base, uefi_vars=uefi_vars)
    args[1:1] = ["-chardev", f"stdio,id=con0,mux=on,signal=off,logfile={log},logappend=off",
                 "-mon", "chardev=con0"]
    accel = "KVM" if "kvm" in args else "TCG (software emulation; KVM runs inside)"
    print(f"keel: booting the appliance under QEMU, {accel}")
    print(f"keel: disk {a.disk or '(none: RAM scratch)'}"
          f"{'' if a.kernel else ', booted through UEFI (OVMF) and its boot loader'}")
    print(f"keel: management API (port 443 of the host) -> https://127.0.0.1:{port}/")
    print(f"keel: CLI credentials (root password, fingerprint) -> {creds}")
    print("keel: console below; power off from inside, or press Ctrl-a x to quit QEMU")
    sys.stdout.flush()
    qemu_pid = os.getpid()
    if os.fork() == 0:
        os.setsid()
        watch_console(log, creds, port, qemu_pid)
        os._exit(0)
    os.execvpe(args[0], args, qemu_env())


if __name__ == "__main__":
    main()
