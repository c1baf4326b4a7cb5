"""keel-hostd through its HTTPS API, with a standard HTTP client: log in,
datastore files, VMs created, started, shut down and supervised across
restarts of hostd and of the host; bad input refused with nothing changed.
One appliance for the module (test_hostd_native.py: hostd without it)."""
import base64
import json
import os
import re
import time

import pytest

import guest
from api import PASSWORD_RX, Api, connect
from harness import module_host, platform_fault

GUEST_CMDLINE = "console=ttyS0 quiet keel.test="  # (quiet: vmmhost.py says why)


@pytest.fixture(scope="module")
def host(images, pristine_disk, tmp_path_factory):
    a = module_host(tmp_path_factory, pristine_disk, "hostd")
    yield a
    a.kill()


@pytest.fixture(scope="module")
def api(host):
    return connect(host)


@pytest.fixture(scope="module")
def guest_files(api, tmp_path_factory):
    """The guest's kernel and initrd, uploaded to local/guest/."""
    return guest.upload(api, tmp_path_factory.mktemp("guest"))


def vm_spec(name, guest_files, mode, **extra):
    kernel, initrd = guest_files
    return {"name": name, "memory_mib": 256, "kernel": kernel, "initrd": initrd,
            "cmdline": GUEST_CMDLINE + mode, **extra}


def wait_console(api, name, pattern, timeout=180):
    deadline = time.monotonic() + timeout
    text = ""
    while time.monotonic() < deadline:
        _, _, body = api.raw("GET", f"/api/v1/vms/{name}/console?bytes=1048576",
                             headers={"Authorization": "Bearer " + api.token})
        text = body.decode(errors="replace")
        m = re.search(pattern, text)
        if m:
            return m
        time.sleep(1)
    raise AssertionError(f"{name}: no {pattern!r} on the console in {timeout}s; it ends with:\n"
                         f"{text[-2500:]}\n{guest_fault(api, name, text)}")


def guest_fault(api, name, console):
    log = api.host.hook(f"cat /scratch/vms/{name}/vmm.log").decode(errors="replace")
    return platform_fault(console, lambda: api.call("GET", f"/vms/{name}/stats"), log)


def wait_state(api, name, state, timeout=120):
    """Polls the VM's state (through restarts of hostd: until it answers)."""
    deadline = time.monotonic() + timeout
    vm = {"state": "unknown"}
    while time.monotonic() < deadline:
        try:
            vm = api.call("GET", f"/vms/{name}")
        except OSError:  # hostd is restarting (ssl.SSLError is an OSError)
            vm = {"state": "unreachable"}
        if vm["state"] == state:
            return vm
        time.sleep(0.5)
    raise AssertionError(f"{name}: still {vm['state']}, not {state}, after {timeout}s")


def alive(host, pid):
    return not host.hook(f"cat /proc/{pid}/stat").startswith(b"ERR")


def test_vm_lifecycle(api, guest_files, host):
    vm = api.call("POST", "/vms", vm_spec("web1", guest_files, "wait", vcpus=1,
                                          disks=[{"path": "local/web1/disk0.img",
                                                  "size_mib": 64}]))
    assert vm["state"] == "poweredOff" and vm["vcpus"] == 1
    disk = api.call("GET", "/datastores/local/browse/web1/disk0.img")
    assert disk["size"] == 64 << 20 and disk["allocated"] < 1 << 20  # sparse
    assert [v["name"] for v in api.call("GET", "/vms")["vms"]] == ["web1"]

    vm = api.call("POST", "/vms/web1/power/on")
    assert vm["state"] == "running"
    assert alive(host, vm["pid"])
    wait_console(api, "web1", r"KEEL-GUEST-UP cpus=1")
    stats = api.call("GET", "/vms/web1/stats")
    assert len(stats["vcpus"]) == 1 and stats["rss_kib"] > 0

    # reset: a new keel-vmm, and the guest boots again
    reset = api.call("POST", "/vms/web1/power/reset")
    assert reset["state"] == "running" and reset["pid"] != vm["pid"]
    assert not alive(host, vm["pid"])
    vm = reset
    # (an ACPI press before the guest's button driver is up is lost, as on
    # hardware: the guest says when it listens)
    wait_console(api, "web1", r"(?s)KEEL-GUEST-UP.*KEEL-GUEST-UP cpus=1.*KEEL-GUEST-WAITING")

    # the guest sees the ACPI power button and powers itself off
    assert api.call("POST", "/vms/web1/power/shutdown", {"timeout_s": 240})["state"] == "stopping"
    wait_console(api, "web1", r"KEEL-GUEST-POWER-BUTTON", timeout=180)  # while it still runs
    wait_state(api, "web1", "poweredOff")
    assert not alive(host, vm["pid"])
    assert api.error("GET", "/vms/web1/stats") == (409, "conflict")

    # while off, it can be changed; then deleted with its disks
    vm = api.call("PATCH", "/vms/web1", {"memory_mib": 300, "autostart": True})
    assert vm["memory_mib"] == 300 and vm["autostart"] is True
    assert api.call("DELETE", "/vms/web1?delete_disks=true") is None
    assert api.error("GET", "/vms/web1") == (404, "not_found")
    assert api.error("GET", "/datastores/local/browse/web1/disk0.img") == (404, "not_found")


