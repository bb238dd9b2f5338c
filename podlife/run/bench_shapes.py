"""Boot time and peak memory by cluster shape (one node, a control plane with workers),
booted in turns in the same run so that both meet the same machine load.

Peak memory is read from the memory cgroups since boot: each worker's subtree holds its
containerd, kubelet, kube-proxy and pods; the control plane's node is the rest of the
cluster's tree. Used by `nox -s bench -- --shapes 0,2`.
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable

from podlife.cluster.local.cluster import LocalCluster
from podlife.cluster.local.workers import WorkerCgroups
from podlife.core import versions

MIB = 1024 * 1024


def _mib(value: int | None) -> float | None:
    return None if value is None else round(value / MIB, 1)


def shape_boots(version: versions.KubeVersion, shapes: list[int], rounds: int,
                say: Callable[[str], None] = print) -> dict:
    """Per shape (number of workers): boot seconds (median, all), teardown seconds and
    each node's peak memory in MiB (median over the rounds)."""
    found: dict[int, dict[str, list]] = {s: {"boot": [], "down": [], "memory": []}
                                         for s in shapes}
    for index in range(rounds):
        for workers in shapes:
            cluster = LocalCluster(f"bench-shape{workers}")
            cluster.down()
            info = cluster.up(version, workers=workers)
            total = cluster.cgroups.peak_memory_bytes() or 0
            nodes = {name: WorkerCgroups(cluster.name, name).peak_memory_bytes() or 0
                     for name in info.workers}
            nodes[info.node_name] = total - sum(nodes.values())
            started = time.monotonic()
            cluster.down()
            found[workers]["boot"].append(info.boot_seconds)
            found[workers]["down"].append(round(time.monotonic() - started, 2))
            found[workers]["memory"].append(nodes)
            say(f"round {index + 1}, {workers} worker(s): boot {info.boot_seconds}s, peak "
                f"memory {', '.join(f'{n} {_mib(b)} MiB' for n, b in nodes.items())}")
    out = {}
    for workers, seen in found.items():
        names = list(seen["memory"][0])
        out[f"workers={workers}"] = {
            "boot_median_s": round(statistics.median(seen["boot"]), 2),
            "boot_all_s": seen["boot"],
            "teardown_median_s": round(statistics.median(seen["down"]), 2),
            "peak_memory_mib_median": {
                # Node names carry the shape's cluster name: keep the role.
                ("control-plane" if name.endswith("-node") else name.rsplit("-", 1)[-1]):
                    _mib(int(statistics.median(m[name] for m in seen["memory"])))
                for name in names},
        }
    return out
