"""Readiness probes in the model: the rule on pods built by hand, and the predictions for
generated pods (facts from TestUpdatePodStatus: a container is ready only on a readiness
result of Success, or when it has no readinessProbe)."""

from __future__ import annotations

from podlife.core.timeline import MARKER, Event, Timeline
from podlife.model import rules
from podlife.model.generated import NEVER, Behaviour, GenContainer, GenPod, predict
from podlife.model.judge import judge, judge_status
from podlife.model.pod import READY_FILE, READY_FILE_MADE

PROBE = {"exec": {"command": ["test", "-f", READY_FILE]}, "periodSeconds": 1}
SANDBOX = [{"type": "PodReadyToStartContainers", "status": "True"}]


def probed_pod(*, makes_file: bool, ready: bool) -> dict:
    body = f'ev() {{ echo "{MARKER} app $*"; }}; ev starting'
    if makes_file:
        body += f"; ev {READY_FILE_MADE}; touch {READY_FILE}"
    return {"metadata": {"name": "p"},
            "spec": {"containers": [{"name": "app", "command": ["sh", "-c", body],
                                     "readinessProbe": PROBE}]},
            "status": {"phase": "Running", "conditions": SANDBOX, "containerStatuses": [
                {"name": "app", "ready": ready, "restartCount": 0,
                 "state": {"running": {"startedAt": "1970-01-01T00:00:10Z"}}}]}}


def events(*names: str) -> Timeline:
    return Timeline("p", events=[Event(10.2 + i, "app", name, "", ns=int((10.2 + i) * 1e9))
                                 for i, name in enumerate(names)])


def ids(violations) -> list[str]:
    return [v.rule.id for v in violations]


def test_a_probe_that_can_never_pass_never_makes_its_container_ready() -> None:
    assert judge_status(probed_pod(makes_file=False, ready=False), 37) == []
    found = judge_status(probed_pod(makes_file=False, ready=True), 37)
    assert ids(found) == [rules.READY_ONLY_ONCE_PROBE_PASSES.id]
    assert "expected app never ready" in found[0].line()


def test_ready_after_the_file_was_made_holds() -> None:
    result = judge(probed_pod(makes_file=True, ready=True),
                   events("starting", READY_FILE_MADE, "ready"), 37)
    assert result.violations == []
    assert rules.READY_ONLY_ONCE_PROBE_PASSES.id in result.held


def test_ready_before_the_file_was_made_breaks_the_rule() -> None:
    result = judge(probed_pod(makes_file=True, ready=True), events("starting"), 37)
    assert ids(result.violations) == [rules.READY_ONLY_ONCE_PROBE_PASSES.id]


def test_the_prediction_names_who_is_ready_and_who_never_is() -> None:
    serve = Behaviour(None, 0.0)
    pod = GenPod((GenContainer("s0", "sidecar", Behaviour(None, 0.0, readiness=0.5)),
                  GenContainer("a1", "app", serve),
                  GenContainer("a2", "app", Behaviour(None, 0.0, readiness=NEVER))),
                 "Always", 1)
    prediction = predict(pod)
    assert prediction.phase == "Running"
    assert prediction.ready == ("s0", "a1") and prediction.never_ready == ("a2",)
    assert "readinessProbe never passes" in pod.describe()


def test_a_pod_that_ends_predicts_no_readiness() -> None:
    pod = GenPod((GenContainer("s0", "sidecar", Behaviour(None, 0.0, readiness=NEVER)),
                  GenContainer("a1", "app", Behaviour(0, 0.3))), "Never", 1)
    prediction = predict(pod)
    assert prediction.phase == "Succeeded" and prediction.ready == prediction.never_ready == ()