def test_firmware_vms(api, host):
    """A VM without a kernel boots through firmware: `bios` is Debian's
    SeaBIOS from the product image, handed to the jailed keel-vmm, booting
    the VM's disk; `uefi` (the default without a kernel) keeps its
    variable store in the VM's folder and needs a disk for it."""
    assert api.call("PUT", "/datastores/local/files/fw1/mbr.img",
                    guest.boot_sector(b"KEEL-BIOS-BOOT\r\n"))["size"] > 512
    vm = api.call("POST", "/vms", {"name": "fw1", "memory_mib": 64, "firmware": "bios",
                                   "disks": [{"path": "local/fw1/mbr.img", "readonly": True}],
                                   "boot_order": [0]})
    assert (vm["firmware"], vm["kernel"], vm["cmdline"], vm["boot_order"]) == ("bios", "", "", [0])
    # a firmware image that is not one: keel-vmm refuses it, and the API says why
    image = "/usr/share/keel/firmware/bios-256k.bin"
    assert host.hook(f"write {image}", b"not a BIOS") == b"OK\n"
    api.call("POST", "/vms/fw1/power/on")
    vm = wait_state(api, "fw1", "poweredOff")
    assert "exited with status 2: firmware: " + image + ": not a firmware image" in \
        vm.get("last_error", ""), vm
    with open("/usr/share/seabios/bios-256k.bin", "rb") as f:  # what the image holds
        assert host.hook(f"write {image}", f.read()) == b"OK\n"
    api.call("POST", "/vms/fw1/power/on")
    assert "last_error" not in api.call("GET", "/vms/fw1")
    wait_console(api, "fw1", r"KEEL-BIOS-BOOT")
    log = host.hook("cat /scratch/vms/fw1/vmm.log").decode(errors="replace")
    assert "firmware /usr/share/keel/firmware/bios-256k.bin" in log, log
    api.call("POST", "/vms/fw1/power/off")
    wait_state(api, "fw1", "poweredOff")
    # a kernel and firmware do not go together; nothing is changed
    assert api.error("PATCH", "/vms/fw1", {"kernel": "local/fw1/mbr.img"})[0] == 400
    assert api.call("GET", "/vms/fw1")["kernel"] == ""
    assert api.call("DELETE", "/vms/fw1?delete_disks=true") is None

    # a disk with nothing to boot: the VM ends, and says so
    api.call("POST", "/vms", {"name": "fw3", "memory_mib": 64, "firmware": "bios",
                              "disks": [{"path": "local/fw3/empty.img", "size_mib": 1}]})
    api.call("POST", "/vms/fw3/power/on")
    vm = wait_state(api, "fw3", "poweredOff")
    assert "exited with status 4: the firmware found no bootable disk" in \
        vm.get("last_error", ""), vm
    wait_console(api, "fw3", r"No bootable device")
    assert api.call("DELETE", "/vms/fw3?delete_disks=true") is None

    # UEFI: its variable store is made in its folder from OVMF's empty one
    # at the first power-on (OVMF may have written to it by the power-off:
    # its header and size are the empty store's)
    api.call("POST", "/vms", {"name": "fw4", "memory_mib": 128,
                              "disks": [{"path": "local/fw4/root.img", "size_mib": 1}]})
    api.call("POST", "/vms/fw4/power/on")
    api.call("POST", "/vms/fw4/power/off")
    wait_state(api, "fw4", "poweredOff")
    with open("/usr/share/OVMF/OVMF_VARS_4M.fd", "rb") as f:
        empty = f.read()
    _, _, store = api.raw("GET", "/api/v1/datastores/local/files/fw4/fw4.nvram")
    assert len(store) == len(empty) and store[:0x48] == empty[:0x48]
    assert api.call("DELETE", "/vms/fw4?delete_disks=true") is None
    assert api.error("GET", "/datastores/local/browse/fw4/fw4.nvram") == (404, "not_found")

    # no kernel: UEFI; without a disk there is no folder for its store
    vm = api.call("POST", "/vms", {"name": "fw2", "memory_mib": 64})
    assert vm["firmware"] == "uefi"
    status, _, body = api.raw("POST", "/api/v1/vms/fw2/power/on")
    assert status == 409 and b"needs a disk" in body, body
    assert api.call("GET", "/vms/fw2")["state"] == "poweredOff"
    assert api.call("DELETE", "/vms/fw2") is None


