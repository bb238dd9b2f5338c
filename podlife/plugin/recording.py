"""Pytest plugin that turns a session into a podlife results file (`--podlife-results PATH`).

Verdicts are collected where every report ends up: in the controller under pytest-xdist,
in the only process otherwise (podlife.results.recorder). What only the test's process knows (the
docstring title, the `pattern` marker, an Unsupported or CheckError outcome, the cluster the fixture
reached) is carried on the reports and in `workeroutput`, the channels xdist serialises.
"""

from __future__ import annotations

import inspect
from collections.abc import Generator
from pathlib import Path
from typing import Any

import pytest

from podlife.check.outcomes import CheckError, Unsupported
from podlife.results.recorder import (
    ERROR_ATTR,
    PATTERN_ATTR,
    TITLE_ATTR,
    UNSUPPORTED_ATTR,
    Recorder,
)

_STASH_RECORDER = pytest.StashKey[Recorder]()
_WORKER_CLUSTER = "podlife_cluster"
PATTERN_MARKER = "pattern"


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
    config.addinivalue_line(
        "markers", f"{PATTERN_MARKER}(name): the tutorial pattern a check exercises"
    )
    path = config.getoption("podlife_results", None)
    if not path or _is_worker(config):
        return
    recorder = Recorder(Path(config.invocation_params.dir, path))
    config.stash[_STASH_RECORDER] = recorder
    config.pluginmanager.register(recorder, "podlife-results-recorder")


def record_cluster(config: pytest.Config, provider: str, version: str, name: str,
                   kubelet_version: str = "", *,
                   host_deviations: list[dict[str, Any]] | None = None) -> None:
    """Called by the cluster fixture once it knows which cluster the checks run against.

    host_deviations: as cluster.json records them (podlife.cluster.local.deviations); None when
    not known, which the results file keeps as null, never as "none".
    On an xdist worker the value travels to the controller in `workeroutput`.
    """
    info = {"provider": provider, "version": version, "name": name,
            "host_deviations": host_deviations, "kubelet_version": kubelet_version}
    if _is_worker(config):
        config.workeroutput[_WORKER_CLUSTER] = info  # type: ignore[attr-defined]
        return
    recorder = config.stash.get(_STASH_RECORDER, None)
    if recorder is not None:
        recorder.set_cluster(info)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """A malformed `pattern` marker stops the run before any check, naming the test."""
    for item in items:
        _pattern_of(item)


def _pattern_of(item: pytest.Item) -> str:
    marker = item.get_closest_marker(PATTERN_MARKER)
    if marker is None:
        return ""
    if len(marker.args) != 1 or not isinstance(marker.args[0], str) or not marker.args[0]:
        raise pytest.UsageError(
            f"{item.nodeid}: @pytest.mark.{PATTERN_MARKER} takes one pattern name, e.g. "
            f'@pytest.mark.{PATTERN_MARKER}("native-sidecar"); got {marker.args!r}'
        )
    return marker.args[0]


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo[None]
) -> Generator[None, pytest.TestReport, pytest.TestReport]:
    """Stamp what the controller cannot see on the report: it has no test objects."""
    report = yield
    if item.config.getoption("podlife_results", None):
        setattr(report, TITLE_ATTR, _docstring_title(item))
        setattr(report, PATTERN_ATTR, _pattern_of(item))
        if call.excinfo is not None and isinstance(call.excinfo.value, Unsupported):
            setattr(report, UNSUPPORTED_ATTR, call.excinfo.value.reason)
        if call.excinfo is not None and isinstance(call.excinfo.value, CheckError):
            setattr(report, ERROR_ATTR, call.excinfo.value.reason)
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
