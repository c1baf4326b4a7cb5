"""keel-hostd's API where the appliance adds nothing, so hostd runs on this
machine (native.py): a 1 GiB upload with hostd's memory flat. One hostd for
the module."""
import os
import re
import threading

import pytest

from api import connect


@pytest.fixture(scope="module")
def api(native_host):
    return connect(native_host, address=native_host.address)


def hostd_rss_kib(pid):
    with open(f"/proc/{pid}/status") as f:
        return int(re.search(r"VmRSS:\s+(\d+)", f.read()).group(1))


class Stream:
    """1 GiB of pseudo-random bytes, read in pieces, never held whole."""

    def __init__(self, size):
        self.left = size
        self.block = os.urandom(1 << 20)

    def read(self, n=-1):
        n = self.left if n < 0 else min(n, self.left)
        n = min(n, len(self.block))
        self.left -= n
        return self.block[:n]


def test_1gib_upload_memory_flat(api, native_host):
    size = 1 << 30
    before = hostd_rss_kib(native_host.pid)
    samples, done = [], threading.Event()

    def sample():
        while not done.wait(0.2):
            samples.append(hostd_rss_kib(native_host.pid))

    t = threading.Thread(target=sample)
    t.start()
    try:
        r = api.call("PUT", "/datastores/local/files/big/one.bin", Stream(size),
                     headers={"Content-Length": str(size)}, timeout=1800)
    finally:
        done.set()
        t.join()
    assert r["size"] == size
    assert api.call("GET", "/datastores/local/browse/big/one.bin")["size"] == size
    peak = max(samples + [hostd_rss_kib(native_host.pid)])
    print(f"hostd RSS before {before} KiB, peak during a 1 GiB upload {peak} KiB "
          f"({len(samples)} samples)")
    assert len(samples) >= 3
    assert peak - before < 16 * 1024, (before, samples)
    api.call("DELETE", "/datastores/local/files/big/one.bin")
