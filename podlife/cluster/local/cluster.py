"""Boot, upgrade and tear down a local cluster: real components, in their own namespaces.

This module is the order of things only. What each component reads is written by
`configure`, how each starts is in `launch`, its processes are kept by `supervise`, and
`readiness` says when the next step may go. `up` is all-or-nothing: any failure or Ctrl-C
while it runs tears down what was started, so a failed boot leaves no process, mount,
cgroup or network namespace behind.
"""

from __future__ import annotations

import math
import os
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from podlife.cluster import build
from podlife.cluster import oci_images as images
from podlife.cluster.local import components as comp
from podlife.cluster.local import deviations
from podlife.cluster.local.boot_api import create_cluster_rbac
from podlife.cluster.local.boot_check import BootCheck
from podlife.cluster.local.configure import write_boot_files
from podlife.cluster.local.gates import refuse_locked
from podlife.cluster.local.host import kernel_tunables_kept, restore_stale
from podlife.cluster.local.launch import Launcher
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
from podlife.core import paths, skew
from podlife.core.errors import PodlifeError
from podlife.core.versions import KubeVersion

# Imported from here by the CLI, providers, upgrade, bench and tests.
__all__ = ["ClusterInfo", "LocalCluster", "api_client", "free_port",
           "kubeconfig_yaml", "list_clusters", "parse_gates", "validate_name"]

#: The node's binaries: on a mixed cluster they come from the kubelet's release.
NODE_BINARIES = ("kubelet", "kube-proxy")

Step = Callable[[str], None]
"""Called with a short description as each boot step starts (for progress output)."""


def ensure_binaries(version: KubeVersion, kube_bin_dir: Path | None,
                    progress: build.Progress | None,
                    node_version: KubeVersion | None = None) -> dict[str, Path]:
    """Build (or reuse) every component; returns the directory holding each binary. The
    kubelet and kube-proxy come from `node_version`'s build when given (a mixed cluster)."""
    bins: dict[str, Path] = {}
    if kube_bin_dir:
        directory, _ = build.kube_binaries_from_dir(kube_bin_dir)
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


def kept_log_path(log: Path, logs: Path, kept: Path) -> Path:
    """Where a failed boot's log (or its whole logs dir) went once moved to `kept`."""
    if log == logs:
        return kept
    if log.is_relative_to(logs):
        return kept / log.relative_to(logs)
    return log  # not under the state dir: not moved


