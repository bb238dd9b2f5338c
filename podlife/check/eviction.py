"""Evicting a pod through the Eviction API, observed to the end as a deletion is.

A drain evicts; the API server refuses an eviction (429) that would take a
PodDisruptionBudget's pods below its minimum. An allowed eviction deletes the pod with
its grace period and a DisruptionTarget condition; podlife's finalizer holds it until its
containers' final statuses and logs are read, as podlife.check.namespaces does for a
deletion."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from kubernetes import client as k8s
from kubernetes.client.rest import ApiException

from podlife.check import pod_state, pods
from podlife.check.logs import LogFollower
from podlife.check.namespaces import HOLD_FINALIZER, release_pod
from podlife.core.timeline import Timeline, spans_from_status


def evict(core: k8s.CoreV1Api, namespace: str, name: str) -> ApiException | None:
    """Ask the Eviction API to evict the pod: None when allowed, else its refusal."""
    body = k8s.V1Eviction(metadata=k8s.V1ObjectMeta(name=name, namespace=namespace))
    try:
        core.create_namespaced_pod_eviction(name, namespace, body)
    except ApiException as exc:
        if exc.status == 429:
            return exc
        raise
    return None


def evict_pod_final(api: Any, namespace: str, name: str, *, timeout: float = 120,
                    right_after: Callable[[], None] | None = None) -> tuple[Timeline, dict]:
    """Evict a pod (the eviction must be allowed); return its shutdown timeline and the
    pod as last seen, its containers all stopped. `right_after` runs as soon as the
    eviction is accepted, while the pod is still stopping (e.g. a second eviction that
    its budget must refuse)."""
    core = k8s.CoreV1Api(api)
    core.patch_namespaced_pod(name, namespace, {"metadata": {"finalizers": [HOLD_FINALIZER]}})
    follower = LogFollower(api, namespace, name).start()
    try:
        refused = evict(core, namespace, name)
        if refused is not None:
            raise AssertionError(f"evicting {name} was refused: {refused.status} "
                                 f"{refused.body}")
        if right_after is not None:
            right_after()
        pod = pods.wait_pod(api, namespace, name, pod_state.stopped_or_unbound,
                            timeout=timeout, what="every container to stop after eviction")
        follower.join(timeout=15)
        timeline = Timeline(name, containers=spans_from_status(pod))
        for text in follower.texts():
            timeline.add_log(text)
        return timeline, pod
    finally:
        release_pod(core, name, namespace)
