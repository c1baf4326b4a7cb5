"""keel vm import with keel-hostd on this machine (native.py): disk images
made by qemu-img from one known raw image (qcow2, stream-optimized VMDK,
VHDX, VHD, raw) arrive on the datastore with the raw's SHA-256, moving
about as many bytes over the wire as the image holds data (counted on the
veth pair to hostd's namespace, not by the CLI); an OVA built here in
ESXi's style creates the matching VM and reports what it cannot map; a
manifest that does not match stops it; hostile sparse streams get 400 and
leave nothing on the datastore. One hostd for the module."""
import hashlib
import json
import os
import random
import re
import struct
import subprocess
import tarfile

import pytest

from api import connect

KEEL = os.path.join(os.path.dirname(__file__), "..", "..", "build", "src", "cli", "keel")
MIB = 1 << 20
SIZE = 64 * MIB  # the raw image's size, mostly holes
# (offset, length) of its data: aligned and unaligned, small and large
REGIONS = [(0, 64 * 1024), (3 * MIB + 4096, 512 * 1024), (10 * MIB + 1000, 5000),
           (20 * MIB, MIB), (47 * MIB - 8192, 16384), (SIZE - 4096, 4096)]


@pytest.fixture(scope="module")
def api(native_host):
    return connect(native_host, address=native_host.address)


@pytest.fixture(scope="module")
def keel(api, native_host, tmp_path_factory):
    """Runs the CLI against the native hostd; returns (CompletedProcess,
    bytes sent toward hostd meanwhile)."""
    d = tmp_path_factory.mktemp("cli")
    creds = api.write_cli_credentials(d / "creds")
    env = {k: v for k, v in os.environ.items() if not k.startswith("KEEL_")}
    env["TMPDIR"] = str(d)
    counter = f"/sys/class/net/keel-n{native_host.x}/statistics/tx_bytes"

    def run(*args):
        with open(counter) as f:
            before = int(f.read())
        r = subprocess.run([KEEL, "--credentials", str(creds), *args], capture_output=True,
                           text=True, env=env, timeout=300)
        with open(counter) as f:
            sent = int(f.read()) - before
        assert os.listdir(d) == ["creds"], "the CLI left files in TMPDIR"
        return r, sent

    run.creds = creds
    return run


@pytest.fixture(scope="module")
def raw(tmp_path_factory):
    """The known raw image: (path, SHA-256, bytes allocated to it: its
    data rounded out to the file system's blocks)."""
    path = tmp_path_factory.mktemp("images") / "known.raw"
    rnd = random.Random(20)
    with open(path, "wb") as f:
        f.truncate(SIZE)
        for off, n in REGIONS:
            f.seek(off)
            f.write(rnd.randbytes(n))
    with open(path, "rb") as f:
        digest = hashlib.file_digest(f, "sha256").hexdigest()
    allocated = os.stat(path).st_blocks * 512
    assert sum(n for _, n in REGIONS) <= allocated < 2 * MIB
    return str(path), digest, allocated


def stored(native_host, ds_path):
    return os.path.join(native_host.root, "datastores", ds_path)


def sha256(path):
    with open(path, "rb") as f:
        return hashlib.file_digest(f, "sha256").hexdigest()


FORMATS = {  # name: qemu-img convert's options
    "qcow2": ["-O", "qcow2"],
    "vmdk": ["-O", "vmdk", "-o", "subformat=streamOptimized"],  # as ESXi exports
    "vmdk-sparse": ["-O", "vmdk", "-o", "subformat=monolithicSparse"],
    "vmdk-flat": ["-O", "vmdk", "-o", "subformat=monolithicFlat"],  # descriptor + data file
    "vhdx": ["-O", "vhdx"],
    "vhd": ["-O", "vpc", "-o", "subformat=dynamic,force_size=on"],
    "vhd-fixed": ["-O", "vpc", "-o", "subformat=fixed,force_size=on"],  # probed as raw
    "raw": None,  # copied sparse
    "raw-full": None,  # copied with its holes written as zeros
}


