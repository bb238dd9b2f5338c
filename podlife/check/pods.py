"""Waiting for a pod (or its events) to reach a state: named waits over `watch_until`.

Each wait gives up early when the pod reached a state from which success is impossible,
so a check on a broken cluster fails with the pod's state instead of its timeout.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from kubernetes import client as k8s

from podlife.check import pod_state
from podlife.check.waits import Never, WaitFailed, watch_until


def read(api: Any, namespace: str, name: str) -> dict:
    return api.sanitize_for_serialization(k8s.CoreV1Api(api).read_namespaced_pod(name,
                                                                                  namespace))


def ended(pod: dict) -> str | None:
    """Why waiting on a pod is pointless: it Succeeded or Failed (nothing will run again)."""
    if pod_state.is_terminal(pod):
        return f"the pod is {pod_state.phase(pod)}"
    return None


def wait_pod(api: Any, namespace: str, name: str, until: Callable[[dict], bool], *,
             timeout: float, what: str, never: Never | None = None) -> dict:
    """Watch a pod until until(pod) holds; fail naming `what` and the pod's last state."""
    return watch_until(k8s.CoreV1Api(api).list_namespaced_pod, api=api, namespace=namespace,
                       name=name, until=until, never=never, timeout=timeout, what=what,
                       describe=pod_state.brief)


def described(what: str, why: str) -> str:
    """What a wait waits for, and the check's reason for waiting, for its timeout error."""
    return f"{what} ({why})" if why else what


def wait_ready(api: Any, namespace: str, name: str, timeout: float = 90, why: str = "") -> dict:
    """The pod is Ready; a pod that ended first fails the wait at once."""
    return wait_pod(api, namespace, name, pod_state.is_ready, timeout=timeout,
                    what=described("Ready", why),
                    never=ended)


def wait_phase(api: Any, namespace: str, name: str, phases: tuple[str, ...],
               timeout: float = 90, why: str = "") -> dict:
    """The pod is in one of `phases`; ending in another terminal phase fails at once."""

    def other_end(pod: dict) -> str | None:
        return ended(pod) if pod_state.phase(pod) not in phases else None

    return wait_pod(api, namespace, name, lambda p: pod_state.phase(p) in phases,
                    timeout=timeout, what=described(f"phase in {phases}", why), never=other_end)


def wait_started(api: Any, namespace: str, name: str, container: str, *,
                 timeout: float) -> dict:
    """The container runs or ran: its log can be followed."""
    return wait_pod(api, namespace, name, lambda p: pod_state.has_started(p, container),
                    timeout=timeout, what=f"container {container} to start", never=ended)


def wait_event(api: Any, namespace: str, name: str, reason: str, *, timeout: float = 60,
               contains: str = "", count: int = 1, why: str = "") -> dict:
    """An event about object `name` with `reason` (and a message containing `contains`),
    seen at least `count` times (the event's own count, as `kubectl describe` shows it)."""

    def matches(event: dict) -> bool:
        return (event.get("reason") == reason and contains in (event.get("message") or "")
                and (event.get("count") or 1) >= count)

    core = k8s.CoreV1Api(api)
    try:
        return watch_until(core.list_namespaced_event, api=api, namespace=namespace,
                           field_selector=f"involvedObject.name={name}", until=matches,
                           timeout=timeout,
                           what=described(f"a '{reason}' event containing '{contains}' "
                                          f"x{count}", why))
    except WaitFailed as exc:
        seen = [e.reason for e in core.list_namespaced_event(
            namespace, field_selector=f"involvedObject.name={name}").items]
        raise WaitFailed(described(f"{name}: no '{reason}' event containing '{contains}' "
                                   f"within {timeout:.0f}s", why) + f"; events: {seen}",
                         exc.last) from None


def events_for(api: Any, namespace: str, name: str) -> list[dict]:
    items = k8s.CoreV1Api(api).list_namespaced_event(
        namespace, field_selector=f"involvedObject.name={name}").items
    return [api.sanitize_for_serialization(e) for e in items]


def wait_gone(api: Any, namespace: str, name: str, *, timeout: float,
              why: str = "") -> dict | None:
    """The pod is deleted from the API; returns it as last seen (None if already gone)."""
    try:
        last = read(api, namespace, name)
    except k8s.ApiException as exc:
        if exc.status == 404:
            return None
        raise
    return watch_until(k8s.CoreV1Api(api).list_namespaced_pod, api=api, namespace=namespace,
                       name=name, until=lambda _pod: False, until_deleted=True,
                       timeout=timeout, what=described("the pod to be deleted", why),
                       describe=pod_state.brief) or last
