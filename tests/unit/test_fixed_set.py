"""The suite's fixed generated pods: chosen to cover the grammar, cached per grammar."""

from __future__ import annotations

from pathlib import Path

import pytest

from podlife.model import coverage
from podlife.model.generated import Behaviour, GenContainer, GenPod


def test_the_fixed_set_covers_every_tagged_behaviour(tmp_path: Path,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    """Drawn at random, 40 pods had no failing init container under Never left to settle;
    chosen by coverage, every tag the model gives has its pods, twice where possible. The
    second call reads the cache and gives the same pods."""
    from podlife.check.fixed_set import fixed_examples
    from podlife.model.strategies import fixed_examples as drawn

    monkeypatch.setenv("PODLIFE_CACHE", str(tmp_path))
    pods = fixed_examples(40)
    assert len(pods) == len(set(pods)) == 40
    assert pods == fixed_examples(40) == drawn(40)
    assert list(tmp_path.glob("generated/fixed-*.json"))
    covered = {tag for pod in pods for tag in coverage.tags(pod)}
    for tag in ("init-fails:Never", "stop:hooked-sidecar-and-app",
                "crashing-sidecar-in-a-staying-pod:Never:exits-0",
                "crashing-sidecar-in-a-staying-pod:Never:exits-non-0", "unschedulable-by-overhead",
                "unschedulable-by-init-after-sidecars",
                "succeeded-with-a-sidecar-stopping-non-0", "failed-although-one-exited-0",
                "job:Failed:PodFailurePolicy:Never", "job-pod-replaced",
                "job:Failed:BackoffLimitExceeded:OnFailure", "job-with-sidecars:Complete",
                "readiness-never-passes", "readiness-passes-late", "stop:sidecars-in-reverse",
                "liveness-passes", "liveness-fails:sidecar", "liveness-fails:app",
                "app-fails-beside-a-server:Never", "own-policy:stops", "restart-rule:decides"):
        assert tag in covered


def test_covering_takes_rare_tags_first() -> None:
    def pod(name: str, policy: str, code: int) -> GenPod:
        return GenPod((GenContainer(name, "app", Behaviour(code, 0.0)),), policy, 1)

    common = [pod(f"a{i}", "Always", 0) for i in range(5)]
    rare = pod("b", "Never", 1)
    chosen = coverage.covering([*common, rare], 2)
    assert rare in chosen and len(chosen) == 2
