"""Where a local cluster differs from a standard node because of the host it runs on.

podlife boots the real components, but some hosts cannot give them all a node normally has
(a sandboxed root without CAP_SYS_RESOURCE, a cgroup v1 host, swap), and podlife keeps
some host-wide settings out of the components' hands so the host is left as found. Each
such difference is a Deviation, detected from the host at boot (never assumed), recorded
in the cluster's cluster.json and in every results file, and shown by `podlife cluster
status` and in the report's header. A verdict that could depend on one is marked there.

Which checks could depend on a deviation is declared here (`checks`, patterns over
"area/check_id"). None of the current suites does, read check by check:

- OOM scores (no-cap-sys-resource): no check reads oom_score_adj or pushes the node into
  memory pressure, and no check's pod is Guaranteed (resource_scheduling's and webapp's
  are Burstable, whose scores this leaves alone); their verdicts are the scheduler's
  (requests against allocatable) and a rollout's, which no OOM score decides.
- cgroup v1 accounting, swap, the overcommit and panic sysctls: no check measures memory
  or cpu use, allocates near a limit, or expects an OOM kill.
- conntrack timeouts, disk eviction and image garbage collection: no check keeps a
  connection idle for hours, fills a disk, or relies on images being collected.

So these deviations are shown in the header only. A check added later that depends on one
(e.g. one that reads a Guaranteed pod's OOM score) goes in that deviation's `checks`.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from podlife.core.deviation import Deviation

#: linux/capability.h: needed to lower a process's oom_score_adj.
CAP_SYS_RESOURCE = 24

NO_CAP_SYS_RESOURCE = "no-cap-sys-resource"
CGROUP_V1 = "cgroup-v1"
SWAP_ON = "swap-on"
KERNEL_TUNABLES_KEPT = "kernel-tunables-kept"
CONNTRACK_UNTOUCHED = "conntrack-untouched"
DISK_EVICTION_LOWERED = "disk-eviction-lowered"

#: What the kubelet writes at start (pkg/kubelet/cm/container_manager_linux.go,
#: setupKernelTunables) and podlife.cluster.local.host puts back once its node has registered.
KUBELET_TUNABLES = {"vm/overcommit_memory": "1", "vm/panic_on_oom": "0", "kernel/panic": "10",
                    "kernel/panic_on_oops": "1", "kernel/keys/root_maxkeys": "1000000",
                    "kernel/keys/root_maxbytes": "25000000"}


@dataclass(frozen=True)
class HostFacts:
    """What detection reads from the host, apart from reading it, so it can be tested."""

    status: str
    swaps: str
    cgroup_v1: bool
    tunables: dict[str, str]


def read_host() -> HostFacts:
    from podlife.cluster.local.host import host_tunables
    from podlife.cluster.local.node import cgroup_v1

    return HostFacts(status=Path("/proc/self/status").read_text(),
                     swaps=Path("/proc/swaps").read_text(), cgroup_v1=cgroup_v1(),
                     tunables=host_tunables())


def capability_sets(status: str) -> dict[str, int]:
    """The Cap* lines of /proc/<pid>/status, as masks (e.g. {"CapEff": 0x1fffeffffff})."""
    sets = {}
    for line in status.splitlines():
        key, _, value = line.partition(":")
        if key.startswith("Cap") and value.strip():
            sets[key] = int(value.strip(), 16)
    return sets


def has_cap_sys_resource(status: str) -> bool:
    """In CapEff (podlife, and containerd it starts) and in CapBnd (what runc, executed by
    containerd, can hold). Missing either, or unreadable: treated as lacking it."""
    sets = capability_sets(status)
    bit = 1 << CAP_SYS_RESOURCE
    return all(sets.get(name, 0) & bit for name in ("CapEff", "CapBnd"))


def swap_devices(swaps: str) -> list[str]:
    """The swap areas /proc/swaps lists (its first line is a header)."""
    return [line.split()[0] for line in swaps.splitlines()[1:] if line.strip()]


def host_swap_devices() -> list[str]:
    return swap_devices(Path("/proc/swaps").read_text())


def detect(facts: HostFacts) -> list[Deviation]:
    """Every deviation this host imposes on a cluster booted on it."""
    found = []
    if not has_cap_sys_resource(facts.status):
        sets = capability_sets(facts.status)
        found.append(Deviation(
            NO_CAP_SYS_RESOURCE,
            "containerd runs with restrict_oom_score_adj: an OOM score below containerd's "
            "own (0, inherited from podlife) is raised to it, so Guaranteed pods' "
            "containers (-997) and pod sandboxes (-998) lose their protection from the OOM "
            "killer; Burstable and BestEffort scores (positive) are unchanged",
            f"CAP_SYS_RESOURCE (bit {CAP_SYS_RESOURCE}) is not in both CapEff "
            f"({sets.get('CapEff', 0):016x}) and CapBnd ({sets.get('CapBnd', 0):016x}) "
            "of /proc/self/status: lowering an OOM score needs it"))
    if facts.cgroup_v1:
        found.append(Deviation(
            CGROUP_V1,
            "pods' memory and cpu are limited and accounted by cgroup v1 controllers, not "
            "v2 (no memory.oom.group: an OOM kill takes one process of a container, not "
            "all); kubelets from 1.31 run with failCgroupV1: false, without which 1.35+ "
            "refuse to start",
            "the host's cgroup controllers are v1 (/sys/fs/cgroup/memory is a v1 "
            "hierarchy); podlife never changes the host's cgroup mounts"))
    swaps = swap_devices(facts.swaps)
    if swaps:
        found.append(Deviation(
            SWAP_ON,
            "the kubelet runs with failSwapOn: false (a standard kubelet refuses to start "
            "with swap on); container memory may be swapped out",
            f"/proc/swaps lists {', '.join(swaps)}"))
    changed = {name: value for name, value in facts.tunables.items()
               if KUBELET_TUNABLES.get(name, value) != value}
    if changed:
        found.append(Deviation(
            KERNEL_TUNABLES_KEPT,
            "once its node registers, the sysctls the kubelet sets are put back to the "
            "host's values: " + ", ".join(
                f"{name.replace('/', '.')}={value} (kubelet: {KUBELET_TUNABLES[name]})"
                for name, value in sorted(changed.items())),
            "they are host-wide (not namespaced) and podlife leaves the host as found"))
    found += ALWAYS
    return found


#: What podlife sets on every local cluster, whatever the host, to keep the host as found.
ALWAYS = (
    Deviation(
        CONNTRACK_UNTOUCHED,
        "kube-proxy leaves conntrack limits and TCP timeouts as they are (maxPerCore 0, "
        "min 0, timeouts 0s) instead of raising nf_conntrack_max and shortening timeouts",
        "conntrack limits are host-wide sysctls; podlife leaves the host as found"),
    Deviation(
        DISK_EVICTION_LOWERED,
        "the kubelet evicts for disk at 1% free (standard: nodefs 10%, imagefs 15%, "
        "inodes 5%) and never garbage-collects images (high threshold 100%)",
        "the node's disk is the host's, shared with everything else on it, and the "
        "imported images cannot be pulled again (no network)"),
)
