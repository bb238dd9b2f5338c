"""podlife's model of the pod lifecycle, rule by rule, on pods and timelines built by hand.

Each healthy case is what upstream's own tests expect of a correct kubelet (named in the
test's docstring, as facts); each broken one is the smallest timeline that breaks one rule.
"""

from __future__ import annotations

from podlife.core.timeline import MARKER, Event, Timeline
from podlife.model import rules
from podlife.model.judge import judge

SCRIPT = ["sh", "-c", f'ev() {{ echo "{MARKER} x $*"; }}']


def container(name: str, **kw) -> dict:
    return {"name": name, "command": SCRIPT, **kw}


def pod(*, init=(), sidecars_at=(), apps=("app",), policy="Always", grace=30,
        phase="Running", conditions=None, statuses=None, deleted_at=None) -> dict:
    """A pod as the API returns it; `deleted_at`: the second its deletion was requested."""
    inits = [container(n, **({"restartPolicy": "Always"} if n in sidecars_at else {}))
             for n in init]
    deletion = {} if deleted_at is None else {
        "deletionTimestamp": f"1970-01-01T00:{(deleted_at + grace) // 60:02d}:"
                             f"{(deleted_at + grace) % 60:02d}Z",
        "deletionGracePeriodSeconds": grace}
    return {"metadata": {"name": "p", **deletion},
            "spec": {"initContainers": inits, "containers": [container(a) for a in apps],
                     "restartPolicy": policy, "terminationGracePeriodSeconds": grace},
            "status": {"phase": phase, "conditions": (conditions or []) + SANDBOX,
                       "initContainerStatuses": [s for s in (statuses or [])
                                                 if s["name"] in init],
                       "containerStatuses": [s for s in (statuses or []) if s["name"] in apps]}}


#: The kubelet's condition for a pod whose sandbox exists (reported from 1.29, GA in 1.37).
SANDBOX = [{"type": "PodReadyToStartContainers", "status": "True"}]


def timeline(*events: tuple[float, str, str, str]) -> Timeline:
    """Events as (seconds, container, event, detail)."""
    return Timeline("p", events=[Event(t, c, e, d, ns=int(t * 1e9)) for t, c, e, d in events])


def broken(result) -> list[str]:
    return sorted({v.rule.id for v in result.violations})


def status(name: str, *, ready=False, restarts=0, running=True, exit_code=None,
           last_exit=None) -> dict:
    state = ({"terminated": {"exitCode": exit_code, "reason": "Completed",
                             "startedAt": "1970-01-01T00:00:00Z"}}
             if exit_code is not None else {"running": {}} if running else {"waiting": {}})
    entry = {"name": name, "ready": ready, "restartCount": restarts, "state": state}
    if last_exit is not None:
        entry["lastState"] = {"terminated": {"exitCode": last_exit}}
    return entry


def test_init_containers_one_after_another_hold() -> None:
    """TestComputePodActionsWithInitContainers: the next init container starts only once the
    one before it has succeeded; apps start after the last."""
    events = timeline((0, "a", "starting", ""), (1, "a", "exiting", "0"),
                      (2, "b", "starting", ""), (3, "b", "exiting", "0"),
                      (4, "app", "starting", ""))
    result = judge(pod(init=("a", "b")), events, 37)
    assert result.violations == [] and result.judged
    assert rules.INIT_RUNS_TO_COMPLETION_FIRST.id in result.held


def test_overlapping_init_containers_break_the_rule() -> None:
    events = timeline((0, "a", "starting", ""), (1, "b", "starting", ""),
                      (2, "a", "exiting", "0"), (3, "b", "exiting", "0"))
    result = judge(pod(init=("a", "b")), events, 37)
    assert broken(result) == ["init-completes-before-next"]
    line = result.violations[0].line()
    assert line.startswith("invariant init-completes-before-next broken by pod p: expected "
                           "b to start after a exited 0 (at +2.000s); observed b started at "
                           "+1.000s [source: docs: concepts/workloads/pods/init-containers")


