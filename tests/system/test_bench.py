"""`make bench` cannot rot: its smoke (bench/run.py --smoke: one keel-vmm
boot in the bench appliance, counted as the bench counts it) runs beside the
other modules. `make check` builds the bench image first."""
import os
import subprocess

import pytest

from harness import OUT, ROOT


@pytest.fixture
def appliance():
    """(the bench boots its appliance itself)"""


def test_bench_smoke(appliance):
    if not os.path.exists(os.path.join(OUT, "initramfs-bench.img")):
        subprocess.check_call([os.path.join(ROOT, "image", "mkimage.sh"),
                               os.path.join(ROOT, "build"), OUT, "bench"])
    # (a guest may take longer than the bench's 60 s beside the other modules)
    out = subprocess.run(["/usr/bin/python3", os.path.join(ROOT, "bench", "run.py"), "--smoke",
                          "--timeout", "240"],
                         capture_output=True, text=True, timeout=900)
    assert out.returncode == 0, out.stdout[-3000:] + out.stderr[-3000:]
    assert "bench smoke: keel-vmm" in out.stdout, out.stdout
