"""Rules over one container's runs: whether it may run again (the restart policy: the
pod's, or its own where the release has container restart rules) and how soon (the
crash-loop back-off). Times are the runtime's ns timestamps of the scripts' events."""

from __future__ import annotations

import itertools
from collections.abc import Iterator

from podlife.model import rules
from podlife.model.ordering import at_offset, first_start
from podlife.model.pod import Container, Pod, Run
from podlife.model.restarts import restarts_after_exit, restarts_after_kill
from podlife.model.verdict import Violation

#: Seconds a restart may come earlier than its back-off allows, as measured: the exit is
#: the script's `exiting` line, written before the runtime's finishedAt the kubelet counts
#: from, and the start its `starting` line, written after the start; the margin covers
#: the log timestamps of one host clock, never the back-off itself.
BACKOFF_MARGIN_S = 0.5
#: Seconds within which a kubelet starts a native sidecar again after its first exit: that
#: restart is not held back, so this covers noticing the exit (a relist every second) and
#: one sync, on a loaded node, with room to spare.
SIDECAR_RESTART_DEADLINE_S = 20.0


def _previous_exit(pod: Pod, container: Container) -> int | None:
    """The exit code of the instance before the current one, from the status, when the
    status counts a restart and no probe of the container's own can have killed that
    instance (its restart then followed that exit): evidence of a run again that holds
    when the logs of the runs are missing. None otherwise."""
    if container.liveness_probe or container.startup_probe:
        return None
    status = pod.container_status(container.name) or {}
    last = (status.get("lastState") or {}).get("terminated") or {}
    if int(status.get("restartCount") or 0) < 1 or last.get("exitCode") is None:
        return None
    return int(last["exitCode"])


def _restarted_per_status(pod: Pod, container: Container) -> Iterator[Violation]:
    """The pod's policy broken as the status alone shows it (fewer than two runs seen)."""
    code = _previous_exit(pod, container)
    if code is None:
        return
    observed = (f"restartCount {(pod.container_status(container.name) or {})['restartCount']}"
                f", the instance before the current one exited {code}")
    if pod.restart_policy == "Never":
        yield Violation(rules.NO_RESTART_UNDER_NEVER, pod.name,
                        f"{container.name} to run once (restartPolicy Never)", observed)
    elif pod.restart_policy == "OnFailure" and code == 0:
        yield Violation(rules.NO_RESTART_AFTER_SUCCESS_UNDER_ON_FAILURE, pod.name,
                        f"{container.name} not to start again after exiting 0", observed)


def restarts_follow_policy(pod: Pod) -> Iterator[Violation]:
    """Never: a regular container runs once. OnFailure: not again after exiting 0. Read
    from the runs seen, else from the status's restart count and last state."""
    origin = first_start(pod)
    for container in pod.of_kind("init", "app"):
        runs = pod.runs[container.name]
        if container.own_restart_policy:
            continue
        if len(runs) < 2:
            yield from _restarted_per_status(pod, container)
            continue
        if pod.restart_policy == "Never":
            yield Violation(rules.NO_RESTART_UNDER_NEVER, pod.name,
                            f"{container.name} to run once (restartPolicy Never)",
                            f"{len(runs)} runs, the second started at "
                            f"{at_offset(runs[1].started, origin)}")
        elif pod.restart_policy == "OnFailure":
            for before, after in itertools.pairwise(runs):
                # A run stopped by its failed probe is restarted whatever its exit code
                # (computePodActions: restart unless the policy is Never).
                if before.exit_code == 0 and before.first("sigterm") is None:
                    yield Violation(rules.NO_RESTART_AFTER_SUCCESS_UNDER_ON_FAILURE,
                                    pod.name, f"{container.name} not to start again after "
                                    f"exiting 0 (at {at_offset(before.exited, origin)})",
                                    f"it started again at {at_offset(after.started, origin)}")
                    break


def restarts_wait_for_backoff(pod: Pod) -> Iterator[Violation]:
    """Each restart that follows an exit the container reported comes no sooner than its
    back-off allows (judged only where the kubelet's back-off is known)."""
    if pod.backoff is None:
        return
    origin = first_start(pod)
    for container in pod.containers:
        runs, offset = pod.runs[container.name], pod.run_offset(container)
        for index, (before, after) in enumerate(itertools.pairwise(runs), start=offset + 1):
            exited = before.exited
            if exited is None:
                continue  # killed, or its exit unseen: when it ended is not known
            if before.first("sigterm") is not None:
                # Stopped, not exited on its own: a liveness kill restarts it in the same
                # sync, with the back-off counted from the instance before (doBackOff
                # finds the last *exited* one, and this one was running when it looked).
                continue
            wait = pod.backoff.before_run(index)
            gap = (after.started.sort_key() - exited.sort_key()) / 1e9
            if gap < wait - BACKOFF_MARGIN_S:
                yield Violation(rules.RESTART_WAITS_FOR_BACKOFF, pod.name,
                                f"run {index + 1} of {container.name} to start {wait:g} s or "
                                f"more after run {index} exited (at {at_offset(exited, origin)}; "
                                f"back-off {pod.backoff.describe()})",
                                f"it started at {at_offset(after.started, origin)}, {gap:.2f} s "
                                "after that exit")


