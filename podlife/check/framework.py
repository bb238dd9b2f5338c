"""What a check works with: clients, a namespace of its own, and what the provider allows.

The Framework is thin on purpose: it binds the check's API client and namespace to the
small modules that do the work (apply, pods, workloads, logs, namespaces), so a check
reads `f.create(...)`, `f.wait_ready(...)`, `f.timeline(...)`. Every wait watches observed
state; nothing here sleeps for a fixed time to let things happen. The timelines a check
looked at are kept, for its results and its evidence.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from kubernetes import client as k8s
from kubernetes.stream import stream

from podlife.check import (
    apply,
    eviction,
    instrument,
    logs,
    manifests,
    namespaces,
    pods,
    workloads,
)
from podlife.check.outcomes import unsupported
from podlife.core.images import ImageMap
from podlife.core.timeline import Timeline

__all__ = ["Framework", "unsupported"]


@dataclass
class Framework:
    """One check's view of the cluster: clients, its namespace, the image map."""

    api: Any
    namespace: str
    images: ImageMap
    may_change_nodes: bool = False
    timelines: list[Timeline] = field(default_factory=list)
    #: The Kubernetes minor of the nodes' kubelets (None: not known), for the model's rules.
    release_minor: int | None = None
    #: Pods the check deleted and watched to the end: as last seen, with their timelines.
    finished: dict[str, tuple[dict, Timeline]] = field(default_factory=dict)

    @property
    def core(self) -> k8s.CoreV1Api:
        return k8s.CoreV1Api(self.api)

    @property
    def apps(self) -> k8s.AppsV1Api:
        return k8s.AppsV1Api(self.api)

    # ----- sending objects ----------------------------------------------------------
    def create(self, obj: dict) -> dict:
        """Create an object in the check's namespace; returns it as the server stored it."""
        return apply.create(self.api, obj, self.namespace)

    def create_support(self, *names: str) -> None:
        """Create stand-ins from manifests/support/ (their images mapped for this cluster)."""
        for name in names:
            for obj in manifests.support(name):
                self.create(instrument.map_images(obj, self.images))

    def as_sent(self, obj: dict) -> dict:
        return apply.as_sent(self.api, obj, self.namespace)

    def dry_run(self, obj: dict) -> dict:
        return apply.dry_run(self.api, obj, self.namespace)

    def dry_run_apply(self, obj: dict) -> dict:
        return apply.dry_run_apply(self.api, obj, self.namespace)

    # ----- pods ---------------------------------------------------------------------
    def pod(self, name: str) -> dict:
        return pods.read(self.api, self.namespace, name)

    def wait_pod(self, name: str, until: Callable[[dict], bool], *, timeout: float,
                 what: str, never: Callable[[dict], str | None] | None = None) -> dict:
        return pods.wait_pod(self.api, self.namespace, name, until, timeout=timeout,
                             what=what, never=never)

    # Every wait takes `why`: the check's reason for waiting, said by its timeout error.
    def wait_ready(self, name: str, timeout: float = 90, *, why: str = "") -> dict:
        return pods.wait_ready(self.api, self.namespace, name, timeout, why=why)

    def wait_phase(self, name: str, phases: tuple[str, ...], timeout: float = 90, *,
                   why: str = "") -> dict:
        return pods.wait_phase(self.api, self.namespace, name, phases, timeout, why=why)

    def wait_gone(self, name: str, *, timeout: float, why: str = "") -> dict | None:
        return pods.wait_gone(self.api, self.namespace, name, timeout=timeout, why=why)

    def wait_event(self, name: str, reason: str, *, timeout: float = 60,
                   contains: str = "", count: int = 1, why: str = "") -> dict:
        return pods.wait_event(self.api, self.namespace, name, reason, timeout=timeout,
                               contains=contains, count=count, why=why)

    def events_for(self, name: str) -> list[dict]:
        return pods.events_for(self.api, self.namespace, name)

    def exec(self, pod: str, container: str, command: list[str]) -> str:
        """Run a command in a running container (through the API server); its output."""
        return stream(self.core.connect_get_namespaced_pod_exec, pod, self.namespace,
                      container=container, command=command, stderr=True, stdin=False,
                      stdout=True, tty=False)

    def delete_pod_final(self, name: str, *, grace: int | None = None,
                         timeout: float = 120) -> tuple[Timeline, dict]:
        timeline, pod = namespaces.delete_pod_final(self.api, self.namespace, name,
                                                    grace=grace, timeout=timeout)
        self.finished[name] = (pod, timeline)
        return self._remember(timeline), pod

    def evict_together(self, names: list[str], *, timeout: float = 120
                       ) -> tuple[dict[str, Any], dict[str, tuple[Timeline, dict]]]:
        """Evict the pods at the same moment through the Eviction API; returns each
        answer (None: allowed, else the refusal) and, for each allowed one, its shutdown
        timeline and final pod (podlife.check.eviction)."""
        watches, answers = eviction.evict_together(self.api, self.namespace, names)
        observed = {}
        for name, answer in answers.items():
            if answer is not None:
                watches[name].release()
                continue
            timeline, pod = watches[name].stopped(timeout)
            self.finished[name] = (pod, timeline)
            observed[name] = (self._remember(timeline), pod)
        return answers, observed

    def delete_pod_observed(self, name: str, *, grace: int | None = None,
                            timeout: float = 120) -> Timeline:
        return self.delete_pod_final(name, grace=grace, timeout=timeout)[0]

    # ----- logs and timelines -------------------------------------------------------
    def logs(self, pod: str, container: str, *, previous: bool = False) -> str:
        return logs.read_log(self.api, self.namespace, pod, container, previous=previous)

    def wait_log(self, pod: str, container: str, condition: Callable[[str], bool], *,
                 timeout: float, what: str) -> str:
        return logs.wait_log(self.api, self.namespace, pod, container, condition,
                             timeout=timeout, what=what)

    def follow_logs(self, pod: str, *containers: str) -> logs.LogFollower:
        """Start following the containers' logs now: what an instance prints is kept even
        if the kubelet keeps no record of it once it is replaced (previous=True may be
        empty, kubernetes/kubernetes#101044)."""
        return logs.LogFollower(self.api, self.namespace, pod).start(*containers)

    def timeline(self, name: str) -> Timeline:
        return self._remember(logs.pod_timeline(self.api, self.namespace, name))

    def wait_reported(self, pod: str, container: str, event: str = "ready", *,
                      timeout: float = 90) -> Timeline:
        return self._remember(logs.wait_reported(self.api, self.namespace, pod, container,
                                                 event, timeout=timeout))

    def _remember(self, timeline: Timeline) -> Timeline:
        self.timelines = [t for t in self.timelines if t.pod != timeline.pod] + [timeline]
        return timeline

    # ----- workloads ----------------------------------------------------------------
    def wait_deployment_available(self, name: str, replicas: int, *,
                                  timeout: float = 120) -> dict:
        return workloads.wait_deployment_available(self.api, self.namespace, name, replicas,
                                                   timeout=timeout)

    def wait_job(self, name: str, until: Callable[[dict], bool], *, timeout: float,
                 what: str) -> dict:
        return workloads.wait_job(self.api, self.namespace, name, until, timeout=timeout,
                                  what=what)

    def job_pod_name(self, job: str, *, timeout: float = 60) -> str:
        return workloads.job_pod_name(self.api, self.namespace, job, timeout=timeout)

    def wait_support(self, name: str, timeout: float = 90) -> None:
        workloads.wait_support(self.api, self.namespace, name, timeout)