class LocalCluster:
    """One local cluster: its state dir, sandbox and components, in the order they start."""

    def __init__(self, name: str) -> None:
        validate_name(name)
        self.name = name
        self.state = paths.cluster_dir(name)
        self.layout = comp.Layout(self.state)
        validate_state_path(self.state, self.layout.containerd_socket)
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
           kubelet_version: KubeVersion | None = None) -> ClusterInfo:
        """Boot the cluster, holding its lock throughout: a second `up` (or a `down`) of the
        same name fails at once with one line, and leaves this boot alone.

        `component_gates` (e.g. {"kubelet": {...}}) go over `gates` per component;
        allow_privileged turns off the PodSecurity `baseline` default (see configure);
        kubelet_version runs the kubelet and kube-proxy of another release (podlife.core.skew
        says which)."""
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
        preflight()
        with cluster_lock(self.name, "up") as held:
            try:
                return self._up(version, api_port=api_port, gates=gates,
                                component_gates=component_gates,
                                kube_bin_dir=kube_bin_dir, step=step or (lambda _msg: None),
                                progress=progress, timeout=timeout,
                                allow_privileged=allow_privileged, node_version=node_version)
            except BaseException:
                if not self.state.exists():
                    held.remove()  # nothing of the cluster is left: nor is its lock
                raise

    def _up(self, version: KubeVersion, *, api_port: int | None, gates: dict[str, bool],
            component_gates: dict[str, dict[str, bool]],
            kube_bin_dir: Path | None, step: Step, progress: build.Progress | None,
            timeout: float, allow_privileged: bool, node_version: KubeVersion) -> ClusterInfo:
        if self.half_booted():
            step(f"removing a dead half-boot of '{self.name}' (its up was killed)")
            self._down(keep_logs=False)
        if not self.state.exists() and self.cgroups.exists():
            raise self.foreign_cgroup()
        if (self.state / "cluster.json").exists() or self.cgroups.exists():
            raise PodlifeError(f"a local cluster named '{self.name}' already exists",
                               f"use it, or remove it with 'podlife cluster down --name "
                               f"{self.name}'")
        mixed = f" with kubelet {node_version}" if node_version != version else ""
        step(f"building components for Kubernetes {version}{mixed} (cached after the first "
             "time)")
        bins = ensure_binaries(version, kube_bin_dir, progress, node_version)
        launch = Launcher(self.supervisor, self.net, bins)
        archives = images.image_archives(lambda: build.kube_module_dir(version))
        port = free_port(api_port)
        started = time.monotonic()
        found = deviations.detect(deviations.read_host())
        info = ClusterInfo(name=self.name, version=version.tag, api_port=port,
                           state_dir=str(self.state), node_name=f"{self.name}-node",
                           feature_gates=gates, component_gates=component_gates,
                           allow_privileged=allow_privileged,
                           host_deviations=[d.to_dict() for d in found],
                           kubelet_version=node_version.tag)
        importer = ThreadPoolExecutor(1, thread_name_prefix="image-import")
        try:
            self.state.mkdir(parents=True)
            info.save()
            step("writing certificates and configs")
            write_boot_files(self.layout, self.net, cluster=self.name, node_name=info.node_name,
                             host_server=info.server, gates=info.gates_for("kube-proxy"),
                             allow_privileged=allow_privileged,
                             restrict_oom_score_adj=any(
                                 d.id == deviations.NO_CAP_SYS_RESOURCE for d in found))
            self.cgroups.create()
            step("starting the node's namespaces")
            self.sandbox.start()
            step("starting etcd, containerd, kube-apiserver, controllers, kubelet, DNS")
            launch.base(port, info.gates_for("kube-apiserver"))
            self.ready.probe("containerd", self.layout.containerd_socket.exists, timeout)
            # The images are needed by the first pod only: load them while the API
            # server starts.
            imported = importer.submit(launch.import_images, archives)
            with kernel_tunables_kept(self.name):
                launch.node(node_version, info.node_name, self.cgroups.kubelet_root,
                            info.gates_for("kubelet"))
                step("waiting for the API server")
                api = self.ready.api_server(info, timeout)
                launch.controllers(info.gates_for)
                # The check pod waits in the scheduler's queue while CoreDNS starts (its
                # lookups retry until DNS answers); its image must be in containerd first.
                imported.result()
                check = BootCheck(self.layout.pod_logs, self.layout.logs / "coredns.log",
                                  self.layout.logs / "kubelet.log")
                check.start(api)
                create_cluster_rbac(api, comp.COREDNS_RBAC)
                launch.coredns()
                step("waiting for the node to be Ready")
                self.ready.node(api, info.node_name, timeout)
            step("checking that a pod runs and resolves a Service name")
            check.wait(api, timeout, self.supervisor.check_alive)
            step("waiting for the controllers to lift the node's not-ready taint")
            self.ready.node(api, info.node_name, timeout, schedulable=True)
            info.booted_at = time.time()
            info.boot_seconds = round(time.monotonic() - started, 2)
            info.save()
            return info
        except BaseException as exc:
            importer.shutdown(wait=True)  # no ctr left running into the teardown
            if os.environ.get("PODLIFE_KEEP_FAILED") == "1":
                raise  # debugging a boot: leave everything as it is
            kept = self._down(keep_logs=True)
            if isinstance(exc, PodlifeError) and exc.log and kept:
                exc.log = str(kept_log_path(Path(exc.log), self.layout.logs, kept))
            raise

    def upgrade(self, version: KubeVersion, *, step: Step | None = None,
                progress: build.Progress | None = None, timeout: float = 180.0) -> float:
        """Move a running cluster to another release, keeping etcd's data and the containers:
        the control plane first, then the node (see the two steps). Returns the seconds."""
        return (self.upgrade_control_plane(version, step=step, progress=progress,
                                           timeout=timeout)
                + self.upgrade_node(version, step=step, progress=progress, timeout=timeout))

    def upgrade_control_plane(self, version: KubeVersion, *, step: Step | None = None,
                              progress: build.Progress | None = None, timeout: float = 180.0,
                              skip_minors: bool = False) -> float:
        """API server, then controllers, to `version`; the kubelet keeps its release (the
        skew window of a real upgrade). Refused, before anything stops, when podlife.core.skew
        does not allow it. Returns the seconds taken (the build excluded)."""
        step = step or (lambda _msg: None)
        with cluster_lock(self.name, "upgrade"):
            info = ClusterInfo.load(self.name)
            node = KubeVersion.parse(info.node_version)
            skew.check_hop(KubeVersion.parse(info.version), version, node,
                           skip_minors=skip_minors)
            refuse_locked(version, info.feature_gates, info.component_gates, node)
            step(f"building Kubernetes {version} (cached after the first time)")
            launch = Launcher(self.supervisor, self.net, ensure_binaries(version, None, progress))
            started = time.monotonic()
            step(f"upgrading the control plane {info.version} -> {version.tag} "
                 f"(kubelet stays {info.node_version})")
            for name in ("kube-scheduler", "kube-controller-manager", "kube-apiserver"):
                self.supervisor.stop(name)
            launch.apiserver(info.gates_for("kube-apiserver"))
            api = self.ready.api_server(info, timeout)
            self.ready.server_version(api, version.tag, timeout)
            launch.controllers(info.gates_for)
            info.kubelet_version, info.version = info.node_version, version.tag
            info.save()
            return time.monotonic() - started

    def upgrade_node(self, version: KubeVersion, *, step: Step | None = None,
                     progress: build.Progress | None = None, timeout: float = 180.0) -> float:
        """kubelet and kube-proxy to `version` (within skew of the API server); containerd
        keeps running, and so does every container not drained first (podlife.run.drain; upstream
        supports a minor kubelet upgrade on a drained node only). Returns the seconds."""
        step = step or (lambda _msg: None)
        with cluster_lock(self.name, "upgrade"):
            info = ClusterInfo.load(self.name)
            apiserver = KubeVersion.parse(info.version)
            skew.check_kubelet(apiserver, version)
            refuse_locked(apiserver, info.feature_gates, info.component_gates, version)
            step(f"building Kubernetes {version} (cached after the first time)")
            bins = ensure_binaries(version, None, progress)
            launch = Launcher(self.supervisor, self.net, bins)
            started = time.monotonic()
            step(f"upgrading the node {info.node_version} -> {version.tag}: kubelet and "
                 "kube-proxy (containerd keeps running)")
            api = self.ready.api_server(info, timeout)
            for name in ("kube-proxy", "kubelet"):
                self.supervisor.stop(name)
            with kernel_tunables_kept(self.name):
                launch.node(version, info.node_name, self.cgroups.kubelet_root,
                            info.gates_for("kubelet"))
                self.ready.node(api, info.node_name, timeout, kubelet_version=version.tag)
            info.kubelet_version = version.tag
            info.save()
            return time.monotonic() - started

    def down(self, *, keep_logs: bool = False) -> Path | None:
        """Stop every process of the cluster and remove its state.

        keep_logs (after a failed boot) moves the component logs to
        <state root>/failed-boots/<name>/ first, so the error's log path still exists.
        Holds the cluster's lock, so it refuses (one line) while an `up` of it runs.
        """
        with cluster_lock(self.name, "down") as held:
            kept = self._down(keep_logs=keep_logs)
            held.remove()
            return kept

    def _down(self, *, keep_logs: bool) -> Path | None:
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
        """Which recorded components are still running."""
        return self.supervisor.health()
