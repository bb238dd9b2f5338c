"""The soak's arithmetic: per-check failure rates over runs, flaky checks worst first."""

from __future__ import annotations

import json

from podlife.results.model import CheckResult, RunResult
from podlife.run.soak import SoakReport


def run(**verdicts: str) -> RunResult:
    checks = [CheckResult(nodeid=f"suites/test_a.py::{name}", check_id=name, area="a",
                          title=name, verdict=verdict, duration_s=1.0,
                          reason="AssertionError: late\nmore" if verdict != "pass" else "")
              for name, verdict in verdicts.items()]
    return RunResult("r", "local", "c", "v1.37.2", "", "", "h", checks=checks)


def test_rates_count_every_verdict_but_pass_and_sort_worst_first() -> None:
    report = SoakReport("v1.37.2", runs_same_cluster=4, runs_fresh_clusters=0)
    report.add(run(steady="pass", once="fail", twice="error"))
    report.add(run(steady="pass", once="pass", twice="unsupported"))
    report.add(run(steady="pass", once="pass", twice="pass"))
    report.add(run(steady="pass", once="pass", twice="pass"))
    assert [(r.check, r.not_passed, r.runs) for r in report.flaky] == [
        ("a/twice", 2, 4), ("a/once", 1, 4)]
    assert report.flaky[1].rate == 0.25
    assert report.flaky[1].reasons == ["fail: AssertionError: late"]
    assert report.checks["a/steady"].rate == 0.0
    data = json.loads(report.to_json())
    assert data["checks"]["a/twice"]["rate"] == 0.5
