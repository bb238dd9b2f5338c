"""Waiting for Deployments, Jobs and the in-cluster stand-ins a pattern depends on."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from kubernetes import client as k8s

from podlife.check.waits import watch_until


def _status(obj: dict) -> str:
    return str(obj.get("status"))


def wait_deployment_available(api: Any, namespace: str, name: str, replicas: int, *,
                              timeout: float = 120) -> dict:
    """The Deployment's rollout is complete with exactly `replicas` available."""

    def done(d: dict) -> bool:
        status = d.get("status") or {}
        return (status.get("observedGeneration", 0) >= d["metadata"]["generation"]
                and status.get("updatedReplicas") == replicas
                and status.get("availableReplicas") == replicas
                and status.get("replicas") == replicas)

    return watch_until(k8s.AppsV1Api(api).list_namespaced_deployment, api=api,
                       namespace=namespace, name=name, until=done, timeout=timeout,
                       what=f"{replicas} available replicas", describe=_status)


def read_job(api: Any, namespace: str, name: str) -> dict:
    return api.sanitize_for_serialization(k8s.BatchV1Api(api).read_namespaced_job(name,
                                                                                  namespace))


def job_condition(job: dict, kind: str) -> dict:
    """A Job's condition of type `kind` when it is True, else {} (e.g. "Complete")."""
    for condition in (job.get("status") or {}).get("conditions") or []:
        if condition.get("type") == kind and condition.get("status") == "True":
            return condition
    return {}


def wait_job(api: Any, namespace: str, name: str, until: Callable[[dict], bool], *,
             timeout: float, what: str) -> dict:
    """Watch a Job until until(job) holds; fail naming `what` and its last status."""
    return watch_until(k8s.BatchV1Api(api).list_namespaced_job, api=api, namespace=namespace,
                       name=name, until=until, timeout=timeout, what=what, describe=_status)


def job_pod_name(api: Any, namespace: str, job: str, *, timeout: float = 60) -> str:
    """The name of the first pod a Job created (found by its owner reference) that is not
    being deleted (an evicted pod's replacement, after a drain)."""

    def owned(pod: dict) -> bool:
        return not pod["metadata"].get("deletionTimestamp") and any(
            ref.get("kind") == "Job" and ref.get("name") == job
            for ref in pod["metadata"].get("ownerReferences") or [])

    pod = watch_until(k8s.CoreV1Api(api).list_namespaced_pod, api=api, namespace=namespace,
                      until=owned, timeout=timeout, what=f"a pod of job {job}")
    return pod["metadata"]["name"]


def wait_support(api: Any, namespace: str, name: str, timeout: float = 90) -> None:
    """A stand-in's Deployment is available and its Service has a ready endpoint.

    A pattern that fetches from a stand-in (git-source, config-server) is created only
    once the stand-in can answer, so a check observes the pattern, not the stand-in's
    start-up.
    """

    def available(d: dict) -> bool:
        wanted = (d.get("spec") or {}).get("replicas") or 1
        return ((d.get("status") or {}).get("availableReplicas") or 0) >= wanted

    def ready_endpoint(slice_: dict) -> bool:
        return any((e.get("conditions") or {}).get("ready") for e in slice_.get("endpoints")
                   or [])

    watch_until(k8s.AppsV1Api(api).list_namespaced_deployment, api=api, namespace=namespace,
                name=name, until=available, timeout=timeout,
                what=f"stand-in {name}'s Deployment to be available", describe=_status)
    watch_until(k8s.DiscoveryV1Api(api).list_namespaced_endpoint_slice, api=api,
                namespace=namespace, label_selector=f"kubernetes.io/service-name={name}",
                until=ready_endpoint, timeout=timeout,
                what=f"a ready endpoint of stand-in {name}'s Service",
                describe=lambda s: str(s.get("endpoints")))
