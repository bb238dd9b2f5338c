"""Container restart rules (1.35+): whether a container runs again, what phase its pod
settles in, and the rule restart-follows-own-policy. The facts are upstream's:
TestContainerHasRestartablePolicy's ContainerShouldRestart cases (pkg/api/v1/pod) and
TestPodPhaseWithContainerRestartPolicy (pkg/kubelet), v1.37.2."""

from __future__ import annotations

import pytest

from podlife.check.restart_rules_support import api_server_verdict, kubelet_verdict
from podlife.model.generated import Behaviour, GenContainer, GenPod, predict
from podlife.model.judge import judge
from podlife.model.restarts import RestartRule, restarts_after_exit, restarts_after_kill
from tests.unit.test_model import SANDBOX, broken, container, status, timeline


@pytest.mark.parametrize(("pod_policy", "own", "rules", "code", "expected"), [
    ("Always", "Never", (RestartRule("Restart", "In", (42, 50, 60)),), 42, True),
    ("Always", "Never", (RestartRule("Restart", "NotIn", (0, 1, 2)),), 99, True),
    ("Always", "Never", (RestartRule("Restart", "In", (10, 20)),), 30, False),
    ("Always", "Never", (RestartRule("Restart", "NotIn", (10, 20)),), 10, False),
    ("Never", "Always", (), 0, True),
    ("Never", "OnFailure", (), 0, False),
    ("Never", "OnFailure", (), 1, True),
    ("Always", "Never", (), 1, False),
    ("Always", None, (), 0, True),
    ("OnFailure", None, (), 1, True),
    ("OnFailure", None, (), 0, False),
    ("Never", None, (), 1, False),
    # RestartAllContainers needs an alpha gate (off): the container's policy decides.
    ("Always", "Never", (RestartRule("RestartAllContainers", "In", (42,)),), 42, False),
])
def test_whether_a_container_that_exited_runs_again(pod_policy, own, rules, code,
                                                    expected) -> None:
    assert restarts_after_exit(pod_policy, own, rules, code) is expected


def test_a_probe_kill_restarts_unless_the_policy_is_never() -> None:
    """computePodActions (gate on): the container's own policy, else the pod's."""
    assert restarts_after_kill("OnFailure", None) and restarts_after_kill("Never", "Always")
    assert not restarts_after_kill("Always", "Never") and not restarts_after_kill("Never", None)


def _pod(policy: str, *apps: GenContainer) -> GenPod:
    return GenPod(tuple(apps), policy, 1)


def test_the_phase_follows_each_containers_own_policy() -> None:
    """TestPodPhaseWithContainerRestartPolicy: the pod's policy Always does not keep a pod
    Running once every container is stopped and none may run again."""
    def app(name: str, code: int, own: str | None) -> GenContainer:
        return GenContainer(name, "app", Behaviour(code, 0.0), restart_policy=own)
    assert predict(_pod("Always", app("f", 1, "Never"))).phase == "Failed"
    assert predict(_pod("Always", app("f", 1, "OnFailure"))).phase == "Running"
    assert predict(_pod("Always", app("f", 1, "Always"))).phase == "Running"
    assert predict(_pod("Never", app("a", 0, "Always"), app("b", 1, None))).phase == "Running"
    assert predict(_pod("Always", app("a", 1, "Never"), app("b", 0, "OnFailure"))).phase \
        == "Failed"
    done = predict(_pod("Always", app("a", 0, "Never"), app("b", 0, "OnFailure")))
    assert done.phase == "Succeeded" and set(done.runs_once) == {"a", "b"}


def test_a_matching_rule_restarts_an_app_whose_policy_is_never() -> None:
    ruled = GenContainer("a", "app", Behaviour(3, 0.3), restart_policy="Never", restart_on=(3,))
    prediction = predict(_pod("Never", ruled))
    assert prediction.phase == "Running" and prediction.backs_off == ("a",)
    assert "a" not in prediction.runs_once


