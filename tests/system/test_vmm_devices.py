"""keel-vmm's virtio devices inside the appliance: disks (a byte written
reaches the image; read-only refuses writes), entropy, and two guests on a
bridge with the network offloads. One appliance serves the whole module."""
import hashlib
import re
import time

import pytest

from vmmhost import GUEST_TIMEOUT, start, vmm_appliance


@pytest.fixture(scope="module")
def host(images, tmp_path_factory):
    yield from vmm_appliance(tmp_path_factory, "vmmdev")


def test_virtio_disks_and_entropy(host):
    """A guest formats its virtio disk and writes a file; a second boot of
    the same image reads it back; the image on the host holds the data; the
    read-only disk refuses writes; the entropy device feeds /dev/hwrng."""
    assert host.hook("truncate /tmp/vd0.img 33554432") == b"OK\n"
    assert host.hook("truncate /tmp/vd1.img 8388608") == b"OK\n"
    disks = [{"path": "/tmp/vd0.img"},
             {"path": "/tmp/vd1.img", "readonly": True, "serial": "ro-disk"}]
    expect = hashlib.sha256("".join(f"{i}\n" for i in range(1, 100001)).encode()).hexdigest()

    vm = start(host, "vdw", mode="virtio keel.disk=format keel.disk=rowrite", disks=disks, rng=True)
    assert vm.wait_exit() == 0
    out = vm.console()
    assert "KEEL-GUEST-BLOCK vda vdb" in out, out
    assert "KEEL-GUEST-DISK vda ro=0 sectors=65536 serial=disk0" in out
    assert "KEEL-GUEST-DISK vdb ro=1 sectors=16384 serial=ro-disk" in out
    assert f"KEEL-GUEST-WROTE {expect}" in out, out
    m = re.search(r"KEEL-GUEST-ROWRITE status=(\d+)", out)
    assert m and m.group(1) != "0", out
    m = re.search(r"KEEL-GUEST-RNG virtio_rng\.0 ([0-9a-f]+)", out)
    assert m and len(m.group(1)) == 128 and m.group(1) != "0" * 128, out

    image = host.hook("cat /tmp/vd0.img")
    assert len(image) == 32 << 20
    assert b"99999\n100000\n" in image  # the file's last bytes, on the host
    assert host.hook("cat /tmp/vd1.img") == bytes(8 << 20)  # untouched

    vm = start(host, "vdr", mode="virtio keel.disk=verify", disks=disks)
    assert vm.wait_exit() == 0
    out = vm.console()
    assert f"KEEL-GUEST-READ {expect}" in out, out
    assert "KEEL-GUEST-RNG none" in out  # no entropy device asked for


def test_two_vms_never_write_one_disk(host):
    """keel-vmm locks each disk image: exclusively when writable, shared when
    read-only, so a second VM on a disk in use is refused (exit 2, naming
    the disk) while read-only users may share it; the lock goes with the VM."""
    assert host.hook("truncate /tmp/shared.img 8388608") == b"OK\n"
    writer = start(host, "lockw", mode="idle", disks=[{"path": "/tmp/shared.img"}])
    deadline = time.time() + GUEST_TIMEOUT
    while "disk disk0: /tmp/shared.img" not in writer.vmm_log():
        assert time.time() < deadline and writer.exit_code() is None, writer.failure()
        time.sleep(0.5)
    for name, readonly in (("lockw2", False), ("lockr", True)):
        other = start(host, name, mode="idle",
                      disks=[{"path": "/tmp/shared.img", "readonly": readonly}])
        assert other.wait_exit() == 2, other.failure()
        assert "disks[0].path: /tmp/shared.img: in use by another VM" in other.vmm_log()
    assert writer.exit_code() is None  # undisturbed
    assert writer.ctl("stop")["ok"] and writer.wait_exit() == 0

    readers = [start(host, name, mode="idle",
                     disks=[{"path": "/tmp/shared.img", "readonly": True}])
               for name in ("lockr1", "lockr2")]
    for r in readers:
        deadline = time.time() + GUEST_TIMEOUT
        while "disk disk0: /tmp/shared.img, 8 MiB, read-only" not in r.vmm_log():
            assert time.time() < deadline and r.exit_code() is None, r.failure()
            time.sleep(0.5)
    writer = start(host, "lockw3", mode="idle", disks=[{"path": "/tmp/shared.img"}])
    assert writer.wait_exit() == 2, writer.failure()
    for r in readers:
        assert r.ctl("stop")["ok"] and r.wait_exit() == 0


# virtio-net features both guests take: CSUM, GUEST_CSUM, GUEST_TSO4/6, HOST_TSO4/6
OFFLOAD_BITS = (0, 1, 7, 8, 11, 12)


def test_two_guests_on_a_bridge_reach_each_other_and_the_host(host):
    """Pings, and a file over TCP from one guest to the other, with the
    checksum and segmentation offloads on both sides."""
    lines = 600000
    assert host.hook("bridge kbr0 10.9.0.1/24 ktap0 ktap1") == b"OK\n"
    a = start(host, "neta", mode=f"virtio keel.ip=10.9.0.2/24 keel.serve={lines} keel.wait=600",
              nics=[{"tap": "ktap0", "mac": "52:54:00:00:00:0a"}])
    b = start(host, "netb", mode="virtio keel.ip=10.9.0.3/24 keel.wait=20 "
              "keel.ping=10.9.0.1,10.9.0.2 keel.fetch=10.9.0.2", nics=[{"tap": "ktap1"}])
    assert b.wait_exit(timeout=2 * GUEST_TIMEOUT) == 0
    out = b.console()
    for peer in ("10.9.0.1", "10.9.0.2"):
        m = re.search(rf"KEEL-GUEST-PING {peer} status=(\d+) (.*)", out)
        assert m and m.group(1) == "0", out
        print(f"ping {peer}: {m.group(2)}")
    served = a.console()
    assert "KEEL-GUEST-NET 52:54:00:00:00:0a up" in served and "KEEL-GUEST-SERVING" in served
    for console in (served, out):
        features = re.search(r"KEEL-GUEST-NET \S+ up features=([01]+)", console).group(1)
        assert all(features[bit] == "1" for bit in OFFLOAD_BITS), features
    data = "".join(f"{i}\n" for i in range(1, lines + 1)).encode()
    assert f"KEEL-GUEST-FETCHED {hashlib.sha256(data).hexdigest()}  -" in out, out
    assert a.ctl("stop")["ok"]
    assert a.wait_exit(timeout=30) == 0
