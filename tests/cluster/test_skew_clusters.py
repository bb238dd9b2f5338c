"""Version skew on real local clusters: a mixed cluster, a chained upgrade through the
native-sidecar hazard, and the existing-cluster flow (before, during, after an upgrade).

They need several Kubernetes releases built (`podlife build --version 1.28` etc.); a test
whose releases are not in the build cache is skipped, naming the command that builds them.
The checks run are slices (`-k`) of the suite, so each test takes minutes, not an hour.
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from podlife.cluster.local.cluster import LocalCluster
from tests import helpers

pytestmark = pytest.mark.cluster

#: Native-sidecar checks: those the skew window of 1.28 -> 1.29 breaks.
SIDECAR_SLICE = "test_native_sidecars"
#: A few checks, one of them with a native sidecar (the hazard of 1.28 -> 1.29).
SMALL_SLICE = "test_sidecar_starts_before_main_containers or test_init_ordering"


def podlife(*args: str) -> subprocess.CompletedProcess[str]:
    """A whole upgrade chain can take most of an hour."""
    return helpers.podlife(*args, timeout=3600)


@pytest.fixture
def reports(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("PODLIFE_REPORTS", str(tmp_path / "reports"))
    return tmp_path / "reports"


def test_mixed_cluster_boots_and_runs(reports: Path) -> None:
    """A 1.33 control plane with a 1.30 kubelet and kube-proxy: status, the node and the
    results file say so; the native-sidecar checks pass (1.30 kubelets run them)."""
    api, kubelet = helpers.need_builds("1.33", "1.30")
    name = "sk-mixed"
    refused = podlife("cluster", "up", "--name", name, "--version", "1.33",
                      "--kubelet-version", "1.29")
    assert refused.returncode == 2 and "4 minors older" in refused.stderr
    assert not LocalCluster(name).state.exists()
    try:
        up = podlife("cluster", "up", "--name", name, "--version", "1.33",
                     "--kubelet-version", "1.30", "--timeout", "600")
        assert up.returncode == 0, up.stderr[-2000:]
        status = json.loads(podlife("cluster", "status", "--output", "json").stdout)
        row = next(r for r in status if r["name"] == name)
        assert (row["version"], row["kubelet_version"]) == (api.tag, kubelet.tag)
        results = reports / "mixed.json"
        run = podlife("run", "--reuse-cluster", name, "--results", str(results), "--no-render",
                      "--quiet", "-k", SIDECAR_SLICE)
        data = json.loads(results.read_text())
        assert (data["kubernetes_version"], data["kubelet_version"]) == (api.tag, kubelet.tag)
        verdicts = {c["check_id"]: c["verdict"] for c in data["checks"]}
        assert len(verdicts) == 8 and set(verdicts.values()) == {"pass"}, verdicts
        assert run.returncode == 0
    finally:
        LocalCluster(name).down()


def test_chain_shows_the_skew_window_hazard(reports: Path) -> None:
    """1.28 -> 1.29 -> 1.30 in place: in the 1.29/kubelet-1.28 window the native-sidecar
    checks fail within seconds naming the old kubelet; after the node step they pass; the
    workloads come through every step."""
    helpers.need_builds("1.28", "1.29", "1.30")
    result = podlife("upgrade", "--from", "1.28", "--to", "1.30", "--name", "sk-chain",
                     "-k", SIDECAR_SLICE, "--workers", "2")
    assert result.returncode == 1, result.stderr[-3000:]  # the hazard makes it fail
    report = json.loads((reports / "runs" / "upgrade-v1.28.15-v1.30.14.json").read_text())
    assert not report["aborted"], report["aborted"]
    first, second = report["hops"]
    assert first["skew"]["column"] == "v1.29.15/kubelet-v1.28.15"
    assert second["skew"]["column"] == "v1.30.14/kubelet-v1.29.15"
    assert len(first["hazards"]) >= 7, first["hazards"]
    for hazard in first["hazards"]:
        assert "v1.28.15" in hazard["reason"] and "older than the feature" in hazard["reason"]
    skew_run = json.loads(Path(first["skew"]["results"]).read_text())
    failed = [c for c in skew_run["checks"] if c["verdict"] == "fail"]
    assert failed and max(c["duration_s"] for c in failed) < 45, [
        (c["check_id"], c["duration_s"]) for c in failed]
    assert first["after"]["counts"] == {"pass": 8}
    assert not second["hazards"] and second["after"]["counts"] == {"pass": 8}
    assert report["survived"], [h["skew_survival"]["problems"] + h["node_survival"]["problems"]
                                for h in report["hops"]]
    html = (reports / "matrix.html").read_text()
    assert 'id="hazards"' in html and "v1.29.15/kubelet-v1.28.15" in html
    assert (reports / "runs" / "upgrade-v1.28.15-v1.30.14.html").exists()


def test_kubelet_131_restarts_running_containers_and_the_chain_says_so(reports: Path) -> None:
    """1.30 -> 1.31 with --no-drain: the 1.31 kubelet hashes container specs differently, so
    it restarts every running container it finds (upstream: drain a node before a minor
    kubelet upgrade). The chain reports each restart as a survival problem of the node step,
    with the kubelet's Killing event as the cause; the control-plane step leaves them
    alone."""
    helpers.need_builds("1.30", "1.31")
    result = podlife("upgrade", "--from", "1.30", "--to", "1.31", "--name", "sk-hash",
                     "--no-drain", "-k", "test_sidecar_starts_before_main_containers",
                     "--workers", "1")
    assert result.returncode == 1, result.stderr[-3000:]
    report = json.loads((reports / "runs" / "upgrade-v1.30.14-v1.31.0.json").read_text())
    assert not report["aborted"], report["aborted"]
    (hop,) = report["hops"]
    assert hop["skew_survival"]["problems"] == [], hop["skew_survival"]
    problems = hop["node_survival"]["problems"]
    for container in ("webapp", "app-with-native-sidecar", "postgres"):
        assert any(p.startswith(container) and "restarted" in p for p in problems), problems
    assert any("definition changed" in c for c in hop["node_survival"]["causes"]), hop
    assert not report["survived"] and not hop["node_survival"]["evicted"]


def test_drained_node_step_brings_every_workload_back(reports: Path) -> None:
    """1.30 -> 1.31 drained first (the default, upstream's procedure): every workload pod
    is evicted, comes back once the node is uncordoned, and none is restarted by the new
    kubelet; the in-flight Job, its pod evicted, completes with a new one."""
    helpers.need_builds("1.30", "1.31")
    result = podlife("upgrade", "--from", "1.30", "--to", "1.31", "--name", "sk-drain",
                     "-k", "test_sidecar_starts_before_main_containers", "--workers", "1")
    report = json.loads((reports / "runs" / "upgrade-v1.30.14-v1.31.0.json").read_text())
    assert not report["aborted"], report["aborted"]
    (hop,) = report["hops"]
    assert report["drain"] and hop["drain_s"] > 0
    evicted = hop["node_survival"]["evicted"]
    for pod in ("webapp-", "postgres-", "app-with-native-sidecar-", "in-flight-1-"):
        assert any(e.startswith(f"podlife-upgrade/{pod}") for e in evicted), evicted
    assert report["survived"], hop["node_survival"]
    assert not any("will be restarted" in c for c in hop["node_survival"]["causes"])
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]


def test_existing_cluster_flow_before_during_after(reports: Path, tmp_path: Path) -> None:
    """The README's flow for a cluster podlife does not manage, on a local cluster driven
    only through --provider kubeconfig: a run before the upgrade, after the control plane,
    after the node; then compare over the three, and their report's hazard."""
    old, new = helpers.need_builds("1.28", "1.29")
    cluster = LocalCluster("sk-kc")
    cluster.down()
    info = cluster.up(old, timeout=600)
    files, codes = [], []
    try:
        for stage in ("before", "during", "after"):
            if stage == "during":
                cluster.upgrade_control_plane(new, timeout=600)
            elif stage == "after":
                cluster.upgrade_node(new, timeout=600)
            files.append(str(tmp_path / f"{stage}.json"))
            run = podlife("run", "--provider", "kubeconfig", "--kubeconfig",
                          str(info.kubeconfig), "--images", "local", "--results", files[-1],
                          "--no-render", "--quiet", "-k", SMALL_SLICE)
            codes.append(run.returncode)
    finally:
        cluster.down()
    runs = [json.loads(Path(f).read_text()) for f in files]
    assert [(d["kubernetes_version"], d["kubelet_version"]) for d in runs] == [
        (old.tag, old.tag), (new.tag, old.tag), (new.tag, new.tag)]
    sidecar = [next(c for c in d["checks"]
                    if c["check_id"] == "test_sidecar_starts_before_main_containers")
               for d in runs]
    # 1.28: the API server drops the field; 1.29 with the 1.28 kubelet: refused; 1.29: works.
    assert [c["verdict"] for c in sidecar] == ["unsupported", "fail", "pass"]
    assert "older than the feature" in sidecar[1]["reason"]
    assert codes == [0, 1, 0]
    assert all(c["verdict"] == "pass" for d in runs for c in d["checks"] if c is not None
               and c["check_id"] != "test_sidecar_starts_before_main_containers")
    compared = podlife("compare", *files, "--output", "json")
    assert compared.returncode == 0, compared.stdout[-3000:]
    comparisons = json.loads(compared.stdout)["comparisons"]
    assert [c["regressions"] for c in comparisons] == [0, 0, 0]
    assert [len(c["verdict_changes"]) for c in comparisons] == [1, 1, 1]
    rendered = podlife("report", *files, "--out", str(tmp_path / "out"))
    assert rendered.returncode == 0, rendered.stderr
    html = (tmp_path / "out" / "matrix.html").read_text()
    assert 'id="hazards"' in html and f"{new.tag}/kubelet-{old.tag}" in html
