"""Booting a local cluster: every component in its order, each step waiting for the last.

What each component reads is written by `configure`, how each starts is in `launch`, its
processes are kept by `supervise`, and `readiness` says when the next step may go. A boot
is all-or-nothing: any failure or Ctrl-C tears down what was started, so a failed boot
leaves no process, mount, cgroup or network namespace behind (its logs are kept).
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import TYPE_CHECKING

from podlife.cluster import build, kube_source
from podlife.cluster import oci_images as images
from podlife.cluster.local import components as comp
from podlife.cluster.local import control_planes as control_plane_nodes
from podlife.cluster.local import deviations
from podlife.cluster.local import workers as worker_nodes
from podlife.cluster.local.boot_api import create_cluster_rbac
from podlife.cluster.local.boot_check import BootCheck
from podlife.cluster.local.configure import write_boot_files
from podlife.cluster.local.host import kernel_tunables_kept
from podlife.cluster.local.launch import Launcher
from podlife.cluster.local.preflight import (
    free_port,
)
from podlife.cluster.local.state import (
    ClusterInfo,
)
from podlife.core.errors import PodlifeError
from podlife.core.versions import KubeVersion

if TYPE_CHECKING:
    from podlife.cluster.local.cluster import LocalCluster

Step = Callable[[str], None]
"""Called with a short description as each boot step starts (for progress output)."""

#: The node's binaries: on a mixed cluster they come from the kubelet's release.
NODE_BINARIES = ("kubelet", "kube-proxy")


def ensure_binaries(version: KubeVersion, kube_bin_dir: Path | None,
                    progress: build.Progress | None,
                    node_version: KubeVersion | None = None) -> dict[str, Path]:
    """Build (or reuse) every component; returns the directory holding each binary. The
    kubelet and kube-proxy come from `node_version`'s build when given (a mixed cluster)."""
    bins: dict[str, Path] = {}
    if kube_bin_dir:
        directory, _ = kube_source.kube_binaries_from_dir(kube_bin_dir)
        bins.update(dict.fromkeys(build.KUBE_BINARIES, directory))
    else:
        kube = build.build(build.kubernetes_build(version), progress=progress)
        bins.update(dict.fromkeys(build.KUBE_BINARIES, kube))
    if node_version and node_version != version:
        node = build.build(build.kubernetes_build(node_version), progress=progress)
        bins.update(dict.fromkeys(NODE_BINARIES, node))
    for spec in build.support_builds():
        entry = build.build(spec, progress=progress)
        bins.update(dict.fromkeys(spec.binaries, entry))
    return bins


def _start_control_planes(cluster: LocalCluster, instances: list, bins: dict[str, Path],
                          info: ClusterInfo) -> list:
    """The instances beside the first (--control-planes 3): each its namespaces, etcd
    member and API server, started before the first's so etcd finds its peers."""
    everyone = control_plane_nodes.members(cluster.net, instances)
    return [control_plane_nodes.start_instance(
        instance, cluster=cluster.name, cluster_layout=cluster.layout,
        control_plane=cluster.sandbox, bins=bins, gates=info.gates_for("kube-apiserver"),
        all_members=everyone) for instance in instances]


def kept_log_path(log: Path, logs: Path, kept: Path) -> Path:
    """Where a failed boot's log (or its whole logs dir) went once moved to `kept`."""
    if log == logs:
        return kept
    if log.is_relative_to(logs):
        return kept / log.relative_to(logs)
    return log  # not under the state dir: not moved


