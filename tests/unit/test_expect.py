"""expect_container: only the named fields are compared, and a mismatch shows the pod."""

from __future__ import annotations

import pytest

from podlife.check.expect import expect_container

POD = {"metadata": {"name": "p"}, "status": {"phase": "Running", "containerStatuses": [
    {"name": "app", "restartCount": 2, "state": {"running": {"startedAt": "t"}},
     "lastState": {"terminated": {"exitCode": 1}}},
    {"name": "done", "restartCount": 0,
     "state": {"terminated": {"exitCode": 137, "reason": "Error"}}}]}}


def test_only_named_fields_are_compared() -> None:
    assert expect_container(POD, "app", state="running")["restartCount"] == 2
    expect_container(POD, "done", state="terminated", exit_code=137, reason="Error",
                     restarts=0)


def test_a_mismatch_names_each_difference_and_shows_the_pod() -> None:
    with pytest.raises(AssertionError) as caught:
        expect_container(POD, "app", state="terminated", restarts=0, why="must not restart")
    message = str(caught.value)
    assert message.splitlines()[0] == ("p/app: state 'running', not 'terminated'; "
                                       "restarts 2, not 0 (must not restart)")
    assert "app=running(restarts=2) done=terminated/Error(restarts=0)" in message
    assert "'lastState'" in message  # the container's whole status


def test_an_unreported_container_is_said_so() -> None:
    with pytest.raises(AssertionError, match="sidecar's status: not reported"):
        expect_container(POD, "sidecar", state="running")