@pytest.mark.parametrize("fmt", FORMATS)
def test_import_disk(fmt, raw, keel, api, native_host, tmp_path):
    src, digest, allocated = raw
    image = str(tmp_path / f"disk-{fmt}.{fmt}")
    if FORMATS[fmt]:
        subprocess.run(["qemu-img", "convert", "-f", "raw", *FORMATS[fmt], src, image],
                       check=True, capture_output=True)
    else:
        sparse = "never" if fmt == "raw-full" else "always"
        subprocess.run(["cp", f"--sparse={sparse}", src, image], check=True)
    r, sent = keel("vm", "import", image)
    assert r.returncode == 0, r
    name = f"disk-{fmt}"
    path = f"local/{name}/{name}.img"
    assert r.stdout.startswith(f"{path}: 64M, 1.6M of data sent"), r.stdout
    assert "\r" not in r.stderr and r.stderr == "", r.stderr  # no progress off a terminal
    assert sha256(stored(native_host, path)) == digest
    st = os.stat(stored(native_host, path))
    assert st.st_size == SIZE and st.st_blocks * 512 < 8 * MIB, "stored sparse"
    # what went over the wire: the allocated data, and TLS, TCP/IP, HTTP and
    # the login around it: a few percent more
    print(f"{fmt}: {sent} bytes sent for {allocated} bytes allocated in a {SIZE}-byte "
          f"image ({sent / allocated:.3f})")
    assert allocated <= sent <= allocated * 1.05 + 64 * 1024, (sent, allocated)
    # and what hostd says it wrote: the data, never more than was allocated
    m = native_host.wait_for(rf"uploaded {path} \({SIZE} bytes, sparse: (\d+) of data\)")
    assert sum(n for _, n in REGIONS) <= int(m.group(1)) <= allocated, m.group(0)
    assert api.call("GET", f"/datastores/local/browse/{name}/{name}.img")["size"] == SIZE


def test_import_disk_creates_vm(raw, keel, api, native_host):
    r, _ = keel("vm", "import", raw[0], "--name", "withvm", "--memory", "256M", "--vcpus", "2",
                "--datastore", "local", "--quiet")
    assert r.returncode == 0, r
    vm = api.call("GET", "/vms/withvm")
    assert (vm["vcpus"], vm["memory_mib"], vm["firmware"]) == (2, 256, "uefi")
    assert [d["path"] for d in vm["disks"]] == ["local/withvm/withvm.img"]
    assert sha256(stored(native_host, "local/withvm/withvm.img")) == raw[1]
    # a VM of that name exists: refused before anything is uploaded
    r, _ = keel("vm", "import", raw[0], "--name", "withvm", "--memory", "256M",
                "--datastore", "other")
    assert r.returncode == 1 and "a VM called withvm exists already" in r.stderr, r


def test_import_json(raw, keel):
    r, _ = keel("--json", "vm", "import", raw[0], "--name", "asjson")
    assert r.returncode == 0, r
    assert json.loads(r.stdout) == {"disks": [{"path": "local/asjson/asjson.img"}]}
    r, _ = keel("--json", "vm", "import", raw[0], "--name", "asjson2", "--memory", "64",
                "--firmware", "bios")
    out = json.loads(r.stdout)
    assert out["vm"]["firmware"] == "bios" and out["vm"]["disks"][0]["path"] == \
        "local/asjson2/asjson2.img", out


