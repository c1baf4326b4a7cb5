"""keel-vmm processes started straight in a test appliance through
keel-testhook (no keel-hostd): the VM handle of test_vmm and of `make
platform-check`. A VM's files are /tmp/NAME.{json,log,console,sock}."""
import json
import os
import re
import time

import guest
from harness import OUT, Appliance, platform_fault

GUEST_TIMEOUT = 150
# quiet: only the kernel's warnings and worse (its panics among them) on the
# console. Every byte there is two exits to keel-vmm (the 8250 driver reads
# the line status, then writes), which on the nested test platform cost a
# busybox guest some 5 s of its 25 s boot.
GUEST_CMDLINE = "console=ttyS0 quiet"


def vmm_appliance(tmp_path_factory, name):
    """A booted test appliance with the guest's kernel and initrd in /tmp,
    for the tests of one module (a generator, for a module fixture)."""
    work = tmp_path_factory.mktemp(name)
    a = Appliance(str(work), "test", None, name)
    try:
        a.start().wait_ready()
        initrd = guest.build_initrd(str(work / "guest-initrd.img"))
        with open(os.path.join(OUT, "vmlinuz"), "rb") as f:
            assert a.hook("write /tmp/vmlinuz", f.read()) == b"OK\n"
        with open(initrd, "rb") as f:
            assert a.hook("write /tmp/initrd", f.read()) == b"OK\n"
        yield a
    finally:
        a.kill()


class VM:
    """One keel-vmm process in the appliance, started through the hook."""

    def __init__(self, host, name, cfg):
        self.host, self.name = host, name
        self.log = f"/tmp/{name}.log"
        self.console_path = f"/tmp/{name}.console"
        self.sock = f"/tmp/{name}.sock"
        assert host.hook(f"write /tmp/{name}.json", json.dumps(cfg).encode()) == b"OK\n"
        reply = host.hook(f"spawn {self.log} /sbin/keel-vmm /tmp/{name}.json").decode()
        assert reply.startswith("OK "), reply
        self.pid = int(reply.split()[1])

    def console(self):
        data = self.host.hook(f"cat {self.console_path}")
        return "" if data.startswith(b"ERR") else data.decode(errors="replace")

    def vmm_log(self):
        return self.host.hook(f"cat {self.log}").decode(errors="replace")

    def wait_console(self, pattern, timeout=GUEST_TIMEOUT, count=1):
        deadline = time.time() + timeout
        while time.time() < deadline:
            text = self.console()
            if len(re.findall(pattern, text)) >= count:
                return text
            if self.exit_code() is not None:
                break
            time.sleep(1)
        raise AssertionError(f"{pattern!r} not on the guest console\n{self.failure()}")

    def ctl(self, cmd):
        reply = self.host.hook(f"unix {self.sock}", json.dumps({"cmd": cmd}).encode() + b"\n")
        return json.loads(reply)

    def exit_code(self):
        data = self.host.hook(f"cat {self.log}.exit")
        return None if data.startswith(b"ERR") else int(data)

    def wait_exit(self, timeout=GUEST_TIMEOUT):
        deadline = time.time() + timeout
        while time.time() < deadline:
            code = self.exit_code()
            if code is not None:
                return code
            time.sleep(1)
        raise AssertionError(f"keel-vmm did not exit\n{self.failure()}")

    def failure(self):
        """The console and keel-vmm's log, for a failed wait."""
        text = self.console()
        log = self.vmm_log()
        return (f"--- console:\n{text[-3000:]}\n--- keel-vmm:\n{log}\n"
                f"{platform_fault(text, lambda: self.ctl('stats'), log)}")


def config(name, vcpus=1, mode="poweroff", **extra):
    cfg = {
        "name": name, "vcpus": vcpus, "memory_mib": 256,
        "kernel": "/tmp/vmlinuz", "initrd": "/tmp/initrd",
        "cmdline": f"{GUEST_CMDLINE} keel.test={mode}",
        "console": {"type": "file", "path": f"/tmp/{name}.console"},
        "control": f"/tmp/{name}.sock", "boot_timer": True,
    }
    cfg.update(extra)
    return {k: v for k, v in cfg.items() if v is not None}


def start(host, name, **kw):
    return VM(host, name, config(name, **kw))
