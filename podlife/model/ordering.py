"""Rules over the timeline: in which order containers may start, and stop while the pod
terminates. Every comparison is on the runtime's ns timestamps, and a tie is no order.
(When a container may run again is in podlife.model.reruns.)"""

from __future__ import annotations

from collections.abc import Iterator

from podlife.core.timeline import Event
from podlife.model import rules
from podlife.model.pod import (
    LIVENESS_FAILS,
    READY_FILE_MADE,
    STARTUP_READY,
    Container,
    Pod,
    Run,
)
from podlife.model.verdict import Violation

#: Seconds before the grace period's end from which a kubelet may stop waiting for the
#: termination order (its timers and the signal's delivery; measured spread well under 1 s).
GRACE_MARGIN_S = 2.0


def at_offset(event: Event, origin: int) -> str:
    """The event's time as seconds after `origin` (ns), as the failure messages show it."""
    return f"{(event.sort_key() - origin) / 1e9:+.3f}s"


def first_start(pod: Pod) -> int:
    """The ns time of the pod's first container start seen: the origin of the messages."""
    starts = [run.started.sort_key() for runs in pod.runs.values() for run in runs]
    return min(starts, default=0)


def _first_success(runs: list[Run]) -> Event | None:
    return next((run.exited for run in runs if run.exit_code == 0), None)


def init_completes_before_next(pod: Pod) -> Iterator[Violation]:
    """Each later container's first start comes after the init container's first exit 0;
    under Never, an init container that failed means nothing after it starts."""
    origin = first_start(pod)
    for init in pod.of_kind("init"):
        if not pod.first_run_seen(init):
            continue  # an earlier run, unseen, may have exited 0 before
        success = _first_success(pod.runs[init.name])
        for later in pod.after(init):
            if not pod.runs[later.name]:
                continue
            start = pod.runs[later.name][0].started
            if success is not None and start.sort_key() <= success.sort_key():
                yield Violation(rules.INIT_RUNS_TO_COMPLETION_FIRST, pod.name,
                                f"{later.name} to start after {init.name} exited 0 "
                                f"(at {at_offset(success, origin)})",
                                f"{later.name} started at {at_offset(start, origin)}")
            elif (success is None and pod.restart_policy == "Never"
                  and not init.own_restart_policy and pod.runs[init.name]
                  and pod.runs[init.name][-1].exit_code not in (None, 0)):
                failed = pod.runs[init.name][-1]
                yield Violation(rules.INIT_RUNS_TO_COMPLETION_FIRST, pod.name,
                                f"nothing after {init.name} to start: it exited "
                                f"{failed.exit_code} under restartPolicy Never",
                                f"{later.name} started at {at_offset(start, origin)}")


def sidecar_starts_before_later(pod: Pod) -> Iterator[Violation]:
    origin = first_start(pod)
    for sidecar in pod.of_kind("sidecar"):
        if not pod.runs[sidecar.name] or not pod.first_run_seen(sidecar):
            continue  # its first start is unknown: an unseen run came before
        first = pod.runs[sidecar.name][0].started
        for later in pod.after(sidecar):
            runs = pod.runs[later.name]
            if runs and runs[0].started.sort_key() <= first.sort_key():
                yield Violation(rules.SIDECAR_STARTS_BEFORE_LATER, pod.name,
                                f"{later.name} to start after sidecar {sidecar.name} "
                                f"(at {at_offset(first, origin)})",
                                f"{later.name} started at {at_offset(runs[0].started, origin)}")


def sidecar_startup_gates_later(pod: Pod) -> Iterator[Violation]:
    """A sidecar whose script reports `startup-ready` just before its startupProbe can
    pass: no container after it starts before the first such report (none at all, if no
    run of it got that far)."""
    origin = first_start(pod)
    for sidecar in pod.of_kind("sidecar"):
        if not (sidecar.reports_startup and pod.runs[sidecar.name]
                and pod.first_run_seen(sidecar)):
            continue
        ready = next((e for run in pod.runs[sidecar.name]
                      if (e := run.first(STARTUP_READY)) is not None), None)
        for later in pod.after(sidecar):
            runs = pod.runs[later.name]
            if not runs or (ready is not None
                            and runs[0].started.sort_key() > ready.sort_key()):
                continue
            when = ("it never did" if ready is None
                    else f"it reported {STARTUP_READY} at {at_offset(ready, origin)}")
            yield Violation(rules.SIDECAR_STARTUP_GATES_LATER, pod.name,
                            f"{later.name} to start only after sidecar {sidecar.name}'s "
                            f"startupProbe could pass ({when})",
                            f"{later.name} started at {at_offset(runs[0].started, origin)}")


