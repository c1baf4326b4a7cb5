"""The keel CLI against a booted product appliance: tables and --json, the
credentials file's mode, certificate pinning (a wrong fingerprint sends no
password), and the exit codes (0 ok, 1 the API refused, 2 usage). One
appliance for the module."""
import json
import os
import re
import subprocess

import pytest

from api import FINGERPRINT_RX, PASSWORD_RX
from harness import ROOT, module_host

KEEL = os.path.join(ROOT, "build", "src", "cli", "keel")


@pytest.fixture(scope="module")
def cli(images, pristine_disk, tmp_path_factory):
    """The CLI, with a credentials file, against one product appliance for
    the module."""
    host = module_host(tmp_path_factory, pristine_disk, "cli", variant="product")
    yield cli_for(host, tmp_path_factory.mktemp("creds"))
    host.kill()


def cli_for(host, tmp_path):
    password = host.wait_for(PASSWORD_RX).group(1)
    fingerprint = host.wait_for(FINGERPRINT_RX).group(1)
    host.wait_for(r"keel-hostd: API ready")
    creds = tmp_path / "creds"
    creds.write_text(f"host=127.0.0.1:{host.api_port}\nuser=root\npassword={password}\n"
                     f"fingerprint={fingerprint}\n")
    creds.chmod(0o600)

    def run(*args, env=None, creds_file=str(creds), stdin=None):
        e = {k: v for k, v in os.environ.items() if not k.startswith("KEEL_")}
        e.update(env or {})
        pre = ["--credentials", creds_file] if creds_file else []
        return subprocess.run([KEEL, *pre, *args], capture_output=True, text=True, env=e,
                              timeout=300, input=stdin)

    run.host, run.password, run.fingerprint, run.creds = host, password, fingerprint, creds
    return run