def test_import_refusals(raw, keel, api, tmp_path):
    empty = tmp_path / "empty.img"
    empty.write_bytes(b"")
    r, _ = keel("vm", "import", str(empty))
    assert r.returncode == 1 and "not a disk image keel vm import takes" in r.stderr, r
    r, _ = keel("vm", "import", raw[0], "--name", "-bad")
    assert r.returncode == 2 and "--name" in r.stderr, r
    r, _ = keel("vm", "import", str(tmp_path / "missing.qcow2"))
    assert r.returncode == 2 and "No such file" in r.stderr, r
    # the disk exists already: 409, nothing replaced
    assert keel("vm", "import", raw[0], "--name", "twice")[0].returncode == 0
    r, _ = keel("vm", "import", raw[0], "--name", "twice")
    assert r.returncode == 1 and "409" in r.stderr, r


# --- OVA ---------------------------------------------------------------------

OVF = """<?xml version="1.0" encoding="UTF-8"?>
<!--Generated by VMware ovftool 4.4.3 (build-18663434), UTC time: 2026-11-30T10:00:00.000Z-->
<Envelope vmw:buildId="build-18663434" xmlns="http://schemas.dmtf.org/ovf/envelope/1"
 xmlns:cim="http://schemas.dmtf.org/wbem/wscim/1/common"
 xmlns:ovf="http://schemas.dmtf.org/ovf/envelope/1"
 xmlns:rasd="http://schemas.dmtf.org/wbem/wscim/1/cim-schema/2/CIM_ResourceAllocationSettingData"
 xmlns:vmw="http://www.vmware.com/schema/ovf"
 xmlns:vssd="http://schemas.dmtf.org/wbem/wscim/1/cim-schema/2/CIM_VirtualSystemSettingData"
 xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">
  <References>
    <File ovf:href="appliance-disk1.vmdk" ovf:id="file1" ovf:size="{vmdk_size}"/>
  </References>
  <DiskSection>
    <Info>Virtual disk information</Info>
    <Disk ovf:capacity="64" ovf:capacityAllocationUnits="byte * 2^20" ovf:diskId="vmdisk1"
     ovf:fileRef="file1"
     ovf:format="http://www.vmware.com/interfaces/specifications/vmdk.html#streamOptimized"
     ovf:populatedSize="2097152"/>
    <Disk ovf:capacity="2" ovf:capacityAllocationUnits="byte * 2^30" ovf:diskId="vmdisk2"
     ovf:format="http://www.vmware.com/interfaces/specifications/vmdk.html#streamOptimized"/>
  </DiskSection>
  <NetworkSection>
    <Info>The list of logical networks</Info>
    <Network ovf:name="VM Network"><Description>The VM Network network</Description></Network>
    <Network ovf:name="DMZ"><Description>The DMZ network</Description></Network>
  </NetworkSection>
  <VirtualSystem ovf:id="appliance">
    <Info>A virtual machine</Info>
    <Name>appliance</Name>
    <OperatingSystemSection ovf:id="96" vmw:osType="debian11_64Guest">
      <Info>The kind of installed guest operating system</Info>
    </OperatingSystemSection>
    <VirtualHardwareSection>
      <Info>Virtual hardware requirements</Info>
      <System>
        <vssd:ElementName>Virtual Hardware Family</vssd:ElementName>
        <vssd:InstanceID>0</vssd:InstanceID>
        <vssd:VirtualSystemIdentifier>appliance</vssd:VirtualSystemIdentifier>
        <vssd:VirtualSystemType>vmx-19</vssd:VirtualSystemType>
      </System>
      <Item>
        <rasd:AllocationUnits>hertz * 10^6</rasd:AllocationUnits>
        <rasd:Description>Number of Virtual CPUs</rasd:Description>
        <rasd:ElementName>3 virtual CPU(s)</rasd:ElementName>
        <rasd:InstanceID>1</rasd:InstanceID>
        <rasd:ResourceType>3</rasd:ResourceType>
        <rasd:VirtualQuantity>3</rasd:VirtualQuantity>
      </Item>
      <Item>
        <rasd:AllocationUnits>byte * 2^20</rasd:AllocationUnits>
        <rasd:Description>Memory Size</rasd:Description>
        <rasd:ElementName>768MB of memory</rasd:ElementName>
        <rasd:InstanceID>2</rasd:InstanceID>
        <rasd:ResourceType>4</rasd:ResourceType>
        <rasd:VirtualQuantity>768</rasd:VirtualQuantity>
      </Item>
      <Item>
        <rasd:Address>0</rasd:Address>
        <rasd:Description>SCSI Controller</rasd:Description>
        <rasd:ElementName>SCSI controller 0</rasd:ElementName>
        <rasd:InstanceID>3</rasd:InstanceID>
        <rasd:ResourceSubType>VirtualSCSI</rasd:ResourceSubType>
        <rasd:ResourceType>6</rasd:ResourceType>
      </Item>
      <Item>
        <rasd:Address>1</rasd:Address>
        <rasd:Description>IDE Controller</rasd:Description>
        <rasd:ElementName>VirtualIDEController 1</rasd:ElementName>
        <rasd:InstanceID>4</rasd:InstanceID>
        <rasd:ResourceType>5</rasd:ResourceType>
      </Item>
      <Item ovf:required="false">
        <rasd:AddressOnParent>0</rasd:AddressOnParent>
        <rasd:AutomaticAllocation>false</rasd:AutomaticAllocation>
        <rasd:ElementName>CD/DVD drive 1</rasd:ElementName>
        <rasd:InstanceID>5</rasd:InstanceID>
        <rasd:Parent>4</rasd:Parent>
        <rasd:ResourceSubType>vmware.cdrom.remotepassthrough</rasd:ResourceSubType>
        <rasd:ResourceType>15</rasd:ResourceType>
      </Item>
      <Item>
        <rasd:AddressOnParent>0</rasd:AddressOnParent>
        <rasd:ElementName>Hard disk 1</rasd:ElementName>
        <rasd:HostResource>ovf:/disk/vmdisk1</rasd:HostResource>
        <rasd:InstanceID>6</rasd:InstanceID>
        <rasd:Parent>3</rasd:Parent>
        <rasd:ResourceType>17</rasd:ResourceType>
      </Item>
      <Item>
        <rasd:AddressOnParent>1</rasd:AddressOnParent>
        <rasd:ElementName>Hard disk 2</rasd:ElementName>
        <rasd:HostResource>ovf:/disk/vmdisk2</rasd:HostResource>
        <rasd:InstanceID>7</rasd:InstanceID>
        <rasd:Parent>3</rasd:Parent>
        <rasd:ResourceType>17</rasd:ResourceType>
      </Item>
      <Item>
        <rasd:AddressOnParent>7</rasd:AddressOnParent>
        <rasd:AutomaticAllocation>true</rasd:AutomaticAllocation>
        <rasd:Connection>VM Network</rasd:Connection>
        <rasd:Description>VmxNet3 ethernet adapter on &quot;VM Network&quot;</rasd:Description>
        <rasd:ElementName>Network adapter 1</rasd:ElementName>
        <rasd:InstanceID>8</rasd:InstanceID>
        <rasd:ResourceSubType>VmxNet3</rasd:ResourceSubType>
        <rasd:ResourceType>10</rasd:ResourceType>
      </Item>
      <Item>
        <rasd:AddressOnParent>8</rasd:AddressOnParent>
        <rasd:AutomaticAllocation>true</rasd:AutomaticAllocation>
        <rasd:Connection>DMZ</rasd:Connection>
        <rasd:ElementName>Network adapter 2</rasd:ElementName>
        <rasd:InstanceID>9</rasd:InstanceID>
        <rasd:ResourceSubType>E1000</rasd:ResourceSubType>
        <rasd:ResourceType>10</rasd:ResourceType>
      </Item>
      <Item ovf:required="false">
        <rasd:AutomaticAllocation>false</rasd:AutomaticAllocation>
        <rasd:ElementName>Video card</rasd:ElementName>
        <rasd:InstanceID>10</rasd:InstanceID>
        <rasd:ResourceType>24</rasd:ResourceType>
      </Item>
      <Item ovf:required="false">
        <rasd:ElementName>USB controller</rasd:ElementName>
        <rasd:InstanceID>11</rasd:InstanceID>
        <rasd:ResourceSubType>vmware.usb.ehci</rasd:ResourceSubType>
        <rasd:ResourceType>23</rasd:ResourceType>
      </Item>
      <vmw:Config ovf:required="false" vmw:key="firmware" vmw:value="efi"/>
      <vmw:Config ovf:required="false" vmw:key="tools.syncTimeWithHost" vmw:value="false"/>
    </VirtualHardwareSection>
  </VirtualSystem>
</Envelope>
"""


