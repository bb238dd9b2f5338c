"""Pure logic of podlife's framework pieces: versions, images, instrumentation, gates, PKI."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from podlife.cluster.local.cluster import parse_gates, validate_name
from podlife.cluster.local.components import Layout, kubelet_config
from podlife.cluster.local.node import Network
from podlife.core import versions
from podlife.core.errors import PodlifeError


def test_feature_gates_parse_and_reject() -> None:
    assert parse_gates("SidecarContainers=false,Foo=true") == {"SidecarContainers": False,
                                                               "Foo": True}
    with pytest.raises(PodlifeError, match="NAME=true"):
        parse_gates("SidecarContainers")


def test_cluster_names_are_checked() -> None:
    validate_name("ok-1")
    for bad in ("", "UPPER", "-lead", "a" * 31, "sp ace"):
        with pytest.raises(PodlifeError):
            validate_name(bad)


def test_kubelet_gets_fail_cgroup_v1_false_only_where_it_exists(tmp_path: Path) -> None:
    layout = Layout(tmp_path)
    new = yaml.safe_load(kubelet_config(layout, Network(), versions.resolve("1.37"), "/x",
                                        True, {}))
    old = yaml.safe_load(kubelet_config(layout, Network(), versions.resolve("1.28"), "/x",
                                        True, {}))
    assert new["failCgroupV1"] is False
    assert "failCgroupV1" not in old
    assert new["authentication"]["anonymous"]["enabled"] is False
    assert new["authorization"]["mode"] == "Webhook"
