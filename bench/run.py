"""`make bench`: keel-vmm and QEMU side by side, in one boot of the bench
appliance (the product image plus QEMU and keel-testhook), on the same
guest: the appliance's Debian kernel with the tests' busybox initramfs,
1 vCPU, 256 MiB.

For each VMM (keel-vmm; QEMU -M microvm; QEMU q35 with virtio-pci), taken
in turn, RUNS times:
  boot     the time from the VMM process start to the guest's /init marker
           line on the serial console, by the hook's own timer (the same for
           every VMM);
  memory   the VMM's RSS and PSS minus the guest RAM mapping's RSS, idle
           2 s after the marker.
Results go to bench/results/<date>-<commit>.json and .md. The bench asserts
nothing: it measures. These are ratios on emulated hardware (KVM nested in
QEMU TCG when the host has no VT-x/AMD-V), not absolute figures.

    bench/run.py [--runs N]
"""
import argparse
import datetime
import json
import os
import re
import statistics
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "tests", "system"))

import guest  # noqa: E402
from harness import OUT, Appliance  # noqa: E402

MEM_MIB = 256
APPEND = "console=ttyS0 keel.test=idle"
QEMU = "/sbin/qemu-system-x86_64"
QEMU_COMMON = ["-L", "/usr/share/qemu", "-L", "/usr/share/seabios", "-accel", "kvm", "-cpu", "host", "-m", str(MEM_MIB), "-smp", "1",
               "-nodefaults", "-no-user-config", "-display", "none", "-serial", "stdio",
               "-kernel", "/tmp/vmlinuz", "-initrd", "/tmp/initrd", "-append", APPEND]
VMMS = {
    "keel-vmm": ["/sbin/keel-vmm", "/tmp/bench.json"],
    "qemu-microvm": [QEMU, "-M", "microvm"] + QEMU_COMMON,
    "qemu-q35": [QEMU, "-M", "q35"] + QEMU_COMMON,
}


def run_once(host, name, timeout):
    """One boot; None if the guest's marker did not appear in time."""
    host.hook("write /tmp/bench.args", "\n".join(VMMS[name]).encode())
    reply = host.hook(f"timed KEEL-GUEST-UP {timeout} /tmp/bench.args",
                      timeout=timeout + 30).decode().split()
    if len(reply) >= 2 and reply[0] == "TIMEOUT":
        host.hook(f"kill {reply[1]} 9")
    if len(reply) != 3 or reply[0] != "MATCH":
        print(f"{name}: no guest marker within {timeout} s: {reply}", flush=True)
        return None
    ms, pid = float(reply[1]), int(reply[2])
    time.sleep(2)
    rss, pss, guest_rss = host.memory(pid, MEM_MIB << 20)
    host.hook(f"kill {pid} 9")
    return {"boot_ms": ms, "rss_overhead_kib": rss - guest_rss, "pss_overhead_kib": pss - guest_rss}


def summary(values):
    return {"median": statistics.median(values), "min": min(values), "max": max(values)}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--timeout", type=int, default=180, help="seconds to wait for a guest")
    args = ap.parse_args()
    work = os.path.join(ROOT, "build", "bench")
    os.makedirs(work, exist_ok=True)
    initrd = guest.build_initrd(os.path.join(work, "guest-initrd.img"))
    host = Appliance(work, "bench", None, "benchhost")
    try:
        host.start().wait_ready()
        ready = re.search(r"keel-init: ready in ([0-9.]+)s", host.console())
        with open(os.path.join(OUT, "vmlinuz"), "rb") as f:
            host.hook("write /tmp/vmlinuz", f.read())
        with open(initrd, "rb") as f:
            host.hook("write /tmp/initrd", f.read())
        cfg = {"name": "bench", "vcpus": 1, "memory_mib": MEM_MIB, "kernel": "/tmp/vmlinuz",
               "initrd": "/tmp/initrd", "cmdline": APPEND}
        host.hook("write /tmp/bench.json", json.dumps(cfg).encode())
        samples = {name: [] for name in VMMS}
        for i in range(args.runs):
            for name in VMMS:  # alternating, so that drift hits every VMM alike
                sample = run_once(host, name, args.timeout)
                if sample:
                    samples[name].append(sample)
                print(f"run {i + 1}/{args.runs} {name}: {sample}", flush=True)
    finally:
        host.kill()

    commit = subprocess.run(["git", "-C", ROOT, "rev-parse", "--short", "HEAD"],
                            capture_output=True, text=True).stdout.strip() or "unknown"
    sizes = {n: os.path.getsize(os.path.join(OUT, n)) for n in ("vmlinuz", "initramfs.img")
             if os.path.exists(os.path.join(OUT, n))}
    result = {
        "date": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
        "commit": commit, "runs": args.runs, "guest": {"vcpus": 1, "memory_mib": MEM_MIB},
        "product_image_bytes": sizes,
        "appliance_ready_s": float(ready.group(1)) if ready else None,
        "figures": {name: {k: summary([s[k] for s in runs]) for k in runs[0]}
                    for name, runs in samples.items() if runs},
        "failed_runs": {name: args.runs - len(runs) for name, runs in samples.items()},
        "samples": samples,
        "note": "ratios on emulated hardware (KVM nested in QEMU TCG), not absolute figures",
    }
    os.makedirs(os.path.join(ROOT, "bench", "results"), exist_ok=True)
    stem = os.path.join(ROOT, "bench", "results", f"{result['date'][:10]}-{commit}")
    with open(stem + ".json", "w") as f:
        json.dump(result, f, indent=2)
    lines = [f"# keel-vmm vs QEMU, {result['date']} ({commit}), {args.runs} runs each", "",
             "KVM nested in QEMU TCG: ratios, not absolute figures.", "",
             "| figure | VMM | median | min | max | Keel/VMM |", "|---|---|---|---|---|---|"]
    for key in ("boot_ms", "rss_overhead_kib", "pss_overhead_kib"):
        keel = result["figures"].get("keel-vmm", {}).get(key, {}).get("median", float("nan"))
        for name, fig in result["figures"].items():
            f = fig[key]
            ratio = keel / f["median"] if f["median"] else float("nan")
            lines.append(f"| {key} | {name} | {f['median']:.1f} | {f['min']:.1f} | "
                         f"{f['max']:.1f} | {ratio:.2f} |")
    lines += ["", f"Runs without a guest marker: {result['failed_runs']}.",
              f"Product image: {sizes}; appliance boot to ready: {result['appliance_ready_s']} s."]
    with open(stem + ".md", "w") as f:
        f.write("\n".join(lines) + "\n")
    print("\n".join(lines))
    print(f"bench: results in {stem}.json and {stem}.md")


if __name__ == "__main__":
    main()
