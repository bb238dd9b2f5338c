"""Which binary each component runs, with which command line, started in the groups a boot
needs.

The groups exist because of start-up order: the controllers exit if RBAC is not bootstrapped
yet, and the kubelet exits if the runtime is not answering, so each group is started only
once what it needs is ready; `LocalCluster` decides when. Boot and upgrade share these
starts, so a component runs the same way whichever started it.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

from podlife.cluster.local import components as comp
from podlife.cluster.local.configure import write_kubelet_config
from podlife.cluster.local.node import Network
from podlife.cluster.local.supervise import Supervisor
from podlife.core.errors import PodlifeError
from podlife.core.versions import KubeVersion


class Launcher:
    """Starts the components of one cluster from one set of binaries (one version)."""

    def __init__(self, supervisor: Supervisor, net: Network, bins: dict[str, Path]) -> None:
        self.sup = supervisor
        self.lay = supervisor.layout
        self.net = net
        self.bins = bins

    def base(self, api_port: int, gates: dict[str, bool], *,
             etcd: list[str] | None = None, api_target: str | None = None) -> None:
        """etcd (one member, or `etcd` as given: a member of several), containerd, the API
        server and the host's port to the API server (or to `api_target`, "IP:PORT", the
        balanced address of several)."""
        lay, bins = self.lay, self.bins
        self.sup.start("etcd", etcd or comp.etcd_args(bins["etcd"], lay))
        self.containerd()
        self.apiserver(gates)
        # The API server is reachable from the host only on loopback, through a unix socket
        # that crosses the namespace boundary: nothing else of the cluster is exposed.
        sock = lay.apiserver_socket
        target = api_target or f"127.0.0.1:{comp.APISERVER_PORT}"
        self.sup.start("api-bridge", ["socat", f"UNIX-LISTEN:{sock},fork,unlink-early,mode=600",
                                      f"TCP:{target}"])
        self.sup.start("api-forward", [
            "socat", f"TCP-LISTEN:{api_port},bind=127.0.0.1,fork,reuseaddr",
            f"UNIX-CONNECT:{sock}"], inside=False)

    def containerd(self) -> None:
        """The node's container runtime (its shims find their binary on PATH). Its temporary
        files stay in the node's state dir: each exec (a probe, a hook, `kubectl exec`)
        hands runc its process spec in a file made in $XDG_RUNTIME_DIR, else $TMPDIR, else
        the host's /tmp, and a shim killed at teardown never removes it."""
        bins = self.bins
        tmp = self.lay.state / "containerd" / "tmp"
        tmp.mkdir(parents=True, exist_ok=True)
        self.sup.start("containerd", [str(bins["containerd"] / "containerd"), "--config",
                                      str(self.lay.state / "containerd" / "config.toml")],
                       env={"PATH": f"{bins['containerd']}:{os.environ.get('PATH', '')}",
                            "TMPDIR": str(tmp), "XDG_RUNTIME_DIR": str(tmp)})

    def apiserver(self, gates: dict[str, bool]) -> None:
        self.sup.start("kube-apiserver", comp.apiserver_args(self.bins["kube-apiserver"],
                                                             self.lay, self.net, gates))

    def coredns(self) -> None:
        """CoreDNS: start it once its RBAC exists. Started earlier, its first lists are
        refused and it serves only after its informers' back-off (about 5 s later)."""
        self.sup.start("coredns", [str(self.bins["coredns"] / "coredns"), "-conf",
                                   str(self.lay.state / "Corefile")])

    def controllers(self, gates_for: Callable[[str], dict[str, bool]], *,
                    leader_elect: bool = False, lay: comp.Layout | None = None) -> None:
        """The controller manager and scheduler: start them once the API server is ready.
        `gates_for(component)` gives each its feature gates; with several control planes
        they elect a leader, and read the cluster's files (`lay`)."""
        bins, lay = self.bins, lay or self.lay
        self.sup.start("kube-controller-manager", comp.controller_manager_args(
            bins["kube-controller-manager"], lay, gates_for("kube-controller-manager"),
            leader_elect=leader_elect))
        self.sup.start("kube-scheduler", comp.scheduler_args(
            bins["kube-scheduler"], lay, gates_for("kube-scheduler"),
            leader_elect=leader_elect))

    def node(self, version: KubeVersion, node_name: str, cgroup_root: str,
             gates: dict[str, bool]) -> None:
        """The node's agents, kubelet and kube-proxy, configured for `version`: the one way
        they start, at boot and at upgrade. Start it once the runtime answers."""
        write_kubelet_config(self.lay, self.net, version, cgroup_root, gates)
        self.sup.start("kubelet", comp.kubelet_args(self.bins["kubelet"], self.lay, self.net,
                                                    node_name))
        self.sup.start("kube-proxy", comp.kube_proxy_args(self.bins["kube-proxy"], self.lay))

    def import_images(self, archives: dict[str, Path]) -> None:
        """Load the image archives into containerd (which must be answering)."""
        for name, archive in archives.items():
            result = self.sup.sandbox.run([
                str(self.bins["ctr"] / "ctr"), "--address", str(self.lay.containerd_socket),
                "-n", "k8s.io", "images", "import", "--no-unpack=false", str(archive)])
            if result.returncode != 0:
                raise PodlifeError(f"importing the {name} image failed: "
                                   f"{result.stderr.strip()[-300:]}",
                                   f"delete {archive} so it is rebuilt, then retry")
