"""The kind pod network podlife wires for worker nodes: per-node ranges and routes."""

from __future__ import annotations

from podlife.cluster.kind import config, network
from podlife.cluster.kind.base_image import CNI_CONFIG
from podlife.core.versions import KubeVersion


def test_each_node_gets_its_own_range_and_the_image_config_stays_as_it_was() -> None:
    wired = network.cni_config("10.244.2.0/24")
    assert wired["plugins"][0]["ipam"]["ranges"] == [[{"subnet": "10.244.2.0/24"}]]
    assert CNI_CONFIG["plugins"][0]["ipam"]["ranges"] == [[{"subnet": "10.244.0.0/24"}]]


def test_routes_lead_to_every_other_node_through_its_address() -> None:
    nodes = [network.KindNode("cp", "172.18.0.2", "10.244.0.0/24"),
             network.KindNode("w1", "172.18.0.3", "10.244.1.0/24"),
             network.KindNode("w2", "172.18.0.4", "10.244.2.0/24")]
    assert network.routes_for(nodes[1], nodes) == [
        ["ip", "route", "replace", "10.244.0.0/24", "via", "172.18.0.2"],
        ["ip", "route", "replace", "10.244.2.0/24", "via", "172.18.0.4"]]


def test_the_kind_config_lists_a_worker_node_per_worker() -> None:
    text = config.kind_config("img:1", KubeVersion.parse("v1.37.2"), workers=2)
    assert text.count("- role: worker\n  image: img:1\n") == 2
    assert text.count("- role: control-plane") == 1
    assert "role: worker" not in config.kind_config("img:1", KubeVersion.parse("v1.37.2"))
