"""Liveness probes in the grammar and the model: where a failing one is drawn, what the
model predicts of it, and the back-off rule's reading of a killed run. The facts are
upstream's: TestComputePodActions ('Kill and recreate the container if the liveness check
has failed'; under Never, killed and not restarted) and doBackOff (the back-off counts
from the last exited instance)."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings

from podlife.model.backoff import BackOff
from podlife.model.generated import LIVES, Behaviour, GenContainer, GenPod, predict
from podlife.model.judge import judge
from podlife.model.pod import LIVENESS_COMMAND, LIVENESS_FAILS
from podlife.model.strategies import gen_pods
from tests.unit.test_model import SANDBOX, broken, container, status, timeline


def test_a_failing_liveness_probe_is_predicted_to_kill_and_is_never_counted_ready() -> None:
    sidecar = GenContainer("s0", "sidecar", Behaviour(None, 0.0, liveness=0.5, readiness=1.0))
    app = GenContainer("a1", "app", Behaviour(None, 0.0, liveness=LIVES))
    for policy in ("Always", "OnFailure", "Never"):
        prediction = predict(GenPod((sidecar, app), policy, 1))
        assert prediction.killed_by_liveness == ("s0",)
        assert prediction.ready == ("a1",) and "s0" not in prediction.never_ready


def test_a_passing_liveness_probe_changes_nothing_predicted() -> None:
    plain = GenPod((GenContainer("a0", "app", Behaviour(None, 0.0)),), "Always", 1)
    probed = GenPod((GenContainer("a0", "app", Behaviour(None, 0.0, liveness=LIVES)),),
                    "Always", 1)
    assert predict(plain) == predict(probed)


@settings(max_examples=300, database=None, deadline=None,
          suppress_health_check=list(HealthCheck))
@given(gen_pods())
def test_a_failing_liveness_probe_is_drawn_only_where_the_model_predicts_it(pod) -> None:
    for c in pod.containers:
        if not c.behaviour.fails_liveness:
            continue
        assert pod.job is None and pod.delete_after_s is None and not c.behaviour.prestop
        # An app's own policy, where it has one, decides whether a kill restarts it.
        assert c.kind == "sidecar" or pod.policy_of(c) != "Never"


def test_a_restart_after_a_kill_is_not_judged_by_the_back_off() -> None:
    """doBackOff looks for the last exited instance: at a liveness kill the killed one was
    still running, so the restart in that same sync counts from the one before it."""
    probe = {"livenessProbe": {"exec": {"command": ["true"]}}}
    manifest = {"metadata": {"name": "p"},
                "spec": {"containers": [container("app", **probe)], "restartPolicy": "Always"},
                "status": {"phase": "Running", "containerStatuses": [status("app", restarts=3)]}}
    killed = timeline(*[event for run in range(4) for event in (
        (run * 3.0, "app", "starting", ""), (run * 3.0 + 2, "app", "sigterm", ""),
        (run * 3.0 + 2.1, "app", "exiting", "0"))])
    assert "restart-waits-for-backoff" not in broken(judge(manifest, killed, 37,
                                                           BackOff()))
    exited = timeline(*[event for run in range(4) for event in (
        (run * 3.0, "app", "starting", ""), (run * 3.0 + 2.1, "app", "exiting", "0"))])
    assert "restart-waits-for-backoff" in broken(judge(manifest, exited, 37, BackOff()))


def test_under_onfailure_a_container_killed_by_its_probe_is_restarted_whatever_its_code() -> None:
    """computePodActions: a liveness kill restarts the container unless the pod's policy is
    Never, even when it then exits 0 (TestComputePodActions, 'Kill and recreate the
    container if the liveness check has failed')."""
    probe = {"livenessProbe": {"exec": {"command": ["true"]}}}
    manifest = {"metadata": {"name": "p"},
                "spec": {"containers": [container("app", **probe)],
                         "restartPolicy": "OnFailure"},
                "status": {"phase": "Running", "conditions": SANDBOX,
                           "containerStatuses": [status("app", restarts=1)]}}
    killed = timeline((0, "app", "starting", ""), (2, "app", "sigterm", ""),
                      (2.1, "app", "exiting", "0"), (2.5, "app", "starting", ""))
    assert broken(judge(manifest, killed, 37)) == []
    manifest["spec"]["restartPolicy"] = "Never"
    assert "no-restart-under-never" in broken(judge(manifest, killed, 37))


@settings(max_examples=150, database=None, deadline=None,
          suppress_health_check=list(HealthCheck))
@given(gen_pods())
def test_every_generated_script_is_valid_shell(pod) -> None:
    """A syntax error would make a container exit 2 at once, which the model would read
    as the kubelet's doing (a first version ran `( ... ) &; sleep 1`)."""
    import shutil
    import subprocess

    from podlife.check.generated_manifest import script

    shell = [shutil.which("busybox"), "sh"] if shutil.which("busybox") else ["sh"]
    for c in pod.containers:
        text = script(pod, c.name).render(c.name)
        assert subprocess.run([*shell, "-n", "-c", text]).returncode == 0, text


def test_a_liveness_kill_just_before_the_deletion_is_not_read_as_the_termination() -> None:
    """Seen on v1.37.2: a sidecar whose podlife livenessProbe failed got SIGTERM 0.8 s
    before the deletion was requested (whole seconds), while the later sidecar stopped
    later: that signal was its probe's, not a break of the reverse order."""
    from tests.unit.test_model import pod

    manifest = pod(init=("s0", "s1"), sidecars_at=("s0", "s1"), deleted_at=8, grace=4)
    manifest["spec"]["initContainers"][0]["livenessProbe"] = {
        "exec": {"command": LIVENESS_COMMAND}}
    events = timeline((5.0, "s0", "starting", ""), (5.5, "s0", LIVENESS_FAILS, ""),
                      (5.1, "s1", "starting", ""), (5.2, "app", "starting", ""),
                      (7.23, "s0", "sigterm", ""), (7.3, "s0", "exiting", "143"),
                      (8.3, "app", "sigterm", ""), (8.31, "app", "exiting", "0"),
                      (9.35, "s1", "sigterm", ""), (9.4, "s1", "exiting", "0"))
    assert broken(judge(manifest, events, 37)) == []
    del manifest["spec"]["initContainers"][0]["livenessProbe"]
    assert "sidecars-stop-in-reverse" in broken(judge(manifest, events, 37))
