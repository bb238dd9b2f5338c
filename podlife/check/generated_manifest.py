"""A generated pod (podlife.model.generated) as podlife deploys it: every container a
podlife script on busybox whose events (start, probe files, liveness failure, exit) the
model reads, with the probes, hooks, restart policies and widgets the pod draws."""

from __future__ import annotations

from dataclasses import dataclass

from podlife.check.instrument import Script
from podlife.core.images import ImageMap
from podlife.core.timeline import MARKER
from podlife.model.generated import GenContainer, GenPod
from podlife.model.pod import (
    LIVENESS_COMMAND,
    LIVENESS_FAILS,
    NOT_LIVE_FILE,
    READY_FILE,
    READY_FILE_MADE,
    STARTUP_READY,
)

NAME = "generated"


#: The file a startupProbe waits for; the script reports STARTUP_READY just before it
#: creates it, so no probe can pass before that event.
STARTED_FILE = "/tmp/podlife-started"


def script(pod: GenPod, name: str) -> Script:
    behaviour = next(c.behaviour for c in pod.containers if c.name == name)
    # In the background, timed from the start ("&" ends that command: no ";" after it);
    # reported just before the file that fails the probe exists, so no liveness failure
    # can come before the event.
    background = (f"(sleep {behaviour.liveness:g}; ev {LIVENESS_FAILS}; "
                  f"touch {NOT_LIVE_FILE}) & " if behaviour.fails_liveness else "")
    steps = [f"sleep {behaviour.after_s:g}"] if behaviour.after_s else []
    if behaviour.startup_s is not None:
        steps += [f"sleep {behaviour.startup_s:g}", f"ev {STARTUP_READY}",
                  f"touch {STARTED_FILE}"]
    if isinstance(behaviour.readiness, float):
        # Reported just before the file exists: no readinessProbe can pass before it.
        steps += [f"sleep {behaviour.readiness:g}", f"ev {READY_FILE_MADE}",
                  f"touch {READY_FILE}"]
    body = (background + "; ".join(steps)).strip()
    if behaviour.exits_with is None:
        return Script(body=body, serve=True, on_term=behaviour.on_term)
    return Script(body=body, exit_code=behaviour.exits_with)


@dataclass(frozen=True)
class Widgets:
    """Where a pod's widgets come from on the cluster: the node advertising them, the
    resource's name there, and the RuntimeClass adding the overhead (None: no overhead)."""

    node: str
    resource: str
    runtime_class: str | None = None


def manifest(pod: GenPod, images: ImageMap, widgets: Widgets | None = None) -> dict:
    """The pod as podlife deploys it: every container a podlife script on busybox. Its
    widgets are named as `widgets` says (the overhead is set by the RuntimeClass)."""
    def container(c: GenContainer) -> dict:
        requests = {"cpu": f"{c.cpu_m}m", "memory": "8Mi"}
        resources: dict = {"requests": requests}
        if widgets is not None and c.widgets:
            requests[widgets.resource] = str(c.widgets)
            resources["limits"] = {widgets.resource: str(c.widgets)}
        out = {"name": c.name, "image": images.ref("busybox"), "imagePullPolicy": "IfNotPresent",
               "command": ["sh", "-c", script(pod, c.name).render(c.name)],
               "resources": resources}
        if c.kind == "sidecar":
            out["restartPolicy"] = "Always"
        elif c.restart_policy is not None:
            out["restartPolicy"] = c.restart_policy
            if c.restart_on:
                out["restartPolicyRules"] = [{"action": "Restart", "exitCodes": {
                    "operator": "In", "values": list(c.restart_on)}}]
        if c.behaviour.prestop:
            # The hook reports into the container's log as it starts, and works for 1 s.
            report = f"echo {MARKER} {c.name} prestop > /proc/1/fd/1; sleep 1"
            out["lifecycle"] = {"preStop": {"exec": {"command": ["sh", "-c", report]}}}
        if c.behaviour.startup_s is not None:
            out["startupProbe"] = {"exec": {"command": ["test", "-f", STARTED_FILE]},
                                   "periodSeconds": 1, "failureThreshold": 60}
        if c.behaviour.readiness is not None:
            out["readinessProbe"] = {"exec": {"command": ["test", "-f", READY_FILE]},
                                     "periodSeconds": 1, "failureThreshold": 1}
        if c.behaviour.liveness is not None:
            # initialDelaySeconds 1: until the first probe the kubelet holds its initial
            # result (Success), which a correct kubelet must not act on. Three failures
            # of 3 s at most each: an exec slowed by a loaded node is not a failure.
            out["livenessProbe"] = {"exec": {"command": LIVENESS_COMMAND},
                                    "initialDelaySeconds": 1, "periodSeconds": 1,
                                    "timeoutSeconds": 3, "failureThreshold": 3}
        return out

    spec = {"restartPolicy": pod.restart_policy,
            "terminationGracePeriodSeconds": pod.grace_s,
            "initContainers": [container(c) for c in pod.of_kind("init", "sidecar")],
            "containers": [container(c) for c in pod.of_kind("app")]}
    if widgets is not None and widgets.runtime_class:
        spec["runtimeClassName"] = widgets.runtime_class
    return {"apiVersion": "v1", "kind": "Pod",
            "metadata": {"name": NAME, "labels": {"app.kubernetes.io/managed-by": "podlife"},
                         "annotations": {"podlife.dev/generated": pod.describe()}},
            "spec": spec}