def make_ova(tmp_path, src, name="appliance.ova", tamper=False):
    """An OVA as ovftool writes it: the OVF, the manifest, the disk."""
    vmdk = tmp_path / "appliance-disk1.vmdk"
    subprocess.run(["qemu-img", "convert", "-f", "raw", "-O", "vmdk", "-o",
                    "subformat=streamOptimized", src, str(vmdk)], check=True)
    ovf = tmp_path / "appliance.ovf"
    ovf.write_text(OVF.replace("{vmdk_size}", str(vmdk.stat().st_size)))
    mf = tmp_path / "appliance.mf"
    digest = sha256(vmdk)
    if tamper:
        digest = ("0" if digest[0] != "0" else "1") + digest[1:]
    mf.write_text(f"SHA256(appliance.ovf)= {sha256(ovf)}\n"
                  f"SHA256(appliance-disk1.vmdk)= {digest}\n")
    ova = tmp_path / name
    with tarfile.open(ova, "w", format=tarfile.USTAR_FORMAT) as t:
        for f in (ovf, mf, vmdk):
            t.add(f, arcname=f.name)
    return str(ova)


def test_import_ova(raw, keel, api, native_host, tmp_path):
    ova = make_ova(tmp_path, raw[0])
    r, sent = keel("vm", "import", ova, "--quiet")
    assert r.returncode == 0, r
    vm = api.call("GET", "/vms/appliance")
    assert (vm["vcpus"], vm["memory_mib"], vm["firmware"]) == (3, 768, "uefi")
    assert [d["path"] for d in vm["disks"]] == ["local/appliance/appliance-disk0.img",
                                               "local/appliance/appliance-disk1.img"]
    assert [n["portgroup"] for n in vm["nics"]] == ["VM Network", "VM Network"]
    assert sha256(stored(native_host, "local/appliance/appliance-disk0.img")) == raw[1]
    empty = os.stat(stored(native_host, "local/appliance/appliance-disk1.img"))
    assert empty.st_size == 2 << 30 and empty.st_blocks == 0
    assert sent < raw[2] * 1.10 + 512 * 1024, (sent, raw[2])
    lines = r.stderr.splitlines()
    # one line for each item it cannot map, and for the network it has not
    assert 'keel: not imported: "CD/DVD drive 1" (ResourceType 15): CD drive' in lines, lines
    assert 'keel: not imported: "Video card" (ResourceType 24): graphics controller' in lines
    assert 'keel: not imported: "USB controller" (ResourceType 23): USB controller' in lines
    assert any(re.search(r'NIC 1: no port group "DMZ" on the host: connected to "VM Network"', x)
               for x in lines), lines
    assert len(lines) == 4, lines
    # the same appliance again: the VM exists, nothing is uploaded
    r, _ = keel("vm", "import", ova)
    assert r.returncode == 1 and "exists already" in r.stderr, r


