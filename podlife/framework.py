"""What a check works with: a namespace of its own on the cluster, and ways to observe it.

Modelled on Kubernetes' e2e framework: a check gets one `Framework` per test, creates
objects through it, and waits on *observed* state (pod status, watch events, container
events) with explicit timeouts. Nothing here sleeps for a fixed time to let things happen.
"""

from __future__ import annotations

import contextlib
import copy
import json
import re
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, NoReturn

import pytest
import urllib3
from kubernetes import client as k8s
from kubernetes import utils, watch
from kubernetes.client.rest import ApiException

from podlife import instrument, manifests
from podlife.images import ImageMap
from podlife.timeline import Timeline, spans_from_status

MANAGED_BY = {"app.kubernetes.io/managed-by": "podlife"}
HOLD_FINALIZER = "podlife.dev/hold"


def unsupported(reason: str) -> NoReturn:
    """End a check as 'unsupported': the cluster lacks a feature it needs (never a pass)."""
    pytest.skip(f"unsupported: {reason}")


@dataclass
class Framework:
    """One check's view of the cluster: clients, its namespace, the image map."""

    api: Any
    namespace: str
    images: ImageMap
    may_change_nodes: bool = False
    timelines: list[Timeline] = field(default_factory=list)

    @property
    def core(self) -> k8s.CoreV1Api:
        return k8s.CoreV1Api(self.api)

    @property
    def apps(self) -> k8s.AppsV1Api:
        return k8s.AppsV1Api(self.api)

    @property
    def batch(self) -> k8s.BatchV1Api:
        return k8s.BatchV1Api(self.api)

    # ----- creating things ------------------------------------------------------------
    def create(self, obj: dict) -> dict:
        """Create an object in the check's namespace; returns it as the server stored it."""
        obj = instrument.with_namespace(obj, self.namespace)
        created = utils.create_from_dict(self.api, obj, namespace=self.namespace)
        return self.api.sanitize_for_serialization(created[0])

    def create_all(self, objs: list[dict]) -> None:
        for obj in objs:
            self.create(obj)

    def create_support(self, *names: str) -> None:
        """Create stand-ins from manifests/support/ (their images mapped for this cluster)."""
        for name in names:
            for obj in manifests.support(name):
                self.create(instrument.map_images(obj, self.images))

    def dry_run(self, obj: dict) -> dict:
        """Server-side dry run: what the API server would store, without storing it."""
        obj = instrument.with_namespace(obj, self.namespace)
        kind = obj["kind"]
        body = obj
        if kind == "Pod":
            out = self.core.create_namespaced_pod(self.namespace, body, dry_run="All")
        elif kind == "Deployment":
            out = self.apps.create_namespaced_deployment(self.namespace, body, dry_run="All")
        elif kind == "Job":
            out = self.batch.create_namespaced_job(self.namespace, body, dry_run="All")
        elif kind == "Service":
            out = self.core.create_namespaced_service(self.namespace, body, dry_run="All")
        elif kind == "ConfigMap":
            out = self.core.create_namespaced_config_map(self.namespace, body, dry_run="All")
        elif kind == "Secret":
            out = self.core.create_namespaced_secret(self.namespace, body, dry_run="All")
        else:
            return self.dry_run_raw(obj)
        return self.api.sanitize_for_serialization(out)

    # ----- observing pods -------------------------------------------------------------
    def pod(self, name: str) -> dict:
        return self.api.sanitize_for_serialization(
            self.core.read_namespaced_pod(name, self.namespace))

    def watch_until(self, lister: Callable[..., Any], name: str,
                    condition: Callable[[dict], bool], *, timeout: float, what: str,
                    describe: Callable[[dict], str]) -> dict:
        """Watch one object of the namespace until condition(obj) holds, or fail naming `what`
        and describing the last state seen. Expired watches are simply restarted."""
        last: dict = {}
        deadline = time.monotonic() + timeout
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise AssertionError(f"{name}: timed out after {timeout:.0f}s waiting for "
                                     f"{what}; last seen: {describe(last)}")
            w = watch.Watch()
            try:
                for ev in w.stream(lister, self.namespace, field_selector=f"metadata.name={name}",
                                   timeout_seconds=max(1, int(remaining))):
                    last = self.api.sanitize_for_serialization(ev["object"])
                    if condition(last):
                        return last
            except ApiException as exc:
                if exc.status != 410:
                    raise
            finally:
                w.stop()

    def wait_pod(self, name: str, condition: Callable[[dict], bool], *, timeout: float,
                 what: str) -> dict:
        """Watch a pod until condition(pod) holds; fail naming `what` and the last status."""
        return self.watch_until(self.core.list_namespaced_pod, name, condition, timeout=timeout,
                                what=what, describe=_brief)

    def wait_deployment_available(self, name: str, replicas: int, *,
                                  timeout: float = 120) -> dict:
        """Watch a Deployment until its rollout is complete with `replicas` available."""
        def done(d: dict) -> bool:
            status = d.get("status") or {}
            return (status.get("observedGeneration", 0) >= d["metadata"]["generation"]
                    and status.get("updatedReplicas") == replicas
                    and status.get("availableReplicas") == replicas
                    and status.get("replicas") == replicas)

        return self.watch_until(self.apps.list_namespaced_deployment, name, done,
                                timeout=timeout, what=f"{replicas} available replicas",
                                describe=lambda d: str(d.get("status")))

    def wait_phase(self, name: str, phases: tuple[str, ...], timeout: float = 90) -> dict:
        return self.wait_pod(name, lambda p: p.get("status", {}).get("phase") in phases,
                             timeout=timeout, what=f"phase in {phases}")

    def wait_ready(self, name: str, timeout: float = 90) -> dict:
        return self.wait_pod(name, is_ready, timeout=timeout, what="Ready")

    def events_for(self, name: str) -> list[dict]:
        items = self.core.list_namespaced_event(
            self.namespace, field_selector=f"involvedObject.name={name}").items
        return [self.api.sanitize_for_serialization(e) for e in items]

    def wait_event(self, name: str, reason: str, *, timeout: float = 60,
                   contains: str = "") -> dict:
        """Watch events until one about `name` has `reason` (and message containing text)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for event in self.events_for(name):
                if event.get("reason") == reason and contains in (event.get("message") or ""):
                    return event
            w = watch.Watch()
            try:
                for ev in w.stream(self.core.list_namespaced_event, self.namespace,
                                   field_selector=f"involvedObject.name={name}",
                                   timeout_seconds=max(1, int(deadline - time.monotonic()))):
                    event = self.api.sanitize_for_serialization(ev["object"])
                    if event.get("reason") == reason and contains in (event.get("message") or ""):
                        return event
            finally:
                w.stop()
        seen = [e.get("reason") for e in self.events_for(name)]
        raise AssertionError(f"{name}: no '{reason}' event containing '{contains}' within "
                             f"{timeout:.0f}s; events: {seen}")

    def exec(self, pod: str, container: str, command: list[str]) -> str:
        """Run a command in a running container (through the API server); returns its output."""
        from kubernetes.stream import stream

        return stream(self.core.connect_get_namespaced_pod_exec, pod, self.namespace,
                      container=container, command=command, stderr=True, stdin=False,
                      stdout=True, tty=False)

    def logs(self, pod: str, container: str, *, previous: bool = False) -> str:
        try:
            return self.core.read_namespaced_pod_log(pod, self.namespace, container=container,
                                                     timestamps=True, previous=previous)
        except ApiException as exc:
            if exc.status in (400, 404):
                return ""
            raise

    def timeline(self, name: str) -> Timeline:
        """The pod's timeline now: every container's events (current and previous instance)."""
        pod = self.pod(name)
        timeline = Timeline(name, containers=spans_from_status(pod))
        for container in instrument.containers(pod):
            timeline.add_log(self.logs(name, container["name"], previous=True))
            timeline.add_log(self.logs(name, container["name"]))
        self._remember(timeline)
        return timeline

    def _remember(self, timeline: Timeline) -> None:
        self.timelines = [t for t in self.timelines if t.pod != timeline.pod] + [timeline]

    def follow_logs(self, name: str) -> LogFollower:
        """Start streaming every container's log now (to keep what deletion would lose)."""
        follower = LogFollower(self, name)
        follower.start()
        return follower

    def delete_pod_observed(self, name: str, *, grace: int | None = None,
                            timeout: float = 120) -> Timeline:
        """Delete a pod and return the timeline of its shutdown, with final statuses."""
        return self.delete_pod_final(name, grace=grace, timeout=timeout)[0]

    def wait_log(self, pod: str, container: str, condition: Callable[[str], bool], *,
                 timeout: float, what: str) -> str:
        """Follow a container's log until condition(log so far) holds; returns that log.

        For output a check cannot watch through the API (lines a tutorial command prints,
        files a sidecar tails): the log is streamed as the runtime writes it, with
        timestamps, so the wait ends on the observed line rather than after a guess.
        """
        deadline = time.monotonic() + timeout

        def started(p: dict) -> bool:
            state = container_status(p, container).get("state") or {}
            return "running" in state or "terminated" in state

        self.wait_pod(pod, started, timeout=timeout, what=f"container {container} to start")
        text = ""
        while (remaining := deadline - time.monotonic()) > 0:
            text = ""
            try:
                resp = self.core.read_namespaced_pod_log(
                    pod, self.namespace, container=container, follow=True, timestamps=True,
                    _preload_content=False, _request_timeout=(10, remaining))
                try:
                    for chunk in resp.stream():
                        text += chunk.decode(errors="replace")
                        if condition(text):
                            return text
                finally:
                    resp.release_conn()
            except (urllib3.exceptions.ReadTimeoutError, urllib3.exceptions.ProtocolError):
                break
            # The stream ended: the container exited. Give up unless it was restarted.
            state = container_status(self.pod(pod), container).get("state") or {}
            if "running" not in state:
                break
        tail = "\n".join(text.splitlines()[-10:])
        raise AssertionError(f"pod {pod}: container {container}: no log showing {what} within "
                             f"{timeout:.0f}s; last lines:\n{tail}")

    def wait_support(self, name: str, timeout: float = 90) -> None:
        """Wait until a stand-in's Deployment is available and its Service has a ready endpoint.

        A pattern that fetches from a stand-in (git-source, config-server) is created only
        once the stand-in can answer, so a check observes the pattern, not the stand-in's
        start-up.
        """
        deadline = time.monotonic() + timeout
        w = watch.Watch()
        try:
            for ev in w.stream(self.apps.list_namespaced_deployment, self.namespace,
                               field_selector=f"metadata.name={name}",
                               timeout_seconds=max(1, int(timeout))):
                status = ev["object"].status
                if status.available_replicas and status.available_replicas >= (
                        ev["object"].spec.replicas or 1):
                    break
            else:
                raise AssertionError(f"stand-in {name}: Deployment not available within "
                                     f"{timeout:.0f}s")
        finally:
            w.stop()
        discovery = k8s.DiscoveryV1Api(self.api)
        remaining = max(1, int(deadline - time.monotonic()))
        w = watch.Watch()
        try:
            for ev in w.stream(discovery.list_namespaced_endpoint_slice, self.namespace,
                               label_selector=f"kubernetes.io/service-name={name}",
                               timeout_seconds=remaining):
                if any(e.conditions and e.conditions.ready
                       for e in ev["object"].endpoints or []):
                    return
        finally:
            w.stop()
        raise AssertionError(f"stand-in {name}: Service has no ready endpoint within "
                             f"{timeout:.0f}s")

    def delete_pod_final(self, name: str, *, grace: int | None = None,
                         timeout: float = 120) -> tuple[Timeline, dict]:
        """Delete a pod; return its shutdown timeline and the pod as last seen.

        A finalizer holds the deleted pod in the API until its containers are all terminated,
        so their final statuses (and the API's record of the deletion request, which checks
        that time the shutdown need) can be read; logs are streamed while they stop.
        """
        self.core.patch_namespaced_pod(name, self.namespace,
                                       {"metadata": {"finalizers": [HOLD_FINALIZER]}})
        follower = self.follow_logs(name)
        body = k8s.V1DeleteOptions(grace_period_seconds=grace)
        self.core.delete_namespaced_pod(name, self.namespace, body=body)
        try:
            pod = self.wait_pod(name, all_terminated, timeout=timeout,
                                what="every container to terminate after deletion")
            follower.join(timeout=15)
            timeline = Timeline(name, containers=spans_from_status(pod))
            for text in follower.texts():
                timeline.add_log(text)
            self._remember(timeline)
            return timeline, pod
        finally:
            release_pod(self.core, name, self.namespace)

    def job(self, name: str) -> dict:
        """A Job of the check's namespace, as a dict."""
        return self.api.sanitize_for_serialization(
            self.batch.read_namespaced_job(name, self.namespace))

    def wait_job(self, name: str, condition: Callable[[dict], bool], *, timeout: float,
                 what: str) -> dict:
        """Watch a Job until condition(job) holds; fail naming `what` and its last status."""
        return self.watch_until(self.batch.list_namespaced_job, name, condition,
                                timeout=timeout, what=what,
                                describe=lambda j: str(j.get("status")))

    def job_pod_name(self, job: str, *, timeout: float = 60) -> str:
        """The name of the first pod a Job created (found by its owner reference)."""

        def owned(pod: Any) -> bool:
            return any(ref.kind == "Job" and ref.name == job
                       for ref in pod.metadata.owner_references or [])

        deadline = time.monotonic() + timeout
        while (remaining := deadline - time.monotonic()) > 0:
            w = watch.Watch()
            try:
                for ev in w.stream(self.core.list_namespaced_pod, self.namespace,
                                   timeout_seconds=max(1, int(remaining))):
                    if owned(ev["object"]):
                        return ev["object"].metadata.name
            except ApiException as exc:
                if exc.status != 410:  # an expired watch just restarts
                    raise
            finally:
                w.stop()
        raise AssertionError(f"job {job}: no pod created within {timeout:.0f}s")


    def as_sent(self, obj: dict) -> dict:
        """The body podlife sends for obj: namespaced kinds moved into the check's namespace,
        cluster-scoped kinds (Namespace, ClusterRole...) without a namespace."""
        _, namespaced = api_resource(obj)
        if namespaced:
            return instrument.with_namespace(obj, self.namespace)
        result = copy.deepcopy(obj)
        result.get("metadata", {}).pop("namespace", None)
        return result

    def dry_run_raw(self, obj: dict) -> dict:
        """Server-side dry run of any kind in API_RESOURCES, returning the server's JSON as is.

        No client model sits between the server and the check (a model older than the
        server would drop fields itself), and decoding is strict like `kubectl create
        --dry-run=server`: an unknown field is an error, not a warning.
        """
        body = self.as_sent(obj)
        path = api_path(body, self.namespace)
        request = self.api.param_serialize(
            method="POST", resource_path=path,
            query_params=[("dryRun", "All"), ("fieldValidation", "Strict")],
            header_params={"Accept": "application/json", "Content-Type": "application/json"},
            body=body, auth_settings=["BearerToken"])
        response = self.api.call_api(*request)
        response.read()
        if not 200 <= response.status <= 299:
            raise ApiException.from_response(http_resp=response, body=None, data=None)
        return json.loads(response.data)

    def dry_run_apply_raw(self, obj: dict) -> dict:
        """Server-side-apply dry run (forced, strict): for an object that already exists,
        where a dry-run create only answers 409. Returns the server's JSON as is."""
        body = self.as_sent(obj)
        path = f"{api_path(body, self.namespace)}/{body['metadata']['name']}"
        request = self.api.param_serialize(
            method="PATCH", resource_path=path,
            query_params=[("dryRun", "All"), ("fieldManager", "podlife"), ("force", "true"),
                          ("fieldValidation", "Strict")],
            header_params={"Accept": "application/json",
                           "Content-Type": "application/apply-patch+yaml"},
            body=json.dumps(body), auth_settings=["BearerToken"])
        response = self.api.call_api(*request)
        response.read()
        if not 200 <= response.status <= 299:
            raise ApiException.from_response(http_resp=response, body=None, data=None)
        return json.loads(response.data)

    def wait_reported(self, pod: str, container: str, event: str = "ready", *,
                      timeout: float = 90) -> Timeline:
        """Wait until a container reported an event; returns the pod's timeline then.

        A pod is Ready as soon as its containers run, before their scripts have reported
        anything; a check that asserts on what a script reports waits for that report
        (by default `ready`, which a `serve` script prints once its body is done).
        """
        line = re.compile(rf"^\S+ {re.escape(instrument.MARKER)} {re.escape(container)} "
                          rf"{re.escape(event)}( |$)", re.MULTILINE)
        self.wait_log(pod, container, lambda text: bool(line.search(text)), timeout=timeout,
                      what=f"event '{event}'")
        return self.timeline(pod)