def probe_kill(container: Container, run: Run, signal: Event) -> bool:
    """The signal may be its own failed liveness probe's: podlife's probe, made to fail in
    this run before the signal (a kill just before the deletion is not told apart from the
    deletion's by the API's whole seconds, so the run is not read as the termination's)."""
    fails = run.first(LIVENESS_FAILS)
    return (container.podlife_liveness and fails is not None
            and fails.sort_key() < signal.sort_key())


def _termination_signal(pod: Pod, container: Container) -> Event | None:
    """The last run's SIGTERM, unless it may be the container's own probe's."""
    runs = pod.runs.get(container.name) or []
    signal = runs[-1].first("sigterm") if runs else None
    if signal is None or probe_kill(container, runs[-1], signal):
        return None
    return signal


def _termination(pod: Pod) -> int | None:
    """When the pod's termination began: the earliest termination SIGTERM of any
    container's last run, or the earliest preStop hook run for the deletion (every hook
    starts as the termination does, and its container's SIGTERM waits for it: a pod whose
    apps' signals were not seen, with hooked sidecars, shows its start only there)."""
    found = [s.sort_key() for c in pod.containers
             if (s := _termination_signal(pod, c)) is not None]
    found += [hook.sort_key() for runs in pod.runs.values() if runs
              if (hook := runs[-1].first("prestop")) is not None and after_deletion(pod, hook)]
    return min(found, default=None)


def _signalled_while_stopping(pod: Pod, waiter: Container, other: Container,
                              deadline: int) -> tuple[Event, Event] | None:
    """The waiter's last-run SIGTERM, if it came while `other` (signalled, in its last run)
    had not yet exited and before the grace period's end (less the margin)."""
    waiter_runs, other_runs = pod.runs[waiter.name], pod.runs[other.name]
    if not waiter_runs or not other_runs:
        return None
    signal = _termination_signal(pod, waiter)
    other_signal, other_exit = other_runs[-1].first("sigterm"), other_runs[-1].exited
    if signal is None:
        return None
    if (other_signal is not None and signal.sort_key() < other_signal.sort_key()
            and not after_deletion(pod, signal)):
        return None  # signalled before the termination reached `other`: not this rule's
    if other_exit is None:
        # It never said it exits: known to have run on only if it was signalled and then
        # killed (the status says SIGKILL), else the evidence is missing.
        if other_signal is None or not _killed(pod, other):
            return None
        other_exit = other_signal
        if signal.sort_key() < deadline:
            return signal, other_exit
        return None
    if signal.sort_key() <= other_exit.sort_key() and signal.sort_key() < deadline:
        return signal, other_exit
    return None


def after_deletion(pod: Pod, signal: Event) -> bool:
    """The SIGTERM came once the pod's deletion was requested, so it is the deletion's (a
    signal before it, e.g. a liveness kill, is not; 1 s for the request's whole seconds)."""
    requested = pod.deletion_requested()
    return requested is not None and signal.t >= requested - 1.0


def _killed(pod: Pod, container: Container) -> bool:
    """The container's current state is terminated by SIGKILL (exit code 137)."""
    status = pod.container_status(container.name) or {}
    return ((status.get("state") or {}).get("terminated") or {}).get("exitCode") == 137


