"""podlife's own namespaces, and pod deletion observed to the end.

podlife creates one labelled namespace per check and only ever deletes namespaces that
carry its label, so on a shared cluster it cannot remove anything it did not make.
"""

from __future__ import annotations

import contextlib
import re
import uuid
from typing import Any

from kubernetes import client as k8s
from kubernetes.client.rest import ApiException
from tenacity import RetryError, Retrying, retry_if_result, stop_after_delay, wait_fixed

from podlife.check import pod_state, pods
from podlife.check.logs import LogFollower, previous_logs
from podlife.check.waits import watch_until
from podlife.core.errors import PodlifeError
from podlife.core.timeline import Timeline, spans_from_status

MANAGED_BY = {"app.kubernetes.io/managed-by": "podlife"}
#: Every check's pods fit PodSecurity `baseline`; enforcing it by label holds on any cluster,
#: whatever its default level (`privileged` where none is configured). rbac.yaml's policy
#: requires it of the namespaces podlife's identity creates.
POD_SECURITY = {"pod-security.kubernetes.io/enforce": "baseline"}
#: Under manifests/rbac.yaml, podlife's rights inside a namespace come from this role, which
#: it binds to itself in each namespace it creates.
WORKER_ROLE = "podlife-namespace-worker"
WORKER_SUBJECT = {"kind": "ServiceAccount", "name": "podlife", "namespace": "podlife-system"}
#: The controller manager makes a namespace's `default` ServiceAccount (upstream's e2e
#: framework gives it 2 minutes too).
DEFAULT_SA_TIMEOUT_S = 120.0
#: Holds a deleted pod in the API until podlife has read its containers' final statuses.
HOLD_FINALIZER = "podlife.dev/hold"


def new_namespace(core: k8s.CoreV1Api, prefix: str, run_id: str) -> str:
    """A fresh, labelled namespace named after the check (letters, digits and '-')."""
    clean = re.sub(r"[^a-z0-9-]+", "-", prefix.lower())[:40].strip("-")
    name = f"pl-{clean}-{uuid.uuid4().hex[:6]}"
    core.create_namespace({"metadata": {"name": name, "labels": {
        **MANAGED_BY, **POD_SECURITY, "podlife.dev/run": run_id}}})
    _bind_worker_role(core.api_client, name)
    wait_default_service_account(core, name)
    return name


def wait_default_service_account(core: k8s.CoreV1Api, namespace: str,
                                 timeout: float = DEFAULT_SA_TIMEOUT_S) -> None:
    """Until the controller manager has made the namespace's `default` ServiceAccount:
    admission refuses every pod before that. Usually at once; longer while a new leader of
    the controller managers takes over (a rolling control-plane upgrade waits out the old
    leader's lease)."""
    watch_until(core.list_namespaced_service_account, api=core.api_client,
                namespace=namespace, name="default", until=lambda _sa: True, timeout=timeout,
                what=f"the ServiceAccount 'default' of {namespace} (made by the controller "
                     "manager's serviceaccount controller)")


def _can_create_pods(api: Any, namespace: str) -> bool:
    review = k8s.AuthorizationV1Api(api).create_self_subject_access_review(
        {"spec": {"resourceAttributes": {"verb": "create", "resource": "pods",
                                         "namespace": namespace}}})
    return bool(review.status.allowed)


def _bind_worker_role(api: Any, namespace: str, timeout: float = 10.0) -> None:
    """Give podlife its rights in a namespace it just made, if it lacks them (it runs under
    manifests/rbac.yaml); an identity with broader rights (an admin) needs no binding."""
    if _can_create_pods(api, namespace):
        return
    k8s.RbacAuthorizationV1Api(api).create_namespaced_role_binding(namespace, {
        "metadata": {"name": "podlife", "labels": MANAGED_BY},
        "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole",
                    "name": WORKER_ROLE},
        "subjects": [WORKER_SUBJECT]})
    # The binding takes a moment to reach the API server's authorizer cache.
    waiting = Retrying(stop=stop_after_delay(timeout), wait=wait_fixed(0.1),
                       retry=retry_if_result(lambda allowed: not allowed))
    try:
        waiting(_can_create_pods, api, namespace)
    except RetryError:
        raise PodlifeError(
            f"podlife bound itself the role {WORKER_ROLE} in {namespace}, but still may not "
            f"create pods there after {timeout:.0f}s",
            "apply manifests/rbac.yaml as shipped (it defines that ClusterRole), or run "
            "podlife as an identity that may create pods") from None


