"""The kubeconfig provider behind podlife.cluster.provider's protocol: an existing cluster,
used only through what the kubeconfig's identity may do (manifests/rbac.yaml). Needs no
root and changes nothing outside the namespaces podlife creates."""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING

from podlife.cluster.options import local_only_given
from podlife.cluster.provider import ClusterHandle, ProgressFactory
from podlife.core.errors import PodlifeError

if TYPE_CHECKING:
    from podlife.cluster.options import ProviderOptions


def existing_kubeconfig(opts: ProviderOptions) -> str:
    """--kubeconfig, else $KUBECONFIG: the file the kubeconfig provider uses."""
    path = opts.kubeconfig or os.environ.get("KUBECONFIG")
    if not path:
        raise PodlifeError("the kubeconfig provider needs a kubeconfig",
                           "pass --kubeconfig PATH or set KUBECONFIG")
    return str(Path(path).expanduser().absolute())


class KubeconfigProvider:
    name = "kubeconfig"
    knows_host_deviations = False

    def describe(self) -> str:
        return "an existing cluster, through its kubeconfig"

    def preflight(self, opts: ProviderOptions, progress: ProgressFactory) -> str:
        from podlife.cluster import access

        refused = local_only_given(opts) + (["--reuse-cluster"] if opts.reuse_cluster else [])
        if refused:
            raise PodlifeError(f"{', '.join(refused)}: for clusters podlife runs",
                               "drop them: an existing cluster's nodes are what they are, "
                               "and the results record them")
        access.check_cluster(existing_kubeconfig(opts), node_changes=opts.allow_node_changes)
        return "existing"

    def acquire(self, opts: ProviderOptions, run_id: str) -> ClusterHandle:
        """Once podlife.cluster.access found it reachable and the identity able."""
        from podlife.cluster import access

        path = existing_kubeconfig(opts)
        access.check_cluster(path, node_changes=opts.allow_node_changes)
        return ClusterHandle(name="existing", provider=self.name, kubeconfig=path,
                             may_change_nodes=opts.allow_node_changes,
                             image_registry=opts.image_registry, image_set=opts.image_set)

    def release(self, handle: ClusterHandle) -> None:
        pass  # podlife never removes a cluster it did not create

    def host_deviations(self, handle: ClusterHandle) -> list[dict] | None:
        return None  # podlife did not boot its nodes: not known
