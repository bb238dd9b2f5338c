"""What a provider of clusters under test is: one small protocol, and the handle it hands out.

A provider (local, kind, kubeconfig, or one of your own: see CONTRIBUTING.md) checks its
options before anything starts, acquires a cluster for a run and releases it afterwards,
and says what it knows about the cluster's host. The checks never learn which provider made
their cluster, only what its ClusterHandle allows (changing a node, which images to use).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING, Protocol

from podlife.cluster import kubeclient
from podlife.core import versions
from podlife.core.images import ImageMap

if TYPE_CHECKING:
    from podlife.cluster.options import ProviderOptions

#: Called with (component, packages done, total) while Go compiles.
Progress = Callable[[str, int, int], None]
#: Opens a progress display for builds (the CLI's bars or log lines), used only if needed.
ProgressFactory = Callable[[], AbstractContextManager[Progress]]


@dataclass
class ClusterHandle:
    """A ready cluster: how to reach it, and what podlife may do with it."""

    name: str
    provider: str
    kubeconfig: str
    version: str = ""
    may_change_nodes: bool = False
    image_registry: str | None = None
    created_by_run: bool = False
    image_set: str | None = None
    #: The nodes' kubelet releases, comma-separated ("" when nodes cannot be listed).
    kubelet_version: str = ""

    def images(self) -> ImageMap:
        """The image map: podlife's own imported images on local clusters (or when asked
        with --images local), public (or mirrored) images elsewhere."""
        return ImageMap(self.image_set or self.provider, self.image_registry)

    def api_client(self):

        return kubeclient.new_client(self.kubeconfig)

    def server_version(self) -> str:
        from kubernetes import client

        return client.VersionApi(self.api_client()).get_code().git_version

    def kubelet_versions(self) -> str:
        """What node.status.nodeInfo.kubeletVersion says, every distinct one, oldest first;
        "" when the identity may not list nodes (the minimal RBAC of an existing cluster)."""
        from kubernetes import client
        from kubernetes.client.rest import ApiException

        try:
            nodes = client.CoreV1Api(self.api_client()).list_node().items
        except ApiException as exc:
            if exc.status in (401, 403):
                return ""
            raise
        found = {n.status.node_info.kubelet_version for n in nodes if n.status.node_info}
        return ",".join(sorted(found, key=versions.version_sort_key))

    def to_json(self) -> str:
        return json.dumps(asdict(self))


class Provider(Protocol):
    """Where clusters under test come from. Register one in podlife.cluster.registry."""

    #: The --provider value.
    name: str
    #: True when podlife boots the cluster's nodes on this host and so can detect how the
    #: host makes them differ from a standard node (podlife.core.deviation).
    knows_host_deviations: bool

    def describe(self) -> str:
        """One line for --help and reports: what this provider gives."""
        ...

    def preflight(self, opts: ProviderOptions, progress: ProgressFactory) -> str:
        """Before any check: refuse options this provider cannot honour (one line each),
        check the cluster can be used, build what booting needs. Returns the label of the
        run's matrix column (e.g. v1.37.2, or v1.33.13/kubelet-v1.30.14)."""
        ...

    def acquire(self, opts: ProviderOptions, run_id: str) -> ClusterHandle:
        """A ready cluster for the run (booted, reused or existing)."""
        ...

    def release(self, handle: ClusterHandle) -> None:
        """Tear down a cluster this provider created for a run (never a reused one)."""
        ...

    def host_deviations(self, handle: ClusterHandle) -> list[dict] | None:
        """How the cluster's host differs from a standard node, as records; None when not
        known (never an empty list for "not known")."""
        ...
