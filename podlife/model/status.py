"""Rules over one status snapshot (as one GET or watch event returned it): the kubelet
writes a pod's phase, conditions and container statuses together, so they must agree."""

from __future__ import annotations

from collections.abc import Iterator

from podlife.core.timeline import parse_timestamp
from podlife.model import rules
from podlife.model.pod import Pod
from podlife.model.verdict import Violation

#: Seconds past the deletionTimestamp (+2 s) a container may still be seen exiting: both
#: timestamps keep whole seconds (up to 1 s each), the kubelet learns of the deletion
#: through a watch, and a loaded node runs it late. Measured on healthy clusters: 2 s late
#: on an idle node (v1.37.2), 8 s with four clusters on 2 cores (v1.32.2, load average
#: 20). Half the overrun of the grace-period-overrun mutant (30 s) still catches it.
DELETION_MARGIN_S = 15.0
#: What the kubelet grants a container whose turn to stop comes when the grace is spent.
MINIMUM_TURN_S = 2.0


def _started(status: dict) -> bool:
    """The container has run: it runs now, has terminated, or has a previous run."""
    state = status.get("state") or {}
    return ("running" in state or "terminated" in state
            or "terminated" in (status.get("lastState") or {}))


def succeeded_means_apps_exited_0(pod: Pod) -> Iterator[Violation]:
    if pod.status.get("phase") != "Succeeded":
        return
    for app in pod.of_kind("app"):
        status = pod.container_status(app.name) or {}
        terminated = (status.get("state") or {}).get("terminated")
        if terminated is None or terminated.get("exitCode") != 0:
            yield Violation(rules.SUCCEEDED_MEANS_APPS_SUCCEEDED, pod.name,
                            f"{app.name} terminated with exit code 0 (phase Succeeded)",
                            f"{app.name} state {status.get('state') or 'unknown'}")


def ready_means_containers_ready(pod: Pod) -> Iterator[Violation]:
    for condition in ("Ready", "ContainersReady"):
        if pod.condition(condition) != "True":
            continue
        for container in pod.of_kind("sidecar", "app"):
            status = pod.container_status(container.name)
            if status is None or status.get("ready") is not True:
                yield Violation(rules.READY_MEANS_CONTAINERS_READY, pod.name,
                                f"{container.name} ready (condition {condition} is True)",
                                f"{container.name} ready="
                                f"{None if status is None else status.get('ready')}")


def initialized_once_apps_started(pod: Pod) -> Iterator[Violation]:
    if not pod.of_kind("init", "sidecar") or pod.condition("Initialized") in (None, "True"):
        return
    for app in pod.of_kind("app"):
        status = pod.container_status(app.name)
        if status is not None and _started(status):
            yield Violation(rules.INITIALIZED_ONCE_APPS_STARTED, pod.name,
                            f"Initialized True (app container {app.name} has started)",
                            f"Initialized {pod.condition('Initialized')}")


def exit_code_as_reported(pod: Pod) -> Iterator[Violation]:
    """The status's exit code of a terminated container is what its run said it exits
    with (`exiting N`), when the status is of that run: it started in the same second
    as the run's first event (the status keeps whole seconds)."""
    for container in pod.containers:
        runs, status = pod.runs[container.name], pod.container_status(container.name)
        if not runs or status is None or not pod.first_run_seen(container):
            continue  # with a run unseen, the run matched by its start may be the wrong one
        terminated = (status.get("state") or {}).get("terminated")
        if terminated is None or not terminated.get("startedAt"):
            continue
        same = [run for run in runs if run.started_in(str(terminated["startedAt"]))]
        if len(same) != 1 or same[0].exit_code is None:
            continue  # not the status's run, or it did not say how it exits
        if terminated.get("exitCode") != same[0].exit_code:
            yield Violation(rules.EXIT_CODE_AS_REPORTED, pod.name,
                            f"{container.name} terminated with exit code {same[0].exit_code} "
                            "(its process said so as it exited)",
                            f"exit code {terminated.get('exitCode')} "
                            f"(reason {terminated.get('reason')})")


def restart_count_covers_runs(pod: Pod) -> Iterator[Violation]:
    for container in pod.containers:
        runs, status = pod.runs[container.name], pod.container_status(container.name)
        if status is None:
            continue
        count = status.get("restartCount", 0)
        if len(runs) > count + 1:
            yield Violation(rules.RESTART_COUNT_COVERS_RUNS, pod.name,
                            f"{container.name} restartCount >= {len(runs) - 1} "
                            f"({len(runs)} runs seen)", f"restartCount {count}")


def deletion_within_grace(pod: Pod) -> Iterator[Violation]:
    """Every container of a deleted pod has exited by its deletionTimestamp, plus the
    kubelet's minimum turn and the margin: its status's finishedAt (whole seconds), unless
    its last run reported its own exit in time. finishedAt is when the runtime recorded
    the exit, which a loaded node delays (seen on v1.35.8: 26 s after the script's exit)."""
    if not pod.deletion:
        return
    deadline = parse_timestamp(pod.deletion) + MINIMUM_TURN_S + DELETION_MARGIN_S
    for container in pod.containers:
        status = pod.container_status(container.name) or {}
        finished = ((status.get("state") or {}).get("terminated") or {}).get("finishedAt")
        runs = pod.runs.get(container.name) or []
        exited = runs[-1].exited if runs else None
        if exited is not None and exited.t <= deadline:
            continue
        if finished and parse_timestamp(str(finished)) > deadline:
            late = parse_timestamp(str(finished)) - parse_timestamp(pod.deletion)
            yield Violation(rules.DELETION_WITHIN_GRACE, pod.name,
                            f"{container.name} exited by {pod.deletion} (deletionTimestamp) "
                            f"+ {MINIMUM_TURN_S:g} s + {DELETION_MARGIN_S:g} s margin",
                            f"{container.name} finished at {finished}, {late:.0f} s after "
                            "the deletionTimestamp")


def _running(pod: Pod) -> list[str]:
    status = pod.status or {}
    return [entry.get("name", "") for entry in (status.get("initContainerStatuses") or [])
            + (status.get("containerStatuses") or [])
            if "running" in (entry.get("state") or {})]


def sandbox_ready_while_running(pod: Pod) -> Iterator[Violation]:
    """PodReadyToStartContainers, where reported, is True in a snapshot with a container
    running (the kubelet writes both from one read of the runtime)."""
    running = _running(pod)
    condition = pod.condition("PodReadyToStartContainers")
    if running and condition is not None and condition != "True":
        yield Violation(rules.SANDBOX_READY_WHILE_RUNNING, pod.name,
                        f"PodReadyToStartContainers True ({', '.join(running)} running)",
                        f"PodReadyToStartContainers {condition}")
    if running and condition is None:
        yield Violation(rules.SANDBOX_CONDITION_REPORTED, pod.name,
                        f"a PodReadyToStartContainers condition ({', '.join(running)} "
                        "running)", "no such condition in the pod's status")


def never_ready_without_its_file(pod: Pod) -> Iterator[Violation]:
    """In any snapshot: a container whose readinessProbe can never pass is not ready."""
    for container in pod.containers:
        if not container.readiness_probe or container.reports_readiness:
            continue
        status = pod.container_status(container.name) or {}
        if status.get("ready") is True:
            yield Violation(rules.READY_ONLY_ONCE_PROBE_PASSES, pod.name,
                            f"{container.name} never ready (its readinessProbe tests a file "
                            "its script never makes)", f"{container.name} ready=True")
