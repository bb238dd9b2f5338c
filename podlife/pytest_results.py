"""Pytest plugin that turns a session into a podlife results file (`--podlife-results PATH`).

Verdicts are collected where every report ends up: in the controller under pytest-xdist,
in the only process otherwise. What only a worker knows (the test's docstring, the
cluster the fixture reached) is carried to the controller on the reports and in
`workeroutput`, since those are the channels xdist serialises.
"""

from __future__ import annotations

import inspect
import socket
import uuid
from collections.abc import Generator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path, PurePosixPath
from typing import Any

import pytest

from podlife.results import CheckResult, ResultsError, RunResult, validate_timeline

_STASH_RECORDER = pytest.StashKey["_Recorder"]()
_WORKER_CLUSTER = "podlife_cluster"
_TITLE_ATTR = "podlife_title"
_UNSUPPORTED = "unsupported:"
_REASON_LIMIT = 4000


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("podlife")
    group.addoption(
        "--podlife-results",
        dest="podlife_results",
        metavar="PATH",
        default=None,
        help="write the verdict of every check, with its evidence, to this JSON file",
    )


def _is_worker(config: pytest.Config) -> bool:
    return hasattr(config, "workerinput")


def pytest_configure(config: pytest.Config) -> None:
    path = config.getoption("podlife_results", None)
    if not path or _is_worker(config):
        return
    target = Path(config.invocation_params.dir, path)
    recorder = _Recorder(target)
    config.stash[_STASH_RECORDER] = recorder
    config.pluginmanager.register(recorder, "podlife-results-recorder")


def record_cluster(config: pytest.Config, provider: str, version: str, name: str) -> None:
    """Called by the cluster fixture once it knows which cluster the checks run against.

    On an xdist worker the value travels to the controller in `workeroutput`.
    """
    info = {"provider": provider, "version": version, "name": name}
    if _is_worker(config):
        config.workeroutput[_WORKER_CLUSTER] = info  # type: ignore[attr-defined]
        return
    recorder = config.stash.get(_STASH_RECORDER, None)
    if recorder is not None:
        recorder.set_cluster(info)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo[None]
) -> Generator[None, pytest.TestReport, pytest.TestReport]:
    """Stamp the docstring title on the report: the controller has no test objects."""
    report = yield
    if item.config.getoption("podlife_results", None):
        setattr(report, _TITLE_ATTR, _docstring_title(item))
    return report


@pytest.hookimpl(optionalhook=True)
def pytest_testnodedown(node: Any, error: Any) -> None:
    """xdist hook on the controller: pick up the cluster a worker's fixture recorded."""
    info = getattr(node, "workeroutput", {}).get(_WORKER_CLUSTER)
    recorder = node.config.stash.get(_STASH_RECORDER, None)
    if info and recorder is not None:
        recorder.set_cluster(info)


def _docstring_title(item: pytest.Item) -> str:
    doc = inspect.getdoc(getattr(item, "obj", None)) if hasattr(item, "obj") else None
    if not doc:
        return ""
    return doc.strip().splitlines()[0].strip()


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
    user_properties: list[Any] = field(default_factory=list)
    done: bool = False


class _Recorder:
    """Lives in the controller only; collects verdicts and writes the file at the end."""

    def __init__(self, target: Path) -> None:
        self.target = target
        self.started = datetime.now(UTC)
        self.cluster: dict[str, str] | None = None
        self.attempts: dict[str, _Attempt] = {}
        self.problems: list[str] = []

    def set_cluster(self, info: dict[str, str]) -> None:
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
        if report.when == "setup" and (attempt is None or attempt.done):
            # A fresh attempt; a rerun of the same test replaces the earlier one.
            attempt = self.attempts[nodeid] = _Attempt()
        if attempt is None:  # a report without setup: only seen with odd plugins
            attempt = self.attempts[nodeid] = _Attempt()
        attempt.title = getattr(report, _TITLE_ATTR, "") or attempt.title
        attempt.user_properties = list(report.user_properties)
        if report.when in ("setup", "call"):
            attempt.duration_s += report.duration
        self._apply(attempt, report)
        if report.when == "teardown":
            attempt.done = True

    def _apply(self, attempt: _Attempt, report: pytest.TestReport) -> None:
        when = report.when
        xfail = getattr(report, "wasxfail", None)
        if report.failed:
            reason = _failure_reason(report)
            if when != "call":
                reason = f"{when}: {reason}"
            if attempt.verdict == "fail" and attempt.reason:
                reason = f"{attempt.reason}\n{reason}"[:_REASON_LIMIT]
            attempt.verdict, attempt.reason = "fail", reason
        elif report.skipped and attempt.verdict != "fail":
            if xfail is not None:
                attempt.verdict = "skipped"
                attempt.reason = f"expected failure: {xfail}" if xfail else "expected failure"
                return
            reason = _skip_reason(report)
            if reason.lower().startswith(_UNSUPPORTED):
                attempt.verdict = "unsupported"
                attempt.reason = reason[len(_UNSUPPORTED) :].strip()
            else:
                attempt.verdict, attempt.reason = "skipped", reason

    def _evidence(self, nodeid: str, props: list[Any]) -> tuple[list[dict], list[str]]:
        timelines: list[dict] = []
        dumps: list[str] = []
        for prop in props:
            if not isinstance(prop, tuple | list) or len(prop) != 2:
                continue
            name, value = prop
            if name == "podlife_timeline":
                try:
                    timelines.append(validate_timeline(value))
                except ResultsError as exc:
                    self.problems.append(f"{nodeid}: timeline dropped: {exc.cause}")
            elif name == "podlife_dump" and isinstance(value, str) and value and value not in dumps:
                dumps.append(value)
        return timelines, dumps

    def build(self) -> RunResult:
        checks = []
        for nodeid, attempt in self.attempts.items():
            timelines, dumps = self._evidence(nodeid, attempt.user_properties)
            checks.append(
                CheckResult(
                    nodeid=nodeid,
                    check_id=check_id_of(nodeid),
                    area=area_of(nodeid),
                    title=attempt.title,
                    verdict=attempt.verdict,
                    duration_s=round(attempt.duration_s, 3),
                    reason=attempt.reason,
                    timelines=timelines,
                    dumps=dumps,
                )
            )
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
        )

    def pytest_sessionfinish(self, session: pytest.Session) -> None:
        self.build().write(self.target)

    def pytest_terminal_summary(self, terminalreporter: Any) -> None:
        for problem in self.problems:
            terminalreporter.write_line(f"podlife: {problem}", yellow=True)
        terminalreporter.write_line(f"podlife: results written to {self.target}")
