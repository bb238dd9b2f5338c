"""Results built in a line, for tests of what reads, merges and shows them."""

from __future__ import annotations

from typing import Any

from podlife.results.model import CheckResult, RunResult


def check(
    check_id: str = "test_sidecar_starts_first",
    verdict: str = "pass",
    duration: float = 4.0,
    *,
    area: str = "native_sidecars",
    **kw: Any,
) -> CheckResult:
    return CheckResult(
        nodeid=f"suites/test_{area}.py::{check_id}",
        check_id=check_id,
        area=area,
        title=kw.pop("title", f"Title of {check_id}"),
        verdict=verdict,
        duration_s=duration,
        **kw,
    )


def run(version: str = "v1.30.2", started: str = "2025-03-01T10:00:00Z", **kw: Any) -> RunResult:
    return RunResult(
        run_id=kw.pop("run_id", f"run-{version}-{started}"),
        provider="kind",
        cluster=f"podlife-{version}",
        kubernetes_version=version,
        started_at=started,
        finished_at=kw.pop("finished", started.replace("10:", "11:")),
        host="ci-1",
        checks=kw.pop("checks", [check()]),
        **kw,
    )
