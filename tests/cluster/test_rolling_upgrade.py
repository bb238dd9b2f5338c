"""A rolling upgrade on several nodes: three control-plane instances one at a time behind
the balanced address, then each node drained, upgraded and uncordoned in turn, with the
API loop and the probed workload measured around every step."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests import helpers

pytestmark = pytest.mark.cluster


def test_rolling_upgrade_keeps_the_api_and_the_workload_available(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    old, new = helpers.need_builds("1.36", "1.37")
    monkeypatch.setenv("PODLIFE_REPORTS", str(tmp_path / "reports"))
    result = helpers.podlife("upgrade", "--from", "1.36", "--to", "1.37", "--name", "ci-roll",
                             "--control-planes", "3", "--worker-nodes", "1", "--workers", "1",
                             "-k", "test_sidecar_starts_before_main_containers",
                             timeout=1800)
    report = json.loads((tmp_path / "reports" / "runs" /
                         f"upgrade-{old.tag}-{new.tag}.json").read_text())
    assert not report["aborted"], report["aborted"]
    (hop,) = report["hops"]
    steps = hop["steps"]
    assert [(s["kind"], s["name"]) for s in steps] == [
        ("control plane", "ci-roll-node"), ("control plane", "ci-roll-cp2"),
        ("control plane", "ci-roll-cp3"), ("node", "ci-roll-node"),
        ("node", "ci-roll-worker1")]
    # One instance at a time: after the first, only it runs the new API server, and no
    # kubelet moves before every API server has.
    assert steps[0]["apiservers"] == {"ci-roll-node": new.tag, "ci-roll-cp2": old.tag,
                                      "ci-roll-cp3": old.tag}
    assert set(steps[2]["kubelets"].values()) == {old.tag}
    assert steps[3]["kubelets"] == {"ci-roll-node": new.tag, "ci-roll-worker1": old.tag}
    assert set(steps[4]["kubelets"].values()) == {new.tag}
    for step in steps:
        figures = step["availability"]
        assert figures["api_requests"] > 0 and figures["probes"] > 0, step
        assert figures["api_failed"] == 0 and figures["probes_failed"] == 0, step
        assert figures["fewest_ready"] >= figures["budget_min"] == 2, step
        assert not step["problems"], step
    assert all(s["evicted"] for s in steps[3:]), "each node step drains its node"
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    text = (tmp_path / "reports" / "runs" / f"upgrade-{old.tag}-{new.tag}.txt").read_text()
    assert "cluster: 3 control-plane instance(s) + 1 worker node(s)" in text
    assert "    control plane ci-roll-cp2: " in text
