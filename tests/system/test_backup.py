"""The configuration backup and its restore, as an operator does them with
the CLI: a backup (encrypted under a passphrase), a factory reset, then the
restore in maintenance mode: the host comes back with the same users (and
passwords), permissions, networks, VMs and TLS identity. Refused, with
nothing changed: out of maintenance mode, a wrong passphrase, a changed
byte, another machine's backup (QEMU's -uuid gives the machine its SMBIOS
UUID)."""
import os
import subprocess

import pytest

from api import FINGERPRINT_RX, PASSWORD_RX, Api, connect
from harness import ROOT, Appliance

KEEL = os.path.join(ROOT, "build", "src", "cli", "keel")
PW, PASSPHRASE = "ada-Secret-42", "correct horse battery"
MACHINE, OTHER = "6b1c1a6e-2f4d-4c1b-9a7e-3d5f0e8b9c21", "0d4e5f6a-7b8c-4d9e-8f0a-1b2c3d4e5f60"


@pytest.fixture(scope="module")
def host(images, pristine_disk, tmp_path_factory):
    d = tmp_path_factory.mktemp("backup")
    disk = str(d / "keel-disk.img")
    subprocess.check_call(["cp", "--sparse=always", pristine_disk, disk])
    a = Appliance(str(d), "test", disk, "backup")
    a.more_args = ["-uuid", MACHINE]
    try:
        yield a.start().wait_ready()
    finally:
        a.kill()


def cli(api, *args, stdin=None):
    creds = api.write_cli_credentials(os.path.join(api.host.workdir, "creds"))
    return subprocess.run([KEEL, "--credentials", creds, *args], capture_output=True,
                          text=True, input=stdin, timeout=300)


def state(api):
    """What a restore must bring back."""
    return {"users": sorted(u["name"] for u in api.call("GET", "/users")["users"]),
            "permissions": api.call("GET", "/permissions")["permissions"],
            "switches": api.call("GET", "/network/switches")["switches"],
            "portgroups": api.call("GET", "/network/portgroups")["portgroups"],
            "vms": sorted(v["name"] for v in api.call("GET", "/vms")["vms"]),
            "fingerprint": api.call("GET", "/host")["certificate_sha256"],
            "uuid": api.call("GET", "/host")["uuid"]}


def reboot(host, root_password=None):
    """After a reboot the host asked for (QEMU ends: -no-reboot): boots it
    again and logs in as root (with the first boot's password if none)."""
    host.wait_off(timeout=300)
    host.start().wait_ready()
    fp = host.wait_for(FINGERPRINT_RX).group(1)
    host.wait_for(r"keel-hostd: API ready")
    pw = root_password or host.wait_for(PASSWORD_RX).group(1)
    api = Api(host.api_port, fp).login("root", pw)
    api.host = host
    return api


def test_backup_factory_reset_restore(host, tmp_path):
    api = connect(host)
    api.host = host
    root_pw = api.password
    assert api.call("GET", "/host")["uuid"] == MACHINE
    api.call("POST", "/users", {"name": "ada", "password": PW})
    api.call("PUT", "/permissions", {"user": "ada", "entity": "host", "role": "Administrator"})
    api.call("POST", "/network/switches", {"name": "vSwitch1", "mtu": 9000})
    api.call("POST", "/network/portgroups", {"name": "Web", "switch": "vSwitch1", "vlan": 10})
    api.call("POST", "/vms", {"name": "web1", "memory_mib": 256, "firmware": "bios"})
    before = state(api)

    backup = str(tmp_path / "host.kbk")
    r = cli(api, "host", "config", "backup", "-o", backup, "--passphrase-stdin",
            stdin=PASSPHRASE + "\n")
    assert r.returncode == 0, r.stderr
    data = open(backup, "rb").read()
    assert data.startswith(b"KEELBKP1") and len(data) < 1 << 20
    # the secrets are not in the clear
    for secret in (b"$y$", b"PRIVATE KEY", b"ada", b"vSwitch1"):
        assert secret not in data[data.index(b"}") + 1:], secret

    # not in maintenance mode: refused, nothing kept
    status, _ = api.error("PUT", "/host/config/restore/file", data)
    assert status == 409

    # a factory reset: a new host (new password, new certificate), same machine
    assert api.call("POST", "/host/factory-reset", {"timeout_s": 5})["state"] == "rebooting"
    api = reboot(host)
    reset = state(api)
    assert reset["users"] == ["root"] and reset["vms"] == []
    assert [s["name"] for s in reset["switches"]] == ["vSwitch0"]  # the default one
    assert reset["fingerprint"] != before["fingerprint"] and reset["uuid"] == MACHINE

    api.call("POST", "/host/maintenance/enter", {})
    # a wrong passphrase, a changed byte: refused, the host as it was
    r = cli(api, "host", "config", "restore", backup, "--passphrase-stdin", stdin="wrong pass\n")
    assert r.returncode == 1 and "passphrase is wrong" in r.stderr, r.stderr
    changed = str(tmp_path / "changed.kbk")
    with open(changed, "wb") as f:
        f.write(data[:-100] + bytes([data[-100] ^ 1]) + data[-99:])
    r = cli(api, "host", "config", "restore", changed, "--passphrase-stdin",
            stdin=PASSPHRASE + "\n")
    assert r.returncode == 1 and "passphrase is wrong, or the backup was changed" in r.stderr
    assert state(api) == reset
    assert b"restore" not in host.hook("ls /config")

    # the restore: the host reboots into what it was, root's password too
    r = cli(api, "host", "config", "restore", backup, "--passphrase-stdin",
            stdin=PASSPHRASE + "\n")
    assert r.returncode == 0, r.stderr
    assert "Keel 0.1.0" in r.stdout and MACHINE in r.stdout, r.stdout
    api = reboot(host, root_pw)
    host.wait_for(r"keel-init: restore: done")
    assert state(api) == before
    assert Api(host.api_port, before["fingerprint"].replace(":", "")).login("ada", PW)
    assert b"restore" not in host.hook("ls /config")

    # another machine (another SMBIOS UUID): refused unless forced
    assert host.hook("poweroff") == b"OK\n"
    host.wait_off()
    host.more_args = ["-uuid", OTHER]
    api = reboot(host, root_pw)
    assert api.call("GET", "/host")["uuid"] == OTHER
    api.call("POST", "/host/maintenance/enter", {})
    r = cli(api, "host", "config", "restore", backup, "--passphrase-stdin",
            stdin=PASSPHRASE + "\n")
    assert r.returncode == 1 and f"the backup is of host {MACHINE}" in r.stderr, r.stderr
