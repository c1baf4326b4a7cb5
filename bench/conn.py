"""`make bench-conn`: how many idle connections keel-hostd holds while a
fresh client still gets its answer, measured on this machine with the
system tests' native host (tests/system/native.py: the keel-hostd of
build/, in namespaces of its own; root only).

For each N of --idle, the bench holds N connections that send nothing or
half a TLS ClientHello (alternately), from ceil(N / 63) client addresses
(hostd takes 64 connections per source). hostd closes each 10 s after it
accepted it (no request came: CONN_FIRST_DEADLINE in http.c); the bench
opens another at once in its place, as a slow-loris client would, so
that N stay held. For --seconds, a fresh client (a new TCP connection and
TLS handshake each time, from an address of its own) meanwhile asks, in
turn, GET /api/v1/host with a session token and POST /api/v1/session (a
login of root, with the password hash's cost). Reported per N: the
connections held when each answer came (min, median), the latency of each
request (median, max, and how many took over 2 s or failed), hostd's CPU
and RSS. The client runs on the same 2 cores as hostd: its own time is in
the latency.

Results: bench/results/conn-<date>-<commit>.json and .md. The bench asserts
nothing: it measures.

    bench/conn.py [--idle 0,1000,3000,3900] [--seconds 30]
"""
import argparse
import datetime
import json
import math
import os
import resource
import selectors
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "tests", "system"))

from api import Api, connect  # noqa: E402
from native import NativeHost  # noqa: E402

PER_SOURCE = 63  # of hostd's 64 per source
HALF_HELLO = bytes.fromhex("1603010200010001fc0303") + bytes(16)
SLOW = 2.0  # s: the answer the issue asks for


class Holder(threading.Thread):
    """Holds n idle connections from `sources`, opening a new one for each
    that hostd closes, until stop() is called."""

    def __init__(self, address, port, sources, n):
        super().__init__(daemon=True)
        self.address, self.port, self.n = address, port, n
        self.sources = [src for src in sources for _ in range(PER_SOURCE)][:n]
        self.sel = selectors.DefaultSelector()
        self.closed = self.failed = 0
        self.done = threading.Event()

    def held(self):
        return len(self.sel.get_map())

    def open(self, src, k):
        s = socket.socket()
        try:
            s.settimeout(2)
            s.bind((src, 0))
            s.connect((self.address, self.port))
            if k % 2:
                s.sendall(HALF_HELLO)
            s.setblocking(False)
            self.sel.register(s, selectors.EVENT_READ, (src, k))
            return True
        except OSError:
            s.close()
            self.failed += 1
            return False

    def run(self):
        todo = list(enumerate(self.sources))
        while not self.done.is_set():
            todo = [(k, src) for k, src in todo if not self.open(src, k)]
            for key, _ in self.sel.select(timeout=0.05):
                try:
                    if key.fileobj.recv(4096):
                        continue  # a TLS alert: its end comes next
                except BlockingIOError:
                    continue
                except OSError:
                    pass
                self.sel.unregister(key.fileobj)
                key.fileobj.close()
                self.closed += 1
                todo.append((key.data[1], key.data[0]))

    def stop(self):
        self.done.set()
        self.join()
        for key in list(self.sel.get_map().values()):
            key.fileobj.close()


def cpu_ticks(pid):
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return int(fields[11]) + int(fields[12])  # utime + stime


def rss_kib(pid):
    with open(f"/proc/{pid}/status") as f:
        return int(next(line for line in f if line.startswith("VmRSS:")).split()[1])


def summary(values):
    if not values:
        return None
    return {"median": round(statistics.median(values), 4), "max": round(max(values), 4),
            "n": len(values), "over_2s": sum(v > SLOW for v in values)}


