"""`make bench`: keel-vmm and QEMU side by side, in one boot of the bench
appliance (the product image plus QEMU, iperf3 and keel-testhook), on the
same guest: the appliance's Debian kernel with the tests' busybox initramfs
(plus fio and iperf3 for the disk and network figures), 1 vCPU.

For each VMM (keel-vmm; QEMU -M microvm; QEMU q35 with virtio-pci), taken
in turn within each of RUNS rounds:
  boot     VMM process start to the guest's /init marker line on the serial
           console, by the hook's own timer (the same for every VMM), 256 MiB;
  memory   the VMM's RSS and PSS minus the guest RAM mapping's RSS, idle
           2 s after the marker;
  disk     fio in the guest on a raw image (virtio-blk, the same file on the
           appliance's RAM-backed /scratch for every VMM): 4k random read and
           write IOPS at queue depth 1 and 32, 1M sequential read and write;
  network  iperf3 between the guest (virtio-net on a TAP) and the host's
           bridge, both directions;
  density  128 MiB guests started one after another, each booted before the
           next, until a minute has passed or memory runs out: how many,
           and the mean memory overhead per VM;
  firmware VMM process start, through SeaBIOS (the same Debian
           bios-256k.bin; keel-vmm and QEMU q35 only), by the same timer: to
           a disk's boot sector (which writes its marker straight to COM1),
           and to the guest's /init marker from an ISO 9660 hybrid image
           (ISOLINUX, the same kernel and initramfs), a read-only disk;
           and through OVMF (the same Debian OVMF_CODE_4M.fd, a fresh
           copy of its empty variable store each boot) and systemd-boot
           to the /init marker from a GPT disk.
Results: bench/results/<date>-<commit>.json and .md (median, min, max and
the Keel/QEMU ratio), rewritten after every round. The bench asserts
nothing: it measures. These are ratios on emulated hardware (KVM nested in
QEMU TCG when the host has no VT-x/AMD-V), not absolute figures.

    bench/run.py [--runs N] [--heavy-runs N] [--smoke] [--vmms A,B] [--figures A,B]

A round of all five takes some 15 to 25 minutes nested under TCG (lost guests
are the slow part); --heavy-runs limits the rounds that measure disk,
network and density, while every round measures boot and memory.
--vmms and --figures measure only some (to study one figure; a report of
only some is not the bench's).

--smoke (`make check`) boots keel-vmm once and reports the boot figure, so
that the bench cannot rot; it fails only when no figure comes out.

A guest that never boots, or falls silent (see SILENCE), is counted as lost
to the nested platform, and what it did not measure is measured again
(ATTEMPTS in all); the report says how many were lost.
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

import bootdisks  # noqa: E402
import guest  # noqa: E402
from harness import OUT, Appliance  # noqa: E402

QEMU = "/sbin/qemu-system-x86_64"
# microvm as QEMU documents it for fast boots: no legacy PIT, PIC or RTC.
# (With them, the guest stalled for minutes in early boot here, nested
# under TCG.) q35 keeps its defaults.
# The guest's CPU is the host's, without PV EOI, as keel-vmm offers it
# (docs/vmm.md): with PV EOI, about half of QEMU's guests hung at boot here.
MACHINES = {"qemu-microvm": ("microvm,pit=off,pic=off,rtc=off", "device"),
            "qemu-q35": ("q35", "pci")}
VMMS = ["keel-vmm", "qemu-microvm", "qemu-q35"]
BRIDGE, HOST_IP, GUEST_IP = "kbench0", "10.77.0.1", "10.77.0.2"
DISK = "/scratch/bench-disk.img"
FIO_SECONDS = 2
# fio's jobs in the guest (rw:bs:iodepth) by the figure each gives
FIO_JOBS = {f"fio_{rw}_4k_qd{qd}_iops": f"{rw}:4k:{qd}"
            for qd in (1, 32) for rw in ("randread", "randwrite")}
FIO_JOBS.update({f"fio_{rw}_1M_mib_s": f"{rw}:1M:1" for rw in ("read", "write")})
IPERF_DIRS = {f"iperf_{d}_mbit_s": d for d in ("up", "down")}
# KVM nested in TCG now and then freezes or crashes a guest (docs/testing.md):
# a guest that fell silent for SILENCE seconds, or for FROZEN seconds while
# its VMM burnt a whole CPU (a frozen guest spins), is lost. What it did not
# measure is taken again, at most ATTEMPTS times in all, and the losses are
# counted.
SILENCE = 90
FROZEN = 30
ATTEMPTS = 5


def command(host, vmm, name, mem_mib, cmdline, initrd, disk=None, tap=None, bios=False,
            uefi=False):
    """The argv that starts `vmm` with this guest (keel-vmm's configuration
    is written into the appliance); with `bios`, SeaBIOS boots `disk`
    instead of a kernel; with `uefi`, OVMF does (with a fresh copy of its
    empty variable store each time)."""
    if vmm == "keel-vmm":
        cfg = {"name": name, "vcpus": 1, "memory_mib": mem_mib, "kernel": "/tmp/vmlinuz",
               "initrd": initrd, "cmdline": cmdline,
               "disks": [{"path": disk}] if disk else [],
               "nics": [{"tap": tap}] if tap else []}
        if bios or uefi:
            cfg = {"name": name, "vcpus": 1, "memory_mib": mem_mib,
                   "firmware": OVMF_CODE if uefi else SEABIOS,
                   "disks": [{"path": disk, "readonly": True}]}
        if uefi:
            cfg["nvram"] = fresh_nvram(host)
        host.hook(f"write /tmp/{name}.json", json.dumps(cfg).encode())
        return ["/sbin/keel-vmm", f"/tmp/{name}.json"]
    machine, bus = MACHINES[vmm]
    argv = [QEMU, "-M", machine, "-L", "/usr/share/qemu", "-L", "/usr/share/seabios",
            "-accel", "kvm", "-cpu", "host,kvm-pv-eoi=off", "-m", str(mem_mib), "-smp", "1",
            "-nodefaults", "-no-user-config", "-display", "none", "-serial", "stdio"]
    if uefi:
        argv += ["-drive", f"if=pflash,format=raw,readonly=on,file={OVMF_CODE}",
                 "-drive", f"if=pflash,format=raw,file={fresh_nvram(host)}"]
    elif not bios:
        argv += ["-kernel", "/tmp/vmlinuz", "-initrd", initrd, "-append", cmdline]
    if disk:
        readonly = ",readonly=on" if bios or uefi else ""
        argv += ["-drive", f"file={disk},if=none,id=d0,format=raw{readonly}",
                 "-device", f"virtio-blk-{bus},drive=d0"]
    if tap:
        argv += ["-netdev", f"tap,id=n0,ifname={tap},script=no,downscript=no",
                 # no iPXE option ROM: nothing here boots from the network
                 "-device", f"virtio-net-{bus},netdev=n0" + (",romfile=" if bus == "pci" else "")]
    return argv


def cpu_seconds(host, pid):
    """The CPU time process pid has used, or None once it is gone."""
    stat = host.hook(f"cat /proc/{pid}/stat").decode()
    if not stat.startswith(f"{pid} ("):
        return None
    fields = stat.rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def timed_boot(host, vmm, initrd, timeout, name="boot", mem_mib=256, marker="KEEL-GUEST-UP",
               **devices):
    """Boots to the guest's marker under the hook's timer: (ms, pid), or
    None (the VMM is killed then)."""
    argv = command(host, vmm, name, mem_mib, "console=ttyS0 keel.test=idle", initrd, **devices)
    host.hook(f"write /tmp/{name}.args", "\n".join(argv).encode())
    reply = host.hook(f"timed {marker} {timeout} /tmp/{name}.args",
                      timeout=timeout + 30).decode().split()
    if len(reply) >= 2 and reply[0] == "TIMEOUT":
        host.hook(f"kill {reply[1]} 9")
    if len(reply) != 3 or reply[0] != "MATCH":
        print(f"{vmm}: no guest marker within {timeout} s: {reply}", flush=True)
        return None
    return float(reply[1]), int(reply[2])


def boot_and_memory(host, vmm, initrd, timeout):
    booted = timed_boot(host, vmm, initrd, timeout)
    if not booted:
        return {}
    ms, pid = booted
    time.sleep(2)
    rss, pss, guest_rss = host.memory(pid, 256 << 20)
    host.hook(f"kill {pid} 9")
    return {"boot_ms": ms, "rss_overhead_kib": rss - guest_rss,
            "pss_overhead_kib": pss - guest_rss}


def run_guest(host, vmm, name, cmdline, initrd, timeout, **devices):
    """Runs a guest that powers itself off: its console (up to where it was
    lost, if it was)."""
    log = f"/scratch/{name}.log"
    host.hook(f"truncate {log} 0")
    argv = command(host, vmm, name, 512, cmdline, initrd, **devices)
    host.hook(f"write /tmp/{name}.args", "\n".join(argv).encode())
    pid = host.hook(f"spawn {log} @/tmp/{name}.args").decode().split()[1]
    deadline = time.monotonic() + timeout
    out, heard, cpu = "", time.monotonic(), None
    while time.monotonic() < deadline and "KEEL-GUEST-DONE" not in out:
        time.sleep(5)
        new = host.hook(f"cat {log}").decode(errors="replace")
        cpu, was = cpu_seconds(host, pid), cpu
        if new != out:
            out, heard = new, time.monotonic()
        elif time.monotonic() - heard > SILENCE or \
                (time.monotonic() - heard > FROZEN and None not in (cpu, was) and
                 cpu - was > 4.5):
            break
    # gone before the next guest opens the disk (QEMU locks it)
    host.hook(f"kill {pid} 9")
    time.sleep(1)
    if "KEEL-GUEST-DONE" not in out:
        crash = re.search(r"(BUG|Kernel panic)[^\n]*", out)
        kept = os.path.join(ROOT, "build", "bench", f"lost-{vmm}-{name}-{int(time.time())}.log")
        with open(kept, "w") as f:
            f.write(out)
        print(f"{vmm}: {name} did not finish"
              f"{': the guest died: ' + crash.group(0) if crash else ''} (console: {kept})",
              flush=True)
    return out


def disk(host, vmm, initrd, timeout, wanted):
    jobs = ",".join(FIO_JOBS[k] for k in wanted)
    out = run_guest(host, vmm, "fio", f"console=ttyS0 keel.test=virtio keel.fiojobs={jobs} "
                    f"keel.fio={FIO_SECONDS}", initrd, timeout, disk=DISK)
    figures = {}
    for m in re.finditer(r"KEEL-FIO (\w+)-(\w+)-qd(\d+) read_iops=([\d.]+) read_kib_s=(\d+) "
                         r"write_iops=([\d.]+) write_kib_s=(\d+)", out):
        rw, bs, qd = m.group(1), m.group(2), m.group(3)
        reading = "read" in rw
        iops, kib = (m.group(4), m.group(5)) if reading else (m.group(6), m.group(7))
        if bs == "4k":
            figures[f"fio_{rw}_4k_qd{qd}_iops"] = float(iops)
        else:
            figures[f"fio_{rw}_1M_mib_s"] = int(kib) / 1024
    return figures


def network(host, vmm, initrd, timeout, wanted):
    # a fresh iperf3 server each time: a test left hanging by a guest that
    # was killed must not block the next VMM's
    server = host.hook(f"spawn /scratch/iperf3.log /sbin/iperf3 -s -B {HOST_IP} "
                       "--idle-timeout 30").decode().split()[1]
    dirs = ",".join(IPERF_DIRS[k] for k in wanted)
    out = run_guest(host, vmm, "iperf", f"console=ttyS0 keel.test=virtio keel.ip={GUEST_IP}/24 "
                    f"keel.iperfdirs={dirs} keel.iperf={HOST_IP}", initrd, timeout,
                    tap="ktapb0")
    host.hook(f"kill {server} 9")
    return {f"iperf_{d}_mbit_s": float(v)
            for d, v in re.findall(r"KEEL-IPERF (up|down) ([\d.]+)", out)}


def mem_available_kib(host):
    meminfo = host.hook("cat /proc/meminfo").decode()
    return int(re.search(r"MemAvailable:\s+(\d+)", meminfo).group(1))


def density(host, vmm, initrd, timeout):
    """128 MiB guests, one after another, each booted, for a minute."""
    pids, start = [], time.monotonic()
    while time.monotonic() - start < 60 and mem_available_kib(host) > 256 * 1024:
        left = int(60 - (time.monotonic() - start)) + 1  # a boot that ends later does not count
        booted = timed_boot(host, vmm, initrd, min(left, timeout), name=f"dens{len(pids)}",
                            mem_mib=128)
        if not booted:
            break
        pids.append(booted[1])
    overheads = []
    for pid in pids:
        rss, _, guest_rss = host.memory(pid, 128 << 20)
        overheads.append(rss - guest_rss)
    for pid in pids:
        host.hook(f"kill {pid} 9")
    time.sleep(1)
    if not pids:  # not even the first came up
        return {}
    return {"density_vms": len(pids), "density_overhead_kib": statistics.mean(overheads)}


SEABIOS = "/usr/share/keel/firmware/bios-256k.bin"  # the image's (hostd/vmfiles.h)
OVMF_CODE = "/usr/share/keel/firmware/OVMF_CODE_4M.fd"
OVMF_VARS = "/usr/share/keel/firmware/OVMF_VARS_4M.fd"
BOOT_SECTOR = "/tmp/bench-mbr.img"
BOOT_MARKER = "KEEL-BIOS-BOOT"
LINUX_ISO = "/scratch/bench-linux.iso"
LINUX_GPT = "/scratch/bench-linux-gpt.img"  # systemd-boot on the ESP
# the figure: (disk, marker, firmware)
FIRMWARE_BOOTS = {"firmware_bios_boot_sector_ms": (BOOT_SECTOR, BOOT_MARKER, "bios"),
                  "firmware_bios_linux_init_ms": (LINUX_ISO, "KEEL-GUEST-UP", "bios"),
                  "firmware_uefi_linux_init_ms": (LINUX_GPT, "KEEL-GUEST-UP", "uefi")}


def fresh_nvram(host):
    """A copy of OVMF's empty variable store, as a new UEFI VM gets."""
    host.hook("write /tmp/bench-vars.fd", host.hook(f"cat {OVMF_VARS}"))
    return "/tmp/bench-vars.fd"


