"""Several control planes (`--control-planes 3`): the control plane's own namespace is the
first instance; two more, each a namespace of its own linked like a worker node
(podlife.cluster.local.workers), run an etcd member, kube-apiserver, and a leader-elected
kube-controller-manager and kube-scheduler, all over TLS with the cluster's certificates.

etcd has three members, peers talking TLS on their node IPs. Every agent (kubelets,
kube-proxy, CoreDNS) and the host's port reach the API through one stable address in the
first instance's namespace, a forwarder that fails over to the next API server
(podlife.cluster.local.apilb). Each instance's controllers talk to their own API server.
"""

from __future__ import annotations

import sys
from pathlib import Path

from podlife.cluster.local import components as comp
from podlife.cluster.local.node import Network
from podlife.cluster.local.supervise import Supervisor
from podlife.cluster.local.workers import WorkerCgroups, WorkerNode, WorkerSandbox
from podlife.core.errors import PodlifeError

#: The balanced API address's port, on the first instance's node IP.
BALANCER_PORT = 7443
ALLOWED = (1, 3)


def check_count(count: int) -> None:
    if count not in ALLOWED:
        raise PodlifeError(f"--control-planes {count}: podlife runs 1 or 3 (etcd needs an "
                           "odd number of members: with 2, losing either loses quorum)",
                           "give --control-planes 1 (the default) or 3")


def instances_of(cluster: str, state: Path, count: int) -> list[WorkerNode]:
    """The instances beside the first: cp2, cp3, with state dirs c2, c3."""
    return [WorkerNode(cluster, index, state / f"c{index}", role="cp")
            for index in range(2, count + 1)]


def members(first: Network, instances: list[WorkerNode]) -> dict[str, str]:
    """etcd member name -> node IP."""
    return {"podlife-1": first.node_ip} | {f"podlife-{i.index}": i.net.node_ip
                                          for i in instances}


def balancer_address(first: Network) -> str:
    return f"{first.node_ip}:{BALANCER_PORT}"


def balancer_argv(first: Network, instances: list[WorkerNode]) -> list[str]:
    backends = [f"{ip}:{comp.APISERVER_PORT}"
                for ip in (first.node_ip, *(i.net.node_ip for i in instances))]
    return [sys.executable, "-m", "podlife.cluster.local.apilb", balancer_address(first),
            *backends]


def start_instance(instance: WorkerNode, *, cluster: str, cluster_layout: comp.Layout,
                   control_plane: object, bins: dict[str, Path], gates: dict[str, bool],
                   all_members: dict[str, str]) -> Supervisor:
    """The instance's namespaces and veth, its etcd member and its API server (its
    controllers start later, with the first instance's)."""
    for sub in ("logs", "pids"):
        (instance.state / sub).mkdir(parents=True, exist_ok=True)
    cgroups = WorkerCgroups(cluster, instance.name)
    cgroups.create_worker()
    sandbox = WorkerSandbox(instance, cgroups, control_plane)  # type: ignore[arg-type]
    supervisor = Supervisor(instance.layout, sandbox, cgroups)
    sandbox.start()
    supervisor.start("etcd", comp.etcd_member_args(
        bins["etcd"], cluster_layout, instance.state / "etcd", f"podlife-{instance.index}",
        instance.net.node_ip, all_members))
    supervisor.start("kube-apiserver", comp.apiserver_args(
        bins["kube-apiserver"], cluster_layout, instance.net, gates))
    return supervisor