def test_a_tie_is_no_order() -> None:
    events = timeline((0, "a", "starting", ""), (1, "a", "exiting", "0"),
                      (1, "app", "starting", ""))
    assert broken(judge(pod(init=("a",)), events, 37)) == ["init-completes-before-next"]


def test_a_failed_init_container_under_never_stops_everything_after_it() -> None:
    events = timeline((0, "a", "starting", ""), (1, "a", "exiting", "1"),
                      (2, "app", "starting", ""))
    result = judge(pod(init=("a",), policy="Never"), events, 37)
    assert broken(result) == ["init-completes-before-next"]
    assert "it exited 1 under restartPolicy Never" in result.violations[0].expected
    # Under Always the init container is retried: its success may be in a run not seen.
    assert broken(judge(pod(init=("a",)), events, 37)) == []


def test_sidecar_starts_before_later_containers() -> None:
    """KEP-753 and TestComputePodActionsWithRestartableInitContainers: a restartable init
    container is started, then the next container; it need not exit."""
    good = timeline((0, "proxy", "starting", ""), (1, "init", "starting", ""),
                    (2, "init", "exiting", "0"), (3, "app", "starting", ""))
    spec = pod(init=("proxy", "init"), sidecars_at=("proxy",))
    assert broken(judge(spec, good, 37)) == []
    late = timeline((0, "init", "starting", ""), (1, "init", "exiting", "0"),
                    (2, "app", "starting", ""), (3, "proxy", "starting", ""))
    assert broken(judge(spec, late, 37)) == ["sidecar-starts-before-later"]


def terminating(sidecar_signal: float, *, later_signal: float = 2.0,
                later_exit: float = 2.1) -> Timeline:
    """app and two sidecars (first, second) started; the pod is deleted at 10 s: the app
    stops by 11 s, then `second` (later_*), then `first` (at sidecar_signal)."""
    return timeline((0, "first", "starting", ""), (0.5, "second", "starting", ""),
                    (1, "app", "starting", ""), (10, "app", "sigterm", ""),
                    (11, "app", "exiting", "0"),
                    (10 + later_signal, "second", "sigterm", ""),
                    (10 + later_exit, "second", "exiting", "0"),
                    (10 + sidecar_signal, "first", "sigterm", ""),
                    (10 + sidecar_signal + 0.1, "first", "exiting", "0"))


SIDECARS = {"init": ("first", "second"), "sidecars_at": ("first", "second")}
#: The same, deleted at 10 s (the termination the `terminating` timelines show).
DELETED = {**SIDECARS, "deleted_at": 10}


def test_sidecars_stop_after_the_app_in_reverse_order() -> None:
    """TestTerminationOrderingSidecarStopAfterMain and
    TestTerminationOrderingSidecarsInReverseOrder: main containers first, then sidecars,
    the last started first."""
    assert broken(judge(pod(**DELETED), terminating(3.0), 37)) == []


def test_a_sidecar_signalled_with_the_app_breaks_the_order() -> None:
    result = judge(pod(**DELETED), terminating(0.2, later_signal=0.1, later_exit=0.3), 37)
    assert broken(result) == ["sidecar-stops-after-apps", "sidecars-stop-in-reverse"]


def test_sidecars_signalled_together_break_the_reverse_order() -> None:
    result = judge(pod(**DELETED), terminating(2.0, later_signal=2.0, later_exit=2.5), 37)
    assert broken(result) == ["sidecars-stop-in-reverse"]


def test_once_the_grace_period_runs_out_the_order_is_not_required() -> None:
    """waitForTurn: a container waits for its turn only until the grace period expires."""
    late = judge(pod(grace=3, **DELETED), terminating(2.0, later_signal=2.0,
                                                       later_exit=2.5), 37)
    assert broken(late) == []


