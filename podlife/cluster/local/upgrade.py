"""Upgrading a running local cluster in place, in upstream's order: the control plane
first, one instance at a time, then the nodes, one at a time (the kubelet never newer
than any API server). Each step can be taken alone, so `podlife upgrade` can drain a node
before its step and measure availability around each one (podlife.run.upgrade_roll).
"""

from __future__ import annotations

import sys
import time
from typing import TYPE_CHECKING

from podlife.cluster import build
from podlife.cluster.local import components as comp
from podlife.cluster.local.boot import Step, ensure_binaries
from podlife.cluster.local.control_planes import instances_of
from podlife.cluster.local.gates import refuse_locked
from podlife.cluster.local.host import kernel_tunables_kept
from podlife.cluster.local.launch import Launcher
from podlife.cluster.local.lock import cluster_lock
from podlife.cluster.local.node import NodeSandbox
from podlife.cluster.local.state import ClusterInfo
from podlife.cluster.local.supervise import Supervisor
from podlife.cluster.local.workers import WorkerCgroups, WorkerNode, workers_of
from podlife.core import skew
from podlife.core.errors import PodlifeError
from podlife.core.versions import KubeVersion

if TYPE_CHECKING:
    from podlife.cluster.local.cluster import LocalCluster


#: How long an API server being replaced gets after SIGTERM. Its in-flight requests end
#: within a second; then it waits for open watch connections (kubelets', kube-proxy's,
#: CoreDNS') that nobody closes, up to a minute (on v1.37.2 it had not exited 40 s after
#: SIGTERM), so it is killed once this passes.
APISERVER_STOP_GRACE_S = 5.0


def _unknown(cluster: str, kind: str, name: str, known: list[str]) -> PodlifeError:
    return PodlifeError(f"'{cluster}' has no {kind} named '{name}'",
                        f"give one of {', '.join(known)}")


def _own_supervisor(cluster: LocalCluster, other: WorkerNode) -> Supervisor:
    """The supervisor of a node or instance beside the first (its own namespaces)."""
    cgroups = WorkerCgroups(cluster.name, other.name)
    return Supervisor(other.layout, NodeSandbox(other.state, cgroups, other.net), cgroups)


def control_plane(cluster: LocalCluster, version: KubeVersion, *, step: Step | None = None,
                  progress: build.Progress | None = None, timeout: float = 180.0,
                  skip_minors: bool = False, instance: str | None = None) -> float:
    """API server, then controllers, to `version`, on every control-plane instance in turn
    (or on `instance` alone, the next step of a rolling upgrade); the kubelets keep their
    release (the skew window of a real upgrade). Refused, before anything stops, when
    podlife.core.skew does not allow it. Returns the seconds taken (the build excluded)."""
    step = step or (lambda _msg: None)
    with cluster_lock(cluster.name, "upgrade"):
        info = ClusterInfo.load(cluster.name)
        names = info.control_planes or [info.node_name]
        if instance is not None and instance not in names:
            raise _unknown(cluster.name, "control-plane instance", instance, names)
        # The oldest kubelet of any node decides what the API server may move to.
        node = min(KubeVersion.parse(v) for v in [info.node_version, *info.worker_versions])
        skew.check_hop(KubeVersion.parse(info.version), version, node,
                       skip_minors=skip_minors)
        refuse_locked(version, info.feature_gates, info.component_gates, node)
        step(f"building Kubernetes {version} (cached after the first time)")
        bins = ensure_binaries(version, None, progress)
        started = time.monotonic()
        others = {i.name: i for i in instances_of(cluster.name, cluster.state, len(names))}
        for name in [instance] if instance else names:
            step(f"upgrading control-plane instance {name} {info.version} -> {version.tag} "
                 f"(kubelets stay {info.node_version})")
            if name in others:
                own = _own_supervisor(cluster, others[name])
                ip = others[name].net.node_ip
            else:
                own, ip = cluster.supervisor, cluster.net.node_ip
            stopping = time.monotonic()
            for component in ("kube-scheduler", "kube-controller-manager"):
                own.stop(component)
            own.stop("kube-apiserver", grace=APISERVER_STOP_GRACE_S)
            step(f"  {name}: old API server and controllers stopped in "
                 f"{time.monotonic() - stopping:.1f}s; starting {version.tag}")
            own.start("kube-apiserver", comp.apiserver_args(
                bins["kube-apiserver"], cluster.layout, others[name].net if name in others
                else cluster.net, info.gates_for("kube-apiserver")))
            _wait_instance(cluster, own, ip, version.tag, timeout)
            Launcher(own, cluster.net, bins).controllers(
                info.gates_for, leader_elect=len(names) > 1, lay=cluster.layout)
            info.instance_versions[name] = version.tag
            if all(info.instance_versions.get(n) == version.tag for n in names):
                info.kubelet_version, info.version = info.node_version, version.tag
                info.instance_versions = {}
            info.save()
        return time.monotonic() - started