def release_pod(core: k8s.CoreV1Api, name: str, namespace: str) -> None:
    with contextlib.suppress(ApiException):
        core.patch_namespaced_pod(name, namespace, {"metadata": {"finalizers": None}})


def delete_namespace(core: k8s.CoreV1Api, name: str) -> None:
    """Release held pods, then delete the namespace (only if podlife made it)."""
    ns = core.read_namespace(name)
    if (ns.metadata.labels or {}).get("app.kubernetes.io/managed-by") != "podlife":
        return
    for pod in core.list_namespaced_pod(name).items:
        if HOLD_FINALIZER in (pod.metadata.finalizers or []):
            release_pod(core, pod.metadata.name, name)
    core.delete_namespace(name, body=k8s.V1DeleteOptions(grace_period_seconds=0))


#: Controllers that would replace a deleted pod, deleted before the pods are.
_CONTROLLERS = (("AppsV1Api", "deployment"), ("AppsV1Api", "replica_set"),
                ("AppsV1Api", "stateful_set"), ("AppsV1Api", "daemon_set"),
                ("BatchV1Api", "job"))


def stop_workloads(api: Any, namespace: str) -> None:
    """Stop everything that runs in a check's namespace, but keep the namespace.

    For a cluster that is torn down right after the run. Deleting a namespace makes the
    namespace controller list and clear every resource type in it, about 65 API requests
    (some 0.16 CPU-s of API server, etcd and controller time each, 15 CPU-s a suite), which
    buys nothing when the whole cluster goes next. What must go at once are the pods, so
    the node is free for the checks that follow, and the Services kube-proxy programs.
    """
    for group, kind in _CONTROLLERS:
        delete_all = getattr(getattr(k8s, group)(api), f"delete_collection_namespaced_{kind}")
        delete_all(namespace, propagation_policy="Background")
    core = k8s.CoreV1Api(api)
    for pod in core.list_namespaced_pod(namespace).items:
        if HOLD_FINALIZER in (pod.metadata.finalizers or []):
            release_pod(core, pod.metadata.name, namespace)
    core.delete_collection_namespaced_pod(namespace)
    for service in core.list_namespaced_service(namespace).items:
        with contextlib.suppress(ApiException):
            core.delete_namespaced_service(service.metadata.name, namespace)


def delete_pod_final(api: Any, namespace: str, name: str, *, grace: int | None = None,
                     timeout: float = 120) -> tuple[Timeline, dict]:
    """Delete a pod; return its shutdown timeline and the pod as last seen.

    A finalizer holds the deleted pod in the API until its containers are all terminated,
    so their final statuses (and the API's record of the deletion request, which checks
    that time the shutdown need) can be read; logs are streamed while they stop.
    """
    core = k8s.CoreV1Api(api)
    core.patch_namespaced_pod(name, namespace, {"metadata": {"finalizers": [HOLD_FINALIZER]}})
    # The earlier instances' logs first: the follower streams only the current ones, and
    # a restart's back-off is judged from the instance before it.
    earlier = previous_logs(api, namespace, name)
    follower = LogFollower(api, namespace, name).start()
    core.delete_namespaced_pod(name, namespace,
                               body=k8s.V1DeleteOptions(grace_period_seconds=grace))
    try:
        pod = pods.wait_pod(api, namespace, name, pod_state.stopped_or_unbound,
                            timeout=timeout,
                            what="every container to terminate after deletion")
        follower.join(timeout=15)
        timeline = Timeline(name, containers=spans_from_status(pod))
        for text in [*earlier, *follower.texts()]:
            timeline.add_log(text)
        return timeline, pod
    finally:
        release_pod(core, name, namespace)
