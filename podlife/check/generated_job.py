"""A generated pod as a Job's template (podlife.model.jobs): the Job is left until it ends,
then its condition, reason and pod counts are compared with the model's, and every pod it
created is judged as a bare generated pod is (a pod the controller deleted while it ran is
judged by the rules alone).

The template holds podlife's finalizer, so a pod the controller deletes (an OnFailure Job
past its backoffLimit) stays readable with its final statuses until it is judged."""

from __future__ import annotations

from typing import TYPE_CHECKING

from kubernetes import client as k8s
from kubernetes.client.rest import ApiException

from podlife.check import pod_state
from podlife.check.generated import SETTLE_TIMEOUT_S, disagreements
from podlife.check.generated_manifest import NAME, manifest
from podlife.check.namespaces import HOLD_FINALIZER, release_pod
from podlife.check.workloads import job_condition
from podlife.core.images import ImageMap
from podlife.model.generated import GenPod
from podlife.model.jobs import POD_FAILURE_BACKOFF_S, JobPrediction, predict_job

if TYPE_CHECKING:
    from podlife.check.framework import Framework

#: The label the Job controller puts on its pods (at every pinned release).
JOB_LABEL = "job-name"


def job_manifest(pod: GenPod, images: ImageMap) -> dict:
    """The Job: the generated pod as its template (held by podlife's finalizer), its
    backoffLimit, and a podFailurePolicy failing the Job on the model's exit code."""
    if pod.job is None:
        raise ValueError("a bare pod has no Job manifest")
    template = manifest(pod, images)
    template["metadata"].pop("name")
    template["metadata"]["finalizers"] = [HOLD_FINALIZER]
    spec: dict = {"backoffLimit": pod.job.backoff_limit, "template": template}
    if pod.job.fail_job_on is not None:
        spec["podFailurePolicy"] = {"rules": [{
            "action": "FailJob",
            "onExitCodes": {"operator": "In", "values": [pod.job.fail_job_on]}}]}
    return {"apiVersion": "batch/v1", "kind": "Job",
            "metadata": {"name": NAME, "labels": {"app.kubernetes.io/managed-by": "podlife"},
                         "annotations": {"podlife.dev/generated": pod.describe()}},
            "spec": spec}


def _ended(job: dict) -> bool:
    return bool(job_condition(job, "Complete") or job_condition(job, "Failed"))


def _job_pods(f: Framework) -> list[dict]:
    listed = f.core.list_namespaced_pod(f.namespace, label_selector=f"{JOB_LABEL}={NAME}")
    return [f.api.sanitize_for_serialization(p) for p in listed.items]


def job_disagreements(prediction: JobPrediction, job: dict, pods: list[dict],
                      model: GenPod) -> list[str]:
    """Where the ended Job and its pods differ from the model's prediction."""
    found = []
    ended = "Complete" if job_condition(job, "Complete") else "Failed"
    reason = job_condition(job, ended).get("reason") if ended == "Failed" else None
    if (ended, reason) != (prediction.condition, prediction.reason):
        found.append(f"job: expected {prediction.condition}"
                     f"{'' if prediction.reason is None else ' (' + prediction.reason + ')'}, "
                     f"observed {ended}{'' if reason is None else ' (' + reason + ')'}")
    status = job.get("status") or {}
    expected = ((1, 0) if prediction.condition == "Complete" else (0, prediction.pods))
    observed = (status.get("succeeded") or 0, status.get("failed") or 0)
    if observed != expected:
        found.append(f"job: expected {expected[0]} succeeded and {expected[1]} failed pods, "
                     f"observed {observed[0]} and {observed[1]}")
    if len(pods) != prediction.pods:
        found.append(f"job: expected {prediction.pods} pods, observed {len(pods)}: "
                     + ", ".join(pod_state.brief(p) for p in pods))
    if prediction.restarts_each is not None and len(pods) == 1:
        limit = model.job.backoff_limit if model.job else "?"
        for status in pod_state.statuses(pods[0]):
            restarts = pod_state.restarts(pods[0], status["name"])
            if restarts > prediction.restarts_each:
                found.append(f"job: expected it to fail on the first restart of a failing "
                             f"container (backoffLimit {limit}, restartPolicy OnFailure), "
                             f"observed {status['name']} restarted {restarts} times")
    if prediction.each_pod is not None:
        for pod in pods:
            found += [f"{pod['metadata']['name']}: {line}"
                      for line in disagreements(prediction.each_pod, pod, model)]
    return found


def run_job(f: Framework, pod: GenPod) -> None:
    """Create the Job, wait until it ends and its pods have stopped, compare with the
    model, then delete every pod observed (so the invariants judge each one) and the Job."""
    prediction = predict_job(pod)
    f.create(job_manifest(pod, f.images))
    try:
        timeout = SETTLE_TIMEOUT_S + POD_FAILURE_BACKOFF_S * prediction.pods
        try:
            job = f.wait_job(NAME, _ended, timeout=timeout,
                             what=f"the Job to end ({prediction.condition})")
        except AssertionError as exc:
            raise AssertionError(f"model: {pod.describe()}\npredicted {prediction}\n{exc}") \
                from exc
        pods = [_stopped(f, p["metadata"]["name"], pod.grace_s) for p in _job_pods(f)]
        problems = job_disagreements(prediction, job, pods, pod)
        for each in pods:
            f.delete_pod_final(each["metadata"]["name"], timeout=pod.grace_s + 60)
    finally:
        delete_job(f)
    if problems:
        raise AssertionError(f"model disagrees: {'; '.join(problems)}\n"
                             f"pod: {pod.describe()}\npredicted: {prediction}")


def _stopped(f: Framework, name: str, grace_s: int) -> dict:
    """The pod once every container has stopped (a Job that ended stops them all)."""
    return f.wait_pod(name, pod_state.stopped_or_unbound, timeout=grace_s + 60,
                      what="every container of the ended Job's pod to stop")


def delete_job(f: Framework) -> None:
    """The Job and its pods gone (each released from podlife's finalizer and deleted), so
    the next example's Job can take the name."""
    try:
        k8s.BatchV1Api(f.api).delete_namespaced_job(
            NAME, f.namespace, propagation_policy="Background", grace_period_seconds=0)
    except ApiException as exc:
        if exc.status != 404:
            raise
    for each in _job_pods(f):
        name = each["metadata"]["name"]
        release_pod(f.core, name, f.namespace)
        try:
            f.core.delete_namespaced_pod(name, f.namespace, grace_period_seconds=0)
        except ApiException as exc:
            if exc.status != 404:
                raise
        f.wait_gone(name, timeout=60)
