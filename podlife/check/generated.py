"""A generated pod (podlife.model.generated) on the cluster: built as an instrumented
manifest, left until it settles where the model predicts, deleted with its grace period,
and judged by the model's rules at both moments. Disagreements come back as lines."""

from __future__ import annotations

from typing import TYPE_CHECKING

from podlife.check import pod_state
from podlife.check.instrument import Script
from podlife.model.generated import GenPod, Prediction, predict

if TYPE_CHECKING:
    from podlife.check.framework import Framework

NAME = "generated"
#: Seconds for a pod to settle: the slowest shape (4 init containers of 2 s, back-off of a
#: failing init container's first retry: 10 s) with room for a loaded node.
SETTLE_TIMEOUT_S = 90


def script(pod: GenPod, name: str) -> Script:
    behaviour = next(c.behaviour for c in pod.containers if c.name == name)
    body = f"sleep {behaviour.after_s:g}" if behaviour.after_s else ""
    if behaviour.exits_with is None:
        return Script(body=body, serve=True, on_term=behaviour.on_term)
    return Script(body=body, exit_code=behaviour.exits_with)


def manifest(pod: GenPod, images) -> dict:
    """The pod as podlife deploys it: every container a podlife script on busybox."""
    def container(c) -> dict:
        out = {"name": c.name, "image": images.ref("busybox"), "imagePullPolicy": "IfNotPresent",
               "command": ["sh", "-c", script(pod, c.name).render(c.name)],
               "resources": {"requests": {"cpu": f"{c.cpu_m}m", "memory": "8Mi"}}}
        if c.kind == "sidecar":
            out["restartPolicy"] = "Always"
        return out

    return {"apiVersion": "v1", "kind": "Pod",
            "metadata": {"name": NAME, "labels": {"app.kubernetes.io/managed-by": "podlife"},
                         "annotations": {"podlife.dev/generated": pod.describe()}},
            "spec": {"restartPolicy": pod.restart_policy,
                     "terminationGracePeriodSeconds": pod.grace_s,
                     "initContainers": [container(c) for c in pod.of_kind("init", "sidecar")],
                     "containers": [container(c) for c in pod.of_kind("app")]}}


def _ran(pod: dict, name: str) -> bool:
    status = pod_state.container_status(pod, name)
    return (pod_state.has_started(pod, name) or pod_state.restarts(pod, name) > 0
            or "terminated" in (status.get("lastState") or {}))


def _first_exit(pod: dict, name: str) -> int | None:
    status = pod_state.container_status(pod, name)
    last = (status.get("lastState") or {}).get("terminated")
    if last is not None:
        return last.get("exitCode")
    return pod_state.exit_code(pod, name)


def settled(prediction: Prediction):
    """The condition the pod settles on, by the prediction."""
    def done(pod: dict) -> bool:
        if prediction.phase in ("Succeeded", "Failed"):
            return pod_state.phase(pod) == prediction.phase
        if not all(_ran(pod, name) for name in prediction.starts):
            return False
        return all(_first_exit(pod, name) is not None for name, _ in prediction.exits)
    return done


def disagreements(prediction: Prediction, pod: dict) -> list[str]:
    """Where the settled pod differs from the prediction (the rules judge the rest)."""
    found = []
    if pod_state.phase(pod) != prediction.phase:
        found.append(f"phase: expected {prediction.phase}, observed {pod_state.phase(pod)}")
    for name in prediction.never_starts:
        if _ran(pod, name):
            found.append(f"{name}: expected never to start, observed {pod_state.brief(pod)}")
    for name, code in prediction.exits:
        observed = _first_exit(pod, name)
        if observed != code:
            found.append(f"{name}: expected its first run to exit {code}, observed {observed}")
    return found


def run_example(f: Framework, pod: GenPod) -> None:
    """Create, wait until settled as predicted, compare, delete observed: fails (with the
    model's expectation beside what was seen) on any disagreement."""
    prediction = predict(pod)
    f.create(manifest(pod, f.images))
    try:
        settled_pod = f.wait_pod(NAME, settled(prediction), timeout=SETTLE_TIMEOUT_S,
                                 what=f"the pod to settle as predicted ({prediction.phase})")
    except AssertionError as exc:
        raise AssertionError(f"model: {pod.describe()}\npredicted {prediction}\n{exc}") from exc
    problems = disagreements(prediction, settled_pod)
    f.delete_pod_final(NAME, timeout=pod.grace_s + 60)
    if problems:
        raise AssertionError(f"model disagrees: {'; '.join(problems)}\n"
                             f"pod: {pod.describe()}\npredicted: {prediction}")