def test_hostd_restart_keeps_vms(api, guest_files, host):
    api.call("POST", "/vms", vm_spec("steady", guest_files, "idle"))
    pid = api.call("POST", "/vms/steady/power/on")["pid"]
    wait_console(api, "steady", r"KEEL-GUEST-UP")

    # "restart management agents", then a crash of hostd
    hostd = int(host.hook("cat /run/keel/hostd.pid").decode())
    assert api.call("POST", "/host/agents/restart")["restarting"] is True
    for restart in range(2):
        deadline = time.monotonic() + 60
        while True:
            new = host.hook("cat /run/keel/hostd.pid").decode()
            if new.strip().isdigit() and int(new) != hostd:
                break
            assert time.monotonic() < deadline, "keel-init did not restart hostd"
            time.sleep(0.5)
        hostd = int(new)
        wait_log(host, "hostd.log", rf"keel-hostd\[{hostd}\] info: vm steady: re-attached to "
                 rf"keel-vmm pid {pid}")
        vm = wait_state(api, "steady", "running")  # the same session still works
        assert vm["pid"] == pid and alive(host, pid)
        assert api.call("GET", "/vms/steady/stats")["state"] == "running"
        if restart == 0:
            host.hook(f"kill {hostd} 9")

    # still managed: a hard power off really ends it
    assert api.call("POST", "/vms/steady/power/off")["state"] == "poweredOff"
    assert not alive(host, pid)
    api.call("DELETE", "/vms/steady")