def test_hooks_mark_the_start_of_a_termination_whose_app_signals_were_not_seen() -> None:
    """Seen exploring v1.37.2 (seed 1): an app that ignored SIGTERM and whose log was not
    read, and two hooked sidecars: their hooks ran at the deletion (grace 3 s), and both
    got SIGTERM together when the grace period ran out. The termination began with the
    hooks, so the order is not required by then."""
    manifest = pod(grace=3, **DELETED)
    manifest["spec"]["containers"][0]["command"] = ["sleep", "3600"]  # not observed

    def hooked(first_signal: float, later_signal: float) -> Timeline:
        return timeline((0, "first", "starting", ""), (0.5, "second", "starting", ""),
                        (10.2, "first", "prestop", ""), (10.27, "second", "prestop", ""),
                        (10 + later_signal, "second", "sigterm", ""),
                        (10 + later_signal, "second", "exiting", "143"),
                        (10 + first_signal, "first", "sigterm", ""),
                        (11 + first_signal, "first", "exiting", "0"))
    assert broken(judge(manifest, hooked(3.22, 3.25), 37)) == []
    assert broken(judge(manifest, hooked(0.5, 0.6), 37)) == ["sidecars-stop-in-reverse"]


def test_termination_order_is_not_claimed_before_1_29() -> None:
    """kuberuntime_termination_order.go appeared in v1.29 (v1.28.15 has none)."""
    result = judge(pod(**DELETED), terminating(2.0, later_signal=2.0, later_exit=2.5), 28)
    assert broken(result) == []
    assert "sidecars-stop-in-reverse" not in result.held


def test_a_later_sidecar_ignoring_sigterm_is_waited_for_until_the_grace_period_ends() -> None:
    """A sidecar that ignores SIGTERM runs until SIGKILL: the one before it waits for it
    (waitForTurn) until the grace period ends, then gets its SIGTERM."""
    def stopping(first_signal: float) -> Timeline:
        return timeline((0, "first", "starting", ""), (0.5, "second", "starting", ""),
                        (1, "app", "starting", ""), (10, "app", "sigterm", ""),
                        (10.1, "app", "exiting", "0"), (10.2, "second", "sigterm", ""),
                        (10.2, "second", "ignoring-sigterm", ""),
                        (first_signal, "first", "sigterm", ""),
                        (first_signal + 0.1, "first", "exiting", "0"))

    killed = [status("first", exit_code=0), status("second", exit_code=137),
              status("app", exit_code=0)]
    spec = pod(grace=5, statuses=killed, deleted_at=10, **SIDECARS)
    assert broken(judge(spec, stopping(15.1), 37)) == []  # after the grace period: right
    assert broken(judge(spec, stopping(10.3), 37)) == ["sidecars-stop-in-reverse"]
    # Without the status's word that it was killed, its end is not known: not judged.
    unknown = pod(grace=5, statuses=[status("first", exit_code=0), status("app", exit_code=0)],
                  deleted_at=10, **SIDECARS)
    assert broken(judge(unknown, stopping(10.3), 37)) == []


def test_a_liveness_kill_before_the_deletion_is_not_a_termination_order_fault() -> None:
    events = timeline((0, "first", "starting", ""), (1, "app", "starting", ""),
                      (5, "first", "sigterm", ""), (9, "app", "sigterm", ""),
                      (9.5, "app", "exiting", "0"))
    manifest = pod(init=("first",), sidecars_at=("first",), deleted_at=9)
    manifest["spec"]["initContainers"][0]["livenessProbe"] = {"httpGet": {"port": 80}}
    assert broken(judge(manifest, events, 37)) == []


def test_restart_policies() -> None:
    """ShouldContainerBeRestarted: Never never; OnFailure only after a failure."""
    twice_ok = timeline((0, "app", "starting", ""), (1, "app", "exiting", "0"),
                        (2, "app", "starting", ""))
    twice_failed = timeline((0, "app", "starting", ""), (1, "app", "exiting", "1"),
                            (2, "app", "starting", ""))
    never = pod(policy="Never", statuses=[status("app")])
    assert broken(judge(never, twice_failed, 37)) == [
        "no-restart-under-never", "restart-count-covers-runs"]
    on_failure = pod(policy="OnFailure", statuses=[status("app", restarts=1)])
    assert broken(judge(on_failure, twice_ok, 37)) == [
        "no-restart-after-success-under-onfailure"]
    counted = pod(policy="OnFailure", statuses=[status("app", restarts=1)])
    assert broken(judge(counted, twice_failed, 37)) == []
    assert broken(judge(pod(policy="Always", statuses=[status("app", restarts=1)]),
                        twice_ok, 37)) == []