def sidecars_stop_in_order(pod: Pod) -> Iterator[Violation]:
    """Apps first, then sidecars from the last to the first, each waiting for the ones
    before it in that order to exit, unless the grace period runs out."""
    began = _termination(pod)
    if began is None:
        return
    origin = first_start(pod)
    deadline = began + int((pod.grace_s - GRACE_MARGIN_S) * 1e9)
    sidecars = pod.of_kind("sidecar")
    for index, sidecar in enumerate(sidecars):
        for app in pod.of_kind("app"):
            found = _signalled_while_stopping(pod, sidecar, app, deadline)
            if found and _termination_signal(pod, app) is not None:
                yield Violation(rules.SIDECAR_STOPS_AFTER_APPS, pod.name,
                                f"sidecar {sidecar.name} to get SIGTERM after {app.name} "
                                f"stopped (it got SIGTERM or exited at "
                                f"{at_offset(found[1], origin)}, and was still stopping)",
                                f"{sidecar.name} got SIGTERM at {at_offset(found[0], origin)}")
        for later in sidecars[index + 1:]:
            found = _signalled_while_stopping(pod, sidecar, later, deadline)
            if found:
                yield Violation(rules.SIDECARS_STOP_IN_REVERSE, pod.name,
                                f"sidecar {sidecar.name} to get SIGTERM after the later "
                                f"sidecar {later.name} stopped (it got SIGTERM or exited at "
                                f"{at_offset(found[1], origin)}, and was still stopping)",
                                f"{sidecar.name} got SIGTERM at {at_offset(found[0], origin)}")


def sidecar_prestop_at_termination(pod: Pod) -> Iterator[Violation]:
    """Each hook starts as the termination begins; an app with a hook gets SIGTERM only
    after its own hook, so a sidecar's hook (last run) must come before that SIGTERM."""
    origin = first_start(pod)
    for sidecar in pod.of_kind("sidecar"):
        runs = pod.runs[sidecar.name]
        if not (runs and sidecar.reports_prestop):
            continue
        hook = runs[-1].first("prestop")
        own_signal = runs[-1].first("sigterm")
        for app in pod.of_kind("app"):
            app_runs = pod.runs[app.name]
            app_hook = app_runs[-1].first("prestop") if app_runs else None
            signal = app_runs[-1].first("sigterm") if app_runs else None
            if not (app.reports_prestop and app_hook and signal):
                continue
            if hook is not None and hook.sort_key() >= signal.sort_key():
                yield Violation(rules.SIDECAR_PRESTOP_AT_TERMINATION, pod.name,
                                f"sidecar {sidecar.name}'s preStop hook to start before "
                                f"{app.name} got SIGTERM (at {at_offset(signal, origin)}), after "
                                "its own hook", f"{sidecar.name}'s hook started at "
                                f"{at_offset(hook, origin)}")
            elif (hook is None and own_signal is not None
                  and own_signal.sort_key() > app_hook.sort_key()):
                # Its log was read past its own SIGTERM, so a hook that had started
                # would be there: the kubelet skipped it (no grace left at its turn).
                yield Violation(rules.SIDECAR_PRESTOP_AT_TERMINATION, pod.name,
                                f"sidecar {sidecar.name}'s preStop hook to start before "
                                f"{app.name} got SIGTERM (at {at_offset(signal, origin)}), after "
                                "its own hook", f"{sidecar.name}'s hook never started; it "
                                f"got SIGTERM at {at_offset(own_signal, origin)}")


def ready_only_after_its_file(pod: Pod) -> Iterator[Violation]:
    """A container whose readinessProbe can pass, shown ready, reported making the probe's
    file in the run the status shows (its last run seen, started in the same second)."""
    for container in pod.containers:
        if not (container.readiness_probe and container.reports_readiness):
            continue
        status = pod.container_status(container.name) or {}
        running = (status.get("state") or {}).get("running") or {}
        runs = pod.runs[container.name]
        if status.get("ready") is not True or not runs or not running.get("startedAt"):
            continue
        if not runs[-1].started_in(str(running["startedAt"])):
            continue  # the status's run is not the last one seen
        if runs[-1].first(READY_FILE_MADE) is None:
            yield Violation(rules.READY_ONLY_ONCE_PROBE_PASSES, pod.name,
                            f"{container.name} ready only after its script made the file "
                            "its readinessProbe tests", f"{container.name} ready=True, its "
                            f"run started at {at_offset(runs[-1].started, first_start(pod))} "
                            f"reported no {READY_FILE_MADE}")
