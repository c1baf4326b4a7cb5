"""Boots Keel appliances under QEMU for the system tests and talks to them:
serial console (captured to a log), QMP (power button), and, in the test
image, keel-testhook (a line protocol on port 7000, see src/testhook)."""
import json
import os
import re
import socket
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
OUT = os.path.join(ROOT, "out")
sys.path.insert(0, os.path.join(ROOT, "tools"))
import appliance  # noqa: E402

BOOT_TIMEOUT = 120  # seconds; TCG on a loaded 2-core machine can be slow

# KVM inside the TCG-emulated SVM of these machines now and then crashes or
# freezes a guest kernel, under keel-vmm and QEMU alike (docs/testing.md). A
# failed wait for a guest says so with this tag, and scripts/check.sh then
# runs the failed tests of that module once more.
PLATFORM_FAULT = "NESTED-PLATFORM-FAULT"
INTERRUPT_ENTRY_PANIC = "ENTRY_TRAMPOLINE stack guard page was hit"


def platform_fault(console, stats, vmm_log=""):
    """A line with PLATFORM_FAULT and the sign seen when a guest that failed
    its test shows one, else "". stats() reads keel-vmm's stats (docs/api.md);
    vmm_log is keel-vmm's log, where it has one."""
    if INTERRUPT_ENTRY_PANIC in console:
        return f"{PLATFORM_FAULT}: the guest kernel faulted at an interrupt entry\n"
    # multi-threaded TCG's fault: a triple fault back at the reset vector
    # before the guest printed anything (not a test's own triple fault)
    if re.search(r"vcpu\d+: triple fault", vmm_log) and \
            re.search(r"vcpu\d+: rip 0+fff0 ", vmm_log) and not console.strip():
        return f"{PLATFORM_FAULT}: the guest triple-faulted at the reset vector\n"
    try:
        before = stats()
        time.sleep(3)
        after = stats()
    except Exception:  # noqa: BLE001 -- a VM that is gone shows no sign
        return ""
    for a, b in zip(before.get("vcpus") or [], after.get("vcpus") or []):
        if sum(a["exits"].values()) == sum(b["exits"].values()) and \
                b["cpu_ns"] - a["cpu_ns"] > 2e9:
            return (f"{PLATFORM_FAULT}: vCPU {a['id']} spins inside KVM_RUN (no exit in 3 s, "
                    f"{(b['cpu_ns'] - a['cpu_ns']) / 1e9:.1f} s of CPU)\n")
    return ""


def wait_for_output(output, proc, what, pattern, timeout):
    """Waits for a regex in output() (a process's console) while proc runs;
    returns the match, or fails with the end of the output."""
    rx = re.compile(pattern)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        m = rx.search(output())
        if m:
            return m
        if proc.poll() is not None:
            m = rx.search(output())
            if m:
                return m
            stderr = proc.stderr.read().decode(errors="replace") if proc.stderr else ""
            raise AssertionError(f"{what} exited ({proc.returncode}) before {pattern!r}: "
                                 f"{stderr}; its output ends with:\n{output()[-2000:]}")
        time.sleep(0.1)
    raise AssertionError(f"timed out after {timeout}s waiting for {pattern!r}; "
                         f"the output ends with:\n{output()[-2000:]}")


