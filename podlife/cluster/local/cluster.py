"""One local cluster by name: up, upgrade and down, each under the cluster's lock.

The boot's steps are in `boot`, the upgrade's in `upgrade`; this class holds what they
share (the state dir, the sandbox, the supervisor) and refuses what must not start: a bad
timeout, a kubelet out of skew, a locked gate, a cgroup or state dir podlife did not make.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

from podlife.cluster import build
from podlife.cluster.local import boot as boot_steps
from podlife.cluster.local import components as comp
from podlife.cluster.local import upgrade as upgrade_steps
from podlife.cluster.local.boot import Step, ensure_binaries, kept_log_path
from podlife.cluster.local.control_planes import check_count as check_control_planes
from podlife.cluster.local.control_planes import instances_of
from podlife.cluster.local.gates import refuse_locked
from podlife.cluster.local.host import restore_stale
from podlife.cluster.local.lock import cluster_lock
from podlife.cluster.local.node import CgroupTree, Network, NodeSandbox
from podlife.cluster.local.preflight import (
    free_port,
    parse_gates,
    preflight,
    refuse_symlinked_state,
    validate_name,
    validate_state_path,
)
from podlife.cluster.local.readiness import Readiness
from podlife.cluster.local.state import (
    ClusterInfo,
    api_client,
    kubeconfig_yaml,
    list_clusters,
    remove_state,
)
from podlife.cluster.local.supervise import Supervisor
from podlife.cluster.local.workers import (
    MAX_WORKERS,
    WorkerCgroups,
    longest_socket,
    workers_of,
)
from podlife.cluster.local.workers import check_count as check_worker_count
from podlife.core import paths, skew
from podlife.core.errors import PodlifeError
from podlife.core.signals import shielded
from podlife.core.versions import KubeVersion

# Imported from here by the CLI, providers, upgrade, bench and tests.
__all__ = ["ClusterInfo", "LocalCluster", "Step", "api_client", "ensure_binaries",
           "free_port", "kept_log_path", "kubeconfig_yaml", "list_clusters", "parse_gates",
           "validate_name"]



class LocalCluster:
    """One local cluster: its state dir, sandbox and components, in the order they start."""

    def __init__(self, name: str) -> None:
        validate_name(name)
        self.name = name
        self.state = paths.cluster_dir(name)
        self.layout = comp.Layout(self.state)
        validate_state_path(self.state, longest_socket(name, self.state))
        refuse_symlinked_state(self.state)
        self.net = Network()
        self.cgroups = CgroupTree(name)
        self.sandbox = NodeSandbox(self.state, self.cgroups, self.net)
        self.supervisor = Supervisor(self.layout, self.sandbox, self.cgroups)
        self.ready = Readiness(self.supervisor, self.layout)

    def up(self, version: KubeVersion, *, api_port: int | None = None,
           gates: dict[str, bool] | None = None, kube_bin_dir: Path | None = None,
           step: Step | None = None, progress: build.Progress | None = None,
           timeout: float = 180.0,
           component_gates: dict[str, dict[str, bool]] | None = None,
           allow_privileged: bool = False,
           kubelet_version: KubeVersion | None = None, workers: int = 0,
           worker_versions: list[KubeVersion] | None = None,
           control_planes: int = 1) -> ClusterInfo:
        """Boot the cluster, holding its lock throughout: a second `up` (or a `down`) of the
        same name fails at once with one line, and leaves this boot alone.

        `component_gates` (e.g. {"kubelet": {...}}) go over `gates` per component;
        allow_privileged turns off the PodSecurity `baseline` default (see configure);
        kubelet_version runs the kubelet and kube-proxy of another release (podlife.core.skew
        says which); workers adds that many worker nodes (podlife.cluster.local.workers),
        worker_versions gives each its kubelet release (within skew, as kubelet_version)."""
        if not math.isfinite(timeout) or timeout <= 0:
            raise PodlifeError(f"a boot timeout of {timeout} seconds never ends or never starts",
                               "give a finite number of seconds above 0")
        gates, component_gates = gates or {}, component_gates or {}
        node_version = kubelet_version or version
        skew.check_kubelet(version, node_version)
        if kube_bin_dir and node_version != version:
            raise PodlifeError("--kubelet-version cannot be combined with --kube-bin-dir",
                               "drop one: a mixed cluster runs podlife's own builds")
        refuse_locked(version, gates, component_gates, node_version)
        check_worker_count(workers)
        check_control_planes(control_planes)
        if worker_versions is not None:
            if len(worker_versions) != workers:
                raise PodlifeError(f"{len(worker_versions)} node versions for {workers} "
                                   "worker nodes", "give one release per worker node")
            if kube_bin_dir:
                raise PodlifeError("--node-versions cannot be combined with --kube-bin-dir",
                                   "drop one: mixed nodes run podlife's own builds")
            for release in worker_versions:
                skew.check_kubelet(version, release)
        preflight()
        with cluster_lock(self.name, "up") as held:
            try:
                return boot_steps.boot(
                    self, version, api_port=api_port, gates=gates,
                    component_gates=component_gates, kube_bin_dir=kube_bin_dir,
                    step=step or (lambda _msg: None), progress=progress, timeout=timeout,
                    allow_privileged=allow_privileged, node_version=node_version,
                    workers=workers, worker_versions=worker_versions,
                    control_planes=control_planes)
            except BaseException:
                if not self.state.exists():
                    held.remove()  # nothing of the cluster is left: nor is its lock
                raise

    def upgrade(self, version: KubeVersion, *, step: Step | None = None,
                progress: build.Progress | None = None, timeout: float = 180.0) -> float:
        """Move a running cluster to another release, keeping etcd's data and the containers:
        the control plane first, then the node (see the two steps). Returns the seconds."""
        return (self.upgrade_control_plane(version, step=step, progress=progress,
                                           timeout=timeout)
                + self.upgrade_node(version, step=step, progress=progress, timeout=timeout))

    def upgrade_control_plane(self, version: KubeVersion, **step: Any) -> float:
        """API server, then controllers, to `version`; the kubelet keeps its release (the
        skew window of a real upgrade). Refused, before anything stops, when
        podlife.core.skew does not allow it. Returns the seconds taken (the build excluded).
        Keywords: step, progress, timeout, skip_minors, instance (one instance only)
        (podlife.cluster.local.upgrade)."""
        return upgrade_steps.control_plane(self, version, **step)

    def upgrade_node(self, version: KubeVersion, **step: Any) -> float:
        """kubelet and kube-proxy to `version` (within skew of the API server); containerd
        keeps running, and so does every container not drained first. Returns the seconds.
        Keywords: step, progress, timeout, node_name (one node only)
        (podlife.cluster.local.upgrade)."""
        return upgrade_steps.node(self, version, **step)

    def down(self, *, keep_logs: bool = False) -> Path | None:
        """Stop every process of the cluster and remove its state.

        keep_logs (after a failed boot) moves the component logs to
        <state root>/failed-boots/<name>/ first, so the error's log path still exists.
        Holds the cluster's lock, so it refuses (one line) while an `up` of it runs.
        """
        with cluster_lock(self.name, "down") as held:
            kept = self.teardown(keep_logs=keep_logs)
            held.remove()
            return kept

    def teardown(self, *, keep_logs: bool) -> Path | None:
        """down's work, for a caller that holds the lock already (a failed boot). A signal
        that comes meanwhile waits until it is done (signals.shielded)."""
        with shielded():
            self.supervisor.stop_everything()
            restore_stale()  # a killed `up` may have left the kubelet's sysctls on the host
            return remove_state(self.name, self.state, self.layout.logs, keep_logs=keep_logs)

    def half_booted(self) -> bool:
        """Left by an `up` that was killed (SIGKILL, power loss): something of the cluster
        exists but its boot never finished. Only meaningful while holding the lock."""
        if not self.state.exists():
            return False  # a cgroup without podlife's state is not podlife's to remove
        try:
            return not ClusterInfo.load(self.name).booted_at
        except (PodlifeError, ValueError, TypeError, OSError):
            return True

    def dead(self) -> bool:
        """Booted once, but not one process of it runs any more (the machine restarted, or
        everything it ran was killed at once): nothing of it can serve again, and its state
        only blocks the name. Only meaningful while holding the lock."""
        return (self.state.exists() and not self.half_booted()
                and not self.cgroups.pids())

    def made_by_podlife(self) -> bool:
        """podlife's state records this cluster: only then does `down` touch its cgroups."""
        return self.state.is_dir()

    def foreign_cgroup(self) -> PodlifeError:
        top = self.cgroups.dirs()[0]
        return PodlifeError(
            f"the cgroup {top} exists, but podlife has no state for a cluster "
            f"'{self.name}' ({self.state}), so it did not make it: left alone",
            "if it is yours, stop its processes and remove it yourself; or pick another "
            "--name")

    def health(self) -> dict[str, bool]:
        """Which recorded components are still running, the worker nodes' too (named
        <node>/<component>)."""
        found = self.supervisor.health()
        for worker in [*workers_of(self.name, self.state, MAX_WORKERS),
                       *instances_of(self.name, self.state, 3)]:
            if worker.state.is_dir():
                own = Supervisor(worker.layout, self.sandbox,
                                 WorkerCgroups(self.name, worker.name)).health()
                found |= {f"{worker.name}/{name}": ok for name, ok in own.items()}
        return found