def test_exit_code_is_what_the_process_exited_with() -> None:
    events = timeline((0, "app", "starting", ""), (1, "app", "exiting", "3"))
    right = pod(policy="Never", phase="Failed", statuses=[status("app", exit_code=3)])
    assert broken(judge(right, events, 37)) == []
    wrong = pod(policy="Never", phase="Failed", statuses=[status("app", exit_code=0)])
    assert broken(judge(wrong, events, 37)) == ["exit-code-as-reported"]
    # A status of another run (it started in another second) is not compared.
    later = timeline((1.5, "app", "starting", ""), (2, "app", "exiting", "3"))
    assert broken(judge(wrong, later, 37)) == []


def test_phase_succeeded_needs_every_app_container_to_exit_0() -> None:
    """getPhase: Succeeded only when stopped == succeeded (every app container exited 0)."""
    ok = pod(apps=("a", "b"), policy="Never", phase="Succeeded",
             statuses=[status("a", exit_code=0), status("b", exit_code=0)])
    assert broken(judge(ok, timeline(), 37)) == []
    bad = pod(apps=("a", "b"), policy="Never", phase="Succeeded",
              statuses=[status("a", exit_code=0), status("b", exit_code=1)])
    assert broken(judge(bad, timeline(), 37)) == ["succeeded-means-apps-exited-0"]


def test_ready_needs_every_app_container_and_sidecar_ready() -> None:
    """GenerateContainersReadyCondition counts restartable init containers (v1.28+)."""
    conditions = [{"type": "Ready", "status": "True"},
                  {"type": "ContainersReady", "status": "True"}]
    ok = pod(init=("proxy",), sidecars_at=("proxy",), conditions=conditions,
             statuses=[status("proxy", ready=True), status("app", ready=True)])
    assert broken(judge(ok, timeline(), 37)) == []
    bad = pod(init=("proxy",), sidecars_at=("proxy",), conditions=conditions,
              statuses=[status("proxy", ready=False), status("app", ready=True)])
    result = judge(bad, timeline(), 37)
    assert broken(result) == ["ready-means-containers-ready"] and len(result.violations) == 2


def test_initialized_once_an_app_container_has_started() -> None:
    """GeneratePodInitializedCondition: any regular container started means Initialized."""
    bad = pod(init=("a",), conditions=[{"type": "Initialized", "status": "False"}],
              statuses=[status("a", exit_code=0), status("app")])
    assert broken(judge(bad, timeline(), 37)) == ["initialized-once-apps-started"]
    waiting = pod(init=("a",), conditions=[{"type": "Initialized", "status": "False"}],
                  statuses=[status("a"), status("app", running=False)])
    assert broken(judge(waiting, timeline(), 37)) == []


def test_a_pod_with_an_unscripted_container_is_not_judged() -> None:
    spec = pod(init=("a",))
    spec["spec"]["initContainers"][0]["command"] = ["nslookup", "db"]
    events = timeline((0, "app", "starting", ""))
    result = judge(spec, events, 37)
    assert not result.judged and result.not_judged == ["a: it runs no podlife script"]
    # Rules over the timeline never read the missing container as "never started".
    assert result.violations == []


def test_an_unreadable_log_is_missing_evidence() -> None:
    events = timeline((0, "a", "starting", ""), (1, "app", "starting", ""))
    events.unreadable.append("a: the earlier instance's log: unable to retrieve")
    result = judge(pod(init=("a",)), events, 37)
    assert not result.judged and result.violations == []


