"""What a pod's status says, as pure functions over the pod as a dict from the API.

Every place that asks "is this container running?" or "is the pod Ready?" asks here, so
the join of init, app and ephemeral container statuses is written once and unit-tested
without a cluster.
"""

from __future__ import annotations

from typing import Any

#: Status lists in the order the kubelet runs their containers.
STATUS_LISTS = ("initContainerStatuses", "containerStatuses", "ephemeralContainerStatuses")
TERMINAL_PHASES = ("Succeeded", "Failed")


def statuses(pod: dict) -> list[dict]:
    """Every container status of the pod: init, then app, then ephemeral."""
    status = pod.get("status") or {}
    return [s for key in STATUS_LISTS for s in status.get(key) or []]


def container_status(pod: dict, name: str) -> dict:
    """The status of one container by name, or {} when the kubelet has not reported it."""
    return next((s for s in statuses(pod) if s.get("name") == name), {})


def state_of(pod: dict, name: str) -> str:
    """'running', 'terminated', 'waiting', or '' when the container has no state yet."""
    return next(iter(container_status(pod, name).get("state") or {}), "")


def state_detail(pod: dict, name: str) -> dict[str, Any]:
    """The body of the container's current state (e.g. exitCode, reason, startedAt)."""
    state = container_status(pod, name).get("state") or {}
    return next(iter(state.values()), None) or {}


def is_running(pod: dict, name: str) -> bool:
    return state_of(pod, name) == "running"


def has_started(pod: dict, name: str) -> bool:
    """The container runs or ran (its current instance): it got past its start."""
    return state_of(pod, name) in ("running", "terminated")


def exit_code(pod: dict, name: str) -> int | None:
    """The exit code of the container's current instance, if it terminated."""
    if state_of(pod, name) != "terminated":
        return None
    return state_detail(pod, name).get("exitCode")


def restarts(pod: dict, name: str) -> int:
    return int(container_status(pod, name).get("restartCount") or 0)


def phase(pod: dict) -> str:
    return (pod.get("status") or {}).get("phase") or ""


def condition(pod: dict, kind: str) -> dict:
    """The pod condition of type `kind` (e.g. 'Initialized'), or {}."""
    return next((c for c in (pod.get("status") or {}).get("conditions") or []
                 if c.get("type") == kind), {})


def condition_true(pod: dict, kind: str) -> bool:
    return condition(pod, kind).get("status") == "True"


def is_ready(pod: dict) -> bool:
    return condition_true(pod, "Ready")


def scheduled(pod: dict) -> bool:
    return condition_true(pod, "PodScheduled")


def is_terminal(pod: dict) -> bool:
    """Succeeded or Failed: no container of the pod will run again."""
    return phase(pod) in TERMINAL_PHASES


def all_terminated(pod: dict) -> bool:
    """Every reported container has stopped (terminated, or waiting and never to run)."""
    found = statuses(pod)
    return bool(found) and all(state_of(pod, s["name"]) in ("terminated", "waiting")
                               for s in found)


def stopped_or_unbound(pod: dict) -> bool:
    """What a deleted pod is waited for: every container stopped, or no node at all (a pod
    never scheduled has no containers; the scheduler binds no pod being deleted)."""
    return all_terminated(pod) or not (pod.get("spec") or {}).get("nodeName")


def display_status(pod: dict) -> str:
    """The one word `kubectl get pods` shows in STATUS, e.g. Init:1/3 or CrashLoopBackOff."""
    meta = pod.get("metadata") or {}
    spec = pod.get("spec") or {}
    status = pod.get("status") or {}
    reason = status.get("reason") or phase(pod) or "Unknown"
    inits = status.get("initContainerStatuses") or []
    sidecars = {c["name"] for c in spec.get("initContainers") or []
                if c.get("restartPolicy") == "Always"}
    for index, init in enumerate(inits):
        name = init.get("name", "")
        body = state_detail(pod, name)
        state = state_of(pod, name)
        if state == "terminated" and body.get("exitCode") == 0:
            continue
        if name in sidecars and init.get("started"):
            continue
        if state == "terminated":
            reason = f"Init:{body.get('reason') or 'ExitCode:' + str(body.get('exitCode'))}"
        elif state == "waiting" and body.get("reason") not in (None, "PodInitializing"):
            reason = f"Init:{body['reason']}"
        else:
            reason = f"Init:{index}/{len(spec.get('initContainers') or inits)}"
        return reason
    for app in reversed(status.get("containerStatuses") or []):
        body = state_detail(pod, app.get("name", ""))
        if body.get("reason") and state_of(pod, app["name"]) != "running":
            reason = body["reason"]
            break
    if meta.get("deletionTimestamp"):
        return "Terminating"
    return reason


def brief(pod: dict) -> str:
    """One line for error messages: phase and each container's state and restarts."""
    parts = [f"phase={phase(pod) or '?'}"]
    for status in statuses(pod):
        name = status.get("name", "?")
        state = state_of(pod, name) or "?"
        reason = state_detail(pod, name).get("reason", "")
        parts.append(f"{name}={state}{'/' + reason if reason else ''}"
                     f"(restarts={status.get('restartCount', 0)})")
    return " ".join(parts)