def _manifest(policy: str, own: str, rules: list | None = None) -> dict:
    app = container("app", restartPolicy=own, **({"restartPolicyRules": rules} if rules else {}))
    return {"metadata": {"name": "p"},
            "spec": {"containers": [app], "restartPolicy": policy},
            "status": {"phase": "Running", "conditions": SANDBOX,
                       "containerStatuses": [status("app", restarts=1)]}}


TWICE = timeline((0, "app", "starting", ""), (1, "app", "exiting", "3"),
                 (1.5, "app", "starting", ""))


def test_a_restart_the_own_policy_forbids_breaks_the_rule() -> None:
    result = judge(_manifest("Always", "Never"), TWICE, 37)
    assert broken(result) == ["restart-follows-own-policy"]
    assert "exited 3, under its own restartPolicy Never" in result.violations[0].expected


def test_a_restart_by_a_matching_rule_holds() -> None:
    rules = [{"action": "Restart", "exitCodes": {"operator": "In", "values": [3]}}]
    result = judge(_manifest("Never", "Never", rules), TWICE, 37)
    assert broken(result) == [] and "restart-follows-own-policy" in result.held


def _restarted_status(manifest: dict, code: int) -> dict:
    entry = manifest["status"]["containerStatuses"][0]
    entry["lastState"] = {"terminated": {"exitCode": code, "reason": "Completed"}}
    return manifest


#: Only the current run's log was read (seen with the container-own-never-policy-ignored
#: mutant: the previous instance's log was missing); the status counts the restart.
ONCE = timeline((2, "app", "starting", ""))


def test_a_restart_the_status_shows_is_judged_without_the_earlier_runs_log() -> None:
    result = judge(_restarted_status(_manifest("Always", "Never"), 0), ONCE, 37)
    assert broken(result) == ["restart-follows-own-policy"]
    assert "restartCount 1" in result.violations[0].observed
    assert judge(_restarted_status(_manifest("Always", "OnFailure"), 3), ONCE, 37) \
        .violations == []


def test_the_pods_policy_is_judged_from_the_status_too() -> None:
    def plain(policy: str, code: int) -> dict:
        manifest = _manifest(policy, "Never")
        del manifest["spec"]["containers"][0]["restartPolicy"]
        return _restarted_status(manifest, code)
    assert broken(judge(plain("Never", 1), ONCE, 37)) == ["no-restart-under-never"]
    assert broken(judge(plain("OnFailure", 0), ONCE, 37)) == [
        "no-restart-after-success-under-onfailure"]
    assert judge(plain("OnFailure", 1), ONCE, 37).violations == []
    probed = plain("Never", 0)
    probed["spec"]["containers"][0]["livenessProbe"] = {"exec": {"command": ["true"]}}
    assert "no-restart-under-never" not in broken(judge(probed, ONCE, 37))


def test_the_rule_is_not_claimed_before_1_35() -> None:
    assert "restart-follows-own-policy" not in broken(judge(_manifest("Always", "Never"),
                                                            TWICE, 34))


def test_detection_verdicts() -> None:
    kept = {"spec": {"containers": [{"restartPolicy": "Never", "restartPolicyRules": [{}]}]}}
    dropped = {"spec": {"containers": [{}]}}
    assert api_server_verdict(kept).verdict == "supported"
    assert api_server_verdict(dropped).verdict == "unsupported"
    assert api_server_verdict(None, 422, "spec.containers[0].restartPolicy: Forbidden") \
        .verdict == "unsupported"
    assert api_server_verdict(None, 403, "forbidden by policy").verdict == "error"
    assert kubelet_verdict("n", "v1.34.2", None).verdict == "unsupported"
    assert kubelet_verdict("n", "v1.34.2", {"ContainerRestartRules": True}).verdict \
        == "supported"
    assert kubelet_verdict("n", "v1.37.2", {"ContainerRestartRules": False}).verdict \
        == "unsupported"
    assert kubelet_verdict("n", "v1.35.8", {}).verdict == "supported"