def test_every_rule_has_a_source_and_a_release() -> None:
    ids = [r.id for r in rules.RULES]
    assert len(ids) == len(set(ids)) == 22
    for rule in rules.RULES:
        assert rule.source and rule.claim and 28 <= rule.since <= 37


def test_predictions_follow_the_restart_policy() -> None:
    """docs pod-lifecycle and init-containers, and getPhase: where a left-alone pod settles."""
    from podlife.model.generated import Behaviour, GenContainer, GenPod, predict

    def gen(policy: str, *containers: tuple[str, str, int | None]) -> GenPod:
        return GenPod(tuple(GenContainer(n, k, Behaviour(code, 0.0)) for n, k, code in containers),
                      policy, 1)

    failing_init = (("i0", "init", 1), ("a1", "app", 0))
    assert predict(gen("Never", *failing_init)).phase == "Failed"
    assert predict(gen("Never", *failing_init)).never_starts == ("a1",)
    assert predict(gen("OnFailure", *failing_init)).phase == "Pending"
    assert predict(gen("Always", *failing_init)).phase == "Pending"
    done = (("s0", "sidecar", None), ("a1", "app", 0), ("a2", "app", 0))
    assert predict(gen("Never", *done)).phase == "Succeeded"  # the sidecar does not hold it
    assert predict(gen("OnFailure", *done)).phase == "Succeeded"
    assert predict(gen("Always", *done)).phase == "Running"
    one_fails = (("a1", "app", 0), ("a2", "app", 3))
    assert predict(gen("Never", *one_fails)).phase == "Failed"
    assert predict(gen("OnFailure", *one_fails)).phase == "Running"
    assert predict(gen("Never", *one_fails)).exits == (("a1", 0), ("a2", 3))
    serving = (("a1", "app", None), ("a2", "app", 1))
    assert predict(gen("Never", *serving)).phase == "Running"
    # A sidecar that exits on its own may never be seen running: what follows it is not
    # predicted (seen on v1.32.2: the init container after it never started).
    crashing = gen("Never", ("s0", "sidecar", 0), ("i1", "init", 3), ("a2", "app", 0))
    assert predict(crashing).phase is None and predict(crashing).starts == ("s0",)
    assert predict(crashing).never_starts == () and predict(crashing).crashing_gates == ("s0",)
    assert not predict(crashing).stays  # i1 fails it under Never
    staying = gen("Never", ("s0", "sidecar", 1), ("a1", "app", None))
    assert predict(staying).stays and predict(staying).phase is None
    # Under Never whatever follows runs once, if it runs at all.
    assert predict(crashing).runs_once == ("i1", "a2")
    assert predict(gen("OnFailure", ("s0", "sidecar", 0), ("i1", "init", 0),
                       ("a2", "app", 1))).runs_once == ("i1",)


def test_fixed_examples_are_the_same_every_time_and_cover_the_grammar() -> None:
    from podlife.model.strategies import fixed_examples

    first, again = fixed_examples(40), fixed_examples(40)
    assert first == again and len(set(first)) == 40
    assert {p.restart_policy for p in first} == {"Always", "OnFailure", "Never"}
    assert any(len(p.of_kind("sidecar")) >= 2 for p in first)
    assert any(p.of_kind("init") and p.of_kind("sidecar") for p in first)


def test_release_minor_is_the_oldest_kubelets() -> None:
    from podlife.plugin.invariants import release_minor

    assert release_minor("v1.36.5,v1.37.2") == 36
    assert release_minor("v1.29.15") == 29
    assert release_minor("") is None


def _startup_pod() -> dict:
    """A sidecar with a startupProbe whose script reports startup-ready, then an app."""
    manifest = pod(init=("s",), sidecars_at=("s",))
    sidecar = manifest["spec"]["initContainers"][0]
    sidecar["command"] = [*SCRIPT, "sleep 1; ev startup-ready; touch /tmp/started"]
    sidecar["startupProbe"] = {"exec": {"command": ["test", "-f", "/tmp/started"]}}
    return manifest


