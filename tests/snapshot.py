"""The host as podlife must leave it: what a snapshot compares before a cluster and after.

Sysctls, files under the host paths a kubelet or containerd would use, cgroups, mounts,
iptables rules, network namespaces and the processes of the cluster named NAME (other
podlife clusters running beside it are left out).
"""

from __future__ import annotations

import os
import re
import subprocess
from pathlib import Path

from podlife.cluster.local.cluster import LocalCluster
from podlife.cluster.local.host import read_tunables

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
    links = sorted(line.split(":")[1].strip() for line in subprocess.run(
        ["ip", "-o", "link"], capture_output=True, text=True).stdout.splitlines())
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
        # runc's exec specs: a node's containerd keeps them in its state dir, never here.
        "tmp": sorted(str(p) for p in Path("/tmp").glob("runc-process*")),
        "cgroups": [c for c in cgroups if not others(c)],
        "mounts": mounts,
        "iptables": re.sub(r"^#.*$", "", rules, flags=re.M),
        "netns": netns,
        "links": links,
        "processes": sorted(procs),
    }
