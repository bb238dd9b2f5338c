"""One assertion for what the kubelet reports of a container, naming only what matters.

Checks used to dig into status dicts (`status["state"]["terminated"]["exitCode"]`), which
fails with a KeyError when the container is in another state and shows nothing of the pod.
`expect_container` compares only the fields a check names, and on a mismatch says each
difference and the pod's whole status in one message.
"""

from __future__ import annotations

from typing import Any

from podlife.check import pod_state


def expect_container(pod: dict, name: str, *, state: str | None = None,
                     restarts: int | None = None, exit_code: int | None = None,
                     reason: str | None = None, why: str = "") -> dict[str, Any]:
    """Assert the container's current state ('running', 'terminated', 'waiting'), restart
    count, exit code and reason, each only when given; returns the container's status."""
    observed = {"state": pod_state.state_of(pod, name),
                "restarts": pod_state.restarts(pod, name),
                "exit code": pod_state.exit_code(pod, name),
                "reason": pod_state.state_detail(pod, name).get("reason")}
    wanted = {"state": state, "restarts": restarts, "exit code": exit_code, "reason": reason}
    wrong = [f"{field} {observed[field]!r}, not {value!r}" for field, value in wanted.items()
             if value is not None and observed[field] != value]
    if wrong:
        name_part = pod.get("metadata", {}).get("name", "?")
        raise AssertionError(
            f"{name_part}/{name}: {'; '.join(wrong)}" + (f" ({why})" if why else "")
            + f"\npod {pod_state.display_status(pod)}: {pod_state.brief(pod)}"
            + f"\n{name}'s status: {pod_state.container_status(pod, name) or 'not reported'}")
    return pod_state.container_status(pod, name)