def test_a_sidecars_startup_probe_gates_the_app() -> None:
    """KEP-753 and TestComputePodActionsWithRestartableInitContainers: while a sidecar's
    startupProbe has not succeeded, nothing after it starts."""
    held = timeline((0, "s", "starting", ""), (1, "s", "startup-ready", ""),
                    (2.1, "app", "starting", ""))
    assert judge(_startup_pod(), held, 37).violations == []
    early = timeline((0, "s", "starting", ""), (0.2, "app", "starting", ""),
                     (1, "s", "startup-ready", ""))
    assert broken(judge(_startup_pod(), early, 37)) == ["sidecar-startup-gates-later"]
    never = timeline((0, "s", "starting", ""), (0.2, "app", "starting", ""))
    result = judge(_startup_pod(), never, 37)
    assert "it never did" in result.violations[0].expected
    # A probe the script does not report on is no evidence: the rule does not apply.
    plain = pod(init=("s",), sidecars_at=("s",))
    plain["spec"]["initContainers"][0]["startupProbe"] = {"exec": {"command": ["true"]}}
    assert judge(plain, early, 37).violations == []


def test_a_deleted_pod_stops_within_its_grace() -> None:
    """docs pod-lifecycle 'Termination of Pods': SIGKILL at the end of the grace period;
    kubelet killContainer grants at least 2 s (minimumGracePeriodInSeconds)."""
    def deleted(finished: str) -> dict:
        manifest = pod(phase="Failed", statuses=[status("app", exit_code=137)])
        manifest["metadata"]["deletionTimestamp"] = "2026-01-01T00:00:10Z"
        manifest["status"]["containerStatuses"][0]["state"]["terminated"]["finishedAt"] = finished
        return manifest
    assert judge(deleted("2026-01-01T00:00:16Z"), timeline(), 37).violations == []
    result = judge(deleted("2026-01-01T00:00:40Z"), timeline(), 37)
    assert broken(result) == ["deletion-within-grace"]
    assert "30 s after the deletionTimestamp" in result.violations[0].observed


def test_a_container_that_reported_its_exit_in_time_is_not_late_by_its_finished_at() -> None:
    """Seen exploring v1.35.8 on a loaded node: the script reported its exit 4 s after the
    deletionTimestamp, the runtime's finishedAt came 26 s after it."""
    manifest = pod(phase="Failed", statuses=[status("app", exit_code=143)])
    manifest["metadata"].update(deletionTimestamp="1970-01-01T00:00:10Z",
                                deletionGracePeriodSeconds=4)
    manifest["status"]["containerStatuses"][0]["state"]["terminated"]["finishedAt"] = \
        "1970-01-01T00:00:36Z"
    reported = timeline((0, "app", "starting", ""), (14, "app", "sigterm", ""),
                        (14, "app", "exiting", "143"))
    assert judge(manifest, reported, 37).violations == []
    late = timeline((0, "app", "starting", ""), (14, "app", "sigterm", ""),
                    (30, "app", "exiting", "143"))
    assert broken(judge(manifest, late, 37)) == ["deletion-within-grace"]


def test_a_sidecar_that_exits_is_started_again_while_the_pod_stays() -> None:
    """KEP-753 and TestComputePodActionsWithRestartableInitContainers: an exited native
    sidecar is restarted, whatever the pod's restartPolicy: the pod settles once it was (or
    at a terminal phase, which the model does not predict here)."""
    from podlife.model.generated import Behaviour, GenContainer, GenPod, predict

    sidecar = GenContainer("s0", "sidecar", Behaviour(0, 0.3))
    serving = GenContainer("a1", "app", Behaviour(None, 0.0))
    done = GenContainer("a1", "app", Behaviour(0, 0.0))
    for policy in ("Never", "OnFailure", "Always"):
        for app in (serving, done):
            assert predict(GenPod((sidecar, app), policy, 1)).crashing_gates == ("s0",)


