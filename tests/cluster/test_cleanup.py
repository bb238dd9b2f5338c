"""What a check leaves behind on a real cluster: stop_workloads and the fixture's choice.

On a cluster the run tears down, the check's namespace stays and only what runs in it is
stopped; everywhere else (a kept, reused or existing cluster) the namespace is deleted.
"""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest
from kubernetes import client as k8s

from podlife.check.namespaces import HOLD_FINALIZER, new_namespace, stop_workloads
from podlife.cluster.local.cluster import ClusterInfo, api_client
from podlife.core.images import ImageMap
from podlife.plugin.checks import clean_up
from tests.helpers import local_cluster


@pytest.fixture(scope="module")
def cluster() -> Iterator[ClusterInfo]:
    with local_cluster("ci-cleanup") as info:
        yield info


def sleeper(name: str) -> dict:
    image = ImageMap("local").ref("busybox")
    return {"metadata": {"name": name, "labels": {"app": name}},
            "spec": {"terminationGracePeriodSeconds": 1, "containers": [
                {"name": "main", "image": image, "command": ["sleep", "3600"]}]}}


def start_workloads(api: k8s.ApiClient, namespace: str) -> None:
    """A Deployment, a Job, a pod held by podlife's finalizer and a Service."""
    core, apps, batch = k8s.CoreV1Api(api), k8s.AppsV1Api(api), k8s.BatchV1Api(api)
    apps.create_namespaced_deployment(namespace, {
        "metadata": {"name": "web"},
        "spec": {"replicas": 2, "selector": {"matchLabels": {"app": "web"}},
                 "template": sleeper("web")}})
    job_pod = sleeper("job")
    job_pod["spec"]["restartPolicy"] = "Never"
    batch.create_namespaced_job(namespace, {"metadata": {"name": "job"},
                                            "spec": {"template": job_pod}})
    held = sleeper("held")
    held["metadata"]["finalizers"] = [HOLD_FINALIZER]
    core.create_namespaced_pod(namespace, held)
    core.create_namespaced_service(namespace, {
        "metadata": {"name": "web"},
        "spec": {"selector": {"app": "web"}, "ports": [{"port": 80}]}})
    deadline = time.monotonic() + 60
    while len(core.list_namespaced_pod(namespace).items) < 4:
        assert time.monotonic() < deadline, "the workloads' 4 pods never appeared"
        time.sleep(0.2)


def pods_gone(core: k8s.CoreV1Api, namespace: str, timeout: float = 60) -> list[str]:
    """The pods still in the namespace after waiting (empty when all went)."""
    deadline = time.monotonic() + timeout
    while left := [p.metadata.name for p in core.list_namespaced_pod(namespace).items]:
        if time.monotonic() > deadline:
            return left
        time.sleep(0.5)
    return []


@pytest.fixture
def busy_namespace(cluster) -> tuple[k8s.ApiClient, k8s.CoreV1Api, str]:
    """A new namespace with the workloads running: the API client, core API and its name."""
    api = api_client(cluster.kubeconfig)
    core = k8s.CoreV1Api(api)
    namespace = new_namespace(core, "cleanup", "test-run")
    start_workloads(api, namespace)
    return api, core, namespace


@pytest.mark.cluster
def test_stop_workloads_stops_every_pod_and_keeps_the_namespace(busy_namespace) -> None:
    api, core, namespace = busy_namespace
    stop_workloads(api, namespace)
    assert pods_gone(core, namespace) == [], "stopped workloads left pods (a controller " \
        "replaced them, or the held pod kept its finalizer)"
    assert k8s.AppsV1Api(api).list_namespaced_deployment(namespace).items == []
    assert k8s.AppsV1Api(api).list_namespaced_replica_set(namespace).items == []
    assert k8s.BatchV1Api(api).list_namespaced_job(namespace).items == []
    assert core.list_namespaced_service(namespace).items == []
    assert core.read_namespace(namespace).status.phase == "Active"


@pytest.mark.cluster
def test_the_namespace_is_deleted_unless_the_cluster_goes_next(busy_namespace) -> None:
    _, core, namespace = busy_namespace
    clean_up(core, namespace, cluster_goes_next=False)
    assert core.read_namespace(namespace).status.phase == "Terminating"
    assert pods_gone(core, namespace) == []


