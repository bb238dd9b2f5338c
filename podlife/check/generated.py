"""A generated pod (podlife.model.generated) on the cluster: built as an instrumented
manifest, left until it settles where the model predicts (or deleted at its random point),
deleted with its grace period, and judged by the model's rules: every status snapshot seen
on the way, and the whole timeline at the end. Disagreements come back as lines."""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable
from typing import TYPE_CHECKING

from podlife.check import pod_state
from podlife.check.generated_manifest import NAME, Widgets, manifest
from podlife.check.widgets import advertised, runtime_class
from podlife.model import rules
from podlife.model.generated import GenPod, Prediction, predict
from podlife.model.judge import judge_status
from podlife.model.verdict import Violation

if TYPE_CHECKING:
    from podlife.check.framework import Framework

#: Seconds for a pod to settle: the slowest shape (4 init containers of 2 s, back-off of a
#: failing init container's first retry: 10 s) with room for a loaded node.
SETTLE_TIMEOUT_S = 90


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


def _held_back(pod: dict, name: str) -> bool:
    """The kubelet holds the container's next restart back (waiting in CrashLoopBackOff),
    or it has started a third time (whether that waited, the back-off rule judges)."""
    waiting = (pod_state.container_status(pod, name).get("state") or {}).get("waiting") or {}
    return waiting.get("reason") == "CrashLoopBackOff" or pod_state.restarts(pod, name) >= 2


def settled(prediction: Prediction) -> Callable[[dict], bool]:
    """The condition the pod settles on, by the prediction; it also holds as soon as the
    pod contradicts the prediction in a way no later state can undo."""
    def done(pod: dict) -> bool:
        if not prediction.scheduled:
            return bool(_node(pod)) or _unschedulable(pod)
        if pod_state.phase(pod) in ("Succeeded", "Failed") or _restarted(prediction, pod):
            return True
        if not all(_held_back(pod, name) for name in prediction.backs_off):
            return False
        if not all(pod_state.restarts(pod, name) >= 1
                   for name in prediction.killed_by_liveness):
            return False
        if not all(pod_state.container_status(pod, name).get("ready") is True
                   for name in prediction.ready):
            return False
        if prediction.phase is None:
            return all(_ran(pod, name) for name in prediction.starts) and all(
                pod_state.restarts(pod, name) >= 1 for name in prediction.crashing_gates)
        if prediction.phase in ("Succeeded", "Failed"):
            return False
        if not all(_ran(pod, name) for name in prediction.starts):
            return False
        return all(_first_exit(pod, name) is not None for name, _ in prediction.exits)
    return done


def _node(pod: dict) -> str:
    return (pod.get("spec") or {}).get("nodeName") or ""


def _unschedulable(pod: dict) -> bool:
    """The scheduler's verdict: PodScheduled False, reason Unschedulable."""
    found = pod_state.condition(pod, "PodScheduled")
    return found.get("status") == "False" and found.get("reason") == "Unschedulable"


def _scheduling(prediction: Prediction, pod: dict, model: GenPod) -> list[str]:
    """A pod bound although its effective request exceeds what the node advertises."""
    if prediction.scheduled or not _node(pod):
        return []
    return [Violation(rules.SCHEDULED_ONLY_IF_FITS, NAME,
                      f"no node (an effective request of {model.effective_widgets()} "
                      f"widgets, overhead {model.overhead} included, where the one node "
                      f"with them advertises {model.capacity})",
                      f"bound to {_node(pod)}, phase {pod_state.phase(pod)}").line()]


def _restarted(prediction: Prediction, pod: dict) -> list[str]:
    """Containers run again that the model runs once."""
    return [name for name in prediction.runs_once if pod_state.restarts(pod, name) > 0]


def disagreements(prediction: Prediction, pod: dict, model: GenPod) -> list[str]:
    """Where the settled pod differs from the prediction (the rules judge the rest)."""
    found = _scheduling(prediction, pod, model)
    if prediction.stays and pod_state.phase(pod) in ("Succeeded", "Failed"):
        found.append(f"phase: expected one that is not terminal (an app serves, and the "
                     f"sidecar {', '.join(prediction.crashing_gates)} is restarted), "
                     f"observed {pod_state.phase(pod)}")
    if prediction.phase is not None and pod_state.phase(pod) != prediction.phase:
        found.append(f"phase: expected {prediction.phase}, observed {pod_state.phase(pod)}")
    for name in prediction.never_starts:
        if _ran(pod, name):
            found.append(f"{name}: expected never to start, observed {pod_state.brief(pod)}")
    for name, code in prediction.exits:
        observed = _first_exit(pod, name)
        if observed != code:
            found.append(f"{name}: expected its first run to exit {code}, observed {observed}")
    for name in _restarted(prediction, pod):
        found.append(f"{name}: expected to run once, observed restartCount "
                     f"{pod_state.restarts(pod, name)}")
    if prediction.phase == "Running" and prediction.ready and not prediction.never_ready:
        apps_sidecars = {c.name for c in model.containers if c.kind != "init"}
        ready = pod_state.condition(pod, "Ready").get("status")
        if apps_sidecars <= set(prediction.ready) and ready != "True":
            found.append(f"Ready: expected True (every app and sidecar serves and is ready), "
                         f"observed {ready}")
    return found