def firmware(host, vmm, img, timeout, wanted):
    """SeaBIOS from the reset vector to a disk's boot sector, and through
    ISOLINUX to the guest's /init; OVMF through systemd-boot to it."""
    figures = {}
    for key in wanted:
        disk, marker, kind = FIRMWARE_BOOTS[key]
        booted = timed_boot(host, vmm, None, timeout * (3 if kind == "uefi" else 1),
                            name=kind, marker=marker, disk=disk, **{kind: True})
        if not booted:
            break
        host.hook(f"kill {booted[1]} 9")
        time.sleep(1)
        figures[key] = booted[0]
    return figures


def measure(lost, what, fn, *args, wanted=None):
    """fn's figures, taken again when its guest was lost (counted in lost).
    With wanted (the figures fn can give), fn takes the list of those still
    missing, so that a lost guest's figures are kept."""
    figures = {}
    for _ in range(ATTEMPTS):
        missing = [k for k in wanted if k not in figures] if wanted else []
        figures.update(fn(*args, missing) if wanted else fn(*args))
        if figures and all(k in figures for k in wanted or ()):
            break
        lost[what] = lost.get(what, 0) + 1
    return figures


# what a round measures: the function, the guest's initramfs, its wait (in
# --timeout) and the figures it gives (for those that run several jobs)
TOOLS = "/scratch/tools.img"
PARTS = {"boot": (boot_and_memory, "/tmp/initrd", 1, None),
         "disk": (disk, TOOLS, 3, FIO_JOBS),
         "network": (network, TOOLS, 2, IPERF_DIRS),
         "density": (density, "/tmp/initrd", 1, None),
         "firmware": (firmware, None, 1, FIRMWARE_BOOTS)}


