"""The appliance boots, reports KVM, mounts the Keel disk, supervises its
services and powers off cleanly."""
import os
import re

from harness import OUT, ext4_state

PARTS = {"KEEL-CONFIG": "/config", "KEEL-SCRATCH": "/scratch",
         "KEEL-DATASTORE": "/datastores/local"}


def test_product_image_boots_to_ready_with_kvm(boot, disk):
    host = boot("product", disk)
    con = host.console()
    assert re.search(r"kvm: /dev/kvm ready \(kvm_(amd|intel) loaded\)", con), con
    # every module loaded though the kernel takes only its builder's signed ones
    assert "modules: only modules signed by the kernel's builder load" in con, con
    assert "modules: cannot load" not in con, con
    for label, mnt in PARTS.items():
        assert re.search(rf"disk: {label} \(/dev/vda\d\) mounted on {mnt}, clean", con), con
    assert "RAM scratch" not in con
    # the management NIC got a lease from QEMU's user network
    host.wait_for(r"keel-dhcpc: lease eth0 10\.0\.2\.15/24 gw 10\.0\.2\.2")


def test_product_image_holds_no_shell_or_test_tools(images):
    with open(os.path.join(OUT, "initramfs.list")) as f:
        files = [line.split(None, 1)[1].strip() for line in f]
    names = {os.path.basename(p) for p in files}
    assert "keel-init" in names and "keel-dhcpc" in names
    # no shell, test hook or package tools, nor the bench's VMM and measuring
    # tools (only the bench variant has them)
    for forbidden in ("sh", "bash", "busybox", "keel-testhook", "apt", "dpkg",
                      "qemu-system-x86_64", "iperf3", "fio", "qboot.rom"):
        assert forbidden not in names, forbidden
    assert not [p for p in files if p.startswith(("usr/share/qemu", "usr/share/seabios"))]
    # the VMs' firmware (hostd/vmfiles.h), and only there
    for fw in ("bios-256k.bin", "OVMF_CODE_4M.fd", "OVMF_VARS_4M.fd"):
        assert [p for p in files if os.path.basename(p) == fw] == \
            [f"usr/share/keel/firmware/{fw}"], fw
    # exactly the curated modules and their dependencies
    assert any(p.endswith("/kvm-amd.ko") for p in files)
    assert any(p.endswith("/kvm-intel.ko") for p in files)
    with open(os.path.join(OUT, "manifest.txt")) as f:
        manifest = f.read()
    assert re.search(r"kernel-package-version: \S+", manifest)


def test_no_disk_runs_on_ram_scratch(boot):
    host = boot("product", None)
    con = host.console()
    assert "no Keel disk found: running on RAM scratch" in con
    assert "mounted on /config" not in con
    # keel-syslogd keeps its files within a fixed total, and says so once
    host.wait_for(r"keel-syslogd: /scratch is in RAM: the logs in /scratch/log are kept "
                  r"within 8192 KiB in total")
    assert host.console().count("keel-syslogd: /scratch is in RAM") == 1


def test_config_survives_reboot_and_poweroff_is_clean(boot, disk):
    host = boot("test", disk)
    mounts = host.hook("cat /proc/mounts").decode()
    for mnt in PARTS.values():
        assert re.search(rf"^/dev/vda\d {mnt} ext4 rw", mounts, re.M), mounts
    assert host.hook("write /config/persist.txt", b"kept across reboots\n") == b"OK\n"

    con = host.powerdown()
    assert "ACPI power button pressed" in con
    for mnt in PARTS.values():
        assert f"poweroff: unmounted {mnt}" in con, con
    # the host side sees clean filesystems
    for label in PARTS:
        sb = ext4_state(disk, label)
        assert re.search(r"Filesystem state:\s+clean$", sb, re.M), sb
        assert "needs_recovery" not in sb

    host.start().wait_ready()
    con = host.console()
    for label, mnt in PARTS.items():
        assert re.search(rf"disk: {label} \(/dev/vda\d\) mounted on {mnt}, clean", con), con
    assert host.hook("cat /config/persist.txt") == b"kept across reboots\n"


def test_unclean_shutdown_is_detected(boot, disk):
    host = boot("test", disk)
    assert host.hook("write /config/x", b"x") == b"OK\n"
    host.kill()  # pulls the plug: nothing unmounted
    assert "needs_recovery" in ext4_state(disk, "KEEL-CONFIG")
    host.start().wait_ready()
    assert re.search(r"KEEL-CONFIG \(/dev/vda\d\) mounted on /config, "
                     r"was not cleanly unmounted", host.console())
    assert host.hook("cat /config/x") == b"x"


def test_killed_service_is_restarted(boot):
    host = boot("test", None)
    pid = int(host.hook("cat /run/keel/testhook.pid"))
    reply = host.hook("kill testhook 9")
    assert reply in (b"", f"OK {pid}\n".encode())  # it may die before answering
    m = host.wait_for(rf"service testhook: pid {pid} killed by signal 9(?:.|\n)*"
                      r"service testhook: started, pid (\d+)")
    new = int(m.group(1))
    assert new != pid
    host.wait_for(rf"started, pid {new}(?:.|\n)*keel-testhook: listening")
    assert int(host.hook("cat /run/keel/testhook.pid")) == new


def test_service_that_cannot_start_leaves_host_up(boot):
    host = boot("test", None)
    host.wait_for(r"service broken: cannot start /sbin/keel-does-not-exist: "
                  r"No such file or directory")
    # retried with a growing back-off, and the host is still up and serving
    host.wait_for(r"service broken: restarting in 1\.0s(?:.|\n)*"
                  r"service broken: restarting in 2\.0s")
    assert host.hook("cat /proc/1/cmdline") == b"/init\0"


def test_static_management_address_and_hostname(boot, disk):
    host = boot("test", disk)
    conf = (b"# written by the test\nhostname = esx-lab-01\nmgmt.mode = static\n"
            b"mgmt.address = 10.0.2.15/24\nmgmt.gateway = 10.0.2.2\n"
            b"mgmt.dns = 10.0.2.3\nbogus.key = 1\n")
    assert host.hook("write /config/host.conf", conf) == b"OK\n"
    # a power-off request (SIGUSR2 to keel-init) shuts down as cleanly as the button
    assert host.hook("poweroff") == b"OK\n"
    con = host.wait_off()
    assert "poweroff requested" in con and "poweroff: unmounted /config" in con
    host.start().wait_ready()
    con = host.console()
    assert "host name: esx-lab-01" in con
    assert "net: eth0 static 10.0.2.15/24 gw 10.0.2.2" in con
    assert "line 7: unknown key" in con
    # keel-dhcpc runs (to be switched live) but asks for no lease
    host.wait_for(r"keel-dhcpc: eth0: mode static")
    assert "keel-dhcpc: lease" not in host.console()
    # reachable on the static address (QEMU forwards the hook port to it)
    assert host.hook("cat /proc/sys/kernel/hostname") == b"esx-lab-01\n"
    assert host.hook("cat /etc/resolv.conf") == b"nameserver 10.0.2.3\n"
