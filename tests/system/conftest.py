import os
import shutil
import subprocess

import pytest

from harness import OUT, ROOT, Appliance
from native import BINARIES, NativeHost

LOGDIR = os.path.join(ROOT, "tests", "system", "logs")
# `make check` runs the modules on several pytest-xdist workers, a module to
# a worker, handed out in collection order: the longest go first, so that the
# workers finish together (the others keep their alphabetical order)
LONGEST_FIRST = ["test_vmm.py", "test_network.py", "test_systemd.py", "test_hostd.py",
                 "test_boot.py", "test_lifecycle.py", "test_update.py", "test_console.py", "test_vmm_devices.py", "test_security.py",
                 "test_readme.py", "test_hostd_native.py", "test_bench.py", "test_cli.py",
                 "test_dcui_native.py", "test_syslog.py", "test_time.py"]


def pytest_collection_modifyitems(items):
    rank = {name: i for i, name in enumerate(LONGEST_FIRST)}
    items.sort(key=lambda item: rank.get(item.path.name, len(rank)))


# where a test runs, for the summary line of `make check`: with a booted
# appliance (under QEMU), with keel-hostd on the build machine, or with
# neither (reading the images, say)
APPLIANCE_FIXTURES = {"boot", "host", "cli", "appliance"}


@pytest.fixture(autouse=True)
def _ran_on(request, record_property):
    names = set(request.fixturenames)
    record_property("ran_on", "in appliances" if names & APPLIANCE_FIXTURES else
                    "with hostd on the build machine" if "native_host" in names else
                    "on the build machine")


@pytest.fixture(scope="session")
def images():
    """The product and test images (`make check` builds them first)."""
    need = ["vmlinuz", "initramfs.img", "initramfs-test.img"]
    if not all(os.path.exists(os.path.join(OUT, n)) for n in need):
        subprocess.check_call(["make", "-C", ROOT, "image", "image-test"])
    return OUT


@pytest.fixture(scope="module")
def native_host(tmp_path_factory):
    """keel-hostd run on this machine in namespaces of its own (native.py),
    for the tests of one module; at teardown it is killed and its
    namespaces are gone."""
    if not all(os.path.exists(p) for p in BINARIES.values()):
        subprocess.check_call(["make", "-C", ROOT, "build"])
    host = NativeHost(str(tmp_path_factory.mktemp("native")))
    try:
        yield host.start()
    finally:
        host.kill()


@pytest.fixture(scope="session")
def pristine_disk(images, tmp_path_factory):
    """An empty Keel disk, made once; tests boot copies of it."""
    path = str(tmp_path_factory.mktemp("disk") / "pristine.img")
    subprocess.check_call([os.path.join(ROOT, "image", "mkdisk.sh"), path, "8"],
                          stdout=subprocess.DEVNULL)
    return path


@pytest.fixture
def disk(pristine_disk, tmp_path):
    path = str(tmp_path / "keel-disk.img")
    subprocess.check_call(["cp", "--sparse=always", pristine_disk, path])
    return path


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    rep = outcome.get_result()
    setattr(item, "rep_" + rep.when, rep)


@pytest.fixture
def boot(images, tmp_path, request):
    """boot(variant="test"|"product", disk=path|None) -> a booted Appliance.
    QEMU is always killed at teardown; console logs of failed tests are kept
    in tests/system/logs/."""
    hosts = []

    def _boot(variant="test", disk=None, name=None):
        a = Appliance(str(tmp_path), variant, disk, name or f"host{len(hosts)}")
        hosts.append(a)
        return a.start().wait_ready()

    yield _boot
    for a in hosts:
        a.kill()
    failed = any(getattr(request.node, "rep_" + w, None) and
                 getattr(request.node, "rep_" + w).failed for w in ("setup", "call"))
    if failed:
        os.makedirs(LOGDIR, exist_ok=True)
        for a in hosts:
            dest = os.path.join(LOGDIR, f"{request.node.name}-{os.path.basename(a.log)}")
            shutil.copy(a.log, dest)
            print(f"console log kept: {dest}")
