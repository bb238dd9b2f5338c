"""The skew policy (kubelet vs API server, one control-plane minor at a time) and the
column names of mixed clusters: pure logic, no cluster."""

from __future__ import annotations

import json
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from podlife.cluster.local.gates import refuse_locked
from podlife.cluster.local.state import ClusterInfo
from podlife.core import skew
from podlife.core.errors import PodlifeError
from podlife.core.versions import KubeVersion


def v(text: str) -> KubeVersion:
    major, minor, *patch = text.split(".")
    return KubeVersion(int(major), int(minor), int(patch[0]) if patch else 0)


@pytest.mark.parametrize(("api", "kubelet", "ok"), [
    ("1.33", "1.33", True),
    ("1.33", "1.30", True),    # three older: allowed from API server 1.28 on
    ("1.33", "1.29", False),   # four older
    ("1.28", "1.25", True),
    ("1.27", "1.25", True),    # two older, before 1.28
    ("1.27", "1.24", False),   # three older, before 1.28
    ("1.30", "1.31", False),   # newer than the API server: never
    ("1.30.2", "1.30.9", True),  # patches do not count
])
def test_kubelet_skew(api: str, kubelet: str, ok: bool) -> None:
    assert (skew.skew_problem(v(api), v(kubelet)) is None) is ok
    if ok:
        skew.check_kubelet(v(api), v(kubelet))
        return
    with pytest.raises(PodlifeError) as info:
        skew.check_kubelet(v(api), v(kubelet))
    text = str(info.value)
    assert "\n" not in text and "kubelet" in text
    assert ("newer" in text) if v(kubelet).minor > v(api).minor else ("at most" in text)


def test_newer_kubelet_names_the_rule() -> None:
    with pytest.raises(PodlifeError, match="may never be newer than the API server"):
        skew.check_kubelet(v("1.30"), v("1.31"))
    with pytest.raises(PodlifeError, match=r"at most 2 \(before API server 1.28\)"):
        skew.check_kubelet(v("1.27"), v("1.24"))


def test_hop_one_minor_at_a_time() -> None:
    skew.check_hop(v("1.28.15"), v("1.29.15"), v("1.28.15"))
    with pytest.raises(PodlifeError, match=r"skips 2 minors.*one minor at a time"):
        skew.check_hop(v("1.30.14"), v("1.33.13"), v("1.30.14"))
    with pytest.raises(PodlifeError, match="--skip-minors"):
        skew.check_hop(v("1.30.14"), v("1.32.2"), v("1.30.14"))
    skew.check_hop(v("1.30.14"), v("1.33.13"), v("1.30.14"), skip_minors=True)
    # Skipping minors never lets the kubelet fall outside its skew.
    with pytest.raises(PodlifeError, match="4 minors older"):
        skew.check_hop(v("1.29.15"), v("1.33.13"), v("1.29.15"), skip_minors=True)
    with pytest.raises(PodlifeError, match="not newer"):
        skew.check_hop(v("1.30.14"), v("1.30.14"), v("1.30.14"))


def test_hops_are_the_pinned_release_of_each_minor() -> None:
    assert [h.tag for h in skew.hops(v("1.28.15"), v("1.30.14"))] == ["v1.29.15", "v1.30.14"]
    assert [h.tag for h in skew.hops(v("1.36.5"), v("1.37.2"))] == ["v1.37.2"]
    assert [h.tag for h in skew.hops(v("1.28.15"), v("1.37.2"))] == [
        f"v1.{m}" for m in ("29.15", "30.14", "31.0", "32.2", "33.13", "34.4", "35.8",
                            "36.5", "37.2")]
    assert [h.tag for h in skew.hops(v("1.30.14"), v("1.33.13"), skip_minors=True)] == [
        "v1.33.13"]
    with pytest.raises(PodlifeError, match="not older"):
        skew.hops(v("1.30.14"), v("1.29.15"))


def test_columns() -> None:
    assert skew.column("v1.33.13", "v1.33.13") == "v1.33.13"
    assert skew.column("1.33.13", "") == "v1.33.13"
    assert skew.column("v1.29.15", "v1.28.15") == "v1.29.15/kubelet-v1.28.15"
    assert skew.split_column("1.33/kubelet-1.30") == ("1.33", "1.30")
    assert skew.split_column("1.33") == ("1.33", None)
    assert skew.is_skew_column("v1.29.15/kubelet-v1.28.15")
    ordered = ["v1.30.14", "v1.29.15", "v1.29.15/kubelet-v1.28.15", "v1.28.15",
               "v1.30.14/kubelet-v1.28.15", "v1.30.14/kubelet-v1.29.15"]
    assert sorted(ordered, key=skew.column_sort_key) == [
        "v1.28.15", "v1.29.15/kubelet-v1.28.15", "v1.29.15", "v1.30.14/kubelet-v1.28.15",
        "v1.30.14/kubelet-v1.29.15", "v1.30.14"]


