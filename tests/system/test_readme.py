"""The README's "first VM in five minutes", run line by line as written
(the only change: the credentials file is this test's, not make run's),
with the real CLI against a booted product appliance."""
import os
import re
import subprocess
import sys
import time

from api import FINGERPRINT_RX, PASSWORD_RX, Api
from harness import ROOT, platform_fault

sys.path.insert(0, os.path.join(ROOT, "tools"))
import appliance  # noqa: E402


def readme_steps():
    with open(os.path.join(ROOT, "README.md")) as f:
        text = f.read()
    block = re.search(r"<!-- first-vm -->\n```sh\n(.*?)```\n<!-- /first-vm -->", text, re.S)
    assert block, "the README lost its first-VM walkthrough"
    return [line for line in block.group(1).splitlines() if line.strip()]


def test_first_vm_in_five_minutes(boot, disk, tmp_path):
    host = boot("product", disk)
    password = host.wait_for(PASSWORD_RX).group(1)
    fingerprint = host.wait_for(FINGERPRINT_RX).group(1)
    host.wait_for(r"keel-hostd: API ready")
    creds = str(tmp_path / "keel.credentials")
    appliance.write_credentials(creds, {"host": f"127.0.0.1:{host.api_port}", "user": "root",
                                        "password": password, "fingerprint": fingerprint})

    exports, ran = [], []
    for line in readme_steps():
        line = line.replace("out/keel-disk.credentials", creds)
        if line.startswith("export "):
            exports.append(line)
            continue
        script = "set -e\n" + "\n".join(exports) + "\n" + line
        deadline = time.monotonic() + 240
        while True:
            r = subprocess.run(["bash", "-c", script], cwd=ROOT, capture_output=True, text=True,
                               timeout=600)
            assert r.returncode == 0, f"README step failed: {line}\n{r.stdout}\n{r.stderr}"
            # the console step: the guest takes a few seconds to boot, and
            # listens for the power button (an earlier press is lost)
            if "vm console" not in line or "KEEL-GUEST-WAITING" in r.stdout:
                break
            if time.monotonic() > deadline:
                api = Api(host.api_port, fingerprint).login("root", password)
                raise AssertionError(f"no guest output: {r.stdout[-2000:]}\n" + platform_fault(
                    r.stdout, lambda: api.call("GET", "/vms/demo/stats")))
            time.sleep(2)
        ran.append((line, r.stdout))

    assert any(re.search(r"demo\s+running", out) for step, out in ran if "vm list" in step)
    # `keel vm stop` returned once the guest had powered itself off
    keel = [os.path.join(ROOT, "build", "src", "cli", "keel"), "--credentials", creds]
    show = subprocess.run(keel + ["--json", "vm", "show", "demo"], capture_output=True,
                          text=True, check=True)
    assert '"state": "poweredOff"' in show.stdout
    console = subprocess.run(keel + ["vm", "console", "demo"], capture_output=True, text=True,
                             check=True)
    assert "KEEL-GUEST-POWER-BUTTON" in console.stdout