def test_import_ova_bad_manifest(raw, keel, api, native_host, tmp_path):
    ova = make_ova(tmp_path, raw[0], tamper=True)
    r, _ = keel("vm", "import", ova, "--name", "tampered")
    assert r.returncode == 1, r
    assert "appliance-disk1.vmdk does not match its digest in the manifest" in r.stderr, r
    assert not os.path.exists(stored(native_host, "local/tampered"))
    assert "tampered" not in [v["name"] for v in api.call("GET", "/vms")["vms"]]


# --- hostile sparse streams ---------------------------------------------------------

def header(size, magic=b"KEELSPRS", version=1):
    return magic + struct.pack("<IIQ", version, 0, size)


def record(off, data):
    return struct.pack("<QQ", off, len(data)) + data


def end(size):
    return struct.pack("<QQ", size, 0)


HOSTILE = {
    "overlapping": header(4096) + record(0, b"a" * 100) + record(99, b"b" * 10) + end(4096),
    "out of order": header(4096) + record(200, b"a") + record(100, b"b") + end(4096),
    "past the size": header(4096) + record(4000, b"a" * 97) + end(4096),
    "wrapping": header(4096) + struct.pack("<QQ", 8, (1 << 64) - 4) + b"x" * 16 + end(4096),
    "truncated in data": header(4096) + record(0, b"a" * 100)[:-10],
    "no end record": header(4096) + record(0, b"a" * 100),
    "trailing bytes": header(4096) + end(4096) + b"x",
    "too large": header((64 << 40) + 1) + end((64 << 40) + 1),
    "bad magic": header(4096, magic=b"KEELSPRZ") + end(4096),
    "bad version": header(4096, version=2) + end(4096),
    "end not at size": header(4096) + end(4095),
}


