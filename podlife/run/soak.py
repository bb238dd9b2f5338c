"""Flakes, measured: the suite N times on one cluster and on fresh clusters, per-check rates.

A check that fails once in twenty runs fails some user's CI every week. The soak runs the
whole suite repeatedly, on one long-lived cluster (state left behind by earlier runs) and
on clusters booted for one run each (first-pod and cold-cache effects), and counts, per
check, how often it did not pass. Every run is an ordinary run directory, so its evidence
and report are there to read.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from pathlib import Path

from podlife.core import paths, versions
from podlife.results.model import RunResult
from podlife.results.results_file import load_run
from podlife.run.runner import RunOutcome, run_suite

Step = Callable[[str], None]
SOAK_CLUSTER = "soak"
SOAK_KIND_CLUSTER = "podlife-soak"


@dataclass
class CheckRate:
    """How one check fared over the soak's runs."""

    check: str
    runs: int = 0
    not_passed: int = 0
    reasons: list[str] = field(default_factory=list)

    @property
    def rate(self) -> float:
        return self.not_passed / self.runs if self.runs else 0.0


@dataclass
class SoakReport:
    version: str
    runs_same_cluster: int
    runs_fresh_clusters: int
    provider: str = "local"
    seconds: float = 0.0
    run_seconds: list[float] = field(default_factory=list)
    checks: dict[str, CheckRate] = field(default_factory=dict)

    def add(self, run: RunResult) -> None:
        for check in run.checks:
            rate = self.checks.setdefault(check.key, CheckRate(check.key))
            rate.runs += 1
            if check.verdict != "pass":
                rate.not_passed += 1
                rate.reasons.append(f"{check.verdict}: {check.reason.splitlines()[0]}"
                                    if check.reason else check.verdict)

    @property
    def flaky(self) -> list[CheckRate]:
        return sorted((c for c in self.checks.values() if c.not_passed),
                      key=lambda c: (-c.rate, c.check))

    def to_json(self) -> str:
        data = asdict(self)
        data["checks"] = {k: {**asdict(v), "rate": v.rate} for k, v in self.checks.items()}
        return json.dumps(data, indent=2) + "\n"


def soak(version: versions.KubeVersion, *, runs: int, fresh: int, workers: int,
         pytest_args: list[str], step: Step, provider: str = "local",
         ) -> tuple[SoakReport, Path]:
    """`runs` suite runs on one cluster of `provider` (local or kind), then `fresh` runs
    each on its own cluster."""
    report = SoakReport(version.tag, runs, fresh, provider)
    started = time.monotonic()
    chosen = ["--provider", provider]
    if runs:
        with _long_lived(provider, version, step) as name:
            for index in range(1, runs + 1):
                outcome = run_suite([*pytest_args, *chosen, "--reuse-cluster", name],
                                    label=f"soak-{provider}-{version.tag}", workers=workers,
                                    quiet=True)
                _record(report, outcome, f"same cluster {index}/{runs}", step)
    for index in range(1, fresh + 1):
        outcome = run_suite([*pytest_args, *chosen, "--kube-version", version.tag],
                            label=f"soak-fresh-{provider}-{version.tag}", workers=workers,
                            quiet=True)
        _record(report, outcome, f"fresh cluster {index}/{fresh}", step)
    report.seconds = round(time.monotonic() - started, 1)
    out = paths.reports_dir() / "soak.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(report.to_json(), encoding="utf-8")
    return report, out


@contextmanager
def _long_lived(provider: str, version: versions.KubeVersion, step: Step) -> Iterator[str]:
    """Boot the cluster the same-cluster runs share, yield its name, and remove it."""
    if provider == "kind":
        from podlife.cluster.kind import cluster as kind_cluster

        step(f"booting kind cluster '{SOAK_KIND_CLUSTER}' ({version})")
        kind_cluster.up(SOAK_KIND_CLUSTER, version, step)
        try:
            yield SOAK_KIND_CLUSTER
        finally:
            kind_cluster.delete(SOAK_KIND_CLUSTER)
        return
    from podlife.cluster.local.cluster import LocalCluster

    cluster = LocalCluster(SOAK_CLUSTER)
    step(f"booting cluster '{SOAK_CLUSTER}' ({version})")
    cluster.up(version)
    try:
        yield SOAK_CLUSTER
    finally:
        cluster.down()


def _record(report: SoakReport, outcome: RunOutcome, what: str, step: Step) -> None:
    report.run_seconds.append(round(outcome.seconds, 1))
    if not outcome.results.exists():
        step(f"{what}: the run wrote no results (exit {outcome.exit_code}); see "
             f"{outcome.results.parent}")
        broken = report.checks.setdefault("(the run itself)", CheckRate("(the run itself)"))
        broken.runs += 1
        broken.not_passed += 1
        broken.reasons.append(f"no results (exit {outcome.exit_code})")
        return
    run = load_run(outcome.results)
    report.add(run)
    bad = [c.key for c in run.checks if c.verdict != "pass"]
    step(f"{what}: {len(run.checks) - len(bad)}/{len(run.checks)} pass in "
         f"{outcome.seconds:.0f}s" + (f"; not passed: {', '.join(bad)}" if bad else ""))