def test_a_sidecar_whose_first_runs_are_unseen_gives_no_order() -> None:
    """The runtime keeps the logs of the last instances only: with restartCount 3 and two
    runs seen, the sidecar's first start is unknown, so nothing is said about it."""
    events = timeline((0, "app", "starting", ""), (5, "s", "starting", ""),
                      (6, "s", "exiting", "1"), (7, "s", "starting", ""))
    seen_all = pod(init=("s",), sidecars_at=("s",), statuses=[status("s", restarts=1)])
    assert broken(judge(seen_all, events, 37)) == ["sidecar-starts-before-later"]
    unseen = pod(init=("s",), sidecars_at=("s",), statuses=[status("s", restarts=3)])
    assert judge(unseen, events, 37).violations == []


def _hooked(name: str) -> dict:
    return {"preStop": {"exec": {"command": [
        "sh", "-c", f"echo {MARKER} {name} prestop > /proc/1/fd/1; sleep 1"]}}}


def test_a_sidecars_prestop_hook_starts_with_the_termination() -> None:
    """kubelet killContainer (1.29+): the preStop hook runs first, then the container waits
    for its turn; the app's SIGTERM comes after its own hook."""
    manifest = pod(init=("s",), sidecars_at=("s",), deleted_at=5)
    manifest["spec"]["initContainers"][0]["lifecycle"] = _hooked("s")
    manifest["spec"]["containers"][0]["lifecycle"] = _hooked("app")
    healthy = timeline((0, "s", "starting", ""), (1, "app", "starting", ""),
                       (5.0, "app", "prestop", ""), (5.05, "s", "prestop", ""),
                       (6.0, "app", "sigterm", ""), (6.01, "app", "exiting", "0"),
                       (6.1, "s", "sigterm", ""), (6.11, "s", "exiting", "0"))
    assert judge(manifest, healthy, 37).violations == []
    in_turn = timeline((0, "s", "starting", ""), (1, "app", "starting", ""),
                       (5.0, "app", "prestop", ""), (6.0, "app", "sigterm", ""),
                       (6.01, "app", "exiting", "0"), (6.1, "s", "prestop", ""),
                       (7.1, "s", "sigterm", ""), (7.11, "s", "exiting", "0"))
    assert broken(judge(manifest, in_turn, 37)) == ["sidecar-prestop-at-termination"]
    assert judge(manifest, in_turn, 28).violations == []  # no termination order before 1.29


def test_a_sidecars_skipped_prestop_hook_is_a_violation_once_its_log_shows_sigterm() -> None:
    """The hook run only at the sidecar's turn is skipped when no grace is left: the log,
    read past the sidecar's own SIGTERM, has no `prestop`. A log that stops before that
    SIGTERM says nothing (missing evidence is not absence)."""
    manifest = pod(init=("s",), sidecars_at=("s",), deleted_at=5)
    manifest["spec"]["initContainers"][0]["lifecycle"] = _hooked("s")
    manifest["spec"]["containers"][0]["lifecycle"] = _hooked("app")
    skipped = timeline((0, "s", "starting", ""), (1, "app", "starting", ""),
                       (5.0, "app", "prestop", ""), (6.0, "app", "sigterm", ""),
                       (7.5, "app", "exiting", "0"), (9.5, "s", "sigterm", ""),
                       (9.51, "s", "exiting", "0"))
    assert broken(judge(manifest, skipped, 37)) == ["sidecar-prestop-at-termination"]
    unread = timeline((0, "s", "starting", ""), (1, "app", "starting", ""),
                      (5.0, "app", "prestop", ""), (6.0, "app", "sigterm", ""),
                      (7.5, "app", "exiting", "0"))
    assert judge(manifest, unread, 37).violations == []


