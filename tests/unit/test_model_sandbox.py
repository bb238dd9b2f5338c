"""The PodReadyToStartContainers rules on status snapshots built by hand (facts from
TestGeneratePodReadyToStartContainersCondition and the feature gate's history)."""

from __future__ import annotations

from podlife.core.timeline import MARKER
from podlife.model import rules
from podlife.model.judge import judge_status

SCRIPT = ["sh", "-c", f'ev() {{ echo "{MARKER} x $*"; }}']


def snapshot(condition: str | None, state: dict) -> dict:
    conditions = [] if condition is None else [
        {"type": "PodReadyToStartContainers", "status": condition}]
    return {"metadata": {"name": "p"},
            "spec": {"containers": [{"name": "app", "command": SCRIPT}]},
            "status": {"phase": "Running", "conditions": conditions,
                       "containerStatuses": [{"name": "app", "restartCount": 0,
                                              "state": state}]}}


RUNNING = {"running": {"startedAt": "2026-01-01T00:00:00Z"}}
DONE = {"terminated": {"exitCode": 0}}


def ids(violations) -> list[str]:
    return [v.rule.id for v in violations]


def test_a_ready_sandbox_with_a_running_container_holds() -> None:
    """A sandbox that exists and needs no replacing: the condition is True."""
    assert judge_status(snapshot("True", RUNNING), 37) == []


def test_a_running_container_without_a_ready_sandbox_breaks_the_rule() -> None:
    found = judge_status(snapshot("False", RUNNING), 33)
    assert ids(found) == [rules.SANDBOX_READY_WHILE_RUNNING.id]
    assert "expected PodReadyToStartContainers True (app running)" in found[0].line()


def test_the_sandbox_may_be_gone_once_nothing_runs() -> None:
    """A terminal pod's sandbox is removed: the condition turns False."""
    assert judge_status(snapshot("False", DONE), 37) == []


def test_the_condition_may_be_absent_before_1_37_but_not_from_it() -> None:
    """Beta from 1.29 (the gate can be turned off), GA and locked on in 1.37."""
    assert judge_status(snapshot(None, RUNNING), 36) == []
    assert ids(judge_status(snapshot(None, RUNNING), 37)) == [
        rules.SANDBOX_CONDITION_REPORTED.id]


def test_before_1_29_the_condition_is_not_judged() -> None:
    assert judge_status(snapshot("False", RUNNING), 28) == []
