"""Turning pytest's reports into CheckResults: verdicts, reasons, evidence, the run.

Lives in the controller (the only process without xdist). It sees reports, never test
items, so what only the test's process knows (title, pattern, Unsupported or CheckError)
arrives stamped on the reports by podlife.plugin.recording.
"""

from __future__ import annotations

import socket
import time
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path, PurePosixPath
from typing import Any

import pytest

from podlife.core import about
from podlife.core.deviation import Deviation, read_records
from podlife.core.schema import ResultsError, Where
from podlife.core.timeline import Timeline
from podlife.results.model import CheckResult, RunResult
from podlife.results.results_file import write_run

#: Report attributes the plugin stamps in the test's process (xdist serialises them).
TITLE_ATTR = "podlife_title"
PATTERN_ATTR = "podlife_pattern"
UNSUPPORTED_ATTR = "podlife_unsupported"
ERROR_ATTR = "podlife_error"
#: User properties the model's plugin sets on a check: the pods judged, and those not.
JUDGED_PROPERTY = "podlife_judged"
NOT_JUDGED_PROPERTY = "podlife_not_judged"
EXPLORED_PROPERTY = "podlife_explored"
_REASON_LIMIT = 4000


def area_of(nodeid: str) -> str:
    """'suites/test_native_sidecars.py::test_x' -> 'native_sidecars'."""
    stem = PurePosixPath(nodeid.split("::", 1)[0]).stem
    return stem.removeprefix("test_")


def check_id_of(nodeid: str) -> str:
    """The test's name, with its parameters if it is parametrised."""
    return nodeid.rsplit("::", 1)[-1]


def _skip_reason(report: pytest.TestReport) -> str:
    longrepr = report.longrepr
    if isinstance(longrepr, tuple | list) and len(longrepr) == 3:
        text = str(longrepr[2])
    else:
        text = str(longrepr or "")
    return text.removeprefix("Skipped: ").strip()


def _failure_reason(report: pytest.TestReport) -> str:
    crash = getattr(report.longrepr, "reprcrash", None)
    text = getattr(crash, "message", None) or ""
    if not text:
        lines = [line for line in report.longreprtext.splitlines() if line.strip()]
        text = lines[-1] if lines else report.outcome
    return text[:_REASON_LIMIT]


@dataclass
class _Attempt:
    """What the reports of one test have said so far."""

    verdict: str = "pass"
    reason: str = ""
    duration_s: float = 0.0
    title: str = ""
    pattern: str = ""
    user_properties: list[Any] = field(default_factory=list)
    done: bool = False

    def apply(self, report: pytest.TestReport) -> None:
        """Fold one phase's report in: a failure anywhere fails the check."""
        xfail = getattr(report, "wasxfail", None)
        error = getattr(report, ERROR_ATTR, None)
        if report.failed and error is not None and self.verdict != "fail":
            # The check could not reach a verdict; a real failure (e.g. in teardown) wins.
            self.verdict, self.reason = "error", str(error)[:_REASON_LIMIT]
        elif report.failed:
            reason = _failure_reason(report)
            if report.when != "call":
                reason = f"{report.when}: {reason}"
            if self.verdict in ("fail", "error") and self.reason:
                reason = f"{self.reason}\n{reason}"[:_REASON_LIMIT]
            self.verdict, self.reason = "fail", reason
        elif report.skipped and self.verdict not in ("fail", "error"):
            unsupported = getattr(report, UNSUPPORTED_ATTR, None)
            if xfail is not None:
                self.verdict = "skipped"
                self.reason = f"expected failure: {xfail}" if xfail else "expected failure"
            elif unsupported is not None:
                self.verdict, self.reason = "unsupported", str(unsupported)
            else:
                self.verdict, self.reason = "skipped", _skip_reason(report)


@dataclass
class _Evidence:
    timelines: list[Timeline] = field(default_factory=list)
    dumps: list[str] = field(default_factory=list)
    dump_errors: list[str] = field(default_factory=list)
    judged: list[str] = field(default_factory=list)
    not_judged: list[str] = field(default_factory=list)
    explored: int = 0