def test_keel_vmm_runs_jailed(api, guest_files, host):
    """Each keel-vmm runs in a jail (docs/operations.md, "Security model"):
    seen from outside, its own uid and gid, no capabilities, no_new_privs,
    seccomp, the first process of its own PID namespace, mount, IPC,
    network and UTS namespaces of its own, an empty root, a cgroup that
    limits its memory and tasks, and only the descriptors of its own VM.
    From inside (the control socket's probe), every way out fails: the
    inventory, the datastores, /proc/1, a socket, a signal to any other
    process, memory beyond its limit; and the guest runs on."""
    api.call("POST", "/vms", vm_spec("jailed", guest_files, "wait", vcpus=1, disks=[
        {"path": "local/jailed/disk0.img", "size_mib": 8}]))
    pid = api.call("POST", "/vms/jailed/power/on")["pid"]
    wait_console(api, "jailed", r"KEEL-GUEST-WAITING")

    cgroup = host.hook(f"cat /proc/{pid}/cgroup").decode().strip()
    m = re.fullmatch(r"0::/keel-vms/vm-(\d+)", cgroup)
    assert m, cgroup
    vmid = int(m.group(1))
    status = dict(line.split(":", 1) for line in
                  host.hook(f"cat /proc/{pid}/status").decode().splitlines())
    status = {k: v.split() for k, v in status.items()}
    assert status["Uid"] == [str(100000 + vmid)] * 4
    assert status["Gid"] == [str(100000 + vmid)] * 4
    assert status["Groups"] == []
    for caps in ("CapInh", "CapPrm", "CapEff", "CapBnd", "CapAmb"):
        assert int(status[caps][0], 16) == 0, (caps, status[caps])
    assert status["NoNewPrivs"] == ["1"] and status["Seccomp"] == ["2"]
    assert status["NSpid"] == [str(pid), "1"]  # pid 1 of a PID namespace of its own
    for ns in ("mnt", "pid", "ipc", "net", "uts"):
        mine = host.hook(f"readlink /proc/{pid}/ns/{ns}").decode()
        assert mine.startswith(ns + ":[") and mine != host.hook(f"readlink /proc/1/ns/{ns}").decode()
    assert host.hook(f"ls /proc/{pid}/root/") == b""  # nothing of the host's files
    group = f"/sys/fs/cgroup/keel-vms/vm-{vmid}"
    assert int(host.hook(f"cat {group}/memory.max")) == (256 + 64 + 4 + 256 // 64) << 20
    assert int(host.hook(f"cat {group}/pids.max")) == 1 + 32
    # its descriptors: its own VM's files, sockets, anonymous ones; no path
    # of anything else (the inventory, another VM's folder)
    targets = [host.hook(f"readlink /proc/{pid}/fd/{fd}").decode().strip()
               for fd in host.hook(f"ls /proc/{pid}/fd").decode().split()]
    paths = [t for t in targets if t.startswith("/")]
    assert "/dev/kvm" in paths and any(p.endswith("/jailed/disk0.img") for p in paths)
    assert all(p in ("/dev/kvm", "/dev/null", "/dev/net/tun") or "/jailed/" in p or
               "/guest/" in p for p in paths), paths

    probe = json.loads(host.hook("unix /run/keel/vms/jailed/control.sock",
                                 b'{"cmd": "probe"}\n'))
    assert probe["ok"] and probe["jailed"]
    attempts = probe["attempts"]
    assert len(attempts) == 7 and all(a.startswith("refused") for a in attempts.values()), attempts

    # the guest ran on: it still answers the power button
    assert api.call("GET", "/vms/jailed")["state"] == "running" and alive(host, pid)
    api.call("POST", "/vms/jailed/power/shutdown", {"timeout_s": 120})
    wait_console(api, "jailed", r"KEEL-GUEST-POWER-BUTTON")
    wait_state(api, "jailed", "poweredOff")
    assert f"vm-{vmid}" not in host.hook("ls /sys/fs/cgroup/keel-vms").decode().split()
    assert host.hook("ls /run/keel/vms/jailed").decode().split().count("control.sock") == 0
    api.call("DELETE", "/vms/jailed?delete_disks=true")


def cidata_seen(api, name, boot):
    """The seed's files (name -> bytes, None when missing) as the guest's
    boot number `boot` (1, 2, ...) printed them (mode "virtio" with
    keel.disk=cidata: found by its label), and the disk it was on."""
    m = wait_console(api, name, r"(?s)" + r"KEEL-GUEST-DONE.*" * (boot - 1) +
                     r"KEEL-GUEST-UP(?:(?!KEEL-GUEST-UP).)*?KEEL-GUEST-DONE")
    text = m.group(0)[m.group(0).rfind("KEEL-GUEST-UP"):]
    assert "KEEL-CIDATA-FAILED" not in text, text
    files = {}
    for f, data in re.findall(r"KEEL-CIDATA (\S+) (\S*)", text):
        files[f] = None if data == "MISSING" else base64.b64decode(data)
    dev = re.search(r"KEEL-CIDATA-DEV (\S+)", text).group(1)
    return files, dev, text


def test_cloud_init_seed(api, guest_files, host):
    """A VM with cloud_init gets a NoCloud seed in its folder: its guest
    finds it by the label cidata (a read-only disk after its own) and reads
    user-data, meta-data (the host's instance-id and local-hostname) and
    network-config as given. A PATCH makes it anew (seen at the next
    boot); removing cloud_init removes it; so does deleting the VM."""
    user = "#cloud-config\r\nusers:\n\t- name: 'é \"x\"'\n"
    net = "version: 2\nethernets:\n  eth0:\n    dhcp4: true\n"
    seed = "/datastores/local/browse/ci1/ci1.cidata.iso"
    vm = api.call("POST", "/vms", vm_spec(
        "ci1", guest_files, "virtio keel.disk=cidata",
        disks=[{"path": "local/ci1/disk0.img", "size_mib": 8}],
        cloud_init={"user_data": user, "network_config": net}))
    assert vm["cloud_init"] == {"user_data": user, "meta_data": "", "network_config": net}
    size = api.call("GET", seed)["size"]
    print(f"seed: {size} bytes")
    assert 0 < size <= 400 << 10 and size % 2048 == 0

    api.call("POST", "/vms/ci1/power/on")
    files, dev, text = cidata_seen(api, "ci1", 1)
    assert dev == "/dev/vdb", text
    assert re.search(r"KEEL-GUEST-DISK vdb ro=1 sectors=\d+ serial=cidata", text), text
    assert files["user-data"] == user.encode()
    assert re.fullmatch(rb"instance-id: keel-\d+\nlocal-hostname: ci1\n", files["meta-data"])
    assert files["network-config"] == net.encode()
    wait_state(api, "ci1", "poweredOff")

    # a new user-data and meta-data of the user's own; no network-config
    user2 = "#cloud-config\nhostname: second\n"
    vm = api.call("PATCH", "/vms/ci1", {"cloud_init": {"user_data": user2,
                                                      "meta_data": "instance-id: mine\n"}})
    assert vm["cloud_init"]["user_data"] == user2
    api.call("POST", "/vms/ci1/power/on")
    files, dev, text = cidata_seen(api, "ci1", 2)
    assert files == {"user-data": user2.encode(),
                     "meta-data": b"instance-id: mine\nlocal-hostname: ci1\n",
                     "network-config": None}, text
    wait_state(api, "ci1", "poweredOff")

    # the seed takes a disk's place: refused at the limit, nothing changed
    more = [{"path": f"local/ci1/d{i}.img"} for i in range(8)]
    status, _, body = api.raw("PATCH", "/api/v1/vms/ci1", {"disks": more})
    assert status == 400 and "its seed is one more disk" in json.loads(body)["error"]["message"]
    # removed with cloud_init; made again with it; gone with the VM
    assert api.call("PATCH", "/vms/ci1", {"cloud_init": None})["cloud_init"] is None
    assert api.error("GET", seed) == (404, "not_found")
    api.call("PATCH", "/vms/ci1", {"cloud_init": {"user_data": user}})
    assert api.call("GET", seed)["size"] > 0
    api.call("DELETE", "/vms/ci1?delete_disks=true")
    assert api.error("GET", seed) == (404, "not_found")


def snapshot(api):
    """What a refused request must leave alone: the inventory, and the
    datastore's folders (their entries, not the folders' own mtimes)."""
    folders = [api.call("GET", f"/datastores/local/browse/{p}") for p in ("", "guest")]
    return api.call("GET", "/vms"), [f["entries"] for f in folders]


def test_bad_input_changes_nothing(api, guest_files, host):
    kernel, initrd = guest_files
    before = snapshot(api)

    anon = Api(api.port, api.fingerprint)
    status, _, body = anon.raw("POST", "/api/v1/session",
                               {"user": "root", "password": "wrong"})
    assert status == 401 and b"token" not in body
    assert anon.error("GET", "/vms") == (401, "unauthorized")
    assert Api(api.port, api.fingerprint, "0" * 64).error("GET", "/vms") == (401, "unauthorized")

    good = vm_spec("bad1", guest_files, "idle")
    cases = [
        ("POST", "/vms", '{"name": "bad1", "memory_mib": 256,'),  # malformed JSON
        ("POST", "/vms", "[1, 2]"),
        ("POST", "/vms", {**good, "colour": "red"}),  # unknown field
        ("POST", "/vms", {**good, "memory_mib": 10 ** 12}),
        ("POST", "/vms", {**good, "vcpus": 0}),
        ("POST", "/vms", {**good, "vcpus": "2"}),
        ("POST", "/vms", {**good, "name": "../etc"}),
        ("POST", "/vms", {**good, "kernel": "local/../../etc/passwd"}),
        ("POST", "/vms", {**good, "kernel": "/etc/passwd"}),
        ("POST", "/vms", {**good, "kernel": "local/guest/missing"}),
        ("POST", "/vms", {**good, "disks": [{"path": "local/bad1.img", "size_mib": 10 ** 15}]}),
        ("POST", "/vms", {**good, "disks": [{"path": "local/guest/vmlinuz",
                                             "size_mib": 1}]}),  # exists
        ("POST", "/vms", {**good, "nics": [{"mac": "01:00:5e:00:00:01"}]}),  # multicast
        ("POST", "/datastores/local/disks", {"path": "big.img", "size_mib": 0}),
        ("POST", "/datastores/local/disks", {"path": "../big.img", "size_mib": 1}),
        ("POST", "/datastores/local/disks", {"path": "/big.img", "size_mib": 1}),
        ("POST", "/datastores/local/folders", {"path": "a/../../b"}),
        ("POST", "/datastores/local/copy", {"source": "guest/vmlinuz",
                                            "destination": "../vmlinuz"}),
        ("GET", "/datastores/local/files//etc/passwd", None),
        ("GET", "/datastores/local/files/guest/../../../etc/passwd", None),
        ("PUT", "/datastores/local/files/guest/%2e%2e/%2e%2e/x", b"data"),
        ("POST", "/vms/bad1/power/on", None),
    ]
    for method, path, body in cases:
        status, code = api.error(method, path, body)
        assert 400 <= status < 500 and status != 401, (method, path, body, status)
    assert api.error("POST", "/vms", "x" * 70000) == (413, "too_large")
    assert api.error("PUT", "/vms/x/nothing") == (404, "not_found")
    assert api.error("DELETE", "/host") == (405, "method_not_allowed")
    assert snapshot(api) == before

    # a running VM cannot be deleted, nor its disk removed or grown
    api.call("POST", "/vms", {**good, "disks": [{"path": "local/bad1/d.img", "size_mib": 8}]})
    api.call("POST", "/vms/bad1/power/on")
    assert api.error("DELETE", "/vms/bad1") == (409, "conflict")
    assert api.error("PATCH", "/vms/bad1", {"vcpus": 2}) == (409, "conflict")
    assert api.error("DELETE", "/datastores/local/files/bad1/d.img") == (409, "conflict")
    assert api.error("POST", "/datastores/local/grow",
                     {"path": "bad1/d.img", "size_mib": 16}) == (409, "conflict")
    assert api.error("POST", "/vms/bad1/power/on") == (409, "conflict")
    vm = api.call("GET", "/vms/bad1")
    assert vm["state"] == "running"
    # kill, as for a VM that no longer answers
    assert api.call("POST", "/vms/bad1/power/kill")["state"] == "poweredOff"
    assert not alive(host, vm["pid"])
    api.call("DELETE", "/vms/bad1?delete_disks=true")
    api.call("DELETE", "/datastores/local/files/bad1")  # the folder, now empty
    assert snapshot(api) == before


def test_datastore_files(api, guest_files):
    data = os.urandom(3 << 20) + b"end"
    assert api.call("PUT", "/datastores/local/files/iso/blob.bin", data)["size"] == len(data)
    status, headers, got = api.raw("GET", "/api/v1/datastores/local/files/iso/blob.bin")
    assert status == 200 and got == data
    assert api.error("PUT", "/datastores/local/files/iso/blob.bin", b"x") == (409, "conflict")
    assert api.call("PUT", "/datastores/local/files/iso/blob.bin?overwrite=true", b"x")["size"] == 1
    disk = api.call("POST", "/datastores/local/disks", {"path": "d/a.img", "size_mib": 4})
    assert disk == {"path": "local/d/a.img", "size": 4 << 20}
    copy = api.call("POST", "/datastores/local/copy", {"source": "d/a.img",
                                                        "destination": "d/b.img"})
    assert copy["size"] == 4 << 20
    assert api.call("POST", "/datastores/local/grow",
                    {"path": "d/b.img", "size_mib": 8})["size"] == 8 << 20
    assert api.error("POST", "/datastores/local/grow",
                     {"path": "d/b.img", "size_mib": 2}) == (400, "bad_request")
    names = [e["name"] for e in api.call("GET", "/datastores/local/browse/d")["entries"]]
    assert names == ["a.img", "b.img"]
    assert api.error("DELETE", "/datastores/local/files/d") == (409, "conflict")  # not empty
    for p in ("d/a.img", "d/b.img", "d", "iso/blob.bin", "iso"):
        api.call("DELETE", f"/datastores/local/files/{p}")
    assert api.error("GET", "/datastores/local/browse/d") == (404, "not_found")


def hostd_rss_kib(host):
    pid = int(host.hook("cat /run/keel/hostd.pid").decode())
    status = host.hook(f"cat /proc/{pid}/status").decode()
    return int(re.search(r"VmRSS:\s+(\d+)", status).group(1))


def test_logout_ends_the_session(api, host):
    other = Api(api.port, api.fingerprint, api.token)
    # a second session of root's: made here from the first boot's password
    password = re.search(PASSWORD_RX, host.all_console()).group(1)
    mine = Api(api.port, api.fingerprint).login("root", password)
    assert mine.call("GET", "/host")["hostname"]
    assert mine.call("DELETE", "/session") is None
    assert mine.error("GET", "/host") == (401, "unauthorized")
    assert other.call("GET", "/host")["hostname"]  # other sessions live on


# (before the rate limit test: its CLI logs in from the address that one blocks)
def test_logs_follow_and_support_bundle(api, host, tmp_path):
    """On a real host: `keel host logs hostd -f` through the CLI prints what
    keel-syslogd writes to hostd.log, each line once and in order; the
    support bundle holds the kernel's log, the logs, the network and the
    processes of the host, and not root's password nor the session token."""
    import signal
    import subprocess
    import tarfile
    from api import FINGERPRINT_RX
    keel = os.path.join(os.path.dirname(__file__), "..", "..", "build", "src", "cli", "keel")
    creds = tmp_path / "creds"
    creds.write_text(f"host=127.0.0.1:{host.api_port}\nuser=root\npassword={api.password}\n"
                     f"fingerprint={host.wait_for(FINGERPRINT_RX).group(1)}\n")
    creds.chmod(0o600)
    env = {k: v for k, v in os.environ.items() if not k.startswith("KEEL_")}
    follower = subprocess.Popen([keel, "--credentials", str(creds), "host", "logs", "hostd",
                                 "--lines", "1", "-f"], stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, text=True, env=env)
    try:
        follower.stdout.readline()  # the tail: it follows from there
        for n in range(5):
            assert host.hook("syslog", f"<14>keel-hostd[77]: follow probe {n}\n".encode()) \
                == b"OK\n"
        seen = []
        while len(seen) < 5:
            line = follower.stdout.readline()
            assert line, follower.stderr.read()
            if "follow probe" in line:
                seen.append(line)
        assert [re.search(r"keel-hostd\[77\] info: follow probe (\d)$", s).group(1)
                for s in seen] == ["0", "1", "2", "3", "4"], seen
    finally:
        follower.send_signal(signal.SIGINT)
        out, err = follower.communicate(timeout=60)
    assert follower.returncode == 0 and "follow probe" not in out, (out, err)
    # the bundle
    status, headers, data = api.raw("GET", "/api/v1/host/support-bundle", timeout=600)
    assert status == 200 and headers["Content-Type"] == "application/gzip"
    path = tmp_path / "bundle.tgz"
    path.write_bytes(data)
    with tarfile.open(path, "r:gz") as tar:
        files = {m.name.split("/", 1)[1]: tar.extractfile(m).read()
                 for m in tar.getmembers() if m.isfile()}
    assert b"Linux version" in files["kernel/dmesg.txt"]
    assert b"kernel" in files["logs/kernel.log"] and b"follow probe 4" in files["logs/hostd.log"]
    assert b"keel-init" in files["logs/init.log"]
    assert b"hostd /sbin/keel-hostd" in files["etc/keel/services"]
    assert re.search(rb"^keel-version: \S+\nkeel-commit: \S+\nkernel-package: linux-image-",
                     files["etc/keel/build"]), files["etc/keel/build"]
    assert re.search(rb"^eth0:\n  ifindex", files["network/links.txt"], re.M)
    assert b"Iface" in files["network/proc/route"] and b"eth0" in files["network/proc/dev"]
    assert b"Name:\tkeel-hostd" in files["processes.txt"]
    assert b"/scratch" in files["disks.txt"] and b"/config" in files["proc/mounts"]
    for name, content in files.items():
        for secret in (api.password.encode(), api.token.encode()):
            assert secret not in content, name


def test_failed_logins_rate_limited(api, host):
    # unknown users, one failure each (so no (name, address) pair is slowed
    # down): no account to lock, only the address to slow down
    anon = Api(api.port, api.fingerprint)
    statuses = [anon.raw("POST", "/api/v1/session",
                         {"user": f"mallory{i}", "password": "guess"})[0] for i in range(11)]
    assert statuses[:10] == [401] * 10 and statuses[10] == 429, statuses
    # even the right password waits now; the block is hostd's memory only
    status, headers, _ = anon.raw("POST", "/api/v1/session",
                                  {"user": "root", "password": "x"})
    assert status == 429 and int(headers["Retry-After"]) > 0


def wait_log(host, name, pattern, timeout=20):
    """The first match of pattern in /scratch/log/NAME (keel-syslogd writes
    it a moment after the message was sent)."""
    deadline = time.monotonic() + timeout
    while True:
        text = host.hook(f"cat /scratch/log/{name}").decode(errors="replace")
        m = re.search(pattern, text, re.M)
        if m or time.monotonic() > deadline:
            assert m, f"{name}: no {pattern!r} in:\n{text[-3000:]}"
            return m


def test_syslog_files(api, host):
    """keel-syslogd: hostd's messages (the failed logins of the test
    before; run alone, one of its own), keel-init's, the kernel's since
    boot, and a hostile datagram, each in its file with an RFC 3339 time."""
    hostname = host.hook("cat /proc/sys/kernel/hostname").decode().strip()
    hostd = int(host.hook("cat /run/keel/hostd.pid").decode())
    stamp = r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z"
    if b"mallory0" not in host.hook("cat /scratch/log/hostd.log"):
        Api(api.port, api.fingerprint).raw("POST", "/api/v1/session",
                                            {"user": "mallory0", "password": "guess"})
    wait_log(host, "hostd.log", rf"^{stamp} {re.escape(hostname)} keel-hostd\[{hostd}\] info: "
             r"login of 'mallory0' from 10\.0\.2\.2 refused \(.*\)$")
    # keel-init's, once keel-syslogd runs (it started hostd after it)
    wait_log(host, "init.log", rf"^{stamp} {re.escape(hostname)} keel-init\[1\] info: "
             r"service hostd: started, pid \d+$")
    # the kernel's from the start of its ring buffer
    wait_log(host, "kernel.log", rf"^{stamp} {re.escape(hostname)} kernel \w+: Linux version ")
    # any bytes: one line, escaped, in other.log for an unknown app
    assert host.hook("syslog", b"<13>keel-probe[77]: a\nforged\x1b[2J\x00\xff\rend\n") == b"OK\n"
    wait_log(host, "other.log", rf"^{stamp} {re.escape(hostname)} keel-probe\[77\] notice: "
             r"a\\x0aforged\\x1b\[2J\\x00\\xff\\x0dend$")
    assert host.hook("syslog", b"no pri at all") == b"OK\n"
    wait_log(host, "other.log", rf"^{stamp} \S+ - notice: no pri at all$")
    # not the audit trail's: those stay hostd's own
    names = host.hook("ls /scratch/log").decode().split()
    assert {"hostd.log", "init.log", "kernel.log", "other.log", "audit.log"} <= set(names)


def test_power_cut_keeps_inventory_and_autostarts(api, guest_files, host):
    api.call("POST", "/vms", vm_spec("auto1", guest_files, "idle", autostart=True))
    api.call("POST", "/vms", vm_spec("auto2", guest_files, "idle", autostart=True,
                                     autostart_order=2, autostart_delay_s=1))
    api.call("POST", "/vms", vm_spec("manual", guest_files, "idle"))
    before = api.call("GET", "/vms")["vms"]
    # hostd.log after this (the logs API reads across its rotations)
    since = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(time.time() - 1))

    # a power cut, not a clean shutdown: every API write was already on disk
    host.kill()
    host.start().wait_ready()
    again = connect(host)
    assert "root password" not in host.console()  # shown on the first boot only
    after = again.call("GET", "/vms")["vms"]
    strip = lambda vms: [{k: v for k, v in vm.items() if k not in ("state", "pid", "uptime_s")}
                         for vm in vms]
    assert strip(after) == strip(before)
    wait_state(again, "auto1", "running")
    wait_state(again, "auto2", "running")
    assert again.call("GET", "/vms/manual")["state"] == "poweredOff"
    wait_log(host, "hostd.log", r" info: vm auto2: powered on")
    status, _, text = again.raw("GET", f"/api/v1/logs/hostd?since={since}")
    assert status == 200, text
    assert re.findall(r" info: vm (auto\d): powered on", text.decode()) == ["auto1", "auto2"]
    wait_console(again, "auto2", r"KEEL-GUEST-UP")