class Appliance:
    def __init__(self, workdir, variant="test", disk=None, name="host"):
        self.workdir = workdir
        self.variant = variant
        self.disk = disk
        self.log = os.path.join(workdir, f"{name}-console.log")
        self.qmp_path = os.path.join(workdir, f"{name}-qmp.sock")
        self.proc = None
        self.api_port = self.hook_port = None
        self.boots = 0
        # the host's address for the API and hook forwards (None: DHCP's);
        # alt_ip: one more address forwarded to, as alt_api_port/alt_hook_port
        self.guest_ip = self.alt_ip = None
        self.alt_api_port = self.alt_hook_port = None
        self.spare_nics = 0
        self.rtc_base = None  # QEMU's -rtc base= (appliance.qemu_args)
        # the kernel command line's additions: no console UI (keel.dcui) but
        # where a test asks for it, so that the console shows the log
        self.append = "keel.dcui=none"
        # more of the host's TCP ports forwarded: {guest port: host port},
        # the host ports chosen at start (e.g. {22: None} for SSH)
        self.more_forwards = {}
        # the serial console on a unix socket (also logged as usual), for a
        # test that types on it (the console UI); None: a file only
        self.serial_socket = None
        # a path for OVMF's variable store: the host boots from its disk
        # through UEFI and its boot loader (image/mkdisk.sh), as a server
        # does; None: QEMU loads the kernel and initramfs of out/
        self.uefi_vars = None
        # more of QEMU's arguments (devices: a USB disk, say)
        self.more_args = []
        # the management NIC's network: None for QEMU's user network (slirp),
        # or a tagnet.TagNet, whose forwards then take hostfwd's place (to
        # its target_ip: guest_ip and alt_ip are not used with it)
        self.net = None

    @property
    def initrd(self):
        suffix = "" if self.variant == "product" else "-" + self.variant
        return os.path.join(OUT, f"initramfs{suffix}.img")

    def start(self):
        """Boots (again, when already booted once: the log is appended)."""
        assert self.proc is None or self.proc.poll() is not None
        if os.path.exists(self.log + ".boot"):
            self._archive()  # a boot that was never archived must not look like this one
        if self.net:
            assert not self.guest_ip and not self.alt_ip, "a TagNet forwards to its target_ip"
            forwards = None
            self.api_port = self.net.forward(443)
            self.hook_port = self.net.forward(7000)
            for guest in self.more_forwards:
                self.more_forwards[guest] = self.net.forward(guest)
        else:
            self.api_port = appliance.free_port()
            self.hook_port = appliance.free_port()
            ip = f"{self.guest_ip}:" if self.guest_ip else ""
            forwards = {f"{ip}443": self.api_port, f"{ip}7000": self.hook_port}
            for guest in self.more_forwards:
                self.more_forwards[guest] = appliance.free_port()
                forwards[f"{ip}{guest}"] = self.more_forwards[guest]
            if self.alt_ip:
                self.alt_api_port = appliance.free_port()
                self.alt_hook_port = appliance.free_port()
                forwards.update({f"{self.alt_ip}:443": self.alt_api_port,
                                 f"{self.alt_ip}:7000": self.alt_hook_port})
        with open(self.log, "a") as f:
            f.write(f"\n===== boot {self.boots + 1} =====\n")
        if os.path.exists(self.qmp_path):
            os.unlink(self.qmp_path)
        args = appliance.qemu_args(
            os.path.join(OUT, "vmlinuz"), self.initrd, self.disk,
            forwards=forwards, serial=f"file:{self.log}.boot", qmp=self.qmp_path,
            no_reboot=True, spare_nics=self.spare_nics, rtc_base=self.rtc_base,
            append=self.append, mgmt_netdev=self.net and self.net.netdev,
            uefi_vars=self.uefi_vars)
        if self.serial_socket:
            i = args.index("-serial")
            args[i + 1] = "chardev:ser0"
            args[i:i] = ["-chardev", f"socket,id=ser0,path={self.serial_socket},server=on,"
                         f"wait=off,logfile={self.log}.boot"]
        args += self.more_args
        self.proc = subprocess.Popen(args, stdin=subprocess.DEVNULL, env=appliance.qemu_env(),
                                     stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        self.boots += 1
        return self

    def console(self):
        """The console output of the current boot."""
        try:
            with open(self.log + ".boot", errors="replace") as f:
                return f.read()
        except FileNotFoundError:
            return ""

    def all_console(self):
        """The console of every boot so far, this one included."""
        try:
            with open(self.log, errors="replace") as f:
                earlier = f.read()
        except FileNotFoundError:
            earlier = ""
        return earlier + self.console()

    def _archive(self):
        """Appends this boot's console to the whole log; returns it."""
        text = self.console()
        with open(self.log, "a") as f:
            f.write(text)
        if os.path.exists(self.log + ".boot"):
            os.unlink(self.log + ".boot")
        return text

    def wait_for(self, pattern, timeout=BOOT_TIMEOUT):
        """Waits for a regex on this boot's console; returns the match."""
        return wait_for_output(self.console, self.proc, "QEMU", pattern, timeout)

    def wait_ready(self):
        self.wait_for(r"keel-init: ready in")
        # the forwards reach the host once it has its address
        self.wait_for(r"keel-dhcpc: lease |keel-init: net: \S+ static")
        if self.variant != "product":
            self.wait_for(r"keel-testhook: listening")
        return self

    def hook(self, request, data=b"", timeout=60):
        """One request to keel-testhook; returns the reply bytes."""
        with socket.create_connection(("127.0.0.1", self.hook_port), timeout=timeout) as s:
            s.sendall(request.encode() + b"\n" + data)
            s.shutdown(socket.SHUT_WR)
            chunks = []
            while True:
                b = s.recv(65536)
                if not b:
                    break
                chunks.append(b)
        return b"".join(chunks)

    def memory(self, pid, guest_bytes):
        """(rss, pss, guest_rss) of a VMM process in KiB, from its smaps;
        guest_rss is the Rss of its guest RAM mapping (guest_bytes or more)."""
        smaps = self.hook(f"cat /proc/{pid}/smaps").decode()
        rss = pss = guest_rss = size = 0
        for line in smaps.splitlines():
            if re.match(r"^[0-9a-f]+-[0-9a-f]+ ", line):
                lo, hi = (int(x, 16) for x in line.split()[0].split("-"))
                size = hi - lo
            elif line.startswith("Rss:"):
                kb = int(line.split()[1])
                rss += kb
                if size >= guest_bytes:
                    guest_rss += kb
            elif line.startswith("Pss:"):
                pss += int(line.split()[1])
        return rss, pss, guest_rss

    def qmp(self, command, arguments=None):
        with socket.socket(socket.AF_UNIX) as s:
            s.settimeout(10)
            s.connect(self.qmp_path)
            f = s.makefile("rw")
            f.readline()  # greeting
            for cmd, args in (("qmp_capabilities", None), (command, arguments)):
                f.write(json.dumps({"execute": cmd, **({"arguments": args} if args else {})})
                        + "\n")
                f.flush()
                while True:
                    reply = json.loads(f.readline())
                    if "return" in reply or "error" in reply:
                        break
            return reply

    def wait_off(self, timeout=120):
        """Waits for QEMU to exit; returns the console of the boot that ended."""
        self.proc.wait(timeout=timeout)
        return self._archive()

    def powerdown(self, timeout=120):
        """Presses the ACPI power button and waits for the host to power off."""
        self.qmp("system_powerdown")
        return self.wait_off(timeout)

    def kill(self):
        if self.proc and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
        if self.proc and os.path.exists(self.log + ".boot"):
            self._archive()


def partition_offset(disk, label):
    """The byte offset of the partition named `label` in a disk image."""
    parts = json.loads(subprocess.check_output(["sfdisk", "--json", disk]))
    for p in parts["partitiontable"]["partitions"]:
        if p.get("name") == label:
            return p["start"] * 512
    raise KeyError(label)


def seed_datastore(disk, files):
    """Copies files {datastore path: local file} into the datastore "local"
    of a Keel disk image that is not running, holes kept (debugfs): as if
    they had been uploaded, without pushing hundreds of MiB through the
    emulated network. Folders are made as needed."""
    target = f"{disk}?offset={partition_offset(disk, 'KEEL-DATASTORE')}"
    script = []
    for dest, src in files.items():
        folder, name = os.path.split(dest)
        parts = folder.split("/") if folder else []
        script += [f"mkdir {'/'.join(parts[:i + 1])}" for i in range(len(parts))]
        script += [f"cd /{folder}", f"write {src} {name}", "cd /"]
    subprocess.run(["debugfs", "-w", "-f", "-", target], input="\n".join(script) + "\n",
                   text=True, check=True, capture_output=True)
    for dest, src in files.items():  # (debugfs goes on after a failed command)
        stat = subprocess.run(["debugfs", "-R", f"stat /{dest}", target], text=True,
                              capture_output=True).stdout
        assert re.search(rf"Size: {os.path.getsize(src)}\b", stat), f"{dest} not seeded: {stat}"


def ext4_state(disk, label):
    """`dumpe2fs -h` of the partition named `label` in a disk image."""
    return subprocess.run(["dumpe2fs", "-h", f"{disk}?offset={partition_offset(disk, label)}"],
                          capture_output=True, text=True, check=True).stdout


def module_host(tmp_path_factory, pristine_disk, name, seed=None, **attrs):
    """A booted test appliance on its own copy of the disk, for the tests of
    one module; seed: files put on its datastore first (seed_datastore);
    attrs set Appliance attributes first (e.g. spare_nics)."""
    d = tmp_path_factory.mktemp(name)
    disk = str(d / "keel-disk.img")
    subprocess.check_call(["cp", "--sparse=always", pristine_disk, disk])
    if seed:
        seed_datastore(disk, seed)
    a = Appliance(str(d), "test", disk, name)
    for k, v in attrs.items():
        setattr(a, k, v)
    return a.start().wait_ready()