def boot(cluster: LocalCluster, version: KubeVersion, *, api_port: int | None,
         gates: dict[str, bool], component_gates: dict[str, dict[str, bool]],
         kube_bin_dir: Path | None, step: Step, progress: build.Progress | None,
         timeout: float, allow_privileged: bool, node_version: KubeVersion,
         workers: int = 0,
         worker_versions: list[KubeVersion] | None = None,
         control_planes: int = 1) -> ClusterInfo:
    """The boot itself, under the cluster's lock (LocalCluster.up takes it): all or
    nothing, a failure tears down what was started and keeps the logs."""
    if cluster.half_booted():
        step(f"removing a dead half-boot of '{cluster.name}' (its up was killed)")
        cluster.teardown(keep_logs=False)
    elif cluster.dead():
        kept = cluster.teardown(keep_logs=True)
        step(f"removed what was left of '{cluster.name}': none of its processes ran any "
             f"more (its logs: {kept})")
    if not cluster.state.exists() and cluster.cgroups.exists():
        raise cluster.foreign_cgroup()
    if (cluster.state / "cluster.json").exists() or cluster.cgroups.exists():
        raise PodlifeError(f"a local cluster named '{cluster.name}' already exists",
                           f"use it, or remove it with 'podlife cluster down --name "
                           f"{cluster.name}'")
    mixed = f" with kubelet {node_version}" if node_version != version else ""
    step(f"building components for Kubernetes {version}{mixed} (cached after the first "
         "time)")
    bins = ensure_binaries(version, kube_bin_dir, progress, node_version)
    launch = Launcher(cluster.supervisor, cluster.net, bins)
    archives = images.image_archives(lambda: kube_source.kube_module_dir(version))
    port = free_port(api_port)
    started = time.monotonic()
    found = deviations.detect(deviations.read_host())
    info = ClusterInfo(name=cluster.name, version=version.tag, api_port=port,
                       state_dir=str(cluster.state), node_name=f"{cluster.name}-node",
                       feature_gates=gates, component_gates=component_gates,
                       allow_privileged=allow_privileged,
                       host_deviations=[d.to_dict() for d in found],
                       kubelet_version=node_version.tag)
    nodes = worker_nodes.workers_of(cluster.name, cluster.state, workers)
    info.workers = [w.name for w in nodes]
    # Each worker's kubelet release: --node-versions, else the control plane node's.
    releases = worker_versions or [node_version] * len(nodes)
    info.worker_versions = [v.tag for v in releases]
    node_bins = {v: ensure_binaries(version, kube_bin_dir, progress, v) for v in set(releases)}
    restrict = any(d.id == deviations.NO_CAP_SYS_RESOURCE for d in found)
    # Several control planes: instances beside the first, and the balanced API address.
    instances = control_plane_nodes.instances_of(cluster.name, cluster.state, control_planes)
    info.control_planes = [info.node_name, *(i.name for i in instances)]
    balanced = (f"https://{control_plane_nodes.balancer_address(cluster.net)}"
                if instances else None)
    importer = ThreadPoolExecutor(1, thread_name_prefix="image-import")
    try:
        cluster.state.mkdir(parents=True)
        info.save()
        step("writing certificates and configs")
        ca = write_boot_files(cluster.layout, cluster.net, cluster=cluster.name,
                              node_name=info.node_name,
                              host_server=info.server, gates=info.gates_for("kube-proxy"),
                              allow_privileged=allow_privileged,
                              restrict_oom_score_adj=restrict,
                              control_plane_ips=tuple(i.net.node_ip for i in instances),
                              agent_server=balanced)
        cluster.cgroups.create()
        step("starting the node's namespaces")
        cluster.sandbox.start()
        step("starting etcd, containerd, kube-apiserver, controllers, kubelet, DNS")
        others = _start_control_planes(cluster, instances, bins, info)
        if instances:
            cluster.supervisor.start("api-balancer", control_plane_nodes.balancer_argv(
                cluster.net, instances))
        launch.base(port, info.gates_for("kube-apiserver"), etcd=comp.etcd_member_args(
            bins["etcd"], cluster.layout, cluster.state / "etcd", "podlife-1",
            cluster.net.node_ip, control_plane_nodes.members(cluster.net, instances))
            if instances else None,
            api_target=control_plane_nodes.balancer_address(cluster.net) if instances else None)
        cluster.ready.probe("containerd", cluster.layout.containerd_socket.exists, timeout)
        # The images are needed by the first pod only: load them while the API
        # server starts.
        imported = importer.submit(launch.import_images, archives)
        with kernel_tunables_kept(cluster.name):
            launch.node(node_version, info.node_name, cluster.cgroups.kubelet_root,
                        info.gates_for("kubelet"))
            step("waiting for the API server")
            api = cluster.ready.api_server(info, timeout)
            launch.controllers(info.gates_for, leader_elect=bool(instances))
            for each in others:
                Launcher(each, cluster.net, bins).controllers(
                    info.gates_for, leader_elect=True, lay=cluster.layout)
            # The check pod waits in the scheduler's queue while CoreDNS starts (its
            # lookups retry until DNS answers); its image must be in containerd first.
            imported.result()
            check = BootCheck(cluster.layout.pod_logs, cluster.layout.logs / "coredns.log",
                              cluster.layout.logs / "kubelet.log")
            check.start(api)
            create_cluster_rbac(api, comp.COREDNS_RBAC)
            launch.coredns()
            step("waiting for the node to be Ready")
            cluster.ready.node(api, info.node_name, timeout)
            if nodes:
                step(f"starting {len(nodes)} worker node(s): namespaces, containerd, "
                     "kubelet, kube-proxy")
                # Started side by side: each waits mostly on its containerd and images.
                with ThreadPoolExecutor(len(nodes), thread_name_prefix="worker") as pool:
                    started_workers = [pool.submit(
                        worker_nodes.start, node, worker_nodes.WorkerBoot(
                            cluster.name, cluster.cgroups, cluster.sandbox, node_bins[release],
                            ca, info.gates_for("kubelet"), info.gates_for("kube-proxy"),
                            restrict, balanced), release, archives, timeout)
                        for node, release in zip(nodes, releases, strict=True)]
                for each in started_workers:
                    each.result()
                for node in nodes:
                    cluster.ready.node(api, node.name, timeout)
        step("checking that a pod runs and resolves a Service name")
        check.wait(api, timeout, cluster.supervisor.check_alive)
        step("waiting for the controllers to lift the nodes' not-ready taint")
        for name in (info.node_name, *info.workers):
            cluster.ready.node(api, name, timeout, schedulable=True)
        info.booted_at = time.time()
        info.boot_seconds = round(time.monotonic() - started, 2)
        info.save()
        return info
    except BaseException as exc:
        importer.shutdown(wait=True)  # no ctr left running into the teardown
        if os.environ.get("PODLIFE_KEEP_FAILED") == "1":
            raise  # debugging a boot: leave everything as it is
        kept = cluster.teardown(keep_logs=True)
        if isinstance(exc, PodlifeError) and exc.log and kept:
            exc.log = str(kept_log_path(Path(exc.log), cluster.layout.logs, kept))
        raise

