"""Where the cluster under test comes from: booted locally, kind, or an existing kubeconfig.

The options choosing the provider (ProviderOptions) are declared in podlife.cluster.options.
A provider hands the suites a ClusterHandle; the checks never know which provider made it,
only what the handle says it may do (e.g. whether podlife may change a node).
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
from dataclasses import asdict, dataclass
from pathlib import Path

from podlife.cluster.options import ProviderOptions
from podlife.core import paths, versions
from podlife.core.errors import PodlifeError
from podlife.core.images import ImageMap


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
        from kubernetes import config

        return config.new_client_from_config(self.kubeconfig)

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


def acquire(opts: ProviderOptions, run_id: str) -> ClusterHandle:
    """Get the run's cluster once, even from several xdist workers (first one boots it)."""
    runs = paths.state_root() / "runs"
    runs.mkdir(parents=True, exist_ok=True)
    record = runs / f"{run_id}.json"
    with (runs / f"{run_id}.lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if record.exists():
            return ClusterHandle(**json.loads(record.read_text()))
        handle = _provide(opts, run_id)
        handle.version = handle.server_version()
        handle.kubelet_version = handle.kubelet_versions()
        record.write_text(handle.to_json())
        return handle


def host_deviations(handle: ClusterHandle) -> list[dict] | None:
    """How a local cluster's host made it differ from a standard node, as recorded at its
    boot (podlife.cluster.local.deviations). None, not known, for kind and kubeconfig clusters:
    podlife did not boot their nodes and cannot see their hosts; nor for a local cluster
    booted by a podlife that did not detect them."""
    if handle.provider != "local":
        return None
    from podlife.cluster.local.state import ClusterInfo

    return ClusterInfo.load(handle.name).host_deviations


def release(opts: ProviderOptions, run_id: str) -> None:
    """Tear down what this run created (not reused or existing clusters), and its records."""
    runs = paths.state_root() / "runs"
    record = runs / f"{run_id}.json"
    if record.exists():
        handle = ClusterHandle(**json.loads(record.read_text()))
        if handle.created_by_run and not opts.keep_cluster:
            if handle.provider == "local":
                from podlife.cluster.local.cluster import LocalCluster

                LocalCluster(handle.name).down()
            elif handle.provider == "kind":
                _kind_delete(handle.name)
        record.unlink()
    with contextlib.suppress(FileNotFoundError):
        (runs / f"{run_id}.lock").unlink()


def run_cluster_name(run_id: str) -> str:
    return f"t{run_id[:8]}"


def _provide(opts: ProviderOptions, run_id: str) -> ClusterHandle:
    if opts.provider == "local":
        return _local(opts, run_id)
    if opts.provider == "kind":
        return _kind(opts, run_id)
    if opts.provider == "kubeconfig":
        return _existing(opts)
    raise PodlifeError(f"unknown provider '{opts.provider}'", "use local, kind or kubeconfig")


def _local(opts: ProviderOptions, run_id: str) -> ClusterHandle:
    from podlife.cluster.local.cluster import ClusterInfo, LocalCluster, parse_gates

    if opts.reuse_cluster:
        info = ClusterInfo.load(opts.reuse_cluster)
        return ClusterHandle(info.name, "local", str(info.kubeconfig), may_change_nodes=True)
    name = run_cluster_name(run_id)
    version = versions.resolve(opts.kube_version)
    kubelet = versions.resolve(opts.kubelet_version) if opts.kubelet_version else None
    info = LocalCluster(name).up(version, gates=parse_gates(opts.feature_gates),
                                 kubelet_version=kubelet)
    return ClusterHandle(name, "local", str(info.kubeconfig), may_change_nodes=True,
                         created_by_run=True)


def _kind(opts: ProviderOptions, run_id: str) -> ClusterHandle:
    """A kind cluster on podlife's own Docker engine, from a node image built offline
    (podlife.cluster.kind); the suite's images are already in the node image."""
    from podlife.cluster.kind import cluster as kind_cluster

    if opts.reuse_cluster:
        path = kind_cluster.kubeconfig(opts.reuse_cluster)
        if not path.exists():
            raise PodlifeError(f"no podlife kind cluster named '{opts.reuse_cluster}'",
                               "create it with 'podlife kind up --name NAME'")
        return ClusterHandle(opts.reuse_cluster, "kind", str(path), may_change_nodes=True,
                             image_set="local")
    name = f"podlife-{run_cluster_name(run_id)}"
    kind_cluster.up(name, versions.resolve(opts.kube_version))
    return ClusterHandle(name, "kind", str(kind_cluster.kubeconfig(name)),
                         may_change_nodes=True, created_by_run=True, image_set="local")


def _kind_delete(name: str) -> None:
    from podlife.cluster.kind import cluster as kind_cluster

    kind_cluster.delete(name)


def _existing(opts: ProviderOptions) -> ClusterHandle:
    """An existing cluster, once podlife.cluster.access found it reachable and the identity able."""
    from podlife.cluster import access

    path = existing_kubeconfig(opts)
    access.check_cluster(path, node_changes=opts.allow_node_changes)
    return ClusterHandle(name="existing", provider="kubeconfig", kubeconfig=path,
                         may_change_nodes=opts.allow_node_changes,
                         image_registry=opts.image_registry, image_set=opts.image_set)


def existing_kubeconfig(opts: ProviderOptions) -> str:
    """--kubeconfig, else $KUBECONFIG: the file the kubeconfig provider uses."""
    path = opts.kubeconfig or os.environ.get("KUBECONFIG")
    if not path:
        raise PodlifeError("the kubeconfig provider needs a kubeconfig",
                           "pass --kubeconfig PATH or set KUBECONFIG")
    return str(Path(path).expanduser().absolute())
