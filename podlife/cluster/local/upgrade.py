"""Upgrading a running local cluster in place, one step at a time: the control plane, then
the node, as upstream's procedure orders them (the kubelet never newer than the API server).
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

from podlife.cluster import build
from podlife.cluster.local.boot import Step, ensure_binaries
from podlife.cluster.local.gates import refuse_locked
from podlife.cluster.local.host import kernel_tunables_kept
from podlife.cluster.local.launch import Launcher
from podlife.cluster.local.lock import cluster_lock
from podlife.cluster.local.node import NodeSandbox
from podlife.cluster.local.state import (
    ClusterInfo,
)
from podlife.cluster.local.supervise import Supervisor
from podlife.cluster.local.workers import WorkerCgroups, workers_of
from podlife.core import skew
from podlife.core.errors import PodlifeError
from podlife.core.versions import KubeVersion

if TYPE_CHECKING:
    from podlife.cluster.local.cluster import LocalCluster


def control_plane(cluster: LocalCluster, version: KubeVersion, *, step: Step | None = None,
                          progress: build.Progress | None = None, timeout: float = 180.0,
                          skip_minors: bool = False) -> float:
    """API server, then controllers, to `version`; the kubelet keeps its release (the
    skew window of a real upgrade). Refused, before anything stops, when podlife.core.skew
    does not allow it. Returns the seconds taken (the build excluded)."""
    step = step or (lambda _msg: None)
    with cluster_lock(cluster.name, "upgrade"):
        info = ClusterInfo.load(cluster.name)
        if len(info.control_planes) > 1:
            raise PodlifeError(f"'{cluster.name}' has {len(info.control_planes)} control-plane "
                               "instances: podlife upgrades a single control plane only",
                               "upgrade a cluster booted with --control-planes 1, or boot "
                               "the new release")
        # The oldest kubelet of any node decides what the API server may move to.
        node = min(KubeVersion.parse(v) for v in [info.node_version, *info.worker_versions])
        skew.check_hop(KubeVersion.parse(info.version), version, node,
                       skip_minors=skip_minors)
        refuse_locked(version, info.feature_gates, info.component_gates, node)
        step(f"building Kubernetes {version} (cached after the first time)")
        launch = Launcher(cluster.supervisor, cluster.net, ensure_binaries(version, None, progress))
        started = time.monotonic()
        step(f"upgrading the control plane {info.version} -> {version.tag} "
             f"(kubelet stays {info.node_version})")
        for name in ("kube-scheduler", "kube-controller-manager", "kube-apiserver"):
            cluster.supervisor.stop(name)
        launch.apiserver(info.gates_for("kube-apiserver"))
        api = cluster.ready.api_server(info, timeout)
        cluster.ready.server_version(api, version.tag, timeout)
        launch.controllers(info.gates_for)
        info.kubelet_version, info.version = info.node_version, version.tag
        info.save()
        return time.monotonic() - started

def node(cluster: LocalCluster, version: KubeVersion, *, step: Step | None = None,
                 progress: build.Progress | None = None, timeout: float = 180.0) -> float:
    """kubelet and kube-proxy to `version` (within skew of the API server) on every node,
    the control plane's first, then each worker in turn; containerd keeps running, and so
    does every container not drained first (podlife.run.drain; upstream supports a minor
    kubelet upgrade on a drained node only). Returns the seconds."""
    step = step or (lambda _msg: None)
    with cluster_lock(cluster.name, "upgrade"):
        info = ClusterInfo.load(cluster.name)
        apiserver = KubeVersion.parse(info.version)
        skew.check_kubelet(apiserver, version)
        refuse_locked(apiserver, info.feature_gates, info.component_gates, version)
        step(f"building Kubernetes {version} (cached after the first time)")
        bins = ensure_binaries(version, None, progress)
        launch = Launcher(cluster.supervisor, cluster.net, bins)
        started = time.monotonic()
        step(f"upgrading the node {info.node_version} -> {version.tag}: kubelet and "
             "kube-proxy (containerd keeps running)")
        api = cluster.ready.api_server(info, timeout)
        for name in ("kube-proxy", "kubelet"):
            cluster.supervisor.stop(name)
        with kernel_tunables_kept(cluster.name):
            launch.node(version, info.node_name, cluster.cgroups.kubelet_root,
                        info.gates_for("kubelet"))
            cluster.ready.node(api, info.node_name, timeout, kubelet_version=version.tag)
        info.kubelet_version = version.tag
        info.save()
        # Then each worker node, one at a time, the same way.
        for index, worker in enumerate(workers_of(cluster.name, cluster.state,
                                                  len(info.workers))):
            step(f"upgrading node {worker.name} {info.worker_versions[index]} -> "
                 f"{version.tag}: kubelet and kube-proxy")
            cgroups = WorkerCgroups(cluster.name, worker.name)
            own = Supervisor(worker.layout, NodeSandbox(worker.state, cgroups, worker.net),
                             cgroups)
            for name in ("kube-proxy", "kubelet"):
                own.stop(name)
            with kernel_tunables_kept(cluster.name):
                Launcher(own, worker.net, bins).node(version, worker.name,
                                                     worker.cgroup_root(cluster.cgroups),
                                                     info.gates_for("kubelet"))
                cluster.ready.node(api, worker.name, timeout, kubelet_version=version.tag)
            info.worker_versions[index] = version.tag
            info.save()
        return time.monotonic() - started

