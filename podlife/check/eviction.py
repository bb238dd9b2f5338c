"""Evicting pods through the Eviction API, observed to the end as a deletion is.

A drain evicts (kubectl drain evicts a node's pods at once); the API server refuses an
eviction (429) that would take a PodDisruptionBudget's pods below its minimum, and it
counts an allowed one in the budget's status before answering, so of two evictions sent
together only as many pass as the budget allows. An allowed eviction deletes the pod with
its grace period and a DisruptionTarget condition; podlife's finalizer holds it until its
containers' final statuses and logs are read, as podlife.check.namespaces does for a
deletion."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from kubernetes import client as k8s
from kubernetes.client.rest import ApiException

from podlife.check import pod_state, pods
from podlife.check.logs import LogFollower
from podlife.check.namespaces import HOLD_FINALIZER, release_pod
from podlife.core.timeline import Timeline, spans_from_status


def evict(core: k8s.CoreV1Api, namespace: str, name: str) -> ApiException | None:
    """Ask the Eviction API to evict the pod: None when allowed, else its refusal (429)."""
    body = k8s.V1Eviction(metadata=k8s.V1ObjectMeta(name=name, namespace=namespace))
    try:
        core.create_namespaced_pod_eviction(name, namespace, body)
    except ApiException as exc:
        if exc.status == 429:
            return exc
        raise
    return None


class Watched:
    """A pod held by podlife's finalizer with its logs followed, before it is evicted."""

    def __init__(self, api: Any, namespace: str, name: str) -> None:
        self.api, self.namespace, self.name = api, namespace, name
        self.core = k8s.CoreV1Api(api)
        self.core.patch_namespaced_pod(name, namespace,
                                       {"metadata": {"finalizers": [HOLD_FINALIZER]}})
        self.follower = LogFollower(api, namespace, name).start()

    def stopped(self, timeout: float) -> tuple[Timeline, dict]:
        """Its shutdown timeline and the pod as last seen, once every container stopped."""
        try:
            pod = pods.wait_pod(self.api, self.namespace, self.name,
                                pod_state.stopped_or_unbound, timeout=timeout,
                                what="every container to stop after eviction")
            self.follower.join(timeout=15)
            timeline = Timeline(self.name, containers=spans_from_status(pod))
            for text in self.follower.texts():
                timeline.add_log(text)
            return timeline, pod
        finally:
            self.release()

    def release(self) -> None:
        release_pod(self.core, self.name, self.namespace)


def evict_together(api: Any, namespace: str,
                   names: list[str]) -> tuple[dict[str, Watched], dict[str, ApiException | None]]:
    """Watch each pod, then send all their evictions at the same moment (as a drain does);
    returns the watches and each eviction's answer (None: allowed)."""
    watches = {name: Watched(api, namespace, name) for name in names}
    start = threading.Barrier(len(names))

    def one(name: str) -> ApiException | None:
        start.wait(timeout=30)
        return evict(k8s.CoreV1Api(api), namespace, name)

    with ThreadPoolExecutor(len(names)) as pool:
        answers = dict(zip(names, pool.map(one, names), strict=True))
    return watches, answers