def summary(values):
    return {"median": statistics.median(values), "min": min(values), "max": max(values),
            "n": len(values)}


def report(result, stem):
    figures = result["figures"]
    keys = sorted({k for fig in figures.values() for k in fig},
                  key=lambda k: (not k.startswith("boot"), k))
    lines = [f"# keel-vmm vs QEMU, {result['date']} ({result['commit']}), "
             f"{result['runs']} runs each", "",
             "KVM nested in QEMU TCG (no VT-x/AMD-V on the host): ratios, not absolute "
             "figures. Lower is better for time and memory, higher for the rest.", "",
             "| figure | VMM | median | min | max | runs | Keel/VMM |",
             "|---|---|---|---|---|---|---|"]
    for key in keys:
        keel = figures.get("keel-vmm", {}).get(key, {}).get("median")
        for name, fig in figures.items():
            if key not in fig:
                continue
            f = fig[key]
            ratio = f"{keel / f['median']:.2f}" if keel is not None and f["median"] else "-"
            lines.append(f"| {key} | {name} | {f['median']:.1f} | {f['min']:.1f} | "
                         f"{f['max']:.1f} | {f['n']} | {ratio} |")
    lost = "; ".join(f"{name} " + ", ".join(f"{what} {n}" for what, n in sorted(w.items()))
                     for name, w in result["lost_guests"].items() if w)
    lines += ["", "A figure with fewer runs than the others failed in the missing runs.",
              f"Guests lost to the nested platform (frozen or crashed; each loss was measured "
              f"again, {ATTEMPTS} attempts at most): {lost or 'none'}.",
              f"Product image: {result['product_image_bytes']}; appliance boot to ready: "
              f"{result['appliance_ready_s']} s, to API ready: {result['api_ready_s']} s "
              "(kernel clock)."]
    with open(stem + ".md", "w") as f:
        f.write("\n".join(lines) + "\n")
    return lines


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=5, help="rounds of boot and memory")
    ap.add_argument("--heavy-runs", type=int, default=5,
                    help="of those rounds, how many also measure disk, network and density")
    ap.add_argument("--timeout", type=int, default=60, help="seconds to wait for a guest")
    ap.add_argument("--smoke", action="store_true", help="one keel-vmm boot (make check)")
    ap.add_argument("--vmms", default=",".join(VMMS),
                    help=f"the VMMs to measure, of {','.join(VMMS)}")
    ap.add_argument("--figures", default=",".join(PARTS),
                    help=f"what to measure, of {','.join(PARTS)} (boot includes memory)")
    args = ap.parse_args()
    vmms, parts = args.vmms.split(","), set(args.figures.split(","))
    if not set(vmms) <= set(VMMS) or not parts <= set(PARTS):
        ap.error("unknown VMM or figure")
    work = os.path.join(ROOT, "build", "bench")
    os.makedirs(work, exist_ok=True)
    initrd = guest.build_initrd(os.path.join(work, "guest-initrd.img"))
    tools = None if args.smoke else guest.build_initrd(
        os.path.join(work, "guest-tools.img"), ["/usr/bin/fio", "/usr/bin/iperf3"])
    host = Appliance(work, "bench", None, "benchhost")
    started = datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds")
    commit = subprocess.run(["git", "-C", ROOT, "rev-parse", "--short", "HEAD"],
                            capture_output=True, text=True).stdout.strip() or "unknown"
    samples = {name: [] for name in vmms}
    lost_guests = {name: {} for name in vmms}
    try:
        host.start().wait_ready()
        ready = re.search(r"keel-init: ready in ([0-9.]+)s", host.console())
        api = host.wait_for(r"\[\s*([0-9.]+)\] keel-hostd: API ready")
        with open(os.path.join(OUT, "vmlinuz"), "rb") as f:
            host.hook("write /tmp/vmlinuz", f.read())
        with open(initrd, "rb") as f:
            host.hook("write /tmp/initrd", f.read())
        if args.smoke:  # a rotten bench gets no figure in any attempt
            lost = {}
            figure = measure(lost, "boot", boot_and_memory, host, "keel-vmm", "/tmp/initrd",
                             args.timeout)
            print(f"bench smoke: keel-vmm {figure}, guests lost: {lost.get('boot', 0)}")
            return 0 if figure else 1
        with open(tools, "rb") as f:
            host.hook(f"write {TOOLS}", f.read())
        host.hook(f"write {BOOT_SECTOR}", guest.boot_sector(BOOT_MARKER.encode() + b"\r\n",
                                                            serial=True))
        iso = bootdisks.iso_image(work, os.path.join(OUT, "vmlinuz"), initrd,
                                  "console=ttyS0 keel.test=idle")
        with open(iso, "rb") as f:
            host.hook(f"write {LINUX_ISO}", f.read())
        gpt = bootdisks.uefi_disk(work, os.path.join(OUT, "vmlinuz"), initrd,
                                  "console=ttyS0 keel.test=idle")
        with open(gpt, "rb") as f:
            host.hook(f"write {LINUX_GPT}", f.read())
        # allocated, so that the VMM that runs first does not pay for the
        # pages its writes would otherwise add to the file
        assert host.hook(f"fallocate {DISK} {256 << 20}") == b"OK\n"
        assert host.hook(f"bridge {BRIDGE} {HOST_IP}/24 ktapb0") == b"OK\n"
        for i in range(args.runs):
            for name in vmms:  # alternating, so that drift hits every VMM alike
                lost = lost_guests[name]
                sample = {}
                for part, (fn, img, waits, wanted) in PARTS.items():
                    if part == "firmware" and name == "qemu-microvm":
                        continue  # qboot boots kernels only
                    if part in parts and (part == "boot" or i < args.heavy_runs):
                        sample.update(measure(lost, part, fn, host, name, img,
                                              waits * args.timeout, wanted=wanted))
                samples[name].append(sample)
                print(f"run {i + 1}/{args.runs} {name}: {sample}", flush=True)
            lines = write_results(args, parts, started, commit,
                                  float(ready.group(1)) if ready else None,
                                  float(api.group(1)), samples, lost_guests)
        print("\n".join(lines))
    finally:
        host.kill()
    return 0