def test_maintenance_mode(guest_files, host):
    """Entering maintenance mode shuts the guests down by their power
    button; no VM powers on then, not even the autostart ones after a
    reboot: the mode outlasts it. Leaving it lets VMs power on again."""
    api = connect(host)
    for name in ("auto1", "auto2"):
        if api.call("GET", f"/vms/{name}")["state"] != "poweredOff":
            api.call("POST", f"/vms/{name}/power/off")
    api.call("POST", "/vms", vm_spec("waiter", guest_files, "wait"))
    api.call("POST", "/vms/waiter/power/on")
    wait_console(api, "waiter", r"KEEL-GUEST-WAITING")
    # a VM runs: refused, unless its guest is to be shut down
    assert api.error("POST", "/host/maintenance/enter", {})[0] == 409
    assert api.call("GET", "/host/maintenance") == {"maintenance": "off", "vms_running": 1}
    for bad in ({"shutdown_vms": "yes"}, {"timeout_s": 3601}, {"force": True}):
        assert api.error("POST", "/host/maintenance/enter", bad)[0] == 400, bad
    r = api.call("POST", "/host/maintenance/enter", {"shutdown_vms": True, "timeout_s": 120})
    assert r["maintenance"] in ("entering", "on"), r
    status, code = api.error("POST", "/vms/manual/power/on")
    assert status == 409
    deadline = time.monotonic() + 150
    while api.call("GET", "/host/maintenance")["maintenance"] != "on":
        assert time.monotonic() < deadline, "maintenance mode not entered"
        time.sleep(1)
    # the guest shut down by itself (its power button), not by a hard stop
    wait_console(api, "waiter", r"KEEL-GUEST-POWER-BUTTON")
    assert api.call("GET", "/vms/waiter")["state"] == "poweredOff"
    wait_log(host, "hostd.log", r"the host is in maintenance mode \(asked for by root\)")

    # a reboot keeps it, and the autostart VMs stay off
    host.kill()
    host.start().wait_ready()
    api = connect(host)
    assert api.call("GET", "/host/maintenance")["maintenance"] == "on"
    wait_log(host, "hostd.log", r"autostart: suspended \(maintenance mode\)")
    time.sleep(3)  # auto2's delay is 1 s: it would be on by now
    for name in ("auto1", "auto2", "manual"):
        assert api.call("GET", f"/vms/{name}")["state"] == "poweredOff", name
    r = api.error("POST", "/vms/auto1/power/on")
    assert r[0] == 409
    # this host's kernel came from QEMU, not from a boot bank: no bank to
    # put an extension into, even in maintenance mode
    assert api.call("GET", "/host/extensions") == {"extensions": [], "acceptance": "partner"}
    status, _, data = api.raw("POST", "/api/v1/host/extensions", b"x" * 4096,
                              headers={"Content-Type": "application/octet-stream"})
    assert status == 409 and b"did not boot from its boot banks" in data, data

    assert api.call("POST", "/host/maintenance/exit")["maintenance"] == "off"
    api.call("POST", "/vms/manual/power/on")
    wait_state(api, "manual", "running")
    api.call("POST", "/vms/manual/power/off")
    audit = api.call("GET", "/audit?lines=200")["entries"]
    assert any(e["action"] == "POST /api/v1/host/maintenance/exit" and e["result"] == "ok"
               for e in audit)
