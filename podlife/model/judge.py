"""Judge one pod by every rule of the model that holds for its release."""

from __future__ import annotations

from collections.abc import Callable, Iterator

from podlife.core.timeline import Timeline
from podlife.model import causes, ordering, reruns, rules, status
from podlife.model.backoff import BackOff
from podlife.model.pod import Pod, from_api
from podlife.model.rules import Rule
from podlife.model.verdict import Judgement, Violation

Check = Callable[[Pod], Iterator[Violation]]

#: Each rule with the code that applies it, and whether it reads the timeline (and so
#: needs every container it compares to be observed) or only the status snapshot.
CHECKS: tuple[tuple[tuple[Rule, ...], Check, bool], ...] = (
    ((rules.INIT_RUNS_TO_COMPLETION_FIRST,), ordering.init_completes_before_next, True),
    ((rules.SIDECAR_STARTS_BEFORE_LATER,), ordering.sidecar_starts_before_later, True),
    ((rules.SIDECAR_STOPS_AFTER_APPS, rules.SIDECARS_STOP_IN_REVERSE),
     ordering.sidecars_stop_in_order, True),
    ((rules.NO_RESTART_UNDER_NEVER, rules.NO_RESTART_AFTER_SUCCESS_UNDER_ON_FAILURE),
     reruns.restarts_follow_policy, True),
    ((rules.EXIT_CODE_AS_REPORTED,), status.exit_code_as_reported, True),
    ((rules.RESTART_COUNT_COVERS_RUNS,), status.restart_count_covers_runs, True),
    ((rules.SUCCEEDED_MEANS_APPS_SUCCEEDED,), status.succeeded_means_apps_exited_0, False),
    ((rules.READY_MEANS_CONTAINERS_READY,), status.ready_means_containers_ready, False),
    ((rules.INITIALIZED_ONCE_APPS_STARTED,), status.initialized_once_apps_started, False),
    ((rules.SIDECAR_STARTUP_GATES_LATER,), ordering.sidecar_startup_gates_later, True),
    ((rules.SIDECAR_PRESTOP_AT_TERMINATION,), ordering.sidecar_prestop_at_termination, True),
    ((rules.DELETION_WITHIN_GRACE,), status.deletion_within_grace, False),
    ((rules.RESTART_WAITS_FOR_BACKOFF,), reruns.restarts_wait_for_backoff, True),
    ((rules.SANDBOX_READY_WHILE_RUNNING, rules.SANDBOX_CONDITION_REPORTED),
     status.sandbox_ready_while_running, False),
    ((rules.READY_ONLY_ONCE_PROBE_PASSES,), status.never_ready_without_its_file, False),
    ((rules.READY_ONLY_ONCE_PROBE_PASSES,), ordering.ready_only_after_its_file, True),
    ((rules.SIGTERM_ONLY_WITH_A_CAUSE,), causes.sigterm_has_a_cause, True),
    ((rules.RESTART_FOLLOWS_OWN_POLICY,), reruns.restarts_follow_own_policy, True),
    ((rules.SIDECAR_RESTARTED_WHILE_NEEDED,), reruns.sidecars_restarted_while_needed, True),
)
#: Rules that need the kubelet's crash-loop back-off: with it unknown they do not apply.
NEEDS_BACKOFF = frozenset({rules.RESTART_WAITS_FOR_BACKOFF.id})


def judge(pod: dict, timeline: Timeline, minor: int | None,
          backoff: BackOff | None = None) -> Judgement:
    """Every rule that holds for Kubernetes 1.<minor> applied to the pod (a dict as the API
    returned it, read after its timeline) and its timeline; `backoff` is the crash-loop
    back-off of the kubelet that ran it, when known."""
    model = from_api(pod, timeline, backoff)
    result = Judgement(model.name)
    unobserved = [c for c in model.containers if not model.observed(c)]
    for container in unobserved:
        why = ("its log could not be read" if container.instrumented
               else "it runs no podlife script")
        result.not_judged.append(f"{container.name}: {why}")
    # A timeline rule compares containers; one that cannot be observed would be read as
    # "never started", so those rules only see the observed ones.
    observed = _only_observed(model, unobserved)
    for applied, check, reads_timeline in CHECKS:
        if not any(rule.holds_for(minor) for rule in applied):
            continue
        if backoff is None and any(rule.id in NEEDS_BACKOFF for rule in applied):
            continue
        found = [v for v in check(observed if reads_timeline else model)
                 if v.rule.holds_for(minor)]
        result.violations += found
        result.held += [r.id for r in applied if r.holds_for(minor)]
    # A rule applied by two checks (the status and the timeline) held if neither broke it.
    broken = {v.rule.id for v in result.violations}
    result.held = [r for r in dict.fromkeys(result.held) if r not in broken]
    return result


def _only_observed(model: Pod, unobserved: list) -> Pod:
    if not unobserved:
        return model
    names = {c.name for c in unobserved}
    return Pod(model.name, model.restart_policy, model.grace_s,
               [c for c in model.containers if c.name not in names], model.status,
               {k: v for k, v in model.runs.items() if k not in names}, model.unreadable,
               model.deletion, model.deletion_grace_s, model.backoff)


def judge_status(pod: dict, minor: int | None) -> list[Violation]:
    """The rules that read only a status snapshot, on one snapshot (any GET or watch event
    of the pod: the kubelet writes phase, conditions and container statuses together)."""
    model = from_api(pod, Timeline(model_name(pod)))
    return [v for applied, check, reads_timeline in CHECKS if not reads_timeline
            if any(rule.holds_for(minor) for rule in applied)
            for v in check(model) if v.rule.holds_for(minor)]


def model_name(pod: dict) -> str:
    return (pod.get("metadata") or {}).get("name", "")
