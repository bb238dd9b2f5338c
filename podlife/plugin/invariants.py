"""pytest wiring of the model: every check's pods judged once its own assertions passed.

A check that passes its own assertions is then judged by podlife.model through
podlife.check.invariants; a broken rule fails it (the reason names the rule). How many of
its pods were judged, and why others were not, goes on its report for the results file.
`--no-invariants` turns the judging off (to see what the hand-written assertions alone
catch).
"""

from __future__ import annotations

import re
from collections.abc import Generator
from typing import Any

import pytest

from podlife.check.framework import Framework
from podlife.check.invariants import InvariantBroken, judge_namespace
from podlife.results.recorder import JUDGED_PROPERTY, NOT_JUDGED_PROPERTY


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("podlife")
    group.addoption(
        "--no-invariants", dest="podlife_no_invariants", action="store_true", default=False,
        help="do not judge the checks' pods by podlife's model of the pod lifecycle "
             "(default: off, every pod is judged)")
    group.addoption("--explore", dest="podlife_explore", action="store_true", default=False,
                    help="run only the exploration of generated pods (default: off)")
    group.addoption("--explore-examples", dest="podlife_explore_examples", type=int,
                    default=1000, help="examples per exploring worker at most (default: 1000)")
    group.addoption("--explore-seed", dest="podlife_explore_seed", type=int, default=0,
                    help="the seed of the first worker's draws (default: 0)")
    group.addoption("--explore-budget", dest="podlife_explore_budget", type=float,
                    default=600.0, help="seconds of exploring (default: 600)")


def release_minor(version: str) -> int | None:
    """The lowest minor in a version list such as 'v1.36.5,v1.37.2' (None if none)."""
    minors = [int(m) for m in re.findall(r"v?1\.(\d+)", version or "")]
    return min(minors) if minors else None


@pytest.hookimpl(wrapper=True)
def pytest_runtest_call(item: pytest.Item) -> Generator[None, Any, Any]:
    result = yield  # the check's own body: raises when it failed, skipped or is unsupported
    framework = getattr(item, "funcargs", {}).get("f")
    if not isinstance(framework, Framework) or item.config.getoption("podlife_no_invariants"):
        return result
    verdict = judge_namespace(framework.api, framework.namespace, framework.finished,
                              framework.release_minor)
    item.user_properties.append((JUDGED_PROPERTY, verdict.judged))
    item.user_properties.append((NOT_JUDGED_PROPERTY, verdict.not_judged))
    message = verdict.failure()
    if message:
        raise InvariantBroken(message)
    return result


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "explore: draws generated pods (podlife explore); "
                            "deselected unless --explore")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Exploration runs only when asked (--explore), and then alone."""
    wanted = config.getoption("podlife_explore")
    keep = [i for i in items if (i.get_closest_marker("explore") is not None) == wanted]
    dropped = [i for i in items if i not in keep]
    if dropped:
        config.hook.pytest_deselected(items=dropped)
        items[:] = keep