def write_results(args, parts, started, commit, ready_s, api_s, samples, lost_guests):
    """The results so far (rewritten after every round, so that a bench cut
    short still leaves them): JSON and the markdown table."""
    sizes = {n: os.path.getsize(os.path.join(OUT, n)) for n in ("vmlinuz", "initramfs.img")
             if os.path.exists(os.path.join(OUT, n))}
    figures = {}
    for name, runs in samples.items():
        keys = {k for s in runs for k in s}
        figures[name] = {k: summary([s[k] for s in runs if k in s]) for k in keys}
    rounds = min(len(runs) for runs in samples.values())
    result = {
        "date": started, "commit": commit, "runs": rounds,
        "heavy_runs": min(args.heavy_runs, rounds),
        "guest": {"vcpus": 1, "memory_mib": 256, "fio_memory_mib": 512,
                  "density_memory_mib": 128, "fio_seconds_per_job": FIO_SECONDS},
        "product_image_bytes": sizes, "appliance_ready_s": ready_s, "api_ready_s": api_s,
        "figures": figures, "samples": samples, "lost_guests": lost_guests,
        "note": "ratios on emulated hardware (KVM nested in QEMU TCG), not absolute figures",
    }
    os.makedirs(os.path.join(ROOT, "bench", "results"), exist_ok=True)
    stem = os.path.join(ROOT, "bench", "results", f"{started[:10]}-{commit}")
    if set(samples) != set(VMMS) or parts != set(PARTS):
        stem += "-partial"  # not the bench's whole report
    with open(stem + ".json", "w") as f:
        json.dump(result, f, indent=2)
    lines = report(result, stem)
    print(f"bench: {rounds} of {args.runs} rounds in {stem}.json and {stem}.md", flush=True)
    return lines


if __name__ == "__main__":
    sys.exit(main())
