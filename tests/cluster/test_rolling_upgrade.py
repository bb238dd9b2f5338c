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
        figures, where = step["availability"], f"{step['kind']} {step['name']}: {step}"
        assert figures["api_requests"] > 0 and figures["probes"] > 0, where
        assert figures["fewest_ready"] >= figures["budget_min"] == 2, where
    problems = [p for s in steps for p in s["problems"]]
    assert not problems, problems
    assert all(s["evicted"] for s in steps[3:]), "each node step drains its node"
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    text = (tmp_path / "reports" / "runs" / f"upgrade-{old.tag}-{new.tag}.txt").read_text()
    assert "cluster: 3 control-plane instance(s) + 1 worker node(s)" in text
    assert "    control plane ci-roll-cp2: " in text


def test_sigterm_while_the_upgrade_rolls_leaves_nothing_behind(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """SIGTERM to the whole command (as a cancelled CI job sends it) once the control plane
    has moved: it ends as on Ctrl-C, and no state dir, cgroup, process or network device of
    the cluster's two nodes is left."""
    import os
    import signal
    import subprocess
    import sys
    import time

    from podlife.cluster.local.node import CgroupTree, processes_in
    from podlife.core import paths

    _old, new = helpers.need_builds("1.36", "1.37")
    monkeypatch.setenv("PODLIFE_REPORTS", str(tmp_path / "reports"))
    name = "ci-roll-term"
    links = subprocess.run(["ip", "-o", "link"], capture_output=True, text=True).stdout
    proc = subprocess.Popen(
        [sys.executable, "-m", "podlife.cli", "upgrade", "--from", "1.36", "--to", "1.37",
         "--name", name, "--worker-nodes", "1", "--workers", "1", "-k",
         "test_sidecar_starts_before_main_containers"], start_new_session=True,
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    record = paths.cluster_dir(name) / "cluster.json"
    deadline = time.monotonic() + 900
    try:
        while True:  # polling the file podlife writes after each upgrade step
            assert proc.poll() is None, "the upgrade ended before its control plane moved"
            assert time.monotonic() < deadline, "the control plane never moved"
            if record.exists() and json.loads(record.read_text()).get("version") == new.tag:
                break
            time.sleep(0.2)
        os.killpg(proc.pid, signal.SIGTERM)
        _, stderr = proc.communicate(timeout=300)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
        left = [str(p) for p in (paths.cluster_dir(name), *CgroupTree(name).dirs())
                if p.exists()]
        helpers.podlife("cluster", "down", "--name", name)
    assert proc.returncode == 130, stderr[-2000:]
    assert not left, left
    assert not list(processes_in(paths.cluster_dir(name)))
    after = subprocess.run(["ip", "-o", "link"], capture_output=True, text=True).stdout
    assert after.count("\n") == links.count("\n"), "a network device was left"
