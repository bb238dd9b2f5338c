"""What a failed check leaves behind: everything needed to see why, without the cluster.

For every pod in the check's namespace: its YAML, its events, and every container's log
(current and previous instance), plus the namespace's events, under
reports/<run>/evidence/<check>/; and the pods the check deleted and watched to the end, as
last seen (they are gone from the namespace by then, yet they are what the model judged).
"""

from __future__ import annotations

import contextlib
import re
from pathlib import Path

import yaml
from kubernetes import client as k8s
from kubernetes.client.rest import ApiException


def safe_name(nodeid: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", nodeid).strip("_")[:150]


def dump_namespace(api, namespace: str, out: Path) -> Path:
    """Write pod YAML, events and all container logs of a namespace into out/."""
    core = k8s.CoreV1Api(api)
    out.mkdir(parents=True, exist_ok=True)
    events = core.list_namespaced_event(namespace).items
    (out / "events.txt").write_text("\n".join(
        f"{e.last_timestamp or e.event_time} {e.involved_object.kind}/{e.involved_object.name} "
        f"{e.type} {e.reason}: {e.message}" for e in events) + "\n")
    for pod in core.list_namespaced_pod(namespace).items:
        name = pod.metadata.name
        as_dict = api.sanitize_for_serialization(pod)
        (out / f"{name}.yaml").write_text(yaml.safe_dump(as_dict, sort_keys=False))
        specs = (pod.spec.init_containers or []) + (pod.spec.containers or [])
        for container in specs:
            for previous in (False, True):
                text = ""
                with contextlib.suppress(ApiException):
                    text = core.read_namespaced_pod_log(name, namespace,
                                                        container=container.name,
                                                        timestamps=True, previous=previous)
                suffix = ".previous" if previous else ""
                (out / f"{name}.{container.name}{suffix}.log").write_text(text or "")
    for kind, lister in (("deployments", k8s.AppsV1Api(api).list_namespaced_deployment),
                         ("jobs", k8s.BatchV1Api(api).list_namespaced_job)):
        with contextlib.suppress(ApiException):
            items = [api.sanitize_for_serialization(i) for i in lister(namespace).items]
            if items:
                (out / f"{kind}.yaml").write_text(yaml.safe_dump_all(items, sort_keys=False))
    return out


def dump_finished(finished: dict, out: Path) -> Path | None:
    """Write the pods a check deleted and watched to the end (name -> (pod, timeline)), as
    last seen, into out/deleted-pods.yaml; None when there were none."""
    if not finished:
        return None
    out.mkdir(parents=True, exist_ok=True)
    path = out / "deleted-pods.yaml"
    path.write_text(yaml.safe_dump_all([pod for pod, _ in finished.values()], sort_keys=False))
    return path
