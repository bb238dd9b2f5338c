"""The kind provider behind podlife.cluster.provider's protocol: a kind cluster on podlife's
own Docker engine, from a node image built offline (podlife's images already inside)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from podlife.cluster.options import local_only_given, worker_count
from podlife.cluster.provider import ClusterHandle, ProgressFactory
from podlife.core import versions
from podlife.core.errors import PodlifeError

if TYPE_CHECKING:
    from podlife.cluster.options import ProviderOptions


class KindProvider:
    name = "kind"
    knows_host_deviations = False

    def describe(self) -> str:
        return "a kind cluster on podlife's own Docker engine, its node image built offline"

    def preflight(self, opts: ProviderOptions, progress: ProgressFactory) -> str:
        from podlife.cluster.kind import engine, node_image

        # kind runs worker nodes (podlife wires their pod network); several control planes
        # need kind's load-balancer image, which cannot be had offline.
        refused = [flag for flag in local_only_given(opts) if flag != "--worker-nodes"]
        worker_count(opts)  # a bad count is one line here, before anything starts
        if refused:
            raise PodlifeError(f"{', '.join(refused)}: for a local cluster the run boots",
                               "drop them, or use --provider local")
        version = versions.resolve(opts.kube_version)
        opts.kube_version = version.tag
        if not opts.reuse_cluster:
            # Built before the run, with progress lines (pytest would hide them).
            with engine.locked():
                engine.start()
                try:
                    node_image.ensure(version, lambda text: print(f"[kind] {text}", flush=True))
                finally:
                    engine.stop_if_unused()
        return version.tag

    def acquire(self, opts: ProviderOptions, run_id: str) -> ClusterHandle:
        from podlife.cluster.kind import cluster as kind_cluster

        if opts.reuse_cluster:
            path = kind_cluster.kubeconfig(opts.reuse_cluster)
            if not path.exists():
                raise PodlifeError(f"no podlife kind cluster named '{opts.reuse_cluster}'",
                                   "create it with 'podlife kind up --name NAME'")
            return ClusterHandle(opts.reuse_cluster, self.name, str(path),
                                 may_change_nodes=True, image_set="local")
        name = f"podlife-t{run_id[:8]}"
        kind_cluster.up(name, versions.resolve(opts.kube_version), workers=worker_count(opts))
        return ClusterHandle(name, self.name, str(kind_cluster.kubeconfig(name)),
                             may_change_nodes=True, created_by_run=True, image_set="local")

    def release(self, handle: ClusterHandle) -> None:
        from podlife.cluster.kind import cluster as kind_cluster

        kind_cluster.delete(handle.name)

    def host_deviations(self, handle: ClusterHandle) -> list[dict] | None:
        return None  # podlife did not boot the node's host: not known
