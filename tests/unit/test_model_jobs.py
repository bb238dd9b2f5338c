"""The model of a Job owning a generated pod, pinned to facts from upstream at v1.37.2:
job_controller_test.go's cases "not enough failures with backoffLimit 1 - single pod" and
"too many failures with backoffLimit 1 - single pod" (Never: the second failed pod fails
the Job) and "backoffLimit 1 with restartCount 1 and podRunning should have 0 pod active"
(OnFailure: one restart ends a Job with a limit of 1); pastBackoffLimitOnFailure (restarts
> 0 for a limit of 0); pod_failure_policy.go matchOnExitCodes and the API's description of
onExitCodes (app and init containers, non-zero codes only; the test "successful
containers are skipped by the rules")."""

from __future__ import annotations

import pytest
from hypothesis import given, settings

from podlife.model.generated import Behaviour, GenContainer, GenPod, JobSpec
from podlife.model.jobs import predict_job
from podlife.model.strategies import gen_pods


def job(policy: str, limit: int, fail_on: int | None, *containers: tuple[str, str, int | None]
        ) -> GenPod:
    return GenPod(tuple(GenContainer(n, k, Behaviour(code, 0.0)) for n, k, code in containers),
                  policy, 1, job=JobSpec(limit, fail_on))


def outcome(pod: GenPod) -> tuple[str, str | None, int]:
    found = predict_job(pod)
    return found.condition, found.reason, found.pods


def test_a_job_whose_apps_exit_0_completes_with_one_pod_its_sidecar_stopped() -> None:
    for policy in ("Never", "OnFailure"):
        pod = job(policy, 0, None, ("s0", "sidecar", None), ("a1", "app", 0))
        assert outcome(pod) == ("Complete", None, 1)
        assert predict_job(pod).each_pod is not None


def test_under_never_each_failed_pod_counts_against_the_backoff_limit() -> None:
    # backoffLimit 0: the first failed pod fails the Job; 1: a replacement is tried first.
    assert outcome(job("Never", 0, None, ("a0", "app", 1))) == (
        "Failed", "BackoffLimitExceeded", 1)
    assert outcome(job("Never", 1, None, ("a0", "app", 1))) == (
        "Failed", "BackoffLimitExceeded", 2)
    # A failing init container fails the pod too.
    assert outcome(job("Never", 1, None, ("i0", "init", 1), ("a1", "app", 0))) == (
        "Failed", "BackoffLimitExceeded", 2)


def test_the_pod_failure_policy_fails_the_job_at_once_on_its_exit_code() -> None:
    # matchOnExitCodes looks at app containers, then init containers, non-zero codes only.
    assert outcome(job("Never", 1, 3, ("a0", "app", 3))) == ("Failed", "PodFailurePolicy", 1)
    assert outcome(job("Never", 1, 3, ("i0", "init", 3), ("a1", "app", 0))) == (
        "Failed", "PodFailurePolicy", 1)
    # Another code: the default handling, counted against the backoffLimit.
    assert outcome(job("Never", 1, 3, ("a0", "app", 1))) == (
        "Failed", "BackoffLimitExceeded", 2)
    # One app exits 3 while another exits 1: the Job still fails by the policy.
    assert outcome(job("Never", 1, 3, ("a0", "app", 1), ("a1", "app", 3))) == (
        "Failed", "PodFailurePolicy", 1)


def test_under_on_failure_one_restart_ends_a_job_with_a_limit_of_0_or_1() -> None:
    # pastBackoffLimitOnFailure: restarts > 0 for a limit of 0, restarts >= limit otherwise;
    # the controller then deletes the running pod, so its own settling is not predicted.
    for limit in (0, 1):
        for failing in ((("a0", "app", 1),), (("i0", "init", 3), ("a1", "app", 0))):
            pod = job("OnFailure", limit, None, *failing)
            assert outcome(pod) == ("Failed", "BackoffLimitExceeded", 1)
            assert predict_job(pod).each_pod is None
            assert predict_job(pod).restarts_each == 1


def test_a_bare_pod_has_no_job_prediction() -> None:
    with pytest.raises(ValueError, match="bare pod"):
        predict_job(GenPod((GenContainer("a0", "app", Behaviour(0, 0.0)),), "Never", 1))


@settings(max_examples=300, deadline=None)
@given(gen_pods())
def test_every_job_the_grammar_draws_has_a_prediction(pod: GenPod) -> None:
    if pod.job is None:
        return
    assert pod.restart_policy in ("Never", "OnFailure")
    assert pod.delete_after_s is None and pod.capacity is None
    assert all(c.behaviour.exits_with is not None for c in pod.of_kind("app"))
    assert pod.job.fail_job_on is None or pod.restart_policy == "Never"
    assert predict_job(pod).condition in ("Complete", "Failed")
