"""Feature gates per component of a local cluster: merged, recorded, locked gates refused."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from podlife.cluster.local.gates import describe, merged, parse_component_gates, refuse_locked
from podlife.cluster.local.state import ClusterInfo
from podlife.core.errors import PodlifeError
from podlife.core.versions import KubeVersion


def test_component_gates_go_over_the_common_ones() -> None:
    per = parse_component_gates({"kubelet": "SidecarContainers=false", "apiserver": None,
                                 "controller-manager": "A=true"})
    assert per == {"kubelet": {"SidecarContainers": False}, "kube-controller-manager": {"A": True}}
    common = {"SidecarContainers": True, "B": False}
    assert merged(common, per, "kubelet") == {"SidecarContainers": False, "B": False}
    assert merged(common, per, "kube-apiserver") == common


def test_bad_component_gate_is_a_podlife_error() -> None:
    with pytest.raises(PodlifeError, match=r"NAME=true\|false"):
        parse_component_gates({"kubelet": "SidecarContainers"})


def test_locked_gate_refused_before_boot() -> None:
    v133, v131 = KubeVersion(1, 33, 0), KubeVersion(1, 31, 4)
    refuse_locked(v131, {}, {"kubelet": {"SidecarContainers": False}})
    refuse_locked(v133, {"SidecarContainers": True}, {})
    with pytest.raises(PodlifeError) as info:
        refuse_locked(v133, {}, {"kubelet": {"SidecarContainers": False}})
    text = str(info.value)
    assert "SidecarContainers=false (kubelet) cannot be set on 1.33.0" in text.replace("v", "")
    assert "1.32" in text and "\n" not in text


def test_cluster_json_records_them_and_old_files_load(tmp_path: Path) -> None:
    info = ClusterInfo(name="c", version="v1.31.4", api_port=1, state_dir=str(tmp_path),
                       node_name="c-node", feature_gates={"A": True},
                       component_gates={"kubelet": {"SidecarContainers": False}})
    info.save()
    data = json.loads((tmp_path / "cluster.json").read_text())
    assert data["component_gates"] == {"kubelet": {"SidecarContainers": False}}
    assert ClusterInfo(**data).gates_for("kubelet") == {"A": True, "SidecarContainers": False}
    del data["component_gates"]  # a cluster.json written before per-component gates
    assert ClusterInfo(**data).gates_for("kubelet") == {"A": True}


def test_status_describes_them() -> None:
    assert describe({}, {}) == "-"
    assert describe({"A": True}, {"kubelet": {"B": False}}) == "all: A=true; kubelet: B=false"
