"""A cluster's `up` then `down` leaves the host exactly as it found it.

The snapshot covers the kernel tunables the kubelet sets, the fixed host paths components
write to, cgroups, mounts, iptables, network namespaces and processes. Other podlife
clusters may be running on the same host while this runs, so what belongs to them (their
cgroups, their processes) is left out of the comparison; everything else must be equal.
"""

from __future__ import annotations

import os
import re
import subprocess
from pathlib import Path

import pytest
from kubernetes import client as k8s

from podlife import versions
from podlife.local.cluster import LocalCluster, api_client
from podlife.local.host import KERNEL_TUNABLES, read_tunables, write_tunables
from tests.test_local_cluster import run_pod

pytestmark = pytest.mark.cluster

NAME = "ci-snapshot"
HOST_PATHS = ("/var/lib/kubelet", "/var/lib/cni", "/opt/containerd", "/usr/libexec/kubernetes")
#: CNI's result cache: clusters of older podlife versions on this host still write here.
OTHERS_WRITE = "/var/lib/cni/results"
#: The values of a host no kubelet has touched.
PRISTINE = {"vm/overcommit_memory": "0", "kernel/panic": "1", "kernel/panic_on_oops": "0"}


def files_under(top: str) -> list[str]:
    found = []
    for root, dirs, files in os.walk(top):
        for entry in sorted(dirs + files):
            path = os.path.join(root, entry)
            if not path.startswith(OTHERS_WRITE + "/"):
                found.append(f"{path} {os.lstat(path).st_mode:o}")
    return sorted(found)


def others(text: str) -> bool:
    """Whether a line names another podlife cluster's cgroup or state."""
    return any(m != f"podlife-{NAME}" for m in re.findall(r"podlife-[a-z0-9-]+", text))


def snapshot() -> dict[str, object]:
    cgroups = sorted(str(p) for p in Path("/sys/fs/cgroup").glob("*/*") if p.is_dir())
    mounts = sorted(line.split()[4] for line in Path("/proc/self/mountinfo").read_text()
                    .splitlines())
    rules = subprocess.run(["iptables-save"], capture_output=True, text=True).stdout
    netns = subprocess.run(["ip", "netns", "list"], capture_output=True, text=True).stdout
    state = str(LocalCluster(NAME).state)
    procs = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                cmd = (entry / "cmdline").read_bytes().decode(errors="replace")
                group = (entry / "cgroup").read_text()
            except OSError:
                continue
            if state in cmd or f"/podlife-{NAME}" in group:
                procs.append(f"{entry.name} {cmd}")
    return {
        "sysctls": read_tunables() | {"net/ipv4/ip_forward": Path(
            "/proc/sys/net/ipv4/ip_forward").read_text().strip()},
        "files": {top: files_under(top) for top in HOST_PATHS},
        "cgroups": [c for c in cgroups if not others(c)],
        "mounts": mounts,
        "iptables": re.sub(r"^#.*$", "", rules, flags=re.M),
        "netns": netns,
        "processes": sorted(procs),
    }


def test_up_then_down_leaves_the_host_as_found() -> None:
    cluster = LocalCluster(NAME)
    cluster.down()
    write_tunables(PRISTINE)  # a host as no kubelet left it, so a change would show
    before = snapshot()
    assert set(KERNEL_TUNABLES) <= set(before["sysctls"])
    try:
        info = cluster.up(versions.resolve(None))
        run_pod(k8s.CoreV1Api(api_client(info.kubeconfig)), "writes", "echo hi")
        # The fixed paths' writes land in the cluster's own overlay, not on the host.
        upper = cluster.state / "host" / "var" / "lib" / "upper"
        assert (upper / "kubelet" / "device-plugins" / "kubelet.sock").is_socket()
        assert (upper / "cni" / "results").is_dir()
        # Restored as soon as the kubelet has registered, not only at down.
        assert read_tunables() == {k: before["sysctls"][k] for k in KERNEL_TUNABLES}
    finally:
        cluster.down()
    after = snapshot()
    for key in before:
        assert after[key] == before[key], f"{key} changed"