def _wait_instance(cluster: LocalCluster, own: Supervisor, ip: str, tag: str,
                   timeout: float) -> None:
    """This instance's own API server ready on `tag`, asked from inside the namespaces
    (podlife.cluster.local.instance_probe); fails at once if it died."""
    deadline = time.monotonic() + timeout
    while True:
        own.check_alive()
        result = cluster.sandbox.run([
            sys.executable, "-m", "podlife.cluster.local.instance_probe",
            f"https://{ip}:{comp.APISERVER_PORT}", str(cluster.layout.pki), tag, "5"],
            timeout=30)
        if result.returncode == 0:
            return
        if time.monotonic() > deadline:
            raise PodlifeError(f"timed out after {timeout:.0f}s: {result.stdout.strip()}",
                               "read the API server's log", log=str(own.layout.logs))


def node(cluster: LocalCluster, version: KubeVersion, *, step: Step | None = None,
         progress: build.Progress | None = None, timeout: float = 180.0,
         node_name: str | None = None) -> float:
    """kubelet and kube-proxy to `version` (within skew of every API server) on every node,
    the control plane's first, then each worker in turn (or on `node_name` alone);
    containerd keeps running, and so does every container not drained first
    (podlife.run.drain; upstream supports a minor kubelet upgrade on a drained node only).
    Returns the seconds."""
    step = step or (lambda _msg: None)
    with cluster_lock(cluster.name, "upgrade"):
        info = ClusterInfo.load(cluster.name)
        if info.instance_versions:
            raise PodlifeError(
                f"'{cluster.name}' is half way through a control-plane upgrade "
                f"({', '.join(info.instance_versions)} moved, not the others)",
                "upgrade the remaining control-plane instances first")
        nodes = [info.node_name, *info.workers]
        if node_name is not None and node_name not in nodes:
            raise _unknown(cluster.name, "node", node_name, nodes)
        apiserver = KubeVersion.parse(info.version)
        skew.check_kubelet(apiserver, version)
        refuse_locked(apiserver, info.feature_gates, info.component_gates, version)
        step(f"building Kubernetes {version} (cached after the first time)")
        bins = ensure_binaries(version, None, progress)
        started = time.monotonic()
        api = cluster.ready.api_server(info, timeout)
        workers = dict(zip(info.workers, workers_of(cluster.name, cluster.state,
                                                    len(info.workers)), strict=True))
        for name in [node_name] if node_name else nodes:
            if name in workers:
                index = info.workers.index(name)
                was = info.worker_versions[index]
                own = _own_supervisor(cluster, workers[name])
                net, root = workers[name].net, workers[name].cgroup_root(cluster.cgroups)
            else:
                was, own, net = info.node_version, cluster.supervisor, cluster.net
                root = cluster.cgroups.kubelet_root
            step(f"upgrading node {name} {was} -> {version.tag}: kubelet and kube-proxy "
                 "(containerd keeps running)")
            for component in ("kube-proxy", "kubelet"):
                own.stop(component)
            with kernel_tunables_kept(cluster.name):
                Launcher(own, net, bins).node(version, name, root, info.gates_for("kubelet"))
                cluster.ready.node(api, name, timeout, kubelet_version=version.tag)
            if name in workers:
                info.worker_versions[index] = version.tag
            else:
                info.kubelet_version = version.tag
            info.save()
        return time.monotonic() - started
