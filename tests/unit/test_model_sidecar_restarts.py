"""The rule sidecar-restarted-while-needed: a native sidecar that exited on its own is
started again while an app still runs, whatever its exit code and the pod's policy. Facts:
KEP-753, and upstream's TestComputePodActionsWithRestartableInitContainers ('restart
restartable init container if regular containers are running even if pod's RestartPolicy
== Never': InitContainersToStart holds the exited sidecar), v1.37.2."""

from __future__ import annotations

import pytest

from podlife.model.judge import judge
from tests.unit.test_model import broken, pod, status, timeline


def _sidecar_exits(code: int, *, app_until: float = 60, restarted: float | None = None,
                   sigterm: bool = False) -> list[tuple[float, str, str, str]]:
    """The sidecar exits 0.3 s in; the app runs until its SIGTERM at 60 s (the deletion),
    or until it exits 0 on its own at `app_until`."""
    app_end = (app_until, "app", "sigterm", "") if app_until == 60 else \
        (app_until, "app", "exiting", "0")
    events = [(0, "s", "starting", ""), *([(0.2, "s", "sigterm", "")] if sigterm else []),
              (0.3, "s", "exiting", str(code)), (0.5, "app", "starting", ""), app_end]
    return events + ([(restarted, "s", "starting", "")] if restarted else [])


def _manifest(policy: str, *, restarts: int = 0, deleted_at: int | None = 60) -> dict:
    return pod(init=("s",), sidecars_at=("s",), policy=policy, deleted_at=deleted_at,
               statuses=[status("s", restarts=restarts, running=False), status("app")])


@pytest.mark.parametrize("policy", ["Never", "OnFailure", "Always"])
@pytest.mark.parametrize("code", [0, 1])
def test_a_sidecar_left_stopped_beside_a_running_app_breaks_the_rule(policy, code) -> None:
    result = judge(_manifest(policy), timeline(*_sidecar_exits(code)), 37)
    assert broken(result) == ["sidecar-restarted-while-needed"]
    assert f"its exit {code} (at +0.300s)" in result.violations[0].expected
    assert "restartCount 0" in result.violations[0].observed


def test_a_restart_seen_in_the_log_or_the_status_keeps_the_rule() -> None:
    events = timeline(*_sidecar_exits(0, restarted=0.6))
    assert judge(_manifest("Never", restarts=1), events, 37).violations == []
    assert judge(_manifest("Never", restarts=1), timeline(*_sidecar_exits(0)), 37) \
        .violations == []


@pytest.mark.parametrize(("app_until", "deleted_at"), [(15, 60), (60, 15), (15, None)])
def test_a_pod_that_may_have_ended_or_been_deleted_before_the_restart_was_due_is_not_judged(
        app_until, deleted_at) -> None:
    """An app that exited 15 s after the sidecar (it may have ended the pod), or a deletion
    15 s after it: the restart was not yet due."""
    events = timeline(*_sidecar_exits(0, app_until=app_until))
    assert judge(_manifest("Never", deleted_at=deleted_at), events, 37).violations == []


def test_a_sidecar_stopped_by_a_signal_or_before_1_29_is_not_judged() -> None:
    stopped = timeline(*_sidecar_exits(0, sigterm=True))
    assert "sidecar-restarted-while-needed" not in broken(judge(_manifest("Never"), stopped, 37))
    assert judge(_manifest("Never"), timeline(*_sidecar_exits(0)), 28).violations == []


def test_a_first_restart_later_than_20_s_breaks_the_rule() -> None:
    result = judge(_manifest("Always", restarts=1), timeline(*_sidecar_exits(1, restarted=25)),
                   37)
    assert broken(result) == ["sidecar-restarted-while-needed"]
    assert result.violations[0].observed == "it started again at +25.000s"
