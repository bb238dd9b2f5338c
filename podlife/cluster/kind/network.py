"""The pod network of a kind cluster with worker nodes, without kindnetd (it is an image
podlife cannot pull offline), doing what kindnetd does.

The node image carries one ptp CNI config for 10.244.0.0/24: right for one node, wrong for
several (every node would hand out the same addresses). Once every node has its pod range
from the controller manager (node.spec.podCIDR), each node container gets a config for its
own range and a route to every other node's range through that node's address on kind's
Docker network. Pods that started before (CoreDNS) are deleted, so their replacements get
addresses from their node's own range.
"""

from __future__ import annotations

import copy
import json
import time
from collections.abc import Callable
from dataclasses import dataclass

from podlife.cluster import kubeclient
from podlife.cluster.kind import engine
from podlife.cluster.kind.base_image import CNI_CONFIG
from podlife.core.errors import PodlifeError

CONFIG_PATH = "/etc/cni/net.d/10-podlife-ptp.conflist"


@dataclass(frozen=True)
class KindNode:
    """A node container: its name, its address on kind's network and its pod range."""

    name: str
    address: str
    pod_cidr: str


def cni_config(pod_cidr: str) -> dict:
    """The node image's ptp config, its range the node's own."""
    config = copy.deepcopy(CNI_CONFIG)
    config["plugins"][0]["ipam"]["ranges"] = [[{"subnet": pod_cidr}]]
    return config


def routes_for(node: KindNode, nodes: list[KindNode]) -> list[list[str]]:
    """`ip route replace` commands: every other node's pod range through that node."""
    return [["ip", "route", "replace", other.pod_cidr, "via", other.address]
            for other in nodes if other.name != node.name]


def nodes_with_ranges(core, timeout: float) -> list[KindNode]:
    """Every node, once each has a pod range and an internal address."""
    deadline = time.monotonic() + timeout
    while True:
        found = []
        for node in core.list_node().items:
            address = next((a.address for a in node.status.addresses or []
                            if a.type == "InternalIP"), None)
            if node.spec.pod_cidr and address:
                found.append(KindNode(node.metadata.name, address, node.spec.pod_cidr))
        if found and len(found) == len(core.list_node().items):
            return sorted(found, key=lambda n: n.name)
        if time.monotonic() > deadline:
            raise PodlifeError("the kind nodes got no pod ranges (node.spec.podCIDR) in time",
                               "look at kube-controller-manager's log in the control-plane "
                               "node ('kind export logs')")
        time.sleep(0.5)


def wire(kubeconfig: str, say: Callable[[str], None], timeout: float = 120.0) -> list[KindNode]:
    """Give every node its own range and routes to the others; restart early pods."""
    from kubernetes import client

    core = client.CoreV1Api(kubeclient.new_client(kubeconfig))
    nodes = nodes_with_ranges(core, timeout)
    for node in nodes:
        engine.docker("exec", "-i", node.name, "sh", "-c", f"cat > {CONFIG_PATH}",
                      input=json.dumps(cni_config(node.pod_cidr)))
        for route in routes_for(node, nodes):
            engine.docker("exec", node.name, *route)
    say("pod network: " + ", ".join(f"{n.name} {n.pod_cidr} via {n.address}" for n in nodes))
    # Pods given an address from the image's default range before the config changed.
    for pod in core.list_pod_for_all_namespaces().items:
        if pod.spec.host_network or not pod.status.pod_ip:
            continue
        home = next((n for n in nodes if n.name == pod.spec.node_name), None)
        if home and not _inside(pod.status.pod_ip, home.pod_cidr):
            core.delete_namespaced_pod(pod.metadata.name, pod.metadata.namespace)
    return nodes


def _inside(address: str, cidr: str) -> bool:
    import ipaddress

    return ipaddress.ip_address(address) in ipaddress.ip_network(cidr)
