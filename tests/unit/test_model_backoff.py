"""The crash-loop back-off rule: the kubelet's back-off as its configuration makes it, and
restarts judged against it on timelines built by hand."""

from __future__ import annotations

import pytest

from podlife.core.timeline import MARKER, Event, Timeline
from podlife.model import rules
from podlife.model.backoff import BackOff, from_kubelet_config, go_duration_s
from podlife.model.judge import judge

SCRIPT = ["sh", "-c", f'ev() {{ echo "{MARKER} x $*"; }}']
DEFAULT = BackOff()


def crashing_pod(restarts: int, started_at: str = "1970-01-01T00:00:00Z") -> dict:
    return {"metadata": {"name": "p"},
            "spec": {"containers": [{"name": "app", "command": SCRIPT}],
                     "restartPolicy": "Always"},
            "status": {"phase": "Running",
                       "conditions": [{"type": "PodReadyToStartContainers", "status": "True"}],
                       "containerStatuses": [
                {"name": "app", "restartCount": restarts,
                 "state": {"running": {"startedAt": started_at}}}]}}


def runs(*pairs: tuple[float, float | None]) -> Timeline:
    """Runs of `app` as (start, exit) seconds; exit None: it still runs."""
    events = []
    for start, end in pairs:
        events.append(Event(start, "app", "starting", "", ns=int(start * 1e9)))
        if end is not None:
            events.append(Event(end, "app", "exiting", "1", ns=int(end * 1e9)))
    return Timeline("p", events=events)


def test_the_first_restart_is_not_held_back_the_next_waits_the_initial_back_off() -> None:
    """TestDoBackOff: a container with no back-off entry is not in back-off (the first
    restart comes at once); once Next recorded one, a restart within it is held back."""
    assert [DEFAULT.before_run(i) for i in range(6)] == [0, 0, 10, 20, 40, 80]
    assert DEFAULT.before_run(20) == 300


def test_go_durations() -> None:
    assert go_duration_s("5m0s") == 300
    assert go_duration_s("1m30s") == 90
    assert go_duration_s("500ms") == 0.5
    assert go_duration_s("5 minutes") is None
    assert go_duration_s("") is None


@pytest.mark.parametrize(("config", "minor", "expected"), [
    ({}, 37, BackOff(10, 300)),
    ({"crashLoopBackOff": {"maxContainerRestartPeriod": "5m0s"}}, 37, BackOff(10, 300)),
    # TestCrashLoopBackOffConfiguration: the operator's maximum wins, the initial is capped.
    ({"crashLoopBackOff": {"maxContainerRestartPeriod": "2s"}}, 37, BackOff(2, 2)),
    # Before 1.35 KubeletCrashLoopBackOffMax is off by default: the field is not used.
    ({"crashLoopBackOff": {"maxContainerRestartPeriod": "2s"}}, 33, BackOff(10, 300)),
    ({"featureGates": {"KubeletCrashLoopBackOffMax": True},
      "crashLoopBackOff": {"maxContainerRestartPeriod": "30s"}}, 33, BackOff(10, 30)),
    ({"featureGates": {"ReduceDefaultCrashLoopBackOffDecay": True}}, 33, BackOff(1, 60)),
])
def test_the_back_off_follows_the_kubelets_configuration(config, minor, expected) -> None:
    assert from_kubelet_config(config, minor) == expected


def test_restarts_after_their_back_off_hold() -> None:
    events = runs((0, 1), (1.5, 2), (12.2, 13), (33.1, None))
    result = judge(crashing_pod(3), events, 37, DEFAULT)
    assert result.violations == []
    assert rules.RESTART_WAITS_FOR_BACKOFF.id in result.held


def test_a_restart_before_its_back_off_breaks_the_rule() -> None:
    events = runs((0, 1), (1.5, 2), (3, None))
    result = judge(crashing_pod(2), events, 37, DEFAULT)
    assert [v.rule.id for v in result.violations] == ["restart-waits-for-backoff"]
    assert ("expected run 3 of app to start 10 s or more after run 2 exited"
            in result.violations[0].line())
    assert "1.00 s after that exit" in result.violations[0].line()


def test_with_the_back_off_unknown_the_rule_does_not_judge() -> None:
    result = judge(crashing_pod(2), runs((0, 1), (1.5, 2), (3, None)), 37, None)
    assert result.violations == []
    assert rules.RESTART_WAITS_FOR_BACKOFF.id not in result.held


def test_runs_seen_late_are_numbered_from_the_status() -> None:
    """Only the last two runs in the logs (previous and current): the status's restartCount
    numbers them when its instance is the last run seen, so the gap before run 4 is held to
    20 s, not to the first restart's none."""
    events = runs((100, 101), (105, None))
    result = judge(crashing_pod(3, "1970-01-01T00:01:45Z"), events, 37, DEFAULT)
    assert [v.rule.id for v in result.violations] == ["restart-waits-for-backoff"]
    assert "run 4 of app to start 20 s or more" in result.violations[0].line()


def test_runs_that_do_not_match_the_status_are_numbered_low() -> None:
    """The status's instance is not the last run seen (it started in another second): the
    runs are numbered from 1, which can only ask too little, never too much."""
    events = runs((100, 101), (105, None))
    result = judge(crashing_pod(3, "1970-01-01T00:03:00Z"), events, 37, DEFAULT)
    assert result.violations == []


def test_a_run_that_was_killed_gives_no_exit_to_count_from() -> None:
    events = runs((0, 1), (1.5, None), (3, None))
    assert judge(crashing_pod(2), events, 37, DEFAULT).violations == []