def measure(api, host, sources, n, seconds):
    holder = Holder(host.address, api.port, sources, n)
    holder.start()
    t0 = time.monotonic()
    while holder.held() < n and time.monotonic() - t0 < 20:
        time.sleep(0.1)
    fill_s = time.monotonic() - t0
    fresh = Api(api.port, api.fingerprint, api.token, address=api.address)
    login = Api(api.port, api.fingerprint, address=api.address)
    lat = {"get_host": [], "login": []}
    failed = {"get_host": 0, "login": 0}
    held, rss = [], []
    ticks, start = cpu_ticks(host.pid), time.monotonic()
    end = start + seconds
    i = 0
    while time.monotonic() < end:
        what = "login" if i % 2 else "get_host"
        i += 1
        t = time.monotonic()
        try:
            if what == "login":
                status = login.raw("POST", "/api/v1/session",
                                   {"user": "root", "password": api.password}, timeout=30)[0]
            else:
                status = fresh.raw("GET", "/api/v1/host", timeout=30)[0]
        except OSError:
            status = None
        if status in (200, 201):
            lat[what].append(time.monotonic() - t)
        else:
            failed[what] += 1
        held.append(holder.held())
        rss.append(rss_kib(host.pid))
        time.sleep(0.2)
    cpu = (cpu_ticks(host.pid) - ticks) / os.sysconf("SC_CLK_TCK") / (time.monotonic() - start)
    holder.stop()
    return {"idle": n, "fill_s": round(fill_s, 1), "seconds": seconds,
            "held": {"min": min(held), "median": statistics.median(held)},
            "closed_by_hostd_and_reopened": holder.closed, "open_failed": holder.failed,
            "latency_s": {k: summary(v) for k, v in lat.items()}, "failed": failed,
            "hostd_cpu": round(cpu, 2), "hostd_rss_kib": max(rss)}


def report(result, stem):
    lines = [f"# keel-hostd: idle connections held and a fresh client's latency, "
             f"{result['date']} ({result['commit']})", "",
             f"keel-hostd native on this machine ({os.cpu_count()} cores, client and hostd "
             f"alike); {result['seconds']} s per row; idle connections send nothing or half "
             "a TLS ClientHello, each closed by hostd 10 s after accept and opened again by "
             "the bench. Latency: a new TCP connection, TLS handshake and request.", "",
             "| idle held (min / median) | GET /host median / max s | login median / max s "
             "| over 2 s | failed | closed and reopened | hostd CPU | hostd RSS MiB |",
             "|---|---|---|---|---|---|---|---|"]
    for r in result["rows"]:
        g, lg = r["latency_s"]["get_host"], r["latency_s"]["login"]

        def cell(s):
            return f"{s['median']:.3f} / {s['max']:.3f}" if s else "-"
        over = sum(s["over_2s"] for s in (g, lg) if s)
        lines.append(f"| {r['held']['min']} / {r['held']['median']:.0f} | {cell(g)} | "
                     f"{cell(lg)} | {over} | {sum(r['failed'].values())} | "
                     f"{r['closed_by_hostd_and_reopened']} | {r['hostd_cpu']:.2f} | "
                     f"{r['hostd_rss_kib'] / 1024:.0f} |")
    with open(stem + ".md", "w") as f:
        f.write("\n".join(lines) + "\n")
    return lines


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--idle", default="0,1000,3000,3900",
                    help="the numbers of idle connections to hold, one row each")
    ap.add_argument("--seconds", type=int, default=30, help="measuring time per row")
    args = ap.parse_args()
    counts = [int(n) for n in args.idle.split(",")]
    if os.geteuid() != 0:
        ap.error("the native host needs root")
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (min(max(counts) + 512, hard), hard))
    started = datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds")
    commit = subprocess.run(["git", "-C", ROOT, "rev-parse", "--short", "HEAD"],
                            capture_output=True, text=True).stdout.strip() or "unknown"
    host = NativeHost(tempfile.mkdtemp(prefix="keel-bench-conn-"))
    try:
        host.start()
        api = connect(host, address=host.address)
        sources = host.add_sources(math.ceil(max(counts) / PER_SOURCE))
        result = {"date": started, "commit": commit, "seconds": args.seconds, "rows": []}
        for n in counts:
            row = measure(api, host, sources, n, args.seconds)
            print(json.dumps(row), flush=True)
            result["rows"].append(row)
        os.makedirs(os.path.join(ROOT, "bench", "results"), exist_ok=True)
        stem = os.path.join(ROOT, "bench", "results", f"conn-{started[:10]}-{commit}")
        with open(stem + ".json", "w") as f:
            json.dump(result, f, indent=2)
        print("\n".join(report(result, stem)))
        print(f"bench-conn: {stem}.json and {stem}.md")
    finally:
        host.kill()
    return 0


if __name__ == "__main__":
    sys.exit(main())