def _own_decision(pod: Pod, container: Container, run: Run) -> tuple[bool, str] | None:
    """Whether the container's own policy starts it again after `run`, and why; None when
    that cannot be known (its end was not seen)."""
    policy = container.restart_policy
    if run.first("sigterm") is not None:
        return (restarts_after_kill(pod.restart_policy, policy),
                f"stopped by a signal, under its own restartPolicy {policy}")
    code = run.exit_code
    if code is None:
        return None
    rules_text = "".join(f", rule {rule.describe()}" for rule in container.restart_rules)
    return (restarts_after_exit(pod.restart_policy, policy, container.restart_rules, code),
            f"exited {code}, under its own restartPolicy {policy}{rules_text}")


def restarts_follow_own_policy(pod: Pod) -> Iterator[Violation]:
    """A container with a restart policy of its own runs again only when its rules or
    policy say so (and, once one says so, the pod is not left with it stopped: judged by
    the predictions, not here)."""
    origin = first_start(pod)
    for container in pod.of_kind("init", "app"):
        if container.restart_policy is None:
            continue
        code = _previous_exit(pod, container)
        if len(pod.runs[container.name]) < 2 and code is not None and not restarts_after_exit(
                pod.restart_policy, container.restart_policy, container.restart_rules, code):
            count = (pod.container_status(container.name) or {})["restartCount"]
            yield Violation(rules.RESTART_FOLLOWS_OWN_POLICY, pod.name,
                            f"{container.name} not to run again (exited {code}, under its own "
                            f"restartPolicy {container.restart_policy})",
                            f"restartCount {count}, the instance before the current one "
                            "exited with that code")
        for before, after in itertools.pairwise(pod.runs[container.name]):
            decision = _own_decision(pod, container, before)
            if decision is not None and not decision[0]:
                yield Violation(rules.RESTART_FOLLOWS_OWN_POLICY, pod.name,
                                f"{container.name} not to run again ({decision[1]})",
                                f"it started again at {at_offset(after.started, origin)}")


def _apps_seen_until(pod: Pod) -> int | None:
    """The ns time of the last event any app container reported: until then the pod had an
    app that was not done for good (it was still running), so it had not ended."""
    return max((run.events[-1].sort_key() for app in pod.of_kind("app")
                for run in pod.runs[app.name]), default=None)


def sidecars_restarted_while_needed(pod: Pod) -> Iterator[Violation]:
    """A native sidecar's first exit on its own is followed by a restart within
    SIDECAR_RESTART_DEADLINE_S, judged when an app was still seen running that long after
    the exit and no deletion came before then (the first restart is not held back, whatever
    the exit code or policy). A restart the status counts but no log shows has no time."""
    if (pod.status or {}).get("reason"):
        return  # the kubelet ended the pod itself (evicted, past its deadline)
    seen_until, requested = _apps_seen_until(pod), pod.deletion_requested()
    origin = first_start(pod)
    for sidecar in pod.of_kind("sidecar"):
        runs = pod.runs[sidecar.name]
        if not runs or not pod.first_run_seen(sidecar):
            continue
        exited = runs[0].exited
        if exited is None or runs[0].first("sigterm") is not None:
            continue  # stopped, not exited on its own (or its end was not seen)
        deadline = exited.sort_key() + int(SIDECAR_RESTART_DEADLINE_S * 1e9)
        if seen_until is None or seen_until < deadline or (
                requested is not None and requested * 1e9 < deadline):
            continue  # the pod may have ended, or been deleted, before the restart was due
        expected = (f"sidecar {sidecar.name} to start again within "
                    f"{SIDECAR_RESTART_DEADLINE_S:g} s of its exit {runs[0].exit_code} "
                    f"(at {at_offset(exited, origin)})")
        if len(runs) > 1:
            if runs[1].started.sort_key() > deadline:
                yield Violation(rules.SIDECAR_RESTARTED_WHILE_NEEDED, pod.name, expected,
                                f"it started again at {at_offset(runs[1].started, origin)}")
            continue
        restarts = int((pod.container_status(sidecar.name) or {}).get("restartCount") or 0)
        if restarts == 0:
            yield Violation(rules.SIDECAR_RESTARTED_WHILE_NEEDED, pod.name, expected,
                            f"not started again (restartCount 0), while an app ran until "
                            f"at least {(seen_until - origin) / 1e9:+.3f}s")
