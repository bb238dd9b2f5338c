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


def restarts_follow_policy(pod: Pod) -> Iterator[Violation]:
    """Never: a regular container runs once. OnFailure: not again after exiting 0."""
    origin = first_start(pod)
    for container in pod.of_kind("init", "app"):
        runs = pod.runs[container.name]
        if container.own_restart_policy or len(runs) < 2:
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
        for before, after in itertools.pairwise(pod.runs[container.name]):
            decision = _own_decision(pod, container, before)
            if decision is not None and not decision[0]:
                yield Violation(rules.RESTART_FOLLOWS_OWN_POLICY, pod.name,
                                f"{container.name} not to run again ({decision[1]})",
                                f"it started again at {at_offset(after.started, origin)}")