def release_pod(core: k8s.CoreV1Api, name: str, namespace: str) -> None:
    with contextlib.suppress(ApiException):
        core.patch_namespaced_pod(name, namespace, {"metadata": {"finalizers": None}})


class LogFollower:
    """One thread per container following its log (with timestamps) until it ends."""

    def __init__(self, f: Framework, pod: str) -> None:
        self.f = f
        self.pod = pod
        self.buffers: dict[str, list[str]] = {}
        self.threads: list[threading.Thread] = []

    def start(self) -> None:
        pod = self.f.pod(self.pod)
        for container in instrument.containers(pod):
            name = container["name"]
            self.buffers[name] = []
            thread = threading.Thread(target=self._follow, args=(name,), daemon=True)
            thread.start()
            self.threads.append(thread)

    def _follow(self, container: str) -> None:
        with contextlib.suppress(Exception):
            resp = self.f.core.read_namespaced_pod_log(
                self.pod, self.f.namespace, container=container, follow=True, timestamps=True,
                _preload_content=False)
            for line in resp.stream():
                self.buffers[container].append(line.decode(errors="replace"))

    def join(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        for thread in self.threads:
            thread.join(max(0.0, deadline - time.monotonic()))

    def texts(self) -> list[str]:
        return ["".join(chunks) for chunks in self.buffers.values()]


def is_ready(pod: dict) -> bool:
    return any(c.get("type") == "Ready" and c.get("status") == "True"
               for c in pod.get("status", {}).get("conditions") or [])


def all_terminated(pod: dict) -> bool:
    status = pod.get("status", {})
    statuses = (status.get("initContainerStatuses") or []) + (
        status.get("containerStatuses") or [])
    return bool(statuses) and all(
        (s.get("state") or {}).get("terminated") or (s.get("state") or {}).get("waiting")
        for s in statuses) and not any((s.get("state") or {}).get("running") for s in statuses)


def container_status(pod: dict, name: str) -> dict:
    status = pod.get("status", {})
    for s in (status.get("initContainerStatuses") or []) + (
            status.get("containerStatuses") or []):
        if s["name"] == name:
            return s
    return {}


def _brief(pod: dict) -> str:
    status = pod.get("status", {})
    parts = [f"phase={status.get('phase')}"]
    for s in (status.get("initContainerStatuses") or []) + (
            status.get("containerStatuses") or []):
        state = next(iter((s.get("state") or {}).keys()), "?")
        reason = ((s.get("state") or {}).get(state) or {}).get("reason", "")
        parts.append(f"{s['name']}={state}{'/' + reason if reason else ''}"
                     f"(restarts={s.get('restartCount', 0)})")
    return " ".join(parts)


def new_namespace(core: k8s.CoreV1Api, prefix: str, run_id: str) -> str:
    """A fresh, labelled namespace: podlife only ever deletes namespaces with its label."""
    clean = re.sub(r"[^a-z0-9-]+", "-", prefix.lower())[:40].strip("-")
    name = f"pl-{clean}-{uuid.uuid4().hex[:6]}"
    core.create_namespace({"metadata": {"name": name, "labels": {
        **MANAGED_BY, "podlife.dev/run": run_id}}})
    return name


def delete_namespace(core: k8s.CoreV1Api, name: str) -> None:
    """Release held pods, then delete the namespace (only if podlife made it)."""
    ns = core.read_namespace(name)
    if (ns.metadata.labels or {}).get("app.kubernetes.io/managed-by") != "podlife":
        return
    for pod in core.list_namespaced_pod(name).items:
        if HOLD_FINALIZER in (pod.metadata.finalizers or []):
            release_pod(core, pod.metadata.name, name)
    core.delete_namespace(name, body=k8s.V1DeleteOptions(grace_period_seconds=0))


def job_condition(job: dict, kind: str) -> dict:
    """A Job's condition of type `kind` when it is True, else {} (e.g. "Complete")."""
    for condition in (job.get("status") or {}).get("conditions") or []:
        if condition.get("type") == kind and condition.get("status") == "True":
            return condition
    return {}


#: kind -> (plural, namespaced) of the API objects podlife's manifests (and the next
#: tutorial's) hold, for requests made without a typed client.
API_RESOURCES: dict[str, tuple[str, bool]] = {
    "Pod": ("pods", True),
    "Service": ("services", True),
    "ConfigMap": ("configmaps", True),
    "Secret": ("secrets", True),
    "ServiceAccount": ("serviceaccounts", True),
    "Namespace": ("namespaces", False),
    "Deployment": ("deployments", True),
    "ReplicaSet": ("replicasets", True),
    "StatefulSet": ("statefulsets", True),
    "DaemonSet": ("daemonsets", True),
    "Job": ("jobs", True),
    "CronJob": ("cronjobs", True),
    "Role": ("roles", True),
    "RoleBinding": ("rolebindings", True),
    "ClusterRole": ("clusterroles", False),
    "ClusterRoleBinding": ("clusterrolebindings", False),
    "PodDisruptionBudget": ("poddisruptionbudgets", True),
    "PriorityClass": ("priorityclasses", False),
    "RuntimeClass": ("runtimeclasses", False),
}


def api_resource(obj: dict) -> tuple[str, bool]:
    """(plural, namespaced) of an object's kind; a kind podlife does not know fails loudly."""
    try:
        return API_RESOURCES[obj["kind"]]
    except KeyError:
        raise ValueError(f"dry run of {obj.get('kind')} is not supported by podlife") from None


def api_path(obj: dict, namespace: str) -> str:
    """The collection URL that creates obj: /api/v1/... or /apis/GROUP/VERSION/..."""
    plural, namespaced = api_resource(obj)
    version = obj["apiVersion"]
    prefix = f"/api/{version}" if "/" not in version else f"/apis/{version}"
    scope = f"/namespaces/{namespace}" if namespaced else ""
    return f"{prefix}{scope}/{plural}"