@pytest.mark.parametrize("case", HOSTILE)
def test_hostile_sparse_stream(case, api, native_host):
    status, _, body = api.raw("PUT", "/api/v1/datastores/local/files/hostile/x.img",
                              HOSTILE[case],
                              headers={"Content-Type": "application/x-keel-sparse"})
    assert status == 400, (status, body)
    assert b"sparse stream" in body, body
    folder = stored(native_host, "local/hostile")
    assert os.listdir(folder) == [], "nothing stored, no temporary file left"


def test_sparse_stream_good(api, native_host):
    body = header(1 << 20) + record(4096, b"k" * 5000) + record(1 << 19, b"e") + end(1 << 20)
    r = api.call("PUT", "/datastores/local/files/hostile/good.img", body,
                 headers={"Content-Type": "application/x-keel-sparse"})
    assert r["size"] == 1 << 20
    with open(stored(native_host, "local/hostile/good.img"), "rb") as f:
        data = f.read()
    want = bytearray(1 << 20)
    want[4096:4096 + 5000] = b"k" * 5000
    want[1 << 19] = ord("e")
    assert data == bytes(want)
    # an existing file: 409 without overwrite, replaced with it
    status, _, _ = api.raw("PUT", "/api/v1/datastores/local/files/hostile/good.img", body,
                           headers={"Content-Type": "application/x-keel-sparse"})
    assert status == 409
    api.call("PUT", "/datastores/local/files/hostile/good.img?overwrite=true",
             header(10) + end(10), headers={"Content-Type": "application/x-keel-sparse"})
    assert os.path.getsize(stored(native_host, "local/hostile/good.img")) == 10
    api.call("DELETE", "/datastores/local/files/hostile/good.img")


