#!/usr/bin/env python3
"""`make platform-check`: how often the nested test platform (KVM inside a
TCG-emulated appliance, docs/testing.md) lets a guest boot.

Boots one test appliance with the given vCPUs and TCG threading, then boots
each guest N times in it, one after the other, with keel-vmm: the busybox
guest (to its /init marker, then it powers off) and the systemd guest
(debian_guest.py: to multi-user.target and its KEEL-SYSTEMD-UP line). Each
boot is counted as ok (with its time from keel-vmm's start to the marker),
or by the fault that ended it: the interrupt-entry panic, a triple fault,
another kernel panic, a vCPU spinning inside KVM_RUN, or a hang. Prints a
table (Markdown) and writes it, with every boot, to a JSON file; every
guest's console and keel-vmm log go beside it (build/platform-check/)."""
import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import debian_guest  # noqa: E402
import guest  # noqa: E402
from harness import (INTERRUPT_ENTRY_PANIC, OUT, ROOT, Appliance,  # noqa: E402
                     platform_fault, seed_datastore)
from vmmhost import GUEST_CMDLINE, VM, config  # noqa: E402

GUESTS = {
    # name: (marker, timeout in s, config changes), as the tests boot them
    "busybox": (guest.MARKER, 120, {"cmdline": f"{GUEST_CMDLINE} keel.test=poweroff"}),
    "systemd": (debian_guest.MARKER, 300, {
        "memory_mib": 512, "cmdline": debian_guest.CMDLINE,
        "disks": [{"path": "/datastores/local/guest/debian.img"}]}),
}


def classify(vm, marker, timeout):
    """('ok', seconds) or (the fault, seconds until it was seen)."""
    t0 = time.monotonic()
    while time.monotonic() - t0 < timeout:
        console = vm.console()
        if marker in console:
            return "ok", time.monotonic() - t0
        if INTERRUPT_ENTRY_PANIC in console:
            return "interrupt-entry panic", time.monotonic() - t0
        if vm.exit_code() is not None:
            log = vm.vmm_log()
            kind = "triple fault" if "triple fault" in log else f"exit {vm.exit_code()}"
            return kind, time.monotonic() - t0
        if "Kernel panic" in console:
            return "other panic", time.monotonic() - t0
        time.sleep(0.5)
    spin = platform_fault(vm.console(), lambda: vm.ctl("stats"))
    return ("spin in KVM_RUN" if spin else "hang"), time.monotonic() - t0


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("-n", type=int, default=20, help="boots of each guest (20)")
    ap.add_argument("--cpus", type=int, default=None, help="appliance vCPUs (appliance.py's default)")
    ap.add_argument("--thread", choices=("single", "multi"), default=None,
                    help="TCG threading (appliance.py's default)")
    ap.add_argument("--guests", default="busybox,systemd")
    ap.add_argument("--vcpus", type=int, default=1, help="guest vCPUs (1)")
    ap.add_argument("--out", default=os.path.join(ROOT, "build", "platform-check"))
    a = ap.parse_args()
    if a.cpus:
        os.environ["KEEL_APPLIANCE_CPUS"] = str(a.cpus)
    if a.thread:
        os.environ["KEEL_TCG_THREAD"] = a.thread
    import appliance
    accel = " ".join(appliance.accel_args()) + f" -smp {appliance.default_cpus()}"
    guests = a.guests.split(",")
    tag = re.sub(r"[^a-z0-9]+", "-", f"{accel} {a.guests}".lower()).strip("-")
    consoles = os.path.join(a.out, tag)
    os.makedirs(consoles, exist_ok=True)
    work = tempfile.mkdtemp(prefix="platform-check-")
    disk = os.path.join(work, "keel-disk.img")
    subprocess.run([os.path.join(ROOT, "image", "mkdisk.sh"), disk, "8"], check=True,
                   stdout=subprocess.DEVNULL)
    files = {"guest/vmlinuz": os.path.join(OUT, "vmlinuz"),
             "guest/initrd": guest.build_initrd(os.path.join(work, "initrd"))}
    if "systemd" in guests:
        files["guest/debian.img"] = debian_guest.disk_image()
    seed_datastore(disk, files)
    host = Appliance(work, "test", disk, "pc").start().wait_ready()
    boots = []
    try:
        for name in guests:
            marker, timeout, change = GUESTS[name]
            for i in range(a.n):
                cfg = config(f"{name}{i}", vcpus=a.vcpus, kernel="/datastores/local/guest/vmlinuz",
                             initrd="/datastores/local/guest/initrd", **change)
                vm = VM(host, cfg["name"], cfg)
                result, seconds = classify(vm, marker, timeout)
                boots.append({"guest": name, "boot": i + 1, "result": result,
                              "seconds": round(seconds, 1)})
                print(f"platform-check: {name} boot {i + 1}/{a.n}: {result} after {seconds:.1f} s",
                      flush=True)
                with open(os.path.join(consoles, f"{cfg['name']}.console"), "w") as f:
                    f.write(vm.console() + "\n--- keel-vmm:\n" + vm.vmm_log())
                if vm.exit_code() is None:
                    host.hook(f"kill {vm.pid} 9")
                    vm.wait_exit(timeout=60)
    finally:
        host.kill()
        shutil.rmtree(work)
    rows = []
    for name in guests:
        mine = [b for b in boots if b["guest"] == name]
        ok = [b["seconds"] for b in mine if b["result"] == "ok"]
        faults = {}
        for b in mine:
            if b["result"] != "ok":
                faults[b["result"]] = faults.get(b["result"], 0) + 1
        median = sorted(ok)[len(ok) // 2] if ok else None
        rows.append(f"| {accel} | {name} | {len(ok)}/{len(mine)} | "
                    + (", ".join(f"{k} {v}" for k, v in faults.items()) or "none")
                    + f" | {median if median is not None else '-'} |")
    table = ("| appliance | guest | reached marker | faults | median s to marker |\n"
             "|---|---|---|---|---|\n" + "\n".join(rows))
    print(table)
    with open(os.path.join(a.out, f"{tag}.json"), "w") as f:
        json.dump({"accel": accel, "boots": boots, "table": table}, f, indent=1)
    return 0


if __name__ == "__main__":
    sys.exit(main())
