"""rules.SIGTERM_ONLY_WITH_A_CAUSE: every SIGTERM a container gets has a cause the kubelet
can name. The healthy cases are what upstream's TestComputePodActions expects (as facts):
a running container is killed for a failed liveness or startup probe, and a pod whose apps
are done for good is killed whole (KillPod); nothing else kills a running container."""

from __future__ import annotations

from podlife.model.judge import judge
from podlife.model.pod import LIVENESS_COMMAND, LIVENESS_FAILS
from tests.unit.test_model import broken, container, status, timeline

RULE = "sigterm-only-with-a-cause"


def a_pod(*, policy: str = "Always", apps: tuple[str, ...] = ("app",),
          sidecar: dict | None = None, app: dict | None = None,
          deleted_at: int | None = None, reason: str | None = None,
          app_statuses: list[dict] | None = None, init: tuple[str, ...] = ()) -> dict:
    inits = [container(n) for n in init]
    if sidecar is not None:
        inits.append(container("s", restartPolicy="Always", **sidecar))
    spec_apps = [container(a, **(app or {})) for a in apps]
    manifest = {"metadata": {"name": "p"},
                "spec": {"initContainers": inits, "containers": spec_apps,
                         "restartPolicy": policy, "terminationGracePeriodSeconds": 30},
                "status": {"phase": "Running", "conditions": [],
                           "containerStatuses": app_statuses or []}}
    if deleted_at is not None:
        manifest["metadata"]["deletionTimestamp"] = f"1970-01-01T00:00:{deleted_at + 30:02d}Z"
        manifest["metadata"]["deletionGracePeriodSeconds"] = 30
    if reason:
        manifest["status"]["reason"] = reason
    return manifest


LIVENESS = {"livenessProbe": {"exec": {"command": LIVENESS_COMMAND}}}


def test_sigterm_on_deletion_has_a_cause() -> None:
    events = timeline((0, "app", "starting", ""), (5.2, "app", "sigterm", ""),
                      (5.3, "app", "exiting", "0"))
    assert RULE not in broken(judge(a_pod(deleted_at=5), events, 37))


def test_sigterm_with_no_deletion_and_no_probe_breaks_the_rule() -> None:
    events = timeline((0, "app", "starting", ""), (5.2, "app", "sigterm", ""),
                      (5.3, "app", "exiting", "0"))
    result = judge(a_pod(), events, 37)
    assert broken(result) == [RULE]
    assert "app got SIGTERM at +5.200s" in result.violations[0].observed


def test_sigterm_before_the_deletion_was_requested_breaks_the_rule() -> None:
    events = timeline((0, "app", "starting", ""), (2.0, "app", "sigterm", ""),
                      (2.1, "app", "exiting", "0"))
    assert RULE in broken(judge(a_pod(deleted_at=9), events, 37))


def test_podlifes_liveness_kill_has_a_cause_only_after_the_script_made_it_fail() -> None:
    """TestComputePodActions 'Kill and recreate the container if the liveness check has
    failed': the kill follows a liveness Failure, which podlife's probe gives only once the
    script has reported making it fail."""
    failed = timeline((0, "app", "starting", ""), (1, "app", LIVENESS_FAILS, ""),
                      (2, "app", "sigterm", ""), (2.1, "app", "exiting", "0"))
    assert RULE not in broken(judge(a_pod(app=LIVENESS), failed, 37))
    early = timeline((0, "app", "starting", ""), (2, "app", "sigterm", ""),
                     (2.1, "app", "exiting", "0"))
    assert broken(judge(a_pod(app=LIVENESS), early, 37)) == [RULE]


def test_another_liveness_probe_may_fail_at_any_time() -> None:
    other = {"livenessProbe": {"httpGet": {"path": "/", "port": 80}}}
    events = timeline((0, "app", "starting", ""), (2, "app", "sigterm", ""),
                      (2.1, "app", "exiting", "0"))
    assert RULE not in broken(judge(a_pod(app=other), events, 37))


def test_a_startup_probe_may_fail_until_it_could_pass() -> None:
    probe = {"startupProbe": {"exec": {"command": ["test", "-f", "/x"]}},
             "command": container("s")["command"] + ["ev startup-ready"]}
    before = timeline((0, "s", "starting", ""), (2, "s", "sigterm", ""),
                      (2.1, "s", "exiting", "0"), (0.5, "app", "starting", ""))
    assert RULE not in broken(judge(a_pod(sidecar=probe), before, 37))
    after = timeline((0, "s", "starting", ""), (1, "s", "startup-ready", ""),
                     (2, "s", "sigterm", ""), (2.1, "s", "exiting", "0"),
                     (1.5, "app", "starting", ""))
    assert RULE in broken(judge(a_pod(sidecar=probe), after, 37))