def test_locked_gate_judged_by_each_component_release() -> None:
    """A 1.30 kubelet under a 1.33 API server may have SidecarContainers off; the API
    server may not."""
    refuse_locked(v("1.33.13"), {}, {"kubelet": {"SidecarContainers": False}}, v("1.30.14"))
    with pytest.raises(PodlifeError, match=r"\(kubelet\) cannot be set on v1.33.13"):
        refuse_locked(v("1.33.13"), {}, {"kubelet": {"SidecarContainers": False}})
    with pytest.raises(PodlifeError, match=r"\(kube-apiserver\)"):
        refuse_locked(v("1.33.13"), {"SidecarContainers": False}, {}, v("1.30.14"))


def test_cluster_json_kubelet_version_and_old_files(tmp_path: Path) -> None:
    info = ClusterInfo(name="c", version="v1.33.13", api_port=1, state_dir=str(tmp_path),
                       node_name="c-node", kubelet_version="v1.30.14")
    info.save()
    data = json.loads((tmp_path / "cluster.json").read_text())
    assert ClusterInfo(**data).node_version == "v1.30.14"
    del data["kubelet_version"]  # a cluster.json written before mixed clusters
    assert ClusterInfo(**data).node_version == "v1.33.13"


@pytest.fixture
def short_tmp() -> Iterator[Path]:
    """A state root short enough for unix socket paths, whatever pytest's tmp counter."""
    root = Path(tempfile.mkdtemp(prefix="pl-sk-"))
    yield root
    shutil.rmtree(root, ignore_errors=True)


def test_mixed_up_refused_before_anything_starts(short_tmp: Path,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    """Out of skew: one line, and no state dir, lock or cgroup was made."""
    from podlife.cluster.local.cluster import LocalCluster

    monkeypatch.setenv("PODLIFE_STATE", str(short_tmp))
    with pytest.raises(PodlifeError, match="4 minors older"):
        LocalCluster("sk-unit").up(v("1.33.13"), kubelet_version=v("1.29.15"))
    with pytest.raises(PodlifeError, match="newer than kube-apiserver"):
        LocalCluster("sk-unit").up(v("1.30.14"), kubelet_version=v("1.33.13"))
    assert not any(short_tmp.rglob("*"))


def test_cluster_upgrade_refuses_skipping_minors(short_tmp: Path,
                                                 monkeypatch: pytest.MonkeyPatch,
                                                 capsys: pytest.CaptureFixture[str]) -> None:
    """`podlife cluster upgrade` of a 1.30 cluster straight to 1.33: one line, exit 2,
    before any component is stopped (the record is unchanged)."""
    from podlife.cli import main

    monkeypatch.setenv("PODLIFE_STATE", str(short_tmp))
    state = short_tmp / "clusters" / "sk-fake"
    state.mkdir(parents=True)
    ClusterInfo(name="sk-fake", version="v1.30.14", api_port=1, state_dir=str(state),
                node_name="sk-fake-node", booted_at=1.0).save()
    before = (state / "cluster.json").read_text()
    assert main(["cluster", "upgrade", "--name", "sk-fake", "--version", "1.33"]) == 2
    err = capsys.readouterr().err
    assert "skips 2 minors" in err and "--skip-minors" in err
    assert main(["cluster", "upgrade", "--name", "sk-fake", "--version", "1.33",
                 "--part", "node"]) == 2
    assert "newer than kube-apiserver" in capsys.readouterr().err
    assert (state / "cluster.json").read_text() == before


def test_matrix_target_runs_a_mixed_cluster() -> None:
    """`podlife matrix --versions 1.33/kubelet-1.30`: one run with both options."""
    from podlife.run import runner

    target = skew.parse_target("1.33/kubelet-1.30")
    assert target.label == "v1.33.13-kubelet-v1.30.14"
    cmd = runner.matrix_run_command(target, Path("r.json"), workers=1, extra=[])
    assert cmd[cmd.index("--kube-version") + 1] == "v1.33.13"
    assert cmd[cmd.index("--kubelet-version") + 1] == "v1.30.14"
    plain = runner.matrix_run_command(skew.parse_target("1.33"), Path("r.json"), workers=1,
                                      extra=[])
    assert "--kubelet-version" not in plain
    with pytest.raises(PodlifeError, match="4 minors older"):
        skew.parse_target("1.33/kubelet-1.29")