def test_cli(cli, tmp_path):
    r = cli("host", "info")
    assert r.returncode == 0 and "keel" in r.stdout and cli.fingerprint in r.stdout
    info = json.loads(cli("--json", "host", "info").stdout)
    assert info["certificate_sha256"] == cli.fingerprint and info["kvm"] is True

    # datastore round trip through the CLI, with a disk made and listed
    src = tmp_path / "blob"
    src.write_bytes(os.urandom(1 << 20))
    assert cli("datastore", "upload", str(src), "local/cli/blob").returncode == 0
    assert cli("datastore", "upload", str(src), "local/cli/blob").returncode == 1  # exists
    back = tmp_path / "back"
    assert cli("datastore", "download", "local/cli/blob", str(back)).returncode == 0
    assert back.read_bytes() == src.read_bytes()
    assert cli("datastore", "mkdisk", "local/cli/d.img", "64M").returncode == 0
    ls = json.loads(cli("--json", "datastore", "ls", "local/cli").stdout)
    assert {e["name"]: e["size"] for e in ls["entries"]} == {"blob": 1 << 20, "d.img": 64 << 20}
    assert "d.img" in cli("datastore", "ls", "local/cli").stdout

    # the API refuses: exit 1 with its message
    r = cli("vm", "create", "x", "--memory", "64", "--kernel", "local/../etc/passwd")
    assert r.returncode == 1 and "not allowed" in r.stderr
    r = cli("vm", "show", "nosuch")
    assert r.returncode == 1 and "nosuch: no such VM" in r.stderr
    r = cli("vm", "create", "v1", "--memory", "128", "--kernel", "local/cli/blob",
            "--disk", "local/cli/d.img")
    assert r.returncode == 0
    vms = json.loads(cli("--json", "vm", "list").stdout)["vms"]
    assert [(v["name"], v["state"], v["disks"]) for v in vms] == \
        [("v1", "poweredOff", [{"path": "local/cli/d.img", "readonly": False}])]
    assert cli("vm", "delete", "v1").returncode == 0
    # firmware VMs: no kernel, a boot order over their disks
    r = cli("vm", "create", "fw", "--memory", "64", "--firmware", "bios",
            "--disk", "local/cli/d.img", "--disk", "local/cli/blob,ro", "--boot-order", "1,0")
    assert r.returncode == 0, r
    show = cli("vm", "show", "fw").stdout
    assert re.search(r"firmware\s+bios", show) and re.search(r"boot order\s+disk 1, disk 0", show)
    assert "kernel" not in show, show
    assert cli("vm", "delete", "fw").returncode == 0
    r = cli("vm", "create", "fw", "--memory", "64", "--firmware", "efi")
    assert r.returncode == 1 and "firmware: uefi, bios or none" in r.stderr
    r = cli("vm", "create", "fw", "--memory", "64", "--firmware", "uefi", "--kernel", "local/cli/blob")
    assert r.returncode == 1 and "kernel: only with firmware" in r.stderr
    assert cli("vm", "create", "fw", "--memory", "64", "--boot-order", "x").returncode == 2

    # a cloud-init seed from files: their text in the VM's cloud_init
    user_data, meta = tmp_path / "user-data.yaml", tmp_path / "meta.yaml"
    user_data.write_text("#cloud-config\nhostname: v2\n")
    meta.write_text("instance-id: i-2\n")
    r = cli("vm", "create", "v2", "--memory", "64", "--kernel", "local/cli/blob",
            "--cloud-init", str(user_data), "--meta-data", str(meta))
    assert r.returncode == 0 and "user data 27 bytes, meta-data given" in r.stdout, r
    assert json.loads(cli("--json", "vm", "show", "v2").stdout)["cloud_init"] == {
        "user_data": user_data.read_text(), "meta_data": meta.read_text(), "network_config": ""}
    assert cli("datastore", "ls", "local/v2").stdout.count("v2.cidata.iso") == 1
    assert cli("vm", "delete", "v2").returncode == 0
    assert cli("vm", "create", "v3", "--memory", "64", "--kernel", "local/cli/blob",
               "--network-config", str(meta)).returncode == 2  # without --cloud-init

    # usage errors: exit 2
    assert cli("vm", "frobnicate").returncode == 2
    assert cli("vm", "create", "x").returncode == 2  # no --memory/--kernel
    assert cli("datastore", "mkdisk", "local/x.img", "lots").returncode == 2

    # the credentials file must be private
    cli.creds.chmod(0o644)
    r = cli("host", "info")
    assert r.returncode == 2 and "0600" in r.stderr
    cli.creds.chmod(0o600)

    # a wrong password: exit 1; the password from the environment
    env = {"KEEL_HOST": f"127.0.0.1:{cli.host.api_port}", "KEEL_FINGERPRINT": cli.fingerprint}
    r = cli("host", "info", env={**env, "KEEL_PASSWORD": "wrong"}, creds_file=None)
    assert r.returncode == 1 and "wrong user name or password" in r.stderr
    r = cli("host", "info", env={**env, "KEEL_PASSWORD": cli.password}, creds_file=None)
    assert r.returncode == 0

    # pinning: a wrong fingerprint stops the CLI before the password is sent
    def refused_logins():  # as hostd.log has them
        r = cli("host", "logs", "hostd", "--lines", "10000")
        assert r.returncode == 0, r
        return len(re.findall(r" login of '\S+' from \S+ refused", r.stdout))
    refused = refused_logins()
    assert refused >= 1  # the wrong password above
    bad = "00:" * 31 + "00"
    r = cli("--fingerprint", bad, "host", "info", env={**env, "KEEL_PASSWORD": "wrong"},
            creds_file=None)
    assert r.returncode == 1 and cli.fingerprint.lower().replace(":", "") in \
        r.stderr.lower().replace(":", "")
    assert refused_logins() == refused  # no login was tried
    # no pin and no CA: refused; --insecure works, and says so
    r = cli("host", "info", env={"KEEL_HOST": env["KEEL_HOST"], "KEEL_PASSWORD": cli.password},
            creds_file=None)
    assert r.returncode == 1 and "--fingerprint" in r.stderr
    r = cli("--insecure", "host", "info",
            env={"KEEL_HOST": env["KEEL_HOST"], "KEEL_PASSWORD": cli.password}, creds_file=None)
    assert r.returncode == 0 and "--insecure" in r.stderr


