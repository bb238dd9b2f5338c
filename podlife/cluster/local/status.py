"""What `podlife cluster status` says about each local cluster, including the broken ones.

A cluster is one of: busy (a live podlife holds its lock: booting, upgrading, removing),
a dead half-boot (its boot never finished and nothing is booting it: the `up` was killed),
down (a component that was running is gone), or healthy.
"""

from __future__ import annotations

import contextlib
import json
from dataclasses import dataclass

from podlife.cluster.local.gates import describe
from podlife.cluster.local.lock import holder
from podlife.core import paths
from podlife.core.deviation import describe as describe_deviations
from podlife.core.deviation import read_records
from podlife.core.schema import ResultsError


@dataclass(frozen=True)
class ClusterState:
    name: str
    version: str
    server: str
    health: str
    feature_gates: str
    kubeconfig: str
    #: The ids of its host deviations (podlife.cluster.local.deviations), "none", or why unknown.
    host_deviations: str = "not recorded"
    #: The kubelet's release ("" in records of clusters booted before it was kept: the same).
    kubelet_version: str = ""
    #: Each node with its role and kubelet release.
    nodes: str = ""

    @property
    def healthy(self) -> bool:
        return self.health == "healthy"


def half_boot_health(name: str) -> str:
    return (f"dead half-boot: 'podlife cluster up --name {name}' cleans it and boots, "
            f"'down' removes it")


def recorded_deviations(record: dict) -> str:
    """What cluster.json says; a cluster booted before podlife detected them says so."""
    try:
        found = read_records(record.get("host_deviations"))
    except ResultsError as exc:
        return f"unreadable: {exc.cause}"
    return describe_deviations(found, unknown="not recorded (booted by an older podlife)")


def cluster_states() -> list[ClusterState]:
    """One row per state dir under the state root, cluster.json or not."""
    from podlife.cluster.local.cluster import LocalCluster

    root = paths.state_root() / "clusters"
    rows = []
    for state in sorted(root.iterdir()) if root.is_dir() else []:
        record: dict = {}
        with contextlib.suppress(OSError, ValueError):
            record = json.loads((state / "cluster.json").read_text())
        name = state.name
        version = str(record.get("version", "?"))
        server = f"https://127.0.0.1:{record['api_port']}" if "api_port" in record else "?"
        kubeconfig = str(state / "kubeconfig" / "admin.kubeconfig")
        busy = holder(name)
        if busy:
            health = f"busy: {busy}"
        elif not record.get("booted_at"):
            health = half_boot_health(name)
        else:
            try:
                running = LocalCluster(name).health()
            except Exception as exc:  # a refused name or path: say so, keep listing
                running, health = {}, f"unreadable: {exc}"
            else:
                down = [component for component, ok in running.items() if not ok]
                if running and not down:
                    health = "healthy"
                elif running and len(down) == len(running):
                    # Not one process runs (the machine restarted, or all were killed at
                    # once): nothing of it can serve again; `cluster up` clears it.
                    health = (f"dead: no process of it runs; `podlife cluster down --name "
                              f"{name}` removes it, or `cluster up --name {name}` replaces it")
                else:
                    health = f"down: {', '.join(down)}"
        gates = describe(record.get("feature_gates") or {}, record.get("component_gates") or {})
        kubelet = str(record.get("kubelet_version") or version)
        rows.append(ClusterState(name, version, server, health, gates, kubeconfig,
                                 host_deviations=recorded_deviations(record),
                                 kubelet_version=kubelet, nodes=describe_nodes(record)))
    return rows


def describe_nodes(record: dict) -> str:
    """E.g. "c-node (control plane, v1.37.2); c-worker1 (worker, v1.37.2)"."""
    kubelet = str(record.get("kubelet_version") or record.get("version", "?"))
    workers = record.get("workers") or []
    releases = record.get("worker_versions") or [kubelet] * len(workers)
    nodes = [(record.get("node_name", "?"), "control plane", kubelet)]
    nodes += [(name, "worker", release) for name, release in zip(workers, releases, strict=False)]
    # An instance's API server release: its own while a rolling upgrade is half done.
    moved = record.get("instance_versions") or {}
    nodes += [(name, "control-plane instance", str(moved.get(name, record.get("version", "?"))))
              for name in (record.get("control_planes") or [])[1:]]
    return "; ".join(f"{name} ({role}, {release})" for name, role, release in nodes)
