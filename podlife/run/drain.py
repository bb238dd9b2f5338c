"""Draining a node before its kubelet changes minor, as upstream's procedure asks.

Kubernetes supports a minor kubelet upgrade only on a drained node (version-skew policy,
"kubelet"): swapping the kubelet under running containers is not supported, and the 1.31
kubelet shows why, restarting every container it finds ("definition changed"). So the
node step of `podlife upgrade` cordons the node, evicts its pods through the Eviction API
(grace periods and PodDisruptionBudgets apply, and each pod gets a DisruptionTarget
condition), waits until they are gone, and uncordons the node once the new kubelet is
Ready. As with `kubectl drain`, DaemonSet pods and static (mirror) pods stay, and a pod no
controller would bring back is refused rather than lost.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import kubernetes.client as k8s
import tenacity
from kubernetes.client.rest import ApiException

from podlife.core.errors import PodlifeError

MIRROR = "kubernetes.io/config.mirror"


@dataclass
class Drained:
    """What a drain did: the pods it evicted ("namespace/name") and how long it took."""

    node: str
    evicted: list[str] = field(default_factory=list)
    #: Pods already being deleted (e.g. a finished suite's namespace): waited for too.
    waited: list[str] = field(default_factory=list)
    seconds: float = 0.0


def stays(pod: dict) -> bool:
    """A pod a drain leaves alone: a static pod's mirror, or one a DaemonSet runs."""
    meta = pod.get("metadata") or {}
    owners = meta.get("ownerReferences") or []
    return MIRROR in (meta.get("annotations") or {}) or any(
        o.get("kind") == "DaemonSet" for o in owners)


def orphans(pods: list[dict], terminating_namespaces: set[str]) -> list[str]:
    """Pods without a controller that nothing is deleting: evicting them loses them."""
    out = []
    for pod in pods:
        meta = pod["metadata"]
        if (not meta.get("ownerReferences") and not meta.get("deletionTimestamp")
                and meta["namespace"] not in terminating_namespaces
                and (pod.get("status") or {}).get("phase") not in ("Succeeded", "Failed")):
            out.append(f"{meta['namespace']}/{meta['name']}")
    return out


def set_schedulable(api: Any, node: str, schedulable: bool) -> None:
    """Cordon (False) or uncordon (True) the node."""
    k8s.CoreV1Api(api).patch_node(node, {"spec": {"unschedulable": not schedulable}})


def drain(api: Any, node: str, *, timeout: float,
          step: Callable[[str], None] = lambda _m: None) -> Drained:
    """Cordon `node`, evict every pod a drain evicts, and wait until they are gone. The
    node stays cordoned: uncordon it (set_schedulable) once the node is back."""
    core = k8s.CoreV1Api(api)
    started = time.monotonic()
    set_schedulable(api, node, False)
    pods = [api.sanitize_for_serialization(p) for p in core.list_pod_for_all_namespaces(
        field_selector=f"spec.nodeName={node}").items]
    pods = [p for p in pods if not stays(p)]
    terminating = {ns.metadata.name for ns in core.list_namespace().items
                   if ns.status and ns.status.phase == "Terminating"}
    lost = orphans(pods, terminating)
    if lost:
        set_schedulable(api, node, True)
        raise PodlifeError(
            f"cannot drain node {node}: {', '.join(lost)} has no controller and would be "
            "lost (kubectl drain refuses it too)",
            "delete it or run it under a controller, or pass --no-drain")
    result = Drained(node)
    deadline = time.monotonic() + timeout
    for pod in pods:
        meta = pod["metadata"]
        key = f"{meta['namespace']}/{meta['name']}"
        if meta.get("deletionTimestamp") or meta["namespace"] in terminating:
            result.waited.append(key)
            continue
        _evict(core, meta["namespace"], meta["name"], deadline)
        result.evicted.append(key)
    step(f"drained node {node}: evicted {len(result.evicted)} pods, waiting for them to go")
    _wait_gone(core, node, {p["metadata"]["uid"]: _key(p) for p in pods}, deadline)
    result.seconds = round(time.monotonic() - started, 1)
    return result


def _key(pod: dict) -> str:
    return f"{pod['metadata']['namespace']}/{pod['metadata']['name']}"


def _evict(core: k8s.CoreV1Api, namespace: str, name: str, deadline: float) -> None:
    """One eviction; 429 (a PodDisruptionBudget says not now) is retried until the
    deadline, 404 (already gone) is fine."""
    body = k8s.V1Eviction(metadata=k8s.V1ObjectMeta(name=name, namespace=namespace))
    for attempt in tenacity.Retrying(
            stop=tenacity.stop_after_delay(max(deadline - time.monotonic(), 1)),
            wait=tenacity.wait_fixed(1), reraise=True,
            retry=tenacity.retry_if_exception(lambda e: isinstance(e, ApiException)
                                              and e.status == 429)):
        with attempt:
            try:
                core.create_namespaced_pod_eviction(name, namespace, body)
            except ApiException as exc:
                if exc.status != 404:
                    raise


def _wait_gone(core: k8s.CoreV1Api, node: str, uids: dict[str, str], deadline: float) -> None:
    """Until no pod of `uids` is on the node any more (a replacement has a new UID)."""
    left = dict(uids)
    while left and time.monotonic() < deadline:
        present = {p.metadata.uid for p in core.list_pod_for_all_namespaces(
            field_selector=f"spec.nodeName={node}").items}
        left = {uid: key for uid, key in left.items() if uid in present}
        if left:
            time.sleep(0.5)
    if left:
        raise PodlifeError(f"drain of node {node}: {', '.join(sorted(left.values()))} still "
                           "there at the timeout",
                           "look at their events and finalizers, or raise --timeout")