def test_a_sidecar_is_stopped_once_the_apps_are_done_for_good() -> None:
    """TestComputePodActionsWithRestartableInitContainers 'kill pod if all containers
    exited except restartable init containers' (Never, OnFailure when they exited 0)."""
    events = timeline((0, "s", "starting", ""), (1, "app", "starting", ""),
                      (2, "app", "exiting", "0"), (2.5, "s", "sigterm", ""),
                      (2.6, "s", "exiting", "0"))
    for policy in ("Never", "OnFailure"):
        assert RULE not in broken(judge(a_pod(policy=policy, sidecar={}), events, 37))


def test_a_sidecar_stopped_while_the_apps_are_restarted_breaks_the_rule() -> None:
    """Under Always an exited app is restarted, under OnFailure one that failed: the pod
    goes on, and so do its sidecars."""
    exit_0 = timeline((0, "s", "starting", ""), (1, "app", "starting", ""),
                      (2, "app", "exiting", "0"), (2.5, "s", "sigterm", ""))
    assert broken(judge(a_pod(policy="Always", sidecar={}), exit_0, 37)) == [RULE]
    exit_1 = timeline((0, "s", "starting", ""), (1, "app", "starting", ""),
                      (2, "app", "exiting", "1"), (2.5, "s", "sigterm", ""))
    assert RULE in broken(judge(a_pod(policy="OnFailure", sidecar={}), exit_1, 37))


def test_a_sidecar_stopped_before_an_app_is_done_breaks_the_rule() -> None:
    events = timeline((0, "s", "starting", ""), (1, "a1", "starting", ""),
                      (1, "a2", "starting", ""), (2, "a1", "exiting", "0"),
                      (2.5, "s", "sigterm", ""), (3, "a2", "exiting", "0"))
    assert RULE in broken(judge(a_pod(policy="Never", apps=("a1", "a2"), sidecar={}),
                                events, 37))


def test_a_sidecar_is_stopped_when_an_init_container_fails_under_never() -> None:
    events = timeline((0, "s", "starting", ""), (0.5, "i", "starting", ""),
                      (1, "i", "exiting", "1"), (1.5, "s", "sigterm", ""))
    manifest = a_pod(policy="Never", init=(), sidecar={})
    manifest["spec"]["initContainers"].append(container("i"))
    assert RULE not in broken(judge(manifest, events, 37))


def test_a_pod_the_kubelet_ended_itself_is_not_judged_by_the_rule() -> None:
    events = timeline((0, "app", "starting", ""), (2, "app", "sigterm", ""))
    assert RULE not in broken(judge(a_pod(reason="DeadlineExceeded"), events, 37))


def test_an_app_whose_exit_is_unseen_but_terminated_may_have_been_done() -> None:
    events = timeline((0, "s", "starting", ""), (1, "app", "starting", ""),
                      (2.5, "s", "sigterm", ""))
    statuses = [status("app", exit_code=137)]
    assert RULE not in broken(judge(a_pod(policy="Never", sidecar={},
                                          app_statuses=statuses), events, 37))


def test_a_sidecar_is_stopped_once_apps_with_their_own_never_are_done_under_always() -> None:
    """TestPodPhaseWithContainerRestartPolicy (1.35+): a pod under Always whose apps may not
    run again ends, so its sidecars are stopped; an app whose own rule restarts it keeps
    the pod, and its sidecars, going."""
    events = timeline((0, "s", "starting", ""), (1, "app", "starting", ""),
                      (2, "app", "exiting", "3"), (2.5, "s", "sigterm", ""))
    own_never = a_pod(policy="Always", sidecar={}, app={"restartPolicy": "Never"})
    assert RULE not in broken(judge(own_never, events, 37))
    ruled = a_pod(policy="Always", sidecar={}, app={"restartPolicy": "Never",
                  "restartPolicyRules": [{"action": "Restart",
                                          "exitCodes": {"operator": "In", "values": [3]}}]})
    assert RULE in broken(judge(ruled, events, 37))