def test_an_exit_code_is_not_matched_to_a_run_when_one_was_unseen() -> None:
    """Seen in exploring: a0 exited 1, restarted in the same second, and its second run
    (whose log was not read) exited 0 on SIGTERM; the status is of the second run."""
    events = timeline((0.0, "app", "starting", ""), (0.3, "app", "exiting", "1"))
    entry = status("app", exit_code=0, restarts=1)
    entry["state"]["terminated"]["startedAt"] = "1970-01-01T00:00:00Z"
    assert judge(pod(statuses=[entry]), events, 37).violations == []
    entry["restartCount"] = 0
    assert broken(judge(pod(statuses=[entry]), events, 37)) == ["exit-code-as-reported"]


def test_a_sidecar_signalled_with_the_app_on_deletion_breaks_the_order() -> None:
    """kuberuntime_termination_order.go: on deletion a sidecar waits for the app containers
    to exit; signalled at the same moment as a draining app (even a hair before it), the
    order is broken. A SIGTERM before the deletion (a liveness kill) is not the deletion's."""
    def deleted(requested: int) -> dict:
        manifest = pod(init=("s",), sidecars_at=("s",), deleted_at=requested)
        for entry in manifest["spec"]["initContainers"] + manifest["spec"]["containers"]:
            entry["livenessProbe"] = {"httpGet": {"port": 80}}  # may fail at any time
        return manifest
    events = timeline((0, "s", "starting", ""), (1, "app", "starting", ""),
                      (10.000, "s", "sigterm", ""), (10.001, "app", "sigterm", ""),
                      (10.002, "s", "exiting", "0"), (11.0, "app", "exiting", "0"))
    assert broken(judge(deleted(10), events, 37)) == ["sidecar-stops-after-apps"]
    assert judge(deleted(20), events, 37).violations == []


def test_a_pod_whose_effective_request_exceeds_the_node_is_predicted_unscheduled() -> None:
    """PodRequests (component-helpers resource/helpers.go): an init container counts with
    the sidecars declared before it, and overhead comes on top; a pod needing one widget
    more than the node has stays Pending with no container started."""
    from podlife.model.generated import Behaviour, GenContainer, GenPod, predict

    sidecar = GenContainer("s0", "sidecar", Behaviour(None, 0.0), widgets=2)
    init = GenContainer("i1", "init", Behaviour(0, 0.0), widgets=3)
    app = GenContainer("a2", "app", Behaviour(0, 0.0), widgets=1)
    pod = GenPod((sidecar, init, app), "Never", 1, capacity=5)
    assert pod.effective_widgets() == 5 and predict(pod).scheduled
    assert predict(pod).phase == "Succeeded"
    over = GenPod((sidecar, init, app), "Never", 1, capacity=5, overhead=1)
    prediction = predict(over)
    assert over.effective_widgets() == 6 and not prediction.scheduled
    assert prediction.phase == "Pending" and prediction.starts == ()
    assert prediction.never_starts == ("s0", "i1", "a2")
    assert "effective request 6 widgets (overhead 1) where the node advertises 5" in \
        over.describe()
    before = GenPod((init, sidecar, app), "Never", 1, capacity=3)  # i1 ends before s0
    assert before.effective_widgets() == 3 and predict(before).scheduled


def test_the_grammar_follows_the_cluster() -> None:
    """No native sidecars where the cluster lacks them, no widgets without node changes;
    a pod that cannot be scheduled is never deleted at a point of its run."""
    from hypothesis import HealthCheck, given, settings

    from podlife.model.strategies import gen_pods

    @settings(max_examples=200, database=None, deadline=None,
              suppress_health_check=list(HealthCheck))
    @given(gen_pods(sidecars=False, widgets=False))
    def plain(generated) -> None:
        assert not generated.of_kind("sidecar") and generated.capacity is None

    @settings(max_examples=200, database=None, deadline=None,
              suppress_health_check=list(HealthCheck))
    @given(gen_pods())
    def any_pod(generated) -> None:
        if generated.capacity is not None:
            assert generated.effective_widgets() - generated.capacity in (0, 1) or (
                generated.effective_widgets() == 0)
            assert generated.fits() or generated.delete_after_s is None

    plain()
    any_pod()
