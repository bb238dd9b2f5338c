"""The local provider behind podlife.cluster.provider's protocol: a cluster podlife builds
and boots on this host for the run (or one already up, with --reuse-cluster)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from podlife.cluster.options import control_plane_count, worker_count
from podlife.cluster.provider import ClusterHandle, ProgressFactory
from podlife.core import skew, versions
from podlife.core.errors import PodlifeError

if TYPE_CHECKING:
    from podlife.cluster.options import ProviderOptions


def run_cluster_name(run_id: str) -> str:
    return f"t{run_id[:8]}"


class LocalProvider:
    name = "local"
    knows_host_deviations = True

    def describe(self) -> str:
        return "a local cluster podlife builds and boots on this host"

    def preflight(self, opts: ProviderOptions, progress: ProgressFactory) -> str:
        from podlife.cluster import access
        from podlife.cluster.local.cluster import ClusterInfo, ensure_binaries
        from podlife.cluster.local.preflight import preflight

        workers = worker_count(opts)
        control_planes = control_plane_count(opts)
        if opts.reuse_cluster:
            if opts.kubelet_version:
                raise _kubelet_refused()
            if workers or control_planes > 1:
                raise PodlifeError("--worker-nodes and --control-planes apply to a local "
                                   "cluster the run boots",
                                   "drop them: a reused cluster has the nodes it was booted "
                                   "with (podlife cluster up --workers N)")
            info = ClusterInfo.load(opts.reuse_cluster)
            access.server_version(access.load_client(info.kubeconfig), str(info.kubeconfig))
            return info.version  # the cluster's, not the default release
        version = versions.resolve(opts.kube_version)
        kubelet = versions.resolve(opts.kubelet_version) if opts.kubelet_version else None
        if kubelet:
            skew.check_kubelet(version, kubelet)
            opts.kubelet_version = kubelet.tag
        preflight()
        opts.kube_version = version.tag
        with progress() as bar:
            ensure_binaries(version, None, bar, kubelet)
        return skew.Target(version, kubelet).label if kubelet else version.tag

    def acquire(self, opts: ProviderOptions, run_id: str) -> ClusterHandle:
        from podlife.cluster.local.cluster import ClusterInfo, LocalCluster, parse_gates

        if opts.reuse_cluster:
            info = ClusterInfo.load(opts.reuse_cluster)
            return ClusterHandle(info.name, self.name, str(info.kubeconfig),
                                 may_change_nodes=True)
        name = run_cluster_name(run_id)
        version = versions.resolve(opts.kube_version)
        kubelet = versions.resolve(opts.kubelet_version) if opts.kubelet_version else None
        info = LocalCluster(name).up(version, gates=parse_gates(opts.feature_gates),
                                     kubelet_version=kubelet, workers=worker_count(opts),
                                     control_planes=control_plane_count(opts))
        return ClusterHandle(name, self.name, str(info.kubeconfig), may_change_nodes=True,
                             created_by_run=True)

    def release(self, handle: ClusterHandle) -> None:
        from podlife.cluster.local.cluster import LocalCluster

        LocalCluster(handle.name).down()

    def host_deviations(self, handle: ClusterHandle) -> list[dict] | None:
        from podlife.cluster.local.state import ClusterInfo

        return ClusterInfo.load(handle.name).host_deviations


def _kubelet_refused() -> PodlifeError:
    return PodlifeError("--kubelet-version applies to a local cluster the run boots",
                        "drop it (an existing or reused cluster's kubelets are what they "
                        "are: the results record them)")
