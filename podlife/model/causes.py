"""Why a container got SIGTERM: every signal the kubelet sends has a cause it can name
(the pod's deletion or end, or the container's own failed probe), and one without any is a
kubelet that stops containers it should keep (rules.SIGTERM_ONLY_WITH_A_CAUSE).

The causes, from computePodActions and computeInitContainerActions (v1.37.2): a running
container is killed when its definition changed (podlife never changes one), its liveness
or startup probe failed, a resize needs a restart (podlife resizes nothing), or nothing is
left to keep or restart (KillPod); and a whole pod is stopped when it is deleted or the
kubelet ends it (eviction, activeDeadlineSeconds: status.reason says which).
"""

from __future__ import annotations

from collections.abc import Iterator

from podlife.core.timeline import Event
from podlife.model import rules
from podlife.model.ordering import after_deletion, at_offset, first_start, probe_kill
from podlife.model.pod import STARTUP_READY, Container, Pod, Run
from podlife.model.restarts import restarts_after_exit, restarts_after_kill
from podlife.model.verdict import Violation


def _before(event: Event | None, signal: Event) -> bool:
    return event is not None and event.sort_key() < signal.sort_key()


def _own_probe_failed(container: Container, run: Run, signal: Event) -> bool:
    """Its own probe may have failed by then: podlife's liveness probe only once the run
    reported making it fail; any other liveness probe at any time; a startupProbe before
    the run reported it can pass (or, not podlife's, at any time)."""
    if container.liveness_probe and (not container.podlife_liveness
                                     or probe_kill(container, run, signal)):
        return True
    return container.startup_probe and not (
        container.reports_startup and _before(run.first(STARTUP_READY), signal))


def _terminated_in_status(pod: Pod, container: Container) -> bool:
    status = pod.container_status(container.name) or {}
    return "terminated" in (status.get("state") or {})


def _apps_done(pod: Pod, signal: Event) -> bool:
    """Every app is done for good by the signal, so the kubelet stops the pod's sidecars:
    each app's last run ended before it and the restart decision (the pod's policy, or the
    app's own and its rules) does not start it again. An app whose last exit was not seen
    (killed, or unobserved) but is terminated in the status may have been done: not
    judged."""
    known = {c.name for c in pod.containers}
    if any(entry.get("name") not in known
           for entry in (pod.status or {}).get("containerStatuses") or []):
        return True  # an app the judge left out (unobserved) may have been done
    for app in pod.of_kind("app"):
        runs = pod.runs.get(app.name) or []
        if not runs or runs[-1].exited is None:
            if runs and _terminated_in_status(pod, app):
                continue
            return False
        last = runs[-1]
        if not _before(last.exited, signal) or last.exit_code is None:
            return False
        if last.first("sigterm") is not None:
            again = restarts_after_kill(pod.restart_policy, app.restart_policy)
        else:
            again = restarts_after_exit(pod.restart_policy, app.restart_policy,
                                        app.restart_rules, last.exit_code)
        if again:
            return False
    return True


def _init_failed_for_good(pod: Pod, signal: Event) -> bool:
    """A regular init container failed under Never before the signal: the pod fails."""
    return pod.restart_policy == "Never" and any(
        (runs := pod.runs.get(init.name)) and _before(runs[-1].exited, signal)
        and runs[-1].exit_code != 0 for init in pod.of_kind("init"))


def _pod_ended(pod: Pod, container: Container, signal: Event) -> bool:
    if container.kind != "sidecar":
        return False
    return _apps_done(pod, signal) or _init_failed_for_good(pod, signal)


def cause_of(pod: Pod, container: Container, run: Run, signal: Event) -> str | None:
    """The cause the model finds for the signal, or None."""
    if after_deletion(pod, signal):
        return "the pod's deletion"
    if _own_probe_failed(container, run, signal):
        return "its own probe"
    if _pod_ended(pod, container, signal):
        return "the pod's end"
    return None


def sigterm_has_a_cause(pod: Pod) -> Iterator[Violation]:
    """Each SIGTERM a container reported came with a cause (judged only where every app is
    observed; a pod the kubelet ended itself says so in status.reason and is not judged)."""
    if (pod.status or {}).get("reason"):
        return
    origin = first_start(pod)
    for container in pod.containers:
        for run in pod.runs.get(container.name) or []:
            signal = run.first("sigterm")
            if signal is None or cause_of(pod, container, run, signal) is not None:
                continue
            yield Violation(rules.SIGTERM_ONLY_WITH_A_CAUSE, pod.name,
                            f"{container.name} to run on: no deletion, no failed probe of "
                            "its own, and the pod had not ended "
                            f"(restartPolicy {pod.restart_policy})",
                            f"{container.name} got SIGTERM at {at_offset(signal, origin)}, "
                            f"in its run started at {at_offset(run.started, origin)}")