class Recorder:
    """Collects verdicts during the session and writes the results file at its end."""

    def __init__(self, target: Path) -> None:
        self.target = target
        self.started = datetime.now(UTC)
        self._clock = time.monotonic()
        self.cluster: dict[str, Any] | None = None
        self.attempts: dict[str, _Attempt] = {}
        self.problems: list[str] = []

    def set_cluster(self, info: dict[str, Any]) -> None:
        if self.cluster is None:
            self.cluster = dict(info)
        elif info != self.cluster:
            self.problems.append(
                f"checks ran against two clusters: {self.cluster} and {info}; "
                "the results file names the first"
            )

    @pytest.hookimpl(trylast=True)
    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        nodeid = report.nodeid
        attempt = self.attempts.get(nodeid)
        # A setup report starts a fresh attempt: a rerun of the same test replaces the
        # earlier one. (A report without setup is only seen with odd plugins.)
        if attempt is None or (report.when == "setup" and attempt.done):
            attempt = self.attempts[nodeid] = _Attempt()
        attempt.title = getattr(report, TITLE_ATTR, "") or attempt.title
        attempt.pattern = getattr(report, PATTERN_ATTR, "") or attempt.pattern
        attempt.user_properties = list(report.user_properties)
        if report.when in ("setup", "call"):
            attempt.duration_s += report.duration
        attempt.apply(report)
        if report.when == "teardown":
            attempt.done = True

    def _evidence(self, nodeid: str, props: list[Any]) -> _Evidence:
        found = _Evidence()
        for prop in props:
            if not isinstance(prop, tuple | list) or len(prop) != 2:
                continue
            name, value = prop
            if name == "podlife_timeline":
                try:
                    found.timelines.append(Timeline.from_dict(value, Where("timeline")))
                except ResultsError as exc:
                    self.problems.append(f"{nodeid}: timeline dropped: {exc.cause}")
            elif name == "podlife_dump" and isinstance(value, str) and value:
                if value not in found.dumps:
                    found.dumps.append(value)
            elif name == JUDGED_PROPERTY and isinstance(value, list):
                found.judged = [str(v) for v in value]
            elif name == NOT_JUDGED_PROPERTY and isinstance(value, list):
                found.not_judged = [str(v) for v in value]
            elif name == EXPLORED_PROPERTY and isinstance(value, int):
                found.explored = value
            elif name == "podlife_dump_error" and value:
                found.dump_errors.append(str(value))
                self.problems.append(f"{nodeid}: saving the evidence failed: {value}")
        return found

    def _check(self, nodeid: str, attempt: _Attempt) -> CheckResult:
        evidence = self._evidence(nodeid, attempt.user_properties)
        return CheckResult(
            nodeid=nodeid,
            check_id=check_id_of(nodeid),
            area=area_of(nodeid),
            title=attempt.title,
            verdict=attempt.verdict,
            duration_s=round(attempt.duration_s, 3),
            reason=attempt.reason,
            timelines=evidence.timelines,
            dumps=evidence.dumps,
            pattern=attempt.pattern,
            dump_errors=evidence.dump_errors,
            judged_pods=evidence.judged,
            unjudged_pods=evidence.not_judged,
            explored=evidence.explored,
        )

    def build(self) -> RunResult:
        checks = [self._check(nodeid, attempt) for nodeid, attempt in self.attempts.items()]
        cluster = self.cluster or {}
        if not cluster:
            self.problems.append(
                "no cluster was recorded (record_cluster was never called): "
                "the file cannot be placed in a version matrix"
            )
        finished = datetime.now(UTC)
        return RunResult(
            run_id=f"{self.started:%Y%m%dT%H%M%SZ}-{uuid.uuid4().hex[:6]}",
            provider=cluster.get("provider", ""),
            cluster=cluster.get("name", ""),
            kubernetes_version=cluster.get("version", ""),
            started_at=self.started.isoformat(timespec="seconds"),
            finished_at=finished.isoformat(timespec="seconds"),
            host=socket.gethostname(),
            checks=checks,
            podlife_version=about.podlife_version(),
            duration_s=round(time.monotonic() - self._clock, 3),
            host_deviations=self._deviations(cluster.get("host_deviations")),
            kubelet_version=cluster.get("kubelet_version", ""),
        )

    def _deviations(self, recorded: Any) -> list[Deviation] | None:
        """The cluster's recorded deviations; unreadable ones are reported, kept as unknown."""
        try:
            return read_records(recorded, Where("cluster.json", "host_deviations"))
        except ResultsError as exc:
            self.problems.append(f"host deviations not recorded: {exc.cause}")
            return None

    def pytest_sessionfinish(self, session: pytest.Session) -> None:
        write_run(self.build(), self.target)

    def pytest_terminal_summary(self, terminalreporter: Any) -> None:
        for problem in self.problems:
            terminalreporter.write_line(f"podlife: {problem}", yellow=True)
        terminalreporter.write_line(f"podlife: results written to {self.target}")