class SnapshotJudge:
    """Applies the status rules to every snapshot of the pod a wait sees; the first
    violations found are kept (later snapshots repeat them)."""

    def __init__(self, minor: int | None) -> None:
        self.minor = minor
        self.lines: list[str] = []

    def __call__(self, pod: dict) -> bool:
        """True once a snapshot broke a rule (so a wait can stop there)."""
        if not self.lines:
            self.lines = [v.line() for v in judge_status(pod, self.minor)]
        return bool(self.lines)


def _any_started(pod: dict) -> bool:
    status = pod.get("status") or {}
    return any(pod_state.has_started(pod, entry["name"])
               for entry in (status.get("initContainerStatuses") or [])
               + (status.get("containerStatuses") or []))


def run_example(f: Framework, pod: GenPod) -> None:
    """Create, wait until settled as predicted (or until the random point of deletion),
    compare, delete observed: fails (with the model's expectation beside what was seen) on
    any disagreement. The invariants then judge the whole timeline and the final pod.
    A pod asking for widgets runs while one node advertises them (and its RuntimeClass
    adds the overhead); both are removed afterwards."""
    if pod.job is not None:
        from podlife.check.generated_job import run_job

        run_job(f, pod)
        return
    with contextlib.ExitStack() as stack:
        widgets = None
        if pod.capacity is not None:
            node, resource = stack.enter_context(advertised(f, pod.capacity))
            handler = (stack.enter_context(runtime_class(f, resource, pod.overhead))
                       if pod.overhead else None)
            widgets = Widgets(node, resource, handler)
        _run(f, pod, manifest(pod, f.images, widgets))


def _run(f: Framework, pod: GenPod, body: dict) -> None:
    prediction = predict(pod)
    snapshots = SnapshotJudge(f.release_minor)
    f.create(body)
    if pod.delete_after_s is not None:
        f.wait_pod(NAME, lambda p: snapshots(p) or _any_started(p), timeout=SETTLE_TIMEOUT_S,
                   what="a first container to start")
        time.sleep(pod.delete_after_s)  # the point of deletion: a stimulus, not a wait
        _, final = f.delete_pod_final(NAME, timeout=pod.grace_s + 60)
        snapshots(final)
        problems = snapshots.lines
    else:
        done = settled(prediction)
        try:
            settled_pod = f.wait_pod(NAME, lambda p: snapshots(p) or done(p),
                                     timeout=SETTLE_TIMEOUT_S,
                                     what=f"the pod to settle as predicted "
                                          f"({prediction.phase or 'a sidecar restarted'})")
        except AssertionError as exc:
            gone = _deleted(f, pod)
            ruled, timelines = _rules_broken(f, []) if gone else ("", "")
            raise AssertionError(f"{ruled}model: {pod.describe()}\npredicted {prediction}\n"
                                 f"{exc}{timelines}") from exc
        problems = snapshots.lines + disagreements(prediction, settled_pod, pod)
        f.delete_pod_final(NAME, timeout=pod.grace_s + 60)
    if problems:
        ruled, timelines = _rules_broken(f, problems)
        raise AssertionError(f"{ruled}model disagrees: {'; '.join(problems)}\n"
                             f"pod: {pod.describe()}\npredicted: {prediction}{timelines}")


def _deleted(f: Framework, pod: GenPod) -> bool:
    """Delete a pod that did not settle, watching it to the end; False if not gone in time
    (the timeout alone is then the failure)."""
    try:
        f.delete_pod_final(NAME, timeout=pod.grace_s + 60)
    except AssertionError:
        return False
    return True


def _rules_broken(f: Framework, already: list[str]) -> tuple[str, str]:
    """The deleted pod judged by every rule now, not after the check: the lines of the
    rules it broke (they name the cause, so they lead the failure; those the snapshots
    already gave are not repeated) and its timeline."""
    from podlife.check.invariants import judge_namespace

    verdict = judge_namespace(f.api, f.namespace, f.finished, f.release_minor)
    lines = [line for line in verdict.violation_lines() if line not in already]
    return ("".join(f"{line}\n" for line in lines),
            "".join(f"\n{text}" for text in verdict.broken_timelines()) if lines else "")