def test_cli_access_control(cli):
    pw = "Str0ng-enough-pw\n"
    assert cli("user", "create", "bob", "--password-stdin", stdin=pw).returncode == 0
    r = cli("user", "create", "weak", "--password-stdin", stdin="short\n")
    assert r.returncode == 1 and "password" in r.stderr
    assert cli("role", "create", "Starter", "VirtualMachine.PowerOn", "System.View").returncode == 0
    assert cli("permission", "set", "bob", "ReadOnly").returncode == 0
    perms = json.loads(cli("--json", "permission", "list").stdout)["permissions"]
    assert {"user": "bob", "entity": "host", "role": "ReadOnly"} in perms
    assert "bob" in cli("user", "list").stdout

    # bob, through the CLI: may look, may not create users
    bob_env = {"KEEL_HOST": f"127.0.0.1:{cli.host.api_port}", "KEEL_FINGERPRINT": cli.fingerprint,
               "KEEL_USER": "bob", "KEEL_PASSWORD": pw.strip()}
    assert cli("vm", "list", env=bob_env, creds_file=None).returncode == 0
    r = cli("user", "create", "eve", "--password-stdin", stdin=pw, env=bob_env, creds_file=None)
    assert r.returncode == 1 and "Host.Config.Security" in r.stderr

    assert cli("lockdown", "set", "normal", "--exception", "root").returncode == 0
    assert json.loads(cli("--json", "lockdown", "show").stdout)["mode"] == "normal"
    r = cli("vm", "list", env=bob_env, creds_file=None)
    assert r.returncode == 1 and "lockdown" in r.stderr
    assert cli("lockdown", "set", "off").returncode == 0

    entries = json.loads(cli("--json", "audit", "--lines", "200").stdout)["entries"]
    # (the CLI asks GET /users first, to refuse an existing name early)
    assert any(e["user"] == "bob" and e["result"] == "denied" and e["status"] == 403 and
               e["action"].endswith(" /api/v1/users") for e in entries)
    assert any(e["user"] == "bob" and e["action"] == "login" and e["result"] == "lockdown"
               for e in entries)
    assert "lockdown" in cli("audit", "--lines", "50").stdout


def test_cli_network(cli, tmp_path):
    ok = lambda *a: cli(*a).returncode == 0  # noqa: E731
    assert ok("network", "switch", "add", "vSwitch1", "--mtu", "9000")
    assert "vSwitch1" in cli("network", "switch", "list").stdout
    assert ok("network", "portgroup", "add", "VLAN 10", "--switch", "vSwitch1", "--vlan", "10")
    pgs = json.loads(cli("--json", "network", "portgroup", "list").stdout)["portgroups"]
    assert {"name": "VLAN 10", "switch": "vSwitch1", "vlan": 10, "vms": []} in pgs
    r = cli("network", "portgroup", "add", "bad", "--switch", "vSwitch1", "--vlan", "4095")
    assert r.returncode == 1 and "vlan" in r.stderr
    r = cli("network", "switch", "add", "jumbo", "--mtu", "20000")
    assert r.returncode == 1 and "mtu" in r.stderr
    assert cli("network", "switch", "add").returncode == 2  # usage
    nics = cli("network", "nic", "list").stdout
    assert "eth0" in nics and "management" in nics
    assert ":443" in cli("network", "connections").stdout
    assert "10.0.2.2" in cli("network", "neighbours").stdout
    assert "dhcp" in cli("network", "mgmt", "show").stdout
    assert ok("network", "mgmt", "set", "--hostname", "cli-host")
    assert json.loads(cli("--json", "host", "info").stdout)["hostname"] == "cli-host"

    # a VM NIC on the port group pins it
    kernel = tmp_path / "k"
    kernel.write_bytes(b"not a kernel, only a file")
    assert ok("datastore", "upload", str(kernel), "local/k")
    assert ok("vm", "create", "v1", "--memory", "64", "--kernel", "local/k",
              "--nic", "portgroup=VLAN 10")
    assert "VLAN 10" in cli("vm", "show", "v1").stdout
    r = cli("network", "portgroup", "rm", "VLAN 10")
    assert r.returncode == 1 and "v1" in r.stderr
    assert cli("network", "switch", "rm", "vSwitch1").returncode == 1
    assert ok("vm", "delete", "v1")
    assert ok("network", "portgroup", "set", "VLAN 10", "--vlan", "none")
    assert json.loads(cli("--json", "network", "portgroup", "show", "VLAN 10").stdout)["vlan"] is None
    assert ok("network", "switch", "rm", "vSwitch1")
    assert "vSwitch1" not in cli("network", "switch", "list").stdout
