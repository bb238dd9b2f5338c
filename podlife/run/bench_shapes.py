"""Boot time and peak memory by cluster shape (one node, a control plane with workers),
booted in turns in the same run so that both meet the same machine load.

A shape is "M+N": M control-plane instances and N workers ("1+0" is one node). Peak
memory is read from the memory cgroups since boot: each worker's (and extra control-plane
instance's) subtree holds its own processes and pods; the control plane's node is the rest
of the cluster's tree. Used by `nox -s bench -- --shapes 1+0,1+2,3+2`.
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


def parse_shape(text: str) -> tuple[int, int]:
    """ "3+2" -> (3, 2); a bare "2" means one control plane and 2 workers."""
    planes, _, workers = text.partition("+")
    return (int(planes), int(workers)) if workers else (1, int(planes))


def shape_boots(version: versions.KubeVersion, shapes: list[str], rounds: int,
                say: Callable[[str], None] = print) -> dict:
    """Per shape: boot seconds (median, all), teardown seconds and each node's peak
    memory in MiB (median over the rounds)."""
    found: dict[str, dict[str, list]] = {s: {"boot": [], "down": [], "memory": []}
                                         for s in shapes}
    for index in range(rounds):
        for shape in shapes:
            planes, workers = parse_shape(shape)
            cluster = LocalCluster(f"bench-{planes}cp{workers}w")
            cluster.down()
            info = cluster.up(version, workers=workers, control_planes=planes)
            total = cluster.cgroups.peak_memory_bytes() or 0
            nodes = {name: WorkerCgroups(cluster.name, name).peak_memory_bytes() or 0
                     for name in [*info.workers, *info.control_planes[1:]]}
            nodes[info.node_name] = total - sum(nodes.values())
            started = time.monotonic()
            cluster.down()
            found[shape]["boot"].append(info.boot_seconds)
            found[shape]["down"].append(round(time.monotonic() - started, 2))
            found[shape]["memory"].append(nodes)
            say(f"round {index + 1}, shape {shape}: boot {info.boot_seconds}s, peak memory "
                f"{', '.join(f'{n} {_mib(b)} MiB' for n, b in nodes.items())}")
    out = {}
    for shape, seen in found.items():
        names = list(seen["memory"][0])
        out[shape] = {
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