VBOX_OVF = """<?xml version="1.0"?>
<Envelope ovf:version="1.0" xml:lang="en-US" xmlns="http://schemas.dmtf.org/ovf/envelope/1"
 xmlns:ovf="http://schemas.dmtf.org/ovf/envelope/1"
 xmlns:rasd="http://schemas.dmtf.org/wbem/wscim/1/cim-schema/2/CIM_ResourceAllocationSettingData"
 xmlns:vssd="http://schemas.dmtf.org/wbem/wscim/1/cim-schema/2/CIM_VirtualSystemSettingData"
 xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"
 xmlns:vbox="http://www.virtualbox.org/ovf/machine">
  <References>
    <File ovf:id="file1" ovf:href="vbox1-disk001.vmdk"/>
  </References>
  <DiskSection>
    <Info>List of the virtual disks used in the package</Info>
    <Disk ovf:capacity="67108864" ovf:diskId="vmdisk1" ovf:fileRef="file1"
     ovf:format="http://www.vmware.com/interfaces/specifications/vmdk.html#streamOptimized"/>
  </DiskSection>
  <NetworkSection>
    <Info>Logical networks used in the package</Info>
    <Network ovf:name="NAT"><Description>Logical network used by this appliance.</Description></Network>
  </NetworkSection>
  <VirtualSystem ovf:id="vbox1">
    <Info>A virtual machine</Info>
    <VirtualHardwareSection>
      <Info>Virtual hardware requirements for a virtual machine</Info>
      <System>
        <vssd:ElementName>Virtual Hardware Family</vssd:ElementName>
        <vssd:InstanceID>0</vssd:InstanceID>
        <vssd:VirtualSystemIdentifier>vbox1</vssd:VirtualSystemIdentifier>
        <vssd:VirtualSystemType>virtualbox-2.2</vssd:VirtualSystemType>
      </System>
      <Item>
        <rasd:Caption>1 virtual CPU</rasd:Caption>
        <rasd:Description>Number of virtual CPUs</rasd:Description>
        <rasd:ElementName>1 virtual CPU</rasd:ElementName>
        <rasd:InstanceID>1</rasd:InstanceID>
        <rasd:ResourceType>3</rasd:ResourceType>
        <rasd:VirtualQuantity>1</rasd:VirtualQuantity>
      </Item>
      <Item>
        <rasd:AllocationUnits>MegaBytes</rasd:AllocationUnits>
        <rasd:Caption>512 MB of memory</rasd:Caption>
        <rasd:ElementName>512 MB of memory</rasd:ElementName>
        <rasd:InstanceID>2</rasd:InstanceID>
        <rasd:ResourceType>4</rasd:ResourceType>
        <rasd:VirtualQuantity>512</rasd:VirtualQuantity>
      </Item>
      <Item>
        <rasd:Caption>sataController0</rasd:Caption>
        <rasd:ElementName>sataController0</rasd:ElementName>
        <rasd:InstanceID>3</rasd:InstanceID>
        <rasd:ResourceSubType>AHCI</rasd:ResourceSubType>
        <rasd:ResourceType>20</rasd:ResourceType>
      </Item>
      <Item>
        <rasd:AutomaticAllocation>true</rasd:AutomaticAllocation>
        <rasd:Caption>Ethernet adapter on 'NAT'</rasd:Caption>
        <rasd:Connection>NAT</rasd:Connection>
        <rasd:ElementName>Ethernet adapter on 'NAT'</rasd:ElementName>
        <rasd:InstanceID>4</rasd:InstanceID>
        <rasd:ResourceSubType>E1000</rasd:ResourceSubType>
        <rasd:ResourceType>10</rasd:ResourceType>
      </Item>
      <Item ovf:required="false">
        <rasd:Caption>sound</rasd:Caption>
        <rasd:ElementName>sound</rasd:ElementName>
        <rasd:InstanceID>5</rasd:InstanceID>
        <rasd:ResourceSubType>ensoniq1371</rasd:ResourceSubType>
        <rasd:ResourceType>35</rasd:ResourceType>
      </Item>
      <Item>
        <rasd:AddressOnParent>0</rasd:AddressOnParent>
        <rasd:Caption>disk1</rasd:Caption>
        <rasd:ElementName>disk1</rasd:ElementName>
        <rasd:HostResource>/disk/vmdisk1</rasd:HostResource>
        <rasd:InstanceID>6</rasd:InstanceID>
        <rasd:Parent>3</rasd:Parent>
        <rasd:ResourceType>17</rasd:ResourceType>
      </Item>
    </VirtualHardwareSection>
    <vbox:Machine ovf:required="false" version="1.16-linux" name="vbox1">
      <ovf:Info>Complete VirtualBox machine configuration in VirtualBox format</ovf:Info>
      <Hardware>
        <Firmware type="EFI"/>
      </Hardware>
    </vbox:Machine>
  </VirtualSystem>
</Envelope>
"""


def test_import_ovf_folder_virtualbox(raw, keel, api, native_host, tmp_path):
    """An .ovf with its disk beside it, as VirtualBox exports one (memory in
    MegaBytes, its Firmware element, no Name: the ovf:id)."""
    subprocess.run(["qemu-img", "convert", "-f", "raw", "-O", "vmdk", "-o",
                    "subformat=streamOptimized", raw[0], str(tmp_path / "vbox1-disk001.vmdk")],
                   check=True)
    (tmp_path / "vbox1.ovf").write_text(VBOX_OVF)
    r, _ = keel("vm", "import", str(tmp_path / "vbox1.ovf"), "--vcpus", "2")
    assert r.returncode == 0, r
    vm = api.call("GET", "/vms/vbox1")
    assert (vm["vcpus"], vm["memory_mib"], vm["firmware"]) == (2, 512, "uefi")
    assert [d["path"] for d in vm["disks"]] == ["local/vbox1/vbox1-disk0.img"]
    assert [n["portgroup"] for n in vm["nics"]] == ["VM Network"]
    assert sha256(stored(native_host, "local/vbox1/vbox1-disk0.img")) == raw[1]
    assert r.stderr.splitlines() == [
        'keel: not imported: "sound" (ResourceType 35): sound card',
        'keel: NIC 0: no port group "NAT" on the host: connected to "VM Network"'], r.stderr


def test_import_ovf_hostile(raw, keel, api, tmp_path):
    """A descriptor naming a file outside its folder, or declaring entities,
    is refused before anything is sent."""
    bad = VBOX_OVF.replace('ovf:href="vbox1-disk001.vmdk"', 'ovf:href="../../etc/passwd"')
    (tmp_path / "escape.ovf").write_text(bad)
    r, _ = keel("vm", "import", str(tmp_path / "escape.ovf"), "--name", "escape")
    assert r.returncode == 1 and "is not the name of a file beside the OVF" in r.stderr, r
    lol = VBOX_OVF.replace('<?xml version="1.0"?>', '<?xml version="1.0"?>\n'
                           '<!DOCTYPE Envelope [<!ENTITY a "aaaaaaaaaa">]>')
    (tmp_path / "lol.ovf").write_text(lol)
    r, _ = keel("vm", "import", str(tmp_path / "lol.ovf"), "--name", "lol")
    assert r.returncode == 1 and "DOCTYPE" in r.stderr, r
    names = [v["name"] for v in api.call("GET", "/vms")["vms"]]
    assert "escape" not in names and "lol" not in names


def test_progress_on_a_terminal(raw, keel, api, tmp_path):
    """stderr a terminal: the conversion's and upload's progress shows;
    with --quiet it does not."""
    import pty
    qcow2 = str(tmp_path / "tty.qcow2")
    subprocess.run(["qemu-img", "convert", "-f", "raw", "-O", "qcow2", raw[0], qcow2],
                   check=True)
    outputs = {}
    for name, extra in (("tty1", []), ("tty2", ["--quiet"])):
        master, slave = pty.openpty()
        env = dict(os.environ, TMPDIR=str(tmp_path))
        r = subprocess.run([KEEL, "--credentials", keel.creds, "vm", "import", qcow2,
                            "--name", name, *extra], stdout=subprocess.PIPE, stderr=slave,
                           env=env, timeout=300)
        os.close(slave)
        out = b""
        try:
            while chunk := os.read(master, 4096):
                out += chunk
        except OSError:  # EIO: the terminal's other end is closed
            pass
        os.close(master)
        assert r.returncode == 0, (r, out)
        outputs[name] = out
    assert b"100.00/100%" in outputs["tty1"], outputs
    assert outputs["tty2"] == b"", outputs
